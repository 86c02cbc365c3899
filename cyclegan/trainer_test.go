package cyclegan

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cyclegan-wasm/cyclegan/engine"
)

// tinyConfig is small enough to train in a test, natively and in wasm.
func tinyConfig() Config {
	c := DefaultConfig()
	c.CropSize, c.LoadSize = 16, 16
	c.Flip = false
	c.NGF, c.Blocks, c.NDF, c.DLayers = 4, 1, 4, 2
	c.PoolSize = 3
	c.ConstantIters, c.DecayIters = 4, 4
	return c
}

// randomPair returns two reproducible images in [−1, 1).
func randomPair(seed uint64, size int) (a, b *engine.Tensor) {
	rng := rand.New(rand.NewPCG(seed, 7))
	a, b = engine.New(1, 3, size, size), engine.New(1, 3, size, size)
	for i := range a.Data {
		a.Data[i] = 2*rng.Float32() - 1
		b.Data[i] = 2*rng.Float32() - 1
	}
	return a, b
}

func runSteps(t *testing.T, tr *Trainer, n int, seed uint64) []Losses {
	t.Helper()
	var out []Losses
	for i := 0; i < n; i++ {
		a, b := randomPair(seed+uint64(tr.Iteration), tr.Config.CropSize)
		l, err := tr.Step(a, b)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		out = append(out, l)
	}
	return out
}

func TestTrainerIsDeterministic(t *testing.T) {
	a, err := NewTrainer(tinyConfig())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewTrainer(tinyConfig())
	la, lb := runSteps(t, a, 6, 1), runSteps(t, b, 6, 1)
	for i := range la {
		if la[i] != lb[i] {
			t.Fatalf("iteration %d: %+v vs %+v", i, la[i], lb[i])
		}
	}
	if la[0] == la[5] {
		t.Fatal("losses did not change over six steps")
	}
	other := tinyConfig()
	other.Seed = 2
	c, _ := NewTrainer(other)
	if lc := runSteps(t, c, 1, 1); lc[0] == la[0] {
		t.Fatal("a different seed gave the same losses")
	}
}

func TestLearningRateSchedule(t *testing.T) {
	c := Config{LR: 1, ConstantIters: 3, DecayIters: 4}
	want := []float64{1, 1, 1, 0.8, 0.6, 0.4, 0.2, 0.2, 0.2}
	for it, w := range want {
		if got := c.LearningRate(it); math.Abs(got-w) > 1e-12 {
			t.Errorf("iteration %d: lr %v, want %v", it, got, w)
		}
	}
}

func TestNonFiniteStepIsDiscarded(t *testing.T) {
	tr, _ := NewTrainer(tinyConfig())
	runSteps(t, tr, 1, 1)
	before := snapshot(tr)
	a, b := randomPair(3, 16)
	a.Data[17] = float32(math.NaN())
	for i := 1; i <= MaxBadSteps; i++ {
		_, err := tr.Step(a, b)
		if !errors.Is(err, ErrNonFinite) {
			t.Fatalf("bad step %d: error %v, want ErrNonFinite", i, err)
		}
		if i < MaxBadSteps && errors.Is(err, ErrDiverged) {
			t.Fatalf("diverged after only %d bad steps", i)
		}
		if i == MaxBadSteps && !errors.Is(err, ErrDiverged) {
			t.Fatalf("no ErrDiverged after %d bad steps: %v", i, err)
		}
	}
	after := snapshot(tr)
	for k := range before {
		for i := range before[k] {
			if before[k][i] != after[k][i] {
				t.Fatalf("tensor %d changed during discarded steps", k)
			}
		}
	}
	if len(tr.PoolA.Images) != 1 || len(tr.PoolB.Images) != 1 {
		t.Fatal("discarded steps fed the pools")
	}
	// A good step resets the count.
	runSteps(t, tr, 1, 9)
	if tr.BadSteps != 0 {
		t.Fatalf("BadSteps %d after a good step", tr.BadSteps)
	}
}

func snapshot(tr *Trainer) [][]float32 {
	var out [][]float32
	for _, n := range tr.Networks() {
		for _, p := range n.Net.Parameters() {
			out = append(out, append([]float32(nil), p.Tensor.Data...))
		}
	}
	for _, opt := range []*engine.Adam{tr.OptG, tr.OptD} {
		for i := range opt.M {
			out = append(out, append([]float32(nil), opt.M[i]...), append([]float32(nil), opt.V[i]...))
		}
	}
	return out
}
