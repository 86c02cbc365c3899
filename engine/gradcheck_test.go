package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// gradCase is one op under a central finite-difference check: f builds the
// op's output from the leaves in inputs (all of which get checked).
type gradCase struct {
	name   string
	inputs []*Tensor
	f      func(tp *Tape, in []*Tensor) *Tensor
}

// Finite-difference step and tolerances. The loss L = Σ r·f(x) is
// evaluated in float64 from float32 outputs; each output carries a rounding
// error of about 6e-8·|y|, so the difference quotient carries about
// √len(y)·6e-8/(2h) ≈ 1e-4 of noise for h = 1e-2; the truncation error of
// the central difference is h²/6·f”' ≈ 2e-5 for the smooth ops here.
const (
	fdStep = 1e-2
	fdAtol = 1e-3
	fdRtol = 1e-2
)

// checkGradients compares every gradient Backward gives against central
// differences of the loss L = Σ r·f, with r a random projection so every
// output element counts.
func checkGradients(t *testing.T, rng *rand.Rand, c gradCase) {
	t.Helper()
	tp := NewTape()
	for _, in := range c.inputs {
		in.ZeroGrad()
	}
	out := c.f(tp, c.inputs)
	r := randTensor(rng, out.Shape...).Data
	tp.BackwardFrom(out, r)

	loss := func() float64 {
		y := c.f(nil, c.inputs)
		var s float64
		for i, v := range y.Data {
			s += float64(r[i]) * float64(v)
		}
		return s
	}
	for k, in := range c.inputs {
		for i := range in.Data {
			orig := in.Data[i]
			in.Data[i] = orig + fdStep
			plus := loss()
			in.Data[i] = orig - fdStep
			minus := loss()
			in.Data[i] = orig
			// The step actually taken is what float32 could represent.
			h := float64(orig+fdStep) - float64(orig-fdStep)
			numeric := (plus - minus) / h
			analytic := float64(in.Grad[i])
			if d := math.Abs(numeric - analytic); d > fdAtol+fdRtol*math.Abs(numeric) {
				t.Fatalf("input %d %v element %d: backward gives %.6g, finite difference %.6g", k, in, i, analytic, numeric)
			}
		}
	}
}

func TestGradients(t *testing.T) {
	rng := newRNG(10)
	var cases []gradCase
	for _, cc := range convTable {
		x := param(randTensor(rng, cc.n, cc.c, cc.h, cc.w))
		w := param(randTensor(rng, cc.o, cc.c, cc.kh, cc.kw))
		wt := param(randTensor(rng, cc.c, cc.o, cc.kh, cc.kw))
		var b *Tensor
		in, inT := []*Tensor{x, w}, []*Tensor{x, wt}
		if cc.bias {
			b = param(randTensor(rng, cc.o))
			in, inT = append(in, b), append(inT, b)
		}
		bias := func(in []*Tensor) *Tensor {
			if len(in) == 3 {
				return in[2]
			}
			return nil
		}
		cc := cc
		cases = append(cases,
			gradCase{"Conv2D/" + cc.name, in, func(tp *Tape, in []*Tensor) *Tensor {
				return Conv2D(tp, in[0], in[1], bias(in), cc.s, cc.p)
			}},
			gradCase{"ConvTranspose2D/" + cc.name, inT, func(tp *Tape, in []*Tensor) *Tensor {
				return ConvTranspose2D(tp, in[0], in[1], bias(in), cc.s, cc.p, cc.outPad)
			}},
		)
	}
	for _, pc := range []struct{ n, c, h, w, pad int }{
		{1, 1, 2, 2, 1}, {2, 3, 5, 4, 1}, {1, 2, 8, 7, 3}, {1, 1, 4, 5, 3}, {1, 2, 3, 3, 0},
	} {
		pc := pc
		cases = append(cases, gradCase{
			fmt.Sprintf("ReflectionPad2D/%v_pad%d", shapeName(pc.n, pc.c, pc.h, pc.w), pc.pad),
			[]*Tensor{param(randTensor(rng, pc.n, pc.c, pc.h, pc.w))},
			func(tp *Tape, in []*Tensor) *Tensor { return ReflectionPad2D(tp, in[0], pc.pad) },
		})
	}
	for _, s := range [][]int{{1, 1, 3, 3}, {2, 3, 4, 5}, {1, 2, 7, 1}} {
		s := s
		cases = append(cases,
			gradCase{"InstanceNorm2D/" + shapeName(s...), []*Tensor{param(randTensor(rng, s...))},
				func(tp *Tape, in []*Tensor) *Tensor { return InstanceNorm2D(tp, in[0], nil, nil) }},
			gradCase{"InstanceNorm2D_affine/" + shapeName(s...),
				[]*Tensor{param(randTensor(rng, s...)), param(randTensor(rng, s[1])), param(randTensor(rng, s[1]))},
				func(tp *Tape, in []*Tensor) *Tensor { return InstanceNorm2D(tp, in[0], in[1], in[2]) }},
		)
	}
	// Kinked ops get inputs at least 5·fdStep away from their kink.
	const margin = 5 * fdStep
	shape := []int{2, 3, 4, 5}
	cases = append(cases,
		gradCase{"ReLU", []*Tensor{param(awayFromZero(rng, margin, shape...))},
			func(tp *Tape, in []*Tensor) *Tensor { return ReLU(tp, in[0]) }},
		gradCase{"LeakyReLU0.2", []*Tensor{param(awayFromZero(rng, margin, shape...))},
			func(tp *Tape, in []*Tensor) *Tensor { return LeakyReLU(tp, in[0], 0.2) }},
		gradCase{"Tanh", []*Tensor{param(Scale(nil, randTensor(rng, shape...), 2))},
			func(tp *Tape, in []*Tensor) *Tensor { return Tanh(tp, in[0]) }},
		gradCase{"Add", []*Tensor{param(randTensor(rng, shape...)), param(randTensor(rng, shape...))},
			func(tp *Tape, in []*Tensor) *Tensor { return Add(tp, in[0], in[1]) }},
		gradCase{"Add_same_input_twice", []*Tensor{param(randTensor(rng, shape...))},
			func(tp *Tape, in []*Tensor) *Tensor { return Add(tp, in[0], in[0]) }},
		gradCase{"Scale", []*Tensor{param(randTensor(rng, shape...))},
			func(tp *Tape, in []*Tensor) *Tensor { return Scale(tp, in[0], -2.5) }},
		gradCase{"Mean", []*Tensor{param(randTensor(rng, shape...))},
			func(tp *Tape, in []*Tensor) *Tensor { return Mean(tp, in[0]) }},
		gradCase{"MSE_target1", []*Tensor{param(randTensor(rng, 1, 1, 6, 6))},
			func(tp *Tape, in []*Tensor) *Tensor { return MSE(tp, in[0], 1) }},
		gradCase{"MSE_target0", []*Tensor{param(randTensor(rng, 1, 1, 6, 6))},
			func(tp *Tape, in []*Tensor) *Tensor { return MSE(tp, in[0], 0) }},
	)
	// L1 is kinked where a = b: keep a − b at least margin away from 0.
	a := randTensor(rng, shape...)
	b := awayFromZero(rng, margin, shape...)
	for i := range b.Data {
		b.Data[i] += a.Data[i]
	}
	cases = append(cases, gradCase{"L1", []*Tensor{param(a), param(b)},
		func(tp *Tape, in []*Tensor) *Tensor { return L1(tp, in[0], in[1]) }})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradients(t, rng, c) })
	}
}

// TestGradientThroughFrozenWeights checks the pattern of the CycleGAN
// generator step: the loss flows through a network whose weights are frozen
// (no gradient kept for them) into the input, which must still get its
// gradient, while the frozen weights' Grad stays untouched.
func TestGradientThroughFrozenWeights(t *testing.T) {
	rng := newRNG(11)
	x := param(randTensor(rng, 1, 2, 6, 6))
	w := randTensor(rng, 3, 2, 4, 4)
	w.Grad = make([]float32, len(w.Data)) // a buffer exists but the weight is frozen
	b := randTensor(rng, 3)
	checkGradients(t, rng, gradCase{"frozen", []*Tensor{x}, func(tp *Tape, in []*Tensor) *Tensor {
		h := LeakyReLU(tp, Conv2D(tp, in[0], w, b, 2, 1), 0.2)
		return MSE(tp, h, 1)
	}})
	for i, g := range w.Grad {
		if g != 0 {
			t.Fatalf("frozen weight got gradient %g at %d", g, i)
		}
	}
}
