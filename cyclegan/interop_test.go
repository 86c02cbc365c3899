package cyclegan

import (
	"bytes"
	"errors"
	"flag"
	"image"
	"image/color"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/cyclegan-wasm/cyclegan/engine"
	"github.com/cyclegan-wasm/cyclegan/engine/safetensors"
)

// Generator weights both ways between PyTorch and this package.
//
// testdata/make_interop.py (Debian's PyTorch 1.13, see its docstring) builds
// the official CycleGAN's ResnetGenerator (ngf 8, 2 blocks), saves its
// state_dict() as interop_pytorch_generator.safetensors and its output on
// a 36×44 picture as interop_pytorch_io.safetensors;
// TestInteropPyTorchGeneratorTranslatesIdentically loads and runs them here.
//
// TestInteropGoGeneratorForPyTorch writes (with -update) or checks
// interop_go_generator.safetensors and interop_go_io.safetensors; the
// script loads the generator with load_state_dict(strict=True) and checks
// PyTorch's output against Go's. Regenerate, from the repository root:
//
//	go test ./cyclegan -run Interop -update && /usr/bin/python3 cyclegan/testdata/make_interop.py
var update = flag.Bool("update", false, "rewrite testdata/interop_go_*.safetensors (then run testdata/make_interop.py to check them in PyTorch)")

const (
	interopPyTorchGenerator = "testdata/interop_pytorch_generator.safetensors"
	interopPyTorchIO        = "testdata/interop_pytorch_io.safetensors"
	interopGoGenerator      = "testdata/interop_go_generator.safetensors"
	interopGoIO             = "testdata/interop_go_io.safetensors"
)

// interopTol bounds |Go − PyTorch| (and Go native − Go wasm) on generator
// outputs in [−1, 1]. Both compute in float32 but sum convolutions in
// different orders (PyTorch's oneDNN/im2col vs the engine's GEMM with FMA,
// wasm simd128 or the scalar kernel), which leaves ~1e-7 relative noise
// per layer; the eight conv + instance-norm stages renormalise it instead
// of growing it: the largest differences seen are 1.6e-6. A wrong weight,
// key or layout moves outputs by 1e-3 or more.
const interopTol = 1e-5

func readInterop(t *testing.T, path string) (*safetensors.File, []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s is missing: regenerate with `/usr/bin/python3 cyclegan/testdata/make_interop.py` and "+
			"`go test ./cyclegan -run Interop -update` from the repository root", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f, b
}

func interopF32(t *testing.T, f *safetensors.File, path, name string, shape ...int) *engine.Tensor {
	t.Helper()
	st, ok := f.Tensors[name]
	if !ok {
		t.Fatalf("%s has no tensor %q", path, name)
	}
	if !slices.Equal(st.Shape, shape) {
		t.Fatalf("%s: %s has shape %v, want %v", path, name, st.Shape, shape)
	}
	v, err := st.Float32s()
	if err != nil {
		t.Fatalf("%s: %s: %v", path, name, err)
	}
	return engine.FromData(v, shape...)
}

func interopU8(t *testing.T, f *safetensors.File, path, name string, shape ...int) []byte {
	t.Helper()
	st, ok := f.Tensors[name]
	if !ok {
		t.Fatalf("%s has no tensor %q", path, name)
	}
	if st.DType != "U8" || !slices.Equal(st.Shape, shape) {
		t.Fatalf("%s: %s is %s %v, want U8 %v", path, name, st.DType, st.Shape, shape)
	}
	return st.Data
}

// interopMaxDiff is max |a − b| (NaN counts as infinitely far).
func interopMaxDiff(t *testing.T, a, b *engine.Tensor) float64 {
	t.Helper()
	if !slices.Equal(a.Shape, b.Shape) {
		t.Fatalf("shapes %v and %v differ", a.Shape, b.Shape)
	}
	worst := 0.0
	for i := range a.Data {
		d := math.Abs(float64(a.Data[i]) - float64(b.Data[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		worst = max(worst, d)
	}
	return worst
}

// TestInteropPyTorchGeneratorTranslatesIdentically loads the reference
// ResnetGenerator's state_dict() as PyTorch 1.13 saves it and checks that
// the engine's forward pass, TranslateTensor and Translate (what
// `cyclegan translate` runs) reproduce PyTorch's output.
func TestInteropPyTorchGeneratorTranslatesIdentically(t *testing.T) {
	gf, gb := readInterop(t, interopPyTorchGenerator)
	if len(gf.Metadata) != 0 {
		t.Errorf("%s has metadata %v; it should be a pure state dict", interopPyTorchGenerator, gf.Metadata)
	}
	g, err := UnmarshalGenerator(gb, "")
	if err != nil {
		t.Fatalf("UnmarshalGenerator(%s): %v", interopPyTorchGenerator, err)
	}
	if g.NGF != 8 || g.Blocks != 2 {
		t.Fatalf("inferred ngf %d, %d blocks; want ngf 8, 2 blocks", g.NGF, g.Blocks)
	}
	// The file's keys are exactly the generator's (UnmarshalGenerator
	// rejects extra keys; this also rules out dropped norm keys having been
	// the only thing that fit).
	var names []string
	for _, p := range g.Parameters() {
		names = append(names, p.Name)
	}
	slices.Sort(names)
	if got := gf.Names(); !slices.Equal(got, names) {
		t.Fatalf("PyTorch's keys %v, the generator's %v", got, names)
	}
	if len(names) != 20 {
		t.Fatalf("%d keys, want 20 (10 convolutions' weight and bias)", len(names))
	}
	// Re-encoding the loaded weights gives PyTorch's file back, byte for byte.
	if again, err := MarshalGenerator(g, nil); err != nil {
		t.Fatal(err)
	} else if bytes.Equal(again, gb) {
		t.Logf("MarshalGenerator re-encodes PyTorch's weights byte-identically (%d bytes)", len(gb))
	} else {
		// Not an error: the encodings may differ in header layout.
		t.Logf("note: MarshalGenerator's encoding of PyTorch's weights is not byte-identical to the script's file (%d vs %d bytes)", len(again), len(gb))
	}

	iof, _ := readInterop(t, interopPyTorchIO)
	const h, w = 36, 44
	x := interopF32(t, iof, interopPyTorchIO, "input", 1, 3, h, w)
	want := interopF32(t, iof, interopPyTorchIO, "output", 1, 3, h, w)

	y := g.Forward(nil, x)
	d := interopMaxDiff(t, y, want)
	t.Logf("Forward: max |Go − PyTorch| = %.3g over %d outputs", d, len(want.Data))
	if !(d <= interopTol) {
		t.Errorf("Forward differs from PyTorch by %.3g > %g", d, interopTol)
	}
	if d2 := interopMaxDiff(t, TranslateTensor(g, x), want); !(d2 <= interopTol) {
		t.Errorf("TranslateTensor differs from PyTorch by %.3g > %g", d2, interopTol)
	}

	// The CLI path: picture → ImageToTensorSize → generator → TensorToImage.
	pix := interopU8(t, iof, interopPyTorchIO, "pixels", h, w, 3)
	wantPix := interopU8(t, iof, interopPyTorchIO, "output_pixels", h, w, 3)
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < h*w; i++ {
		img.SetNRGBA(i%w, i/w, color.NRGBA{pix[3*i], pix[3*i+1], pix[3*i+2], 255})
	}
	if d := interopMaxDiff(t, ImageToTensorSize(img, w, h), x); d != 0 {
		t.Errorf("ImageToTensorSize of the picture differs from PyTorch's ToTensor+Normalize by %g", d)
	}
	out := Translate(g, img)
	if out.Bounds() != img.Bounds() {
		t.Fatalf("Translate returned %v, want %v", out.Bounds(), img.Bounds())
	}
	// Pixels are truncated, as util.tensor2im does: a Go value within
	// interopTol of PyTorch's may land on the neighbouring byte only where
	// PyTorch's value is that close to a byte boundary.
	exact := 0
	for i := 0; i < h*w; i++ {
		for c := 0; c < 3; c++ {
			v := want.Data[c*h*w+i]
			if unitToByte(v) != wantPix[3*i+c] {
				t.Fatalf("unitToByte(%v) = %d, tensor2im gave %d", v, unitToByte(v), wantPix[3*i+c])
			}
			got := out.Pix[4*i+c]
			if got == wantPix[3*i+c] {
				exact++
			} else if lo, hi := unitToByte(v-interopTol), unitToByte(v+interopTol); got < lo || got > hi {
				t.Fatalf("pixel (%d, %d) channel %d: Translate gave %d, PyTorch %d (output %v)", i%w, i/w, c, got, wantPix[3*i+c], v)
			}
		}
		if out.Pix[4*i+3] != 255 {
			t.Fatalf("pixel (%d, %d): alpha %d", i%w, i/w, out.Pix[4*i+3])
		}
	}
	t.Logf("Translate: %d of %d bytes equal to PyTorch's tensor2im (any other one off, at a byte boundary)", exact, 3*h*w)

	// Any size: a 35×41 crop (not multiples of 4) comes back at 35×41.
	crop := img.SubImage(image.Rect(0, 0, 41, 35))
	small := Translate(g, crop)
	if small.Bounds().Dx() != 41 || small.Bounds().Dy() != 35 {
		t.Fatalf("Translate of a 41×35 image returned %v", small.Bounds())
	}
	lo, hi := uint8(255), uint8(0)
	for i, v := range small.Pix {
		if i%4 != 3 {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if hi-lo < 32 {
		t.Errorf("Translate of the 41×35 crop is nearly flat (bytes %d..%d)", lo, hi)
	}
}

// interopGoModel is the generator of TestInteropGoGeneratorForPyTorch: ngf 8,
// 2 blocks, InitWeights from a fixed PCG seed, and its input, a 40×32
// (non-square) uniform [−1, 1] image from another fixed seed.
func interopGoModel() (*Generator, *engine.Tensor) {
	g := NewGenerator(8, 2)
	InitWeights(g, rand.New(rand.NewPCG(2024, 611)))
	x := engine.New(1, 3, 40, 32)
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range x.Data {
		x.Data[i] = float32(2*rng.Float64() - 1)
	}
	return g, x
}

var interopGoMetadata = map[string]string{
	"generator": "cyclegan/interop_test.go TestInteropGoGeneratorForPyTorch",
	"init":      "NewGenerator(8, 2); InitWeights(g, rand.New(rand.NewPCG(2024, 611)))",
}

// TestInteropGoGeneratorForPyTorch writes (-update) or checks the generator and
// input/output that testdata/make_interop.py loads into PyTorch with
// load_state_dict(strict=True) and compares: the committed generator file
// must be byte-identical to what MarshalGenerator produces now, and the
// stored output must still be what the engine computes, so the file
// PyTorch verified stays valid.
func TestInteropGoGeneratorForPyTorch(t *testing.T) {
	g, x := interopGoModel()
	y := g.Forward(nil, x)
	gb, err := MarshalGenerator(g, interopGoMetadata)
	if err != nil {
		t.Fatal(err)
	}
	iob, err := safetensors.Marshal(map[string]safetensors.Tensor{
		"input":  safetensors.F32(x.Shape, x.Data),
		"output": safetensors.F32(y.Shape, y.Data),
	}, map[string]string{"generator": interopGoMetadata["generator"]})
	if err != nil {
		t.Fatal(err)
	}

	// The file round-trips: the bare keys are read back, ngf and blocks
	// inferred, every weight bit-exact.
	back, err := UnmarshalGenerator(gb, "")
	if err != nil {
		t.Fatal(err)
	}
	if back.NGF != 8 || back.Blocks != 2 {
		t.Fatalf("round trip inferred ngf %d, %d blocks", back.NGF, back.Blocks)
	}
	for i, p := range back.Parameters() {
		if q := g.Parameters()[i]; p.Name != q.Name || !slices.Equal(p.Tensor.Data, q.Tensor.Data) {
			t.Fatalf("round trip changed %s", q.Name)
		}
	}

	if *update {
		for path, b := range map[string][]byte{interopGoGenerator: gb, interopGoIO: iob} {
			if err := WriteFileAtomic(path, b); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s (%d bytes); now run /usr/bin/python3 cyclegan/testdata/make_interop.py", path, len(b))
		}
		return
	}

	_, committed := readInterop(t, interopGoGenerator)
	if !bytes.Equal(committed, gb) {
		t.Errorf("%s (%d bytes) is not what MarshalGenerator writes now (%d bytes): the weights, keys or "+
			"encoding changed; rerun with -update and then make_interop.py", interopGoGenerator, len(committed), len(gb))
	}
	iof, _ := readInterop(t, interopGoIO)
	xs := interopF32(t, iof, interopGoIO, "input", x.Shape...)
	if !slices.Equal(xs.Data, x.Data) {
		t.Errorf("%s: the stored input is not the test's input", interopGoIO)
	}
	d := interopMaxDiff(t, interopF32(t, iof, interopGoIO, "output", y.Shape...), y)
	t.Logf("max |stored − now| = %.3g over %d outputs", d, len(y.Data))
	if !(d <= interopTol) {
		t.Errorf("the engine's output moved by %.3g > %g from the one PyTorch verified", d, interopTol)
	}
}
