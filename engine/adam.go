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
		bc2Sqrt := float32(math.Sqrt(1 - math.Pow(a.Beta2, t)))
		stepSize := float32(a.LR / bc1)
		b1, c1 := float32(a.Beta1), float32(1-a.Beta1)
		b2, c2 := float32(a.Beta2), float32(1-a.Beta2)
		eps := float32(a.Eps)
		m, v := a.M[i], a.V[i]
		for j, g := range p.Grad {
			m[j] = b1*m[j] + c1*g
			v[j] = b2*v[j] + c2*g*g
			denom := float32(math.Sqrt(float64(v[j])))/bc2Sqrt + eps
			p.Data[j] -= stepSize * (m[j] / denom)
		}
	}
}

// ZeroGrad clears the gradient of every parameter.
func (a *Adam) ZeroGrad() {
	for _, p := range a.Params {
		clear(p.Grad)
	}
}
