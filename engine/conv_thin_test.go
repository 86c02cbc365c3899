package engine

import (
	"slices"
	"testing"
)

// thinConvTable are convolutions with 3 output channels, stride 1 and no
// padding, which the browser's SIMD build runs with thinForward (other
// builds through the GEMM): rows of exactly 8 and of 9 and 13 (a last block
// overlapping the one before), 1×1 to 7×7 kernels, 1 to 32 channels, with
// and without bias, two images.
var thinConvTable = []convCase{
	{name: "thin_7x7_32to3_row8", n: 1, c: 32, h: 10, w: 14, o: 3, kh: 7, kw: 7, s: 1, p: 0, bias: true},
	{name: "thin_7x7_5to3_row9", n: 2, c: 5, h: 9, w: 15, o: 3, kh: 7, kw: 7, s: 1, p: 0, bias: true},
	{name: "thin_3x3_1to3_row13", n: 1, c: 1, h: 6, w: 15, o: 3, kh: 3, kw: 3, s: 1, p: 0},
	{name: "thin_1x1_4to3_row20", n: 1, c: 4, h: 3, w: 20, o: 3, kh: 1, kw: 1, s: 1, p: 0, bias: true},
	{name: "thin_5x3_2to3_row7_gemm", n: 1, c: 2, h: 6, w: 9, o: 3, kh: 5, kw: 3, s: 1, p: 0}, // ow 7: the GEMM
}

// TestConv2DThinMatchesNaive holds the forward pass of thin convolutions
// (and the backward passes behind it) to the naive loops.
func TestConv2DThinMatchesNaive(t *testing.T) {
	rng := newRNG(11)
	for _, cc := range thinConvTable {
		t.Run(cc.name, func(t *testing.T) {
			x := param(randTensor(rng, cc.n, cc.c, cc.h, cc.w))
			w := param(randTensor(rng, cc.o, cc.c, cc.kh, cc.kw))
			var b *Tensor
			var bData []float32
			if cc.bias {
				b = param(randTensor(rng, cc.o))
				bData = b.Data
			}
			tp := NewTape()
			y := Conv2D(tp, x, w, b, cc.s, cc.p)
			dy := randTensor(rng, y.Shape...).Data
			tp.BackwardFrom(y, dy)
			wantY, wantDx, wantDw, _ := conv2dNaive(x.Data, w.Data, bData, cc.n, cc.c, cc.h, cc.w, cc.o, cc.kh, cc.kw, cc.s, cc.p, dy)
			tol := convTolerance(cc)
			assertClose(t, "y", y.Data, wantY, tol, 1e-5)
			assertClose(t, "dx", x.Grad, wantDx, tol, 1e-5)
			assertClose(t, "dw", w.Grad, wantDw, tol*float64(y.Shape[2]*y.Shape[3]), 1e-5)
			// On the tape again: a reused output buffer gives the same.
			tp.Reset()
			if y2 := Conv2D(tp, x, w, b, cc.s, cc.p); !slices.Equal(y2.Data, y.Data) {
				t.Fatal("a second forward pass on a reset tape differs")
			}
		})
	}
}
