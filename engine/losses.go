package engine

// L1 is the mean absolute difference mean(|a − b|), a scalar, as
// torch.nn.L1Loss with reduction 'mean'. Its gradient is sign(a − b)/len,
// with sign(0) = 0 as in PyTorch. The sum runs in float64.
func L1(tp *Tape, a, b *Tensor) *Tensor {
	mustSameShape("L1", a, b)
	y := tp.output(nil, a, b)
	var s float64
	for i, v := range a.Data {
		d := v - b.Data[i]
		if d < 0 {
			d = -d
		}
		s += float64(d)
	}
	y.Data[0] = float32(s / float64(len(a.Data)))
	if !y.RequiresGrad {
		return y
	}
	tp.record(node{backward: l1Backward, a: a, b: b, out: y})
	return y
}

// l1Backward is L1's backward pass: a, b the operands.
func l1Backward(_ *Tape, nd *node) {
	a, b := nd.a, nd.b
	g := nd.out.Grad[0] / float32(len(a.Data))
	for i, v := range a.Data {
		var sg float32
		switch d := v - b.Data[i]; {
		case d > 0:
			sg = g
		case d < 0:
			sg = -g
		}
		if needsGrad(a) {
			a.Grad[i] += sg
		}
		if needsGrad(b) {
			b.Grad[i] -= sg
		}
	}
}

// MSE is the mean squared difference from a constant, mean((x − target)²),
// a scalar: the least-squares GAN loss against a label of 1 (real) or 0
// (fake), as torch.nn.MSELoss against a tensor filled with target.
// ∂x = 2(x − target)/len · ∂y. The sum runs in float64.
func MSE(tp *Tape, x *Tensor, target float32) *Tensor {
	y := tp.output(nil, x)
	var s float64
	for _, v := range x.Data {
		d := float64(v - target)
		s += d * d
	}
	y.Data[0] = float32(s / float64(len(x.Data)))
	if !y.RequiresGrad {
		return y
	}
	tp.record(node{backward: mseBackward, a: x, out: y, f: target})
	return y
}

// mseBackward is MSE's backward pass: a = x, f = target.
func mseBackward(_ *Tape, nd *node) {
	x, target := nd.a, nd.f
	if needsGrad(x) {
		g := 2 * nd.out.Grad[0] / float32(len(x.Data))
		for i, v := range x.Data {
			x.Grad[i] += g * (v - target)
		}
	}
}
