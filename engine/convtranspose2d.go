package engine

import "fmt"

// ConvTranspose2D is the transpose (adjoint) of Conv2D, as PyTorch's
// torch.nn.ConvTranspose2d (https://pytorch.org/docs/stable/generated/torch.nn.ConvTranspose2d.html):
//
//	x      [N, C, H, W]
//	weight [C, O, KH, KW]   (input channels first, as PyTorch stores it)
//	bias   [O] or nil
//	y      [N, O, OH, OW],  OH = (H − 1)·s − 2p + KH + outputPadding,  OW likewise
//	y[n,o,iy·s−p+ky, ix·s−p+kx] += x[n,c,iy,ix] · weight[c,o,ky,kx]   (+ bias[o])
//
// Forward is the input-gradient pass of a convolution: one GEMM weightᵀ·x
// per image and a col2im. Backward is a forward convolution of ∂y:
//
//	∂x = weight · im2col(∂y)   ∂weight += x · im2col(∂y)ᵀ   ∂bias += Σ ∂y
//
// outputPadding (which must be smaller than the stride) only adds rows and
// columns at the bottom and right; it resolves which output size a strided
// convolution came from.
func ConvTranspose2D(tp *Tape, x, weight, bias *Tensor, stride, padding, outputPadding int) *Tensor {
	n, c, h, w := x.Dims()
	wc, o, kh, kw := weight.Dims()
	if wc != c {
		panic(fmt.Sprintf("engine: ConvTranspose2D: input %v has %d channels, weight %v wants %d", x, c, weight, wc))
	}
	if bias != nil && (len(bias.Shape) != 1 || bias.Shape[0] != o) {
		panic(fmt.Sprintf("engine: ConvTranspose2D: bias %v for %d output channels", bias, o))
	}
	if stride < 1 || padding < 0 || outputPadding < 0 || outputPadding >= stride {
		panic(fmt.Sprintf("engine: ConvTranspose2D: stride %d, padding %d, output padding %d", stride, padding, outputPadding))
	}
	oh := (h-1)*stride - 2*padding + kh + outputPadding
	ow := (w-1)*stride - 2*padding + kw + outputPadding
	if oh < 1 || ow < 1 {
		panic(fmt.Sprintf("engine: ConvTranspose2D: empty output %dx%d", oh, ow))
	}
	y := tp.output([]int{n, o, oh, ow}, x, weight, bias)
	// The convolution this op is the transpose of runs from y's geometry
	// back to x's: input [o, oh, ow], output h×w.
	g := convGeometry{c: o, h: oh, w: ow, kh: kh, kw: kw, stride: stride, pad: padding, oh: h, ow: w}
	k := o * kh * kw
	hw := h * w
	ohw := oh * ow
	for i := 0; i < n; i++ {
		xi := x.Data[i*c*hw : (i+1)*c*hw]
		yi := y.Data[i*o*ohw : (i+1)*o*ohw]
		if g.identity() {
			gemm(true, false, k, hw, c, weight.Data, k, xi, hw, yi, hw, false)
		} else {
			col := tp.scratchBuffer(k * hw)
			gemm(true, false, k, hw, c, weight.Data, k, xi, hw, col, hw, false)
			col2im(col, o, oh, ow, kh, kw, stride, padding, h, w, yi)
		}
		if bias != nil {
			addBias(yi, bias.Data, ohw)
		}
	}
	if !y.RequiresGrad {
		return y
	}
	tp.record(func() {
		if needsGrad(bias) {
			sumBiasGrad(bias.Grad, y.Grad, n, o, ohw)
		}
		if !needsGrad(x) && !needsGrad(weight) {
			return
		}
		for i := 0; i < n; i++ {
			dyi := y.Grad[i*o*ohw : (i+1)*o*ohw]
			col := g.columns(tp, dyi)
			if needsGrad(x) {
				dxi := x.Grad[i*c*hw : (i+1)*c*hw]
				gemm(false, false, c, hw, k, weight.Data, k, col, hw, dxi, hw, true)
			}
			if needsGrad(weight) {
				xi := x.Data[i*c*hw : (i+1)*c*hw]
				gemm(false, true, c, k, hw, xi, hw, col, hw, weight.Grad, k, true)
			}
		}
	})
	return y
}
