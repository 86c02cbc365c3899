//go:build js && wasm

package wasm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"syscall/js"
	"testing"

	"golang.org/x/image/bmp"

	"github.com/cyclegan-wasm/cyclegan/cyclegan"
	"github.com/cyclegan-wasm/cyclegan/engine"
)

// jsFile wraps bytes in a JS File, as a drop or a file input gives them.
func jsFile(b []byte, name, typ string) js.Value {
	u8 := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u8, b)
	return js.Global().Get("File").New([]any{u8}, name, map[string]any{"type": typ})
}

// testPattern is a smooth, colourful image with an alpha ramp when alpha.
func testPattern(w, h int, alpha bool) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			a := uint8(255)
			if alpha {
				a = uint8(40 + 215*fx)
			}
			img.SetNRGBA(x, y, color.NRGBA{
				uint8(128 + 120*math.Sin(6*fx+1)),
				uint8(128 + 120*math.Cos(5*fy)),
				uint8(255 * (fx + fy) / 2), a})
		}
	}
	return img
}

func encode(t *testing.T, f func(*bytes.Buffer) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := f(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// hugePNG is a PNG whose header announces w×h pixels, with no pixel data.
func hugePNG(w, h int) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	binary.Write(&b, binary.BigEndian, uint32(13))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

type testImage struct {
	name, typ string
	data      []byte
	// tolerances against Go's own decode, resized the same way
	maxDiff  int
	meanDiff float64
}

func intakeImages(t *testing.T) []testImage {
	webp, err := os.ReadFile("testdata/lossy.webp")
	if err != nil {
		t.Fatal(err)
	}
	webpAlpha, err := os.ReadFile("testdata/lossy_alpha.webp")
	if err != nil {
		t.Fatal(err)
	}
	pal := image.NewPaletted(image.Rect(0, 0, 20, 14), palette.Plan9)
	for y := range 14 {
		for x := range 20 {
			pal.SetColorIndex(x, y, uint8(x*12+y))
		}
	}
	return []testImage{
		{"alpha.png", "image/png", encode(t, func(b *bytes.Buffer) error { return png.Encode(b, testPattern(37, 23, true)) }), 2, 0.2},
		{"opaque.png", "image/png", encode(t, func(b *bytes.Buffer) error { return png.Encode(b, testPattern(50, 41, false)) }), 0, 0},
		{"photo.jpg", "image/jpeg", encode(t, func(b *bytes.Buffer) error {
			return jpeg.Encode(b, testPattern(41, 29, false), &jpeg.Options{Quality: 90})
		}), 4, 0.3},
		{"lossy.webp", "image/webp", webp, 2, 0.2},
		{"lossy_alpha.webp", "", webpAlpha, 4, 0.5}, // no MIME type: known by its extension
		{"plan9.gif", "image/gif", encode(t, func(b *bytes.Buffer) error { return gif.Encode(b, pal, nil) }), 0, 0},
		{"small.bmp", "image/bmp", encode(t, func(b *bytes.Buffer) error { return bmp.Encode(b, testPattern(13, 11, false)) }), 0, 0},
		// Large: the browser downscales it to twice the load size first.
		{"large.png", "image/png", encode(t, func(b *bytes.Buffer) error { return png.Encode(b, testPattern(640, 400, false)) }), 6, 1.0},
	}
}

func diffImages(a, b *image.NRGBA) (maxDiff int, mean float64) {
	var sum int
	for i := range a.Pix {
		d := int(a.Pix[i]) - int(b.Pix[i])
		if d < 0 {
			d = -d
		}
		maxDiff = max(maxDiff, d)
		sum += d
	}
	return maxDiff, float64(sum) / float64(len(a.Pix))
}

func TestFileDomainDecodes(t *testing.T) {
	const load = 36 // DefaultAugment(32).LoadSize
	images := intakeImages(t)
	files := js.Global().Get("Array").New()
	for _, im := range images {
		files.Call("push", jsFile(im.data, im.name, im.typ))
	}
	cache := newImageCache(defaultCacheBytes)
	d := newFileDomain("A", cache, &decoder{})
	added, skipped := d.add(files, js.Undefined())
	if added != len(images) || len(skipped) != 0 {
		t.Fatalf("added %d, skipped %v", added, skipped)
	}
	run := d.snapshot(load)
	for i, im := range images {
		got, err := run.Open(i)
		if err != nil {
			t.Fatalf("%s: %v", im.name, err)
		}
		if b := got.Bounds(); b != image.Rect(0, 0, load, load) {
			t.Fatalf("%s: bounds %v, want %dx%d", im.name, b, load, load)
		}
		goImg, _, err := cyclegan.Decode(bytes.NewReader(im.data), 0)
		if err != nil {
			t.Fatalf("%s: Go decode: %v", im.name, err)
		}
		want := cyclegan.Resize(goImg, load, load)
		mx, mean := diffImages(got.(*image.NRGBA), want)
		t.Logf("%-17s %v: max diff %d, mean %.3f", im.name, goImg.Bounds().Size(), mx, mean)
		if mx > im.maxDiff || mean > im.meanDiff {
			t.Errorf("%s: differs from Go's decode by up to %d (mean %.3f), allowed %d (%.2f)", im.name, mx, mean, im.maxDiff, im.meanDiff)
		}
		again, _ := run.Open(i)
		if again != got {
			t.Errorf("%s: second Open did not come from the cache", im.name)
		}
	}
	if n, bytes := cache.len(); n != len(images) || bytes != len(images)*load*load*4 {
		t.Errorf("cache holds %d images, %d bytes", n, bytes)
	}
	// The cache is bounded: a tiny one keeps only what fits.
	small := newImageCache(2 * load * load * 4)
	d2 := newFileDomain("B", small, &decoder{})
	d2.add(files, js.Undefined())
	r2 := d2.snapshot(load)
	for i := range 4 {
		if _, err := r2.Open(i); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := small.len(); n != 2 {
		t.Errorf("bounded cache holds %d images, want 2", n)
	}
}

func TestFileDomainSkips(t *testing.T) {
	images := intakeImages(t)
	good := images[0].data
	corrupt := append(append([]byte(nil), good[:40]...), bytes.Repeat([]byte{0x5a}, 200)...)
	files := js.Global().Get("Array").New()
	for _, f := range []js.Value{
		jsFile(good, "good.png", "image/png"),
		jsFile(corrupt, "broken.png", "image/png"),
		jsFile([]byte("just some notes\n"), "notes.txt", "text/plain"),
		jsFile(hugePNG(9000, 8000), "huge.png", "image/png"),
		jsFile(images[2].data, "photo.jpg", "image/jpeg"),
		jsFile([]byte("x"), "README", ""),
	} {
		files.Call("push", f)
	}
	paths := js.ValueOf([]any{"set/good.png", "set/broken.png", "set/notes.txt", "set/huge.png", "set/photo.jpg", "set/README"})
	d := newFileDomain("A", newImageCache(defaultCacheBytes), &decoder{})
	added, skipped := d.add(files, paths)
	if added != 4 || len(skipped) != 2 || skipped[0] != (skipInfo{"set/notes.txt", "not an image"}) || skipped[1].Name != "set/README" {
		t.Fatalf("added %d, skipped %+v", added, skipped)
	}
	run := d.snapshot(36)
	_, err := run.Open(1)
	var ie *cyclegan.ImageError
	if !errors.As(err, &ie) || ie.Name != "set/broken.png" || !strings.HasPrefix(ie.Err.Error(), "corrupt or unsupported image: ") {
		t.Fatalf("corrupt file: %v", err)
	}
	t.Logf("corrupt: %v", err)
	_, err = run.Open(2)
	if !errors.Is(err, cyclegan.ErrTooLarge) || !strings.Contains(err.Error(), "too large to decode safely") {
		t.Fatalf("huge file: %v", err)
	}
	t.Logf("huge: %v", err)

	// The sampler skips both and trains on with the rest.
	b := newFileDomain("B", newImageCache(defaultCacheBytes), &decoder{})
	b.add(js.ValueOf([]any{jsFile(images[3].data, "b.webp", "image/webp")}), js.Undefined())
	sampler, err := cyclegan.NewSampler(run, b.snapshot(36), cyclegan.DefaultAugment(32), rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	var skips []cyclegan.Skipped
	sampler.OnSkip = func(s cyclegan.Skipped) { skips = append(skips, s) }
	ra, rb := newTensor(32), newTensor(32)
	for range 8 {
		if err := sampler.Next(ra, rb); err != nil {
			t.Fatal(err)
		}
	}
	if len(skips) != 2 {
		t.Fatalf("skipped %+v, want the broken and the huge file", skips)
	}
	for _, s := range skips {
		if s.Name != "set/broken.png" && s.Name != "set/huge.png" {
			t.Errorf("skipped %+v", s)
		}
	}
}

func newTensor(size int) *engine.Tensor { return engine.New(1, 3, size, size) }
