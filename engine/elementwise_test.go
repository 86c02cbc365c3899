package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The elementwise kernels (InstanceNorm2D's passes, LeakyReLU, the sums,
// Adam) are held to their scalar versions, the fallback of builds without
// SIMD and the oracle here: bit for bit where both round the same
// operations in the same order, within the proven bound of the block sums
// where the SIMD build sums in float32 blocks (norm_simd_wasm.go). In a
// build without SIMD the kernels are the scalar versions and these tests
// check the harness; in the browser's SIMD build they check the SIMD code.

// elementwiseLengths are the slice lengths every kernel runs on: every
// length up to 67 (no full block, one block and a tail of each size), and
// the sizes of real planes and tensors.
func elementwiseLengths() []int {
	var ls []int
	for n := 1; n <= 67; n++ {
		ls = append(ls, n)
	}
	return append(ls, 7*9, 14*14, 15*15, 32*32, 130*130, 128*128, 256*256)
}

// specialValues are where elementwise kernels go subtly wrong: signed
// zeros, subnormals, the extremes of float32, infinities and NaN.
var specialValues = []float32{
	0, float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, -1e-40, 1e-38,
	math.MaxFloat32, -math.MaxFloat32, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
}

// withSpecials returns n uniform values in [-1, 1), about one in eight
// replaced by a special value.
func withSpecials(rng *rand.Rand, n int) []float32 {
	s := randTensor(rng, n).Data
	for i := range s {
		if rng.IntN(8) == 0 {
			s[i] = specialValues[rng.IntN(len(specialValues))]
		}
	}
	return s
}

// sameBits reports whether a and b are the same float32, bit for bit, or
// both NaN (WebAssembly leaves the sign and payload of a computed NaN
// unspecified).
func sameBits(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}

func assertSameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if !sameBits(got[i], want[i]) {
			t.Fatalf("%s: element %d = %g (%#08x), want %g (%#08x)", what, i,
				got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

func TestLeakyReLUKernelsMatchScalar(t *testing.T) {
	rng := newRNG(21)
	for _, slope := range []float32{0, 0.2, -1.5} {
		for _, n := range elementwiseLengths() {
			name := fmt.Sprintf("slope%g/len%d", slope, n)
			x, dy := withSpecials(rng, n), withSpecials(rng, n)
			y, yWant := make([]float32, n), make([]float32, n)
			leakyReLU(y, x, slope)
			leakyReLUScalar(yWant, x, slope)
			assertSameBits(t, name+"/forward", y, yWant)

			dx := randTensor(rng, n).Data
			dxWant := append([]float32(nil), dx...)
			leakyReLUGrad(dx, dy, x, slope)
			leakyReLUGradScalar(dxWant, dy, x, slope)
			assertSameBits(t, name+"/backward", dx, dxWant)
		}
	}
}

func TestAddKernelsMatchScalar(t *testing.T) {
	rng := newRNG(22)
	for _, n := range elementwiseLengths() {
		name := fmt.Sprintf("len%d", n)
		a, b := withSpecials(rng, n), withSpecials(rng, n)
		y, yWant := make([]float32, n), make([]float32, n)
		add(y, a, b)
		addScalar(yWant, a, b)
		assertSameBits(t, name+"/add", y, yWant)

		dst := withSpecials(rng, n)
		want := append([]float32(nil), dst...)
		addTo(dst, a)
		addToScalar(want, a)
		assertSameBits(t, name+"/addTo", dst, want)
	}
}

// normPlane is one plane the InstanceNorm2D kernels are tested on: gen
// fills it.
type normPlane struct {
	name string
	gen  func(rng *rand.Rand, n int) []float32
}

// normPlanes are plane contents: centred, far off centre (|μ| ≫ σ, where a
// one-pass variance would fail, and where the SIMD sums of nearly equal
// terms round the most), tiny and huge, constant, and sparse with zeros.
var normPlanes = []normPlane{
	{"uniform", func(rng *rand.Rand, n int) []float32 { return randTensor(rng, n).Data }},
	{"mean50", func(rng *rand.Rand, n int) []float32 { return offsetPlane(rng, n, 50, 1) }},
	{"mean1000_sd0.01", func(rng *rand.Rand, n int) []float32 { return offsetPlane(rng, n, 1000, 0.01) }},
	{"tiny", func(rng *rand.Rand, n int) []float32 { return offsetPlane(rng, n, 1e-6, 1e-5) }},
	{"huge", func(rng *rand.Rand, n int) []float32 { return offsetPlane(rng, n, -3e4, 1e4) }},
	{"constant", func(rng *rand.Rand, n int) []float32 { return offsetPlane(rng, n, 0.3, 0) }},
	{"sparse", func(rng *rand.Rand, n int) []float32 {
		s := randTensor(rng, n).Data
		for i := range s {
			if rng.IntN(3) > 0 {
				s[i] = 0
			}
		}
		return s
	}},
}

// offsetPlane returns n values mean + sd·u, u uniform in [-1, 1).
func offsetPlane(rng *rand.Rand, n int, mean, sd float32) []float32 {
	s := randTensor(rng, n).Data
	for i := range s {
		s[i] = mean + sd*s[i]
	}
	return s
}

// sumAbs returns Σ|a| (Σ|a·b| with b), in float64.
func sumAbs(a, b []float32) float64 {
	var s float64
	for i, v := range a {
		if b != nil {
			v *= b[i]
		}
		s += math.Abs(float64(v))
	}
	return s
}

// Bounds of the SIMD block sums against the float64 sums of the scalar
// code (norm_simd_wasm.go): every term of a block passes through four
// float32 additions of the block's tree, so a sum is off by at most
// 4·f32u·Σ|terms| (first order; 4.5 leaves room for the second and for
// float64's own roundings). A product ∂y·x̂ or a square (x − m)² rounds
// once more, and x − m once more again.
const (
	blockSumTol    = 4.5 * f32u
	blockDotTol    = 5.5 * f32u
	blockSquareTol = 7.5 * f32u
)

func TestInstanceNormKernelsMatchScalar(t *testing.T) {
	rng := newRNG(23)
	worst := map[string]float64{} // largest error as a fraction of its bound
	for _, pl := range normPlanes {
		for _, n := range elementwiseLengths() {
			name := fmt.Sprintf("%s/len%d", pl.name, n)
			x := pl.gen(rng, n)

			// Statistics: within the bounds of the block sums.
			mean, inv := normStats(x)
			meanWant, invWant := normStatsScalar(x)
			meanTol := blockSumTol * sumAbs(x, nil) / float64(n)
			if d := math.Abs(mean - meanWant); d > meanTol {
				t.Fatalf("%s: mean %.17g, scalar %.17g: off by %g > %g", name, mean, meanWant, d, meanTol)
			} else if meanTol > 0 {
				worst["mean"] = max(worst["mean"], d/meanTol)
			}
			// The variance is taken about m = float32(μ): its squares
			// are within blockSquareTol of Σ(x − m)²/n = σ² + (μ − m)²,
			// and an error δ of μ moves σ² by δ·(2|μ − m| + δ).
			m := float32(meanWant)
			var sqm float64
			for _, v := range x {
				sqm += (float64(v) - float64(m)) * (float64(v) - float64(m))
			}
			sqm /= float64(n)
			varWant := 1/(invWant*invWant) - InstanceNormEps
			shift := math.Abs(meanWant - float64(m))
			varTol := blockSquareTol*sqm + meanTol*(2*shift+meanTol)
			// 1/√(σ²+ε) moves by half the relative change of σ²+ε, and
			// rounds once or twice in float64 on the way.
			invTol := invWant * (varTol/(2*(varWant+InstanceNormEps)) + 1e-15)
			if d := math.Abs(inv - invWant); d > invTol {
				t.Fatalf("%s: 1/σ %.17g, scalar %.17g: off by %g > %g", name, inv, invWant, d, invTol)
			} else {
				worst["invStd"] = max(worst["invStd"], d/invTol)
			}

			// Normalisation: bit for bit, for given statistics, with and
			// without x̂ and affine parameters.
			for _, aff := range [][2]float32{{1, 0}, {-1.7, 0.3}} {
				m, iv := float32(meanWant), float32(invWant)
				y, xh := make([]float32, n), make([]float32, n)
				yWant, xhWant := make([]float32, n), make([]float32, n)
				normApply(y, xh, x, m, iv, aff[0], aff[1])
				normApplyScalar(yWant, xhWant, x, m, iv, aff[0], aff[1])
				assertSameBits(t, name+"/y", y, yWant)
				assertSameBits(t, name+"/xhat", xh, xhWant)
				y2 := make([]float32, n)
				normApply(y2, nil, x, m, iv, aff[0], aff[1])
				assertSameBits(t, name+"/y_without_xhat", y2, yWant)
			}

			// Backward sums: within the bounds of the block sums.
			xh := make([]float32, n)
			normApplyScalar(make([]float32, n), xh, x, float32(meanWant), float32(invWant), 1, 0)
			dy := randTensor(rng, n).Data
			sumG, sumGX := normGradSums(dy, xh)
			gWant, gxWant := normGradSumsScalar(dy, xh)
			gTol, gxTol := blockSumTol*sumAbs(dy, nil), blockDotTol*sumAbs(dy, xh)
			if d := math.Abs(sumG - gWant); d > gTol {
				t.Fatalf("%s: Σ∂y %.17g, scalar %.17g: off by %g > %g", name, sumG, gWant, d, gTol)
			} else {
				worst["sumG"] = max(worst["sumG"], d/gTol)
			}
			if d := math.Abs(sumGX - gxWant); d > gxTol {
				t.Fatalf("%s: Σ∂y·x̂ %.17g, scalar %.17g: off by %g > %g", name, sumGX, gxWant, d, gxTol)
			} else if gxTol > 0 {
				worst["sumGX"] = max(worst["sumGX"], d/gxTol)
			}

			// Input gradient: bit for bit, for given sums.
			dx := randTensor(rng, n).Data
			dxWant := append([]float32(nil), dx...)
			meanG, meanGX := float32(gWant/float64(n)), float32(gxWant/float64(n))
			normGradApply(dx, dy, xh, 0.8, meanG, meanGX)
			normGradApplyScalar(dxWant, dy, xh, 0.8, meanG, meanGX)
			assertSameBits(t, name+"/dx", dx, dxWant)
		}
	}
	t.Logf("largest errors, as fractions of their bounds: %v", worst)
}

// TestInstanceNorm2DKeepsXhatOnlyForBackward checks that InstanceNorm2D
// allocates x̂ only when backward will run and y cannot stand in for it,
// and that inference (nil tape, or inputs that need no gradient) and
// training give the same output.
func TestInstanceNorm2DKeepsXhatOnlyForBackward(t *testing.T) {
	rng := newRNG(24)
	x := randTensor(rng, 2, 3, 7, 9)
	gamma, beta := randTensor(rng, 3), randTensor(rng, 3)
	for _, affine := range []bool{false, true} {
		g, b := (*Tensor)(nil), (*Tensor)(nil)
		if affine {
			g, b = gamma, beta
		}
		want := InstanceNorm2D(nil, x, g, b).Data

		// Inference on a tape: y is the only buffer.
		tp := NewTape()
		y := InstanceNorm2D(tp, x, g, b)
		assertSameBits(t, fmt.Sprintf("affine=%v/no grad", affine), y.Data, want)
		if tp.next != 1 || tp.Len() != 0 {
			t.Errorf("affine=%v: inference took %d buffers and recorded %d ops, want 1 and 0", affine, tp.next, tp.Len())
		}

		// Training: y, ∂y, 1/σ, and x̂ only when affine.
		tp = NewTape()
		xg := param(FromData(append([]float32(nil), x.Data...), x.Shape...))
		y = InstanceNorm2D(tp, xg, g, b)
		assertSameBits(t, fmt.Sprintf("affine=%v/grad", affine), y.Data, want)
		wantBufs := 3
		if affine {
			wantBufs = 4
		}
		if tp.next != wantBufs {
			t.Errorf("affine=%v: training took %d buffers, want %d", affine, tp.next, wantBufs)
		}
	}
}

// TestReflectionPad2DBackwardMatchesScalar holds ReflectionPad2D's
// backward pass (interior rows through addTo) to the element-by-element
// loop it replaced, bit for bit, on odd plane sizes and the generator's.
func TestReflectionPad2DBackwardMatchesScalar(t *testing.T) {
	rng := newRNG(25)
	for _, c := range []struct{ h, w, pad int }{{7, 9, 1}, {7, 9, 3}, {5, 17, 2}, {4, 4, 3}, {32, 32, 1}, {128, 128, 3}} {
		x := param(randTensor(rng, 2, 3, c.h, c.w))
		tp := NewTape()
		y := ReflectionPad2D(tp, x, c.pad)
		seed := withSpecials(rng, len(y.Data))
		tp.BackwardFrom(y, seed)

		want := make([]float32, len(x.Data))
		oh, ow := c.h+2*c.pad, c.w+2*c.pad
		for p := 0; p < 6; p++ {
			dx := want[p*c.h*c.w : (p+1)*c.h*c.w]
			dy := seed[p*oh*ow : (p+1)*oh*ow]
			for i := 0; i < oh; i++ {
				xrow := dx[reflect(i-c.pad, c.h)*c.w:][:c.w]
				yrow := dy[i*ow : (i+1)*ow]
				for j, g := range yrow[c.pad : c.pad+c.w] {
					xrow[j] += g
				}
				for j := 0; j < c.pad; j++ {
					xrow[c.pad-j] += yrow[j]
					xrow[c.w-2-j] += yrow[c.pad+c.w+j]
				}
			}
		}
		assertSameBits(t, fmt.Sprintf("%dx%d_pad%d", c.h, c.w, c.pad), x.Grad, want)
	}
}

// adamValues returns n values of magnitude scale·u (u uniform in [0, 1)) of
// either sign (only positive with positive), a quarter of them replaced by
// zeros, subnormals, tiny and huge values.
func adamValues(rng *rand.Rand, n int, scale float32, positive bool) []float32 {
	odd := []float32{0, 1e-45, 3e-39, 1e-30, 1e-20, 1e10, 1e19, 1e30, 3e38}
	s := make([]float32, n)
	for i := range s {
		v := scale * rng.Float32()
		if rng.IntN(4) == 0 {
			v = odd[rng.IntN(len(odd))]
		}
		if !positive && rng.IntN(2) == 0 {
			v = -v
		}
		s[i] = v
	}
	return s
}

func TestAdamMatchesScalar(t *testing.T) {
	rng := newRNG(26)
	coeffs := []struct{ lr, beta1, beta2, eps float64 }{
		{2e-4, 0.5, 0.999, 1e-8}, // CycleGAN's
		{1e-3, 0.9, 0.999, 1e-8}, // PyTorch's defaults
		{0.1, 0.0, 0.5, 1e-3},
	}
	for _, c := range coeffs {
		for _, n := range append(elementwiseLengths(), 1000) {
			for step := int64(1); step <= 3; step++ {
				name := fmt.Sprintf("lr%g_b%g_%g/len%d/step%d", c.lr, c.beta1, c.beta2, n, step)
				t1 := float64(step)
				k := adamCoeffs{
					b1: float32(c.beta1), c1: float32(1 - c.beta1),
					b2: float32(c.beta2), c2: float32(1 - c.beta2),
					bc2Sqrt:  float32(math.Sqrt(1 - math.Pow(c.beta2, t1))),
					stepSize: float32(c.lr / (1 - math.Pow(c.beta1, t1))),
					eps:      float32(c.eps),
				}
				p, g := adamValues(rng, n, 1, false), adamValues(rng, n, 1e-2, false)
				m, v := adamValues(rng, n, 1e-2, false), adamValues(rng, n, 1e-4, true)
				pw, mw, vw := append([]float32(nil), p...), append([]float32(nil), m...), append([]float32(nil), v...)
				adamUpdate(p, g, m, v, k)
				adamUpdateScalar(pw, g, mw, vw, k)
				assertSameBits(t, name+"/m", m, mw)
				assertSameBits(t, name+"/v", v, vw)
				assertSameBits(t, name+"/param", p, pw)
			}
		}
	}
}
