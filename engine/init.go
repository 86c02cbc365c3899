package engine

import "math/rand/v2"

// InitNormal fills t with samples of N(mean, std²) drawn from rng, in
// element order, so the same seed gives the same weights on every platform.
// CycleGAN initialises every convolution weight with N(0, 0.02²).
func InitNormal(t *Tensor, rng *rand.Rand, mean, std float64) {
	for i := range t.Data {
		t.Data[i] = float32(mean + std*rng.NormFloat64())
	}
}
