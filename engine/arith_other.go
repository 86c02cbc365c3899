//go:build !(goexperiment.simd && wasm)

package engine

// Without the browser's SIMD build the sums of arith.go run as scalar
// loops.

// add writes y = a + b; see addScalar.
func add(y, a, b []float32) { addScalar(y, a, b) }

// addTo adds src to dst; see addToScalar.
func addTo(dst, src []float32) { addToScalar(dst, src) }
