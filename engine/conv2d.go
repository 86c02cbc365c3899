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
// The reference is conv2dNaive.
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
	if h+2*padding < kh || w+2*padding < kw {
		panic(fmt.Sprintf("engine: Conv2D: kernel %dx%d larger than padded input %v", kh, kw, x))
	}
	g := newConvGeometry(c, h, w, o, kh, kw, stride, padding)
	y := tp.output([]int{n, o, g.oh, g.ow}, x, weight, bias)
	var b []float32
	if bias != nil {
		b = bias.Data
	}
	for i := 0; i < n; i++ {
		g.forward(tp.scratchBuffer(g.colLen()), x.Data[i*g.inLen():][:g.inLen()], weight.Data, b, y.Data[i*g.outLen():][:g.outLen()])
	}
	if !y.RequiresGrad {
		return y
	}
	tp.record(node{backward: conv2DBackward, a: x, b: weight, c: bias, out: y, geom: g, n: n})
	return y
}

// conv2DBackward is Conv2D's backward pass: a = x, b = weight, c = bias.
func conv2DBackward(tp *Tape, nd *node) {
	x, weight, bias, y, g := nd.a, nd.b, nd.c, nd.out, nd.geom
	if needsGrad(bias) {
		sumBiasGrad(bias.Grad, y.Grad, nd.n, g.o, g.oh*g.ow)
	}
	for i := 0; i < nd.n; i++ {
		dy := y.Grad[i*g.outLen():][:g.outLen()]
		if needsGrad(weight) {
			g.backwardWeight(tp.scratchBuffer(g.colLen()), x.Data[i*g.inLen():][:g.inLen()], dy, weight.Grad)
		}
		if needsGrad(x) {
			g.backwardInput(tp.scratchBuffer(g.colLen()), weight.Data, dy, x.Grad[i*g.inLen():][:g.inLen()])
		}
	}
}

// convGeometry is the shape of one image's convolution: input [c, h, w],
// o output channels, kernel kh×kw, stride, padding, output [o, oh, ow].
// Its methods are the three kernels of a convolution on one image; the
// transposed convolution uses the same three with their roles swapped.
type convGeometry struct {
	c, h, w, o, kh, kw, stride, pad, oh, ow int
}

func newConvGeometry(c, h, w, o, kh, kw, stride, pad int) convGeometry {
	return convGeometry{c: c, h: h, w: w, o: o, kh: kh, kw: kw, stride: stride, pad: pad,
		oh: (h+2*pad-kh)/stride + 1, ow: (w+2*pad-kw)/stride + 1}
}

func (g convGeometry) inLen() int  { return g.c * g.h * g.w }
func (g convGeometry) outLen() int { return g.o * g.oh * g.ow }
func (g convGeometry) k() int      { return g.c * g.kh * g.kw }

// colLen is the size of the im2col matrix, the scratch the kernels need.
func (g convGeometry) colLen() int {
	if g.identity() {
		return 0
	}
	return g.k() * g.oh * g.ow
}

// FLOPs is the number of floating-point operations of one kernel (each of
// forward, input gradient and weight gradient costs the same): 2·MACs.
func (g convGeometry) FLOPs() float64 {
	return 2 * float64(g.o) * float64(g.k()) * float64(g.oh*g.ow)
}

// identity reports whether im2col would copy the image unchanged (a 1×1
// kernel with stride 1 and no padding), so the image is its own column matrix.
func (g convGeometry) identity() bool {
	return g.kh == 1 && g.kw == 1 && g.stride == 1 && g.pad == 0
}

// columns returns the im2col matrix of img, written into scratch.
func (g convGeometry) columns(scratch, img []float32) []float32 {
	if g.identity() {
		return img
	}
	im2col(img, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad, g.oh, g.ow, scratch)
	return scratch
}

// forward sets y [o, oh, ow] = w [o, k] · im2col(x) (+ bias, if non-nil).
func (g convGeometry) forward(scratch, x, w, bias, y []float32) {
	ohw := g.oh * g.ow
	gemm(false, false, g.o, ohw, g.k(), w, g.k(), g.columns(scratch, x), ohw, y, ohw, false)
	if bias != nil {
		addBias(y, bias, ohw)
	}
}

// backwardWeight adds ∂y [o, oh·ow] · im2col(x)ᵀ to dw [o, k].
func (g convGeometry) backwardWeight(scratch, x, dy, dw []float32) {
	ohw := g.oh * g.ow
	gemm(false, true, g.o, g.k(), ohw, dy, ohw, g.columns(scratch, x), ohw, dw, g.k(), true)
}

// backwardInput adds col2im(wᵀ · ∂y) to dx [c, h, w].
func (g convGeometry) backwardInput(scratch, w, dy, dx []float32) {
	ohw := g.oh * g.ow
	if g.identity() {
		gemm(true, false, g.k(), ohw, g.o, w, g.k(), dy, ohw, dx, ohw, true)
		return
	}
	gemm(true, false, g.k(), ohw, g.o, w, g.k(), dy, ohw, scratch, ohw, false)
	col2im(scratch, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad, g.oh, g.ow, dx)
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
