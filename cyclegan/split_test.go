package cyclegan

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cyclegan-wasm/cyclegan/engine"
)

// Tolerances of a split run against a single Trainer. Both compute every
// activation, loss term and per-term gradient with the same operations on
// the same values; the one difference is that the single tape accumulates
// the six generator terms' gradients into one buffer per parameter (inside
// the convolutions' GEMMs, in its backward order), while the split run adds
// the two halves' sums at the end: float32 rounding, ~1e-7 relative per
// gradient element. The discriminators' step is exact (each one's gradient
// comes from one worker's tape, bit for bit as in the single tape).
//
// So, from one state, one split iteration and one Trainer.Step give the
// same losses and the same discriminators and pools bit for bit, and
// generators within splitStepTol (observed: 4e-9, about an ulp of the weights;
// Adam's step is a ratio of moments and barely feels a 1e-7 relative change
// of the gradient).
//
// Side by side over several iterations, these few-ulp differences feed the
// next forward passes: the losses move by a few 1e-7 relative and the
// weights stay within ~3e-8 (observed over 10 iterations on 19 of 20 image
// seeds natively; 6.6e-7 and 1.1e-8 in wasm on the test's images).
// splitLossRelTol and splitParamTol leave 15–30× headroom; a missing or
// doubled term, a wrong step or a pool draw out of step moves a loss by
// 1e-3 or more. The exception is images that make the trajectory itself
// sensitive, most likely by putting an activation within rounding noise of
// a ReLU's kink, where a 1e-8 difference picks the other branch and part
// of a gradient changes by percents: with seed 500 of randomPair the
// weights part by 4e-5 at iteration 4, and the losses by 1e-3 later. That
// is float32 chaos, not the split: a single Trainer restarted at iteration
// 3 from the split run's checkpoint parts from the uninterrupted single
// run in the same way, while the split run stays within 5e-7 (losses) and
// 8e-9 (weights) of that restarted Trainer. The side-by-side tests use
// images without such a point.
const (
	splitLossRelTol = 1e-5
	splitLossAbsTol = 1e-6
	splitParamTol   = 1e-6
	// splitStepTol bounds the generators' weights after one iteration from
	// a common state.
	splitStepTol = 1e-7
	// The biases in front of an instance norm are excluded from the weight
	// tolerances and bounded by fixtureParamHardTol (the most Adam can move
	// a weight): their true gradient is exactly zero, their computed one
	// rounding noise whose sign decides their Adam step, and they affect no
	// output.
)

// splitPair is a split run's two workers.
type splitPair [2]*SplitTrainer

func newSplitPair(t testing.TB, cfg Config) splitPair {
	t.Helper()
	var p splitPair
	for h := range p {
		s, err := NewSplitTrainer(cfg, h)
		if err != nil {
			t.Fatal(err)
		}
		p[h] = s
	}
	return p
}

// step runs one iteration, passing each worker's message to the other as
// the browser glue would.
func (p splitPair) step(a, b *engine.Tensor) (l [2]Losses, err [2]error) {
	return p.stepSharing(a, b, 1)
}

// stepSharing is step with worker 0 computing terms0 of the iteration's
// identity terms and worker 1 the rest (one each: GeneratorHalf).
func (p splitPair) stepSharing(a, b *engine.Tensor, terms0 int) (l [2]Losses, err [2]error) {
	real := [2]*engine.Tensor{a, b}
	terms := [2]int{terms0, 2 - terms0}
	for h, s := range p {
		if terms0 == 1 {
			_, _, err[h] = s.GeneratorHalf(real[h])
		} else if err[h] = s.GeneratorForward(real[h]); err[h] == nil {
			_, _, _, err[h] = s.GeneratorBackwardSharing(terms[h], real[1-h])
		}
		if err[h] != nil {
			return l, err
		}
	}
	var msg [2][]float32
	for h, s := range p {
		if msg[h], _, err[h] = s.DiscriminatorHalf(real[1-h]); err[h] != nil {
			return l, err
		}
	}
	for h, s := range p {
		l[h], err[h] = s.FinishStep(msg[1-h])
	}
	return l, err
}

// checkpoint is worker h's checkpoint, with the other worker's OwnState.
func (p splitPair) checkpoint(t testing.TB, h int, extra map[string]string) []byte {
	t.Helper()
	pool, d, steps := p[1-h].OwnState()
	ckpt, err := p[h].MarshalCheckpoint(pool, d, steps, extra)
	if err != nil {
		t.Fatal(err)
	}
	return ckpt
}

// whole is the run's complete state as one Trainer: worker 0's checkpoint,
// loaded.
func (p splitPair) whole(t testing.TB) *Trainer {
	t.Helper()
	tr, _, err := UnmarshalCheckpoint(p.checkpoint(t, 0, nil))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// mustStep runs an iteration that must succeed and give both workers the
// same losses.
func (p splitPair) mustStep(t testing.TB, a, b *engine.Tensor) Losses {
	t.Helper()
	l, err := p.step(a, b)
	if err[0] != nil || err[1] != nil {
		t.Fatalf("split step %d: %v / %v", p[0].Trainer.Iteration, err[0], err[1])
	}
	if l[0] != l[1] {
		t.Fatalf("split step %d: the workers report %+v and %+v", p[0].Trainer.Iteration, l[0], l[1])
	}
	return l[0]
}

// checkReplicas fails unless the two workers hold bit-identical shared
// state: the generators' weights, Adam moments and steps, counters, pool
// random state, and each one's count of the other's pool equals the other's
// pool; and each discriminator's parameters are all at one Adam step.
func (p splitPair) checkReplicas(t *testing.T) {
	t.Helper()
	a, b := p[0].Trainer, p[1].Trainer
	sa, sb := generatorState(a), generatorState(b)
	for k := range sa {
		for i := range sa[k] {
			if math.Float32bits(sa[k][i]) != math.Float32bits(sb[k][i]) {
				t.Fatalf("iteration %d: replicas differ in generator tensor %d element %d: %g vs %g", a.Iteration, k, i, sa[k][i], sb[k][i])
			}
		}
	}
	for i := range a.OptG.Steps {
		if a.OptG.Steps[i] != b.OptG.Steps[i] || a.OptG.LR != b.OptG.LR || a.OptD.LR != b.OptD.LR {
			t.Fatalf("iteration %d: optimiser steps or rates differ", a.Iteration)
		}
	}
	for h := range p {
		for _, n := range p[h].optD.Steps {
			if n != p[h].optD.Steps[0] {
				t.Fatalf("iteration %d: worker %d's discriminator has parameters at steps %d and %d", a.Iteration, h, p[h].optD.Steps[0], n)
			}
		}
	}
	if a.Iteration != b.Iteration || a.BadSteps != b.BadSteps {
		t.Fatalf("iterations %d/%d, bad steps %d/%d", a.Iteration, b.Iteration, a.BadSteps, b.BadSteps)
	}
	if !bytes.Equal(splitRNGState(t, a), splitRNGState(t, b)) {
		t.Fatalf("iteration %d: pool random states differ", a.Iteration)
	}
	if p[0].ghostFill != len(p[1].ownPool().Images) || p[1].ghostFill != len(p[0].ownPool().Images) {
		t.Fatalf("iteration %d: pool fill counts %d/%d, pools %d/%d", a.Iteration,
			p[0].ghostFill, p[1].ghostFill, len(p[1].ownPool().Images), len(p[0].ownPool().Images))
	}
	if len(a.PoolA.Images) != 0 || len(b.PoolB.Images) != 0 {
		t.Fatal("a worker stores images of the pool it does not hold")
	}
}

// generatorState is the generators' weights and Adam moments.
func generatorState(tr *Trainer) [][]float32 {
	var out [][]float32
	for _, p := range tr.OptG.Params {
		out = append(out, p.Data)
	}
	return append(append(out, tr.OptG.M...), tr.OptG.V...)
}

func splitRNGState(t testing.TB, tr *Trainer) []byte {
	t.Helper()
	b, err := tr.PoolRNG.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// splitLossDiff is the largest relative difference between two Losses'
// fields, with splitLossAbsTol as the floor of the scale.
func splitLossDiff(a, b Losses) (float64, string) {
	fields := []struct {
		name string
		x, y float64
	}{
		{"DA", a.DA, b.DA}, {"GA", a.GA, b.GA}, {"CycleA", a.CycleA, b.CycleA}, {"IdtA", a.IdtA, b.IdtA},
		{"DB", a.DB, b.DB}, {"GB", a.GB, b.GB}, {"CycleB", a.CycleB, b.CycleB}, {"IdtB", a.IdtB, b.IdtB},
		{"G", a.G, b.G},
	}
	worst, at := 0.0, ""
	for _, f := range fields {
		d := math.Abs(f.x-f.y) / math.Max(math.Abs(f.y), splitLossAbsTol)
		if d != d {
			d = math.Inf(1)
		}
		if d >= worst {
			worst, at = d, f.name
		}
	}
	return worst, at
}

// splitParamDiff compares every weight of two trainers: the largest
// difference outside and inside the instance-normed biases.
func splitParamDiff(a, b *Trainer) (weights, normed float64, at string) {
	na, nb := a.Networks(), b.Networks()
	for k := range na {
		pb := nb[k].Net.Parameters()
		for j, p := range na[k].Net.Parameters() {
			isNormed := fixtureNormedBias(na[k].Net, p.Name)
			for i, v := range p.Tensor.Data {
				d := math.Abs(float64(v) - float64(pb[j].Tensor.Data[i]))
				if d != d {
					d = math.Inf(1)
				}
				switch {
				case isNormed:
					normed = math.Max(normed, d)
				case d > weights:
					weights, at = d, fmt.Sprintf("%s.%s[%d]", na[k].Name, p.Name, i)
				}
			}
		}
	}
	return weights, normed, at
}

// splitCheckOneStep compares the split run with a single trainer that took
// the same iteration from the same state: discriminators (weights and
// moments) and pools bit for bit, generators within splitStepTol. It
// returns the generators' largest weight difference (instance-normed biases
// excluded).
func splitCheckOneStep(t *testing.T, p splitPair, single *Trainer) float64 {
	t.Helper()
	tr := p.whole(t)
	ns, np := single.Networks(), tr.Networks()
	worst := 0.0
	for k := range ns {
		ps := np[k].Net.Parameters()
		for j, prm := range ns[k].Net.Parameters() {
			normed := fixtureNormedBias(ns[k].Net, prm.Name)
			for i, v := range prm.Tensor.Data {
				w := ps[j].Tensor.Data[i]
				if k >= 2 { // D_A, D_B
					if math.Float32bits(v) != math.Float32bits(w) {
						t.Fatalf("iteration %d: %s.%s[%d] = %g, single %g: want equal bits", tr.Iteration, ns[k].Name, prm.Name, i, w, v)
					}
					continue
				}
				d := math.Abs(float64(v) - float64(w))
				if d != d || (normed && d > fixtureParamHardTol(single.Config, tr.Iteration)) || (!normed && d > splitStepTol) {
					t.Fatalf("iteration %d: %s.%s[%d] = %g, single %g", tr.Iteration, ns[k].Name, prm.Name, i, w, v)
				}
				if !normed {
					worst = math.Max(worst, d)
				}
			}
		}
	}
	for i := range single.OptD.M {
		if !equal(single.OptD.M[i], tr.OptD.M[i]) || !equal(single.OptD.V[i], tr.OptD.V[i]) {
			t.Fatalf("iteration %d: discriminator moments of parameter %d differ", tr.Iteration, i)
		}
	}
	for _, c := range []struct {
		want, got []*engine.Tensor
	}{{single.PoolA.Images, p[1].ownPool().Images}, {single.PoolB.Images, p[0].ownPool().Images}} {
		if len(c.want) != len(c.got) {
			t.Fatalf("iteration %d: pools of %d and %d images", tr.Iteration, len(c.got), len(c.want))
		}
		for i := range c.want {
			if !equal(c.want[i].Data, c.got[i].Data) {
				t.Fatalf("iteration %d: pool image %d differs", tr.Iteration, i)
			}
		}
	}
	return worst
}

// splitSource is the index of the image in history nearest to img, and
// its distance (max |diff|).
func splitSource(history [][]float32, img []float32) (int, float64) {
	best, bestD := -1, math.Inf(1)
	for k, h := range history {
		d := 0.0
		for i, v := range h {
			d = math.Max(d, math.Abs(float64(v)-float64(img[i])))
		}
		if d < bestD {
			best, bestD = k, d
		}
	}
	return best, bestD
}

func splitConfig() Config {
	cfg := tinyConfig()
	cfg.PoolSize = 2 // full after two iterations, so its draws are exercised
	return cfg
}

// A split run follows the single Trainer: the same losses and weights
// within float32 rounding, the same pool draws exactly, and the two
// replicas bit-identical after every iteration.
func TestSplitMatchesSingle(t *testing.T) {
	cfg := splitConfig()
	const iters = 10
	single, err := NewTrainer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := newSplitPair(t, cfg)
	p.checkReplicas(t)

	// Every fake each run made, per domain, to tell which one a pool
	// returned: fakes of different iterations differ by ~0.1–1, the runs'
	// fakes of one iteration by ~1e-6.
	var histSingle, histSplit [2][][]float32 // [0]: fake_B (pool_B), [1]: fake_A (pool_A)
	fromHistory := [2]int{}
	var worstLoss, worstW, worstNormed, worstStep float64
	for it := 0; it < iters; it++ {
		a, b := randomPair(100+uint64(it), cfg.CropSize)
		want, err := single.Step(a, b)
		if err != nil {
			t.Fatal(err)
		}
		// A single trainer at the split run's state, through a checkpoint
		// of the split run, takes the same iteration.
		synced := p.whole(t)
		wantSynced, err := synced.Step(a, b)
		if err != nil {
			t.Fatal(err)
		}
		got := p.mustStep(t, a, b)
		p.checkReplicas(t)
		if got != wantSynced {
			t.Errorf("iteration %d from a common state: split losses %+v, single %+v: want equal bits", it+1, got, wantSynced)
		}
		worstStep = math.Max(worstStep, splitCheckOneStep(t, p, synced))

		d, at := splitLossDiff(got, want)
		if it == 0 && got != want {
			t.Errorf("iteration 1 (equal weights): split losses %+v, single %+v: want equal bits", got, want)
		}
		if d > splitLossRelTol {
			t.Errorf("iteration %d: %s differs by %.3g relative\nsplit  %+v\nsingle %+v", it+1, at, d, got, want)
		}
		worstLoss = math.Max(worstLoss, d)

		w, normed, wat := splitParamDiff(p.whole(t), single)
		if w > splitParamTol {
			t.Errorf("iteration %d: weight %s differs by %.3g", it+1, wat, w)
		}
		if hard := fixtureParamHardTol(cfg, it+1); normed > hard {
			t.Errorf("iteration %d: an instance-normed bias differs by %.3g, more than any Adam step allows (%.3g)", it+1, normed, hard)
		}
		worstW, worstNormed = math.Max(worstW, w), math.Max(worstNormed, normed)

		// The pools: the same random state, and the same stored image
		// (by iteration) coming back.
		if !bytes.Equal(splitRNGState(t, single), splitRNGState(t, p[0].Trainer)) {
			t.Fatalf("iteration %d: the pool random state left the single trainer's", it+1)
		}
		histSingle[0] = append(histSingle[0], append([]float32(nil), single.last.FakeB.Data...))
		histSingle[1] = append(histSingle[1], append([]float32(nil), single.last.FakeA.Data...))
		histSplit[0] = append(histSplit[0], append([]float32(nil), p[0].Trainer.last.FakeB.Data...))
		histSplit[1] = append(histSplit[1], append([]float32(nil), p[1].Trainer.last.FakeA.Data...))
		pooled := [2][2]*engine.Tensor{
			{single.PoolB.out, p[0].Trainer.PoolB.out},
			{single.PoolA.out, p[1].Trainer.PoolA.out},
		}
		for k, name := range []string{"pool_B", "pool_A"} {
			ks, ds := splitSource(histSingle[k], pooled[k][0].Data)
			kp, dp := splitSource(histSplit[k], pooled[k][1].Data)
			if ds != 0 || dp > 1e-4 || ks != kp {
				t.Fatalf("iteration %d: %s returned the fake of iteration %d (|diff| %.3g) to the single trainer, of iteration %d (|diff| %.3g) to the split run",
					it+1, name, ks+1, ds, kp+1, dp)
			}
			if ks != it {
				fromHistory[k]++
			}
		}
		if it < cfg.PoolSize {
			for k, s := range []*SplitTrainer{p[1], p[0]} {
				if len(s.ownPool().Images) != it+1 {
					t.Fatalf("iteration %d: pool %d holds %d images", it+1, k, len(s.ownPool().Images))
				}
			}
		}
	}
	if fromHistory[0] == 0 || fromHistory[1] == 0 {
		t.Fatalf("the pools returned %v stored images: the test does not exercise their draws", fromHistory)
	}
	t.Logf("%d iterations side by side: losses within %.3g relative; weights within %.3g (instance-normed biases %.3g); pools returned %d and %d stored images, all as the single trainer",
		iters, worstLoss, worstW, worstNormed, fromHistory[0], fromHistory[1])
	t.Logf("one iteration from a common state: losses, discriminators and pools equal bits, generators within %.3g", worstStep)
}

// The generator gradient the two halves exchange sums to the single
// trainer's, and each discriminator's gradient is the single trainer's bit
// for bit.
func TestSplitGradientsSumToSingle(t *testing.T) {
	cfg := splitConfig()
	single, _ := NewTrainer(cfg)
	p := newSplitPair(t, cfg)
	a, b := randomPair(7, cfg.CropSize)

	_, l0, _ := p[0].GeneratorHalf(a)
	_, l1, _ := p[1].GeneratorHalf(b)
	m0, _, err0 := p[0].DiscriminatorHalf(b)
	m1, _, err1 := p[1].DiscriminatorHalf(a)
	if err0 != nil || err1 != nil {
		t.Fatal(err0, err1)
	}
	if _, err := single.Step(a, b); err != nil {
		t.Fatal(err)
	}
	// Step leaves the generators' gradient in the Grad buffers (and the
	// discriminators', from the D step).
	n := len(m0) - msgTail
	want := make([]float32, n)
	flatten(want, single.OptG.Params)
	var worst, scale float64
	for i := range want {
		scale = math.Max(scale, math.Abs(float64(want[i])))
	}
	for i := range want {
		sum := m0[i] + m1[i]
		if sum != m1[i]+m0[i] {
			t.Fatal("float32 addition is not commutative here")
		}
		worst = math.Max(worst, math.Abs(float64(sum)-float64(want[i])))
	}
	if worst > 1e-5*scale {
		t.Errorf("generator gradient: split sum differs from the single trainer's by %.3g (largest element %.3g)", worst, scale)
	}
	t.Logf("generator gradient: |split − single| ≤ %.3g, %.2g of the largest element %.3g", worst, worst/scale, scale)
	if l0.G+l1.G == 0 || l0.GB != 0 || l1.GA != 0 {
		t.Errorf("half losses %+v, %+v", l0, l1)
	}

	// Each discriminator's gradient, left in its worker's Grad buffers,
	// against the single trainer's discriminator loss on the split run's
	// pooled images.
	ref, _ := NewTrainer(cfg)
	tp := engine.NewTape()
	lossDA := discriminatorLoss(tp, ref.DA, b, p[0].Trainer.PoolB.out)
	lossDB := discriminatorLoss(tp, ref.DB, a, p[1].Trainer.PoolA.out)
	ref.OptD.ZeroGrad()
	tp.Backward(engine.Add(tp, lossDA, lossDB))
	for _, c := range []struct {
		got, want *Discriminator
	}{{p[0].Trainer.DA, ref.DA}, {p[1].Trainer.DB, ref.DB}} {
		wp := c.want.Parameters()
		for j, prm := range c.got.Parameters() {
			for i, g := range prm.Tensor.Grad {
				if math.Float32bits(g) != math.Float32bits(wp[j].Tensor.Grad[i]) {
					t.Fatalf("discriminator gradient %s[%d]: split %g, single %g", prm.Name, i, g, wp[j].Tensor.Grad[i])
				}
			}
		}
	}
	if m0[n+genTail] != lossDA.Item() || m1[n+genTail] != lossDB.Item() || m0[n+genTail+1] != 1 || m1[n+genTail+1] != 1 {
		t.Fatal("the discriminator losses or finiteness in the messages differ from the single trainer's")
	}
	if got := SplitMessageFloats(cfg); got != len(m0) || got != len(m1) {
		t.Fatalf("SplitMessageFloats %d; messages %d, %d", got, len(m0), len(m1))
	}
}

// A non-finite value on either side makes both workers discard the whole
// iteration, as the single trainer does; training then goes on in step.
func TestSplitNonFiniteDiscardsBothHalves(t *testing.T) {
	for side := 0; side < 2; side++ {
		t.Run(fmt.Sprintf("NaN in %c", 'A'+side), func(t *testing.T) {
			cfg := splitConfig()
			single, _ := NewTrainer(cfg)
			p := newSplitPair(t, cfg)
			for it := 0; it < 3; it++ { // the pools fill up
				a, b := randomPair(200+uint64(it), cfg.CropSize)
				if _, err := single.Step(a, b); err != nil {
					t.Fatal(err)
				}
				p.mustStep(t, a, b)
			}
			before := [2][][]float32{snapshot(p[0].Trainer), snapshot(p[1].Trainer)}
			rngBefore := splitRNGState(t, p[0].Trainer)
			var poolsBefore [2][][]float32
			for h := range p {
				for _, img := range p[h].ownPool().Images {
					poolsBefore[h] = append(poolsBefore[h], append([]float32(nil), img.Data...))
				}
			}

			a, b := randomPair(300, cfg.CropSize)
			[2]*engine.Tensor{a, b}[side].Data[17] = float32(math.NaN())
			for bad := 1; bad <= MaxBadSteps; bad++ {
				_, errSingle := single.Step(a, b)
				_, errs := p.step(a, b)
				for h, err := range errs {
					if !errors.Is(err, ErrNonFinite) || errors.Is(err, ErrDiverged) != (bad == MaxBadSteps) || errors.Is(errSingle, ErrDiverged) != (bad == MaxBadSteps) {
						t.Fatalf("bad step %d, worker %d: %v (single trainer: %v)", bad, h, err, errSingle)
					}
				}
				p.checkReplicas(t)
				if p[0].phase != phaseGenerator || p[1].phase != phaseGenerator {
					t.Fatal("a discarded iteration left a worker mid-iteration")
				}
			}
			for h := range p {
				after := snapshot(p[h].Trainer)
				for k := range before[h] {
					if !equal(before[h][k], after[k]) {
						t.Fatalf("worker %d: tensor %d changed during discarded steps", h, k)
					}
				}
				imgs := p[h].ownPool().Images
				if len(imgs) != cfg.PoolSize {
					t.Fatalf("worker %d: discarded steps left %d images in the pool", h, len(imgs))
				}
				for i, img := range imgs {
					if !equal(poolsBefore[h][i], img.Data) {
						t.Fatalf("worker %d: discarded steps changed pool image %d", h, i)
					}
				}
			}
			if !bytes.Equal(rngBefore, splitRNGState(t, p[0].Trainer)) {
				t.Fatal("discarded steps drew from the pool random stream")
			}
			if p[0].Trainer.BadSteps != MaxBadSteps || p[0].Trainer.Iteration != single.Iteration {
				t.Fatalf("bad steps %d, iteration %d (single %d)", p[0].Trainer.BadSteps, p[0].Trainer.Iteration, single.Iteration)
			}
			// Training goes on, in step with the single trainer.
			for it := 0; it < 3; it++ {
				a, b := randomPair(400+uint64(it), cfg.CropSize)
				want, err := single.Step(a, b)
				if err != nil {
					t.Fatal(err)
				}
				got := p.mustStep(t, a, b)
				p.checkReplicas(t)
				if d, at := splitLossDiff(got, want); d > splitLossRelTol {
					t.Fatalf("after the discarded steps: %s differs by %.3g", at, d)
				}
			}
			if p[0].Trainer.BadSteps != 0 {
				t.Fatal("a good step did not reset the bad-step count")
			}
		})
	}
}

// A non-finite discriminator gradient discards that discriminator's step
// alone, as in Trainer.Step: the generators' step, the other
// discriminator's and the pools stand, and both workers count a bad step.
func TestSplitNonFiniteDiscriminatorStep(t *testing.T) {
	cfg := splitConfig()
	p := newSplitPair(t, cfg)
	a, b := randomPair(9, cfg.CropSize)
	p.mustStep(t, a, b)
	before := [2][][]float32{snapshot(p[0].Trainer), snapshot(p[1].Trainer)}
	p[0].GeneratorHalf(a)
	p[1].GeneratorHalf(b)
	// Worker 1's discriminator sees a real A with an infinity in it: its
	// loss and gradient come out non-finite, while the generator terms,
	// which worker 0 computes from a finite A, stay finite.
	inf := engine.New(a.Shape...)
	copy(inf.Data, a.Data)
	inf.Data[5] = float32(math.Inf(1))
	m0, _, _ := p[0].DiscriminatorHalf(b)
	m1, _, _ := p[1].DiscriminatorHalf(inf)
	if m1[len(m1)-1] != 0 || m0[len(m0)-1] != 1 {
		t.Fatalf("finiteness flags %g, %g: want 1 and 0", m0[len(m0)-1], m1[len(m1)-1])
	}
	_, err0 := p[0].FinishStep(m1)
	_, err1 := p[1].FinishStep(m0)
	if !errors.Is(err0, ErrNonFinite) || !errors.Is(err1, ErrNonFinite) {
		t.Fatalf("errors %v / %v, want ErrNonFinite on both", err0, err1)
	}
	p.checkReplicas(t)
	nets := p[0].Trainer.Networks()
	nG := len(nets[0].Net.Parameters()) + len(nets[1].Net.Parameters())
	nD := len(nets[2].Net.Parameters()) + len(nets[3].Net.Parameters())
	nDA := len(nets[2].Net.Parameters())
	for h := range p {
		after := snapshot(p[h].Trainer)
		if equal(before[h][0], after[0]) {
			t.Fatalf("worker %d: the generators' step was discarded too", h)
		}
		// Worker 0 steps D_A (finite); worker 1's D_B saw the infinity.
		own := [2][2]int{{nG, nG + nDA}, {nG + nDA, nG + nD}}[h]
		moved := false
		for k := own[0]; k < own[1]; k++ {
			moved = moved || !equal(before[h][k], after[k])
		}
		if moved != (h == 0) {
			t.Fatalf("worker %d: its discriminator moved: %v, want %v", h, moved, h == 0)
		}
	}
	if p[0].optD.Steps[0] != 2 || p[1].optD.Steps[0] != 1 {
		t.Fatalf("D_A at step %d, D_B at %d: want 2 and 1", p[0].optD.Steps[0], p[1].optD.Steps[0])
	}
	for h := range p {
		if len(p[h].ownPool().Images) != 2 {
			t.Fatalf("worker %d: the pool holds %d images after two iterations: its query was taken back", h, len(p[h].ownPool().Images))
		}
	}
	if p[0].Trainer.BadSteps != 1 || p[1].Trainer.BadSteps != 1 {
		t.Fatalf("bad steps %d, %d", p[0].Trainer.BadSteps, p[1].Trainer.BadSteps)
	}
}

// A discriminator step discarded alone on one worker is the single
// trainer's: from a common state (the split run's checkpoint, with a
// poisoned pool_A, which only D_B sees) the same losses, errors, bad-step
// counts, discriminator weights and Adam step counts, iteration after
// iteration, through good and discarded steps of D_B.
func TestSplitDiscriminatorDiscardedAloneAsSingle(t *testing.T) {
	cfg := splitConfig()
	p := newSplitPair(t, cfg)
	for it := range 2 {
		a, b := randomPair(300+uint64(it), cfg.CropSize)
		p.mustStep(t, a, b)
	}
	for _, img := range p[1].ownPool().Images {
		img.Data[7] = float32(math.Inf(1))
	}
	var good, bad int
	for it := 0; it < 30 && (good < 2 || bad < 2); it++ {
		a, b := randomPair(320+uint64(it), cfg.CropSize)
		synced := p.whole(t)
		want, errWant := synced.Step(a, b)
		l, errs := p.step(a, b)
		p.checkReplicas(t)
		for h := range p {
			if !sameLosses(l[h], want) || (errs[h] == nil) != (errWant == nil) ||
				errors.Is(errs[h], ErrNonFinite) != errors.Is(errWant, ErrNonFinite) || errors.Is(errs[h], ErrDiverged) != errors.Is(errWant, ErrDiverged) {
				t.Fatalf("iteration %d, worker %d: %+v (%v), single %+v (%v)", synced.Iteration, h, l[h], errs[h], want, errWant)
			}
		}
		if errWant != nil {
			bad++
		} else {
			good++
		}
		got := p.whole(t)
		if !slices.Equal(got.OptD.Steps, synced.OptD.Steps) || got.BadSteps != synced.BadSteps {
			t.Fatalf("iteration %d: discriminator steps %v, bad steps %d; single %v, %d", synced.Iteration, got.OptD.Steps, got.BadSteps, synced.OptD.Steps, synced.BadSteps)
		}
		gn, sn := got.Networks(), synced.Networks()
		for i := 2; i < 4; i++ {
			sp := sn[i].Net.Parameters()
			for k, q := range gn[i].Net.Parameters() {
				if !equal(q.Tensor.Data, sp[k].Tensor.Data) {
					t.Fatalf("iteration %d: %s.%s differs from the single trainer's", synced.Iteration, gn[i].Name, q.Name)
				}
			}
		}
	}
	if good < 2 || bad < 2 {
		t.Fatalf("%d good and %d discarded steps of D_B: the pool did not exercise both", good, bad)
	}
	if p[0].optD.Steps[0] == p[1].optD.Steps[0] {
		t.Fatal("D_A and D_B at one step count after discarded steps of D_B alone")
	}
}

// A split run's checkpoint is the same from either worker, loads as a
// single Trainer that continues within rounding of the uninterrupted single
// run, and splits again into two workers that continue exactly as the
// uninterrupted split run.
func TestSplitCheckpointResumes(t *testing.T) {
	cfg := splitConfig()
	const first, then = 4, 4
	images := func(it int) (a, b *engine.Tensor) { return randomPair(600+uint64(it), cfg.CropSize) }

	single, _ := NewTrainer(cfg)
	var want []Losses
	for it := 0; it < first+then; it++ {
		l, err := single.Step(images(it))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, l)
	}

	p := newSplitPair(t, cfg)
	for it := 0; it < first; it++ {
		a, b := images(it)
		p.mustStep(t, a, b)
	}
	extra := map[string]string{"sampler": "state"}
	ckpt := p.checkpoint(t, 0, extra)
	if ckpt1 := p.checkpoint(t, 1, extra); !bytes.Equal(ckpt, ckpt1) {
		t.Fatal("the two workers write different checkpoints")
	}
	if len(p[0].Trainer.PoolA.Images) != 0 || len(p[1].Trainer.PoolB.Images) != 0 {
		t.Fatal("MarshalCheckpoint left the other pool's images in place")
	}

	// Single-worker resume.
	resumed, meta, err := UnmarshalCheckpoint(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if meta["sampler"] != "state" || resumed.Iteration != first || len(resumed.PoolA.Images) != cfg.PoolSize || len(resumed.PoolB.Images) != cfg.PoolSize {
		t.Fatalf("resumed: metadata %q, iteration %d, pools %d and %d", meta["sampler"], resumed.Iteration, len(resumed.PoolA.Images), len(resumed.PoolB.Images))
	}
	// Two-worker resume, from the same bytes.
	var q splitPair
	for h := range q {
		tr, _, err := UnmarshalCheckpoint(ckpt)
		if err != nil {
			t.Fatal(err)
		}
		if q[h], err = Split(tr, h); err != nil {
			t.Fatal(err)
		}
	}
	q.checkReplicas(t)

	var worst float64
	for it := first; it < first+then; it++ {
		got, err := resumed.Step(images(it))
		if err != nil {
			t.Fatal(err)
		}
		d, at := splitLossDiff(got, want[it])
		if d > splitLossRelTol {
			t.Errorf("iteration %d after resuming single-worker: %s differs by %.3g from the uninterrupted single run", it+1, at, d)
		}
		worst = math.Max(worst, d)

		a, b := images(it)
		lp := p.mustStep(t, a, b)
		lq := q.mustStep(t, a, b)
		q.checkReplicas(t)
		if it == first && got != lp {
			t.Errorf("first iteration after resuming single-worker: %+v, the split run from the same state %+v: want equal bits", got, lp)
		}
		if lp != lq {
			t.Fatalf("iteration %d: resumed split run %+v, uninterrupted %+v", it+1, lq, lp)
		}
		sp, sq := snapshot(p[0].Trainer), snapshot(q[0].Trainer)
		for k := range sp {
			if !equal(sp[k], sq[k]) {
				t.Fatalf("iteration %d: the resumed split run left the uninterrupted one (tensor %d)", it+1, k)
			}
		}
	}
	w, normed, at := splitParamDiff(resumed, single)
	if w > splitParamTol || normed > fixtureParamHardTol(cfg, first+then) {
		t.Errorf("after %d iterations, the resumed single run differs from the uninterrupted one by %.3g at %s (normed biases %.3g)", first+then, w, at, normed)
	}
	t.Logf("resumed single-worker: losses within %.3g relative, weights within %.3g (instance-normed biases %.3g) of the uninterrupted single run", worst, w, normed)
}

func TestSplitProtocolErrors(t *testing.T) {
	cfg := splitConfig()
	p := newSplitPair(t, cfg)
	a, b := randomPair(1, cfg.CropSize)
	if _, _, err := p[0].DiscriminatorHalf(b); err == nil {
		t.Error("DiscriminatorHalf before GeneratorHalf")
	}
	if _, err := p[0].FinishStep(nil); err == nil {
		t.Error("FinishStep before GeneratorHalf")
	}
	if _, _, err := p[0].GeneratorHalf(engine.New(1, 3, 15, 15)); err == nil {
		t.Error("a 15 px image was accepted")
	}
	p[0].GeneratorHalf(a)
	p[1].GeneratorHalf(b)
	if _, err := p[0].MarshalCheckpoint(nil, nil, nil, nil); !errors.Is(err, ErrSplitState) {
		t.Errorf("checkpoint mid-iteration: %v", err)
	}
	if _, _, err := p[0].GeneratorHalf(a); err == nil {
		t.Error("GeneratorHalf twice")
	}
	if _, _, err := p[0].DiscriminatorHalf(engine.New(1, 3, 8, 8)); err == nil {
		t.Error("a real image of the wrong size was accepted")
	}
	// After the rejected calls the iteration goes on normally.
	m0, _, err0 := p[0].DiscriminatorHalf(b)
	m1, _, err1 := p[1].DiscriminatorHalf(a)
	if err0 != nil || err1 != nil {
		t.Fatal(err0, err1)
	}
	if _, err := p[0].FinishStep(m1[1:]); err == nil {
		t.Error("a short message was accepted")
	}
	if _, err := p[0].FinishStep(m1); err != nil {
		t.Fatal(err)
	}
	if _, err := p[1].FinishStep(m0); err != nil {
		t.Fatal(err)
	}
	p.checkReplicas(t)
	pool, d, steps := p[1].OwnState()
	if _, err := p[0].MarshalCheckpoint(nil, d, steps, nil); !errors.Is(err, ErrSplitState) {
		t.Errorf("checkpoint without the other pool's image: %v", err)
	}
	if _, err := p[0].MarshalCheckpoint(pool, d[1:], steps, nil); !errors.Is(err, ErrSplitState) {
		t.Errorf("checkpoint with a short discriminator state: %v", err)
	}
	if _, err := p[0].MarshalCheckpoint(pool, d, steps[1:], nil); !errors.Is(err, ErrSplitState) {
		t.Errorf("checkpoint with too few step counts: %v", err)
	}
	if _, err := NewSplitTrainer(cfg, 2); err == nil {
		t.Error("half 2 was accepted")
	}
}

// BenchmarkSplitStep_S runs both halves of an iteration one after the
// other in one process, in steady state (pools full, tapes warm): a step
// should allocate nothing. It reports each worker's compute time per
// iteration (medians over the iterations, robust to a busy machine), their
// ratio (the balance of the split) and the iteration time of two workers
// on two cores: the slower worker of each phase, messages not included.
func BenchmarkSplitStep_S(b *testing.B) { benchSplitStep(b, presetS()) }

// BenchmarkSplitStep_M is BenchmarkSplitStep_S at preset M.
func BenchmarkSplitStep_M(b *testing.B) { benchSplitStep(b, presetM()) }

func benchSplitStep(b *testing.B, cfg Config) {
	cfg.PoolSize = 2
	p := newSplitPair(b, cfg)
	var real [2]*engine.Tensor
	real[0], real[1] = randomPair(1, cfg.CropSize)
	var msg [2][]float32
	var err error
	// spent[h][phase] holds one duration per timed iteration.
	var spent [2][3][]time.Duration
	// Each phase runs worker 0 first on even iterations, worker 1 first on
	// odd ones, so that neither always runs on the caches the other left.
	step := func(i int) {
		order := [2]int{i % 2, 1 - i%2}
		for _, h := range order {
			t0 := time.Now()
			_, _, err = p[h].GeneratorHalf(real[h])
			spent[h][0][i] = time.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
		}
		for _, h := range order {
			t0 := time.Now()
			msg[h], _, err = p[h].DiscriminatorHalf(real[1-h])
			spent[h][1][i] = time.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
		}
		for _, h := range order {
			t0 := time.Now()
			_, err = p[h].FinishStep(msg[1-h])
			spent[h][2][i] = time.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	for h := range spent {
		for ph := range spent[h] {
			spent[h][ph] = make([]time.Duration, max(b.N, 3))
		}
	}
	for i := 0; i < 3; i++ {
		step(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step(i)
	}
	b.StopTimer()
	median := func(d []time.Duration) float64 {
		d = slices.Clone(d[:b.N])
		slices.Sort(d)
		return d[len(d)/2].Seconds()
	}
	var total [2]float64
	var critical float64
	for ph := 0; ph < 3; ph++ {
		m0, m1 := median(spent[0][ph]), median(spent[1][ph])
		total[0] += m0
		total[1] += m1
		critical += math.Max(m0, m1)
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/iter")
	b.ReportMetric(median(spent[0][0]), "s/G-half0")
	b.ReportMetric(median(spent[1][0]), "s/G-half1")
	b.ReportMetric(median(spent[0][1]), "s/D-half0")
	b.ReportMetric(median(spent[1][1]), "s/D-half1")
	b.ReportMetric(total[0], "s/worker0")
	b.ReportMetric(total[1], "s/worker1")
	b.ReportMetric(total[1]/total[0], "worker1/worker0")
	b.ReportMetric(critical, "s/iter-2workers")
}

// The fine-grained order two browser workers use (the next iteration's
// generator and discriminator halves before FinishDiscriminator of the
// last, each message in two parts) computes exactly what GeneratorHalf,
// DiscriminatorHalf and FinishStep compute: the same losses, weights,
// moments and pools, bit for bit, through a discarded discriminator step
// too.
func TestSplitPipelinedMatchesOnePiece(t *testing.T) {
	cfg := splitConfig()
	const iterations, badD = 6, 3 // at iteration badD worker 1's D sees an infinity
	p, q := newSplitPair(t, cfg), newSplitPair(t, cfg)
	var want []Losses
	var wantErr []bool
	var gpart, dpart, next [2][]float32
	pending := false
	for it := 0; it < iterations; it++ {
		a, b := randomPair(800+uint64(it), cfg.CropSize)
		otherReal := [2]*engine.Tensor{b, a}
		if it == badD {
			inf := engine.New(a.Shape...)
			copy(inf.Data, a.Data)
			inf.Data[3] = float32(math.Inf(1))
			otherReal[1] = inf
		}

		// One piece.
		for h, real := range [2]*engine.Tensor{a, b} {
			if _, _, err := p[h].GeneratorHalf(real); err != nil {
				t.Fatal(err)
			}
		}
		var msg [2][]float32
		for h := range p {
			m, _, err := p[h].DiscriminatorHalf(otherReal[h])
			if err != nil {
				t.Fatal(err)
			}
			msg[h] = slices.Clone(m)
		}
		var l [2]Losses
		for h := range p {
			var err error
			l[h], err = p[h].FinishStep(msg[1-h])
			if (err != nil) != (it == badD) || (err != nil && !errors.Is(err, ErrNonFinite)) {
				t.Fatalf("iteration %d, one piece, worker %d: %v", it+1, h, err)
			}
		}
		want, wantErr = append(want, l[0]), append(wantErr, it == badD)

		// Pipelined.
		for h, real := range [2]*engine.Tensor{a, b} {
			if err := q[h].GeneratorForward(real); err != nil {
				t.Fatal(err)
			}
		}
		for h := range q {
			_, g, _, err := q[h].GeneratorBackward()
			if err != nil {
				t.Fatal(err)
			}
			if len(g) != SplitGeneratorFloats(cfg) {
				t.Fatalf("generator part of %d values, want %d", len(g), SplitGeneratorFloats(cfg))
			}
			gpart[h] = slices.Clone(g)
		}
		for h := range q {
			m, _, err := q[h].DiscriminatorHalf(otherReal[h])
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(m[:len(gpart[h])], gpart[h]) {
				t.Fatal("DiscriminatorHalf's message does not start with the generator part")
			}
			next[h] = slices.Clone(m[len(gpart[h]):])
		}
		if pending {
			if _, err := q[0].FinishGenerators(gpart[1]); err == nil {
				t.Fatal("FinishGenerators before FinishDiscriminator of the last iteration was accepted")
			}
			for h := range q {
				got, err := q[h].FinishDiscriminator(dpart[1-h])
				if (err != nil) != wantErr[it-1] || !sameLosses(got, want[it-1]) {
					t.Fatalf("iteration %d, worker %d: pipelined %+v (%v), one piece %+v", it, h, got, err, want[it-1])
				}
			}
		}
		dpart = next
		for h := range q {
			got, err := q[h].FinishGenerators(gpart[1-h])
			if err != nil || got.G != want[it].G || !q[h].PendingDiscriminator() {
				t.Fatalf("iteration %d, worker %d: FinishGenerators %+v (%v), want G %g and a discriminator step due", it+1, h, got, err, want[it].G)
			}
		}
		pending = true
		if _, err := q[0].MarshalCheckpoint(nil, nil, nil, nil); !errors.Is(err, ErrSplitState) {
			t.Fatalf("checkpoint with a discriminator step due: %v", err)
		}
	}
	for h := range q {
		got, err := q[h].FinishDiscriminator(dpart[1-h])
		if err != nil || !sameLosses(got, want[iterations-1]) {
			t.Fatalf("last iteration, worker %d: pipelined %+v (%v), one piece %+v", h, got, err, want[iterations-1])
		}
	}
	if _, err := q[0].FinishDiscriminator(dpart[1]); err == nil {
		t.Fatal("a second FinishDiscriminator was accepted")
	}
	q.checkReplicas(t)
	for h := range p {
		sp, sq := snapshot(p[h].Trainer), snapshot(q[h].Trainer)
		for k := range sp {
			if !equal(sp[k], sq[k]) {
				t.Fatalf("worker %d: tensor %d differs between the pipelined and one-piece runs", h, k)
			}
		}
		pp, pq := p[h].ownPool().Images, q[h].ownPool().Images
		if len(pp) != len(pq) {
			t.Fatalf("worker %d: pools of %d and %d images", h, len(pp), len(pq))
		}
		for i := range pp {
			if !equal(pp[i].Data, pq[i].Data) {
				t.Fatalf("worker %d: pool image %d differs", h, i)
			}
		}
		if p[h].Trainer.BadSteps != q[h].Trainer.BadSteps || p[h].Trainer.Iteration != q[h].Trainer.Iteration {
			t.Fatalf("worker %d: bad steps %d vs %d, iterations %d vs %d", h, p[h].Trainer.BadSteps, q[h].Trainer.BadSteps, p[h].Trainer.Iteration, q[h].Trainer.Iteration)
		}
	}
	if !bytes.Equal(p.checkpoint(t, 0, nil), q.checkpoint(t, 0, nil)) {
		t.Fatal("the pipelined and one-piece runs write different checkpoints")
	}
}

// While a discriminator step is due, the calls that would take another
// step, or write a checkpoint without it, are refused and change nothing.
func TestSplitPendingDiscriminator(t *testing.T) {
	cfg := splitConfig()
	p := newSplitPair(t, cfg)
	a, b := randomPair(3, cfg.CropSize)
	real := [2]*engine.Tensor{a, b}
	for h := range p {
		if _, _, err := p[h].GeneratorHalf(real[h]); err != nil {
			t.Fatal(err)
		}
	}
	var msg [2][]float32
	for h := range p {
		m, _, err := p[h].DiscriminatorHalf(real[1-h])
		if err != nil {
			t.Fatal(err)
		}
		msg[h] = slices.Clone(m)
	}
	n := SplitGeneratorFloats(cfg)
	for h := range p {
		if _, err := p[h].FinishGenerators(msg[1-h][:n]); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(p[0].Trainer)
	if _, err := p[0].FinishStep(msg[1]); err == nil {
		t.Error("FinishStep with a discriminator step due")
	}
	if _, err := p[0].FinishGenerators(msg[1][:n]); err == nil {
		t.Error("FinishGenerators twice")
	}
	if _, err := p[0].FinishDiscriminator(msg[1][n+1:]); err == nil {
		t.Error("a short discriminator part was accepted")
	}
	if _, err := p[0].MarshalCheckpoint(nil, nil, nil, nil); !errors.Is(err, ErrSplitState) {
		t.Errorf("checkpoint with a discriminator step due: %v", err)
	}
	after := snapshot(p[0].Trainer)
	for k := range before {
		if !equal(before[k], after[k]) {
			t.Fatalf("a refused call changed tensor %d", k)
		}
	}
	for h := range p {
		if _, err := p[h].FinishDiscriminator(msg[1-h][n:]); err != nil {
			t.Fatal(err)
		}
	}
	p.checkReplicas(t)
}

// sameLosses: equal bits, a NaN matching a NaN (fmt prints float64 values
// exactly: the shortest decimal that reads back to the same bits).
func sameLosses(a, b Losses) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// mustStepSharing is stepSharing for an iteration that must succeed.
func (p splitPair) mustStepSharing(t testing.TB, a, b *engine.Tensor, terms0 int) {
	t.Helper()
	if _, err := p.stepSharing(a, b, terms0); err[0] != nil || err[1] != nil {
		t.Fatalf("split step %d: %v / %v", p[0].Trainer.Iteration, err[0], err[1])
	}
}

// Either worker may compute either identity term, iteration by iteration:
// from a common state the losses are the single trainer's bits and the
// generators within rounding, and the replicas stay identical.
func TestSplitIdentitySharing(t *testing.T) {
	cfg := splitConfig()
	for _, schedule := range [][]int{{2, 2, 2}, {0, 0, 0}, {2, 0, 1, 0, 2, 1}} {
		t.Run(fmt.Sprint(schedule), func(t *testing.T) {
			p := newSplitPair(t, cfg)
			for it, terms0 := range schedule {
				a, b := randomPair(300+uint64(it), cfg.CropSize)
				synced := p.whole(t)
				want, err := synced.Step(a, b)
				if err != nil {
					t.Fatal(err)
				}
				l, errs := p.stepSharing(a, b, terms0)
				if errs[0] != nil || errs[1] != nil {
					t.Fatalf("iteration %d: %v / %v", it+1, errs[0], errs[1])
				}
				if l[0] != l[1] || l[0] != want {
					t.Fatalf("iteration %d, worker 0 computing %d identity terms: losses %+v and %+v, single %+v: want equal bits",
						it+1, terms0, l[0], l[1], want)
				}
				p.checkReplicas(t)
				splitCheckOneStep(t, p, synced)
			}
		})
	}
}

// Counts of identity terms that do not add up to two are refused before
// anything changes.
func TestSplitIdentitySharingMismatch(t *testing.T) {
	cfg := splitConfig()
	for _, terms := range [][2]int{{1, 2}, {0, 1}, {2, 2}} {
		p := newSplitPair(t, cfg)
		a, b := randomPair(5, cfg.CropSize)
		real := [2]*engine.Tensor{a, b}
		var msg [2][]float32
		for h, s := range p {
			if err := s.GeneratorForward(real[h]); err != nil {
				t.Fatal(err)
			}
			if _, _, _, err := s.GeneratorBackwardSharing(terms[h], real[1-h]); err != nil {
				t.Fatal(err)
			}
			m, _, err := s.DiscriminatorHalf(real[1-h])
			if err != nil {
				t.Fatal(err)
			}
			msg[h] = m
		}
		before := snapshot(p[0].Trainer)
		if _, err := p[0].FinishStep(msg[1]); err == nil || errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "identity terms") {
			t.Errorf("counts %v: FinishStep: %v, want a refusal naming the identity terms", terms, err)
		}
		after := snapshot(p[0].Trainer)
		for k := range before {
			if !equal(before[k], after[k]) {
				t.Fatalf("counts %v: the refused message changed tensor %d", terms, k)
			}
		}
	}
	s := newSplitPair(t, cfg)[0]
	a, _ := randomPair(5, cfg.CropSize)
	if err := s.GeneratorForward(a); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		terms int
		other *engine.Tensor
	}{{3, a}, {-1, a}, {2, nil}, {2, engine.New(1, 3, 8, 8)}} {
		if _, _, _, err := s.GeneratorBackwardSharing(c.terms, c.other); err == nil {
			t.Errorf("GeneratorBackwardSharing(%d, %v) was accepted", c.terms, c.other)
		}
	}
}

// The balancer against a model of two workers: each iteration's generator
// half is three passes of 55 ms plus 55 ms per identity term, the rest of
// its work 180 ms, all scaled by its core's slowness; the iteration takes
// as long as the slower worker.
func TestIdentityBalancer(t *testing.T) {
	const pass, rest = 55.0, 180.0
	work := func(slow float64, terms int) (busy, gen float64) {
		gen = slow * (3*pass + float64(terms)*pass)
		return gen + slow*rest, gen
	}
	for _, c := range []struct {
		name string
		slow func(it int) [2]float64 // each worker's slowness in iteration it
		want func(it int) int        // worker 0's terms in iteration it (-1: any)
	}{
		{"equal cores keep one term each",
			func(int) [2]float64 { return [2]float64{1, 1} },
			func(int) int { return 1 }},
		{"a core 10% slower is not worth a move",
			func(int) [2]float64 { return [2]float64{1, 1.1} },
			func(int) int { return 1 }},
		{"one slow iteration is not worth a move",
			func(it int) [2]float64 {
				if it == 5 {
					return [2]float64{1, 1.4}
				}
				return [2]float64{1, 1}
			},
			func(int) int { return 1 }},
		{"worker 1 slowed by 30% hands its term to worker 0 and takes it back after",
			func(it int) [2]float64 {
				if it >= 5 && it < 20 {
					return [2]float64{1, 1.3}
				}
				return [2]float64{1, 1}
			},
			func(it int) int {
				switch {
				case it >= 9 && it < 20:
					return 2
				case it < 6 || it >= 25:
					return 1
				}
				return -1
			}},
		{"worker 0 on a core half as fast does neither",
			func(int) [2]float64 { return [2]float64{2, 1} },
			func(it int) int {
				if it >= 3 {
					return 0
				}
				return -1
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b IdentityBalancer
			var total, fixed float64
			for it := 0; it < 30; it++ {
				terms, slow := b.Terms(), c.slow(it)
				if want := c.want(it); want >= 0 && terms != want {
					t.Fatalf("iteration %d: worker 0 computes %d identity terms, want %d", it, terms, want)
				}
				b0, g0 := work(slow[0], terms)
				b1, g1 := work(slow[1], 2-terms)
				total += max(b0, b1)
				f0, _ := work(slow[0], 1)
				f1, _ := work(slow[1], 1)
				fixed += max(f0, f1)
				b.Next([2]float64{b0, b1}, [2]float64{g0, g1})
			}
			if total > fixed*1.0001 {
				t.Errorf("balanced: %.0f ms in all; one term each: %.0f ms", total, fixed)
			}
			t.Logf("balanced: %.0f ms in all; one term each: %.0f ms", total, fixed)
		})
	}
	var b IdentityBalancer
	for _, m := range [][2][2]float64{{{0, 400}, {0, 200}}, {{400, 400}, {500, 200}}, {{math.NaN(), 400}, {200, 200}}} {
		if got := b.Next(m[0], m[1]); got != 1 {
			t.Errorf("Next(%v, %v) = %d on no real measurement, want 1", m[0], m[1], got)
		}
	}
}

// Moving the identity terms back and forth allocates nothing once each
// worker has computed zero, one and two of them: the tape reuses what the
// longest iteration needed.
func TestSplitIdentitySharingAllocatesNothing(t *testing.T) {
	cfg := splitConfig()
	p := newSplitPair(t, cfg)
	a, b := randomPair(11, cfg.CropSize)
	schedule := []int{2, 0, 1}
	for i := 0; i < 2*len(schedule); i++ {
		p.mustStepSharing(t, a, b, schedule[i%len(schedule)])
	}
	i := 0
	allocs := testing.AllocsPerRun(9, func() {
		p.mustStepSharing(t, a, b, schedule[i%len(schedule)])
		i++
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per iteration with the identity terms moving", allocs)
	}
}
