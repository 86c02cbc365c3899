package cyclegan

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cyclegan-wasm/cyclegan/engine"
)

// Losses are the terms of one iteration, named as the reference logs them.
type Losses struct {
	DA, GA, CycleA, IdtA float64 `json:",omitempty"`
	DB, GB, CycleB, IdtB float64 `json:",omitempty"`
	G                    float64 // the generators' total objective
}

// ErrNonFinite is wrapped when a step produced a non-finite loss or
// gradient: that step was discarded and no weight changed.
var ErrNonFinite = errors.New("non-finite loss or gradient")

// ErrDiverged is wrapped when MaxBadSteps steps in a row were discarded:
// training cannot go on from these weights.
var ErrDiverged = errors.New("training diverged")

// MaxBadSteps is how many discarded steps in a row count as divergence.
const MaxBadSteps = 5

// Trainer runs the reference's optimisation of CycleGAN with batch size 1.
// G_A maps A → B and is judged by D_A (on B images); G_B maps B → A and is
// judged by D_B.
type Trainer struct {
	Config Config

	GA, GB *Generator
	DA, DB *Discriminator

	// OptD runs over D_A's parameters, then D_B's; optDA and optDB are
	// its two parts (sharing its parameters, moments and step counts), so
	// that each discriminator can step, or not, on its own.
	OptG, OptD   *engine.Adam
	optDA, optDB *engine.Adam

	PoolA *ImagePool // fakes of domain A (G_B's outputs), shown to D_B
	PoolB *ImagePool // fakes of domain B (G_A's outputs), shown to D_A

	// Iteration counts the iterations done, discarded ones included.
	Iteration int
	// BadSteps counts the discarded steps since the last good one.
	BadSteps int

	// PoolRNG draws the pools' choices; its state is part of a checkpoint.
	PoolRNG *rand.PCG

	poolRand     *rand.Rand
	tapeG, tapeD *engine.Tape
	// Images of the last iteration, for previews (valid until the next Step).
	last struct{ RealA, FakeB, RecA, RealB, FakeA, RecB *engine.Tensor }
}

// Random streams of a run: one seed, independent streams for weights, data
// and the pools, so that changing one use of randomness leaves the others.
const (
	streamInit = 1
	streamData = 2
	streamPool = 3
)

// NewTrainer builds the four networks, draws their weights from the seed
// and sets up the optimisers. It fails if the configuration is invalid.
func NewTrainer(cfg Config) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &Trainer{
		Config: cfg,
		GA:     NewGenerator(cfg.NGF, cfg.Blocks),
		GB:     NewGenerator(cfg.NGF, cfg.Blocks),
		DA:     NewDiscriminator(cfg.NDF, cfg.DLayers),
		DB:     NewDiscriminator(cfg.NDF, cfg.DLayers),
		PoolA:  NewImagePool(cfg.PoolSize),
		PoolB:  NewImagePool(cfg.PoolSize),
		tapeG:  engine.NewTape(),
		tapeD:  engine.NewTape(),
	}
	// The reference initialises G_A, G_B, D_A, D_B in that order.
	initRNG := rand.New(rand.NewPCG(cfg.Seed, streamInit))
	for _, net := range t.Networks() {
		InitWeights(net.Net, initRNG)
	}
	t.PoolRNG = rand.NewPCG(cfg.Seed, streamPool)
	t.poolRand = rand.New(t.PoolRNG)
	t.OptG = engine.NewAdam(tensors(t.GA, t.GB), cfg.LR, cfg.Beta1, cfg.Beta2)
	t.OptD = engine.NewAdam(tensors(t.DA, t.DB), cfg.LR, cfg.Beta1, cfg.Beta2)
	t.optDA, t.optDB = discriminatorAdam(t, 0), discriminatorAdam(t, 1)
	return t, nil
}

// discriminatorAdam is the part of t.OptD over D_A (half 0) or D_B (half
// 1): an Adam sharing its parameters, moments and step counts. OptD runs
// over D_A's parameters, then D_B's.
func discriminatorAdam(t *Trainer, half int) *engine.Adam {
	d := t.OptD
	lo, hi := 0, len(t.DA.Parameters())
	if half == 1 {
		lo, hi = hi, len(d.Params)
	}
	return &engine.Adam{LR: d.LR, Beta1: d.Beta1, Beta2: d.Beta2, Eps: d.Eps,
		Params: d.Params[lo:hi], M: d.M[lo:hi], V: d.V[lo:hi], Steps: d.Steps[lo:hi]}
}

// DataRNG returns the source of the run's data randomness (sampling,
// crops, flips), for the data pipeline; its state goes into checkpoints
// alongside the trainer's.
func DataRNG(cfg Config) *rand.PCG { return rand.NewPCG(cfg.Seed, streamData) }

// NamedNetwork is one of the four networks with its checkpoint prefix.
type NamedNetwork struct {
	Name string // "G_A", "G_B", "D_A" or "D_B"
	Net  Network
}

// Networks lists the four networks in the reference's order.
func (t *Trainer) Networks() []NamedNetwork {
	return []NamedNetwork{{"G_A", t.GA}, {"G_B", t.GB}, {"D_A", t.DA}, {"D_B", t.DB}}
}

func tensors(nets ...Network) []*engine.Tensor {
	var ts []*engine.Tensor
	for _, n := range nets {
		for _, p := range n.Parameters() {
			ts = append(ts, p.Tensor)
		}
	}
	return ts
}

// LearningRate is the rate the next Step will use.
func (t *Trainer) LearningRate() float64 { return t.Config.LearningRate(t.Iteration) }

// Step runs one iteration on realA and realB ([1, 3, S, S] in [−1, 1]):
//
//  1. fake_B = G_A(A), rec_A = G_B(fake_B), fake_A = G_B(B), rec_B = G_A(fake_A);
//  2. with D_A and D_B frozen, one Adam step of both generators on
//     MSE(D_A(fake_B), 1) + MSE(D_B(fake_A), 1) + λA·L1(rec_A, A) + λB·L1(rec_B, B)
//     + λB·λidt·L1(G_A(B), B) + λA·λidt·L1(G_B(A), A);
//  3. one Adam step of both discriminators on
//     ½(MSE(D_A(B), 1) + MSE(D_A(pool_B(fake_B)), 0)) + ½(MSE(D_B(A), 1) + MSE(D_B(pool_A(fake_A)), 0)),
//     with the fakes of step 1, from before the generators moved.
//
// If the generator objective or its gradient is not finite, nothing is
// updated (not the weights, not the pools) and the error wraps
// ErrNonFinite. A discriminator whose loss or gradient is not finite has
// its step discarded alone: the generators, the pools and the other
// discriminator still step, and the error wraps ErrNonFinite. (The two
// discriminators' losses are separate sums over separate images, so one's
// overflow says nothing against the other's step.) After MaxBadSteps
// iterations in a row with a discarded step the error wraps ErrDiverged.
func (t *Trainer) Step(realA, realB *engine.Tensor) (Losses, error) {
	cfg := t.Config
	lr := t.LearningRate()
	t.OptG.LR, t.OptD.LR, t.optDA.LR, t.optDB.LR = lr, lr, lr, lr
	t.Iteration++
	var l Losses

	// 1–2: the generators.
	tp := t.tapeG
	tp.Reset()
	fakeB := t.GA.Forward(tp, realA)
	recA := t.GB.Forward(tp, fakeB)
	fakeA := t.GB.Forward(tp, realB)
	recB := t.GA.Forward(tp, fakeA)
	t.last.RealA, t.last.FakeB, t.last.RecA = realA, fakeB, recA
	t.last.RealB, t.last.FakeA, t.last.RecB = realB, fakeA, recB

	SetRequiresGrad(t.DA, false)
	SetRequiresGrad(t.DB, false)
	terms := make([]*engine.Tensor, 0, 6)
	lossGA := engine.MSE(tp, t.DA.Forward(tp, fakeB), 1)
	lossGB := engine.MSE(tp, t.DB.Forward(tp, fakeA), 1)
	cycA := engine.Scale(tp, engine.L1(tp, recA, realA), float32(cfg.LambdaA))
	cycB := engine.Scale(tp, engine.L1(tp, recB, realB), float32(cfg.LambdaB))
	terms = append(terms, lossGA, lossGB, cycA, cycB)
	l.GA, l.GB = float64(lossGA.Item()), float64(lossGB.Item())
	l.CycleA, l.CycleB = float64(cycA.Item()), float64(cycB.Item())
	if cfg.LambdaIdentity > 0 {
		idtA := engine.Scale(tp, engine.L1(tp, t.GA.Forward(tp, realB), realB), float32(cfg.LambdaB*cfg.LambdaIdentity))
		idtB := engine.Scale(tp, engine.L1(tp, t.GB.Forward(tp, realA), realA), float32(cfg.LambdaA*cfg.LambdaIdentity))
		terms = append(terms, idtA, idtB)
		l.IdtA, l.IdtB = float64(idtA.Item()), float64(idtB.Item())
	}
	lossG := terms[0]
	for _, term := range terms[1:] {
		lossG = engine.Add(tp, lossG, term)
	}
	l.G = float64(lossG.Item())
	t.OptG.ZeroGrad()
	tp.Backward(lossG)
	SetRequiresGrad(t.DA, true)
	SetRequiresGrad(t.DB, true)
	if !finite(l.G) || !finiteGrads(t.OptG.Params) {
		t.OptG.ZeroGrad()
		return l, t.discardAt(t.Iteration, fmt.Sprintf("generator objective %g", l.G), "step")
	}
	t.OptG.Step()

	// 3: the discriminators, on detached fakes through the pools.
	tp = t.tapeD
	tp.Reset()
	pooledB := t.PoolB.Query(fakeB, t.poolRand)
	pooledA := t.PoolA.Query(fakeA, t.poolRand)
	lossDA := discriminatorLoss(tp, t.DA, realB, pooledB)
	lossDB := discriminatorLoss(tp, t.DB, realA, pooledA)
	l.DA, l.DB = float64(lossDA.Item()), float64(lossDB.Item())
	t.OptD.ZeroGrad()
	tp.Backward(engine.Add(tp, lossDA, lossDB))
	okA := stepDiscriminator(t.optDA, l.DA)
	okB := stepDiscriminator(t.optDB, l.DB)
	return l, t.settleDiscriminators(t.Iteration, okA, okB, l)
}

// stepDiscriminator takes one discriminator's Adam step (opt, its part of
// OptD) if its loss and gradient are finite, and reports whether it did;
// otherwise it clears the gradient.
func stepDiscriminator(opt *engine.Adam, loss float64) bool {
	if !finite(loss) || !finiteGrads(opt.Params) {
		opt.ZeroGrad()
		return false
	}
	opt.Step()
	return true
}

// settleDiscriminators ends iteration it, whose generator step was taken,
// once both discriminators' steps are known to have been taken (okA, okB)
// or discarded: a discarded one makes it a bad step.
func (t *Trainer) settleDiscriminators(it int, okA, okB bool, l Losses) error {
	if okA && okB {
		t.BadSteps = 0
		return nil
	}
	var which string
	switch {
	case !okA && !okB:
		which = "both discriminators' steps"
	case !okA:
		which = "D_A's step"
	default:
		which = "D_B's step"
	}
	return t.discardAt(it, fmt.Sprintf("discriminator losses %g, %g", l.DA, l.DB), which)
}

// discriminatorLoss is ½(MSE(D(real), 1) + MSE(D(fake), 0)).
func discriminatorLoss(tp *engine.Tape, d *Discriminator, real, fake *engine.Tensor) *engine.Tensor {
	lossReal := engine.MSE(tp, d.Forward(tp, real), 1)
	lossFake := engine.MSE(tp, d.Forward(tp, fake), 0)
	return engine.Scale(tp, engine.Add(tp, lossReal, lossFake), 0.5)
}

// discardAt counts a bad step of iteration it: what was not finite, and
// which step was discarded for it.
func (t *Trainer) discardAt(it int, what, which string) error {
	t.BadSteps++
	err := fmt.Errorf("iteration %d: %s: %s discarded: %w", it, what, which, ErrNonFinite)
	if t.BadSteps >= MaxBadSteps {
		return fmt.Errorf("%w: %d steps in a row discarded, the last at %w", ErrDiverged, t.BadSteps, err)
	}
	return err
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func finiteGrads(params []*engine.Tensor) bool {
	for _, p := range params {
		for _, g := range p.Grad {
			if g-g != 0 { // NaN or ±Inf
				return false
			}
		}
	}
	return true
}

// Preview is the latest iteration's images: real A | fake B | reconstructed
// A and real B | fake A | reconstructed B, each [1, 3, S, S]. They are
// valid until the next Step.
type Preview struct {
	RealA, FakeB, RecA, RealB, FakeA, RecB *engine.Tensor
}

// LastPreview returns the images of the last Step (nil fields before any).
func (t *Trainer) LastPreview() Preview {
	return Preview(t.last)
}
