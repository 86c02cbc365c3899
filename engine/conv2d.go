package engine

import "fmt"

// Conv2D is a 2-D cross-correlation with zero padding, as PyTorch's
// torch.nn.Conv2d (https://pytorch.org/docs/stable/generated/torch.nn.Conv2d.html):
//
//	x      [N, C, H, W]
//	weight [O, C, KH, KW]
//	bias   [O] or nil
//	y      [N, O, OH, OW],  OH = (H + 2p − KH)/s + 1,  OW likewise
//	y[n,o,oy,ox] = bias[o] + Σ_{c,ky,kx} x[n,c,oy·s−p+ky, ox·s−p+kx] · weight[o,c,ky,kx]
//
// Forward runs im2col and one GEMM per image; backward gives
//
//	∂x = col2im(weightᵀ · ∂y)   ∂weight += ∂y · colᵀ   ∂bias += Σ_{n,oy,ox} ∂y
//
// recomputing the columns rather than keeping them, to save memory.
// A frozen weight (RequiresGrad false) gets no gradient computed at all.
func Conv2D(tp *Tape, x, weight, bias *Tensor, stride, padding int) *Tensor {
	n, c, h, w := x.Dims()
	o, wc, kh, kw := weight.Dims()
	if wc != c {
		panic(fmt.Sprintf("engine: Conv2D: input %v has %d channels, weight %v wants %d", x, c, weight, wc))
	}
	if bias != nil && (len(bias.Shape) != 1 || bias.Shape[0] != o) {
		panic(fmt.Sprintf("engine: Conv2D: bias %v for %d output channels", bias, o))
	}
	if stride < 1 || padding < 0 {
		panic(fmt.Sprintf("engine: Conv2D: stride %d, padding %d", stride, padding))
	}
	oh := (h+2*padding-kh)/stride + 1
	ow := (w+2*padding-kw)/stride + 1
	if h+2*padding < kh || w+2*padding < kw {
		panic(fmt.Sprintf("engine: Conv2D: kernel %dx%d larger than padded input %v", kh, kw, x))
	}
	y := tp.output([]int{n, o, oh, ow}, x, weight, bias)
	g := convGeometry{c: c, h: h, w: w, kh: kh, kw: kw, stride: stride, pad: padding, oh: oh, ow: ow}
	k := c * kh * kw
	ohw := oh * ow
	for i := 0; i < n; i++ {
		xi := x.Data[i*c*h*w : (i+1)*c*h*w]
		yi := y.Data[i*o*ohw : (i+1)*o*ohw]
		col := g.columns(tp, xi)
		gemm(false, false, o, ohw, k, weight.Data, k, col, ohw, yi, ohw, false)
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
		for i := 0; i < n; i++ {
			xi := x.Data[i*c*h*w : (i+1)*c*h*w]
			dyi := y.Grad[i*o*ohw : (i+1)*o*ohw]
			if needsGrad(weight) {
				col := g.columns(tp, xi)
				gemm(false, true, o, k, ohw, dyi, ohw, col, ohw, weight.Grad, k, true)
			}
			if needsGrad(x) {
				dxi := x.Grad[i*c*h*w : (i+1)*c*h*w]
				if g.identity() {
					gemm(true, false, k, ohw, o, weight.Data, k, dyi, ohw, dxi, ohw, true)
					continue
				}
				dcol := tp.scratchBuffer(k * ohw)
				gemm(true, false, k, ohw, o, weight.Data, k, dyi, ohw, dcol, ohw, false)
				col2im(dcol, c, h, w, kh, kw, stride, padding, oh, ow, dxi)
			}
		}
	})
	return y
}

// convGeometry is the shape of one image's convolution: input [c, h, w],
// kernel kh×kw, stride, padding, output oh×ow.
type convGeometry struct {
	c, h, w, kh, kw, stride, pad, oh, ow int
}

// identity reports whether im2col would copy the image unchanged (a 1×1
// kernel with stride 1 and no padding), so the image is its own column matrix.
func (g convGeometry) identity() bool {
	return g.kh == 1 && g.kw == 1 && g.stride == 1 && g.pad == 0
}

// columns returns the im2col matrix of img, in the tape's scratch buffer.
func (g convGeometry) columns(tp *Tape, img []float32) []float32 {
	if g.identity() {
		return img
	}
	col := tp.scratchBuffer(g.c * g.kh * g.kw * g.oh * g.ow)
	im2col(img, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad, g.oh, g.ow, col)
	return col
}

// addBias adds bias[o] to every element of channel o of y [O, hw].
func addBias(y, bias []float32, hw int) {
	for o, b := range bias {
		plane := y[o*hw : (o+1)*hw]
		for i := range plane {
			plane[i] += b
		}
	}
}

// sumBiasGrad adds Σ_{n,i} dy[n,o,i] to db[o], for dy [N, O, hw].
func sumBiasGrad(db, dy []float32, n, o, hw int) {
	for i := 0; i < n; i++ {
		for c := 0; c < o; c++ {
			var s float32
			for _, v := range dy[(i*o+c)*hw : (i*o+c+1)*hw] {
				s += v
			}
			db[c] += s
		}
	}
}
