package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// newRNG returns the seeded source every test draws from, so failures
// reproduce.
func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// randTensor returns a tensor of uniform values in [-1, 1).
func randTensor(rng *rand.Rand, shape ...int) *Tensor {
	t := New(shape...)
	for i := range t.Data {
		t.Data[i] = 2*rng.Float32() - 1
	}
	return t
}

// awayFromZero returns a tensor of uniform values in ±[margin, 1), so a
// finite-difference step of less than margin never crosses a kink at 0.
func awayFromZero(rng *rand.Rand, margin float32, shape ...int) *Tensor {
	t := New(shape...)
	for i := range t.Data {
		v := margin + (1-margin)*rng.Float32()
		if rng.IntN(2) == 0 {
			v = -v
		}
		t.Data[i] = v
	}
	return t
}

// param marks t as a leaf that wants a gradient.
func param(t *Tensor) *Tensor {
	t.RequiresGrad = true
	t.Grad = make([]float32, len(t.Data))
	return t
}

// closeTo reports the first index where got and want differ by more than
// atol + rtol·|want|, or -1.
func closeTo(got, want []float32, atol, rtol float64) (int, float64) {
	worst := 0.0
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		worst = max(worst, d)
		if d > atol+rtol*math.Abs(float64(want[i])) || math.IsNaN(float64(got[i])) {
			return i, worst
		}
	}
	return -1, worst
}

func assertClose(t *testing.T, what string, got, want []float32, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	if i, _ := closeTo(got, want, atol, rtol); i >= 0 {
		t.Fatalf("%s: element %d = %g, want %g (atol %g, rtol %g)", what, i, got[i], want[i], atol, rtol)
	}
}

func shapeName(shape ...int) string { return fmt.Sprint(shape) }
