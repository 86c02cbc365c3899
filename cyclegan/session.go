package cyclegan

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/cyclegan-wasm/cyclegan/engine"
)

// Session is a training run over two domains: the trainer, the sampler that
// feeds it and the random state of the data. The CLI and the browser
// worker both train through a Session, so a checkpoint written by one
// resumes in the other.
type Session struct {
	Trainer *Trainer
	Sampler *Sampler

	// Stepper runs the iterations and writes the checkpoints; nil means
	// Trainer itself. A two-worker run sets its coordinator here (a
	// SplitTrainer over Trainer plus the messages to the other worker).
	Stepper Stepper

	// DataChanged is set by ResumeSession when the domains differ from the
	// checkpoint's: training resumes, but on a fresh data order.
	DataChanged bool

	dataPCG      *rand.PCG
	realA, realB *engine.Tensor
}

// Metadata keys a Session adds to the trainer's checkpoint.
const (
	metaDataRNG = "data_rng"
	metaSampler = "sampler"
)

// NewSession starts a run of cfg over domains a and b.
func NewSession(cfg Config, a, b Domain) (*Session, error) {
	t, err := NewTrainer(cfg)
	if err != nil {
		return nil, err
	}
	return newSession(t, DataRNG(cfg), a, b)
}

func newSession(t *Trainer, dataPCG *rand.PCG, a, b Domain) (*Session, error) {
	cfg := t.Config
	aug := Augment{LoadSize: cfg.LoadSize, CropSize: cfg.CropSize, Flip: cfg.Flip}
	sampler, err := NewSampler(a, b, aug, rand.New(dataPCG))
	if err != nil {
		return nil, err
	}
	return &Session{
		Trainer: t, Sampler: sampler, dataPCG: dataPCG,
		realA: engine.New(1, 3, cfg.CropSize, cfg.CropSize),
		realB: engine.New(1, 3, cfg.CropSize, cfg.CropSize),
	}, nil
}

// ResumeSession continues the run saved in ckpt over domains a and b. With
// the same domains it continues exactly as the saved run would have; with
// other domains it continues the weights and optimiser on a fresh data
// order drawn from the saved random state, and sets DataChanged.
func ResumeSession(ckpt []byte, a, b Domain) (*Session, error) {
	t, meta, err := UnmarshalCheckpoint(ckpt)
	if err != nil {
		return nil, err
	}
	dataPCG := DataRNG(t.Config)
	if enc, ok := meta[metaDataRNG]; ok {
		raw, err := base64.StdEncoding.DecodeString(enc)
		if err == nil {
			err = dataPCG.UnmarshalBinary(raw)
		}
		if err != nil {
			return nil, fmt.Errorf("checkpoint: %s: %v: %w", metaDataRNG, err, ErrNotCheckpoint)
		}
	}
	s, err := newSession(t, dataPCG, a, b)
	if err != nil {
		return nil, err
	}
	if enc, ok := meta[metaSampler]; ok {
		var st SamplerState
		if err := json.Unmarshal([]byte(enc), &st); err != nil {
			return nil, fmt.Errorf("checkpoint: %s: %v: %w", metaSampler, err, ErrNotCheckpoint)
		}
		if err := s.Sampler.Restore(st); err != nil {
			if !errors.Is(err, ErrStateMismatch) {
				return nil, err
			}
			s.DataChanged = true
		}
	}
	return s, nil
}

// Stepper runs a run's training iterations on sampled pairs and writes the
// run's checkpoint (with extra metadata). *Trainer is one.
type Stepper interface {
	Step(realA, realB *engine.Tensor) (Losses, error)
	Checkpoint(extra map[string]string) ([]byte, error)
}

func (s *Session) stepper() Stepper {
	if s.Stepper != nil {
		return s.Stepper
	}
	return s.Trainer
}

// Step samples a pair and runs one training iteration on it (Trainer.Step,
// or the Stepper's).
func (s *Session) Step() (Losses, error) {
	if err := s.Sampler.Next(s.realA, s.realB); err != nil {
		return Losses{}, err
	}
	return s.stepper().Step(s.realA, s.realB)
}

// Checkpoint encodes the whole run: MarshalCheckpoint plus the sampler's
// state and the data's random state.
func (s *Session) Checkpoint() ([]byte, error) {
	st, err := json.Marshal(s.Sampler.State())
	if err != nil {
		return nil, err
	}
	rng, err := s.dataPCG.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return s.stepper().Checkpoint(map[string]string{
		metaSampler: string(st),
		metaDataRNG: base64.StdEncoding.EncodeToString(rng),
	})
}
