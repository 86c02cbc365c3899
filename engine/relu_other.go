//go:build !(goexperiment.simd && wasm)

package engine

// Without the browser's SIMD build LeakyReLU runs the scalar loops of
// activations.go.

// leakyReLU writes LeakyReLU's output; see leakyReLUScalar.
func leakyReLU(y, x []float32, slope float32) { leakyReLUScalar(y, x, slope) }

// leakyReLUGrad adds LeakyReLU's input gradient to dx; see
// leakyReLUGradScalar.
func leakyReLUGrad(dx, dy, x []float32, slope float32) { leakyReLUGradScalar(dx, dy, x, slope) }
