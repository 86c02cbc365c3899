package cyclegan

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/cyclegan-wasm/cyclegan/engine"
	"github.com/cyclegan-wasm/cyclegan/engine/safetensors"
)

// Resuming from a checkpoint continues bit for bit like the run that was
// never interrupted: weights, Adam state, pools and their random state all
// come back.
func TestCheckpointResumeIsExact(t *testing.T) {
	cfg := tinyConfig()
	cfg.PoolSize = 2 // full after two steps, so the pool's randomness is exercised
	straight, _ := NewTrainer(cfg)
	want := runSteps(t, straight, 7, 5)

	first, _ := NewTrainer(cfg)
	runSteps(t, first, 4, 5)
	ckpt, err := MarshalCheckpoint(first, map[string]string{"sampler": "state"})
	if err != nil {
		t.Fatal(err)
	}
	resumed, meta, err := UnmarshalCheckpoint(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if meta["sampler"] != "state" || resumed.Iteration != 4 {
		t.Fatalf("metadata %q, iteration %d", meta["sampler"], resumed.Iteration)
	}
	got := runSteps(t, resumed, 3, 5)
	for i := range got {
		if got[i] != want[4+i] {
			t.Fatalf("iteration %d after resume: %+v, uninterrupted %+v", 4+i, got[i], want[4+i])
		}
	}
	// And the bytes of a checkpoint are a function of the state.
	again, _ := MarshalCheckpoint(straight, map[string]string{"sampler": "state"})
	resumedBytes, _ := MarshalCheckpoint(resumed, map[string]string{"sampler": "state"})
	if !bytes.Equal(again, resumedBytes) {
		t.Fatal("checkpoints of identical states differ")
	}
}

func TestGeneratorRoundTrip(t *testing.T) {
	g := NewGenerator(4, 2)
	InitWeights(g, rand.New(rand.NewPCG(1, 1)))
	b, err := MarshalGenerator(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := UnmarshalGenerator(b, "")
	if err != nil {
		t.Fatal(err)
	}
	if h.NGF != 4 || h.Blocks != 2 {
		t.Fatalf("inferred ngf %d, blocks %d", h.NGF, h.Blocks)
	}
	x := newImage(16)
	if !equal(g.Forward(nil, x).Data, h.Forward(nil, x).Data) {
		t.Fatal("reloaded generator translates differently")
	}

	// From a training checkpoint, by name.
	tr, _ := NewTrainer(tinyConfig())
	ckpt, _ := MarshalCheckpoint(tr, nil)
	gb, err := UnmarshalGenerator(ckpt, "G_B")
	if err != nil {
		t.Fatal(err)
	}
	if !equal(gb.Forward(nil, x).Data, tr.GB.Forward(nil, x).Data) {
		t.Fatal("G_B from the checkpoint differs")
	}
	if _, err := UnmarshalGenerator(ckpt, ""); err == nil {
		t.Fatal("a checkpoint without -net was accepted")
	}
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// generatorTensors returns the tensors of a small generator file, to be
// spoiled by the cases below.
func generatorTensors() map[string]safetensors.Tensor {
	g := NewGenerator(2, 1)
	m := map[string]safetensors.Tensor{}
	for _, p := range g.Parameters() {
		m[p.Name] = safetensors.F32(p.Tensor.Shape, p.Tensor.Data)
	}
	return m
}

// rejectCase is a file UnmarshalGenerator refuses, the sentinel its error
// wraps (nil: any error) and a word the message contains.
type rejectCase struct {
	name    string
	file    []byte
	want    error
	mention string
}

// generatorRejectCases spoils a small generator file in every way
// UnmarshalGenerator must notice.
func generatorRejectCases(t testing.TB) []rejectCase {
	t.Helper()
	valid, _ := safetensors.Marshal(generatorTensors(), nil)
	spoil := func(f func(m map[string]safetensors.Tensor)) []byte {
		m := generatorTensors()
		f(m)
		b, err := safetensors.Marshal(m, nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	hugeHeader := make([]byte, 8)
	binary.LittleEndian.PutUint64(hugeHeader, 200_000_000)
	badOffsets := bytes.Replace(valid, []byte(`"data_offsets":[0,`), []byte(`"data_offsets":[9,`), 1)

	return []rejectCase{
		{"missing key", spoil(func(m map[string]safetensors.Tensor) { delete(m, "model.4.bias") }), ErrMissingKey, "model.4.bias"},
		{"unexpected key", spoil(func(m map[string]safetensors.Tensor) {
			m["model.99.weight"] = safetensors.F32([]int{1}, []float32{0})
		}), ErrUnexpectedKey, "model.99.weight"},
		{"wrong shape", spoil(func(m map[string]safetensors.Tensor) {
			m["model.7.weight"] = safetensors.F32([]int{8, 4, 3, 2}, make([]float32, 8*4*3*2))
		}), ErrShape, "model.7.weight"},
		{"wrong first layer", spoil(func(m map[string]safetensors.Tensor) {
			m["model.1.weight"] = safetensors.F32([]int{2, 1, 7, 7}, make([]float32, 2*49))
		}), ErrShape, "model.1.weight"},
		{"wrong dtype", spoil(func(m map[string]safetensors.Tensor) {
			m["model.4.bias"] = safetensors.Tensor{DType: "F16", Shape: []int{4}, Data: make([]byte, 8)}
		}), ErrDType, "F16"},
		{"a discriminator", spoil(func(m map[string]safetensors.Tensor) { delete(m, "model.1.weight") }), ErrNotGenerator, "model.1.weight"},
		{"truncated file", valid[:len(valid)-5], safetensors.ErrOffsets, "exceed"},
		{"too short", valid[:5], safetensors.ErrTruncated, ""},
		{"header too large", append(hugeHeader, '{', '}'), safetensors.ErrHeaderTooLarge, ""},
		{"offsets out of range", badOffsets, safetensors.ErrOffsets, ""},
		{"not safetensors", []byte("PK\x03\x04 this is a zip file, not weights"), nil, ""},
		// And a few more for CheckGenerator, whose checks come in a
		// certain order.
		{"first layer of another dtype", spoil(func(m map[string]safetensors.Tensor) {
			m["model.1.weight"] = safetensors.Tensor{DType: "I32", Shape: []int{2, 3, 7, 7}, Data: make([]byte, 4*2*3*49)}
		}), ErrDType, "model.1.weight"},
		{"more blocks claimed than held", spoil(func(m map[string]safetensors.Tensor) {
			m["model.11.conv_block.1.weight"] = safetensors.F32([]int{8, 8, 3, 3}, make([]float32, 8*8*9))
			// Ignored, and makes the file as large as two blocks need.
			m["model.2.running_var"] = safetensors.F32([]int{1024}, make([]float32, 1024))
		}), ErrMissingKey, "model.11.conv_block.1.bias"},
		{"ngf beyond the file", spoil(func(m map[string]safetensors.Tensor) {
			m["model.1.weight"] = safetensors.F32([]int{64, 3, 7, 7}, make([]float32, 64*3*49))
		}), ErrShape, "needs"},
		{"legacy key and unexpected key", spoil(func(m map[string]safetensors.Tensor) {
			m["model.2.running_mean"] = safetensors.F32([]int{2}, []float32{0, 0})
			m["model.5.extra"] = safetensors.F32([]int{1}, []float32{0})
		}), ErrUnexpectedKey, "model.5.extra"},
	}
}

func TestUnmarshalGeneratorRejects(t *testing.T) {
	for _, c := range generatorRejectCases(t) {
		t.Run(c.name, func(t *testing.T) {
			_, err := UnmarshalGenerator(c.file, "")
			if err == nil {
				t.Fatal("accepted")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("error %q does not wrap %q", err, c.want)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Fatalf("error %q does not name %q", err, c.mention)
			}
		})
	}
}

// Old PyTorch checkpoints carry statistics of the norm layers that the
// reference's loader drops: so do we.
func TestParameterCountFormulas(t *testing.T) {
	for _, c := range [][2]int{{1, 0}, {4, 1}, {16, 3}, {32, 6}} {
		if got, want := generatorParams(c[0], c[1]), CountParameters(NewGenerator(c[0], c[1])); got != want {
			t.Errorf("generator %v: %d, counted %d", c, got, want)
		}
		if got, want := discriminatorParams(c[0], c[1]+1), CountParameters(NewDiscriminator(c[0], c[1]+1)); got != want {
			t.Errorf("discriminator %v: %d, counted %d", c, got, want)
		}
	}
}

func TestUnmarshalGeneratorIgnoresLegacyNormKeys(t *testing.T) {
	m := generatorTensors()
	m["model.2.running_mean"] = safetensors.F32([]int{2}, []float32{0, 0})
	m["model.2.running_var"] = safetensors.F32([]int{2}, []float32{1, 1})
	m["model.2.num_batches_tracked"] = safetensors.Tensor{DType: "I64", Shape: []int{}, Data: make([]byte, 8)}
	b, _ := safetensors.Marshal(m, nil)
	if _, err := UnmarshalGenerator(b, ""); err != nil {
		t.Fatal(err)
	}
}

func TestUnmarshalCheckpointRejects(t *testing.T) {
	tr, _ := NewTrainer(tinyConfig())
	gen, _ := MarshalGenerator(tr.GA, nil)
	if _, _, err := UnmarshalCheckpoint(gen); !errors.Is(err, ErrNotCheckpoint) {
		t.Fatalf("a bare generator as a checkpoint: %v", err)
	}
	ckpt, _ := MarshalCheckpoint(tr, nil)
	f, _ := safetensors.Parse(ckpt)
	f.Metadata["format_version"] = "99"
	future, _ := safetensors.Marshal(f.Tensors, f.Metadata)
	if _, _, err := UnmarshalCheckpoint(future); !errors.Is(err, ErrVersion) {
		t.Fatalf("version 99: %v", err)
	}
	f.Metadata["format_version"] = "1"
	delete(f.Tensors, "optimizer_D.exp_avg_sq.D_B.model.0.bias")
	missing, _ := safetensors.Marshal(f.Tensors, f.Metadata)
	if _, _, err := UnmarshalCheckpoint(missing); !errors.Is(err, ErrMissingKey) || !strings.Contains(err.Error(), "D_B.model.0.bias") {
		t.Fatalf("missing moment: %v", err)
	}
}

func FuzzUnmarshalGenerator(f *testing.F) {
	valid, _ := safetensors.Marshal(generatorTensors(), nil)
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add([]byte{})
	// The smallest trainer there is: the fuzzer mutates large seeds slowly.
	micro := tinyConfig()
	micro.NGF, micro.Blocks, micro.NDF, micro.DLayers = 1, 0, 1, 1
	tr, err := NewTrainer(micro)
	if err != nil {
		f.Fatal(err)
	}
	ckpt, _ := MarshalCheckpoint(tr, nil)
	f.Add(ckpt)
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := UnmarshalGenerator(b, "G_A")
		if err == nil && g.NGF <= 8 && g.Blocks <= 2 {
			g.Forward(nil, engine.New(1, 3, 8, 8)) // an accepted generator runs
		}
		UnmarshalCheckpoint(b)
		// CheckGenerator and UnmarshalGenerator agree with the reader
		// as it was before CheckGenerator, on every input.
		checkAgainstReference(t, b, "G_A")
		checkAgainstReference(t, b, "")
	})
}

// unmarshalGeneratorReference is UnmarshalGenerator as it was before
// CheckGenerator was split from it, kept verbatim (decoding included) as
// the oracle that CheckGenerator and UnmarshalGenerator must agree with.
func unmarshalGeneratorReference(b []byte, net string) (*Generator, error) {
	f, err := safetensors.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("generator: %w", err)
	}
	tensors := f.Tensors
	if f.Metadata["format"] == CheckpointFormat {
		if net != "G_A" && net != "G_B" {
			return nil, fmt.Errorf("generator: a training checkpoint holds G_A and G_B; choose one, not %q", net)
		}
		tensors = map[string]safetensors.Tensor{}
		for k, v := range f.Tensors {
			if rest, ok := strings.CutPrefix(k, net+"."); ok {
				tensors[rest] = v
			}
		}
	}
	for k := range tensors {
		if strings.HasSuffix(k, ".running_mean") || strings.HasSuffix(k, ".running_var") || strings.HasSuffix(k, ".num_batches_tracked") {
			delete(tensors, k)
		}
	}
	first, ok := tensors["model.1.weight"]
	if !ok {
		return nil, fmt.Errorf("generator: %q: %w (%w)", "model.1.weight", ErrMissingKey, ErrNotGenerator)
	}
	if len(first.Shape) != 4 || first.Shape[1] != 3 || first.Shape[2] != 7 || first.Shape[3] != 7 || first.Shape[0] < 1 || first.Shape[0] > 1024 {
		return nil, fmt.Errorf("generator: %q has shape %v, want [ngf 3 7 7]: %w", "model.1.weight", first.Shape, ErrShape)
	}
	ngf := first.Shape[0]
	blocks := 0
	for {
		if _, ok := tensors[fmt.Sprintf("model.%d.conv_block.1.weight", 10+blocks)]; !ok {
			break
		}
		blocks++
	}
	if need := 4 * generatorParams(ngf, blocks); need > len(b) {
		return nil, fmt.Errorf("generator: ngf %d with %d blocks needs %d bytes, the file has %d: %w", ngf, blocks, need, len(b), ErrShape)
	}
	g := NewGenerator(ngf, blocks)
	for _, p := range g.Parameters() {
		st, ok := tensors[p.Name]
		if !ok {
			return nil, fmt.Errorf("generator (ngf %d, %d blocks): %q: %w", ngf, blocks, p.Name, ErrMissingKey)
		}
		if err := checkTensor(p.Name, st, p.Tensor.Shape); err != nil {
			return nil, fmt.Errorf("generator (ngf %d, %d blocks): %w", ngf, blocks, err)
		}
		v, err := st.Float32s()
		if err != nil {
			panic("cyclegan: " + err.Error())
		}
		copy(p.Tensor.Data, v)
		delete(tensors, p.Name)
	}
	if len(tensors) > 0 {
		keys := make([]string, 0, len(tensors))
		for k := range tensors {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return nil, fmt.Errorf("generator (ngf %d, %d blocks): %q: %w", ngf, blocks, keys[0], ErrUnexpectedKey)
	}
	return g, nil
}

// weightSentinels are every sentinel an error about a weight file may
// wrap.
var weightSentinels = []error{
	ErrNotCheckpoint, ErrVersion, ErrMissingKey, ErrUnexpectedKey, ErrShape, ErrDType, ErrNotGenerator,
	safetensors.ErrTruncated, safetensors.ErrHeaderTooLarge, safetensors.ErrMalformedHeader,
	safetensors.ErrDuplicate, safetensors.ErrOffsets, safetensors.ErrDType, safetensors.ErrShape,
}

// checkAgainstReference fails t unless CheckGenerator(b, net) and
// UnmarshalGenerator(b, net) both accept b exactly when
// unmarshalGeneratorReference does, with the same ngf and blocks (and, for
// UnmarshalGenerator, the same weights bit for bit), or both refuse it with
// the reference's error message and sentinels. It returns whether b was
// accepted.
func checkAgainstReference(t *testing.T, b []byte, net string) bool {
	t.Helper()
	want, wantErr := unmarshalGeneratorReference(slices.Clone(b), net)
	info, checkErr := CheckGenerator(b, net)
	got, gotErr := UnmarshalGenerator(b, net)
	for _, r := range []struct {
		fn  string
		err error
	}{{"CheckGenerator", checkErr}, {"UnmarshalGenerator", gotErr}} {
		if (r.err == nil) != (wantErr == nil) {
			t.Fatalf("net %q: %s error %v, the reference's %v", net, r.fn, r.err, wantErr)
		}
		if wantErr == nil {
			continue
		}
		if r.err.Error() != wantErr.Error() {
			t.Fatalf("net %q: %s error %q, the reference's %q", net, r.fn, r.err, wantErr)
		}
		for _, s := range weightSentinels {
			if errors.Is(r.err, s) != errors.Is(wantErr, s) {
				t.Fatalf("net %q: %s error %q and the reference's %q differ on %q", net, r.fn, r.err, wantErr, s)
			}
		}
	}
	if wantErr != nil {
		return false
	}
	if info.NGF != want.NGF || info.Blocks != want.Blocks || got.NGF != want.NGF || got.Blocks != want.Blocks {
		t.Fatalf("net %q: CheckGenerator ngf %d, %d blocks; UnmarshalGenerator %d, %d; the reference %d, %d",
			net, info.NGF, info.Blocks, got.NGF, got.Blocks, want.NGF, want.Blocks)
	}
	f, _ := safetensors.Parse(b)
	if info.Metadata == nil || !maps.Equal(info.Metadata, f.Metadata) {
		t.Fatalf("net %q: CheckGenerator metadata %v, the file's %v", net, info.Metadata, f.Metadata)
	}
	wp, gp := want.Parameters(), got.Parameters()
	for i := range wp {
		if wp[i].Name != gp[i].Name || !slices.Equal(wp[i].Tensor.Shape, gp[i].Tensor.Shape) ||
			!slices.EqualFunc(wp[i].Tensor.Data, gp[i].Tensor.Data, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
			t.Fatalf("net %q: parameter %s differs from the reference's", net, wp[i].Name)
		}
	}
	return true
}

// The generator's layout, which CheckGenerator checks a file against, is
// the one NewGenerator builds.
func TestGeneratorLayout(t *testing.T) {
	for _, c := range [][2]int{{1, 0}, {2, 1}, {3, 2}, {8, 5}, {16, 9}} {
		ngf, blocks := c[0], c[1]
		params := NewGenerator(ngf, blocks).Parameters()
		layout := generatorLayout(ngf, blocks)
		if len(layout) != len(params) {
			t.Fatalf("ngf %d, %d blocks: %d parameters in the layout, NewGenerator has %d", ngf, blocks, len(layout), len(params))
		}
		for i, p := range params {
			if layout[i].name != p.Name || !slices.Equal(layout[i].shape, p.Tensor.Shape) {
				t.Errorf("ngf %d, %d blocks: parameter %d is %s %v in the layout, %s %v in NewGenerator",
					ngf, blocks, i, layout[i].name, layout[i].shape, p.Name, p.Tensor.Shape)
			}
		}
	}
}

// CheckGenerator accepts exactly the files UnmarshalGenerator (as it was
// before the two were split) accepts, with the same ngf and blocks, and
// refuses the others with the same errors: generators of several sizes,
// with and without metadata and legacy keys, training checkpoints for
// every net, and every spoiled file of TestUnmarshalGeneratorRejects.
func TestCheckGeneratorAgreesWithUnmarshal(t *testing.T) {
	type file struct {
		name   string
		b      []byte
		accept []string // the nets for which it is a generator
	}
	var files []file
	for _, c := range []struct {
		ngf, blocks int
		meta        map[string]string
	}{
		{1, 0, nil},
		{2, 1, map[string]string{"crop_size": "64", "iteration": "123"}},
		{3, 2, nil},
		{4, 3, map[string]string{"note": "é ☃"}},
		{8, 9, map[string]string{}},
	} {
		g := NewGenerator(c.ngf, c.blocks)
		InitWeights(g, rand.New(rand.NewPCG(uint64(c.ngf), uint64(c.blocks))))
		b, err := MarshalGenerator(g, c.meta)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, file{fmt.Sprintf("ngf %d, %d blocks, metadata %v", c.ngf, c.blocks, c.meta), b, []string{"", "G_A", "G_B", "G_C"}})
	}
	legacy := generatorTensors()
	legacy["model.2.running_mean"] = safetensors.F32([]int{2}, []float32{0, 0})
	legacy["model.2.running_var"] = safetensors.F32([]int{2}, []float32{1, 1})
	legacy["model.2.num_batches_tracked"] = safetensors.Tensor{DType: "I64", Shape: []int{}, Data: make([]byte, 8)}
	b, _ := safetensors.Marshal(legacy, nil)
	files = append(files, file{"legacy norm keys", b, []string{"", "G_A", "G_B", "G_C"}})
	tr, _ := NewTrainer(tinyConfig())
	ckpt, _ := MarshalCheckpoint(tr, map[string]string{"sampler": "state"})
	files = append(files, file{"training checkpoint", ckpt, []string{"G_A", "G_B"}})
	for _, c := range generatorRejectCases(t) {
		files = append(files, file{c.name, c.file, nil})
	}

	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			for _, net := range []string{"", "G_A", "G_B", "G_C"} {
				if got := checkAgainstReference(t, f.b, net); got != slices.Contains(f.accept, net) {
					t.Errorf("net %q: accepted %t", net, got)
				}
			}
		})
	}
}

// A training checkpoint is told apart as UnmarshalGenerator tells it: an
// error that says what the file is.
func TestCheckGeneratorCheckpoint(t *testing.T) {
	tr, _ := NewTrainer(tinyConfig())
	ckpt, _ := MarshalCheckpoint(tr, nil)
	if _, err := CheckGenerator(ckpt, ""); err == nil || !strings.Contains(err.Error(), "training checkpoint") {
		t.Fatalf("a checkpoint without a net: %v", err)
	}
	info, err := CheckGenerator(ckpt, "G_B")
	if err != nil {
		t.Fatal(err)
	}
	if info.NGF != tr.GB.NGF || info.Blocks != tr.GB.Blocks || info.Metadata["format"] != CheckpointFormat {
		t.Fatalf("G_B of a checkpoint: %+v", info)
	}
}

// referenceGenerator returns the file of the reference's generator, ngf 64
// with 9 residual blocks: 45.6 MB of weights.
func referenceGenerator(tb testing.TB) []byte {
	tb.Helper()
	b, err := MarshalGenerator(NewGenerator(64, 9), map[string]string{"crop_size": "256", "iteration": "100000"})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// allocated returns the bytes the heap allocated while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// CheckGenerator allocates for the header, not for the weights: on the
// reference generator's 45.6 MB, far less than one tensor of it (the
// largest, a residual convolution, is 2.4 MB). UnmarshalGenerator
// allocates the generator's weights and gradients, twice the file.
func TestCheckGeneratorAllocatesLittle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 45.6 MB generator")
	}
	b := referenceGenerator(t)
	var err error
	check := allocated(func() { _, err = CheckGenerator(b, "") })
	if err != nil {
		t.Fatal(err)
	}
	// Parsing the 5 KB header allocates some 70 KB (json.Decoder's tokens);
	// 256 KB is half a percent of the file and still far below one
	// residual convolution's 2.4 MB, so any copy of the weights fails it.
	const bound = 256 << 10
	t.Logf("CheckGenerator on %d bytes allocated %d bytes", len(b), check)
	if check > bound {
		t.Errorf("CheckGenerator on %d bytes allocated %d bytes, more than %d", len(b), check, bound)
	}
	if testing.Verbose() {
		var g *Generator
		load := allocated(func() { g, err = UnmarshalGenerator(b, "") })
		ref := allocated(func() { g, err = unmarshalGeneratorReference(b, "") })
		t.Logf("UnmarshalGenerator allocated %d bytes, the reader before CheckGenerator %d (ngf %d)", load, ref, g.NGF)
	}
}

func benchmarkGeneratorReader(b *testing.B, read func([]byte) error) {
	file := referenceGenerator(b)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := read(file); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckGenerator_ngf64_9blocks(b *testing.B) {
	benchmarkGeneratorReader(b, func(file []byte) error { _, err := CheckGenerator(file, ""); return err })
}

func BenchmarkUnmarshalGenerator_ngf64_9blocks(b *testing.B) {
	benchmarkGeneratorReader(b, func(file []byte) error { _, err := UnmarshalGenerator(file, ""); return err })
}
