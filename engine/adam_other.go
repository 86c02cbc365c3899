//go:build !(goexperiment.simd && wasm)

package engine

// adamUpdate applies one Adam step; without the browser's SIMD build it is
// the scalar loop, adamUpdateScalar.
func adamUpdate(p, g, m, v []float32, k adamCoeffs) { adamUpdateScalar(p, g, m, v, k) }
