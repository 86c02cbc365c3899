package cyclegan

import (
	"math/rand/v2"
	"testing"

	"github.com/cyclegan-wasm/cyclegan/engine"
)

func constImage(v float32) *engine.Tensor {
	t := engine.New(1, 3, 4, 4)
	for i := range t.Data {
		t.Data[i] = v
	}
	return t
}

func TestImagePoolFillsThenMixes(t *testing.T) {
	const size = 5
	p := NewImagePool(size)
	rng := rand.New(rand.NewPCG(1, 2))
	// Filling: every query returns the new image and stores it.
	for i := 0; i < size; i++ {
		got := p.Query(constImage(float32(i)), rng)
		if got.Data[0] != float32(i) || len(p.Images) != i+1 {
			t.Fatalf("filling query %d returned %v with %d stored", i, got.Data[0], len(p.Images))
		}
	}
	// Full: replay the reference's draws with a twin rng and check each
	// decision, and that an image returned from history left its slot.
	twin := rand.New(rand.NewPCG(1, 2))
	fromHistory := 0
	for i := size; i < size+200; i++ {
		before := make([]float32, size)
		for k, img := range p.Images {
			before[k] = img.Data[0]
		}
		got := p.Query(constImage(float32(i)), rng).Data[0]
		if twin.Float64() > 0.5 {
			k := twin.IntN(size)
			fromHistory++
			if got != before[k] || p.Images[k].Data[0] != float32(i) {
				t.Fatalf("query %d: got %v, want stored %v swapped for the new image", i, got, before[k])
			}
		} else if got != float32(i) {
			t.Fatalf("query %d: got %v, want the new image", i, got)
		}
	}
	// About half of the answers come from history.
	if fromHistory < 70 || fromHistory > 130 {
		t.Fatalf("%d of 200 answers from history", fromHistory)
	}
}

func TestImagePoolSizeZeroPassesThrough(t *testing.T) {
	p := NewImagePool(0)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 10; i++ {
		if got := p.Query(constImage(float32(i)), rng).Data[5]; got != float32(i) {
			t.Fatalf("got %v, want %v", got, i)
		}
	}
	if len(p.Images) != 0 {
		t.Fatal("a disabled pool stored images")
	}
}

// undo takes back a query exactly: the stored images (a slot swapped twice
// in one batch included) and the fill level, over queries that store,
// swap and pass through.
func TestImagePoolUndo(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	p := NewImagePool(3)
	var swaps, twice, stores int
	for q := 0; q < 40; q++ {
		n := 1 + q%4
		fakes := engine.New(n, 1, 2, 2)
		for i := range fakes.Data {
			fakes.Data[i] = float32(100*q + i)
		}
		var before [][]float32
		for _, img := range p.Images {
			before = append(before, append([]float32(nil), img.Data...))
		}
		var swapped []int
		p.query(fakes, rng, &swapped)
		if len(swapped) != n {
			t.Fatalf("query %d: %d journal entries for %d images", q, len(swapped), n)
		}
		seen := map[int]bool{}
		for _, k := range swapped {
			if k >= 0 {
				swaps++
				if seen[k] {
					twice++
				}
				seen[k] = true
			}
		}
		stores += len(p.Images) - len(before)
		after := len(p.Images)
		p.undo(len(before), swapped)
		if len(p.Images) != len(before) {
			t.Fatalf("query %d: undo left %d images, want %d", q, len(p.Images), len(before))
		}
		for i, img := range p.Images {
			if !equal(img.Data, before[i]) {
				t.Fatalf("query %d: undo left slot %d as %v, want %v", q, i, img.Data, before[i])
			}
		}
		// Query again, so that the pool keeps filling and mixing.
		p.Query(fakes, rng)
		if len(p.Images) != after {
			t.Fatalf("query %d: redo stored %d images, first time %d", q, len(p.Images), after)
		}
	}
	if swaps < 10 || twice == 0 || stores != 3 {
		t.Fatalf("%d swaps (%d of a slot swapped before in its batch), %d stores: the test does not exercise them all", swaps, twice, stores)
	}
}
