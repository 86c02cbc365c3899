package cyclegan

import (
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"testing"
)

// syntheticDomain makes n small images of one style: hue picks the domain.
func syntheticDomain(n, size int, hue uint8, seed uint64) MemoryDomain {
	rng := rand.New(rand.NewPCG(seed, 3))
	var d MemoryDomain
	for i := 0; i < n; i++ {
		img := image.NewNRGBA(image.Rect(0, 0, size+i%3, size))
		for y := 0; y < img.Rect.Dy(); y++ {
			for x := 0; x < img.Rect.Dx(); x++ {
				img.SetNRGBA(x, y, color.NRGBA{hue, uint8(rng.IntN(256)), uint8(x * 255 / size), 255})
			}
		}
		d = append(d, NamedImage{Name: fmt.Sprintf("img%02d.png", i), Image: img})
	}
	return d
}

func TestSessionResumeIsExact(t *testing.T) {
	cfg := tinyConfig()
	cfg.LoadSize, cfg.Flip, cfg.PoolSize = 20, true, 2 // crops, flips and a full pool
	a, b := syntheticDomain(5, 20, 10, 1), syntheticDomain(4, 20, 200, 2)

	straight, err := NewSession(cfg, a, b)
	if err != nil {
		t.Fatal(err)
	}
	var want []Losses
	for i := 0; i < 9; i++ { // crosses an epoch boundary (5 samples)
		l, err := straight.Step()
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, l)
	}

	first, _ := NewSession(cfg, a, b)
	for i := 0; i < 3; i++ {
		first.Step()
	}
	ckpt, err := first.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	resumed, err := ResumeSession(ckpt, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if resumed.DataChanged {
		t.Fatal("same data reported as changed")
	}
	for i := 3; i < 9; i++ {
		l, err := resumed.Step()
		if err != nil {
			t.Fatal(err)
		}
		if l != want[i] {
			t.Fatalf("iteration %d after resume: %+v, uninterrupted %+v", i, l, want[i])
		}
	}

	// Other data: the run continues, flagged.
	other, err := ResumeSession(ckpt, syntheticDomain(3, 20, 90, 5), b)
	if err != nil {
		t.Fatal(err)
	}
	if !other.DataChanged || other.Trainer.Iteration != 3 {
		t.Fatalf("DataChanged %v, iteration %d", other.DataChanged, other.Trainer.Iteration)
	}
	if _, err := other.Step(); err != nil {
		t.Fatal(err)
	}
}
