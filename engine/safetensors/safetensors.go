package safetensors

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// Sentinel errors. Every error returned by Parse, Read, ReadFile, Encode and
// Marshal that is about the content of a file or of the tensors given wraps
// exactly one of these, with a message naming the problem and, where there
// is one, the tensor.
var (
	// ErrTruncated means the input is shorter than 8 bytes, or shorter than
	// the header length it declares.
	ErrTruncated = errors.New("truncated file")
	// ErrHeaderTooLarge means the declared header length exceeds the
	// parser's MaxHeaderSize (or, when writing, DefaultMaxHeaderSize).
	ErrHeaderTooLarge = errors.New("header too large")
	// ErrMalformedHeader means the header is not valid UTF-8, does not start
	// with '{', is not a single JSON object, has fields of the wrong type,
	// missing or unknown fields, or metadata values that are not strings.
	// When writing, it means a name or metadata entry cannot be written
	// (invalid UTF-8, or a tensor named "__metadata__").
	ErrMalformedHeader = errors.New("malformed header")
	// ErrDuplicate means a JSON object of the header repeats a key: a tensor
	// name, "__metadata__", a metadata key or a field of a tensor entry.
	ErrDuplicate = errors.New("duplicate key")
	// ErrOffsets means a tensor's data_offsets are reversed, lie outside the
	// data buffer or hold a different number of bytes than its shape and
	// dtype need, or that the tensors do not tile the data buffer exactly
	// (they overlap, leave a hole, or leave bytes after the last tensor).
	ErrOffsets = errors.New("invalid data offsets")
	// ErrDType means a dtype name is not one this package knows
	// (see DTypeSize), or, for Tensor.Float32s, is not F32.
	ErrDType = errors.New("unknown dtype")
	// ErrShape means a shape has a negative dimension or a byte size that
	// overflows, or (for Encode, Marshal and Float32s) that a tensor's Data
	// is not exactly the size its shape and dtype need.
	ErrShape = errors.New("invalid shape")
)

// dtypeSizes maps every supported dtype name to its element size in bytes.
// Sub-byte dtypes (F4, F6_*) are not supported.
var dtypeSizes = map[string]int{
	"BOOL":    1,
	"U8":      1,
	"I8":      1,
	"F8_E4M3": 1,
	"F8_E5M2": 1,
	"F8_E8M0": 1,
	"I16":     2,
	"U16":     2,
	"F16":     2,
	"BF16":    2,
	"I32":     4,
	"U32":     4,
	"F32":     4,
	"I64":     8,
	"U64":     8,
	"F64":     8,
	"C64":     8,
}

// DTypeSize returns the size in bytes of one element of the named dtype
// (BOOL, U8, I8, F8_E4M3, F8_E5M2, F8_E8M0, I16, U16, F16, BF16, I32, U32,
// F32, I64, U64, F64, C64) and whether the name is known. Names are
// case-sensitive, as in the format.
func DTypeSize(dtype string) (int, bool) {
	n, ok := dtypeSizes[dtype]
	return n, ok
}

// Tensor is one tensor of a file: its dtype name (such as "F32"), its shape
// (empty for a scalar, which holds one element) and its elements as raw
// row-major little-endian bytes.
type Tensor struct {
	DType string
	Shape []int
	Data  []byte
}

// F32 returns an F32 tensor of the given shape holding data, encoded
// little-endian. The shape is copied. F32 does not check that len(data)
// matches the shape; Encode and Marshal do.
func F32(shape []int, data []float32) Tensor {
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return Tensor{DType: "F32", Shape: slices.Clone(shape), Data: b}
}

// Float32s decodes the elements of an F32 tensor. It returns an error
// wrapping ErrDType if the dtype is not F32, and one wrapping ErrShape if
// the shape is invalid or Data is not exactly the size the shape needs.
func (t Tensor) Float32s() ([]float32, error) {
	if t.DType != "F32" {
		return nil, fmt.Errorf("safetensors: Float32s of a %q tensor: %w", t.DType, ErrDType)
	}
	if err := t.check(); err != nil {
		return nil, fmt.Errorf("safetensors: Float32s: %w", err)
	}
	out := make([]float32, len(t.Data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return out, nil
}

// check reports whether t has a known dtype, a valid shape and exactly the
// data its shape needs. The error wraps ErrDType or ErrShape and does not
// name the tensor.
func (t Tensor) check() error {
	size, ok := dtypeSizes[t.DType]
	if !ok {
		return fmt.Errorf("dtype %q: %w", t.DType, ErrDType)
	}
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("shape %v has a negative dimension: %w", t.Shape, ErrShape)
		}
	}
	need, ok := byteSize(t.Shape, size)
	if !ok {
		return fmt.Errorf("shape %v of %s overflows: %w", t.Shape, t.DType, ErrShape)
	}
	if uint64(len(t.Data)) != need {
		return fmt.Errorf("shape %v of %s needs %d bytes, Data has %d: %w",
			t.Shape, t.DType, need, len(t.Data), ErrShape)
	}
	return nil
}

// byteSize returns product(shape)*elemSize, and false if that, or the
// product of the non-zero dimensions times elemSize, does not fit in an int
// (the largest slice length). Every dimension must be non-negative. Checking
// the non-zero dimensions too means a zero in the shape cannot hide an
// overflowing product, whatever the order of the dimensions.
func byteSize(shape []int, elemSize int) (uint64, bool) {
	n, zero := uint64(elemSize), false
	for _, d := range shape {
		if d == 0 {
			zero = true
			continue
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt {
			return 0, false
		}
		n = lo
	}
	if zero {
		return 0, true
	}
	return n, true
}
