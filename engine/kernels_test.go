package engine

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Every fast kernel against its naive reference. The tolerance allows for
// float32 sums taken in a different order: about k·2⁻²⁴ relative per sum.

func TestGemmMatchesNaive(t *testing.T) {
	cases := []struct{ m, n, k int }{
		{1, 1, 1}, {3, 5, 7}, {4, 8, 1}, {4, 8, 16}, {5, 9, 3},
		{gemmMC + 3, gemmNC + 5, gemmKC + 7}, // crosses every block edge
		{17, 1, 300}, {1, 33, 64}, {128, 100, 1152},
		{9, 2*gemmNC + 9, 20}, // serial even natively, and wider than a block: op(A) packed once (wholeA)
	}
	rng := newRNG(1)
	for _, c := range cases {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, acc := range []bool{false, true} {
					name := fmt.Sprintf("m%d_n%d_k%d_tA%v_tB%v_acc%v", c.m, c.n, c.k, tA, tB, acc)
					t.Run(name, func(t *testing.T) {
						a := randTensor(rng, c.m*c.k).Data
						b := randTensor(rng, c.k*c.n).Data
						lda, ldb := c.k, c.n
						if tA {
							lda = c.m
						}
						if tB {
							ldb = c.k
						}
						// ldc wider than n checks that gemm leaves the gap alone.
						ldc := c.n + 3
						init := randTensor(rng, c.m*ldc).Data
						got := append([]float32(nil), init...)
						want := append([]float32(nil), init...)
						gemm(tA, tB, c.m, c.n, c.k, a, lda, b, ldb, got, ldc, acc)
						gemmNaive(tA, tB, c.m, c.n, c.k, a, lda, b, ldb, want, ldc, acc)
						assertClose(t, "C", got, want, 1e-6*float64(c.k), 1e-5)
						for i := 0; i < c.m; i++ {
							for j := c.n; j < ldc; j++ {
								if got[i*ldc+j] != init[i*ldc+j] {
									t.Fatalf("gemm wrote outside C at row %d column %d", i, j)
								}
							}
						}
					})
				}
			}
		}
	}
}

// TestParallelGemmAcrossCores holds the product split into bands across
// the cores (natively) to gemmNaive: with more cores than gemm goroutines
// were started for, with the goroutines polling for work and after they
// have parked (gemmWorkerSpin), and from several callers at once. In
// WebAssembly the product stays serial and this checks the same sums.
func TestParallelGemmAcrossCores(t *testing.T) {
	const m, n, k = 72, 200, 160 // above gemmParallelMACs, not a whole number of tiles
	rng := newRNG(7)
	a, b := randTensor(rng, m*k).Data, randTensor(rng, k*n).Data
	want := make([]float32, m*n)
	gemmNaive(false, false, m, n, k, a, k, b, n, want, n, false)
	// check returns the first entry of C off by more than float32 sums in
	// another order allow (closeTo), or nil.
	check := func(transposeC bool) error {
		got := make([]float32, m*n)
		if transposeC {
			// Cᵀ = Bᵀ·Aᵀ has more rows than columns: split into row bands.
			ct := make([]float32, n*m)
			gemm(true, true, n, m, k, b, n, a, k, ct, m, false)
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					got[i*n+j] = ct[j*m+i]
				}
			}
		} else {
			gemm(false, false, m, n, k, a, k, b, n, got, n, false)
		}
		if i, _ := closeTo(got, want, 1e-6*k, 1e-5); i >= 0 {
			return fmt.Errorf("C[%d,%d] = %v, want %v", i/n, i%n, got[i], want[i])
		}
		return nil
	}
	run := func(name string, transposeC bool) {
		t.Run(name, func(t *testing.T) {
			if err := check(transposeC); err != nil {
				t.Fatal(err)
			}
		})
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{2, 4} {
		runtime.GOMAXPROCS(procs)
		for _, transposeC := range []bool{false, true} {
			run(fmt.Sprintf("procs%d_transposed%v_polling", procs, transposeC), transposeC)
			time.Sleep(gemmWorkerSpin + 20*time.Millisecond)
			run(fmt.Sprintf("procs%d_transposed%v_parked", procs, transposeC), transposeC)
		}
	}
	errs := make(chan error, 4*5)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				errs <- check(i%2 == 1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("four callers at once: %v", err)
		}
	}
}

// convCase is one row of the convolution shape table.
type convCase struct {
	name                        string
	n, c, h, w, o, kh, kw, s, p int
	outPad                      int // ConvTranspose2D only
	bias                        bool
}

// convTable covers the edge shapes: odd sizes, one channel, stride 2,
// 1×1 and 7×7 kernels, PatchGAN's 4×4, output padding 1, no bias.
var convTable = []convCase{
	{name: "3x3_s1_p1_odd_1ch", n: 1, c: 1, h: 5, w: 7, o: 2, kh: 3, kw: 3, s: 1, p: 1, bias: true},
	{name: "3x3_s2_p1_batch2", n: 2, c: 3, h: 6, w: 5, o: 4, kh: 3, kw: 3, s: 2, p: 1, outPad: 1, bias: true},
	{name: "1x1_s1_p0", n: 1, c: 4, h: 4, w: 3, o: 3, kh: 1, kw: 1, s: 1, p: 0, bias: true},
	{name: "1x1_s2_p0", n: 1, c: 2, h: 5, w: 5, o: 3, kh: 1, kw: 1, s: 2, p: 0, outPad: 1, bias: true},
	{name: "7x7_s1_p3", n: 1, c: 2, h: 9, w: 8, o: 3, kh: 7, kw: 7, s: 1, p: 3, bias: true},
	{name: "7x7_s1_p0", n: 1, c: 3, h: 9, w: 10, o: 2, kh: 7, kw: 7, s: 1, p: 0, bias: true},
	{name: "4x4_s2_p1_patchgan", n: 1, c: 3, h: 8, w: 7, o: 2, kh: 4, kw: 4, s: 2, p: 1, bias: true},
	{name: "4x4_s1_p1_nobias", n: 1, c: 2, h: 5, w: 6, o: 1, kh: 4, kw: 4, s: 1, p: 1},
	{name: "3x3_s2_p0_op1", n: 1, c: 2, h: 7, w: 6, o: 2, kh: 3, kw: 3, s: 2, p: 0, outPad: 1, bias: true},
	{name: "3x2_s1_p0_rect", n: 1, c: 2, h: 5, w: 4, o: 2, kh: 3, kw: 2, s: 1, p: 0, bias: true},
}

// wideConvTable has more output pixels than a GEMM block (gemmNC), with
// rows a multiple of gemmNR (the forward's direct packing) and not (the
// input gradient's); too large for the finite-difference gradient check,
// they run only against the naive kernels.
var wideConvTable = []convCase{
	{name: "3x3_s1_p1_26px_wide", n: 1, c: 5, h: 26, w: 26, o: 6, kh: 3, kw: 3, s: 1, p: 1, bias: true},
	{name: "3x3_s1_p0_34px_wide", n: 1, c: 3, h: 34, w: 34, o: 5, kh: 3, kw: 3, s: 1, p: 0},
}

// TestIm2colPackingMatchesNaive holds the packing of the column matrix
// straight from the image (gemmB.im2col), plain and transposed, to packing
// the matrix im2colNaive stores, over windows that start and end mid-row
// and mid-panel; and col2im to being the adjoint of that matrix.
func TestIm2colPackingMatchesNaive(t *testing.T) {
	rng := newRNG(2)
	for _, cc := range append(convTable[:len(convTable):len(convTable)], wideConvTable...) {
		t.Run(cc.name, func(t *testing.T) {
			g := newConvGeometry(cc.c, cc.h, cc.w, cc.o, cc.kh, cc.kw, cc.s, cc.p)
			x := randTensor(rng, g.inLen()).Data
			k, ohw := g.k(), g.oh*g.ow
			col := make([]float32, k*ohw)
			im2colNaive(x, cc.c, cc.h, cc.w, cc.kh, cc.kw, cc.s, cc.p, g.oh, g.ow, col)
			rows := make([]float32, gemmNR*gemmKC)
			for _, trans := range []bool{false, true} {
				// op(B) is k×ohw, or ohw×k transposed.
				kk, nn := k, ohw
				if trans {
					kk, nn = ohw, k
				}
				for _, win := range [][4]int{{0, kk, 0, nn}, {1, kk - 1, 3, nn - 3}, {kk / 2, kk - kk/2, nn / 3, nn - nn/3}, {kk - 1, 1, nn - 1, 1}, {0, kk, 5, min(16, nn-5)}} {
					p0, kc, j0, nc := win[0], min(win[1], gemmKC), win[2], win[3]
					if kc <= 0 || nc <= 0 {
						continue
					}
					size := (nc + gemmNR - 1) / gemmNR * bPanelStride(kc)
					got := randTensor(rng, size).Data // garbage in: packB must overwrite all
					want := make([]float32, size)
					packB(&gemmB{b: x, trans: trans, im2col: true, g: g}, p0, kc, j0, nc, got, rows)
					packB(&gemmB{b: col, ld: ohw, trans: trans}, p0, kc, j0, nc, want, rows)
					// Compare the panels, not the gaps between them.
					for at := 0; at < size; at += bPanelStride(kc) {
						assertClose(t, fmt.Sprintf("trans%v window %v panel at %d", trans, win, at), got[at:at+gemmNR*kc], want[at:at+gemmNR*kc], 0, 0)
					}
				}
			}

			// col2im is the adjoint of im2col: <im2col(x), y> = <x, col2im(y)>.
			y := randTensor(rng, k*ohw).Data
			back := make([]float32, len(x))
			col2im(y, cc.c, cc.h, cc.w, cc.kh, cc.kw, cc.s, cc.p, g.oh, g.ow, back)
			var lhs, rhs float64
			for i := range y {
				lhs += float64(col[i]) * float64(y[i])
			}
			for i := range x {
				rhs += float64(x[i]) * float64(back[i])
			}
			// col2im sums up to kh·kw float32 terms per pixel: allow for their rounding.
			if d := lhs - rhs; d > 2e-5 || d < -2e-5 {
				t.Fatalf("<im2col x, y> = %v, <x, col2im y> = %v", lhs, rhs)
			}
		})
	}
}

// convTolerance: both sides sum about c·kh·kw products of values in [-1, 1].
func convTolerance(cc convCase) float64 { return 2e-6 * float64(cc.c*cc.kh*cc.kw+cc.o) }

// runConv2D runs case cc through Conv2D's forward and backward passes on
// random x, weight, bias (nil without cc.bias) and ∂y, and returns them with
// the naive loops' y, ∂x, ∂weight and ∂bias.
func runConv2D(rng *rand.Rand, cc convCase) (x, w, b, y *Tensor, dy, wantY, wantDx, wantDw, wantDb []float32) {
	x = param(randTensor(rng, cc.n, cc.c, cc.h, cc.w))
	w = param(randTensor(rng, cc.o, cc.c, cc.kh, cc.kw))
	var bData []float32
	if cc.bias {
		b = param(randTensor(rng, cc.o))
		bData = b.Data
	}
	tp := NewTape()
	y = Conv2D(tp, x, w, b, cc.s, cc.p)
	dy = randTensor(rng, y.Shape...).Data
	tp.BackwardFrom(y, dy)
	wantY, wantDx, wantDw, wantDb = conv2dNaive(x.Data, w.Data, bData, cc.n, cc.c, cc.h, cc.w, cc.o, cc.kh, cc.kw, cc.s, cc.p, dy)
	return
}

func TestConv2DMatchesNaive(t *testing.T) {
	rng := newRNG(3)
	cases := append(convTable[:len(convTable):len(convTable)], wideConvTable...)
	cases = append(cases, thinConvTable...)
	for _, cc := range append(cases, convCase{name: "3x3_128ch_16px", n: 1, c: 128, h: 16, w: 16, o: 64, kh: 3, kw: 3, s: 1, p: 1, bias: true}) {
		t.Run(cc.name, func(t *testing.T) {
			x, w, b, y, _, wantY, wantDx, wantDw, wantDb := runConv2D(rng, cc)
			tol := convTolerance(cc)
			assertClose(t, "y", y.Data, wantY, tol, 1e-5)
			assertClose(t, "dx", x.Grad, wantDx, tol, 1e-5)
			assertClose(t, "dw", w.Grad, wantDw, tol*float64(y.Shape[2]*y.Shape[3]), 1e-5)
			if b != nil {
				assertClose(t, "db", b.Grad, wantDb, tol*float64(y.Shape[2]*y.Shape[3]), 1e-5)
			}
		})
	}
}

func TestConvTranspose2DMatchesNaive(t *testing.T) {
	rng := newRNG(4)
	cases := append(convTable[:len(convTable):len(convTable)], wideConvTable...)
	for _, cc := range append(cases, convCase{name: "3x3_s2_128to64_16px", n: 1, c: 128, h: 16, w: 16, o: 64, kh: 3, kw: 3, s: 2, p: 1, outPad: 1, bias: true}) {
		t.Run(cc.name, func(t *testing.T) {
			x := param(randTensor(rng, cc.n, cc.c, cc.h, cc.w))
			w := param(randTensor(rng, cc.c, cc.o, cc.kh, cc.kw))
			var b *Tensor
			var bData []float32
			if cc.bias {
				b = param(randTensor(rng, cc.o))
				bData = b.Data
			}
			tp := NewTape()
			y := ConvTranspose2D(tp, x, w, b, cc.s, cc.p, cc.outPad)
			dy := randTensor(rng, y.Shape...).Data
			tp.BackwardFrom(y, dy)
			wantY, wantDx, wantDw, wantDb := convTranspose2dNaive(x.Data, w.Data, bData, cc.n, cc.c, cc.h, cc.w, cc.o, cc.kh, cc.kw, cc.s, cc.p, cc.outPad, dy)
			if len(wantY) != len(y.Data) {
				t.Fatalf("output %v, naive has %d values", y, len(wantY))
			}
			tol := convTolerance(cc)
			assertClose(t, "y", y.Data, wantY, tol, 1e-5)
			assertClose(t, "dx", x.Grad, wantDx, tol*float64(cc.o), 1e-5)
			assertClose(t, "dw", w.Grad, wantDw, tol*float64(cc.h*cc.w), 1e-5)
			if b != nil {
				assertClose(t, "db", b.Grad, wantDb, tol*float64(y.Shape[2]*y.Shape[3]), 1e-5)
			}
		})
	}
}

// TestMicroKernelMatchesScalar holds the micro-kernel this build runs (SIMD
// where built) to the scalar one, which gemmNaive holds in turn. The wasm
// SIMD kernel adds in the scalar order and agrees to the last bit; the
// amd64 one fuses multiply-adds and splits the sum in two, so it may differ
// by a few roundings of the partial sums: |Σ| ≤ kc for inputs in [−1, 1].
func TestMicroKernelMatchesScalar(t *testing.T) {
	rng := newRNG(5)
	for _, kc := range []int{1, 2, 7, gemmKC} {
		for _, overwrite := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s_kc%d_overwrite%v", KernelName, kc, overwrite), func(t *testing.T) {
				a := randTensor(rng, kc*gemmMR).Data
				b := randTensor(rng, kc*gemmNR).Data
				const ldc = gemmNR + 5
				init := randTensor(rng, gemmMR*ldc).Data
				got := append([]float32(nil), init...)
				want := append([]float32(nil), init...)
				// a is the p-major panel kernel4x8 reads; the build's kernel
				// reads it as packA lays it out (gemmAStep).
				packed := make([]float32, kc*gemmAStep)
				packA(&gemmA{a: a, ld: gemmMR, trans: true}, 0, gemmMR, 0, kc, packed)
				microKernel(kc, packed, b, got, ldc, overwrite)
				kernel4x8(kc, a, b, want, ldc, overwrite)
				assertClose(t, "tile", got, want, 4e-7*float64(kc), 0)
			})
		}
	}
}
