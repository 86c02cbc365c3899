package cyclegan

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
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

// A discriminator whose loss is not finite has its step discarded alone:
// the generators and the other discriminator step, the bad step is
// counted, and a checkpoint keeps the two discriminators' step counts.
// The infinity comes from pool_A, which only D_B sees.
func TestDiscriminatorStepDiscardedAlone(t *testing.T) {
	cfg := tinyConfig()
	cfg.PoolSize = 2
	tr, _ := NewTrainer(cfg)
	a, b := randomPair(5, cfg.CropSize)
	runSteps(t, tr, 2, 5)
	for _, img := range tr.PoolA.Images {
		img.Data[7] = float32(math.Inf(1))
	}
	nets := tr.Networks()
	params := func(i int) [][]float32 {
		var out [][]float32
		for _, p := range nets[i].Net.Parameters() {
			out = append(out, slices.Clone(p.Tensor.Data))
		}
		return out
	}
	moved := func(before [][]float32, i int) bool {
		for k, p := range nets[i].Net.Parameters() {
			if !equal(before[k], p.Tensor.Data) {
				return true
			}
		}
		return false
	}
	nDA := len(nets[2].Net.Parameters())
	// The pool hands D_B a stored (poisoned) fake in about half of the
	// iterations, and the new one otherwise.
	for it := 0; it < 30; it++ {
		var before [4][][]float32
		for i := range before {
			before[i] = params(i)
		}
		stepsA, stepsB := tr.OptD.Steps[0], tr.OptD.Steps[nDA]
		l, err := tr.Step(a, b)
		if err == nil {
			if tr.OptD.Steps[0] != stepsA+1 || tr.OptD.Steps[nDA] != stepsB+1 || !moved(before[3], 3) {
				t.Fatalf("iteration %d: a good step left a discriminator", tr.Iteration)
			}
			continue
		}
		if !errors.Is(err, ErrNonFinite) || errors.Is(err, ErrDiverged) || tr.BadSteps != 1 {
			t.Fatalf("iteration %d: error %v, bad steps %d: want ErrNonFinite and 1", tr.Iteration, err, tr.BadSteps)
		}
		if !finite(l.G) || !finite(l.DA) || finite(l.DB) {
			t.Fatalf("iteration %d: losses %+v: want only D_B's non-finite", tr.Iteration, l)
		}
		if !moved(before[0], 0) || !moved(before[1], 1) || !moved(before[2], 2) || moved(before[3], 3) {
			t.Fatalf("iteration %d: G_A, G_B and D_A must step and D_B not", tr.Iteration)
		}
		if tr.OptD.Steps[0] != stepsA+1 || tr.OptD.Steps[nDA] != stepsB {
			t.Fatalf("iteration %d: D_A at step %d (was %d), D_B at %d (was %d)", tr.Iteration, tr.OptD.Steps[0], stepsA, tr.OptD.Steps[nDA], stepsB)
		}
		ckpt, err := MarshalCheckpoint(tr, nil)
		if err != nil {
			t.Fatal(err)
		}
		back, _, err := UnmarshalCheckpoint(ckpt)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(back.OptD.Steps, tr.OptD.Steps) || !slices.Equal(back.OptG.Steps, tr.OptG.Steps) {
			t.Fatal("the checkpoint lost the discriminators' step counts")
		}
		again, err := MarshalCheckpoint(back, nil)
		if err != nil || !bytes.Equal(again, ckpt) {
			t.Fatalf("the checkpoint does not round-trip: %v", err)
		}
		return
	}
	t.Fatal("the pool never handed D_B a stored fake")
}
