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
	leakyReLU(y.Data, x.Data, slope)
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
	leakyReLUGrad(x.Grad, y.Grad, x.Data, slope)
}

// leakyReLUScalar writes y = x where x > 0, else slope·x. Everywhere else
// the product is taken, so a NaN stays NaN and ReLU (slope 0) maps −0 to
// −0 and −∞ to NaN (0·−∞), as the browser's SIMD kernel must too. It is
// the fallback of builds without SIMD and the oracle of leakyReLU.
func leakyReLUScalar(y, x []float32, slope float32) {
	y = y[:len(x)]
	for i, v := range x {
		if v > 0 {
			y[i] = v
		} else {
			y[i] = slope * v
		}
	}
}

// leakyReLUGradScalar adds ∂y where x > 0, else slope·∂y, to ∂x. It is the
// fallback of builds without SIMD and the oracle of leakyReLUGrad.
func leakyReLUGradScalar(dx, dy, x []float32, slope float32) {
	dx, dy = dx[:len(x)], dy[:len(x)]
	for i, v := range x {
		if v > 0 {
			dx[i] += dy[i]
		} else {
			dx[i] += slope * dy[i]
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
