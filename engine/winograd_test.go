package engine

import (
	"fmt"
	"math"
	"testing"
)

// winogradCase is one shape the Winograd kernels are held to the naive
// convolution on: a 3×3 kernel with stride 1.
type winogradCase struct {
	c, h, w, o, p int
	bias          bool
}

// winogradTable: odd and even output sizes (partial tiles at the right and
// bottom edges, and tile rows of fewer than 4 tiles, more than 4, and not
// a multiple of 4), 1 to 128 channels, padding 0 to 2, with and without
// bias; among them the generator's residual convolution.
var winogradTable = []winogradCase{
	{c: 1, h: 5, w: 7, o: 1, p: 0, bias: true},   // output 3×5: 2×3 tiles, both edges partial
	{c: 1, h: 5, w: 7, o: 3, p: 1},               // output 5×7
	{c: 3, h: 5, w: 7, o: 16, p: 2, bias: true},  // output 7×9
	{c: 3, h: 9, w: 9, o: 3, p: 0},               // output 7×7
	{c: 16, h: 9, w: 9, o: 16, p: 1, bias: true}, // output 9×9: 5 tiles a row
	{c: 16, h: 12, w: 18, o: 3, p: 0},            // output 10×16: exactly 8 tiles a row
	{c: 128, h: 9, w: 9, o: 16, p: 0, bias: true},
	{c: 16, h: 34, w: 34, o: 128, p: 1},              // output 34×34: 17 tiles a row
	{c: 128, h: 34, w: 34, o: 128, p: 0, bias: true}, // the residual blocks' convolution
	// For F(4×4, 3×3) too: outputs that 4 does not divide by 1, 2 and 3
	// (partial tiles at both edges), rows of 3, 5, 6 and 9 of its tiles
	// (besides 1, 2, 4 and 9 above), and outputs smaller than one tile.
	{c: 2, h: 8, w: 11, o: 3, p: 1, bias: true}, // output 8×11: 2×3 tiles
	{c: 4, h: 21, w: 24, o: 5, p: 0},            // output 19×22: 5×6 tiles
	{c: 4, h: 20, w: 21, o: 4, p: 1},            // output 20×21: 5×6 tiles, the last row of them partial
	{c: 6, h: 17, w: 20, o: 3, p: 0},            // output 15×18: 4×5 tiles
	{c: 8, h: 34, w: 33, o: 8, p: 2},            // output 36×35: 9×9 tiles
	{c: 64, h: 16, w: 16, o: 64, p: 1, bias: true},
	{c: 2, h: 1, w: 1, o: 2, p: 1}, // output 1×1
	{c: 2, h: 2, w: 3, o: 2, p: 2}, // output 4×5
}

// winogradBound is the error allowed at an output of a Winograd
// convolution of c input channels against conv2dNaive, in units of
// u·(abs + mean): abs is Σ|x·w| over the output's window (the same
// convolution of |x| with |w|, plus |bias|), and mean the mean of abs over
// all outputs (assertWinogradClose).
//
// Both sides are float32 sums, with one rounding (u = 2⁻²⁴ relative) per
// addition. The naive one adds 9c products in turn, so its error is at
// most about 9c·u·Σ|x·w|. The Winograd one rounds 2 additions in V, 2 in U
// (whose halvings are exact), c in the GEMM's sum and 3 in Y (with the
// bias), about c+8 in a row; but what it rounds are transformed values,
// bounded through |Aᵀ|(|G||g||Gᵀ| ⊙ |Bᵀ||d||B|)|A|: for all-ones g and d
// that is 64 per channel where Σ|x·w| is 9, a factor of (8/3)² ≈ 7.1 (8/3
// in each dimension of F(2, 3)). And those values mix in the 7 inputs of
// the 4×4 tile around the 3×3 window, whose products with w the output's
// own Σ|x·w| does not count: for data of one scale they are the size of an
// average window's, hence mean. So the worst case is about
//
//	(9c + 7.1·(c+8)) · u · (abs + mean)
//
// Rounding errors of random signs add up like a random walk, far below
// that (the tests log the worst ratio: at most 2% of it), and it still
// fails by orders of magnitude on any wrong coefficient, tile or edge,
// whose errors are the size of a whole term |x·w| ≈ Σ|x·w|/9c (tried: one
// of G's halvings made ×0.5001 fails TestWinogradMatchesNaive).
func winogradBound(c int) float64 { return 9*float64(c) + 7.1*float64(c+8) }

// winogradWeightBound is winogradBound for a weight gradient summed over
// n output positions in T tiles (per image; over a batch, the totals).
// The naive sum adds n products in turn; the Winograd one rounds about T+8
// additions in a row (T in the GEMM, 2 in each of V and W, and 4 in
// Gᵀ M G, whose halvings are exact) of values bounded through
// |Gᵀ|(|A||∂Y||Aᵀ| ⊙ |Bᵀ||d||B|)|G|: for all-ones ∂Y and d that is 36 a
// tile where Σ|x·∂y| over its 4 outputs is 4, a factor of 9.
func winogradWeightBound(n, tiles int) float64 { return float64(n) + 9*float64(tiles+8) }

// assertWinogradRMS holds the root mean square, over all elements, of the
// error in units of assertWinogradClose's tolerance to at most limit.
// The worst-case bound is far above what rounding does to a whole plane
// (F(4×4, 3×3)'s errors stay under 1% of it), so that on many channels a
// slightly wrong coefficient (one of G's fractions off by 1e-4) stays
// inside it at every element; over all of them it shows.
func assertWinogradRMS(t *testing.T, what string, limit, bound float64, got, want, abs []float32) {
	t.Helper()
	var mean float64
	for _, a := range abs {
		mean += float64(a)
	}
	mean /= float64(len(abs))
	var sum float64
	for i := range want {
		r := (float64(got[i]) - float64(want[i])) / (bound * 0x1p-24 * (float64(abs[i]) + mean))
		sum += r * r
	}
	rms := math.Sqrt(sum / float64(len(want)))
	if rms > limit {
		t.Fatalf("%s: root mean square error %.4g of the tolerance, more than %g", what, rms, limit)
	}
	t.Logf("%s: root mean square error %.5f of the tolerance", what, rms)
}

// assertWinogradClose holds got to want within bound·u·(abs + mean) at
// each element, abs being its Σ|x·w| (see winogradBound), and reports the
// worst ratio of error to tolerance.
func assertWinogradClose(t *testing.T, what string, bound float64, got, want, abs []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	var mean float64
	for _, a := range abs {
		mean += float64(a)
	}
	mean /= float64(len(abs))
	worst := 0.0
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		tol := bound * 0x1p-24 * (float64(abs[i]) + mean)
		if d > tol || math.IsNaN(float64(got[i])) {
			t.Fatalf("%s: element %d = %g, want %g (tolerance %g)", what, i, got[i], want[i], tol)
		}
		worst = math.Max(worst, d/tol)
	}
	t.Logf("%s: worst error %.4f of the tolerance", what, worst)
}

func absAll(x []float32) []float32 {
	a := make([]float32, len(x))
	for i, v := range x {
		a[i] = float32(math.Abs(float64(v)))
	}
	return a
}

// TestWinogradMatchesNaive holds the Winograd forward passes and input
// gradients, F(2×2, 3×3) and F(4×4, 3×3), and the weight gradient, called
// directly whatever the shape and build, to the naive convolution and its
// naive gradients.
func TestWinogradMatchesNaive(t *testing.T) {
	rng := newRNG(7)
	for _, wc := range winogradTable {
		name := fmt.Sprintf("%dto%d_%dx%d_p%d_bias%v", wc.c, wc.o, wc.h, wc.w, wc.p, wc.bias)
		t.Run(name, func(t *testing.T) {
			g := newConvGeometry(wc.c, wc.h, wc.w, wc.o, 3, 3, 1, wc.p)
			x := randTensor(rng, g.inLen()).Data
			w := randTensor(rng, g.o*g.k()).Data
			dy := randTensor(rng, g.outLen()).Data
			var b []float32
			if wc.bias {
				b = randTensor(rng, g.o).Data
			}
			wantY, wantDx, wantDw, _ := conv2dNaive(x, w, b, 1, g.c, g.h, g.w, g.o, 3, 3, 1, g.pad, dy)
			var absB []float32
			if b != nil {
				absB = absAll(b)
			}
			absY, absDx, absDw, _ := conv2dNaive(absAll(x), absAll(w), absB, 1, g.c, g.h, g.w, g.o, 3, 3, 1, g.pad, absAll(dy))

			y := randTensor(rng, g.outLen()).Data // garbage in: the forward overwrites
			g.winogradForward(x, w, b, y)
			assertWinogradClose(t, "y", winogradBound(g.c), y, wantY, absY)

			// The input gradient accumulates: start from a known dx0.
			dx0 := randTensor(rng, g.inLen()).Data
			dx := append([]float32(nil), dx0...)
			g.winogradBackwardInput(w, dy, dx)
			for i := range dx {
				dx[i] -= dx0[i]
			}
			// ∂x sums over o output channels (9o terms a value).
			assertWinogradClose(t, "dx", winogradBound(g.o), dx, wantDx, absDx)

			y4 := randTensor(rng, g.outLen()).Data
			g.winograd4Forward(x, w, b, y4)
			assertWinogradClose(t, "y F(4×4, 3×3)", winograd4Bound(g.c), y4, wantY, absY)
			assertWinogradRMS(t, "y F(4×4, 3×3)", winograd4RMS, winograd4Bound(g.c), y4, wantY, absY)
			dx4 := append([]float32(nil), dx0...)
			g.winograd4BackwardInput(w, dy, dx4)
			for i := range dx4 {
				dx4[i] -= dx0[i]
			}
			assertWinogradClose(t, "dx F(4×4, 3×3)", winograd4Bound(g.o), dx4, wantDx, absDx)
			assertWinogradRMS(t, "dx F(4×4, 3×3)", winograd4RMS, winograd4Bound(g.o), dx4, wantDx, absDx)

			// The weight gradient accumulates too.
			dw0 := randTensor(rng, len(w)).Data
			dw := append([]float32(nil), dw0...)
			g.winogradBackwardWeight(x, dy, dw)
			for i := range dw {
				dw[i] -= dw0[i]
			}
			l := g.winogradLayout()
			assertWinogradClose(t, "dw", winogradWeightBound(g.oh*g.ow, l.t), dw, wantDw, absDw)
		})
	}
}

// TestWinogradConvOps runs Conv2D and a stride-1 ConvTranspose2D on shapes
// that take the Winograd kernels (see convGeometry.winograd), through the
// tape, against the naive loops: the dispatch, the bias, batches of two
// and the accumulation into ∂x and ∂w, with the weight gradient through
// the GEMM (outputs below 32×32) and through Winograd (winogradWeight, in
// every build). (The stride-2 transposed convolutions of the generator
// keep the GEMM and col2im: winogradInput needs stride 1.)
func TestWinogradConvOps(t *testing.T) {
	rng := newRNG(8)
	for _, tc := range []struct {
		convCase
		weight bool // the weight gradient runs as a Winograd convolution
	}{
		{convCase{name: "32to40_18x17_p1", n: 2, c: 32, h: 18, w: 17, o: 40, kh: 3, kw: 3, s: 1, p: 1, bias: true}, false},
		{convCase{name: "40to32_19x18_p0", n: 1, c: 40, h: 19, w: 18, o: 32, kh: 3, kw: 3, s: 1, p: 0}, false},
		{convCase{name: "128to128_34x35_p0", n: 2, c: 128, h: 34, w: 35, o: 128, kh: 3, kw: 3, s: 1, p: 0, bias: true}, true},
	} {
		cc := tc.convCase
		g := newConvGeometry(cc.c, cc.h, cc.w, cc.o, cc.kh, cc.kw, cc.s, cc.p)
		if !g.winograd() || !g.winogradInput() || g.winogradWeight() != tc.weight {
			t.Fatalf("%s: winograd %v, winogradInput %v, winogradWeight %v: the case should take the Winograd kernels (the weight gradient's: %v)",
				cc.name, g.winograd(), g.winogradInput(), g.winogradWeight(), tc.weight)
		}
		t.Run("Conv2D_"+cc.name, func(t *testing.T) {
			x, w, b, y, dy, wantY, wantDx, wantDw, wantDb := runConv2D(rng, cc)
			var absB []float32
			if b != nil {
				absB = absAll(b.Data)
			}
			absY, absDx, absDw, _ := conv2dNaive(absAll(x.Data), absAll(w.Data), absB, cc.n, cc.c, cc.h, cc.w, cc.o, cc.kh, cc.kw, cc.s, cc.p, absAll(dy))
			assertWinogradClose(t, "y", dispatchedBound(g.winograd4(), cc.c), y.Data, wantY, absY)
			assertWinogradClose(t, "dx", dispatchedBound(g.winograd4Input(), cc.o), x.Grad, wantDx, absDx)
			assertWinogradClose(t, "dw", winogradWeightBound(cc.n*g.oh*g.ow, cc.n*g.winogradLayout().t), w.Grad, wantDw, absDw)
			tol := convTolerance(cc) * float64(y.Shape[2]*y.Shape[3])
			if b != nil {
				assertClose(t, "db", b.Grad, wantDb, tol, 1e-5)
			}
		})
		// ConvTranspose2D with stride 1 is the input gradient of g run
		// forwards: weight [c_in, o, 3, 3], here c_in = cc.o.
		t.Run("ConvTranspose2D_"+cc.name, func(t *testing.T) {
			x := param(randTensor(rng, cc.n, cc.o, g.oh, g.ow))
			w := param(randTensor(rng, cc.o, cc.c, cc.kh, cc.kw))
			tp := NewTape()
			y := ConvTranspose2D(tp, x, w, nil, 1, cc.p, 0)
			dy := randTensor(rng, y.Shape...).Data
			tp.BackwardFrom(y, dy)
			wantY, wantDx, wantDw, _ := convTranspose2dNaive(x.Data, w.Data, nil, cc.n, cc.o, g.oh, g.ow, cc.c, cc.kh, cc.kw, 1, cc.p, 0, dy)
			absY, _, absDw, _ := convTranspose2dNaive(absAll(x.Data), absAll(w.Data), nil, cc.n, cc.o, g.oh, g.ow, cc.c, cc.kh, cc.kw, 1, cc.p, 0, absAll(dy))
			assertWinogradClose(t, "y", dispatchedBound(g.winograd4Input(), cc.o), y.Data, wantY, absY)
			assertWinogradClose(t, "dw", winogradWeightBound(cc.n*g.oh*g.ow, cc.n*g.winogradLayout().t), w.Grad, wantDw, absDw)
			tol := convTolerance(cc)
			assertClose(t, "dx", x.Grad, wantDx, tol*float64(cc.o), 1e-5)
		})
	}
}

// dispatchedBound is the error bound of a Winograd pass over c channels:
// winograd4Bound where it runs as F(4×4, 3×3), else winogradBound.
func dispatchedBound(f4 bool, c int) float64 {
	if f4 {
		return winograd4Bound(c)
	}
	return winogradBound(c)
}

// TestWinogradTilesMatchScalar holds the tile transforms this build runs
// (vectors of four tiles in the browser's SIMD build) to the scalar ones
// bit for bit, for rows of 1 to 17 tiles (fewer than a vector, whole
// vectors, and a last vector overlapping the one before), 1 to 3 rows of
// tiles, and output planes of odd and even sizes, written and added to.
func TestWinogradTilesMatchScalar(t *testing.T) {
	rng := newRNG(9)
	for _, tw := range []int{1, 2, 3, 4, 5, 7, 8, 16, 17} {
		for _, th := range []int{1, 3} {
			t.Run(fmt.Sprintf("tw%d_th%d", tw, th), func(t *testing.T) {
				ld := winogradPlaneWidth(tw)
				plane := randTensor(rng, 2*(2*th+2)*ld).Data
				for i := 0; i < len(plane); i += 3 {
					plane[i] = 0 // as the padding is: a negated zero must keep its sign in both kernels
				}
				vs := th*tw + 7 // a stride unlike th·tw: the kernels write only their tiles
				got := randTensor(rng, 16*vs).Data
				want := append([]float32(nil), got...)
				winogradInputTiles(plane, ld, th, tw, got, vs, make([]float32, 8*ld))
				winogradInputTilesScalar(plane, ld, th, tw, want, vs)
				assertClose(t, "V", got, want, 0, 0)

				gotW := randTensor(rng, 16*vs).Data
				wantW := append([]float32(nil), gotW...)
				winogradGradientTiles(plane, ld, th, tw, gotW, vs)
				winogradGradientTilesScalar(plane, ld, th, tw, wantW, vs)
				assertSameBits(t, "W", gotW, wantW)

				m := randTensor(rng, 16*vs).Data
				for _, odd := range []int{0, 1} {
					oh, ow := 2*th-odd, 2*tw-odd
					for _, acc := range []bool{false, true} {
						gotY := randTensor(rng, oh*ow).Data
						wantY := append([]float32(nil), gotY...)
						winogradOutputTiles(m, vs, th, tw, 0.25, make([]float32, 4*tw), gotY, ow, acc)
						winogradOutputTilesScalar(m, vs, th, tw, 0.25, make([]float32, 4*tw), wantY, ow, acc)
						assertClose(t, fmt.Sprintf("Y %dx%d accumulate %v", oh, ow, acc), gotY, wantY, 0, 0)
					}
				}
			})
		}
	}
}

// TestWinogradInterleaveMatchesScalar holds the splitting of input rows
// into even and odd columns and the merging of output tiles into rows, as
// this build runs them, to the scalar loops, bit for bit, for rows of odd
// and even lengths, shorter and longer than a vector pair.
func TestWinogradInterleaveMatchesScalar(t *testing.T) {
	rng := newRNG(13)
	for _, n := range []int{1, 2, 7, 8, 9, 15, 16, 17, 32, 33, 34} {
		t.Run(fmt.Sprintf("len%d", n), func(t *testing.T) {
			src := randTensor(rng, n).Data
			half := (n + 1) / 2
			gotE, gotO := randTensor(rng, half+1).Data, randTensor(rng, half+1).Data
			wantE, wantO := append([]float32(nil), gotE...), append([]float32(nil), gotO...)
			winogradDeinterleave(src, gotE, gotO)
			winogradDeinterleaveScalar(src, wantE, wantO)
			assertClose(t, "even", gotE, wantE, 0, 0)
			assertClose(t, "odd", gotO, wantO, 0, 0)
			for i := 0; i < n; i++ {
				if c := [2][]float32{wantE, wantO}[i%2][i/2]; c != src[i] {
					t.Fatalf("column %d went to %g, want %g", i, c, src[i])
				}
			}

			for _, acc := range []bool{false, true} {
				got := randTensor(rng, n).Data
				want := append([]float32(nil), got...)
				winogradInterleave(got, wantE, wantO, acc)
				winogradInterleaveScalar(want, wantE, wantO, acc)
				assertClose(t, fmt.Sprintf("interleaved, accumulate %v", acc), got, want, 0, 0)
			}
		})
	}
}

// TestWinogradFlip checks the permutation the input gradient reads the
// forward's weight transform through: the transform of every kernel
// flipped in space is the transform of the kernel at positions
// winogradFlip (exactly, as the same operations run on the same values).
func TestWinogradFlip(t *testing.T) {
	rng := newRNG(11)
	const n = 5
	w := randTensor(rng, n*9).Data
	flipped := make([]float32, len(w))
	for i := 0; i < n; i++ {
		for k := 0; k < 9; k++ {
			flipped[9*i+k] = w[9*i+8-k]
		}
	}
	u := make([]float32, 16*n)
	uf := make([]float32, 16*n)
	winogradWeights(w, 1, n, u, n)
	winogradWeights(flipped, 1, n, uf, n)
	for xi := 0; xi < 16; xi++ {
		assertClose(t, fmt.Sprintf("position %d", xi), uf[xi*n:(xi+1)*n], u[winogradFlip[xi]*n:(winogradFlip[xi]+1)*n], 0, 0)
	}
}

// TestWinogradAllocatesNothing runs the residual blocks' convolution,
// forward and backward on a tape, in steady state: the training step must
// not grow the heap.
func TestWinogradAllocatesNothing(t *testing.T) {
	rng := newRNG(12)
	if g := newConvGeometry(128, 34, 34, 128, 3, 3, 1, 0); !g.winogradWeight() {
		t.Fatal("the residual blocks' convolution should take the Winograd weight gradient")
	}
	x := param(randTensor(rng, 1, 128, 34, 34))
	w := param(randTensor(rng, 128, 128, 3, 3))
	b := param(randTensor(rng, 128))
	tp := NewTape()
	seed := randTensor(rng, 1, 128, 32, 32).Data
	step := func() {
		tp.Reset()
		y := Conv2D(tp, x, w, b, 1, 0)
		tp.BackwardFrom(y, seed)
	}
	step()
	if n := testing.AllocsPerRun(5, step); n > 0 {
		t.Fatalf("a Winograd training step allocates %v times", n)
	}
}
