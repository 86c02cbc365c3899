//go:build goexperiment.simd && wasm

package engine

import "simd/archsimd"

// Helpers shared by the browser's SIMD elementwise kernels (norm_, relu_,
// arith_ and adam_simd_wasm.go).
//
// Every kernel walks its slices 16 floats (four vectors) at a time through
// fixed-size array views, then hands the remainder to its scalar version:
// Go's WebAssembly loops dispatch every back edge through a br_table and
// re-check the slices, which costs as much as a few vector operations, so a
// loop step must do several vectors' work; the array views leave one bounds
// check per step.

// ld4 loads s[0:4] as a vector.
func ld4(s []float32) archsimd.Float32x4 {
	return archsimd.LoadFloat32x4Array((*[4]float32)(s))
}

// st4 stores v into s[0:4].
func st4(v archsimd.Float32x4, s []float32) {
	v.StoreArray((*[4]float32)(s))
}

// fold returns the sum of v's four lanes in float64 (two pairs, then the
// pairs: the same tree as inside the blocks that feed it).
func fold(v archsimd.Float32x4) float64 {
	return (float64(v.GetElem(0)) + float64(v.GetElem(1))) + (float64(v.GetElem(2)) + float64(v.GetElem(3)))
}
