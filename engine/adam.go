package engine

import (
	"fmt"
	"math"
)

// Adam is the Adam optimiser exactly as PyTorch's torch.optim.Adam
// (https://pytorch.org/docs/stable/generated/torch.optim.Adam.html) with
// weight_decay 0 and amsgrad off. For each parameter θ with gradient g, at
// step t:
//
//	m = β1·m + (1−β1)·g,   v = β2·v + (1−β2)·g²
//	θ −= (LR / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε)
//
// LR may be changed between steps (learning-rate schedules). Each
// parameter keeps its own step count, as PyTorch does, so checkpoints can
// store and restore it exactly.
type Adam struct {
	// Hyper-parameters are float64, like the Python floats PyTorch keeps
	// them in; each coefficient is rounded to float32 where it meets a tensor.
	LR, Beta1, Beta2, Eps float64

	Params []*Tensor
	M, V   [][]float32 // first and second moments, one per parameter
	Steps  []int64     // steps taken, one per parameter
}

// NewAdam returns an Adam over params with zero moments. Eps is PyTorch's
// default 1e-8.
func NewAdam(params []*Tensor, lr, beta1, beta2 float64) *Adam {
	a := &Adam{LR: lr, Beta1: beta1, Beta2: beta2, Eps: 1e-8, Params: params}
	for _, p := range params {
		if p.Grad == nil {
			panic(fmt.Sprintf("engine: NewAdam: parameter %v has no gradient buffer", p))
		}
		a.M = append(a.M, make([]float32, len(p.Data)))
		a.V = append(a.V, make([]float32, len(p.Data)))
		a.Steps = append(a.Steps, 0)
	}
	return a
}

// Step updates every parameter from its Grad. It does not clear the
// gradients: ZeroGrad does.
func (a *Adam) Step() {
	for i, p := range a.Params {
		a.Steps[i]++
		t := float64(a.Steps[i])
		// PyTorch computes the bias corrections and the step size in
		// float64 (Python floats) and applies them to float32 tensors.
		bc1 := 1 - math.Pow(a.Beta1, t)
		k := adamCoeffs{
			b1: float32(a.Beta1), c1: float32(1 - a.Beta1),
			b2: float32(a.Beta2), c2: float32(1 - a.Beta2),
			bc2Sqrt:  float32(math.Sqrt(1 - math.Pow(a.Beta2, t))),
			stepSize: float32(a.LR / bc1),
			eps:      float32(a.Eps),
		}
		adamUpdate(p.Data, p.Grad, a.M[i], a.V[i], k)
	}
}

// adamCoeffs are the float32 coefficients of one Adam step of one
// parameter.
type adamCoeffs struct {
	b1, c1   float32 // β1 and 1−β1
	b2, c2   float32 // β2 and 1−β2
	bc2Sqrt  float32 // √(1−β2ᵗ)
	stepSize float32 // LR / (1−β1ᵗ)
	eps      float32
}

// adamUpdateScalar applies one Adam step to the parameter values p with
// gradient g and moments m, v (all of one length). It is the fallback of
// builds without SIMD and the oracle of adamUpdate, which must match it bit
// for bit: its operations and their order are the contract.
func adamUpdateScalar(p, g, m, v []float32, k adamCoeffs) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	for j, gj := range g {
		m[j] = k.b1*m[j] + k.c1*gj
		v[j] = k.b2*v[j] + k.c2*gj*gj
		denom := float32(math.Sqrt(float64(v[j])))/k.bc2Sqrt + k.eps
		p[j] -= k.stepSize * (m[j] / denom)
	}
}

// ZeroGrad clears the gradient of every parameter.
func (a *Adam) ZeroGrad() {
	for _, p := range a.Params {
		clear(p.Grad)
	}
}
