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
// Forward runs one GEMM per image, y = weight · col with col = im2col(x);
// backward gives
//
//	∂x = col2im(weightᵀ · ∂y)   ∂weight += ∂y · colᵀ   ∂bias += Σ_{n,oy,ox} ∂y
//
// The GEMM's packing reads col straight from the image, so the column
// matrix is never stored. With stride 1, ∂x is instead the convolution of
// the padded ∂y with the flipped weight (see fullConvolution). A 3×3
// stride-1 kernel with enough channels (the generator's residual blocks)
// runs its forward pass and input gradient as Winograd convolutions
// instead (winograd.go: 16 smaller GEMMs, 4/9 of the multiply-adds; in the
// browser, from 64 channels at 32×32, winograd4.go: 36 GEMMs, 1/4 of the
// multiply-adds), and, at 32×32 or more with enough channels (winogradWeight), its
// weight gradient as the adjoint of F(2×2, 3×3).
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
		g.forward(x.Data[i*g.inLen():][:g.inLen()], weight.Data, b, y.Data[i*g.outLen():][:g.outLen()])
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
			g.backwardWeight(x.Data[i*g.inLen():][:g.inLen()], dy, weight.Grad)
		}
		if needsGrad(x) {
			g.backwardInput(tp.scratchBuffer(g.scratchLen()), weight.Data, dy, x.Grad[i*g.inLen():][:g.inLen()])
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

// scratchLen is the size of the scratch backwardInput needs: none for a
// Winograd convolution (which keeps its own, see winogradScratch; an
// F(4×4, 3×3) input gradient, winograd4Input, is always one where
// winogradInput holds), else gemmScratchLen.
func (g convGeometry) scratchLen() int {
	if g.winogradInput() {
		return 0
	}
	return g.gemmScratchLen()
}

// gemmScratchLen is the size of the scratch backwardInputGEMM needs: the
// padded ∂y of a full convolution (see fullConvolution), or the column
// matrix when the input gradient goes through col2im.
func (g convGeometry) gemmScratchLen() int {
	switch {
	case g.identity():
		return 0
	case g.fullConvolution():
		return g.paddedGradient().inLen()
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

// columns returns the column matrix of img (or its transpose) as the right
// factor of a product: the image itself for an identity geometry, else read
// through im2col while packing.
func (g convGeometry) columns(img []float32, trans bool) gemmB {
	if g.identity() {
		return gemmB{b: img, ld: g.oh * g.ow, trans: trans}
	}
	return gemmB{b: img, trans: trans, im2col: true, g: g}
}

// forward sets y [o, oh, ow] = w [o, k] · im2col(x) (+ bias, if non-nil):
// a Winograd convolution for a 3×3 kernel with stride 1 and enough
// channels (F(4×4, 3×3) where winograd4 holds, else F(2×2, 3×3) where
// winograd does), else forwardGEMM.
func (g convGeometry) forward(x, w, bias, y []float32) {
	if g.winograd4() {
		g.winograd4Forward(x, w, bias, y)
		return
	}
	if g.winograd() {
		g.winogradForward(x, w, bias, y)
		return
	}
	g.forwardGEMM(x, w, bias, y)
}

// forwardGEMM is forward as one GEMM over the column matrix (or, for 3
// output channels in the browser, thinForward).
func (g convGeometry) forwardGEMM(x, w, bias, y []float32) {
	ohw := g.oh * g.ow
	if thinForward(g, x, w, y) {
		if bias != nil {
			addBias(y, bias, ohw)
		}
		return
	}
	gemmOperands(gemmA{a: w, ld: g.k()}, g.columns(x, false), g.o, ohw, g.k(), y, ohw, false)
	if bias != nil {
		addBias(y, bias, ohw)
	}
}

// backwardWeight adds ∂y [o, oh·ow] · im2col(x)ᵀ to dw [o, k]: as a
// Winograd convolution for a 3×3 stride-1 kernel with enough channels and
// output (see winogradWeight), else backwardWeightGEMM.
func (g convGeometry) backwardWeight(x, dy, dw []float32) {
	if g.winogradWeight() {
		g.winogradBackwardWeight(x, dy, dw)
		return
	}
	g.backwardWeightGEMM(x, dy, dw)
}

// backwardWeightGEMM is backwardWeight as one GEMM over the transposed
// column matrix (or, for 3 output channels in the browser,
// thinBackwardWeight).
func (g convGeometry) backwardWeightGEMM(x, dy, dw []float32) {
	if thinBackwardWeight(g, x, dy, dw) {
		return
	}
	ohw := g.oh * g.ow
	gemmOperands(gemmA{a: dy, ld: ohw}, g.columns(x, true), g.o, g.k(), ohw, dw, g.k(), true)
}

// fullConvolution reports whether backwardInput runs as a convolution of
// ∂y: with stride 1 and a square kernel, the input gradient
//
//	∂x[c, iy, ix] = Σ_{o,ky,kx} ∂y[o, iy+p−ky, ix+p−kx] · w[o, c, ky, kx]
//
// is the convolution of ∂y, zero-padded by kh−1−p, with the weight
// transposed in its channels and flipped in space (gemmA.flip). Its GEMM
// packs o·kh·kw × h·w values of ∂y and writes ∂x directly, where the
// general path packs only ∂y but stores wᵀ·∂y, c·kh·kw × oh·ow values, and
// adds them back with col2im, which costs about twice as much a value as
// packing. So the full convolution wins unless c is small next to o (the
// generator's first layer, 3 → 32 channels, measured 3 GFLOP/s natively as
// a full convolution against 15 through col2im: its GEMM has 3 rows, and
// each packed value serves only 3 multiply-adds).
func (g convGeometry) fullConvolution() bool {
	return g.stride == 1 && g.kh == g.kw && g.pad <= g.kh-1 && 2*g.c >= g.o
}

// paddedGradient is the convolution that gives the input gradient when
// fullConvolution holds: over ∂y [o, oh, ow] zero-padded by kh−1−p on every
// side (so that the column matrix has no padding to fill in, which costs
// more than padding ∂y once), producing [c, h, w].
func (g convGeometry) paddedGradient() convGeometry {
	pad := g.kh - 1 - g.pad
	return newConvGeometry(g.o, g.oh+2*pad, g.ow+2*pad, g.c, g.kh, g.kw, 1, 0)
}

// backwardInput adds col2im(wᵀ · ∂y) to dx [c, h, w]; scratch holds
// scratchLen floats. A stride-1 3×3 convolution with enough channels (see
// winograd4Input and winogradInput) runs it as a Winograd convolution of
// ∂y, others backwardInputGEMM.
func (g convGeometry) backwardInput(scratch, w, dy, dx []float32) {
	if g.winograd4Input() {
		g.winograd4BackwardInput(w, dy, dx)
		return
	}
	if g.winogradInput() {
		g.winogradBackwardInput(w, dy, dx)
		return
	}
	g.backwardInputGEMM(scratch, w, dy, dx)
}

// backwardInputGEMM is backwardInput through the GEMM: scratch holds
// gemmScratchLen floats.
func (g convGeometry) backwardInputGEMM(scratch, w, dy, dx []float32) {
	ohw := g.oh * g.ow
	switch {
	case g.identity():
		gemm(true, false, g.k(), ohw, g.o, w, g.k(), dy, ohw, dx, ohw, true)
	case g.fullConvolution():
		full := g.paddedGradient()
		padded := scratch[:full.inLen()]
		zeroPad(padded, dy, g.o, g.oh, g.ow, g.kh-1-g.pad)
		gemmOperands(gemmA{a: w, flip: true, g: g}, full.columns(padded, false), g.c, g.h*g.w, full.k(), dx, g.h*g.w, true)
	default:
		gemm(true, false, g.k(), ohw, g.o, w, g.k(), dy, ohw, scratch, ohw, false)
		col2im(scratch, g.c, g.h, g.w, g.kh, g.kw, g.stride, g.pad, g.oh, g.ow, dx)
	}
}

// zeroPad writes x [c, h, w] into dst [c, h+2·pad, w+2·pad], surrounded by
// pad zeros on every side.
func zeroPad(dst, x []float32, c, h, w, pad int) {
	pw := w + 2*pad
	for ic := 0; ic < c; ic++ {
		plane := dst[ic*(h+2*pad)*pw : (ic+1)*(h+2*pad)*pw]
		clear(plane[:pad*pw])
		for y := 0; y < h; y++ {
			row := plane[(pad+y)*pw : (pad+y+1)*pw]
			clear(row[:pad])
			copy(row[pad:], x[(ic*h+y)*w:(ic*h+y+1)*w])
			clear(row[pad+w:])
		}
		clear(plane[(pad+h)*pw:])
	}
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
