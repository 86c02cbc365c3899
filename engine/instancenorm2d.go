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
// Plane statistics end in float64: a 256×256 plane summed in float32 would
// lose about four digits. (The browser's SIMD build sums short float32
// blocks and adds the blocks in float64; see norm_simd_wasm.go.)
//
// x̂ is kept for backward only when y requires a gradient; without affine
// parameters y is x̂ itself (x̂·1 + 0), so y's own buffer serves and no
// second copy of the activations is stored.
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
	// xhat is kept for backward (nil when nothing will run backward, or when
	// y is x̂); invStd holds 1/√(σ²+ε) per plane.
	var xhat, invStd []float32
	if y.RequiresGrad {
		invStd = tp.buffer(n * c)
		if gamma != nil {
			xhat = tp.buffer(n * c * hw)
		}
	}
	for p := 0; p < n*c; p++ {
		src := x.Data[p*hw : (p+1)*hw]
		mean, inv := normStats(src)
		if invStd != nil {
			invStd[p] = float32(inv)
		}
		var xh []float32
		if xhat != nil {
			xh = xhat[p*hw : (p+1)*hw]
		}
		scale, shift := float32(1), float32(0)
		if gamma != nil {
			scale, shift = gamma.Data[p%c], beta.Data[p%c]
		}
		normApply(y.Data[p*hw:(p+1)*hw], xh, src, float32(mean), float32(inv), scale, shift)
	}
	if !y.RequiresGrad {
		return y
	}
	if xhat == nil {
		xhat = y.Data
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
		sumG, sumGX := normGradSums(dy, xh)
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
		normGradApply(x.Grad[p*hw:(p+1)*hw], dy, xh, scale*invStd[p], meanG, meanGX)
	}
}

// normStatsScalar returns the mean of a plane and 1/√(σ²+ε), its variance
// taken about that mean in a second pass (one pass of E[x²] − μ² would
// cancel catastrophically when |μ| ≫ σ), both summed in float64. It is the
// fallback of builds without SIMD and the oracle of normStats.
func normStatsScalar(src []float32) (mean, invStd float64) {
	var sum float64
	for _, v := range src {
		sum += float64(v)
	}
	mean = sum / float64(len(src))
	var sq float64
	for _, v := range src {
		d := float64(v) - mean
		sq += d * d
	}
	return mean, 1 / math.Sqrt(sq/float64(len(src))+InstanceNormEps)
}

// normApplyScalar writes y = x̂·scale + shift, x̂ = (x − m)·inv, over one
// plane, and x̂ itself into xh unless xh is nil. It is the fallback of
// builds without SIMD and the oracle of normApply.
func normApplyScalar(y, xh, x []float32, m, inv, scale, shift float32) {
	y = y[:len(x)]
	if xh == nil {
		for i, v := range x {
			y[i] = (v-m)*inv*scale + shift
		}
		return
	}
	xh = xh[:len(x)]
	for i, v := range x {
		xh[i] = (v - m) * inv
		y[i] = xh[i]*scale + shift
	}
}

// normGradSumsScalar returns Σ ∂y and Σ ∂y·x̂ over one plane in float64.
// It is the fallback of builds without SIMD and the oracle of normGradSums.
func normGradSumsScalar(dy, xh []float32) (sumG, sumGX float64) {
	xh = xh[:len(dy)]
	for i, d := range dy {
		sumG += float64(d)
		sumGX += float64(d) * float64(xh[i])
	}
	return sumG, sumGX
}

// normGradApplyScalar adds k·(∂y − meanG − x̂·meanGX) to ∂x over one plane.
// It is the fallback of builds without SIMD and the oracle of
// normGradApply.
func normGradApplyScalar(dx, dy, xh []float32, k, meanG, meanGX float32) {
	dx, xh = dx[:len(dy)], xh[:len(dy)]
	for i, d := range dy {
		dx[i] += k * (d - meanG - xh[i]*meanGX)
	}
}
