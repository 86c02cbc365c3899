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
// It is the convolution from y's shape to x's shape run backwards, so its
// three kernels are that convolution's with roles swapped:
//
//	y = col2im(weightᵀ · x)   ∂x = weight · im2col(∂y)   ∂weight += x · im2col(∂y)ᵀ
//
// outputPadding (smaller than the stride) only adds rows and columns at the
// bottom and right; it picks which output size a strided convolution came
// from. The reference is convTranspose2dNaive.
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
	// g is the convolution this op is the transpose of: from y's shape
	// [o, oh, ow] down to x's [c, h, w], with weight read as [c, o·kh·kw].
	g := convGeometry{c: o, h: oh, w: ow, o: c, kh: kh, kw: kw, stride: stride, pad: padding, oh: h, ow: w}
	for i := 0; i < n; i++ {
		yi := y.Data[i*g.inLen():][:g.inLen()]
		g.backwardInput(tp.scratchBuffer(g.scratchLen()), weight.Data, x.Data[i*g.outLen():][:g.outLen()], yi)
		if bias != nil {
			addBias(yi, bias.Data, oh*ow)
		}
	}
	if !y.RequiresGrad {
		return y
	}
	tp.record(node{backward: convTranspose2DBackward, a: x, b: weight, c: bias, out: y, geom: g, n: n})
	return y
}

// convTranspose2DBackward is ConvTranspose2D's backward pass: a = x,
// b = weight, c = bias; geom is the convolution it is the transpose of.
func convTranspose2DBackward(tp *Tape, nd *node) {
	x, weight, bias, y, g := nd.a, nd.b, nd.c, nd.out, nd.geom
	if needsGrad(bias) {
		sumBiasGrad(bias.Grad, y.Grad, nd.n, g.c, g.h*g.w)
	}
	if !needsGrad(x) && !needsGrad(weight) {
		return
	}
	c, hw := g.o, g.oh*g.ow
	for i := 0; i < nd.n; i++ {
		dy := y.Grad[i*g.inLen():][:g.inLen()]
		// Both gradients read im2col(∂y), packed straight from ∂y.
		if needsGrad(x) {
			gemmOperands(gemmA{a: weight.Data, ld: g.k()}, g.columns(dy, false), c, hw, g.k(), x.Grad[i*g.outLen():][:g.outLen()], hw, true)
		}
		if needsGrad(weight) {
			// ∂weight += x · im2col(∂y)ᵀ: g's weight gradient, with ∂y as
			// g's input and x as its output gradient.
			g.backwardWeight(dy, x.Data[i*g.outLen():][:g.outLen()], weight.Grad)
		}
	}
}
