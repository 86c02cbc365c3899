//go:build !(goexperiment.simd && wasm)

package engine

// winograd4Enabled: outside the browser's SIMD build the tile transforms
// are scalar, and F(4×4, 3×3)'s, with more arithmetic a tile than
// F(2×2, 3×3)'s, would eat the GEMMs' savings, so convolutions keep
// F(2×2, 3×3) (the tests still hold this build's F(4×4, 3×3) to the naive
// convolution).
const winograd4Enabled = false

// winograd4InputTiles is winograd4InputTilesScalar in this build.
func winograd4InputTiles(plane []float32, ld, th, tw int, v []float32, vs int, tmp []float32) {
	winograd4InputTilesScalar(plane, ld, th, tw, v, vs)
}

// winograd4OutputTiles is winograd4OutputTilesScalar in this build.
func winograd4OutputTiles(m []float32, ms, th, tw int, b float32, rows, y []float32, ow int, accumulate bool) {
	winograd4OutputTilesScalar(m, ms, th, tw, b, rows, y, ow, accumulate)
}

// winograd4Weights is winograd4WeightsScalar in this build.
func winograd4Weights(w []float32, o, c int, flip bool, u []float32, us int) {
	winograd4WeightsScalar(w, o, c, flip, u, us, 0)
}
