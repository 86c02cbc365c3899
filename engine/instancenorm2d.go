package engine

import (
	"fmt"
	"math"
)

// InstanceNormEps is the ε that PyTorch's InstanceNorm2d adds to the variance.
const InstanceNormEps = 1e-5

// InstanceNorm2D normalises every image plane to zero mean and unit
// variance, as PyTorch's torch.nn.InstanceNorm2d
// (https://pytorch.org/docs/stable/generated/torch.nn.InstanceNorm2d.html)
// with track_running_stats=False, so training and inference behave alike:
//
//	x [N, C, H, W] → y [N, C, H, W]
//	μ = mean_{h,w} x[n,c],  σ² = mean_{h,w} (x[n,c] − μ)²  (biased)
//	x̂ = (x − μ) / √(σ² + ε),  y = x̂·γ[c] + β[c]  (γ, β [C]: only when affine, else nil)
//
// Backward, with g = ∂y·γ and means over the plane:
//
//	∂x = (g − mean(g) − x̂·mean(g·x̂)) / √(σ² + ε),  ∂γ += Σ ∂y·x̂,  ∂β += Σ ∂y
//
// Plane statistics accumulate in float64: a 256×256 plane summed in
// float32 would lose about four digits.
func InstanceNorm2D(tp *Tape, x, gamma, beta *Tensor) *Tensor {
	n, c, h, w := x.Dims()
	if (gamma == nil) != (beta == nil) {
		panic("engine: InstanceNorm2D: gamma and beta go together")
	}
	if gamma != nil && (gamma.Len() != c || beta.Len() != c) {
		panic(fmt.Sprintf("engine: InstanceNorm2D: affine %v, %v for %d channels", gamma, beta, c))
	}
	hw := h * w
	y := tp.output([]int{n, c, h, w}, x, gamma, beta)
	// xhat is kept for backward; invStd holds 1/√(σ²+ε) per plane.
	xhat := tp.buffer(n * c * hw)
	invStd := tp.buffer(n * c)
	for p := 0; p < n*c; p++ {
		src := x.Data[p*hw : (p+1)*hw]
		var sum float64
		for _, v := range src {
			sum += float64(v)
		}
		mean := sum / float64(hw)
		var sq float64
		for _, v := range src {
			d := float64(v) - mean
			sq += d * d
		}
		inv := 1 / math.Sqrt(sq/float64(hw)+InstanceNormEps)
		invStd[p] = float32(inv)
		xh := xhat[p*hw : (p+1)*hw]
		dst := y.Data[p*hw : (p+1)*hw]
		scale, shift := float32(1), float32(0)
		if gamma != nil {
			scale, shift = gamma.Data[p%c], beta.Data[p%c]
		}
		m := float32(mean)
		for i, v := range src {
			xh[i] = (v - m) * float32(inv)
			dst[i] = xh[i]*scale + shift
		}
	}
	if !y.RequiresGrad {
		return y
	}
	tp.record(node{backward: instanceNorm2DBackward, a: x, b: gamma, c: beta, out: y, buf: [2][]float32{xhat, invStd}})
	return y
}

// instanceNorm2DBackward is InstanceNorm2D's backward pass: a = x,
// b = gamma, c = beta; buf holds x̂ and 1/√(σ²+ε) from the forward pass.
func instanceNorm2DBackward(_ *Tape, nd *node) {
	x, gamma, beta, y := nd.a, nd.b, nd.c, nd.out
	xhat, invStd := nd.buf[0], nd.buf[1]
	_, c, h, w := x.Dims()
	hw := h * w
	for p := range invStd {
		dy := y.Grad[p*hw : (p+1)*hw]
		xh := xhat[p*hw : (p+1)*hw]
		scale := float32(1)
		if gamma != nil {
			scale = gamma.Data[p%c]
		}
		var sumG, sumGX float64
		for i, d := range dy {
			sumG += float64(d)
			sumGX += float64(d) * float64(xh[i])
		}
		if needsGrad(gamma) {
			gamma.Grad[p%c] += float32(sumGX)
		}
		if needsGrad(beta) {
			beta.Grad[p%c] += float32(sumG)
		}
		if !needsGrad(x) {
			continue
		}
		meanG := float32(sumG / float64(hw))
		meanGX := float32(sumGX / float64(hw))
		k := scale * invStd[p]
		dx := x.Grad[p*hw : (p+1)*hw]
		for i, d := range dy {
			dx[i] += k * (d - meanG - xh[i]*meanGX)
		}
	}
}
