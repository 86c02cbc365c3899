package cyclegan

import (
	"bytes"
	"embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cyclegan-wasm/cyclegan/engine"
)

// Pillow's outputs for the resampling and compositing tests; see
// testdata/images/make_fixtures.py.
//
//go:embed testdata/images
var dataFixtures embed.FS

func dataFixture(t *testing.T, name string) image.Image {
	t.Helper()
	b, err := dataFixtures.ReadFile("testdata/images/" + name)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := Decode(bytes.NewReader(b), 0)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return img
}

// dataRGB returns img's pixels as packed 8-bit RGB, ignoring alpha (the
// fixtures are opaque).
func dataRGB(img image.Image) []uint8 {
	b := img.Bounds()
	out := make([]uint8, 0, 3*b.Dx()*b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			out = append(out, c.R, c.G, c.B)
		}
	}
	return out
}

func dataPNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func dataNoise(seed uint64, w, h int) *image.NRGBA {
	r := rand.New(rand.NewPCG(seed, 7))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	return img
}

func TestResizeMatchesPillow(t *testing.T) {
	src := dataFixture(t, "src_rgb.png")
	for _, sz := range [][2]int{{9, 40}, {40, 7}, {23, 31}, {11, 19}, {12, 12}, {5, 4}, {50, 41}, {23, 19}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			want := dataRGB(src)
			if sz != [2]int{23, 19} { // own size: no resampling, as in Pillow
				want = dataRGB(dataFixture(t, fmt.Sprintf("want_rgb_%dx%d.png", sz[0], sz[1])))
			}
			got := dataRGB(Resize(src, sz[0], sz[1]))
			if i := dataFirstDiff(got, want); i >= 0 {
				t.Fatalf("value %d (pixel %d, channel %d): got %d, Pillow %d", i, i/3, i%3, got[i], want[i])
			}
		})
	}
	rgba := dataFixture(t, "src_rgba.png")
	if _, ok := rgba.(*image.NRGBA); !ok {
		t.Fatalf("src_rgba.png decoded as %T, want *image.NRGBA", rgba)
	}
	for _, c := range []struct {
		w, h int
		want string
	}{{17, 13, "want_rgba_white.png"}, {30, 8, "want_rgba_30x8.png"}} {
		got := dataRGB(Resize(rgba, c.w, c.h))
		want := dataRGB(dataFixture(t, c.want))
		if i := dataFirstDiff(got, want); i >= 0 {
			t.Errorf("%s: value %d: got %d, Pillow %d", c.want, i, got[i], want[i])
		}
	}
}

func dataFirstDiff(a, b []uint8) int {
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// Hand-computed with Pillow's algorithm. Upscaling [0, 255] to 4: output 1
// is centred at 0.75, taps 0 and 1 with weights bicubic(0.25) = 0.8671875
// and bicubic(0.75) = 0.2265625, normalised: 255·0.2265625/1.09375 = 52.8
// → 53; output 0 is 255·bicubic(1.25)/(0.8671875 − 0.0703125) < 0 → 0; the
// rest by symmetry. Downscaling [0, 0, 255, 255] to 2: the support doubles
// to 4, output 0 centred at 1 has taps 0…3 with weights bicubic of −0.25,
// 0.25, 0.75, 1.25: 255·(0.2265625 − 0.0703125)/1.890625 = 21.07 → 21.
func TestResizeHandComputed(t *testing.T) {
	gray := func(w, h int, v ...uint8) *image.Gray {
		return &image.Gray{Pix: v, Stride: w, Rect: image.Rect(0, 0, w, h)}
	}
	for _, c := range []struct {
		name string
		src  *image.Gray
		w, h int
		want []uint8
	}{
		{"up horizontal", gray(2, 1, 0, 255), 4, 1, []uint8{0, 53, 202, 255}},
		{"up vertical", gray(1, 2, 0, 255), 1, 4, []uint8{0, 53, 202, 255}},
		{"down horizontal", gray(4, 1, 0, 0, 255, 255), 2, 1, []uint8{21, 234}},
		{"down vertical", gray(1, 4, 0, 0, 255, 255), 1, 2, []uint8{21, 234}},
		{"constant", gray(3, 2, 9, 9, 9, 9, 9, 9), 7, 5, slices.Repeat([]uint8{9}, 35)},
	} {
		t.Run(c.name, func(t *testing.T) {
			rgb := dataRGB(Resize(c.src, c.w, c.h))
			for i, w := range c.want {
				if rgb[3*i] != w || rgb[3*i+1] != w || rgb[3*i+2] != w {
					t.Fatalf("pixel %d = %v, want %d", i, rgb[3*i:3*i+3], w)
				}
			}
		})
	}
}

// dataCubic is the Catmull-Rom kernel in its textbook form.
func dataCubic(t float64) float64 {
	t = math.Abs(t)
	switch {
	case t < 1:
		return 1.5*t*t*t - 2.5*t*t + 1
	case t < 2:
		return -0.5*t*t*t + 2.5*t*t - 4*t + 2
	}
	return 0
}

// dataResample1D is an independent, naive antialiased Catmull-Rom resample
// in float64: output i is centred on (i + 0.5)·scale − 0.5, the kernel is
// stretched by max(1, scale), taps outside the input are dropped and the
// weights renormalised.
func dataResample1D(in []float64, n int) []float64 {
	scale := float64(len(in)) / float64(n)
	stretch := max(1, scale)
	out := make([]float64, n)
	for i := range out {
		c := (float64(i)+0.5)*scale - 0.5
		var sum, wsum float64
		for j := int(math.Floor(c - 2*stretch)); j <= int(math.Ceil(c+2*stretch)); j++ {
			if j < 0 || j >= len(in) {
				continue
			}
			w := dataCubic((float64(j) - c) / stretch)
			sum += w * in[j]
			wsum += w
		}
		out[i] = sum / wsum
	}
	return out
}

func TestResizeAgainstOracle(t *testing.T) {
	const inW, inH = 37, 29
	src := dataNoise(3, inW, inH)
	for _, sz := range [][2]int{{13, 11}, {80, 61}, {37, 50}, {20, 29}, {8, 100}, {5, 3}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			w, h := sz[0], sz[1]
			got := dataRGB(Resize(src, w, h))
			maxDiff, sumDiff := 0.0, 0.0
			for ch := 0; ch < 3; ch++ {
				rows := make([][]float64, inH)
				for y := range rows {
					row := make([]float64, inW)
					for x := range row {
						row[x] = float64(src.Pix[y*src.Stride+4*x+ch])
					}
					rows[y] = row
					if w != inW {
						// Pillow's intermediate image is 8-bit: overshoot
						// is clamped before the vertical pass.
						rows[y] = dataResample1D(row, w)
						for x, v := range rows[y] {
							rows[y][x] = math.Min(255, math.Max(0, v))
						}
					}
				}
				for x := 0; x < w; x++ {
					col := make([]float64, inH)
					for y := range col {
						col[y] = rows[y][x]
					}
					if h != inH {
						col = dataResample1D(col, h)
					}
					for y, v := range col {
						d := math.Abs(float64(got[3*(y*w+x)+ch]) - math.Min(255, math.Max(0, v)))
						maxDiff = max(maxDiff, d)
						sumDiff += d
					}
				}
			}
			// Pillow (and Resize) round to 8 bits between the passes and
			// use 22-bit weights: within about one level of the exact value.
			mean := sumDiff / float64(3*w*h)
			t.Logf("max |Resize − oracle| = %.3f, mean %.3f", maxDiff, mean)
			if maxDiff > 1.25 || mean > 0.4 {
				t.Errorf("max |Resize − oracle| = %.3f, mean %.3f levels", maxDiff, mean)
			}
		})
	}
}

func TestCompositeOnWhite(t *testing.T) {
	nrgba := func(c color.NRGBA) image.Image {
		img := image.NewNRGBA(image.Rect(0, 0, 2, 1))
		img.SetNRGBA(0, 0, c)
		img.SetNRGBA(1, 0, c)
		return img
	}
	ycc := image.NewYCbCr(image.Rect(0, 0, 2, 2), image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = 128
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = 128, 128
	}
	pal := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.RGBA{}, color.RGBA{R: 255, A: 255}})
	pal.Pix[1] = 1
	alpha := image.NewAlpha(image.Rect(0, 0, 1, 1))
	alpha.Pix[0] = 128
	cmyk := image.NewCMYK(image.Rect(0, 0, 1, 1))
	cmyk.Set(0, 0, color.CMYK{C: 0, M: 255, Y: 255, K: 0})
	n64 := image.NewNRGBA64(image.Rect(0, 0, 1, 1))
	n64.SetNRGBA64(0, 0, color.NRGBA64{R: 0xffff, A: 0x8000})
	rgba := image.NewRGBA(image.Rect(0, 0, 1, 1))
	rgba.SetRGBA(0, 0, color.RGBA{R: 128, A: 128}) // premultiplied: half-transparent red

	for _, c := range []struct {
		name string
		img  image.Image
		want []uint8 // first pixel's RGB, then more pixels if listed
	}{
		{"transparent NRGBA is white", nrgba(color.NRGBA{10, 20, 30, 0}), []uint8{255, 255, 255}},
		{"half red NRGBA", nrgba(color.NRGBA{255, 0, 0, 128}), []uint8{255, 127, 127}},
		{"half red premultiplied RGBA", rgba, []uint8{255, 127, 127}},
		// round(c·77/255 + 178): 238.39, 208.20, 193.10.
		{"NRGBA alpha 77", nrgba(color.NRGBA{200, 100, 50, 77}), []uint8{238, 208, 193}},
		{"opaque NRGBA unchanged", nrgba(color.NRGBA{1, 2, 3, 255}), []uint8{1, 2, 3}},
		{"NRGBA64 high bytes", n64, []uint8{255, 127, 127}},
		{"paletted transparent index, red index", pal, []uint8{255, 255, 255, 255, 0, 0}},
		{"YCbCr grey", ycc, []uint8{128, 128, 128}},
		{"alpha mask (generic path)", alpha, []uint8{255, 255, 255}},
		{"CMYK red (generic path)", cmyk, []uint8{255, 0, 0}},
		{"gray", &image.Gray{Pix: []uint8{77}, Stride: 1, Rect: image.Rect(0, 0, 1, 1)}, []uint8{77, 77, 77}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := c.img.Bounds()
			got := dataRGB(Resize(c.img, b.Dx(), b.Dy()))
			if !bytes.Equal(got[:len(c.want)], c.want) {
				t.Fatalf("got %v, want %v", got[:len(c.want)], c.want)
			}
			x := ImageToTensorSize(c.img, b.Dx(), b.Dy())
			if x.Data[0] != byteToUnit[c.want[0]] {
				t.Errorf("tensor red %v, want %v", x.Data[0], byteToUnit[c.want[0]])
			}
		})
	}
	// A fully transparent pixel is exactly white: 1 in all three channels.
	x := ImageToTensorSize(nrgba(color.NRGBA{}), 2, 1)
	for i, v := range x.Data {
		if v != 1 {
			t.Fatalf("transparent pixel value %d = %v, want 1", i, v)
		}
	}
	// A sub-image is read from its own bounds.
	big := dataNoise(9, 10, 10)
	sub := big.SubImage(image.Rect(3, 2, 8, 9))
	if !bytes.Equal(dataRGB(Resize(sub, 5, 7)), dataRGB(sub)) {
		t.Error("sub-image at own size differs from its pixels")
	}
	// YCbCr without fancy upsampling (4:4:4, the rare subsamplings, and
	// sub-images): each pixel's own samples, converted with libjpeg's
	// rounding.
	r := rand.New(rand.NewPCG(4, 4))
	for ratio := image.YCbCrSubsampleRatio444; ratio <= image.YCbCrSubsampleRatio410; ratio++ {
		m := image.NewYCbCr(image.Rect(0, 0, 11, 9), ratio)
		for _, p := range [][]uint8{m.Y, m.Cb, m.Cr} {
			for i := range p {
				p[i] = uint8(r.IntN(256))
			}
		}
		imgs := []image.Image{m.SubImage(image.Rect(3, 1, 10, 8))}
		if ratio != image.YCbCrSubsampleRatio420 && ratio != image.YCbCrSubsampleRatio422 {
			imgs = append(imgs, m)
		}
		for _, img := range imgs {
			b := img.Bounds()
			got := dataRGB(Resize(img, b.Dx(), b.Dy()))
			i := 0
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					c := img.At(x, y).(color.YCbCr)
					r, g, bl := dataLibjpegRGB(c.Y, c.Cb, c.Cr)
					if !bytes.Equal(got[i:i+3], []uint8{r, g, bl}) {
						t.Fatalf("%v %v: pixel (%d,%d) = %v, want %v", ratio, b, x, y, got[i:i+3], []uint8{r, g, bl})
					}
					i += 3
				}
			}
		}
	}
}

// dataLibjpegRGB is libjpeg's YCbCr → RGB in floating point: the Cr→R and
// Cb→B terms rounded to integers, the G term rounded once.
func dataLibjpegRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	c := func(v float64) uint8 { return uint8(math.Min(255, math.Max(0, v))) }
	Y, Cb, Cr := float64(y), float64(cb)-128, float64(cr)-128
	return c(Y + math.Floor(1.402*Cr+0.5)),
		c(Y + math.Floor(-0.34414*Cb-0.71414*Cr+0.5)),
		c(Y + math.Floor(1.772*Cb+0.5))
}

// Pillow decodes JPEG with libjpeg, which upsamples subsampled chroma with a
// triangle filter; Decode and the row readers reproduce it, leaving the
// IDCT's rounding as the only difference (Go's image/jpeg colours alone,
// chroma repeated, are off by up to 77 levels, 4.9 on average, here).
func TestJPEGMatchesPillow(t *testing.T) {
	for _, sub := range []string{"420", "422"} {
		t.Run(sub, func(t *testing.T) {
			img := dataFixture(t, "src_"+sub+".jpg")
			if _, ok := img.(*image.YCbCr); !ok {
				t.Fatalf("decoded as %T", img)
			}
			want := dataRGB(dataFixture(t, "want_"+sub+".png"))
			b := img.Bounds()
			got := dataRGB(Resize(img, b.Dx(), b.Dy()))
			maxDiff, sum := 0, 0
			for i := range got {
				d := int(got[i]) - int(want[i])
				d = max(d, -d)
				maxDiff = max(maxDiff, d)
				sum += d
			}
			mean := float64(sum) / float64(len(got))
			t.Logf("max |Go − Pillow| = %d, mean %.3f levels", maxDiff, mean)
			if maxDiff > 4 || mean > 0.15 {
				t.Errorf("max |Go − Pillow| = %d, mean %.3f levels", maxDiff, mean)
			}
		})
	}
}

func TestPixelMapping(t *testing.T) {
	img := &image.Gray{Pix: []uint8{0, 255, 128}, Stride: 3, Rect: image.Rect(0, 0, 3, 1)}
	x := ImageToTensorSize(img, 3, 1)
	// torch: float32 128/255 = 8421505·2⁻²⁴, minus 0.5 (exact), over 0.5:
	// 32897·2⁻²³.
	want := []float32{-1, 1, 32897.0 / (1 << 23)}
	if !slices.Equal(x.Shape, []int{1, 3, 1, 3}) {
		t.Fatalf("shape %v", x.Shape)
	}
	for ch := 0; ch < 3; ch++ {
		if got := x.Data[ch*3 : ch*3+3]; !slices.Equal(got, want) {
			t.Errorf("channel %d: %v, want %v", ch, got, want)
		}
	}
}

func TestTensorToImage(t *testing.T) {
	for _, c := range []struct {
		x    float32
		want uint8
	}{
		{-1, 0}, {1, 255}, {0, 127}, // 127.5 truncates
		{0.5, 191}, {-0.5, 63}, // 191.25, 63.75
		{1.5, 255}, {-3, 0}, // clamped
		{float32(math.NaN()), 0}, {float32(math.Inf(1)), 255}, {float32(math.Inf(-1)), 0},
		{-1 + 2.0/255, 0}, // (x+1)/2·255 = 0.99999994 in float32 → 0, as numpy
	} {
		tt := engine.New(2, 3, 1, 2)
		for i := range tt.Data {
			tt.Data[i] = c.x
		}
		tt.Data[6] = 7 // batch 1 is ignored
		img := TensorToImage(tt)
		if img.Bounds() != image.Rect(0, 0, 2, 1) {
			t.Fatalf("bounds %v", img.Bounds())
		}
		for i, v := range img.Pix {
			want := c.want
			if i%4 == 3 {
				want = 255
			}
			if v != want {
				t.Errorf("x = %v: byte %d = %d, want %d", c.x, i, v, want)
			}
		}
	}
	// Round trip: every byte comes back as itself or one less (the
	// reference truncates), and exactly for 0 and 255.
	var all [256]uint8
	for v := range all {
		all[v] = uint8(v)
	}
	src := &image.Gray{Pix: all[:], Stride: 256, Rect: image.Rect(0, 0, 256, 1)}
	back := TensorToImage(ImageToTensorSize(src, 256, 1))
	exact := 0
	for v := 0; v < 256; v++ {
		got := int(back.Pix[4*v])
		if got != v && got != v-1 {
			t.Errorf("byte %d came back as %d", v, got)
		}
		if got == v {
			exact++
		}
	}
	if back.Pix[0] != 0 || back.Pix[4*255] != 255 {
		t.Errorf("0 and 255 came back as %d and %d", back.Pix[0], back.Pix[4*255])
	}
	t.Logf("%d of 256 bytes survive the round trip exactly", exact)

	defer func() {
		if recover() == nil {
			t.Error("TensorToImage of a 1-channel tensor did not panic")
		}
	}()
	TensorToImage(engine.New(1, 1, 2, 2))
}

func TestAugmentSizes(t *testing.T) {
	for crop, load := range map[int]int{256: 286, 128: 143, 64: 72, 32: 36} {
		if a := DefaultAugment(crop); a != (Augment{LoadSize: load, CropSize: crop, Flip: true}) {
			t.Errorf("DefaultAugment(%d) = %+v, want load %d", crop, a, load)
		}
	}
	if a := TestTime(64); a != (Augment{LoadSize: 64, CropSize: 64}) {
		t.Errorf("TestTime(64) = %+v", a)
	}
	for _, a := range []Augment{{LoadSize: 10, CropSize: 12}, {LoadSize: 10}, {}} {
		if err := a.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: Validate = %v, want ErrConfig", a, err)
		}
	}
}

// An image whose pixel (x, y) is (12x, 12y, 7) shows where a crop came from.
func dataCoordImage(n int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(12 * x), uint8(12 * y), 7, 255})
		}
	}
	return img
}

func TestCropAndFlip(t *testing.T) {
	const load, crop = 20, 16
	img := dataCoordImage(load)
	aug := Augment{LoadSize: load, CropSize: crop, Flip: true}
	dst := engine.New(1, 3, crop, crop)
	flips, offsets := map[bool]int{}, map[[2]int]bool{}
	for seed := uint64(1); seed <= 40; seed++ {
		rng := rand.New(rand.NewPCG(seed, 1))
		twin := rand.New(rand.NewPCG(seed, 1))
		if err := ImageToTensor(img, aug, rng, dst); err != nil {
			t.Fatal(err)
		}
		top := twin.IntN(load - crop + 1) // documented order: top, left, flip
		left := twin.IntN(load - crop + 1)
		flip := twin.Float64() < 0.5
		flips[flip]++
		offsets[[2]int{top, left}] = true
		for y := 0; y < crop; y++ {
			for x := 0; x < crop; x++ {
				sx := left + x
				if flip {
					sx = left + crop - 1 - x
				}
				want := [3]float32{byteToUnit[12*sx], byteToUnit[12*(top+y)], byteToUnit[7]}
				for ch := 0; ch < 3; ch++ {
					if got := dst.Data[(ch*crop+y)*crop+x]; got != want[ch] {
						t.Fatalf("seed %d (top %d, left %d, flip %v): (%d,%d,%d) = %v, want %v",
							seed, top, left, flip, ch, y, x, got, want[ch])
					}
				}
			}
		}
		if rng.Uint64() != twin.Uint64() {
			t.Fatalf("seed %d: ImageToTensor drew more than top, left and flip", seed)
		}
	}
	if flips[true] == 0 || flips[false] == 0 || len(offsets) < 5 {
		t.Errorf("40 seeds gave flips %v and %d offsets", flips, len(offsets))
	}
}

func TestDeterministicPaths(t *testing.T) {
	img := dataNoise(5, 30, 24)
	want := ImageToTensorSize(img, 16, 16) // resize, no crop, no flip

	dst := engine.New(1, 3, 16, 16)
	if err := ImageToTensor(img, TestTime(16), nil, dst); err != nil {
		t.Fatalf("TestTime with a nil rng: %v", err)
	}
	if !slices.Equal(dst.Data, want.Data) {
		t.Error("TestTime tensor differs from ImageToTensorSize")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	twin := rand.New(rand.NewPCG(1, 2))
	if err := ImageToTensor(img, Augment{LoadSize: 16, CropSize: 16}, rng, dst); err != nil {
		t.Fatal(err)
	}
	if rng.Uint64() != twin.Uint64() {
		t.Error("no crop and no flip still drew from the rng")
	}
	if !slices.Equal(dst.Data, want.Data) {
		t.Error("deterministic augment differs from ImageToTensorSize")
	}
	// Flip alone mirrors the resized image.
	for seed := uint64(0); seed < 8; seed++ {
		rng := rand.New(rand.NewPCG(seed, 3))
		flip := rand.New(rand.NewPCG(seed, 3)).Float64() < 0.5
		if err := ImageToTensor(img, Augment{LoadSize: 16, CropSize: 16, Flip: true}, rng, dst); err != nil {
			t.Fatal(err)
		}
		for i, v := range dst.Data {
			x := i % 16
			if flip {
				x = 15 - x
			}
			if w := want.Data[i-i%16+x]; v != w {
				t.Fatalf("seed %d, flip %v: value %d = %v, want %v", seed, flip, i, v, w)
			}
		}
	}

	if err := ImageToTensor(img, DefaultAugment(16), nil, dst); err == nil {
		t.Error("random augmentation with a nil rng: no error")
	}
	if err := ImageToTensor(img, TestTime(16), nil, engine.New(1, 3, 16, 15)); err == nil {
		t.Error("wrong tensor shape: no error")
	}
	if err := ImageToTensor(img, Augment{LoadSize: 8, CropSize: 16}, rng, dst); !errors.Is(err, ErrConfig) {
		t.Errorf("crop larger than load: %v", err)
	}
	if x := ImageToTensorSize(img, 12, 8); !slices.Equal(x.Shape, []int{1, 3, 8, 12}) {
		t.Errorf("ImageToTensorSize(12, 8) shape %v", x.Shape)
	}
}

// Lossy WebP holds limited-range YUV; Decode converts it as libwebp does
// (Pillow 9.4 with libwebp 1.2.4 made the fixtures): bit for bit, with and
// without alpha.
func TestLossyWebPMatchesPillow(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"src_lossy.webp", "want_lossy.png"},
		{"src_lossy_alpha.webp", "want_lossy_alpha_white.png"},
	} {
		img := dataFixture(t, c.src)
		if _, ok := img.(*image.NRGBA); !ok {
			t.Errorf("%s decoded as %T, want *image.NRGBA", c.src, img)
		}
		b := img.Bounds()
		got := dataRGB(Resize(img, b.Dx(), b.Dy()))
		want := dataRGB(dataFixture(t, c.want))
		if i := dataFirstDiff(got, want); i >= 0 {
			t.Errorf("%s: value %d: got %d, Pillow %d", c.src, i, got[i], want[i])
		}
	}
}

// dataPNGHeader is a PNG signature and an IHDR chunk claiming w×h RGB
// pixels, with no pixel data.
func dataPNGHeader(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	chunk := binary.BigEndian.AppendUint32([]byte("IHDR"), w)
	chunk = binary.BigEndian.AppendUint32(chunk, h)
	chunk = append(chunk, 8, 2, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, 13)
	b = append(b, chunk...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(chunk))
}

func TestDecode(t *testing.T) {
	small := dataNoise(1, 6, 5)
	good := dataPNG(t, small)
	var jpg, gf bytes.Buffer
	if err := jpeg.Encode(&jpg, small, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	if err := gif.Encode(&gf, small, nil); err != nil {
		t.Fatal(err)
	}
	webp, err := dataFixtures.ReadFile("testdata/images/src_rgba.webp")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, format string
		data         []byte
	}{{"png", "png", good}, {"jpeg", "jpeg", jpg.Bytes()}, {"gif", "gif", gf.Bytes()}, {"webp", "webp", webp}} {
		img, format, err := Decode(bytes.NewReader(c.data), 0)
		if err != nil || format != c.format {
			t.Errorf("%s: format %q, err %v", c.name, format, err)
			continue
		}
		if c.name != "webp" && img.Bounds().Size() != (image.Point{6, 5}) {
			t.Errorf("%s: size %v", c.name, img.Bounds())
		}
	}
	// The lossless WebP, composited on white, is the PNG fixture's corner.
	wimg, _, _ := Decode(bytes.NewReader(webp), 0)
	want := dataFixture(t, "want_rgba_white.png").(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(0, 0, 7, 5))
	if got := dataRGB(Resize(wimg, 7, 5)); !bytes.Equal(got, dataRGB(want)) {
		t.Error("WebP composited on white differs from Pillow's")
	}

	for _, c := range []struct {
		name      string
		data      []byte
		maxPixels int
		is        error
		reason    string
	}{
		{"huge header", dataPNGHeader(100000, 100000), 0, ErrTooLarge, "too large to decode safely"},
		{"over a small limit", good, 29, ErrTooLarge, "30 pixels, limit 29"},
		{"zero size", dataPNGHeader(0, 10), 0, nil, ""},
		{"random bytes", dataRandomBytes(2, 300), 0, image.ErrFormat, "not a PNG, JPEG, GIF or WebP image"},
		{"text", []byte("just some notes\n"), 0, image.ErrFormat, "not a PNG, JPEG, GIF or WebP image"},
		{"truncated png", good[:len(good)/2], 0, nil, "decoding png: "},
		{"empty", nil, 0, image.ErrFormat, "not a PNG"},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, _, err := Decode(bytes.NewReader(c.data), c.maxPixels)
			if err == nil || img != nil {
				t.Fatalf("no error (image %v)", img != nil)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v does not wrap %v", err, c.is)
			}
			if !strings.Contains(err.Error(), c.reason) {
				t.Errorf("error %q does not say %q", err, c.reason)
			}
			t.Log(err)
		})
	}
	// Within the limit, the same image decodes.
	if _, _, err := Decode(bytes.NewReader(good), 30); err != nil {
		t.Errorf("30 pixels with limit 30: %v", err)
	}
}

func dataRandomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func dataWrite(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpenFolder(t *testing.T) {
	dir := t.TempDir()
	png1 := dataPNG(t, dataNoise(1, 4, 4))
	for _, name := range []string{"b.png", "a/z.png", "a.png", "c/d/e.jpg", ".DS_Store",
		".hidden/x.png", "sub/.secret.png", "notes.txt"} {
		dataWrite(t, filepath.Join(dir, filepath.FromSlash(name)), png1)
	}
	linked := false
	if err := os.Symlink(filepath.Join(dir, "b.png"), filepath.Join(dir, "link.png")); err == nil {
		linked = true // not on js/wasm
	}
	f, err := OpenFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a.png", "a/z.png", "b.png", "c/d/e.jpg"}
	if linked {
		want = append(want, "link.png")
	}
	want = append(want, "notes.txt")
	var got []string
	for i := 0; i < f.Len(); i++ {
		got = append(got, f.Name(i))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("names %q, want %q", got, want)
	}
	if f.Path(1) != filepath.Join(dir, "a", "z.png") {
		t.Errorf("Path(1) = %s", f.Path(1))
	}
	if img, err := f.Open(1); err != nil || img.Bounds().Dx() != 4 {
		t.Errorf("Open(1): %v", err)
	}
	// The content decides, not the extension: notes.txt holds a PNG.
	if _, err := f.Open(f.Len() - 1); err != nil {
		t.Errorf("Open(notes.txt): %v", err)
	}

	// Oversized and corrupt files: errors naming the file and the reason.
	bad := t.TempDir()
	dataWrite(t, filepath.Join(bad, "huge.png"), dataPNGHeader(100000, 100000))
	dataWrite(t, filepath.Join(bad, "noise.jpg"), dataRandomBytes(1, 500))
	f, err = OpenFolder(bad)
	if err != nil {
		t.Fatal(err)
	}
	for i, is := range []error{ErrTooLarge, image.ErrFormat} {
		_, err := f.Open(i)
		var ie *ImageError
		if !errors.As(err, &ie) || ie.Name != f.Path(i) || !errors.Is(err, is) ||
			!strings.Contains(err.Error(), f.Path(i)) {
			t.Errorf("Open(%s) = %v, want an *ImageError naming it, wrapping %v", f.Name(i), err, is)
		}
	}
	os.Remove(filepath.Join(bad, "noise.jpg"))
	if _, err := f.Open(1); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "noise.jpg") {
		t.Errorf("Open of a removed file: %v", err)
	}

	// Empty folders (hidden files do not count) and non-folders.
	empty := t.TempDir()
	dataWrite(t, filepath.Join(empty, ".DS_Store"), []byte("x"))
	if err := os.Mkdir(filepath.Join(empty, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFolder(empty); !errors.Is(err, ErrEmptyDomain) || !strings.Contains(err.Error(), empty) {
		t.Errorf("OpenFolder(empty) = %v, want ErrEmptyDomain naming it", err)
	}
	if _, err := OpenFolder(filepath.Join(empty, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenFolder(missing) = %v", err)
	}
	if _, err := OpenFolder(filepath.Join(dir, "b.png")); err == nil {
		t.Error("OpenFolder of a file: no error")
	}
}

func TestDataset(t *testing.T) {
	root := t.TempDir()
	p := dataPNG(t, dataNoise(1, 3, 3))
	dataWrite(t, filepath.Join(root, "trainA", "1.png"), p)
	dataWrite(t, filepath.Join(root, "trainA", "2.png"), p)
	dataWrite(t, filepath.Join(root, "trainB", "1.png"), p)
	dataWrite(t, filepath.Join(root, "testA", "1.png"), p)
	if !IsDataset(root) || IsDataset(filepath.Join(root, "trainA")) {
		t.Fatal("IsDataset")
	}
	for _, c := range []struct{ a, b string }{{root, ""}, {filepath.Join(root, "trainA"), filepath.Join(root, "trainB")}} {
		a, b, err := ResolveDomains(c.a, c.b)
		if err != nil {
			t.Fatal(err)
		}
		if a.Len() != 2 || b.Len() != 1 || a.Dir != filepath.Join(root, "trainA") {
			t.Errorf("ResolveDomains(%q, %q): %d and %d files in %s", c.a, c.b, a.Len(), b.Len(), a.Dir)
		}
	}
	if _, _, err := ResolveDomains(filepath.Join(root, "trainA"), ""); err == nil {
		t.Error("ResolveDomains of a non-dataset folder alone: no error")
	}
	if _, _, err := OpenDatasetPhase(root, "test"); !errors.Is(err, os.ErrNotExist) ||
		!strings.Contains(err.Error(), "testB") {
		t.Errorf("missing testB: %v", err)
	}
}

// dataColors is a MemoryDomain of n uniform 10×10 images, image i of grey i.
func dataColors(n int) MemoryDomain {
	d := make(MemoryDomain, n)
	for i := range d {
		img := image.NewGray(image.Rect(0, 0, 10, 10))
		for j := range img.Pix {
			img.Pix[j] = uint8(i)
		}
		d[i] = NamedImage{Name: fmt.Sprintf("%03d.png", i), Image: img}
	}
	return d
}

// dataCounting counts the Opens of each index of a Domain.
type dataCounting struct {
	Domain
	opens map[int]int
}

func (c *dataCounting) Open(i int) (image.Image, error) {
	c.opens[i]++
	return c.Domain.Open(i)
}

type dataSample struct {
	a, b, epoch, pos int
	realA, realB     []float32
}

// dataRun draws n samples. With uniform, the domains are dataColors and the
// tensors are checked to hold the images Last names.
func dataRun(t *testing.T, s *Sampler, n int, uniform bool) []dataSample {
	t.Helper()
	crop := s.aug.CropSize
	var out []dataSample
	for range n {
		ra, rb := engine.New(1, 3, crop, crop), engine.New(1, 3, crop, crop)
		if err := s.Next(ra, rb); err != nil {
			t.Fatal(err)
		}
		a, b := s.Last()
		if uniform && (ra.Data[0] != byteToUnit[a] || rb.Data[0] != byteToUnit[b]) {
			t.Fatalf("tensors do not hold images %d and %d", a, b)
		}
		out = append(out, dataSample{a, b, s.Epoch(), s.Pos(), ra.Data, rb.Data})
	}
	return out
}

func dataSampler(t *testing.T, a, b Domain, seed uint64) (*Sampler, *rand.PCG) {
	t.Helper()
	pcg := rand.NewPCG(seed, 99)
	s, err := NewSampler(a, b, Augment{LoadSize: 12, CropSize: 8, Flip: true}, rand.New(pcg))
	if err != nil {
		t.Fatal(err)
	}
	return s, pcg
}

func TestSamplerEpochs(t *testing.T) {
	for _, c := range []struct{ nA, nB int }{{7, 3}, {5, 5}, {3, 7}, {1, 4}} {
		t.Run(fmt.Sprintf("A%d_B%d", c.nA, c.nB), func(t *testing.T) {
			s, _ := dataSampler(t, dataColors(c.nA), dataColors(c.nB), 1)
			n := max(c.nA, c.nB)
			if s.EpochLen() != n {
				t.Fatalf("EpochLen %d, want %d", s.EpochLen(), n)
			}
			samples := dataRun(t, s, 4*n, true)
			for e := 0; e < 4; e++ {
				counts := make([]int, c.nA)
				for i, smp := range samples[e*n : (e+1)*n] {
					if smp.epoch != e || smp.pos != i+1 {
						t.Fatalf("sample %d of epoch %d: Epoch %d, Pos %d", i, e, smp.epoch, smp.pos)
					}
					counts[smp.a]++
				}
				// The reference's perm over max(|A|, |B|), mod |A|: A image
				// i appears once per multiple of |A| below n above it.
				for i, got := range counts {
					if want := (n - i + c.nA - 1) / c.nA; got != want {
						t.Errorf("epoch %d: A image %d drawn %d times, want %d", e, i, got, want)
					}
				}
			}
		})
	}
}

func TestSamplerDeterministicAndIndependent(t *testing.T) {
	s1, _ := dataSampler(t, dataColors(4), dataColors(4), 42)
	s2, _ := dataSampler(t, dataColors(4), dataColors(4), 42)
	s3, _ := dataSampler(t, dataColors(4), dataColors(4), 43)
	a, b, c := dataRun(t, s1, 400, true), dataRun(t, s2, 400, true), dataRun(t, s3, 400, true)
	differs := false
	pairs := map[[2]int]int{}
	countB := make([]int, 4)
	for i := range a {
		if a[i].a != b[i].a || a[i].b != b[i].b || !slices.Equal(a[i].realA, b[i].realA) ||
			!slices.Equal(a[i].realB, b[i].realB) {
			t.Fatalf("same seed, sample %d differs", i)
		}
		if a[i].a != c[i].a || a[i].b != c[i].b {
			differs = true
		}
		pairs[[2]int{a[i].a, a[i].b}]++
		countB[a[i].b]++
	}
	if !differs {
		t.Error("seeds 42 and 43 gave the same indices")
	}
	// B is drawn uniformly and independently of A: all 16 pairs occur, and
	// each B index about 100 times in 400.
	if len(pairs) != 16 {
		t.Errorf("%d of 16 (A, B) pairs seen", len(pairs))
	}
	for i, n := range countB {
		if n < 65 || n > 135 {
			t.Errorf("B image %d drawn %d times in 400", i, n)
		}
	}
	// Random crops and flips: the same image does not always give the same
	// tensor (the domain images here are uniform, so use a textured one).
	tex := MemoryDomain{{"tex", dataCoordImage(12)}}
	s, _ := dataSampler(t, tex, tex, 5)
	seen := map[float32]bool{}
	for range 20 {
		ra, rb := engine.New(1, 3, 8, 8), engine.New(1, 3, 8, 8)
		if err := s.Next(ra, rb); err != nil {
			t.Fatal(err)
		}
		seen[ra.Data[0]] = true
	}
	if len(seen) < 3 {
		t.Errorf("20 samples gave %d distinct corner values", len(seen))
	}
}

func TestSamplerSkipsUnreadable(t *testing.T) {
	good := dataPNG(t, dataNoise(1, 5, 5))
	files := []EncodedFile{
		{"0.png", good},
		{"noise.png", dataRandomBytes(3, 200)},
		{"2.png", good},
		{"truncated.png", good[:len(good)/2]},
		{"notes.txt", []byte("hello")},
		{"huge.png", dataPNGHeader(100000, 100000)},
		{"6.png", good},
	}
	dom := &dataCounting{Domain: &EncodedDomain{Files: files}, opens: map[int]int{}}
	bDom := &dataCounting{Domain: append(dataColors(3), NamedImage{Name: "nil"}), opens: map[int]int{}}
	s, _ := dataSampler(t, dom, bDom, 7)
	var reported []Skipped
	s.OnSkip = func(sk Skipped) { reported = append(reported, sk) }
	samples := dataRun(t, s, 30, false)
	for _, smp := range samples {
		if !slices.Contains([]int{0, 2, 6}, smp.a) || smp.b == 3 {
			t.Fatalf("sampled unreadable image A %d or B %d", smp.a, smp.b)
		}
	}
	sk := s.Skipped()
	if !slices.Equal(sk, reported) {
		t.Errorf("OnSkip saw %v, Skipped is %v", reported, sk)
	}
	reasons := map[string]string{}
	for _, k := range sk {
		reasons[k.Domain+" "+k.Name] = k.Reason
	}
	for name, want := range map[string]string{
		"A noise.png": "not a PNG", "A truncated.png": "decoding png: ", "A notes.txt": "not a PNG",
		"A huge.png": "too large to decode safely", "B nil": "no image",
	} {
		if !strings.Contains(reasons[name], want) {
			t.Errorf("skipped %s: reason %q, want it to say %q", name, reasons[name], want)
		}
	}
	if len(sk) != 5 {
		t.Errorf("%d skipped, want 5: %v", len(sk), sk)
	}
	for _, i := range []int{1, 3, 4, 5} {
		if dom.opens[i] != 1 {
			t.Errorf("unreadable A %d opened %d times, want once", i, dom.opens[i])
		}
	}
	if bDom.opens[3] != 1 {
		t.Errorf("unreadable B opened %d times", bDom.opens[3])
	}

	// Every file unreadable: an error saying so.
	allBad := &EncodedDomain{Files: []EncodedFile{{"x", nil}, {"y", []byte("no")}, {"z", good[:20]}}}
	for _, c := range []struct {
		name string
		a, b Domain
	}{{"A", allBad, dataColors(2)}, {"B", dataColors(2), allBad}} {
		s, _ := dataSampler(t, c.a, c.b, 1)
		var err error
		for i := 0; i < 10 && err == nil; i++ {
			err = s.Next(engine.New(1, 3, 8, 8), engine.New(1, 3, 8, 8))
		}
		if !errors.Is(err, ErrEmptyDomain) || !strings.Contains(err.Error(), "all 3 files unreadable") ||
			!strings.Contains(err.Error(), "domain "+c.name) {
			t.Errorf("all of %s unreadable: %v", c.name, err)
		}
	}

	if _, err := NewSampler(MemoryDomain{}, dataColors(1), DefaultAugment(8), rand.New(rand.NewPCG(1, 1))); !errors.Is(err, ErrEmptyDomain) {
		t.Errorf("NewSampler with an empty A: %v", err)
	}
	if err := s.Next(engine.New(1, 3, 8, 8), engine.New(1, 3, 9, 9)); err == nil {
		t.Error("Next with a wrong tensor shape: no error")
	}
}

func TestSamplerFolderSkips(t *testing.T) {
	dir := t.TempDir()
	good := dataPNG(t, dataNoise(1, 5, 5))
	dataWrite(t, filepath.Join(dir, "a.png"), good)
	dataWrite(t, filepath.Join(dir, "b.png"), dataRandomBytes(4, 100))
	dataWrite(t, filepath.Join(dir, "c.png"), good[:len(good)-10])
	f, err := OpenFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := dataSampler(t, f, f, 3)
	for _, smp := range dataRun(t, s, 10, false) {
		if smp.a != 0 || smp.b != 0 {
			t.Fatalf("sampled an unreadable file: %+v", smp)
		}
	}
	if sk := s.Skipped(); len(sk) != 4 {
		t.Errorf("skipped %v, want b.png and c.png in both domains", sk)
	}
	for _, sk := range s.Skipped() {
		if strings.Contains(sk.Reason, dir) || sk.Reason == "" {
			t.Errorf("reason %q should be the reason alone", sk.Reason)
		}
	}
	all := t.TempDir()
	dataWrite(t, filepath.Join(all, "x.png"), []byte("x"))
	fa, _ := OpenFolder(all)
	s, _ = dataSampler(t, fa, f, 3)
	err = s.Next(engine.New(1, 3, 8, 8), engine.New(1, 3, 8, 8))
	if !errors.Is(err, ErrEmptyDomain) || !strings.Contains(err.Error(), all) ||
		!strings.Contains(err.Error(), "all 1 files unreadable") {
		t.Errorf("all unreadable: %v", err)
	}
}

func TestSamplerStateRestore(t *testing.T) {
	mk := func() (Domain, Domain) {
		a := dataColors(7)
		a[4].Image = nil // unreadable: skipped, and never retried after a resume
		return &dataCounting{Domain: a, opens: map[int]int{}}, dataColors(5)
	}
	for _, at := range []int{0, 5, 7, 13} {
		t.Run(fmt.Sprint("after", at), func(t *testing.T) {
			a, b := mk()
			s, pcg := dataSampler(t, a, b, 11)
			dataRun(t, s, at, true)
			st := s.State()
			rngState, err := pcg.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			js, err := json.Marshal(st)
			if err != nil {
				t.Fatal(err)
			}
			want := dataRun(t, s, 15, true)

			a2, b2 := mk()
			s2, pcg2 := dataSampler(t, a2, b2, 999) // a different seed, overwritten
			if err := pcg2.UnmarshalBinary(rngState); err != nil {
				t.Fatal(err)
			}
			var st2 SamplerState
			if err := json.Unmarshal(js, &st2); err != nil {
				t.Fatal(err)
			}
			if err := s2.Restore(st2); err != nil {
				t.Fatal(err)
			}
			if s2.Epoch() != st.Epoch || s2.Pos() != st.Pos {
				t.Fatalf("restored epoch %d pos %d, state has %d, %d", s2.Epoch(), s2.Pos(), st.Epoch, st.Pos)
			}
			got := dataRun(t, s2, 15, true)
			for i := range want {
				if got[i].a != want[i].a || got[i].b != want[i].b || got[i].epoch != want[i].epoch ||
					got[i].pos != want[i].pos || !slices.Equal(got[i].realA, want[i].realA) ||
					!slices.Equal(got[i].realB, want[i].realB) {
					t.Fatalf("sample %d after the resume differs: %+v vs %+v", i, got[i].a, want[i].a)
				}
			}
			if !slices.Equal(s2.Skipped(), s.Skipped()) {
				t.Errorf("skipped %v after resume, %v without", s2.Skipped(), s.Skipped())
			}
			if len(st.Skipped) > 0 && a2.(*dataCounting).opens[4] != 0 {
				t.Error("a file skipped before the resume was opened again")
			}
		})
	}

	a, b := mk()
	s, _ := dataSampler(t, a, b, 1)
	dataRun(t, s, 3, true)
	st := s.State()
	other := dataColors(7)
	other[2].Name = "renamed.png"
	for _, c := range []struct {
		name string
		a, b Domain
		edit func(*SamplerState)
	}{
		{"more files", dataColors(8), dataColors(5), nil},
		{"renamed file", other, dataColors(5), nil},
		{"bad perm", dataColors(7), dataColors(5), func(st *SamplerState) { st.Perm[0] = st.Perm[1] }},
		{"bad pos", dataColors(7), dataColors(5), func(st *SamplerState) { st.Pos = 99 }},
		{"bad skipped", dataColors(7), dataColors(5), func(st *SamplerState) { st.Skipped = []Skipped{{Domain: "C"}} }},
	} {
		s2, _ := dataSampler(t, c.a, c.b, 1)
		st := st
		st.Perm = slices.Clone(st.Perm)
		if c.edit != nil {
			c.edit(&st)
		}
		if err := s2.Restore(st); !errors.Is(err, ErrStateMismatch) {
			t.Errorf("%s: Restore = %v, want ErrStateMismatch", c.name, err)
		}
	}
}

func TestMemoryAndEncodedDomains(t *testing.T) {
	img := dataNoise(2, 3, 2)
	m := MemoryDomain{{"x", img}, {"empty", image.NewNRGBA(image.Rect(0, 0, 0, 0))}}
	if m.Len() != 2 || m.Name(1) != "empty" {
		t.Fatal("MemoryDomain Len/Name")
	}
	if got, err := m.Open(0); err != nil || got != img {
		t.Errorf("Open(0) = %v, %v", got, err)
	}
	if _, err := m.Open(1); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("Open of an empty image: %v", err)
	}
	e := &EncodedDomain{Files: []EncodedFile{{"a.png", dataPNG(t, img)}}, MaxPixels: 5}
	if e.Len() != 1 || e.Name(0) != "a.png" {
		t.Fatal("EncodedDomain Len/Name")
	}
	if _, err := e.Open(0); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "a.png") {
		t.Errorf("6 pixels with limit 5: %v", err)
	}
	e.MaxPixels = 0
	got, err := e.Open(0)
	if err != nil || !bytes.Equal(dataRGB(got), dataRGB(img)) {
		t.Errorf("Open: %v", err)
	}
}
