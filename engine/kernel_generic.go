//go:build !(goexperiment.simd && (wasm || amd64))

package engine

// microKernel is the gemmMR×gemmNR kernel the packed GEMM runs. Without a
// SIMD build it is the portable scalar kernel.
var microKernel = kernel4x8

// KernelName says which micro-kernel this build runs, for benchmark reports.
var KernelName = "scalar 4x8"
