//go:build !(goexperiment.simd && wasm)

package engine

// winogradInputTiles writes the transformed input tiles of one channel,
// V[ξ][ty·tw+tx] at v[ξ·vs + ty·tw + tx], from its deinterleaved plane
// (winogradPlane). Outside the browser's SIMD build it is the scalar
// kernel. Natively (amd64, two cores) the scalar transforms take about a
// third of a residual-block convolution (2.4 of 7.3 ms, the GEMMs running
// on both cores), so Winograd only about ties the GEMM path there; vector
// kernels for amd64 would be the next step.
func winogradInputTiles(plane []float32, ld, th, tw int, v []float32, vs int, tmp []float32) {
	winogradInputTilesScalar(plane, ld, th, tw, v, vs)
}

// winogradOutputTiles writes (or adds, with accumulate) the output plane
// y [oh, ow] of one channel, the tiles Aᵀ M A + b for M[ξ][ty·tw+tx] at
// m[ξ·ms + ty·tw + tx]; rows is scratch for 4·tw floats. The scalar kernel
// in this build.
func winogradOutputTiles(m []float32, ms, th, tw int, b float32, rows, y []float32, ow int, accumulate bool) {
	winogradOutputTilesScalar(m, ms, th, tw, b, rows, y, ow, accumulate)
}

// winogradWeightMinChannels: natively the scalar transforms make the
// Winograd weight gradient lose to the GEMM below 128 channels (see
// winogradWeight). The browser's scalar build, the fallback, takes the
// same (unmeasured there: it runs only where wasm SIMD is missing).
const winogradWeightMinChannels = 128

// winogradGradientTiles writes the transformed output-gradient tiles of
// one channel (see winogradGradientTilesScalar), the scalar kernel in this
// build.
func winogradGradientTiles(plane []float32, ld, th, tw int, w []float32, ws int) {
	winogradGradientTilesScalar(plane, ld, th, tw, w, ws)
}

// winogradDeinterleave splits src into its even and odd values (see
// winogradDeinterleaveScalar).
func winogradDeinterleave(src, even, odd []float32) { winogradDeinterleaveScalar(src, even, odd) }

// winogradInterleave merges left and right into dst (see
// winogradInterleaveScalar).
func winogradInterleave(dst, left, right []float32, accumulate bool) {
	winogradInterleaveScalar(dst, left, right, accumulate)
}
