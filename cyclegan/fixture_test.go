package cyclegan

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/cyclegan-wasm/cyclegan/engine"
	"github.com/cyclegan-wasm/cyclegan/engine/safetensors"
)

// trainFixturePath holds three training iterations of the official PyTorch
// CycleGAN on a tiny configuration, made by testdata/make_train_fixture.py
// (see its docstring for what it pins and the layout; regenerate with
// `/usr/bin/python3 cyclegan/testdata/make_train_fixture.py` from the
// repository root). Tests run in the package directory, natively and under
// wasmbrowsertest alike.
const trainFixturePath = "testdata/train_fixture.safetensors"

// trainFixtureConfig is the configuration of the fixture: the reference's
// defaults at 32 px, ngf 4, one residual block, ndf 8, three layers, and a
// learning rate that stays constant for the three iterations.
func trainFixtureConfig() Config {
	c := DefaultConfig()
	c.CropSize, c.LoadSize = 32, 32
	c.Flip = false
	c.NGF, c.Blocks, c.NDF, c.DLayers = 4, 1, 8, 3
	c.PoolSize = 50
	c.ConstantIters = 1 << 20
	return c
}

// Tolerances. PyTorch (oneDNN convolutions, its own summation orders,
// float32 plane statistics) and the engine (packed GEMM, float64 sums in
// the norms and losses) round differently, so the two runs agree to within
// the rounding error of float32 arithmetic, not bit for bit. The fixture's
// images are chosen (see make_train_fixture.py) so that no ReLU or
// LeakyReLU input of the three iterations lies within that rounding noise
// of zero: otherwise the two runs may take different branches there, which
// is a legitimate float32 divergence but, in the discriminator's 4×4 and
// 3×3 planes, moves whole gradients by percents.
//
// Observed (amd64 and wasm, torch 1.13): losses within 1.1e-6 relative at
// every iteration; weights within 3.5e-7 after one and after three steps,
// none beyond fixtureParamTightTol; Adam's moments within 1.1e-5 of their
// tensor's largest element.
const (
	// fixtureLossRelTol bounds |Go − PyTorch| / |PyTorch| for every loss term of
	// every iteration. A loss is the end of a chain of about 20 layers per
	// generator pass, each a float32 sum of up to 16·64 = 1024 products,
	// computed in different orders: a relative difference of a few 1e-7
	// per layer, ~1e-6 in all. At iterations 1 and 2 the weights also
	// differ, by at most fixtureParamTightTol (~1e-5 of a weight of magnitude
	// 0.02–0.08) in a few elements and far less in most, which moves a
	// loss by less than that. 2e-5 leaves 20× headroom over what we see;
	// the weakest real bug (an identity weight of 0.4 instead of 0.5, a
	// wrong update order) moves a term by 1e-3 to 1e-1.
	fixtureLossRelTol = 2e-5
	// fixtureLossAbsTol is the floor for terms near zero (none is, at these
	// weights: the smallest is ~0.44).
	fixtureLossAbsTol = 1e-6

	// fixtureParamTightTol bounds |Go − PyTorch| for an element of a weight after
	// one or three Adam steps in the well-conditioned case. Adam's first
	// step moves each weight by lr·g/(|g|+ε) ≈ ±lr, whatever the size of
	// the gradient g, and the later steps by lr·m̂/(√v̂+ε), a ratio of
	// moments: both are insensitive to the relative rounding error of g
	// (~1e-5), so the weights agree to a few ulp of their magnitude
	// (~0.02–0.08, ulp ~4e-9) plus lr·1e-5 ≈ 2e-9; where |g| is only a few
	// ε = 1e-8 the step depends on |g| itself and the difference grows to
	// ~lr·1e-3 = 2e-7. 1e-6 is 0.5% of one step of lr = 2e-4: any wrong
	// gradient sign, wrong step size or wrong update order shows up as a
	// difference of ~lr or more.
	fixtureParamTightTol = 1e-6
	// fixtureParamBeyondFrac is the fraction of elements (over all four
	// networks, biases in front of an instance norm excluded, see
	// fixtureParamHardTol) allowed beyond fixtureParamTightTol. Where the true gradient
	// of a weight is within rounding noise of zero, m̂/√v̂ is
	// ill-conditioned: the noise decides the sign and size of the step,
	// and the two implementations may move that weight by up to
	// fixtureAdamMoveBound·lr each, in opposite directions (fixtureParamHardTol still
	// bounds it). Such elements must be rare: 1e-4 of the ~106k weights,
	// about ten. (None occurs in this fixture; a branch taken differently
	// at one discriminator activation put 0.1% of the weights 2·lr apart.)
	fixtureParamBeyondFrac = 1e-4
)

// fixtureAdamMoveBound is the largest |m̂|/√v̂ that Adam can reach at step t
// (ε neglected), the factor by which one step can exceed lr in magnitude:
// m̂ = Σ aᵢgᵢ and v̂ = Σ bᵢgᵢ² with aᵢ = (1−β1)β1^(t−i)/(1−β1ᵗ) and
// bᵢ = (1−β2)β2^(t−i)/(1−β2ᵗ), so by Cauchy–Schwarz |m̂|/√v̂ ≤ √(Σ aᵢ²/bᵢ).
// It is 1 at step 1, 1.054 at step 2 and 1.134 at step 3 for β (0.5, 0.999).
func fixtureAdamMoveBound(t int, beta1, beta2 float64) float64 {
	var s float64
	for i := 1; i <= t; i++ {
		a := (1 - beta1) * math.Pow(beta1, float64(t-i)) / (1 - math.Pow(beta1, float64(t)))
		b := (1 - beta2) * math.Pow(beta2, float64(t-i)) / (1 - math.Pow(beta2, float64(t)))
		s += a * a / b
	}
	return math.Sqrt(s)
}

// fixtureParamHardTol is the bound on |Go − PyTorch| for every element after
// `steps` Adam steps from the same weights: each implementation moves an
// element by at most fixtureAdamMoveBound(t)·lr at step t, so even an element
// whose gradient is pure rounding noise, stepped in opposite directions
// every time, differs by at most 2·lr·Σₜ fixtureAdamMoveBound(t) (4e-4 after one
// step, 1.28e-3 after three), plus fixtureParamTightTol for the rounding of the
// rest. That covers the biases of convolutions followed by an instance
// norm: the norm subtracts the plane mean, so their true gradient is
// exactly zero and their computed one is rounding noise in both
// implementations (they do not affect any output, so their deviation does
// not propagate).
func fixtureParamHardTol(cfg Config, steps int) float64 {
	var s float64
	for t := 1; t <= steps; t++ {
		s += fixtureAdamMoveBound(t, cfg.Beta1, cfg.Beta2)
	}
	return 2*cfg.LR*s + fixtureParamTightTol
}

// Adam's moments after three steps: exp_avg is a weighted mean of the
// three gradients and exp_avg_sq one of their squares. The gradients of
// the two runs differ by the float32 rounding of the backward pass (~1e-6
// to 1e-5 relative, as the losses) and, at iterations 1 and 2, by the
// effect of weights that differ by at most fixtureParamTightTol. We compare each
// element relative to the largest magnitude of its tensor: an element much
// smaller than the largest is a near-cancellation of the gradients of the
// three steps and carries its absolute error only. 1e-4 is ten times what
// we see; a wrong β, a missing or doubled gradient term moves the moments
// by 1e-2 or more.
const fixtureMomentRelTol = 1e-4

// fixtureNormedBias reports whether a parameter is the bias of a convolution
// followed by an instance norm without affine parameters: every bias of
// the generator but the last convolution's, every bias of the
// discriminator but those of the first and the last convolutions.
func fixtureNormedBias(net Network, name string) bool {
	if !strings.HasSuffix(name, ".bias") {
		return false
	}
	ps := net.Parameters()
	switch net.(type) {
	case *Generator:
		return name != ps[len(ps)-1].Name
	case *Discriminator:
		return name != ps[1].Name && name != ps[len(ps)-1].Name
	}
	panic(fmt.Sprintf("fixtureNormedBias: unknown network %T", net))
}

// trainFixture is the loaded file, with the tensors not yet read.
type trainFixture struct {
	t      *testing.T
	file   *safetensors.File
	unread map[string]bool
}

func (f *trainFixture) get(name string) ([]float32, []int) {
	f.t.Helper()
	st, ok := f.file.Tensors[name]
	if !ok {
		f.t.Fatalf("the fixture has no tensor %s", name)
	}
	v, err := st.Float32s()
	if err != nil {
		f.t.Fatalf("%s: %v", name, err)
	}
	delete(f.unread, name)
	return v, st.Shape
}

func (f *trainFixture) scalar(name string) float64 {
	f.t.Helper()
	v, shape := f.get(name)
	if len(v) != 1 || len(shape) != 0 {
		f.t.Fatalf("%s: shape %v, want a scalar", name, shape)
	}
	return float64(v[0])
}

func (f *trainFixture) image(name string, size int) *engine.Tensor {
	f.t.Helper()
	v, shape := f.get(name)
	if !slices.Equal(shape, []int{1, 3, size, size}) {
		f.t.Fatalf("%s: shape %v, want [1 3 %d %d]", name, shape, size, size)
	}
	return engine.FromData(v, shape...)
}

// TestTrainingMatchesPyTorch starts a Trainer from PyTorch's initial
// weights, runs three iterations on the fixture's images and checks every
// loss of every iteration, every weight after the first and the last
// iteration, and a sample of Adam's moments against PyTorch's run.
func TestTrainingMatchesPyTorch(t *testing.T) {
	file, err := safetensors.ReadFile(trainFixturePath)
	if err != nil {
		t.Fatalf("reading the PyTorch training fixture: %v (regenerate with /usr/bin/python3 cyclegan/testdata/make_train_fixture.py)", err)
	}
	f := &trainFixture{t: t, file: file, unread: map[string]bool{}}
	for _, name := range file.Names() {
		f.unread[name] = true
	}
	t.Logf("%d tensors from %s, torch %s, image variant %s, kink margins %s", len(file.Tensors),
		file.Metadata["generator"], file.Metadata["torch"], file.Metadata["variant"], file.Metadata["kink_margins"])

	cfg := trainFixtureConfig()
	checkTrainFixtureConfig(t, file.Metadata["config"], cfg)
	iters := 3
	tr, err := NewTrainer(cfg)
	if err != nil {
		t.Fatal(err)
	}

	// Overwrite every parameter with PyTorch's initial weights, by name.
	for _, nn := range tr.Networks() {
		for _, p := range nn.Net.Parameters() {
			v, shape := f.get("init/" + nn.Name + "." + p.Name)
			if !slices.Equal(shape, p.Tensor.Shape) {
				t.Fatalf("init/%s.%s: shape %v in the fixture, %v in Go", nn.Name, p.Name, shape, p.Tensor.Shape)
			}
			copy(p.Tensor.Data, v)
		}
	}
	for name := range f.unread {
		if strings.HasPrefix(name, "init/") {
			t.Errorf("%s is in the fixture but has no Go parameter", name)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	for it := 0; it < iters; it++ {
		realA := f.image(fmt.Sprintf("input/A%d", it), cfg.CropSize)
		realB := f.image(fmt.Sprintf("input/B%d", it), cfg.CropSize)
		got, err := tr.Step(realA, realB)
		if err != nil {
			t.Fatalf("iteration %d: %v", it, err)
		}
		terms := []struct {
			name string
			got  float64
		}{
			{"G_A", got.GA}, {"G_B", got.GB}, {"cycle_A", got.CycleA}, {"cycle_B", got.CycleB},
			{"idt_A", got.IdtA}, {"idt_B", got.IdtB}, {"G", got.G}, {"D_A", got.DA}, {"D_B", got.DB},
		}
		var worst float64
		var worstName string
		for _, term := range terms {
			want := f.scalar(fmt.Sprintf("iter%d/loss_%s", it, term.name))
			diff := math.Abs(term.got - want)
			rel := diff / math.Max(math.Abs(want), fixtureLossAbsTol)
			if rel > worst {
				worst, worstName = rel, term.name
			}
			if diff > fixtureLossRelTol*math.Abs(want)+fixtureLossAbsTol {
				t.Errorf("iteration %d: loss %s = %.7g, PyTorch %.7g (|diff| %.3g, relative %.3g > %.0e)",
					it, term.name, term.got, want, diff, rel, fixtureLossRelTol)
			}
		}
		t.Logf("iteration %d: losses: largest relative difference %.2g (%s; tolerance %.0e)", it, worst, worstName, fixtureLossRelTol)

		switch it {
		case 0:
			compareTrainFixtureParams(t, f, tr, "iter0", 1)
		case iters - 1:
			compareTrainFixtureParams(t, f, tr, "final", iters)
		}
	}
	compareTrainFixtureMoments(t, f, tr, iters)

	for _, name := range slices.Sorted(maps.Keys(f.unread)) {
		t.Errorf("%s is in the fixture but the test never reads it", name)
	}
}

// checkTrainFixtureConfig fails the test if the fixture was made with
// settings other than cfg's.
func checkTrainFixtureConfig(t *testing.T, text string, cfg Config) {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		t.Fatalf("fixture metadata config %q: %v", text, err)
	}
	want := map[string]float64{
		"size": float64(cfg.CropSize), "ngf": float64(cfg.NGF), "blocks": float64(cfg.Blocks),
		"ndf": float64(cfg.NDF), "n_layers": float64(cfg.DLayers), "pool_size": float64(cfg.PoolSize),
		"lambda_A": cfg.LambdaA, "lambda_B": cfg.LambdaB, "lambda_identity": cfg.LambdaIdentity,
		"lr": cfg.LR, "beta1": cfg.Beta1, "beta2": cfg.Beta2, "iterations": 3, "seed": 0,
	}
	for k, w := range want {
		v, ok := raw[k].(float64)
		if !ok || v != w {
			t.Errorf("fixture config %s = %v, the Go test uses %v", k, raw[k], w)
		}
	}
	for k := range raw {
		if _, ok := want[k]; !ok {
			t.Errorf("fixture config has %s = %v, which the Go test does not check", k, raw[k])
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// compareTrainFixtureParams checks every weight of the four networks after
// `steps` iterations against <prefix>/<net>.<key>.
func compareTrainFixtureParams(t *testing.T, f *trainFixture, tr *Trainer, prefix string, steps int) {
	t.Helper()
	hard := fixtureParamHardTol(tr.Config, steps)
	var total, beyond, normedN int
	var maxDiff, maxNormed float64
	var maxAt string
	for _, nn := range tr.Networks() {
		var netMax float64
		for _, p := range nn.Net.Parameters() {
			name := nn.Name + "." + p.Name
			want, shape := f.get(prefix + "/" + name)
			if !slices.Equal(shape, p.Tensor.Shape) {
				t.Fatalf("%s/%s: shape %v, Go %v", prefix, name, shape, p.Tensor.Shape)
			}
			normed := fixtureNormedBias(nn.Net, p.Name)
			for i, w := range want {
				d := math.Abs(float64(p.Tensor.Data[i]) - float64(w))
				if d > hard || d != d {
					t.Errorf("%s/%s[%d] = %.9g, PyTorch %.9g: |diff| %.3g beyond any Adam step (%.3g)",
						prefix, name, i, p.Tensor.Data[i], w, d, hard)
				}
				if normed {
					normedN++
					maxNormed = math.Max(maxNormed, d)
					continue
				}
				total++
				netMax = math.Max(netMax, d)
				if d > maxDiff {
					maxDiff, maxAt = d, fmt.Sprintf("%s[%d]", name, i)
				}
				if d > fixtureParamTightTol {
					beyond++
					if beyond <= 10 {
						t.Logf("%s/%s[%d] = %.9g, PyTorch %.9g: |diff| %.3g (ill-conditioned?)", prefix, name, i, p.Tensor.Data[i], w, d)
					}
				}
			}
		}
		t.Logf("%s: %s max |diff| %.3g (instance-normed biases excluded)", prefix, nn.Name, netMax)
	}
	frac := float64(beyond) / float64(total)
	t.Logf("%s (after %d steps): %d weights, max |diff| %.3g at %s; %d (%.2g%%) beyond %.0e; %d instance-normed biases, max |diff| %.3g (bound %.3g)",
		prefix, steps, total, maxDiff, maxAt, beyond, 100*frac, fixtureParamTightTol, normedN, maxNormed, hard)
	if frac > fixtureParamBeyondFrac {
		t.Errorf("%s: %d of %d weights (%.2g%%) differ from PyTorch by more than %.0e; at most %.2g%% may be ill-conditioned",
			prefix, beyond, total, 100*frac, fixtureParamTightTol, 100*fixtureParamBeyondFrac)
	}
}

// compareTrainFixtureMoments checks Adam's exp_avg and exp_avg_sq of the
// parameters listed in the fixture's "moments" metadata.
func compareTrainFixtureMoments(t *testing.T, f *trainFixture, tr *Trainer, steps int) {
	t.Helper()
	var names []string
	if err := json.Unmarshal([]byte(f.file.Metadata["moments"]), &names); err != nil || len(names) == 0 {
		t.Fatalf("fixture metadata moments %q: %v", f.file.Metadata["moments"], err)
	}
	for _, full := range names {
		netName, key, _ := strings.Cut(full, ".")
		opt := tr.OptG
		if strings.HasPrefix(netName, "D") {
			opt = tr.OptD
		}
		idx := -1
		for _, nn := range tr.Networks() {
			if nn.Name != netName {
				continue
			}
			for _, p := range nn.Net.Parameters() {
				if p.Name == key {
					idx = slices.Index(opt.Params, p.Tensor)
				}
			}
		}
		if idx < 0 {
			t.Fatalf("moments of %s: no such parameter in the Go optimisers", full)
		}
		if opt.Steps[idx] != int64(steps) {
			t.Errorf("%s: Adam step count %d, PyTorch %d", full, opt.Steps[idx], steps)
		}
		for _, m := range []struct {
			role string
			got  []float32
		}{{"exp_avg", opt.M[idx]}, {"exp_avg_sq", opt.V[idx]}} {
			want, _ := f.get("adam/" + full + "/" + m.role)
			if len(want) != len(m.got) {
				t.Fatalf("adam/%s/%s: %d elements, Go %d", full, m.role, len(want), len(m.got))
			}
			var scale, maxDiff float64
			for _, w := range want {
				scale = math.Max(scale, math.Abs(float64(w)))
			}
			for i, w := range want {
				d := math.Abs(float64(m.got[i]) - float64(w))
				maxDiff = math.Max(maxDiff, d)
				if !(d <= fixtureMomentRelTol*scale) {
					t.Errorf("adam/%s/%s[%d] = %.7g, PyTorch %.7g (|diff| %.3g > %.0e × max %.3g)",
						full, m.role, i, m.got[i], w, d, fixtureMomentRelTol, scale)
				}
			}
			t.Logf("adam %s %s: max |diff| %.3g, %.2g of the largest element %.3g", full, m.role, maxDiff, maxDiff/scale, scale)
		}
	}
}
