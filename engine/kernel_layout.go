//go:build !(goexperiment.simd && wasm)

package engine

// gemmAStep is the number of floats one packed step of an A micro-panel
// takes: here the gemmMR values of one p, side by side. (The WebAssembly
// SIMD kernel stores each one broadcast to four lanes instead.)
const gemmAStep = gemmMR

// packAStep writes one packed step of an A micro-panel: the values of A's
// gemmMR rows at one p.
func packAStep(dst []float32, v0, v1, v2, v3 float32) {
	d := (*[gemmAStep]float32)(dst)
	d[0], d[1], d[2], d[3] = v0, v1, v2, v3
}

// copy8 copies src[:8] to dst[:8]: eight assignments, not copy, since a
// memmove call per eight floats costs more than the move.
func copy8(dst, src []float32) {
	d, s := (*[8]float32)(dst), (*[8]float32)(src)
	d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
}
