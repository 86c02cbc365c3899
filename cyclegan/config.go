package cyclegan

import (
	"errors"
	"fmt"
)

// Config is everything that defines a training run. It is stored in every
// checkpoint, so its JSON names are part of the checkpoint format.
type Config struct {
	CropSize int  `json:"crop_size"` // training image side, a multiple of 4
	LoadSize int  `json:"load_size"` // side images are resized to before the random crop
	Flip     bool `json:"flip"`      // random horizontal flips

	NGF     int `json:"ngf"`      // generator width
	Blocks  int `json:"blocks"`   // residual blocks in the generator
	NDF     int `json:"ndf"`      // discriminator width
	DLayers int `json:"d_layers"` // strided layers of the PatchGAN

	LambdaA        float64 `json:"lambda_A"`        // weight of the cycle loss A → B → A
	LambdaB        float64 `json:"lambda_B"`        // weight of the cycle loss B → A → B
	LambdaIdentity float64 `json:"lambda_identity"` // identity loss weight, relative to λA, λB; 0 disables
	PoolSize       int     `json:"pool_size"`

	LR    float64 `json:"lr"`
	Beta1 float64 `json:"beta1"`
	Beta2 float64 `json:"beta2"`
	// The learning rate is constant for ConstantIters iterations, then
	// decays linearly towards zero over DecayIters (LearningRate).
	ConstantIters int `json:"constant_iters"`
	DecayIters    int `json:"decay_iters"`

	Seed uint64 `json:"seed"`
}

// DefaultConfig is the reference's configuration (256 px crops of 286 px
// images, ngf 64, 9 blocks, ndf 64, 3 layers, λ 10, identity 0.5, pool 50,
// Adam 2e-4 β1 0.5), with the schedule given in iterations.
func DefaultConfig() Config {
	return Config{
		CropSize: 256, LoadSize: 286, Flip: true,
		NGF: 64, Blocks: 9, NDF: 64, DLayers: 3,
		LambdaA: 10, LambdaB: 10, LambdaIdentity: 0.5, PoolSize: 50,
		LR: 2e-4, Beta1: 0.5, Beta2: 0.999,
		ConstantIters: 100000, DecayIters: 100000,
		Seed: 1,
	}
}

// ErrConfig is wrapped by every Validate error.
var ErrConfig = errors.New("invalid configuration")

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.CropSize < 16 || c.CropSize%4 != 0:
		return bad("crop size %d: must be a multiple of 4, at least 16", c.CropSize)
	case c.LoadSize < c.CropSize:
		return bad("load size %d is smaller than the crop size %d", c.LoadSize, c.CropSize)
	case c.NGF < 1 || c.NGF > 1024:
		return bad("ngf %d out of range 1…1024", c.NGF)
	case c.Blocks < 0 || c.Blocks > 64:
		return bad("blocks %d out of range 0…64", c.Blocks)
	case c.NDF < 1 || c.NDF > 1024:
		return bad("ndf %d out of range 1…1024", c.NDF)
	case c.DLayers < 1 || c.DLayers > 6:
		return bad("discriminator layers %d out of range 1…6", c.DLayers)
	case c.CropSize>>c.DLayers < 4:
		return bad("crop size %d too small for a %d-layer discriminator", c.CropSize, c.DLayers)
	case c.LambdaA < 0 || c.LambdaB < 0 || c.LambdaIdentity < 0:
		return bad("negative loss weight")
	case c.PoolSize < 0:
		return bad("pool size %d", c.PoolSize)
	case !(c.LR > 0) || !(c.Beta1 >= 0 && c.Beta1 < 1) || !(c.Beta2 >= 0 && c.Beta2 < 1):
		return bad("Adam lr %g, betas %g, %g", c.LR, c.Beta1, c.Beta2)
	case c.ConstantIters < 0 || c.DecayIters < 0:
		return bad("schedule %d constant + %d decay iterations", c.ConstantIters, c.DecayIters)
	}
	return nil
}

// LearningRate is the rate used by iteration it (counted from 0) under the
// reference's linear policy, translated from epochs to iterations:
//
//	lr · (1 − max(0, it + 1 − ConstantIters) / (DecayIters + 1))
//
// so the first ConstantIters iterations run at lr and the last of the
// DecayIters that follow at lr/(DecayIters+1), just as the reference's last
// epoch runs at lr/(n_epochs_decay+1). Past the end it stays at that value.
func (c Config) LearningRate(it int) float64 {
	done := max(0, it+1-c.ConstantIters)
	done = min(done, c.DecayIters)
	return c.LR * (1 - float64(done)/float64(c.DecayIters+1))
}
