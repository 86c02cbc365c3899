package engine

import "fmt"

// Tape records the operations of one forward pass so that Backward can run
// their gradients in reverse order. It also owns the memory of the tensors
// those operations create: after Reset, the next forward pass of the same
// shape reuses the same buffers, so a training step in steady state does not
// grow the heap (which matters in WebAssembly, where Go never returns memory
// to the browser).
//
// A nil *Tape is valid everywhere an op takes one: the op then allocates its
// output and records nothing, which is what inference wants.
//
// A Tape is not safe for concurrent use.
type Tape struct {
	nodes []node // the recorded ops, in forward order

	bufs [][]float32 // arena buffers, handed out in allocation order
	next int         // index of the next arena buffer

	tensors    []*Tensor // arena of output tensor headers, likewise
	nextTensor int

	scratch []float32 // shared temporary (im2col columns), never live across ops
}

// NewTape returns an empty tape.
func NewTape() *Tape { return &Tape{} }

// Reset forgets the recorded operations and releases every tensor created on
// the tape for reuse. Tensors produced by earlier ops on this tape must not
// be used after Reset.
func (tp *Tape) Reset() {
	clear(tp.nodes) // drop references to the previous pass's tensors
	tp.nodes = tp.nodes[:0]
	tp.next = 0
	tp.nextTensor = 0
}

// Len is the number of recorded operations.
func (tp *Tape) Len() int { return len(tp.nodes) }

// node is one recorded op: the function that runs its backward pass (a
// plain function, not a closure, so recording allocates nothing) and the
// operands it needs. Each op file says which fields it uses.
type node struct {
	backward func(tp *Tape, n *node)

	a, b, c *Tensor // inputs
	out     *Tensor // output
	geom    convGeometry
	n, k    int
	f       float32
	buf     [2][]float32 // values kept from the forward pass
}

// Backward sets ∂loss/∂loss = 1 and propagates gradients through every
// recorded operation in reverse, accumulating into the Grad of every tensor
// that requires one. loss must be a scalar produced on this tape.
func (tp *Tape) Backward(loss *Tensor) {
	if len(loss.Data) != 1 {
		panic(fmt.Sprintf("engine: Backward from a non-scalar %v", loss))
	}
	tp.BackwardFrom(loss, []float32{1})
}

// BackwardFrom seeds out.Grad with seed (added to it) and propagates
// gradients through every recorded operation in reverse. It is Backward for
// a non-scalar output: the result is the gradient of Σ seed·out.
func (tp *Tape) BackwardFrom(out *Tensor, seed []float32) {
	if tp == nil {
		panic("engine: Backward on a nil tape")
	}
	if !out.RequiresGrad || out.Grad == nil {
		panic("engine: Backward from a tensor that does not require a gradient")
	}
	if len(seed) != len(out.Grad) {
		panic(fmt.Sprintf("engine: Backward seed has %d values for %v", len(seed), out))
	}
	for i, s := range seed {
		out.Grad[i] += s
	}
	for i := len(tp.nodes) - 1; i >= 0; i-- {
		n := &tp.nodes[i]
		n.backward(tp, n)
	}
}

// record appends an op to the tape.
func (tp *Tape) record(n node) {
	tp.nodes = append(tp.nodes, n)
}

// buffer returns n zeroed float32s, from the arena when tp is non-nil.
func (tp *Tape) buffer(n int) []float32 {
	if tp == nil {
		return make([]float32, n)
	}
	if tp.next == len(tp.bufs) {
		tp.bufs = append(tp.bufs, nil)
	}
	b := tp.bufs[tp.next]
	if cap(b) < n {
		b = make([]float32, n)
	} else {
		b = b[:n]
		clear(b)
	}
	tp.bufs[tp.next] = b
	tp.next++
	return b
}

// output returns a new tensor of the given shape for an op's result. It
// requires a gradient, and gets a Grad buffer, when any of inputs does and
// the op is being recorded.
func (tp *Tape) output(shape []int, inputs ...*Tensor) *Tensor {
	t := tp.header()
	for _, d := range shape { // element by element, so shape does not escape
		t.Shape = append(t.Shape, d)
	}
	t.Data = tp.buffer(numel(shape))
	if tp != nil {
		for _, in := range inputs {
			if in != nil && in.RequiresGrad {
				t.RequiresGrad = true
				t.Grad = tp.buffer(len(t.Data))
				break
			}
		}
	}
	return t
}

// header returns a blank tensor header, from the arena when tp is non-nil.
func (tp *Tape) header() *Tensor {
	if tp == nil {
		return &Tensor{}
	}
	if tp.nextTensor == len(tp.tensors) {
		tp.tensors = append(tp.tensors, &Tensor{})
	}
	t := tp.tensors[tp.nextTensor]
	tp.nextTensor++
	*t = Tensor{Shape: t.Shape[:0]}
	return t
}

// scratchBuffer returns a temporary of n float32s with unspecified contents,
// valid until the next call. It is shared by all ops on the tape.
func (tp *Tape) scratchBuffer(n int) []float32 {
	if tp == nil {
		return make([]float32, n)
	}
	if cap(tp.scratch) < n {
		tp.scratch = make([]float32, n)
	}
	return tp.scratch[:n]
}

// needsGrad reports whether the gradient of t must be computed.
func needsGrad(t *Tensor) bool { return t != nil && t.RequiresGrad && t.Grad != nil }
