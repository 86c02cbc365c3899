package engine

import (
	"runtime"
	"testing"
)

// The kernels' scratch survives garbage collections: a product or a
// Winograd convolution run again after two collections (which empty a
// sync.Pool) allocates nothing, on every core natively.
func TestScratchSurvivesCollections(t *testing.T) {
	rng := newRNG(5)
	const m, n, k = 128, 256, 96 // above gemmParallelMACs: split across the cores natively
	a, b, c := randTensor(rng, m*k).Data, randTensor(rng, k*n).Data, make([]float32, m*n)
	g := newConvGeometry(16, 12, 12, 16, 3, 3, 1, 1)
	x, w, y := randTensor(rng, g.inLen()).Data, randTensor(rng, g.o*g.k()).Data, make([]float32, g.outLen())
	run := func() {
		gemm(false, false, m, n, k, a, k, b, n, c, n, false)
		g.winogradForward(x, w, nil, y)
		g.winogradBackwardInput(w, y, x)
	}
	run()
	allocs := testing.AllocsPerRun(5, func() {
		runtime.GC()
		runtime.GC()
		run()
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run after two collections, want 0", allocs)
	}
}
