package cyclegan

import (
	"image"

	"github.com/cyclegan-wasm/cyclegan/engine"
)

// Translate runs g on img at the image's own size and returns the result as
// pixels of the same size. The image is composited on white, padded on the
// right and bottom by reflection to the next multiple of 4 (the generator's
// two stride-2 stages need it) and the output is cropped back, so the
// padding never shows.
func Translate(g *Generator, img image.Image) *image.NRGBA {
	b := img.Bounds()
	return TensorToImage(TranslateTensor(g, ImageToTensorSize(img, b.Dx(), b.Dy())))
}

// TranslateTensor runs g on x [1, 3, H, W] of any size, padding as
// Translate does, and returns [1, 3, H, W].
func TranslateTensor(g *Generator, x *engine.Tensor) *engine.Tensor {
	return translateOn(nil, g, x, nil)
}

// A Translator translates image after image (webcam frames) without
// allocating once it has seen their size: the activations live on its
// tape and are reused from call to call. The zero value is ready. It is
// not safe for concurrent use, nor to use while the generator trains.
type Translator struct {
	// Between, when set, is called between the generator's stages (a
	// dozen or so per frame): a caller with one thread, a Web Worker, can
	// serve its events in the middle of a frame. It must not use the
	// Translator.
	Between func()

	tp *engine.Tape
}

// Translate is TranslateTensor; the result is valid until the next call.
func (tr *Translator) Translate(g *Generator, x *engine.Tensor) *engine.Tensor {
	if tr.tp == nil {
		tr.tp = engine.NewTape()
	}
	tr.tp.Reset()
	// Nothing requires a gradient, so the tape holds activations only.
	params := g.Parameters()
	grad := len(params) > 0 && params[0].Tensor.RequiresGrad
	SetRequiresGrad(g, false)
	defer SetRequiresGrad(g, grad)
	return translateOn(tr.tp, g, x, tr.Between)
}

// translateOn is TranslateTensor with the activations on tp (nil: the
// heap), calling between between the generator's stages.
func translateOn(tp *engine.Tape, g *Generator, x *engine.Tensor, between func()) *engine.Tensor {
	_, _, h, w := x.Dims()
	// Multiples of 4, and at least 8 so the residual blocks' reflection
	// padding (at a quarter of the size) has a pixel to reflect.
	ph, pw := max(8, (h+3)/4*4), max(8, (w+3)/4*4)
	in := x
	if ph != h || pw != w {
		in = padReflect(x, ph, pw)
	}
	y := g.forward(tp, in, between)
	if ph == h && pw == w {
		return y
	}
	out := engine.New(1, 3, h, w)
	for c := 0; c < 3; c++ {
		for i := 0; i < h; i++ {
			copy(out.Data[(c*h+i)*w:][:w], y.Data[(c*ph+i)*pw:][:w])
		}
	}
	return out
}

// padReflect extends x [1, 3, h, w] to [1, 3, ph, pw] by mirroring the last
// rows and columns about the edge (as ReflectionPad2d), falling back to
// repeating the edge where the image is too small to mirror.
func padReflect(x *engine.Tensor, ph, pw int) *engine.Tensor {
	_, _, h, w := x.Dims()
	src := func(i, n int) int {
		if i < n {
			return i
		}
		if r := 2*(n-1) - i; r >= 0 {
			return r
		}
		return 0
	}
	out := engine.New(1, 3, ph, pw)
	for c := 0; c < 3; c++ {
		for i := 0; i < ph; i++ {
			row := x.Data[(c*h+src(i, h))*w:][:w]
			dst := out.Data[(c*ph+i)*pw:][:pw]
			for j := range dst {
				dst[j] = row[src(j, w)]
			}
		}
	}
	return out
}
