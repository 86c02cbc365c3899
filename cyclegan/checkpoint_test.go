package cyclegan

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
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

func TestUnmarshalGeneratorRejects(t *testing.T) {
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

	cases := []struct {
		name    string
		file    []byte
		want    error
		mention string
	}{
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
	}
	for _, c := range cases {
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
	})
}
