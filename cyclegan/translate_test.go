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
