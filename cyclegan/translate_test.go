package cyclegan

import (
	"image"
	"math/rand/v2"
	"testing"
)

func TestTranslateKeepsAnySize(t *testing.T) {
	g := NewGenerator(2, 1)
	InitWeights(g, rand.New(rand.NewPCG(3, 3)))
	for _, s := range [][2]int{{13, 7}, {3, 3}, {1, 9}, {16, 16}, {30, 18}} {
		src := image.NewNRGBA(image.Rect(0, 0, s[0], s[1]))
		rng := rand.New(rand.NewPCG(uint64(s[0]), uint64(s[1])))
		for i := range src.Pix {
			src.Pix[i] = uint8(rng.IntN(256))
		}
		out := Translate(g, src)
		if out.Bounds().Dx() != s[0] || out.Bounds().Dy() != s[1] {
			t.Fatalf("%v → %v", s, out.Bounds())
		}
	}
}

// On a size the generator takes as it is, translation is the plain forward
// pass: the padding path adds nothing.
func TestTranslateTensorWithoutPadding(t *testing.T) {
	g := NewGenerator(2, 1)
	InitWeights(g, rand.New(rand.NewPCG(3, 4)))
	x := newImageHW(12, 16)
	if !equal(TranslateTensor(g, x).Data, g.Forward(nil, x).Data) {
		t.Fatal("TranslateTensor differs from Forward at a multiple of 4")
	}
	// Cropped back: the top-left region of a padded run is what the
	// generator computed there.
	y := TranslateTensor(g, newImageHW(10, 14))
	if y.Shape[2] != 10 || y.Shape[3] != 14 {
		t.Fatalf("shape %v", y.Shape)
	}
}

// A Translator gives TranslateTensor's pixels, frame after frame and across
// sizes, allocates nothing once it has seen a size, and leaves the
// generator's parameters requiring gradients as they did.
func TestTranslatorReusesMemory(t *testing.T) {
	g := NewGenerator(4, 2)
	InitWeights(g, rand.New(rand.NewPCG(5, 6)))
	var tr Translator
	for _, hw := range [][2]int{{16, 16}, {12, 20}, {16, 16}, {10, 14}} {
		x := newImageHW(hw[0], hw[1])
		want := TranslateTensor(g, x)
		got := tr.Translate(g, x)
		if !equal(got.Data, want.Data) || got.Shape[2] != hw[0] || got.Shape[3] != hw[1] {
			t.Fatalf("%v: the Translator differs from TranslateTensor", hw)
		}
	}
	for _, p := range g.Parameters() {
		if !p.Tensor.RequiresGrad {
			t.Fatalf("%s no longer requires a gradient", p.Name)
		}
	}
	x := newImageHW(16, 16)
	if n := testing.AllocsPerRun(5, func() { tr.Translate(g, x) }); n > 2 {
		t.Fatalf("%v allocations a frame, want at most 2 (the parameter list)", n)
	}
}

// Translator.Between runs once after every stage of the generator (three
// input convolutions, each residual block, two upsamplings) and changes
// nothing in the result.
func TestTranslatorBetween(t *testing.T) {
	for _, blocks := range []int{1, 3} {
		g := NewGenerator(2, blocks)
		InitWeights(g, rand.New(rand.NewPCG(7, uint64(blocks))))
		x := newImageHW(12, 16)
		want := TranslateTensor(g, x)
		calls := 0
		tr := Translator{Between: func() { calls++ }}
		got := tr.Translate(g, x)
		if !equal(got.Data, want.Data) {
			t.Fatalf("%d blocks: the result changed with Between set", blocks)
		}
		if calls != 3+blocks+2 {
			t.Fatalf("%d blocks: Between ran %d times, want %d", blocks, calls, 3+blocks+2)
		}
	}
}
