package cyclegan

import (
	"errors"
	"fmt"
	"slices"

	"github.com/cyclegan-wasm/cyclegan/engine"
)

// Two-worker training.
//
// In the browser one Go instance runs on one thread, so two cores mean two
// Web Workers, each with its own Go instance and its own full replica of the
// four networks, optimisers and pool random state. One iteration of
// Trainer.Step splits into two halves that exchange three messages each:
//
//	worker 0 (holds real A)                 worker 1 (holds real B)
//	GeneratorHalf(A)                        GeneratorHalf(B)
//	  fake_B = G_A(A), rec_A = G_B(fake_B)    fake_A = G_B(B), rec_B = G_A(fake_A)
//	  ∇ of MSE(D_A(fake_B),1)                 ∇ of MSE(D_B(fake_A),1)
//	     + λA·L1(rec_A,A)                        + λB·L1(rec_B,B)
//	     + λA·λidt·L1(G_B(A),A)                  + λB·λidt·L1(G_A(B),B)
//	  ── gradG₀, fake_B ──────────────────▶
//	  ◀────────────────────── gradG₁, fake_A ──
//	DiscriminatorHalf(gradG₁, fake_A)       DiscriminatorHalf(gradG₀, fake_B)
//	  G step on gradG₀ + gradG₁               G step on gradG₁ + gradG₀ (same bits)
//	  replay pool_B's draws                   pool_B(fake_B)
//	  pool_A(fake_A)                          replay pool_A's draws
//	  ∇ of D_B's loss on (A, pooled fake_A)   ∇ of D_A's loss on (B, pooled fake_B)
//	  ── gradD₀ (D_B) ────────────────────▶
//	  ◀──────────────────────── gradD₁ (D_A) ──
//	FinishStep(gradD₁)                      FinishStep(gradD₀)
//	  D step on D_A ∪ D_B                     D step on D_A ∪ D_B
//
// The generator objective is the sum of the two halves' terms, so the sum of
// the two halves' gradients is its gradient; float32 addition is
// commutative, so both workers hold the same bits after the sum and take the
// same Adam step. Against a single Trainer the only difference is the order
// in which each parameter's partial gradients are added (the single tape
// accumulates all six terms into one buffer), a rounding difference. The
// discriminator step is exact: each discriminator's loss involves one
// worker's data only, and Adam is elementwise, so one optimiser over
// D_A ∪ D_B fed with D_A's gradient from worker 1 and D_B's from worker 0 is
// the single trainer's optimiser.
//
// The pools draw from one random stream, pool_B first, then pool_A, as in
// Trainer.Step. Each worker keeps the images of the pool whose discriminator
// it trains (worker 0: pool_A, worker 1: pool_B) and only counts the other
// pool's fill level, which is enough to replay the other pool's draws
// without its images; so both workers' PoolRNG stay in the single trainer's
// state.
//
// Messages, in float32 values (SplitMessageFloats gives the numbers):
//
//	gradG: both generators' gradients in OptG.Params order (G_A then G_B,
//	       state-dict order), then the six generator loss terms
//	       GA, GB, CycleA, CycleB, IdtA, IdtB, zero for the other half's;
//	fake:  the fake image the other worker's discriminator needs, [1,3,S,S];
//	gradD: this worker's discriminator's gradient (D_B for worker 0, D_A for
//	       worker 1, state-dict order), then its loss; the other
//	       discriminator's zeros are not sent.
//
// The loss terms ride along with the gradients so that both workers see the
// same complete Losses and make the same decision about non-finite steps
// from the same values.

// genLossTerms is the number of loss values after the gradient in a gradG
// message: GA, GB, CycleA, CycleB, IdtA, IdtB.
const genLossTerms = 6

// SplitTrainer is one of the two halves of a two-worker run: a full replica
// of the Trainer's state that computes half of each iteration.
//
// An iteration is GeneratorHalf, DiscriminatorHalf, FinishStep on both
// workers, each call taking what the other worker's previous call returned.
// After FinishStep (or a discarded step) the two replicas are bit-identical.
// An error other than ErrNonFinite or ErrDiverged (a call out of order, a
// message of the wrong size) leaves the iteration where it was: retry with
// the right message, or restart both workers from a checkpoint.
type SplitTrainer struct {
	// Trainer is this worker's replica. Read it freely (Config, Iteration,
	// networks, LastPreview: this half's three images); do not call its
	// Step.
	Trainer *Trainer

	half      int
	phase     int
	ghostFill int // images in the pool this worker does not hold

	real  *engine.Tensor // this worker's real image, copied
	gradG []float32      // this half's gradG message
	gradD []float32      // this half's gradD message
	l     Losses         // the current iteration's losses so far
}

// Phases of an iteration: which call comes next.
const (
	phaseGenerator = iota
	phaseDiscriminator
	phaseFinish
)

var phaseNames = [...]string{"GeneratorHalf", "DiscriminatorHalf", "FinishStep"}

// NewSplitTrainer builds half (0: holds real A, trains D_B; 1: holds real B,
// trains D_A) of a two-worker run. The networks are initialised as
// NewTrainer does, so both halves of one configuration start identical.
func NewSplitTrainer(cfg Config, half int) (*SplitTrainer, error) {
	if half != 0 && half != 1 {
		return nil, fmt.Errorf("split: half %d, want 0 or 1", half)
	}
	t, err := NewTrainer(cfg)
	if err != nil {
		return nil, err
	}
	return Split(t, half)
}

// Split makes t (fresh, or loaded by UnmarshalCheckpoint) one half of a
// two-worker run; call it with the same state on both workers. It takes
// over t: the pool this half does not hold is emptied and only its fill
// level is kept.
func Split(t *Trainer, half int) (*SplitTrainer, error) {
	if half != 0 && half != 1 {
		return nil, fmt.Errorf("split: half %d, want 0 or 1", half)
	}
	s := &SplitTrainer{Trainer: t, half: half}
	other := s.otherPool()
	s.ghostFill = len(other.Images)
	other.Images = nil
	s.gradG = make([]float32, paramCount(t.OptG.Params)+genLossTerms)
	s.gradD = make([]float32, CountParameters(s.ownD())+1)
	return s, nil
}

// SplitMessageFloats is the size, in float32 values, of each message one
// worker sends per iteration under cfg: the generator gradient (with the
// loss terms), the fake image and the discriminator gradient (with its
// loss). Each worker sends one of each, so an iteration moves
// 2·4·(gradG + fake + gradD) bytes.
func SplitMessageFloats(cfg Config) (gradG, fake, gradD int) {
	return 2*generatorParams(cfg.NGF, cfg.Blocks) + genLossTerms,
		3 * cfg.CropSize * cfg.CropSize,
		discriminatorParams(cfg.NDF, cfg.DLayers) + 1
}

// Half is 0 for the worker that holds real A, 1 for the one that holds real B.
func (s *SplitTrainer) Half() int { return s.half }

// ownD is the discriminator this half trains: D_B (on real A) for half 0,
// D_A (on real B) for half 1.
func (s *SplitTrainer) ownD() *Discriminator {
	if s.half == 0 {
		return s.Trainer.DB
	}
	return s.Trainer.DA
}

func (s *SplitTrainer) otherD() *Discriminator {
	if s.half == 0 {
		return s.Trainer.DA
	}
	return s.Trainer.DB
}

// ownPool holds the fakes ownD is shown: pool_A for half 0, pool_B for half 1.
func (s *SplitTrainer) ownPool() *ImagePool {
	if s.half == 0 {
		return s.Trainer.PoolA
	}
	return s.Trainer.PoolB
}

func (s *SplitTrainer) otherPool() *ImagePool {
	if s.half == 0 {
		return s.Trainer.PoolB
	}
	return s.Trainer.PoolA
}

func (s *SplitTrainer) checkPhase(want int) error {
	if s.phase != want {
		return fmt.Errorf("split: %s called when %s is due", phaseNames[want], phaseNames[s.phase])
	}
	return nil
}

// GeneratorHalf starts an iteration on this worker's real image ([1, 3, S, S]
// in [−1, 1]: A for half 0, B for half 1; it is copied). It runs the
// forward and backward passes of this half's generator terms and returns
// the gradG message for the other worker, the fake image the other
// worker's discriminator needs (fake_B from half 0, fake_A from half 1) and
// this half's loss terms (G is their sum). Both results stay valid until
// the next GeneratorHalf.
func (s *SplitTrainer) GeneratorHalf(real *engine.Tensor) (gradG []float32, fake *engine.Tensor, l Losses, err error) {
	if err := s.checkPhase(phaseGenerator); err != nil {
		return nil, nil, l, err
	}
	if len(real.Shape) != 4 || real.Shape[1] != 3 || real.Shape[2]%4 != 0 || real.Shape[3]%4 != 0 || real.Shape[0] < 1 {
		return nil, nil, l, fmt.Errorf("split: real image %v: want [N, 3, H, W] with H, W multiples of 4", real)
	}
	if s.real == nil || !slices.Equal(s.real.Shape, real.Shape) {
		s.real = engine.New(real.Shape...)
	}
	copy(s.real.Data, real.Data)
	real = s.real

	t, cfg := s.Trainer, s.Trainer.Config
	lr := t.LearningRate()
	t.OptG.LR, t.OptD.LR = lr, lr
	t.Iteration++

	// Half 0 goes A → B → A and is judged by D_A; half 1 goes B → A → B
	// and is judged by D_B.
	there, back, judge := t.GA, t.GB, t.DA
	lambda := cfg.LambdaA
	if s.half == 1 {
		there, back, judge = t.GB, t.GA, t.DB
		lambda = cfg.LambdaB
	}
	tp := t.tapeG
	tp.Reset()
	fake = there.Forward(tp, real)
	rec := back.Forward(tp, fake)
	SetRequiresGrad(t.DA, false)
	SetRequiresGrad(t.DB, false)
	adv := engine.MSE(tp, judge.Forward(tp, fake), 1)
	cyc := engine.Scale(tp, engine.L1(tp, rec, real), float32(lambda))
	loss := engine.Add(tp, adv, cyc)
	var idt float32
	if cfg.LambdaIdentity > 0 {
		idtT := engine.Scale(tp, engine.L1(tp, back.Forward(tp, real), real), float32(lambda*cfg.LambdaIdentity))
		loss = engine.Add(tp, loss, idtT)
		idt = idtT.Item()
	}
	t.OptG.ZeroGrad()
	tp.Backward(loss)
	SetRequiresGrad(t.DA, true)
	SetRequiresGrad(t.DB, true)

	n := flatten(s.gradG, t.OptG.Params)
	tail := s.gradG[n:]
	clear(tail)
	// GA, GB, CycleA, CycleB, IdtA, IdtB: half 0 has GA, CycleA and IdtB
	// (G_B(A) against A), half 1 GB, CycleB and IdtA (G_A(B) against B).
	if s.half == 0 {
		tail[0], tail[2], tail[5] = adv.Item(), cyc.Item(), idt
		t.last.RealA, t.last.FakeB, t.last.RecA = real, fake, rec
	} else {
		tail[1], tail[3], tail[4] = adv.Item(), cyc.Item(), idt
		t.last.RealB, t.last.FakeA, t.last.RecB = real, fake, rec
	}
	l = termLosses(tail)
	l.G = float64(loss.Item())
	s.phase = phaseDiscriminator
	return s.gradG, fake, l, nil
}

// DiscriminatorHalf takes the other worker's gradG message and fake image,
// takes the generators' Adam step on the sum of both halves' gradients, then
// runs this worker's discriminator on its real image and the pooled other
// fake. It returns the gradD message for the other worker (valid until the
// next DiscriminatorHalf) and the losses known so far: every generator term
// and this worker's discriminator loss.
//
// If the generator objective or the summed gradient is not finite, the
// whole iteration is discarded on both workers alike (no weight, pool or
// random state changes; the error wraps ErrNonFinite, or ErrDiverged after
// MaxBadSteps in a row): skip the gradD exchange and FinishStep, and start
// the next iteration.
func (s *SplitTrainer) DiscriminatorHalf(otherGradG []float32, otherFake *engine.Tensor) (gradD []float32, l Losses, err error) {
	if err := s.checkPhase(phaseDiscriminator); err != nil {
		return nil, l, err
	}
	if len(otherGradG) != len(s.gradG) {
		return nil, l, fmt.Errorf("split: generator gradient message of %d values, want %d", len(otherGradG), len(s.gradG))
	}
	if otherFake == nil || !slices.Equal(otherFake.Shape, s.real.Shape) {
		return nil, l, fmt.Errorf("split: other fake %v, want the shape of this worker's real image %v", otherFake, s.real)
	}
	t := s.Trainer

	// The generators' gradient: own (in the Grad buffers) + other's.
	off := 0
	for _, p := range t.OptG.Params {
		o := otherGradG[off : off+len(p.Grad)]
		for j := range p.Grad {
			p.Grad[j] += o[j]
		}
		off += len(p.Grad)
	}
	var terms [genLossTerms]float32
	for i := range terms {
		terms[i] = s.gradG[off+i] + otherGradG[off+i]
	}
	l = termLosses(terms[:])
	// The total as Trainer.Step adds it, in float32 and in its order.
	g := terms[0] + terms[1] + terms[2] + terms[3]
	if t.Config.LambdaIdentity > 0 {
		g = g + terms[4] + terms[5]
	}
	l.G = float64(g)
	if !finite(l.G) || !finiteGrads(t.OptG.Params) {
		t.OptG.ZeroGrad()
		s.phase = phaseGenerator
		return nil, l, t.discard(fmt.Sprintf("generator objective %g", l.G))
	}
	t.OptG.Step()

	// The discriminator this worker trains, on its real image and the
	// pooled fake of the other worker. The pools draw in Trainer.Step's
	// order: pool_B, then pool_A.
	tp := t.tapeD
	tp.Reset()
	var pooled *engine.Tensor
	n := otherFake.Shape[0]
	if s.half == 0 {
		s.replayOtherPool(n)
		pooled = t.PoolA.Query(otherFake, t.poolRand)
	} else {
		pooled = t.PoolB.Query(otherFake, t.poolRand)
		s.replayOtherPool(n)
	}
	d := s.ownD()
	lossD := discriminatorLoss(tp, d, s.real, pooled)
	t.OptD.ZeroGrad()
	tp.Backward(lossD)
	off = 0
	for _, p := range d.Parameters() {
		off += copy(s.gradD[off:], p.Tensor.Grad)
	}
	s.gradD[off] = lossD.Item()
	if s.half == 0 {
		l.DB = float64(lossD.Item())
	} else {
		l.DA = float64(lossD.Item())
	}
	s.l = l
	s.phase = phaseFinish
	return s.gradD, l, nil
}

// FinishStep takes the other worker's gradD message and takes the
// discriminators' Adam step, completing the iteration. It returns the
// iteration's losses, the same on both workers and as Trainer.Step reports
// them. If a discriminator loss or gradient is not finite, the
// discriminator step alone is discarded (the generators' step and the pools
// stand), on both workers alike, as in Trainer.Step.
func (s *SplitTrainer) FinishStep(otherGradD []float32) (Losses, error) {
	if err := s.checkPhase(phaseFinish); err != nil {
		return Losses{}, err
	}
	if len(otherGradD) != CountParameters(s.otherD())+1 {
		return Losses{}, fmt.Errorf("split: discriminator gradient message of %d values, want %d", len(otherGradD), CountParameters(s.otherD())+1)
	}
	t := s.Trainer
	off := 0
	for _, p := range s.otherD().Parameters() {
		off += copy(p.Tensor.Grad, otherGradD[off:])
	}
	l := s.l
	if s.half == 0 {
		l.DA = float64(otherGradD[off])
	} else {
		l.DB = float64(otherGradD[off])
	}
	s.phase = phaseGenerator
	if !finite(l.DA) || !finite(l.DB) || !finiteGrads(t.OptD.Params) {
		t.OptD.ZeroGrad()
		return l, t.discard(fmt.Sprintf("discriminator losses %g, %g", l.DA, l.DB))
	}
	t.OptD.Step()
	t.BadSteps = 0
	return l, nil
}

// replayOtherPool draws from the pool random stream what the pool this
// worker does not hold would draw for a query of n images (poolChoice, as
// ImagePool.Query, without the images), and counts its fill level.
func (s *SplitTrainer) replayOtherPool(n int) {
	size := s.otherPool().Size
	rng := s.Trainer.poolRand
	for range n {
		if poolChoice(size, s.ghostFill, rng) == poolStore {
			s.ghostFill++
		}
	}
}

// PoolImages returns the images of the pool this worker holds (pool_A for
// half 0, pool_B for half 1), not copies: send them to the other worker to
// write a checkpoint (MarshalCheckpoint). They change with the next step.
func (s *SplitTrainer) PoolImages() []*engine.Tensor { return s.ownPool().Images }

// ErrSplitState is wrapped when a split run's checkpoint cannot be written
// from the state at hand.
var ErrSplitState = errors.New("split state")

// MarshalCheckpoint writes the run's checkpoint (as MarshalCheckpoint of a
// single Trainer, loadable by UnmarshalCheckpoint and resumable by a single
// Trainer or by Split on two workers) from this worker's replica and the
// other worker's PoolImages. Call it between iterations; either worker's
// replica gives the same bytes.
func (s *SplitTrainer) MarshalCheckpoint(otherPool []*engine.Tensor, extra map[string]string) ([]byte, error) {
	if s.phase != phaseGenerator {
		return nil, fmt.Errorf("split: checkpoint in the middle of an iteration (%s is due): %w", phaseNames[s.phase], ErrSplitState)
	}
	if len(otherPool) != s.ghostFill {
		return nil, fmt.Errorf("split: the other pool has %d images, this worker counted %d: %w", len(otherPool), s.ghostFill, ErrSplitState)
	}
	size := s.Trainer.Config.CropSize
	for i, img := range otherPool {
		if img == nil || !slices.Equal(img.Shape, []int{1, 3, size, size}) || len(img.Data) != 3*size*size {
			return nil, fmt.Errorf("split: other pool image %d is %v, want [1, 3, %d, %d]: %w", i, img, size, size, ErrSplitState)
		}
	}
	other := s.otherPool()
	other.Images = otherPool
	defer func() { other.Images = nil }()
	return MarshalCheckpoint(s.Trainer, extra)
}

// termLosses reads the six generator terms of a gradG message's tail.
func termLosses(tail []float32) Losses {
	return Losses{
		GA: float64(tail[0]), GB: float64(tail[1]),
		CycleA: float64(tail[2]), CycleB: float64(tail[3]),
		IdtA: float64(tail[4]), IdtB: float64(tail[5]),
	}
}

// flatten copies the gradients of params into dst, in order, and returns
// how many values it wrote.
func flatten(dst []float32, params []*engine.Tensor) int {
	off := 0
	for _, p := range params {
		off += copy(dst[off:], p.Grad)
	}
	return off
}

func paramCount(params []*engine.Tensor) int {
	n := 0
	for _, p := range params {
		n += len(p.Data)
	}
	return n
}
