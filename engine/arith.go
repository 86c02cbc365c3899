package engine

// Add is a + b elementwise for tensors of one shape (no broadcasting).
func Add(tp *Tape, a, b *Tensor) *Tensor {
	mustSameShape("Add", a, b)
	y := tp.output(a.Shape, a, b)
	for i := range y.Data {
		y.Data[i] = a.Data[i] + b.Data[i]
	}
	if !y.RequiresGrad {
		return y
	}
	tp.record(func() {
		for _, in := range [2]*Tensor{a, b} {
			if needsGrad(in) {
				for i, g := range y.Grad {
					in.Grad[i] += g
				}
			}
		}
	})
	return y
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
	tp.record(func() {
		if needsGrad(x) {
			for i, g := range y.Grad {
				x.Grad[i] += s * g
			}
		}
	})
	return y
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
	tp.record(func() {
		if needsGrad(x) {
			g := y.Grad[0] / float32(len(x.Data))
			for i := range x.Grad {
				x.Grad[i] += g
			}
		}
	})
	return y
}
