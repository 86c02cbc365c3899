package safetensors_test

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/cyclegan-wasm/cyclegan/engine/safetensors"
)

// FuzzParse checks that Parse never panics, that every error it returns
// wraps a sentinel, and that whatever it accepts re-marshals, re-parses to
// the same tensors and metadata, and re-marshals to the same bytes.
func FuzzParse(f *testing.F) {
	valid, err := safetensors.Marshal(map[string]safetensors.Tensor{
		"model.1.weight": safetensors.F32([]int{2, 1, 1, 2}, []float32{1, -2, 0.5, float32(math.Inf(1))}),
		"model.1.bias":   safetensors.F32([]int{2}, []float32{0.25, 0}),
		"step":           {DType: "I64", Shape: []int{}, Data: make([]byte, 8)},
		"empty":          {DType: "U8", Shape: []int{0}},
	}, map[string]string{"format": "pt"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(file(fixtureHeader, fixtureData))
	f.Add(file(`{}`, nil))
	for _, tc := range errorCases() {
		f.Add(tc.in)
	}

	f.Fuzz(func(t *testing.T, b []byte) {
		parsed, err := safetensors.Parse(b)
		if err != nil {
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error %q wraps no sentinel", err)
		}
		out, err := safetensors.Marshal(parsed.Tensors, parsed.Metadata)
		if err != nil {
			t.Fatalf("accepted file does not re-marshal: %v", err)
		}
		again, err := safetensors.Parse(out)
		if err != nil {
			t.Fatalf("re-marshaled file does not parse: %v", err)
		}
		if diff := equalFiles(parsed, again); diff != "" {
			t.Fatalf("re-parsed file differs: %s", diff)
		}
		out2, err := safetensors.Marshal(again.Tensors, again.Metadata)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("second re-marshal differs (err %v)", err)
		}
	})
}
