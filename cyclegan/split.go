package cyclegan

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/cyclegan-wasm/cyclegan/engine"
)

// Two-worker training.
//
// In the browser one Go instance runs on one thread, so two cores mean two
// Web Workers, each with its own Go instance and its own replica of the
// four networks, optimisers and pool random state. One iteration of
// Trainer.Step splits into two halves that exchange one message each:
//
//	worker 0 (A → B → A, owns D_A)          worker 1 (B → A → B, owns D_B)
//	GeneratorHalf(A)                        GeneratorHalf(B)
//	  fake_B = G_A(A), rec_A = G_B(fake_B)    fake_A = G_B(B), rec_B = G_A(fake_A)
//	  ∇ of MSE(D_A(fake_B),1)                 ∇ of MSE(D_B(fake_A),1)
//	     + λA·L1(rec_A,A)                        + λB·L1(rec_B,B)
//	     + λA·λidt·L1(G_B(A),A)                  + λB·λidt·L1(G_A(B),B)
//	DiscriminatorHalf(B)                    DiscriminatorHalf(A)
//	  pool_B(fake_B), replay pool_A's draws   replay pool_B's draws, pool_A(fake_A)
//	  ∇ of D_A's loss on (B, pooled fake_B)   ∇ of D_B's loss on (A, pooled fake_A)
//	  ── msg₀ ────────────────────────────▶
//	  ◀──────────────────────────── msg₁ ──
//	FinishStep(msg₁)                        FinishStep(msg₀)
//	  G step on gradG₀ + gradG₁               G step on gradG₁ + gradG₀ (same bits)
//	  D step on D_A                           D step on D_B
//
// Each worker's discriminator judges its own generator half and trains on
// its own fake, so a discriminator never leaves its worker: only the
// generators' gradient crosses, with the losses. (The reference's
// discriminator step needs the fakes of before the generators' step, so
// the generator step can wait for the end of the iteration.)
//
// The message goes in two parts, so that neither worker waits for the
// other to finish all of its work. The generator part (gradient and
// generator terms) is ready after the generator half, and the other worker
// needs it only after its discriminator half. The discriminator part (loss
// and finiteness) is ready after the discriminator half, but only reports:
// each worker takes its own discriminator's step on its own gradient, as
// soon as the generators' step is in (a discriminator whose loss or
// gradient is not finite is discarded alone, as in Trainer.Step), and the
// other's part only completes the losses and the count of bad steps. So it
// can wait until the other worker's next generator part arrives. In finer
// steps, each worker runs
//
//	GeneratorForward     fake and rec of iteration k
//	GeneratorBackward    → generator part of k
//	DiscriminatorHalf    → discriminator part of k
//	FinishDiscriminator  (the other's discriminator part of k−1)
//	FinishGenerators     (the other's generator part of k)
//
// and each wait has a stretch of work in front of it, a discriminator
// half or a whole generator half, to absorb the two workers' differences
// in speed from one iteration to the next. GeneratorHalf,
// DiscriminatorHalf and FinishStep run the same iteration in one piece.
//
// The generator objective is the sum of the two halves' terms, so the sum of
// the two halves' gradients is its gradient; float32 addition is
// commutative, so both workers hold the same bits after the sum and take the
// same Adam step. Against a single Trainer the only difference is the order
// in which each parameter's partial gradients are added (the single tape
// accumulates all six terms into one buffer), a rounding difference. The
// discriminator steps are exact: each discriminator's loss involves one
// worker's images, and Adam is elementwise, so D_A's step on worker 0 is
// the single trainer's step of D_A.
//
// Either worker can compute either identity term (each needs one
// generator, which both replicas hold, and one real image, which both
// workers have): GeneratorBackwardSharing moves one from a worker on a
// slower core to the other, as IdentityBalancer decides. That changes
// only which worker adds which gradient.
//
// So the replicas hold the same generators, generator optimiser, counters
// and pool random state, and each holds its own discriminator (weights and
// Adam state) current; its copy of the other one is stale until a
// checkpoint gathers it (OwnState, MarshalCheckpoint).
//
// The pools draw from one random stream, pool_B first, then pool_A, as in
// Trainer.Step. Each worker keeps the images of the pool its discriminator
// sees (worker 0: pool_B, worker 1: pool_A) and only counts the other
// pool's fill level, which is enough to replay the other pool's draws
// without its images.
//
// A message is SplitMessageFloats(cfg) float32 values: both generators'
// gradients in OptG.Params order (G_A then G_B, state-dict order), then
// the six generator loss terms GA, GB, CycleA, CycleB, IdtA, IdtB (zero
// for those the other worker computed), the number of identity terms this
// worker computed, then this worker's discriminator loss and 1 if its
// discriminator's gradient is finite (0 if not). The losses ride along
// so that both workers see the same complete Losses and count bad steps
// alike, from the same values. A non-finite
// generator objective discards the whole iteration, as Trainer.Step does
// before it touches the pools, so DiscriminatorHalf's pool query is undone
// then.

// genLossTerms is the number of generator loss values after the gradient
// in a message: GA, GB, CycleA, CycleB, IdtA, IdtB.
const genLossTerms = 6

// genTail is the number of values after the gradient in a message's
// generator part: the loss terms and the count of identity terms.
const genTail = genLossTerms + 1

// SplitDiscriminatorFloats is the size of the discriminator part of a
// message, its last values: the discriminator's loss and its gradient's
// finiteness.
const SplitDiscriminatorFloats = 2

// msgTail is the number of values after the gradient in a message: the
// generator part's and the discriminator part.
const msgTail = genTail + SplitDiscriminatorFloats

// SplitTrainer is one of the two halves of a two-worker run: a replica of
// the Trainer's state that computes half of each iteration.
//
// An iteration is GeneratorHalf, DiscriminatorHalf, FinishStep on both
// workers; FinishStep takes what the other worker's DiscriminatorHalf
// returned. After FinishStep (or a discarded step) the two replicas hold
// the same generators, counters and pool random state. An error other than
// ErrNonFinite or ErrDiverged (a call out of order, a message of the wrong
// size) leaves the iteration where it was: retry with the right message,
// or restart both workers from a checkpoint.
type SplitTrainer struct {
	// Trainer is this worker's replica. Read it freely (Config, Iteration,
	// generators, this worker's discriminator, LastPreview: this half's
	// three images); do not call its Step.
	Trainer *Trainer

	half      int
	phase     int
	ghostFill int          // images in the pool this worker does not hold
	optD      *engine.Adam // the part of Trainer.OptD over this worker's discriminator

	real, otherReal *engine.Tensor // this iteration's images, copied
	fake, rec       *engine.Tensor // GeneratorForward's, on the tape
	msg             []float32      // this half's message
	l               Losses         // this half's losses so far
	// pendingD: FinishGenerators is done and FinishDiscriminator due;
	// discarded: FinishGenerators discarded the iteration; ownStepped:
	// it took this worker's discriminator's step. pendingIt and pendingL
	// are that iteration's number and losses (the next iteration may
	// begin before FinishDiscriminator).
	pendingD, discarded, ownStepped bool
	pendingIt                       int
	pendingL                        Losses

	// What DiscriminatorHalf changed in the pools, to undo it when the
	// generator step is discarded: the random state and fill count before,
	// and the own pool's length and the slots it swapped (one per image,
	// -1 for none).
	rngBefore   []byte
	ghostBefore int
	poolLen     int
	swapped     []int
}

// Phases of an iteration: which call comes next.
const (
	phaseGenerator = iota
	phaseBackward
	phaseDiscriminator
	phaseFinish
)

var phaseNames = [...]string{"GeneratorHalf (or GeneratorForward)", "GeneratorBackward", "DiscriminatorHalf", "FinishStep (or FinishGenerators)"}

// NewSplitTrainer builds half (0: A → B → A, owns D_A; 1: B → A → B, owns
// D_B) of a two-worker run. The networks are initialised as NewTrainer
// does, so both halves of one configuration start identical.
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
	s.msg = make([]float32, SplitMessageFloats(t.Config))
	s.optD = t.optDA
	if half == 1 {
		s.optD = t.optDB
	}
	return s, nil
}

// SplitMessageFloats is the size, in float32 values, of the message each
// worker sends per iteration under cfg (both generators' gradients and
// the losses), so an iteration moves 2·4·SplitMessageFloats bytes.
func SplitMessageFloats(cfg Config) int {
	return 2*generatorParams(cfg.NGF, cfg.Blocks) + msgTail
}

// SplitGeneratorFloats is the size of a message's generator part under
// cfg: SplitMessageFloats without the discriminator part.
func SplitGeneratorFloats(cfg Config) int {
	return SplitMessageFloats(cfg) - SplitDiscriminatorFloats
}

// SplitStateFloats is the size, in float32 values, of the discriminator
// state OwnState returns under cfg: weights, first and second moments.
func SplitStateFloats(cfg Config) int {
	return 3 * discriminatorParams(cfg.NDF, cfg.DLayers)
}

// Half is 0 for the worker that goes A → B → A, 1 for B → A → B.
func (s *SplitTrainer) Half() int { return s.half }

// ownD is the discriminator this half judges with and trains: D_A (fakes
// of B) for half 0, D_B (fakes of A) for half 1.
func (s *SplitTrainer) ownD() *Discriminator {
	if s.half == 0 {
		return s.Trainer.DA
	}
	return s.Trainer.DB
}

// ownPool holds the fakes ownD is shown: pool_B for half 0, pool_A for half 1.
func (s *SplitTrainer) ownPool() *ImagePool {
	if s.half == 0 {
		return s.Trainer.PoolB
	}
	return s.Trainer.PoolA
}

func (s *SplitTrainer) otherPool() *ImagePool {
	if s.half == 0 {
		return s.Trainer.PoolA
	}
	return s.Trainer.PoolB
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
// the fake image it made (fake_B from half 0, fake_A from half 1; valid
// until the next GeneratorHalf) and this half's loss terms (G is their
// sum). It is GeneratorForward then GeneratorBackward.
func (s *SplitTrainer) GeneratorHalf(real *engine.Tensor) (fake *engine.Tensor, l Losses, err error) {
	if err := s.GeneratorForward(real); err != nil {
		return nil, l, err
	}
	fake, _, l, err = s.GeneratorBackward()
	return fake, l, err
}

// GeneratorForward starts an iteration (see GeneratorHalf) with the two
// generator passes of this half's cycle, fake = G(real) and rec = F(fake).
// GeneratorBackward goes on from there.
func (s *SplitTrainer) GeneratorForward(real *engine.Tensor) error {
	if err := s.checkPhase(phaseGenerator); err != nil {
		return err
	}
	if err := checkSplitImage(real); err != nil {
		return err
	}
	real = copyInto(&s.real, real)
	t := s.Trainer
	there, back := s.generators()
	tp := t.tapeG
	tp.Reset()
	s.fake = there.Forward(tp, real)
	s.rec = back.Forward(tp, s.fake)
	s.phase = phaseBackward
	return nil
}

// generators are this half's way there and back: G_A then G_B for half 0,
// G_B then G_A for half 1.
func (s *SplitTrainer) generators() (there, back *Generator) {
	if s.half == 1 {
		return s.Trainer.GB, s.Trainer.GA
	}
	return s.Trainer.GA, s.Trainer.GB
}

// GeneratorBackward finishes what GeneratorForward started: the
// discriminator's verdict on the fake, the cycle and identity terms, and
// the backward pass. It returns the fake image, the
// generator part of this worker's message (SplitGeneratorFloats values:
// the generators' gradient and this half's loss terms; valid until the
// next GeneratorBackward) and this half's loss terms. It computes this
// half's identity term: GeneratorBackwardSharing(1, nil).
func (s *SplitTrainer) GeneratorBackward() (fake *engine.Tensor, gmsg []float32, l Losses, err error) {
	return s.GeneratorBackwardSharing(1, nil)
}

// GeneratorBackwardSharing is GeneratorBackward computing identityTerms
// of the iteration's two identity terms: 1, this half's (G_B(A) against A
// for half 0, G_A(B) against B for half 1); 2, both, the other half's on
// otherReal, the other domain's real image of the iteration (B for half
// 0, A for half 1; nil otherwise); or 0, none. The other worker computes
// the rest: the two workers' counts of an iteration must add up to 2,
// which FinishGenerators checks.
//
// An identity term needs nothing but a generator both replicas hold and
// an image both workers have, so either worker can compute it. Each is
// about a quarter of a generator half's work: moving one from the slower
// worker to the faster evens out two cores that do not run at the same
// speed (another tab or program on one, a slow core and a fast one). The
// sum, and so the step, is the same up to the order in which float32
// gradients are added; the losses are the same bits.
func (s *SplitTrainer) GeneratorBackwardSharing(identityTerms int, otherReal *engine.Tensor) (fake *engine.Tensor, gmsg []float32, l Losses, err error) {
	if err := s.checkPhase(phaseBackward); err != nil {
		return nil, nil, l, err
	}
	if identityTerms < 0 || identityTerms > 2 {
		return nil, nil, l, fmt.Errorf("split: %d identity terms, want 0, 1 or 2", identityTerms)
	}
	if identityTerms == 2 {
		if otherReal == nil || !slices.Equal(otherReal.Shape, s.real.Shape) {
			return nil, nil, l, fmt.Errorf("split: other real image %v for the other identity term, want the shape of this worker's %v", otherReal, s.real)
		}
		otherReal = copyInto(&s.otherReal, otherReal)
	}
	t, cfg := s.Trainer, s.Trainer.Config
	lr := t.LearningRate()
	t.OptG.LR, t.OptD.LR, s.optD.LR = lr, lr, lr
	t.Iteration++

	// Half 0 goes A → B → A and is judged by D_A; half 1 goes B → A → B
	// and is judged by D_B.
	there, back := s.generators()
	judge := s.ownD()
	lambda, otherLambda := cfg.LambdaA, cfg.LambdaB
	if s.half == 1 {
		lambda, otherLambda = cfg.LambdaB, cfg.LambdaA
	}
	tp, real, rec := t.tapeG, s.real, s.rec
	fake = s.fake
	SetRequiresGrad(judge, false)
	adv := engine.MSE(tp, judge.Forward(tp, fake), 1)
	cyc := engine.Scale(tp, engine.L1(tp, rec, real), float32(lambda))
	loss := engine.Add(tp, adv, cyc)
	// This half's identity term goes through the way back (the generator
	// into its own domain), the other half's through the way there.
	identity := func(g *Generator, img *engine.Tensor, lambda float64) float32 {
		term := engine.Scale(tp, engine.L1(tp, g.Forward(tp, img), img), float32(lambda*cfg.LambdaIdentity))
		loss = engine.Add(tp, loss, term)
		return term.Item()
	}
	var idt, otherIdt float32
	computed := 0
	if cfg.LambdaIdentity > 0 {
		if identityTerms >= 1 {
			idt = identity(back, real, lambda)
		}
		if identityTerms == 2 {
			otherIdt = identity(there, otherReal, otherLambda)
		}
		computed = identityTerms
	}
	t.OptG.ZeroGrad()
	tp.Backward(loss)
	SetRequiresGrad(judge, true)

	n := flatten(s.msg, t.OptG.Params)
	tail := s.msg[n:]
	clear(tail)
	// GA, GB, CycleA, CycleB, IdtA, IdtB: half 0 has GA, CycleA and IdtB
	// (G_B(A) against A), half 1 GB, CycleB and IdtA (G_A(B) against B),
	// and either may have the other's identity term.
	if s.half == 0 {
		tail[0], tail[2], tail[5], tail[4] = adv.Item(), cyc.Item(), idt, otherIdt
		t.last.RealA, t.last.FakeB, t.last.RecA = real, fake, rec
	} else {
		tail[1], tail[3], tail[4], tail[5] = adv.Item(), cyc.Item(), idt, otherIdt
		t.last.RealB, t.last.FakeA, t.last.RecB = real, fake, rec
	}
	tail[genLossTerms] = float32(computed)
	l = termLosses(tail)
	l.G = float64(loss.Item())
	s.l = l
	s.phase = phaseDiscriminator
	return fake, s.msg[:n+genTail], l, nil
}

// DiscriminatorHalf runs this worker's discriminator on the other domain's
// real image of the iteration (B for half 0, A for half 1; it is copied)
// and this worker's fake through its pool, and returns the message for the
// other worker (valid until the next GeneratorBackward) and this half's
// losses: its generator terms and its discriminator's loss. Nothing is
// stepped yet. The message is the generator part GeneratorBackward
// returned followed by the discriminator part, its last
// SplitDiscriminatorFloats values.
func (s *SplitTrainer) DiscriminatorHalf(otherReal *engine.Tensor) (msg []float32, l Losses, err error) {
	if err := s.checkPhase(phaseDiscriminator); err != nil {
		return nil, l, err
	}
	if otherReal == nil || !slices.Equal(otherReal.Shape, s.real.Shape) {
		return nil, l, fmt.Errorf("split: other real image %v, want the shape of this worker's %v", otherReal, s.real)
	}
	otherReal = copyInto(&s.otherReal, otherReal)
	t := s.Trainer

	// The pools draw in Trainer.Step's order: pool_B, then pool_A. Keep
	// what is needed to undo the draws.
	rng, err := t.PoolRNG.AppendBinary(s.rngBefore[:0])
	if err != nil {
		return nil, l, fmt.Errorf("split: pool random state: %w", err)
	}
	s.rngBefore, s.ghostBefore = rng, s.ghostFill
	own := s.ownPool()
	s.poolLen = len(own.Images)
	fake := t.last.FakeB
	if s.half == 1 {
		fake = t.last.FakeA
	}
	n := fake.Shape[0]
	if s.half == 1 {
		s.replayOtherPool(n)
	}
	s.swapped = s.swapped[:0]
	pooled := own.query(fake, t.poolRand, &s.swapped)
	if s.half == 0 {
		s.replayOtherPool(n)
	}

	tp := t.tapeD
	tp.Reset()
	lossD := discriminatorLoss(tp, s.ownD(), otherReal, pooled)
	s.optD.ZeroGrad()
	tp.Backward(lossD)

	tail := s.msg[len(s.msg)-SplitDiscriminatorFloats:]
	tail[0] = lossD.Item()
	tail[1] = 0
	if finiteGrads(s.optD.Params) {
		tail[1] = 1
	}
	l = s.l
	if s.half == 0 {
		l.DA = float64(lossD.Item())
	} else {
		l.DB = float64(lossD.Item())
	}
	s.phase = phaseFinish
	return s.msg, l, nil
}

// FinishStep takes the other worker's whole message (DiscriminatorHalf's)
// and completes the iteration: the generators' Adam step on the sum of both
// halves' gradients, then this worker's discriminator's. It returns the
// iteration's losses, the same on both workers and as Trainer.Step reports
// them. It is FinishGenerators then FinishDiscriminator.
//
// As in Trainer.Step, if the generator objective or the summed gradient
// is not finite the whole iteration is discarded (no weight, pool or
// random state changes; the error wraps ErrNonFinite, or ErrDiverged after
// MaxBadSteps in a row); if a discriminator's loss or gradient is not
// finite, that discriminator's step alone is discarded. Both workers
// count the bad step alike, from the same values.
func (s *SplitTrainer) FinishStep(other []float32) (Losses, error) {
	if s.pendingD {
		return Losses{}, fmt.Errorf("split: FinishStep called when FinishDiscriminator is due")
	}
	if len(other) != len(s.msg) {
		return Losses{}, fmt.Errorf("split: message of %d values, want %d", len(other), len(s.msg))
	}
	n := len(other) - SplitDiscriminatorFloats
	l, errG := s.FinishGenerators(other[:n])
	if !s.pendingD { // the call was refused
		return l, errG
	}
	l, errD := s.FinishDiscriminator(other[n:])
	if errG != nil {
		return l, errG
	}
	return l, errD
}

// FinishGenerators takes the generator part of the other worker's message
// (what its GeneratorBackward returned) and takes the generators' Adam
// step on the sum of both halves' gradients, then this worker's
// discriminator's (unless its loss or gradient is not finite), or
// discards the whole iteration, as FinishStep describes. The other
// worker's discriminator part of the iteration is then due:
// FinishDiscriminator, before the next FinishGenerators (the next
// iteration's GeneratorForward, GeneratorBackward and DiscriminatorHalf
// may come first). The losses it returns lack the other worker's
// discriminator loss (NaN).
func (s *SplitTrainer) FinishGenerators(otherG []float32) (Losses, error) {
	if s.pendingD {
		return Losses{}, fmt.Errorf("split: FinishGenerators called before FinishDiscriminator of iteration %d", s.pendingIt)
	}
	if err := s.checkPhase(phaseFinish); err != nil {
		return Losses{}, err
	}
	if want := len(s.msg) - SplitDiscriminatorFloats; len(otherG) != want {
		return Losses{}, fmt.Errorf("split: generator message of %d values, want %d", len(otherG), want)
	}
	t := s.Trainer
	n := len(otherG) - genTail
	if own, other := s.msg[n+genLossTerms], otherG[n+genLossTerms]; t.Config.LambdaIdentity > 0 && own+other != 2 {
		return Losses{}, fmt.Errorf("split: this worker computed %g identity terms and the other %g, want 2 in all", own, other)
	}

	// The generators' gradient: own (in the Grad buffers) + other's.
	off := 0
	for _, p := range t.OptG.Params {
		o := otherG[off : off+len(p.Grad)]
		for j := range p.Grad {
			p.Grad[j] += o[j]
		}
		off += len(p.Grad)
	}
	var terms [genLossTerms]float32
	for i := range terms {
		terms[i] = s.msg[off+i] + otherG[off+i]
	}
	l := termLosses(terms[:])
	// The total as Trainer.Step adds it, in float32 and in its order.
	g := terms[0] + terms[1] + terms[2] + terms[3]
	if t.Config.LambdaIdentity > 0 {
		g = g + terms[4] + terms[5]
	}
	l.G = float64(g)
	ownD := float64(s.msg[len(s.msg)-SplitDiscriminatorFloats])
	l.DA, l.DB = ownD, math.NaN()
	if s.half == 1 {
		l.DA, l.DB = math.NaN(), ownD
	}
	s.phase = phaseGenerator
	s.pendingD, s.pendingIt, s.pendingL = true, t.Iteration, l
	s.l = l
	if !finite(l.G) || !finiteGrads(t.OptG.Params) {
		t.OptG.ZeroGrad()
		s.optD.ZeroGrad()
		s.discarded, s.ownStepped = true, false
		if err := s.undoPools(); err != nil {
			return l, err
		}
		return l, t.discardAt(t.Iteration, fmt.Sprintf("generator objective %g", l.G), "step")
	}
	s.discarded = false
	t.OptG.Step()
	// This worker's discriminator steps on its own loss and gradient, as
	// in Trainer.Step (the last value of the message is its gradient's
	// finiteness, as DiscriminatorHalf found it).
	s.ownStepped = finite(ownD) && s.msg[len(s.msg)-1] == 1
	if s.ownStepped {
		s.optD.Step()
	} else {
		s.optD.ZeroGrad()
	}
	return l, nil
}

// FinishDiscriminator takes the discriminator part of the other worker's
// message (the last SplitDiscriminatorFloats values of what its
// DiscriminatorHalf returned) and ends the iteration FinishGenerators
// took: the other discriminator's loss, and whether either
// discriminator's step was discarded (a bad step, counted alike on both
// workers; nothing more if the generator step was discarded). Each
// worker has taken its own discriminator's step already: this changes
// no weight. It returns the iteration's complete losses.
func (s *SplitTrainer) FinishDiscriminator(otherD []float32) (Losses, error) {
	if !s.pendingD {
		return Losses{}, fmt.Errorf("split: FinishDiscriminator with no discriminator part due")
	}
	if len(otherD) != SplitDiscriminatorFloats {
		return Losses{}, fmt.Errorf("split: discriminator message of %d values, want %d", len(otherD), SplitDiscriminatorFloats)
	}
	l := s.pendingL
	if s.half == 0 {
		l.DB = float64(otherD[0])
	} else {
		l.DA = float64(otherD[0])
	}
	s.pendingD = false
	if s.discarded {
		return l, nil
	}
	otherStepped := otherD[1] == 1 && finite(float64(otherD[0]))
	okA, okB := s.ownStepped, otherStepped
	if s.half == 1 {
		okA, okB = otherStepped, s.ownStepped
	}
	return l, s.Trainer.settleDiscriminators(s.pendingIt, okA, okB, l)
}

// PendingDiscriminator reports whether FinishDiscriminator is due.
func (s *SplitTrainer) PendingDiscriminator() bool { return s.pendingD }

// undoPools takes back DiscriminatorHalf's pool draws: the random state,
// the other pool's fill count and the own pool's images.
func (s *SplitTrainer) undoPools() error {
	if err := s.Trainer.PoolRNG.UnmarshalBinary(s.rngBefore); err != nil {
		return fmt.Errorf("split: restoring the pool random state: %w", err)
	}
	s.ghostFill = s.ghostBefore
	s.ownPool().undo(s.poolLen, s.swapped)
	return nil
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

// OwnState returns what a checkpoint needs from this worker that the other
// lacks: the images of the pool it holds (pool_B for half 0, pool_A for
// half 1; not copies) and its discriminator's state, SplitStateFloats
// values (weights, then Adam's first and second moments, each in
// state-dict order) and Adam's step count per parameter. Send them to the
// other worker for its MarshalCheckpoint. Call it between iterations,
// with no discriminator part due (PendingDiscriminator). They are valid
// until the next step.
func (s *SplitTrainer) OwnState() (pool []*engine.Tensor, d []float32, steps []int64) {
	d = make([]float32, 0, SplitStateFloats(s.Trainer.Config))
	for _, p := range s.optD.Params {
		d = append(d, p.Data...)
	}
	for _, m := range s.optD.M {
		d = append(d, m...)
	}
	for _, v := range s.optD.V {
		d = append(d, v...)
	}
	return s.ownPool().Images, d, slices.Clone(s.optD.Steps)
}

// ErrSplitState is wrapped when a split run's checkpoint cannot be written
// from the state at hand.
var ErrSplitState = errors.New("split state")

// MarshalCheckpoint writes the run's checkpoint (as MarshalCheckpoint of a
// single Trainer, loadable by UnmarshalCheckpoint and resumable by a single
// Trainer or by Split on two workers) from this worker's replica and the
// other worker's OwnState, which it takes into this replica. Call it
// between iterations; either worker gives the same bytes.
func (s *SplitTrainer) MarshalCheckpoint(otherPool []*engine.Tensor, otherD []float32, otherSteps []int64, extra map[string]string) ([]byte, error) {
	if s.phase != phaseGenerator || s.pendingD {
		due := phaseNames[s.phase]
		if s.pendingD {
			due = "FinishDiscriminator"
		}
		return nil, fmt.Errorf("split: checkpoint in the middle of an iteration (%s is due): %w", due, ErrSplitState)
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
	o := discriminatorAdam(s.Trainer, 1-s.half)
	if len(otherD) != SplitStateFloats(s.Trainer.Config) || len(otherSteps) != len(o.Steps) {
		return nil, fmt.Errorf("split: other discriminator state of %d values and %d step counts, want %d and %d: %w",
			len(otherD), len(otherSteps), SplitStateFloats(s.Trainer.Config), len(o.Steps), ErrSplitState)
	}
	// The layout OwnState writes: weights, first moments, second moments.
	off := 0
	for _, p := range o.Params {
		off += copy(p.Data, otherD[off:])
	}
	for _, m := range o.M {
		off += copy(m, otherD[off:])
	}
	for _, v := range o.V {
		off += copy(v, otherD[off:])
	}
	copy(o.Steps, otherSteps)
	other := s.otherPool()
	other.Images = otherPool
	defer func() { other.Images = nil }()
	return MarshalCheckpoint(s.Trainer, extra)
}

// checkSplitImage accepts a real image of [N, 3, H, W] with H, W multiples
// of 4.
func checkSplitImage(real *engine.Tensor) error {
	if real == nil || len(real.Shape) != 4 || real.Shape[1] != 3 || real.Shape[2]%4 != 0 || real.Shape[3]%4 != 0 || real.Shape[0] < 1 {
		return fmt.Errorf("split: real image %v: want [N, 3, H, W] with H, W multiples of 4", real)
	}
	return nil
}

// copyInto copies src into *dst, allocating it when its shape differs,
// and returns *dst.
func copyInto(dst **engine.Tensor, src *engine.Tensor) *engine.Tensor {
	if *dst == nil || !slices.Equal((*dst).Shape, src.Shape) {
		*dst = engine.New(src.Shape...)
	}
	copy((*dst).Data, src.Data)
	return *dst
}

// termLosses reads the six generator terms of a message's tail.
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

// IdentityBalancer chooses, iteration by iteration, how many of the two
// identity terms worker 0 computes (GeneratorBackwardSharing; worker 1
// computes the rest), so that the worker on the faster core takes the
// work the slower one would finish late. Two workers wait for each other
// once per iteration, so an iteration takes as long as the slower one;
// browser cores are seldom equal for long (another tab or program, a
// performance and an efficiency core, a host's other tenants).
//
// It models each worker's iteration as a base plus its identity terms,
// each costing about a quarter of its generator half (the cycle's two
// generator passes, the discriminator's verdict and the identity term are
// four passes of about the same cost), smooths base and cost over the
// last iterations, and picks the count with the shortest slower worker,
// changing only for a clear gain. The zero value starts with one term
// each.
type IdentityBalancer struct {
	terms      int        // worker 0's count for the iteration Next returns it for
	seen       bool       // base and cost hold a measurement
	base, cost [2]float64 // smoothed, ms, per worker
}

// identityBalanceSmoothing weighs the newest iteration in the balancer's
// running averages, and identityBalanceGain is the least predicted gain,
// as a fraction of the slower worker's time, for which it moves an
// identity term. Together: a core 30% slower for three iterations moves
// a term; one iteration 40% slower, or a core 10% slower, does not, as a
// move on noise would cost more than it gains.
const (
	identityBalanceSmoothing = 1.0 / 3
	identityBalanceGain      = 0.05
)

// Terms is worker 0's count of identity terms for the next iteration: 1
// until Next has seen one.
func (b *IdentityBalancer) Terms() int {
	if !b.seen {
		return 1
	}
	return b.terms
}

// Next takes how long each worker computed in the last iteration (busy:
// its generator and discriminator halves, ms) and how long its generator
// half took (gen, ms, which holds its identity terms), with worker 0
// computing Terms() identity terms then, and returns worker 0's count
// for the next iteration.
func (b *IdentityBalancer) Next(busy, gen [2]float64) int {
	cur := b.Terms()
	counts := [2]float64{float64(cur), float64(2 - cur)}
	for w := range busy {
		if !(busy[w] > 0) || !(gen[w] > 0) || gen[w] > busy[w] {
			return cur // not a measurement
		}
	}
	for w := range busy {
		cost := gen[w] / (3 + counts[w])
		base := busy[w] - counts[w]*cost
		if !b.seen {
			b.base[w], b.cost[w] = base, cost
			continue
		}
		a := identityBalanceSmoothing
		b.base[w] = a*base + (1-a)*b.base[w]
		b.cost[w] = a*cost + (1-a)*b.cost[w]
	}
	b.seen, b.terms = true, cur
	slower := func(t int) float64 {
		return max(b.base[0]+float64(t)*b.cost[0], b.base[1]+float64(2-t)*b.cost[1])
	}
	best := cur
	for t := 0; t <= 2; t++ {
		if slower(t) < slower(best) {
			best = t
		}
	}
	if slower(best) < (1-identityBalanceGain)*slower(cur) {
		b.terms = best
	}
	return b.terms
}
