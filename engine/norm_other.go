//go:build !(goexperiment.simd && wasm)

package engine

// Without the browser's SIMD build the InstanceNorm2D kernels are the
// scalar loops of instancenorm2d.go: natively the compiler makes them fast
// enough next to the convolutions.

// normStats returns a plane's mean and 1/√(σ²+ε); see normStatsScalar.
func normStats(src []float32) (mean, invStd float64) { return normStatsScalar(src) }

// normApply writes y (and x̂ unless xh is nil); see normApplyScalar.
func normApply(y, xh, x []float32, m, inv, scale, shift float32) {
	normApplyScalar(y, xh, x, m, inv, scale, shift)
}

// normGradSums returns Σ ∂y and Σ ∂y·x̂; see normGradSumsScalar.
func normGradSums(dy, xh []float32) (sumG, sumGX float64) { return normGradSumsScalar(dy, xh) }

// normGradApply adds InstanceNorm2D's input gradient to dx; see
// normGradApplyScalar.
func normGradApply(dx, dy, xh []float32, k, meanG, meanGX float32) {
	normGradApplyScalar(dx, dy, xh, k, meanG, meanGX)
}
