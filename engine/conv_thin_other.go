//go:build !(goexperiment.simd && wasm)

package engine

// thinForward is the browser's direct kernel for convolutions with 3
// output channels (conv_thin_simd_wasm.go); other builds run them as a
// GEMM, which natively is fast enough.
func thinForward(g convGeometry, x, w, y []float32) bool { return false }

// thinBackwardWeight is the browser's direct weight-gradient kernel for
// convolutions with 3 output channels (conv_thin_simd_wasm.go); other
// builds run it as a GEMM.
func thinBackwardWeight(g convGeometry, x, dy, dw []float32) bool { return false }
