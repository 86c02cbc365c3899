//go:build !js

package site_test

// Fixtures of the end-to-end tests, made on the fly: folders of small PNGs
// in two clearly different styles (with a corrupt PNG and a text file among
// them), an image to translate, a fake webcam clip (y4m) and a tiny
// checkpoint trained natively through the same Session the CLI uses.

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/cyclegan-wasm/cyclegan/cyclegan"
)

// fixtureImages is how many good images each domain folder holds.
const fixtureImages = 12

// warmDisc is a domain A image: a soft orange-red disc on a cream ground.
func warmDisc(rng *rand.Rand, size int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	cx, cy := 8+rng.Float64()*float64(size-16), 8+rng.Float64()*float64(size-16)
	r := 5 + rng.Float64()*6
	hue := rng.Float64() * 40 // red to orange
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			d := math.Hypot(float64(x)-cx, float64(y)-cy)
			t := math.Min(1, math.Max(0, (r+1.5-d)/3)) // soft edge
			bg := [3]float64{250, 238, 214}
			fg := [3]float64{230, 60 + hue*3, 40}
			img.SetNRGBA(x, y, color.NRGBA{
				R: uint8(bg[0]*(1-t) + fg[0]*t),
				G: uint8(bg[1]*(1-t) + fg[1]*t),
				B: uint8(bg[2]*(1-t) + fg[2]*t),
				A: 255,
			})
		}
	}
	return img
}

// coolStripes is a domain B image: blue and teal diagonal stripes.
func coolStripes(rng *rand.Rand, size int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	period := 6 + rng.IntN(6)
	phase := rng.IntN(period)
	dir := 1
	if rng.IntN(2) == 0 {
		dir = -1
	}
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			if ((x+dir*y+phase+64*period)%period)*2 < period {
				img.SetNRGBA(x, y, color.NRGBA{R: 30, G: 70, B: 200, A: 255})
			} else {
				img.SetNRGBA(x, y, color.NRGBA{R: 40, G: 190, B: 180, A: 255})
			}
		}
	}
	return img
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// domainFolders writes root/styleA (12 warm discs, plus broken.png, a PNG
// cut short, and notes.txt) and root/styleB (12 cool stripes), 32×32, and
// returns the two folder paths.
func domainFolders(t testing.TB, root string) (dirA, dirB string) {
	t.Helper()
	dirA, dirB = filepath.Join(root, "styleA"), filepath.Join(root, "styleB")
	rng := rand.New(rand.NewPCG(1, 2))
	var first []byte
	for i := range fixtureImages {
		a := encodePNG(t, warmDisc(rng, 32))
		if i == 0 {
			first = a
		}
		writeFile(t, filepath.Join(dirA, fmt.Sprintf("disc%02d.png", i)), a)
		writeFile(t, filepath.Join(dirB, fmt.Sprintf("stripes%02d.png", i)), encodePNG(t, coolStripes(rng, 32)))
	}
	// A PNG signature and header with the image data cut off and garbled:
	// it looks like an image until it is decoded.
	broken := append([]byte(nil), first[:len(first)/2]...)
	for i := 40; i < len(broken); i += 7 {
		broken[i] ^= 0x5a
	}
	writeFile(t, filepath.Join(dirA, "broken.png"), broken)
	writeFile(t, filepath.Join(dirA, "notes.txt"), []byte("These are the warm discs.\n"))
	return dirA, dirB
}

// translateImage is an image to translate: 27×19 (not a multiple of 4, so
// the translation pads and crops), a disc on a gradient.
func translateImage() *image.NRGBA {
	const w, h = 27, 19
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBA{R: uint8(120 + 4*x), G: uint8(200 - 6*y), B: uint8(90 + 3*(x+y)), A: 255}
			if math.Hypot(float64(x)-13, float64(y)-9) < 6 {
				c = color.NRGBA{R: 235, G: 90, B: 40, A: 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// writeTranslateImage writes translateImage as dir/sample.png.
func writeTranslateImage(t testing.TB, dir string) (string, *image.NRGBA) {
	t.Helper()
	img := translateImage()
	path := filepath.Join(dir, "sample.png")
	writeFile(t, path, encodePNG(t, img))
	return path, img
}

// writeY4M writes a short clip for Chromium's fake camera: 64×48, 4:2:0,
// 10 frames a second, a bright square moving over a colour gradient.
func writeY4M(t testing.TB, path string) {
	t.Helper()
	const w, h, frames = 64, 48, 20
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "YUV4MPEG2 W%d H%d F10:1 Ip A1:1 C420jpeg\n", w, h)
	for f := range frames {
		buf.WriteString("FRAME\n")
		sx, sy := 4+f*2, 10+(f%5)*3
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				v := 40 + 2*x + y
				if x >= sx && x < sx+16 && y >= sy && y < sy+16 {
					v = 235
				}
				buf.WriteByte(byte(v))
			}
		}
		for plane := range 2 {
			for y := 0; y < h/2; y++ {
				for x := 0; x < w/2; x++ {
					v := 128 + (x-16)*3
					if plane == 1 {
						v = 128 + (y-12)*4 + f
					}
					buf.WriteByte(byte(v))
				}
			}
		}
	}
	writeFile(t, path, buf.Bytes())
}

// cliCheckpoint trains a tiny model natively for 5 iterations through
// cyclegan.Session (the code path of `cyclegan train`: 32 px, ngf 4,
// 1 block, ndf 8) on the fixture styles and returns its checkpoint.
func cliCheckpoint(t testing.TB) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	var a, b cyclegan.MemoryDomain
	for i := range fixtureImages {
		a = append(a, cyclegan.NamedImage{Name: fmt.Sprintf("disc%02d.png", i), Image: warmDisc(rng, 32)})
		b = append(b, cyclegan.NamedImage{Name: fmt.Sprintf("stripes%02d.png", i), Image: coolStripes(rng, 32)})
	}
	cfg := cyclegan.DefaultConfig()
	cfg.CropSize = 32
	cfg.LoadSize = cyclegan.DefaultAugment(32).LoadSize
	cfg.NGF, cfg.Blocks, cfg.NDF, cfg.DLayers = 4, 1, 8, 2
	cfg.ConstantIters, cfg.DecayIters = 3, 2
	cfg.Seed = 7
	s, err := cyclegan.NewSession(cfg, a, b)
	if err != nil {
		t.Fatal(err)
	}
	for range cfg.ConstantIters + cfg.DecayIters {
		if _, err := s.Step(); err != nil {
			t.Fatal(err)
		}
	}
	ckpt, err := s.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	return ckpt
}

// differingBytes counts the positions where a and b (of one length) differ.
func differingBytes(a, b []byte) int {
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

// readPNG decodes the PNG file at path.
func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
