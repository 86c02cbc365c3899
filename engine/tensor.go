package engine

import (
	"fmt"
	"slices"
	"strings"
)

// Tensor is a dense float32 array in row-major order. Images are NCHW:
// element (n, c, y, x) of a tensor with Shape [N, C, H, W] is at
// Data[((n*C+c)*H+y)*W+x]. A scalar has an empty Shape and one element.
//
// Grad, when non-nil, has the same layout as Data and accumulates ∂loss/∂Data
// during Tape.Backward. RequiresGrad marks leaves (parameters, inputs) whose
// gradient is wanted; ops propagate it to their outputs.
type Tensor struct {
	Shape        []int
	Data         []float32
	Grad         []float32
	RequiresGrad bool
}

// New returns a zero tensor of the given shape.
func New(shape ...int) *Tensor {
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, numel(shape))}
}

// FromData wraps data (not copied) as a tensor of the given shape.
// It panics if len(data) does not match the shape.
func FromData(data []float32, shape ...int) *Tensor {
	if len(data) != numel(shape) {
		panic(fmt.Sprintf("engine: FromData: %d values for shape %v", len(data), shape))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}
}

// NewParam returns a zero tensor that requires a gradient, with its Grad
// buffer allocated: the form every learnable weight takes.
func NewParam(shape ...int) *Tensor {
	t := New(shape...)
	t.RequiresGrad = true
	t.Grad = make([]float32, len(t.Data))
	return t
}

// Len is the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// Dims returns the four dimensions of an NCHW tensor, panicking otherwise.
func (t *Tensor) Dims() (n, c, h, w int) {
	if len(t.Shape) != 4 {
		panic(fmt.Sprintf("engine: want an NCHW tensor, have shape %v", t.Shape))
	}
	return t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3]
}

// ZeroGrad sets every element of Grad to zero (allocating it if needed).
func (t *Tensor) ZeroGrad() {
	if t.Grad == nil {
		t.Grad = make([]float32, len(t.Data))
		return
	}
	clear(t.Grad)
}

// Item returns the value of a one-element tensor.
func (t *Tensor) Item() float32 {
	if len(t.Data) != 1 {
		panic(fmt.Sprintf("engine: Item of a tensor with shape %v", t.Shape))
	}
	return t.Data[0]
}

// String describes the tensor's shape, for error messages and debugging.
func (t *Tensor) String() string {
	parts := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		parts[i] = fmt.Sprint(d)
	}
	return "Tensor[" + strings.Join(parts, "×") + "]"
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("engine: negative dimension %d in a shape", d)) // d, not shape: shape must not escape
		}
		n *= d
	}
	return n
}

func mustSameShape(op string, a, b *Tensor) {
	if !slices.Equal(a.Shape, b.Shape) {
		panic(fmt.Sprintf("engine: %s: shapes %v and %v differ", op, a.Shape, b.Shape))
	}
}
