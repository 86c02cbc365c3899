package engine

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/cyclegan-wasm/cyclegan/engine/safetensors"
)

// fixturePath holds PyTorch's answers for every op of the engine, made by
// testdata/make_fixtures.py (see its docstring for the layout; regenerate
// with `/usr/bin/python3 engine/testdata/make_fixtures.py` from the
// repository root). Tests run in the package directory, natively and under
// wasmbrowsertest alike.
const fixturePath = "testdata/ops.safetensors"

// f32u is the unit roundoff of float32, 2⁻²⁴: one correctly rounded
// operation changes its result by at most f32u times its magnitude (half an
// ulp; an ulp is at most 2·f32u times the value).
const f32u = 0x1p-24

// Tolerances. PyTorch (oneDNN convolutions, vectorised kernels, its own
// summation orders) and the engine (packed GEMM, float64 plane statistics)
// round differently, so results agree only to within the rounding errors of
// the two computations, which grow with the number and size of the terms
// each output sums. Every input of the single-op fixtures is in [-1, 1),
// so a product term is smaller than 1 in magnitude. Ops that round once,
// the same way on both sides (copies, selections, a + b, float32(s)·x),
// must agree bit for bit.
//
// sumTol is the allowance for two float32 sums of the same n terms of
// magnitude below mag, computed in different orders. A recursive sum
// commits n roundings, each at most f32u times a partial sum below n·mag,
// so in the worst case it is off by ≈ f32u·n²·mag; but with terms of random
// sign the partial sums stay near √n·mag and the roundings cancel like a
// random walk, leaving about f32u·n·mag/4, and blocked or pairwise sums
// (oneDNN, the GEMM's k-blocks) do better still. We allow 2·f32u·n·mag per
// side, several times the typical error (the largest difference observed is
// 0.27 of it) and far below a real bug, which moves a result by about mag.
func sumTol(n int, mag float64) float64 { return 4 * f32u * float64(n) * mag }

// fixtureParams is the "__metadata__" entry of one case: its op and the
// op's hyper-parameters. Decoding rejects unknown fields, so a parameter
// the file sets and this test would ignore fails the test instead.
type fixtureParams struct {
	Op            string    `json:"op"`
	Stride        int       `json:"stride"`
	Padding       int       `json:"padding"`
	OutputPadding int       `json:"output_padding"`
	Bias          bool      `json:"bias"`
	Pad           int       `json:"pad"`
	Affine        bool      `json:"affine"`
	Eps           float64   `json:"eps"`
	Slope         float64   `json:"slope"`
	Scale         float64   `json:"scale"`
	SameInput     bool      `json:"same_input"`
	Target        float64   `json:"target"`
	Layers        []string  `json:"layers"`
	LR            []float64 `json:"lr"`
	Beta1         float64   `json:"beta1"`
	Beta2         float64   `json:"beta2"`
	Params        []string  `json:"params"`
	Steps         int       `json:"steps"`
}

// fixtureOps runs one case of each op: it reads the inputs, runs the
// engine and checks the outputs and gradients against the file.
var fixtureOps = map[string]func(c *fixtureCase){
	"conv2d":          runConv2DFixture,
	"convtranspose2d": runConvTranspose2DFixture,
	"reflectionpad2d": runReflectionPadFixture,
	"instancenorm2d":  runInstanceNormFixture,
	"relu":            runReLUFixture,
	"leakyrelu":       runLeakyReLUFixture,
	"tanh":            runTanhFixture,
	"add":             runAddFixture,
	"scale":           runScaleFixture,
	"mean":            runMeanFixture,
	"l1":              runL1Fixture,
	"mse":             runMSEFixture,
	"composite":       runCompositeFixture,
	"adam":            runAdamFixture,
}

// fileInfoKeys are the metadata entries that describe the file, not a case.
var fileInfoKeys = []string{"generator", "torch"}

// TestPyTorchFixtures runs every case of the fixture file: the forward
// output and the gradient of every input and parameter must match
// PyTorch's. A case whose op has no runner, a parameter the runner does not
// understand, or a tensor of the file the runner never reads fails the
// test, so fixtures cannot be skipped silently; so does a missing file.
func TestPyTorchFixtures(t *testing.T) {
	f, err := safetensors.ReadFile(fixturePath)
	if err != nil {
		t.Fatalf("reading the PyTorch fixtures: %v (regenerate with /usr/bin/python3 engine/testdata/make_fixtures.py)", err)
	}
	roles := map[string]map[string]bool{} // case → roles not yet read
	for key := range f.Metadata {
		switch {
		case strings.Contains(key, "/"):
			roles[key] = map[string]bool{}
		case !slices.Contains(fileInfoKeys, key):
			t.Errorf("metadata key %q is neither a case (<family>/<variant>) nor one of %v", key, fileInfoKeys)
		}
	}
	for _, name := range f.Names() {
		i := strings.LastIndexByte(name, '/')
		if i < 0 || roles[name[:i]] == nil {
			t.Errorf("tensor %q belongs to no case of the metadata", name)
			continue
		}
		roles[name[:i]][name[i+1:]] = true
	}
	if len(roles) == 0 {
		t.Fatal("the fixture file has no cases")
	}
	t.Logf("%d cases from %s, torch %s", len(roles), f.Metadata["generator"], f.Metadata["torch"])

	// Decode every case's metadata up front, so that the check that every
	// op has a case holds whatever -run selects.
	params := map[string]fixtureParams{}
	ops := map[string]int{}
	for name := range roles {
		var p fixtureParams
		dec := json.NewDecoder(strings.NewReader(f.Metadata[name]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			t.Errorf("metadata of %s, %s: %v", name, f.Metadata[name], err)
			continue
		}
		params[name] = p
		ops[p.Op]++
	}
	for op := range fixtureOps {
		if ops[op] == 0 {
			t.Errorf("the fixture file has no case for op %q", op)
		}
	}

	for _, name := range slices.Sorted(mapKeys(params)) {
		t.Run(name, func(t *testing.T) {
			p := params[name]
			run := fixtureOps[p.Op]
			if run == nil {
				t.Fatalf("op %q has no runner in fixture_test.go", p.Op)
			}
			c := &fixtureCase{t: t, name: name, file: f, p: p, unread: roles[name]}
			run(c)
			if t.Failed() {
				return
			}
			for _, role := range slices.Sorted(mapKeys(c.unread)) {
				t.Errorf("%s/%s is in the fixture file but the test never reads it", name, role)
			}
		})
	}
}

func mapKeys[V any](m map[string]V) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// fixtureCase is one case of the file being run.
type fixtureCase struct {
	t      *testing.T
	name   string
	file   *safetensors.File
	p      fixtureParams
	unread map[string]bool
}

// data returns the values and shape of <case>/<role>, failing the test if
// it is missing, and marks it read.
func (c *fixtureCase) data(role string) ([]float32, []int) {
	c.t.Helper()
	st, ok := c.file.Tensors[c.name+"/"+role]
	if !ok {
		c.t.Fatalf("the fixture file has no tensor %s/%s", c.name, role)
	}
	v, err := st.Float32s()
	if err != nil {
		c.t.Fatalf("%s/%s: %v", c.name, role, err)
	}
	delete(c.unread, role)
	return v, st.Shape
}

// seed returns the upstream gradient dy of the case, checking that it has
// the shape of the output y it is for.
func (c *fixtureCase) seed(y *Tensor) []float32 {
	c.t.Helper()
	v, shape := c.data("dy")
	if !slices.Equal(shape, y.Shape) {
		c.t.Fatalf("dy has shape %v, the output %v", shape, y.Shape)
	}
	return v
}

// tensor returns <case>/<role> as a tensor that wants no gradient.
func (c *fixtureCase) tensor(role string) *Tensor {
	c.t.Helper()
	v, shape := c.data(role)
	return FromData(v, shape...)
}

// leaf returns <case>/<role> as a leaf that wants its gradient.
func (c *fixtureCase) leaf(role string) *Tensor {
	c.t.Helper()
	return param(c.tensor(role))
}

// check compares got, of the given shape, with <case>/<role> to within
// atol + rtol·|want|, logging the largest difference.
func (c *fixtureCase) check(role string, got []float32, shape []int, atol, rtol float64) {
	c.t.Helper()
	want, wantShape := c.data(role)
	if !slices.Equal(shape, wantShape) {
		c.t.Fatalf("%s: shape %v, PyTorch has %v", role, shape, wantShape)
	}
	_, worst := closeTo(got, want, math.Inf(1), 0)
	c.t.Logf("%-22s max |Δ| %.3g (atol %.3g, rtol %.3g)", role, worst, atol, rtol)
	assertClose(c.t, c.name+"/"+role, got, want, atol, rtol)
}

// checkOut compares an op's output with <case>/<role>.
func (c *fixtureCase) checkOut(role string, y *Tensor, atol, rtol float64) {
	c.t.Helper()
	c.check(role, y.Data, y.Shape, atol, rtol)
}

// checkGrad compares the gradient a leaf accumulated with <case>/<role>.
func (c *fixtureCase) checkGrad(role string, leaf *Tensor, atol, rtol float64) {
	c.t.Helper()
	c.check(role, leaf.Grad, leaf.Shape, atol, rtol)
}

func maxAbs(v []float32) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, math.Abs(float64(x)))
	}
	return m
}

// optionalBias returns the bias leaf when the case has one.
func (c *fixtureCase) optionalBias() *Tensor {
	if c.p.Bias {
		return c.leaf("bias")
	}
	return nil
}

func runConv2DFixture(c *fixtureCase) {
	x, w, b := c.leaf("x"), c.leaf("weight"), c.optionalBias()
	n, ch, _, _ := x.Dims()
	o, _, kh, kw := w.Dims()
	tp := NewTape()
	y := Conv2D(tp, x, w, b, c.p.Stride, c.p.Padding)
	_, _, oh, ow := y.Dims()
	// y sums C·KH·KW products x·w and the bias.
	c.checkOut("y", y, sumTol(ch*kh*kw+1, 1), 0)
	tp.BackwardFrom(y, c.seed(y))
	// ∂x sums at most O·KH·KW products ∂y·w.
	c.checkGrad("grad_x", x, sumTol(o*kh*kw, 1), 0)
	// ∂w and ∂b sum N·OH·OW products ∂y·x, or values of ∂y.
	c.checkGrad("grad_weight", w, sumTol(n*oh*ow, 1), 0)
	if b != nil {
		c.checkGrad("grad_bias", b, sumTol(n*oh*ow, 1), 0)
	}
}

func runConvTranspose2DFixture(c *fixtureCase) {
	x, w, b := c.leaf("x"), c.leaf("weight"), c.optionalBias()
	n, ch, h, wd := x.Dims()
	_, o, kh, kw := w.Dims()
	tp := NewTape()
	y := ConvTranspose2D(tp, x, w, b, c.p.Stride, c.p.Padding, c.p.OutputPadding)
	_, _, oh, ow := y.Dims()
	// y sums at most C·KH·KW products x·w (fewer when strided) and the bias.
	c.checkOut("y", y, sumTol(ch*kh*kw+1, 1), 0)
	tp.BackwardFrom(y, c.seed(y))
	// ∂x is a convolution of ∂y: O·KH·KW products ∂y·w.
	c.checkGrad("grad_x", x, sumTol(o*kh*kw, 1), 0)
	// ∂w sums N·H·W products x·∂y; ∂b sums N·OH·OW values of ∂y.
	c.checkGrad("grad_weight", w, sumTol(n*h*wd, 1), 0)
	if b != nil {
		c.checkGrad("grad_bias", b, sumTol(n*oh*ow, 1), 0)
	}
}

func runReflectionPadFixture(c *fixtureCase) {
	x := c.leaf("x")
	tp := NewTape()
	y := ReflectionPad2D(tp, x, c.p.Pad)
	// A copy: bit for bit.
	c.checkOut("y", y, 0, 0)
	tp.BackwardFrom(y, c.seed(y))
	// An input pixel gathers its own gradient and at most two reflections
	// per axis (pad = size−1 reaches both edges): at most 9 values of ∂y,
	// added in an order that may differ from PyTorch's.
	c.checkGrad("grad_x", x, sumTol(9, 1), 0)
}

// planeStats returns, over the image planes of x, the largest |x|/σ
// (kappa), the largest |x − μ|/σ (xhatMax) and the largest 1/σ.
func planeStats(x *Tensor) (kappa, xhatMax, invStdMax float64) {
	n, c, h, w := x.Dims()
	hw := h * w
	for p := 0; p < n*c; p++ {
		plane := x.Data[p*hw : (p+1)*hw]
		var s float64
		for _, v := range plane {
			s += float64(v)
		}
		mean := s / float64(hw)
		var sq float64
		for _, v := range plane {
			sq += (float64(v) - mean) * (float64(v) - mean)
		}
		inv := 1 / math.Sqrt(sq/float64(hw)+InstanceNormEps)
		kappa = max(kappa, maxAbs(plane)*inv)
		for _, v := range plane {
			xhatMax = max(xhatMax, math.Abs(float64(v)-mean)*inv)
		}
		invStdMax = max(invStdMax, inv)
	}
	return kappa, xhatMax, invStdMax
}

func runInstanceNormFixture(c *fixtureCase) {
	if c.p.Eps != InstanceNormEps {
		c.t.Fatalf("PyTorch used eps %g, the engine has %g", c.p.Eps, InstanceNormEps)
	}
	x := c.leaf("x")
	var gamma, beta *Tensor
	gMax, bMax := 1.0, 0.0
	if c.p.Affine {
		gamma, beta = c.leaf("gamma"), c.leaf("beta")
		gMax, bMax = maxAbs(gamma.Data), maxAbs(beta.Data)
	}
	n, _, h, w := x.Dims()
	tp := NewTape()
	y := InstanceNorm2D(tp, x, gamma, beta)
	// x̂ = (x − μ)/σ is computed from float32 values of size up to |x|
	// (the input, and μ rounded to float32), so its absolute rounding error
	// is a few f32u·|x|/σ = f32u·κ: κ ≈ 1.7 for inputs in [-1, 1), ≈ 90 in
	// the mean-50 cases, where PyTorch's own output is ≈ f32u·κ/2 away from
	// the float64 answer (make_fixtures.py prints it). y =
	// γ·x̂ + β, below κ·|γ| + |β|, rounds twice more on each side, so each
	// side is within about 4·f32u·(κ·|γ| + |β|) and the two within twice
	// that. A variance taken as E[x²] − μ² in float32 would be off by
	// ≈ f32u·κ²: 10 times that in the mean-50 cases.
	kappa, xhatMax, invStd := planeStats(x)
	c.checkOut("y", y, 8*f32u*(kappa*gMax+bMax), 0)
	tp.BackwardFrom(y, c.seed(y))
	// ∂x = γ/σ·(∂y − mean ∂y − x̂·mean(∂y·x̂)): the error of x̂ (f32u·κ)
	// times mean(∂y·x̂) (below max|x̂|), plus a few roundings of the three
	// terms (below 1, 1 and max|x̂|²), all scaled by γ/σ.
	c.checkGrad("grad_x", x, 4*f32u*gMax*invStd*(kappa*xhatMax+2+xhatMax*xhatMax), 0)
	if c.p.Affine {
		// ∂γ sums N·H·W products ∂y·x̂. x̂ carries two errors: a few
		// roundings of its own (2·f32u·max|x̂|, inside the 2·max|x̂| term
		// size), and a shift of the whole plane by up to f32u·κ from μ
		// rounded to float32, which multiplies Σ∂y, a sum of N·H·W values
		// of random sign below 1: about √(N·H·W), allowed four times.
		// ∂β sums N·H·W values of ∂y.
		nhw := float64(n * h * w)
		c.checkGrad("grad_gamma", gamma, sumTol(n*h*w, 2*xhatMax)+4*f32u*kappa*math.Sqrt(nhw), 0)
		c.checkGrad("grad_beta", beta, sumTol(n*h*w, 1), 0)
	}
}

func runReLUFixture(c *fixtureCase) {
	x := c.leaf("x")
	tp := NewTape()
	y := ReLU(tp, x)
	// Inputs are at least 0.05 from the kink: a selection, bit for bit.
	c.checkOut("y", y, 0, 0)
	tp.BackwardFrom(y, c.seed(y))
	c.checkGrad("grad_x", x, 0, 0)
}

func runLeakyReLUFixture(c *fixtureCase) {
	x := c.leaf("x")
	tp := NewTape()
	y := LeakyReLU(tp, x, float32(c.p.Slope))
	// Inputs are at least 0.05 from the kink; both sides compute
	// float32(slope)·x with one rounding: bit for bit.
	c.checkOut("y", y, 0, 0)
	tp.BackwardFrom(y, c.seed(y))
	c.checkGrad("grad_x", x, 0, 0)
}

func runTanhFixture(c *fixtureCase) {
	x := c.leaf("x")
	tp := NewTape()
	y := Tanh(tp, x)
	// PyTorch's vectorised tanhf is within 1 ulp, the engine's (float64
	// tanh, rounded) within ½ ulp: 1.5 ulp ≤ 3·f32u·|y|.
	c.checkOut("y", y, 0, 4*f32u)
	tp.BackwardFrom(y, c.seed(y))
	// ∂y·(1 − y²): y off by 3·f32u·|y| moves 1 − y² by ≤ 6·f32u·y², plus
	// three roundings of values below 1.
	c.checkGrad("grad_x", x, 10*f32u, 0)
}

func runAddFixture(c *fixtureCase) {
	a := c.leaf("a")
	b := a
	if !c.p.SameInput {
		b = c.leaf("b")
	}
	tp := NewTape()
	y := Add(tp, a, b)
	// One rounding on both sides: bit for bit. So are the gradients: ∂y,
	// or ∂y + ∂y for a + a.
	c.checkOut("y", y, 0, 0)
	tp.BackwardFrom(y, c.seed(y))
	c.checkGrad("grad_a", a, 0, 0)
	if !c.p.SameInput {
		c.checkGrad("grad_b", b, 0, 0)
	}
}

func runScaleFixture(c *fixtureCase) {
	x := c.leaf("x")
	tp := NewTape()
	y := Scale(tp, x, float32(c.p.Scale))
	// PyTorch multiplies a float32 tensor by a Python float as float32:
	// float32(s)·x, one rounding, as the engine: bit for bit.
	c.checkOut("y", y, 0, 0)
	tp.BackwardFrom(y, c.seed(y))
	c.checkGrad("grad_x", x, 0, 0)
}

func runMeanFixture(c *fixtureCase) {
	x := c.leaf("x")
	tp := NewTape()
	y := Mean(tp, x)
	// PyTorch sums in float32, the engine in float64: the sum of len(x)
	// values below 1, divided by len(x).
	c.checkOut("y", y, sumTol(x.Len(), 1)/float64(x.Len()), 0)
	tp.BackwardFrom(y, c.seed(y))
	// ∂y / len(x), one rounding on both sides.
	c.checkGrad("grad_x", x, 0, 2*f32u)
}

func runL1Fixture(c *fixtureCase) {
	a, b := c.leaf("a"), c.leaf("b")
	tp := NewTape()
	y := L1(tp, a, b)
	// |a − b| < 2 summed over len(a) terms, divided by len(a).
	c.checkOut("y", y, sumTol(a.Len(), 2)/float64(a.Len()), 0)
	tp.BackwardFrom(y, c.seed(y))
	// |a − b| ≥ 0.04, so the signs agree; ±∂y/len, one rounding.
	c.checkGrad("grad_a", a, 0, 2*f32u)
	c.checkGrad("grad_b", b, 0, 2*f32u)
}

func runMSEFixture(c *fixtureCase) {
	x := c.leaf("x")
	tp := NewTape()
	y := MSE(tp, x, float32(c.p.Target))
	// (x − t)² < 4 summed over len(x) terms, divided by len(x).
	c.checkOut("y", y, sumTol(x.Len(), 4)/float64(x.Len()), 0)
	tp.BackwardFrom(y, c.seed(y))
	// 2·(x − t)·∂y/len: three or four roundings, in a different order.
	c.checkGrad("grad_x", x, 0, 8*f32u)
}

// compositeLayers is what runCompositeFixture builds; the file must
// describe the same network.
var compositeLayers = []string{
	"reflectionpad2d(3)",
	"conv1: conv2d(3->4, k7, s1, p0)",
	"instancenorm2d(affine=False)",
	"relu",
	"conv2: conv2d(4->8, k3, s2, p1)",
	"convt: convtranspose2d(8->4, k3, s2, p1, output_padding=1)",
	"tanh",
}

func runCompositeFixture(c *fixtureCase) {
	if !slices.Equal(c.p.Layers, compositeLayers) {
		c.t.Fatalf("the file's network is %q, the test builds %q", c.p.Layers, compositeLayers)
	}
	x := c.leaf("x")
	w1, b1 := c.leaf("conv1_weight"), c.leaf("conv1_bias")
	w2, b2 := c.leaf("conv2_weight"), c.leaf("conv2_bias")
	wt, bt := c.leaf("convt_weight"), c.leaf("convt_bias")
	tp := NewTape()
	padded := ReflectionPad2D(tp, x, 3)
	h1 := Conv2D(tp, padded, w1, b1, 1, 0)
	h3 := ReLU(tp, InstanceNorm2D(tp, h1, nil, nil))
	h4 := Conv2D(tp, h3, w2, b2, 2, 1)
	h5 := ConvTranspose2D(tp, h4, wt, bt, 2, 1, 1)
	y := Tanh(tp, h5)
	// Rounding errors compound along the path: conv1 sums 3·49 products,
	// conv2 4·9 and the transposed conv 8·9, and the instance norm only
	// rescales. PyTorch's default initialisation (weights below
	// 1/√fan_in) keeps every activation of order 1, so y is allowed
	// sumTol of all 255 terms of the path.
	const pathTerms = 3*49 + 4*9 + 8*9
	c.checkOut("y", y, sumTol(pathTerms, 1), 0)
	tp.BackwardFrom(y, c.seed(y))
	// A gradient sums products (∂output of its layer)·(input of its layer),
	// or values of ∂output for a bias, and inherits the errors of the
	// forward and backward passes through the rest of the path: sumTol of
	// twice the path's terms, scaled by the size of its own terms. The
	// scale comes from the engine's intermediate tensors, not from the
	// expected value, because ∂conv1_bias is exactly 0 in exact arithmetic
	// (the instance norm removes any constant added to its plane) and what
	// both sides compute is rounding noise of a sum of ∂h1.
	for _, g := range []struct {
		role  string
		leaf  *Tensor
		scale float64
	}{
		{"grad_x", x, maxAbs(padded.Grad)},
		{"grad_conv1_weight", w1, maxAbs(h1.Grad) * maxAbs(padded.Data)},
		{"grad_conv1_bias", b1, maxAbs(h1.Grad)},
		{"grad_conv2_weight", w2, maxAbs(h4.Grad) * maxAbs(h3.Data)},
		{"grad_conv2_bias", b2, maxAbs(h4.Grad)},
		{"grad_convt_weight", wt, maxAbs(h5.Grad) * maxAbs(h4.Data)},
		{"grad_convt_bias", bt, maxAbs(h5.Grad)},
	} {
		c.checkGrad(g.role, g.leaf, sumTol(2*pathTerms, g.scale), 0)
	}
}

func runAdamFixture(c *fixtureCase) {
	if len(c.p.LR) != c.p.Steps || c.p.Steps == 0 {
		c.t.Fatalf("%d learning rates for %d steps", len(c.p.LR), c.p.Steps)
	}
	params := make([]*Tensor, len(c.p.Params))
	for i, name := range c.p.Params {
		params[i] = c.leaf(name)
	}
	opt := NewAdam(params, c.p.LR[0], c.p.Beta1, c.p.Beta2)
	if opt.Eps != c.p.Eps {
		c.t.Fatalf("PyTorch used eps %g, the engine %g", c.p.Eps, opt.Eps)
	}
	lrSum := 0.0
	for k := 1; k <= c.p.Steps; k++ {
		opt.LR = c.p.LR[k-1]
		lrSum += opt.LR
		opt.ZeroGrad()
		for i, name := range c.p.Params {
			g, shape := c.data(fmt.Sprintf("grad_%s_step%d", name, k))
			if !slices.Equal(shape, params[i].Shape) {
				c.t.Fatalf("gradient of %s at step %d has shape %v, the parameter %v", name, k, shape, params[i].Shape)
			}
			copy(params[i].Grad, g)
		}
		opt.Step()
		for i, name := range c.p.Params {
			// The update, m̂/(√v̂ + ε) times the rate, is at most a few
			// times LR in size and carries about eight roundings (moments,
			// square root, divisions); θ − update rounds once more, by at
			// most ½ ulp ≤ f32u·|θ|, on each side. Over k steps these add
			// up to 8·f32u·ΣLR + 2k·f32u·|θ|.
			c.check(fmt.Sprintf("%s_step%d", name, k), params[i].Data, params[i].Shape,
				8*f32u*lrSum, float64(k)*2*f32u)
		}
	}
}
