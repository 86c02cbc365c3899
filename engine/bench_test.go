package engine

import (
	"fmt"
	"testing"
)

// The convolutions of a CycleGAN ResNet generator (ngf 32) at 128 px and its
// PatchGAN discriminator, each timed for forward, input gradient and weight
// gradient. Run with `make bench` (natively and in headless Chromium).

// convPass names the kernel of a convolution being timed.
type convPass int

const (
	passForward convPass = iota
	passBackwardInput
	passBackwardWeight
)

// benchConv times one pass of the convolution g on one image. With
// transposed, g is the convolution that the transposed convolution is the
// adjoint of, and the passes swap roles as in ConvTranspose2D. With
// viaGEMM, every pass runs the im2col-GEMM kernels even where Conv2D
// would pick the Winograd ones, for comparison.
//
// GFLOP/s counts the FLOPs of the direct convolution, 2·o·c·kh·kw·oh·ow
// (convGeometry.FLOPs), whatever the algorithm: a Winograd pass does fewer
// operations, and its figure is this rate of direct-equivalent work, so
// that it compares with the other shapes and with the GEMM path.
func benchConv(b *testing.B, g convGeometry, transposed bool, pass convPass, viaGEMM bool) {
	rng := newRNG(99)
	in := randTensor(rng, g.inLen()).Data
	out := randTensor(rng, g.outLen()).Data
	w := randTensor(rng, g.o*g.k()).Data
	dw := make([]float32, len(w))
	scratch := make([]float32, g.gemmScratchLen())
	forward, backwardInput, backwardWeight := g.forward, g.backwardInput, g.backwardWeight
	if viaGEMM {
		forward, backwardInput, backwardWeight = g.forwardGEMM, g.backwardInputGEMM, g.backwardWeightGEMM
	}
	run := func() {
		switch {
		case pass == passForward && !transposed, pass == passBackwardInput && transposed:
			forward(in, w, nil, out)
		case pass == passBackwardInput && !transposed, pass == passForward && transposed:
			backwardInput(scratch, w, out, in)
		default:
			backwardWeight(in, out, dw)
		}
	}
	run() // warm up: V8 tiers a long-running wasm function up after its first calls
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run()
	}
	b.ReportMetric(g.FLOPs()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func benchConvPasses(b *testing.B, g convGeometry, transposed bool) {
	b.Run("Forward", func(b *testing.B) { benchConv(b, g, transposed, passForward, false) })
	b.Run("BackwardInput", func(b *testing.B) { benchConv(b, g, transposed, passBackwardInput, false) })
	b.Run("BackwardWeight", func(b *testing.B) { benchConv(b, g, transposed, passBackwardWeight, false) })
}

// Generator, ngf 32, 128 px: the input is already reflection-padded where
// the generator pads, so these convolutions have padding 0.
func BenchmarkConv2D_7x7_3to32_128px(b *testing.B) {
	benchConvPasses(b, newConvGeometry(3, 134, 134, 32, 7, 7, 1, 0), false)
}
func BenchmarkConv2D_3x3s2_32to64_128px(b *testing.B) {
	benchConvPasses(b, newConvGeometry(32, 128, 128, 64, 3, 3, 2, 1), false)
}
func BenchmarkConv2D_3x3s2_64to128_64px(b *testing.B) {
	benchConvPasses(b, newConvGeometry(64, 64, 64, 128, 3, 3, 2, 1), false)
}
func BenchmarkConv2D_3x3_128to128_32px(b *testing.B) {
	benchConvPasses(b, newConvGeometry(128, 34, 34, 128, 3, 3, 1, 0), false)
}

// BenchmarkConv2D_3x3_128to128_32px_GEMM is the residual blocks'
// convolution above through the im2col-GEMM kernels that the Winograd ones
// replace, side by side with BenchmarkConv2D_3x3_128to128_32px.
func BenchmarkConv2D_3x3_128to128_32px_GEMM(b *testing.B) {
	g := newConvGeometry(128, 34, 34, 128, 3, 3, 1, 0)
	b.Run("Forward", func(b *testing.B) { benchConv(b, g, false, passForward, true) })
	b.Run("BackwardInput", func(b *testing.B) { benchConv(b, g, false, passBackwardInput, true) })
	b.Run("BackwardWeight", func(b *testing.B) { benchConv(b, g, false, passBackwardWeight, true) })
}

// BenchmarkConv2DWinogradVsGEMM times the three passes of 3×3
// stride-1 convolutions three ways (Winograd F(2×2, 3×3), then F(4×4, 3×3)
// for the forward pass and input gradient, then the im2col GEMM), the
// measurements behind winogradMinChannels, winogradMinSize,
// winogradWeight, winograd4MinChannels and winograd4MinSize: the
// transforms cost in proportion to the images and the GEMMs' savings in
// proportion to the channels too, so Winograd loses on few channels or few
// pixels. Shapes are c→o at the output size, padding 1; those marked pad0
// are the generator's residual convolutions as it runs them, on an input
// already reflection-padded by 1 with padding 0, so that the input
// gradient's output is 2 pixels larger than the forward's (34×34 at 32 px:
// 9×9 tiles of 4, against 8×8 for the forward).
func BenchmarkConv2DWinogradVsGEMM(b *testing.B) {
	for _, s := range []struct {
		c, o, px int
		pad0     bool
	}{
		{8, 8, 32, false}, {16, 16, 16, false}, {16, 16, 32, false}, {32, 32, 8, false}, {32, 32, 16, false},
		{32, 32, 32, false}, {64, 64, 8, false}, {64, 64, 16, false}, {64, 64, 32, false}, {128, 128, 16, false},
		{128, 128, 64, false}, {256, 256, 64, false}, {128, 128, 32, true}, {128, 128, 64, true},
	} {
		g := newConvGeometry(s.c, s.px, s.px, s.o, 3, 3, 1, 1)
		shape := fmt.Sprintf("%dto%d_%dpx", s.c, s.o, s.px)
		if s.pad0 {
			g = newConvGeometry(s.c, s.px+2, s.px+2, s.o, 3, 3, 1, 0)
			shape += "_pad0"
		}
		for _, via := range []convVia{viaWinograd, viaWinograd4, viaGEMM} {
			name := shape + "_" + via.String()
			b.Run(name+"/Forward", func(b *testing.B) { benchConvVia(b, g, passForward, via) })
			b.Run(name+"/BackwardInput", func(b *testing.B) { benchConvVia(b, g, passBackwardInput, via) })
			if via != viaWinograd4 { // the weight gradient has no F(4×4, 3×3) kernel
				b.Run(name+"/BackwardWeight", func(b *testing.B) { benchConvVia(b, g, passBackwardWeight, via) })
			}
		}
	}
}

// convVia names the kernels a pass is forced through.
type convVia int

const (
	viaWinograd  convVia = iota // F(2×2, 3×3)
	viaWinograd4                // F(4×4, 3×3)
	viaGEMM                     // the im2col GEMM
)

func (v convVia) String() string { return [...]string{"Winograd", "Winograd4", "GEMM"}[v] }

// benchConvVia is benchConv for a pass forced through the kernels via,
// whatever the shape.
func benchConvVia(b *testing.B, g convGeometry, pass convPass, via convVia) {
	if via == viaGEMM {
		benchConv(b, g, false, pass, true)
		return
	}
	rng := newRNG(99)
	in := randTensor(rng, g.inLen()).Data
	out := randTensor(rng, g.outLen()).Data
	w := randTensor(rng, g.o*g.k()).Data
	run := func() { g.winogradForward(in, w, nil, out) }
	switch {
	case pass == passForward && via == viaWinograd4:
		run = func() { g.winograd4Forward(in, w, nil, out) }
	case pass == passBackwardInput && via == viaWinograd4:
		run = func() { g.winograd4BackwardInput(w, out, in) }
	case pass == passBackwardInput:
		run = func() { g.winogradBackwardInput(w, out, in) }
	case pass == passBackwardWeight:
		dw := make([]float32, len(w))
		run = func() { g.winogradBackwardWeight(in, out, dw) }
	}
	run()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run()
	}
	b.ReportMetric(g.FLOPs()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// The transposed convolutions 128→64 (32→64 px) and 64→32 (64→128 px),
// given as the strided convolutions they are the adjoints of.
func BenchmarkConvTranspose2D_3x3s2_128to64_32px(b *testing.B) {
	benchConvPasses(b, newConvGeometry(64, 64, 64, 128, 3, 3, 2, 1), true)
}
func BenchmarkConvTranspose2D_3x3s2_64to32_64px(b *testing.B) {
	benchConvPasses(b, newConvGeometry(32, 128, 128, 64, 3, 3, 2, 1), true)
}
func BenchmarkConv2D_7x7_32to3_128px(b *testing.B) {
	benchConvPasses(b, newConvGeometry(32, 134, 134, 3, 7, 7, 1, 0), false)
}

// PatchGAN (ndf 64) at 128 px: the first and the widest layer.
func BenchmarkConv2D_4x4s2_3to64_128px(b *testing.B) {
	benchConvPasses(b, newConvGeometry(3, 128, 128, 64, 4, 4, 2, 1), false)
}
func BenchmarkConv2D_4x4s1_256to512_16px(b *testing.B) {
	benchConvPasses(b, newConvGeometry(256, 16, 16, 512, 4, 4, 1, 1), false)
}

// BenchmarkGemm_256x1152x1024 is the plain matrix product of
// REFERENCE.md §3, for comparison with the kernels measured there.
func BenchmarkGemm_256x1152x1024(b *testing.B) {
	const m, k, n = 256, 1152, 1024
	rng := newRNG(98)
	a := randTensor(rng, m*k).Data
	bb := randTensor(rng, k*n).Data
	c := make([]float32, m*n)
	gemm(false, false, m, n, k, a, k, bb, n, c, n, false)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		gemm(false, false, m, n, k, a, k, bb, n, c, n, false)
	}
	b.ReportMetric(2*m*n*k*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
