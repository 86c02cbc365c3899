package safetensors_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cyclegan-wasm/cyclegan/engine/safetensors"
)

// sentinels lists every exported sentinel error, for checking that an
// error wraps the one expected and no other.
var sentinels = []error{
	safetensors.ErrTruncated,
	safetensors.ErrHeaderTooLarge,
	safetensors.ErrMalformedHeader,
	safetensors.ErrDuplicate,
	safetensors.ErrOffsets,
	safetensors.ErrDType,
	safetensors.ErrShape,
}

// file builds a safetensors file by hand: the 8-byte little-endian length
// of header, header itself (not padded) and data. It does not use the
// package's writer.
func file(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// prefixOnly returns an 8-byte header length n followed by tail.
func prefixOnly(n uint64, tail string) []byte {
	return append(binary.LittleEndian.AppendUint64(nil, n), tail...)
}

// le32 returns the little-endian bytes of float32 values.
func le32(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// equalFiles reports how two parsed files differ, or "" if they hold the
// same tensors (dtype, shape, bytes) and metadata.
func equalFiles(a, b *safetensors.File) string {
	if !maps.Equal(a.Metadata, b.Metadata) {
		return fmt.Sprintf("metadata %v != %v", a.Metadata, b.Metadata)
	}
	if !slices.Equal(a.Names(), b.Names()) {
		return fmt.Sprintf("names %q != %q", a.Names(), b.Names())
	}
	for name, ta := range a.Tensors {
		tb := b.Tensors[name]
		if ta.DType != tb.DType || !slices.Equal(ta.Shape, tb.Shape) || !bytes.Equal(ta.Data, tb.Data) {
			return fmt.Sprintf("tensor %q: %s %v %x != %s %v %x", name, ta.DType, ta.Shape, ta.Data, tb.DType, tb.Shape, tb.Data)
		}
	}
	return ""
}

// checkOnly fails t unless err wraps want and no other sentinel.
func checkOnly(t *testing.T, err, want error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", want)
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %q does not wrap %q", err, want)
	}
	for _, s := range sentinels {
		if s != want && errors.Is(err, s) {
			t.Fatalf("error %q wraps %q as well as %q", err, s, want)
		}
	}
	if !strings.HasPrefix(err.Error(), "safetensors: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		tensors  map[string]safetensors.Tensor
		metadata map[string]string
	}{
		{name: "empty"},
		{name: "metadata only", metadata: map[string]string{"format": "pt"}},
		{name: "one F32", tensors: map[string]safetensors.Tensor{
			"w": safetensors.F32([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6}),
		}},
		{name: "scalar", tensors: map[string]safetensors.Tensor{
			"step":      {DType: "I64", Shape: []int{}, Data: binary.LittleEndian.AppendUint64(nil, 12345)},
			"nil shape": safetensors.F32(nil, []float32{-0.5}),
		}},
		{name: "mixed dtypes and odd sizes", tensors: map[string]safetensors.Tensor{
			"a.u8":   {DType: "U8", Shape: []int{3}, Data: []byte{1, 2, 3}},
			"b.bool": {DType: "BOOL", Shape: []int{1, 1}, Data: []byte{1}},
			"c.f16":  {DType: "F16", Shape: []int{3}, Data: []byte{0, 0x3c, 0, 0x40, 0, 0xc0}},
			"d.bf16": {DType: "BF16", Shape: []int{1}, Data: []byte{0x80, 0x3f}},
			"e.f64":  {DType: "F64", Shape: []int{1}, Data: binary.LittleEndian.AppendUint64(nil, math.Float64bits(math.Pi))},
			"f.i32":  {DType: "I32", Shape: []int{2}, Data: []byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}},
			"g.i16":  {DType: "I16", Shape: []int{1}, Data: []byte{7, 0}},
			"h.i8":   {DType: "I8", Shape: []int{2}, Data: []byte{0x80, 0x7f}},
		}},
		{name: "zero-size tensors", tensors: map[string]safetensors.Tensor{
			"a":     safetensors.F32([]int{2}, []float32{1, 2}),
			"empty": safetensors.F32([]int{0, 5}, nil),
			"z":     {DType: "U8", Shape: []int{3, 0}},
		}},
		{name: "names and metadata needing escapes", tensors: map[string]safetensors.Tensor{
			`quote"back\slash`:   safetensors.F32([]int{1}, []float32{1}),
			"ctrl\x00\n\t\x1f":   safetensors.F32([]int{1}, []float32{2}),
			"unicodé <&> \u2028": safetensors.F32([]int{1}, []float32{3}),
			"":                   safetensors.F32([]int{1}, []float32{4}),
		}, metadata: map[string]string{"k\"\\": "v\n\x01", "": "", "é": "<script>"}},
		{name: "CycleGAN-like", tensors: map[string]safetensors.Tensor{
			"model.1.weight": safetensors.F32([]int{4, 3, 3, 3}, make([]float32, 4*3*3*3)),
			"model.1.bias":   safetensors.F32([]int{4}, []float32{0.1, -0.2, 0.3, math.MaxFloat32}),
			"model.10.conv_block.1.weight": safetensors.F32([]int{2, 2, 1, 1},
				[]float32{float32(math.Inf(1)), float32(math.Inf(-1)), math.SmallestNonzeroFloat32, -0}),
		}, metadata: map[string]string{"format": "pt", "epoch": "3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := safetensors.Marshal(tc.tensors, tc.metadata)
			if err != nil {
				t.Fatal(err)
			}
			n := binary.LittleEndian.Uint64(b)
			if n%8 != 0 {
				t.Errorf("header length %d is not a multiple of 8", n)
			}
			if h := b[8 : 8+n]; h[len(h)-1] != '}' && h[len(h)-1] != ' ' {
				t.Errorf("header %q is not padded with spaces", h)
			}

			again, err := safetensors.Marshal(maps.Clone(tc.tensors), maps.Clone(tc.metadata))
			if err != nil || !bytes.Equal(again, b) {
				t.Errorf("second Marshal differs (err %v)", err)
			}
			var buf bytes.Buffer
			if err := safetensors.Encode(&buf, tc.tensors, tc.metadata); err != nil || !bytes.Equal(buf.Bytes(), b) {
				t.Errorf("Encode differs from Marshal (err %v)", err)
			}

			f, err := safetensors.Parse(b)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := &safetensors.File{Tensors: tc.tensors, Metadata: tc.metadata}
			if diff := equalFiles(f, want); diff != "" {
				t.Errorf("Parse(Marshal(x)) != x: %s", diff)
			}
			if f.Tensors == nil || f.Metadata == nil {
				t.Errorf("Parse returned nil maps: %+v", f)
			}
			// Parse then Marshal gives back the very same bytes.
			re, err := safetensors.Marshal(f.Tensors, f.Metadata)
			if err != nil || !bytes.Equal(re, b) {
				t.Errorf("Marshal(Parse(b)) != b (err %v)", err)
			}

			fr, err := safetensors.Read(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if diff := equalFiles(fr, f); diff != "" {
				t.Errorf("Read != Parse: %s", diff)
			}
		})
	}
}

// fixtureHeader describes a file the way another writer might: entries in
// no particular order, "__metadata__" in the middle, fields in another
// order, tensors laid out in neither name nor header order, and padding.
const fixtureHeader = `{"model.0.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},` +
	`"__metadata__":{"format":"pt","note":"hand \"built\" \u00e9"},` +
	`"step":{"dtype":"I64","shape":[],"data_offsets":[24,32]},` +
	`"model.0.bias":{"shape":[2],"data_offsets":[16,24],"dtype":"F32"},` +
	`"mask":{"dtype":"BOOL","shape":[3],"data_offsets":[32,35]}}     `

// fixtureData is the data buffer of fixtureHeader, byte by byte.
var fixtureData = []byte{
	0x00, 0x00, 0x80, 0x3f, // weight[0][0] = 1
	0x00, 0x00, 0x00, 0xc0, // weight[0][1] = -2
	0x00, 0x00, 0x00, 0x3f, // weight[1][0] = 0.5
	0x00, 0x00, 0x50, 0x40, // weight[1][1] = 3.25
	0xcd, 0xcc, 0xcc, 0x3d, // bias[0] = float32(0.1)
	0x00, 0x00, 0xc0, 0xbf, // bias[1] = -1.5
	0x2a, 0, 0, 0, 0, 0, 0, 0, // step = 42
	0x01, 0x00, 0x01, // mask
}

func TestParseFixture(t *testing.T) {
	f, err := safetensors.Parse(file(fixtureHeader, fixtureData))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"format": "pt", "note": `hand "built" é`}; !maps.Equal(f.Metadata, want) {
		t.Errorf("metadata = %q, want %q", f.Metadata, want)
	}
	if got, want := f.Names(), []string{"mask", "model.0.bias", "model.0.weight", "step"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	floats := []struct {
		name  string
		shape []int
		want  []float32
	}{
		{"model.0.weight", []int{2, 2}, []float32{1, -2, 0.5, 3.25}},
		{"model.0.bias", []int{2}, []float32{0.1, -1.5}},
	}
	for _, tc := range floats {
		t.Run(tc.name, func(t *testing.T) {
			ts := f.Tensors[tc.name]
			if ts.DType != "F32" || !slices.Equal(ts.Shape, tc.shape) {
				t.Fatalf("got %s %v, want F32 %v", ts.DType, ts.Shape, tc.shape)
			}
			got, err := ts.Float32s()
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("Float32s() = %v, %v, want %v", got, err, tc.want)
			}
		})
	}
	step := f.Tensors["step"]
	if step.DType != "I64" || step.Shape == nil || len(step.Shape) != 0 || binary.LittleEndian.Uint64(step.Data) != 42 {
		t.Errorf("step = %+v, want scalar I64 42", step)
	}
	if _, err := step.Float32s(); !errors.Is(err, safetensors.ErrDType) {
		t.Errorf("Float32s of I64: err = %v, want ErrDType", err)
	}
	mask := f.Tensors["mask"]
	if mask.DType != "BOOL" || !slices.Equal(mask.Shape, []int{3}) || !bytes.Equal(mask.Data, []byte{1, 0, 1}) {
		t.Errorf("mask = %+v", mask)
	}

	// Data aliases the input but cannot grow into the next tensor.
	w := f.Tensors["model.0.weight"].Data
	_ = append(w, 0xff)
	if got, _ := f.Tensors["model.0.bias"].Float32s(); got[0] != 0.1 {
		t.Errorf("appending to one tensor's Data changed the next one: %v", got)
	}
}

// TestMarshalGolden pins the writer's bytes: key order, compact JSON,
// padding with spaces, data in name order.
func TestMarshalGolden(t *testing.T) {
	tensors := map[string]safetensors.Tensor{
		"b": safetensors.F32([]int{2}, []float32{1, 2}),
		"a": {DType: "U8", Shape: []int{1}, Data: []byte{7}},
	}
	want := "\x90\x00\x00\x00\x00\x00\x00\x00" +
		`{"__metadata__":{"format":"pt"},` +
		`"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},` +
		`"b":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}}` + "       " +
		"\x07" + "\x00\x00\x80\x3f" + "\x00\x00\x00\x40"
	got, err := safetensors.Marshal(tensors, map[string]string{"format": "pt"})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("Marshal =\n%q\nwant\n%q", got, want)
	}

	empty, err := safetensors.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "\x08\x00\x00\x00\x00\x00\x00\x00{}      "; string(empty) != want {
		t.Errorf("Marshal(nil, nil) = %q, want %q", empty, want)
	}
}

// entry returns a tensor entry with the given fields, for building headers.
func entry(dtype, shape, offsets string) string {
	return `{"dtype":` + dtype + `,"shape":` + shape + `,"data_offsets":` + offsets + `}`
}

// errorCase is one malformed input and the sentinel Parse must report.
type errorCase struct {
	name    string
	in      []byte
	want    error
	wantMsg string // a substring of the message, if not empty
}

// errorCases are malformed files for Parse; FuzzParse uses them as seeds.
func errorCases() []errorCase {
	f32x2 := entry(`"F32"`, `[2]`, `[0,8]`)
	eight := make([]byte, 8)
	return []errorCase{
		{"empty input", nil, safetensors.ErrTruncated, "0 bytes"},
		{"shorter than 8 bytes", []byte{1, 0, 0}, safetensors.ErrTruncated, ""},
		{"header length beyond file", prefixOnly(100, "{}"), safetensors.ErrTruncated, "header length 100"},
		{"header one byte short", file(`{"a":`+f32x2+`}`, eight)[:8+10], safetensors.ErrTruncated, ""},
		{"header above default cap", prefixOnly(safetensors.DefaultMaxHeaderSize+1, "{}"), safetensors.ErrHeaderTooLarge, "100000001"},
		{"header length 2^63", prefixOnly(1<<63, "{}"), safetensors.ErrHeaderTooLarge, ""},
		{"header length 2^64-1", prefixOnly(math.MaxUint64, ""), safetensors.ErrHeaderTooLarge, ""},
		{"empty header", file(``, nil), safetensors.ErrMalformedHeader, "'{'"},
		{"not JSON", file(`{not json}`, nil), safetensors.ErrMalformedHeader, ""},
		{"unterminated object", file(`{"a":`+f32x2, eight), safetensors.ErrMalformedHeader, ""},
		{"trailing comma", file(`{"a":`+f32x2+`,}`, eight), safetensors.ErrMalformedHeader, ""},
		{"JSON array", file(`[]`, nil), safetensors.ErrMalformedHeader, ""},
		{"JSON string", file(`"{}"`, nil), safetensors.ErrMalformedHeader, ""},
		{"leading space", file(` {}`, nil), safetensors.ErrMalformedHeader, "'{'"},
		{"invalid UTF-8", file("{\"\xff\":"+f32x2+"}", eight), safetensors.ErrMalformedHeader, "UTF-8"},
		{"second object after header", file(`{}{}`, nil), safetensors.ErrMalformedHeader, "after"},
		{"garbage after header", file(`{} x`, nil), safetensors.ErrMalformedHeader, "after"},
		{"NUL padding", file("{}\x00", nil), safetensors.ErrMalformedHeader, ""},
		{"entry not an object", file(`{"a":[0,8]}`, eight), safetensors.ErrMalformedHeader, `"a"`},
		{"entry null", file(`{"a":null}`, nil), safetensors.ErrMalformedHeader, `"a"`},
		{"missing dtype", file(`{"a":{"shape":[2],"data_offsets":[0,8]}}`, eight), safetensors.ErrMalformedHeader, `tensor "a": missing field "dtype"`},
		{"missing shape", file(`{"a":{"dtype":"F32","data_offsets":[0,8]}}`, eight), safetensors.ErrMalformedHeader, `missing field "shape"`},
		{"missing data_offsets", file(`{"a":{"dtype":"F32","shape":[2]}}`, eight), safetensors.ErrMalformedHeader, `missing field "data_offsets"`},
		{"unknown field", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}}`, eight), safetensors.ErrMalformedHeader, `"extra"`},
		{"dtype not a string", file(`{"a":`+entry(`4`, `[2]`, `[0,8]`)+`}`, eight), safetensors.ErrMalformedHeader, ""},
		{"shape not an array", file(`{"a":`+entry(`"F32"`, `2`, `[0,8]`)+`}`, eight), safetensors.ErrMalformedHeader, ""},
		{"shape of strings", file(`{"a":`+entry(`"F32"`, `["2"]`, `[0,8]`)+`}`, eight), safetensors.ErrMalformedHeader, ""},
		{"nested shape", file(`{"a":`+entry(`"F32"`, `[[2]]`, `[0,8]`)+`}`, eight), safetensors.ErrMalformedHeader, ""},
		{"fractional dimension", file(`{"a":`+entry(`"F32"`, `[2.0]`, `[0,8]`)+`}`, eight), safetensors.ErrMalformedHeader, "2.0"},
		{"exponent offset", file(`{"a":`+entry(`"F32"`, `[2]`, `[0,8e0]`)+`}`, eight), safetensors.ErrMalformedHeader, ""},
		{"one offset", file(`{"a":`+entry(`"F32"`, `[2]`, `[8]`)+`}`, eight), safetensors.ErrMalformedHeader, "1 offsets"},
		{"three offsets", file(`{"a":`+entry(`"F32"`, `[2]`, `[0,8,8]`)+`}`, eight), safetensors.ErrMalformedHeader, ""},
		{"offsets null", file(`{"a":`+entry(`"F32"`, `[2]`, `null`)+`}`, eight), safetensors.ErrMalformedHeader, ""},
		{"metadata value not a string", file(`{"__metadata__":{"epoch":3}}`, nil), safetensors.ErrMalformedHeader, `"epoch"`},
		{"metadata value an object", file(`{"__metadata__":{"k":{}}}`, nil), safetensors.ErrMalformedHeader, ""},
		{"metadata not an object", file(`{"__metadata__":["k","v"]}`, nil), safetensors.ErrMalformedHeader, ""},
		{"metadata null", file(`{"__metadata__":null}`, nil), safetensors.ErrMalformedHeader, ""},
		{"duplicate name", file(`{"a":`+f32x2+`,"a":`+entry(`"F32"`, `[2]`, `[8,16]`)+`}`, make([]byte, 16)), safetensors.ErrDuplicate, `tensor name "a" appears twice`},
		{"duplicate metadata", file(`{"__metadata__":{},"__metadata__":{}}`, nil), safetensors.ErrDuplicate, ""},
		{"duplicate metadata key", file(`{"__metadata__":{"k":"1","k":"2"}}`, nil), safetensors.ErrDuplicate, `"k"`},
		{"duplicate field", file(`{"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, eight), safetensors.ErrDuplicate, `"dtype"`},
		{"offsets reversed", file(`{"a":`+entry(`"F32"`, `[0]`, `[8,0]`)+`}`, eight), safetensors.ErrOffsets, "reversed"},
		{"offsets beyond buffer", file(`{"a":`+entry(`"F32"`, `[2]`, `[0,8]`)+`}`, make([]byte, 4)), safetensors.ErrOffsets, "exceed the 4-byte"},
		{"offset beyond 2^64", file(`{"a":`+entry(`"F32"`, `[2]`, `[0,18446744073709551616]`)+`}`, eight), safetensors.ErrOffsets, ""},
		{"negative offset", file(`{"a":`+entry(`"F32"`, `[2]`, `[-8,0]`)+`}`, eight), safetensors.ErrOffsets, "negative"},
		{"size mismatch with shape",
			file(`{"model.1.weight":`+entry(`"F32"`, `[3,3]`, `[0,100]`)+`}`, make([]byte, 100)), safetensors.ErrOffsets,
			`safetensors: tensor "model.1.weight": data_offsets [0 100] hold 100 bytes, shape [3 3] of F32 needs 36: invalid data offsets`},
		{"overlapping tensors", file(`{"a":`+f32x2+`,"b":`+entry(`"F32"`, `[2]`, `[4,12]`)+`}`, make([]byte, 12)), safetensors.ErrOffsets, `overlap tensor "a"`},
		{"same offsets", file(`{"a":`+f32x2+`,"b":`+f32x2+`}`, eight), safetensors.ErrOffsets, "overlap"},
		{"zero-size tensor inside another", file(`{"a":`+f32x2+`,"z":`+entry(`"F32"`, `[0]`, `[4,4]`)+`}`, eight), safetensors.ErrOffsets, "overlap"},
		{"hole between tensors", file(`{"a":`+f32x2+`,"b":`+entry(`"F32"`, `[2]`, `[12,20]`)+`}`, make([]byte, 20)), safetensors.ErrOffsets, "bytes [8 12]"},
		{"hole at start", file(`{"a":`+entry(`"F32"`, `[2]`, `[4,12]`)+`}`, make([]byte, 12)), safetensors.ErrOffsets, "bytes [0 4]"},
		{"trailing bytes after last tensor", file(`{"a":`+f32x2+`}`, make([]byte, 9)), safetensors.ErrOffsets, "1 bytes after"},
		{"data but no tensors", file(`{}`, []byte{0}), safetensors.ErrOffsets, ""},
		{"unknown dtype", file(`{"a":`+entry(`"F33"`, `[2]`, `[0,8]`)+`}`, eight), safetensors.ErrDType, `tensor "a": dtype "F33"`},
		{"lowercase dtype", file(`{"a":`+entry(`"f32"`, `[2]`, `[0,8]`)+`}`, eight), safetensors.ErrDType, ""},
		{"negative dim", file(`{"a":`+entry(`"F32"`, `[-2]`, `[0,8]`)+`}`, eight), safetensors.ErrShape, `tensor "a" field shape: negative dimension -2`},
		{"negative dim beside zero", file(`{"a":`+entry(`"F32"`, `[0,-1]`, `[0,0]`)+`}`, nil), safetensors.ErrShape, ""},
		{"dim beyond int", file(`{"a":`+entry(`"F32"`, `[9223372036854775808]`, `[0,8]`)+`}`, eight), safetensors.ErrShape, ""},
		{"dim beyond 2^64", file(`{"a":`+entry(`"F32"`, `[99999999999999999999999]`, `[0,8]`)+`}`, eight), safetensors.ErrShape, ""},
		{"product overflow", file(`{"a":`+entry(`"U8"`, `[4294967296,4294967296]`, `[0,8]`)+`}`, eight), safetensors.ErrShape, "overflows"},
		{"byte size overflow", file(`{"a":`+entry(`"F64"`, `[2305843009213693952]`, `[0,8]`)+`}`, eight), safetensors.ErrShape, "overflows"},
		{"overflow hidden by zero", file(`{"a":`+entry(`"U8"`, `[4294967296,4294967296,0]`, `[0,0]`)+`}`, nil), safetensors.ErrShape, ""},
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range errorCases() {
		t.Run(tc.name, func(t *testing.T) {
			f, err := safetensors.Parse(tc.in)
			if f != nil {
				t.Errorf("Parse returned a file with the error")
			}
			checkOnly(t, err, tc.want)
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tc.wantMsg)
			}
			// Read reports the same error as Parse.
			_, rerr := safetensors.Read(bytes.NewReader(tc.in))
			checkOnly(t, rerr, tc.want)
		})
	}
}

// TestParseAccepts covers the edge cases a strict reader must still accept.
func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		tensor int
	}{
		{"empty object", file(`{}`, nil), 0},
		{"whitespace padding", file("{} \n\t\r  ", nil), 0},
		{"unpadded header", file(`{"a":`+entry(`"U8"`, `[1]`, `[0,1]`)+`}`, []byte{9}), 1},
		{"whitespace inside", file(`{ "a" : { "dtype" : "U8" , "shape" : [ 1 ] , "data_offsets" : [ 0 , 1 ] } }`, []byte{9}), 1},
		{"metadata only", file(`{"__metadata__":{}}`, nil), 0},
		{"zero-size tensors share an offset", file(`{"a":`+entry(`"F32"`, `[0]`, `[0,0]`)+`,"b":`+entry(`"I8"`, `[2,0,3]`, `[0,0]`)+`}`, nil), 2},
		{"zero-size tensor at the end", file(`{"a":`+entry(`"U8"`, `[1]`, `[0,1]`)+`,"b":`+entry(`"F32"`, `[0]`, `[1,1]`)+`}`, []byte{1}), 2},
		{"negative zero", file(`{"a":`+entry(`"U8"`, `[-0]`, `[-0,0]`)+`}`, nil), 1},
		{"escaped name", file(`{"\u0061\n":`+entry(`"U8"`, `[1]`, `[0,1]`)+`}`, []byte{9}), 1},
		{"every dtype", file(`{"a":`+entry(`"BOOL"`, `[1]`, `[0,1]`)+
			`,"b":`+entry(`"U8"`, `[1]`, `[1,2]`)+`,"c":`+entry(`"I8"`, `[1]`, `[2,3]`)+
			`,"d":`+entry(`"F8_E4M3"`, `[1]`, `[3,4]`)+`,"e":`+entry(`"F8_E5M2"`, `[1]`, `[4,5]`)+
			`,"f":`+entry(`"F8_E8M0"`, `[1]`, `[5,6]`)+`,"g":`+entry(`"I16"`, `[1]`, `[6,8]`)+
			`,"h":`+entry(`"U16"`, `[1]`, `[8,10]`)+`,"i":`+entry(`"F16"`, `[1]`, `[10,12]`)+
			`,"j":`+entry(`"BF16"`, `[1]`, `[12,14]`)+`,"k":`+entry(`"I32"`, `[1]`, `[14,18]`)+
			`,"l":`+entry(`"U32"`, `[1]`, `[18,22]`)+`,"m":`+entry(`"F32"`, `[1]`, `[22,26]`)+
			`,"n":`+entry(`"I64"`, `[1]`, `[26,34]`)+`,"o":`+entry(`"U64"`, `[1]`, `[34,42]`)+
			`,"p":`+entry(`"F64"`, `[1]`, `[42,50]`)+`,"q":`+entry(`"C64"`, `[1]`, `[50,58]`)+`}`, make([]byte, 58)), 17},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := safetensors.Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Tensors) != tc.tensor {
				t.Errorf("got %d tensors, want %d", len(f.Tensors), tc.tensor)
			}
		})
	}
}

func TestParserMaxHeaderSize(t *testing.T) {
	valid := file(`{"a":`+entry(`"U8"`, `[1]`, `[0,1]`)+`}`, []byte{9}) // header of 63 bytes
	hdr := int64(binary.LittleEndian.Uint64(valid))
	tests := []struct {
		name string
		max  int64
		want error
	}{
		{"zero means default", 0, nil},
		{"negative means default", -1, nil},
		{"exactly the header", hdr, nil},
		{"one byte less", hdr - 1, safetensors.ErrHeaderTooLarge},
		{"tiny", 1, safetensors.ErrHeaderTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := safetensors.Parser{MaxHeaderSize: tc.max}
			_, err := p.Parse(valid)
			_, rerr := p.Read(bytes.NewReader(valid))
			if tc.want == nil {
				if err != nil || rerr != nil {
					t.Fatalf("Parse: %v, Read: %v", err, rerr)
				}
				return
			}
			checkOnly(t, err, tc.want)
			checkOnly(t, rerr, tc.want)
		})
	}
}

// errReader fails every Read with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestRead(t *testing.T) {
	valid, err := safetensors.Marshal(map[string]safetensors.Tensor{"w": safetensors.F32([]int{2}, []float32{1, 2})}, nil)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	tests := []struct {
		name    string
		r       io.Reader
		want    error // a sentinel, or boom
		notSent bool  // the error must wrap no sentinel
	}{
		{"valid in one-byte reads", &oneByteReader{b: valid}, nil, false},
		{"short prefix", bytes.NewReader(valid[:5]), safetensors.ErrTruncated, false},
		{"short body", bytes.NewReader(valid[:len(valid)-1]), safetensors.ErrOffsets, false},
		{"short header", bytes.NewReader(valid[:20]), safetensors.ErrTruncated, false},
		// The body after an oversized length is never read.
		{"too large stops early", io.MultiReader(bytes.NewReader(prefixOnly(1<<40, "")), errReader{boom}), safetensors.ErrHeaderTooLarge, false},
		{"error in prefix", errReader{boom}, boom, true},
		{"error in body", io.MultiReader(bytes.NewReader(valid[:16]), errReader{boom}), boom, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := safetensors.Read(tc.r)
			switch {
			case tc.want == nil:
				if err != nil {
					t.Fatal(err)
				}
				if got, _ := f.Tensors["w"].Float32s(); !slices.Equal(got, []float32{1, 2}) {
					t.Errorf("w = %v", got)
				}
			case tc.notSent:
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				for _, s := range sentinels {
					if errors.Is(err, s) {
						t.Errorf("reader error %q wraps sentinel %q", err, s)
					}
				}
			default:
				checkOnly(t, err, tc.want)
			}
		})
	}
}

// oneByteReader returns its bytes one at a time.
type oneByteReader struct{ b []byte }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0], r.b = r.b[0], r.b[1:]
	return 1, nil
}

func TestReadFile(t *testing.T) {
	tensors := map[string]safetensors.Tensor{"w": safetensors.F32([]int{1, 2}, []float32{3, 4})}
	b, err := safetensors.Marshal(tensors, map[string]string{"format": "pt"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := equalFiles(f, &safetensors.File{Tensors: tensors, Metadata: map[string]string{"format": "pt"}}); diff != "" {
		t.Error(diff)
	}
	if _, err := (safetensors.Parser{MaxHeaderSize: 8}).ReadFile(path); !errors.Is(err, safetensors.ErrHeaderTooLarge) {
		t.Errorf("ReadFile with a low cap: err = %v, want ErrHeaderTooLarge", err)
	}
	if _, err := safetensors.ReadFile(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile(missing): err = %v, want fs.ErrNotExist", err)
	}
}

// failWriter fails after accepting n bytes.
type failWriter struct {
	n   int
	err error
}

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, w.err
	}
	w.n -= len(p)
	return len(p), nil
}

func TestEncodeErrors(t *testing.T) {
	ok := safetensors.F32([]int{2}, []float32{1, 2})
	tests := []struct {
		name     string
		tensors  map[string]safetensors.Tensor
		metadata map[string]string
		want     error
		wantMsg  string
	}{
		{"unknown dtype", map[string]safetensors.Tensor{"a": ok, "b": {DType: "F31", Shape: []int{1}, Data: make([]byte, 4)}},
			nil, safetensors.ErrDType, `tensor "b": dtype "F31"`},
		{"empty dtype", map[string]safetensors.Tensor{"a": {Shape: []int{1}, Data: make([]byte, 4)}}, nil, safetensors.ErrDType, ""},
		{"negative dim", map[string]safetensors.Tensor{"a": {DType: "F32", Shape: []int{-1}}}, nil, safetensors.ErrShape, "negative"},
		{"too little data", map[string]safetensors.Tensor{"w": safetensors.F32([]int{2, 2}, []float32{1, 2, 3})},
			nil, safetensors.ErrShape, `tensor "w": shape [2 2] of F32 needs 16 bytes, Data has 12`},
		{"too much data", map[string]safetensors.Tensor{"w": safetensors.F32(nil, []float32{1, 2})}, nil, safetensors.ErrShape, ""},
		{"overflowing shape", map[string]safetensors.Tensor{"a": {DType: "F32", Shape: []int{math.MaxInt, 2}}}, nil, safetensors.ErrShape, "overflows"},
		{"reserved name", map[string]safetensors.Tensor{"__metadata__": ok}, nil, safetensors.ErrMalformedHeader, "reserved"},
		{"invalid UTF-8 name", map[string]safetensors.Tensor{"\xff": ok}, nil, safetensors.ErrMalformedHeader, "UTF-8"},
		{"invalid UTF-8 metadata key", nil, map[string]string{"\xfe": "v"}, safetensors.ErrMalformedHeader, "UTF-8"},
		{"invalid UTF-8 metadata value", nil, map[string]string{"k": "\xfe"}, safetensors.ErrMalformedHeader, "UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := safetensors.Marshal(tc.tensors, tc.metadata)
			if b != nil {
				t.Errorf("Marshal returned bytes with the error")
			}
			checkOnly(t, err, tc.want)
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tc.wantMsg)
			}
			var buf bytes.Buffer
			checkOnly(t, safetensors.Encode(&buf, tc.tensors, tc.metadata), tc.want)
			if buf.Len() != 0 {
				t.Errorf("Encode wrote %d bytes before failing", buf.Len())
			}
		})
	}

	t.Run("writer errors", func(t *testing.T) {
		boom := errors.New("boom")
		tensors := map[string]safetensors.Tensor{"a": ok}
		for _, n := range []int{0, 8, 1000} {
			err := safetensors.Encode(&failWriter{n: n, err: boom}, tensors, nil)
			if n == 1000 {
				if err != nil {
					t.Errorf("n=%d: %v", n, err)
				}
				continue
			}
			if !errors.Is(err, boom) {
				t.Errorf("n=%d: err = %v, want boom", n, err)
			}
		}
	})
}

func TestFloat32s(t *testing.T) {
	vals := []float32{0, -0, 1, -1.5, float32(math.Inf(1)), math.MaxFloat32, math.SmallestNonzeroFloat32, float32(math.NaN())}
	shape := []int{2, 4}
	ts := safetensors.F32(shape, vals)
	shape[0] = 99
	if !slices.Equal(ts.Shape, []int{2, 4}) {
		t.Errorf("F32 did not copy its shape: %v", ts.Shape)
	}
	got, err := ts.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	for i := range vals {
		if math.Float32bits(got[i]) != math.Float32bits(vals[i]) {
			t.Errorf("element %d: %v != %v", i, got[i], vals[i])
		}
	}
	tests := []struct {
		name string
		t    safetensors.Tensor
		want error
	}{
		{"not F32", safetensors.Tensor{DType: "F64", Shape: []int{1}, Data: make([]byte, 8)}, safetensors.ErrDType},
		{"short data", safetensors.Tensor{DType: "F32", Shape: []int{2}, Data: make([]byte, 7)}, safetensors.ErrShape},
		{"negative dim", safetensors.Tensor{DType: "F32", Shape: []int{-1}}, safetensors.ErrShape},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.t.Float32s()
			checkOnly(t, err, tc.want)
		})
	}
}

func TestDTypeSize(t *testing.T) {
	for name, want := range map[string]int{"F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1} {
		if got, ok := safetensors.DTypeSize(name); !ok || got != want {
			t.Errorf("DTypeSize(%q) = %d, %t, want %d", name, got, ok, want)
		}
	}
	for _, name := range []string{"", "f32", "F4", "float32"} {
		if _, ok := safetensors.DTypeSize(name); ok {
			t.Errorf("DTypeSize(%q) reports a known dtype", name)
		}
	}
}
