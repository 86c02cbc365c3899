package engine

import "math"

// ReLU is max(x, 0) elementwise, as torch.nn.ReLU; its gradient is 1 where
// x > 0 and 0 elsewhere (including at 0, as PyTorch).
func ReLU(tp *Tape, x *Tensor) *Tensor {
	return LeakyReLU(tp, x, 0)
}

// LeakyReLU is x where x > 0 and slope·x elsewhere, as
// torch.nn.LeakyReLU(negative_slope=slope); any shape. Its gradient is 1
// where x > 0 and slope elsewhere.
func LeakyReLU(tp *Tape, x *Tensor, slope float32) *Tensor {
	y := tp.output(x.Shape, x)
	for i, v := range x.Data {
		if v > 0 {
			y.Data[i] = v
		} else {
			y.Data[i] = slope * v
		}
	}
	if !y.RequiresGrad {
		return y
	}
	tp.record(node{backward: leakyReLUBackward, a: x, out: y, f: slope})
	return y
}

// leakyReLUBackward is LeakyReLU's backward pass: a = x, f = slope.
func leakyReLUBackward(_ *Tape, nd *node) {
	x, y, slope := nd.a, nd.out, nd.f
	if !needsGrad(x) {
		return
	}
	for i, v := range x.Data {
		if v > 0 {
			x.Grad[i] += y.Grad[i]
		} else {
			x.Grad[i] += slope * y.Grad[i]
		}
	}
}

// Tanh is the hyperbolic tangent elementwise, as torch.nn.Tanh; any shape.
// Backward uses the output: ∂x = ∂y·(1 − y²).
func Tanh(tp *Tape, x *Tensor) *Tensor {
	y := tp.output(x.Shape, x)
	for i, v := range x.Data {
		y.Data[i] = float32(math.Tanh(float64(v)))
	}
	if !y.RequiresGrad {
		return y
	}
	tp.record(node{backward: tanhBackward, a: x, out: y})
	return y
}

// tanhBackward is Tanh's backward pass: a = x.
func tanhBackward(_ *Tape, nd *node) {
	x, y := nd.a, nd.out
	if !needsGrad(x) {
		return
	}
	for i, t := range y.Data {
		x.Grad[i] += y.Grad[i] * (1 - t*t)
	}
}
