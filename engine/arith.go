package engine

// Add is a + b elementwise for tensors of one shape (no broadcasting).
func Add(tp *Tape, a, b *Tensor) *Tensor {
	mustSameShape("Add", a, b)
	y := tp.output(a.Shape, a, b)
	add(y.Data, a.Data, b.Data)
	if !y.RequiresGrad {
		return y
	}
	tp.record(node{backward: addBackward, a: a, b: b, out: y})
	return y
}

// addBackward is Add's backward pass: a, b the summands.
func addBackward(_ *Tape, nd *node) {
	for _, in := range [2]*Tensor{nd.a, nd.b} {
		if needsGrad(in) {
			addTo(in.Grad, nd.out.Grad)
		}
	}
}

// addScalar writes y = a + b elementwise. It is the fallback of builds
// without SIMD and the oracle of add.
func addScalar(y, a, b []float32) {
	a, b = a[:len(y)], b[:len(y)]
	for i := range y {
		y[i] = a[i] + b[i]
	}
}

// addToScalar adds src to dst elementwise (dst += src), the step of every
// backward pass that passes a gradient through unchanged. It is the
// fallback of builds without SIMD and the oracle of addTo.
func addToScalar(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}

// Scale is s·x elementwise for a constant s; any shape.
func Scale(tp *Tape, x *Tensor, s float32) *Tensor {
	y := tp.output(x.Shape, x)
	for i, v := range x.Data {
		y.Data[i] = s * v
	}
	if !y.RequiresGrad {
		return y
	}
	tp.record(node{backward: scaleBackward, a: x, out: y, f: s})
	return y
}

// scaleBackward is Scale's backward pass: a = x, f = s.
func scaleBackward(_ *Tape, nd *node) {
	if needsGrad(nd.a) {
		for i, g := range nd.out.Grad {
			nd.a.Grad[i] += nd.f * g
		}
	}
}

// Mean is the mean of all elements of x, a scalar; ∂x = ∂y / len(x).
// The sum runs in float64.
func Mean(tp *Tape, x *Tensor) *Tensor {
	y := tp.output(nil, x)
	var s float64
	for _, v := range x.Data {
		s += float64(v)
	}
	y.Data[0] = float32(s / float64(len(x.Data)))
	if !y.RequiresGrad {
		return y
	}
	tp.record(node{backward: meanBackward, a: x, out: y})
	return y
}

// meanBackward is Mean's backward pass: a = x.
func meanBackward(_ *Tape, nd *node) {
	x := nd.a
	if needsGrad(x) {
		g := nd.out.Grad[0] / float32(len(x.Data))
		for i := range x.Grad {
			x.Grad[i] += g
		}
	}
}
