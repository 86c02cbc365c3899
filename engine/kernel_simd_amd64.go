//go:build goexperiment.simd && amd64

package engine

import "simd/archsimd"

// microKernel is the gemmMR×gemmNR kernel the packed GEMM runs: natively on
// amd64 with GOEXPERIMENT=simd, the AVX2+FMA kernel where the processor has
// both, else the portable scalar one.
var microKernel = kernel4x8

// KernelName says which micro-kernel this build runs, for benchmark reports.
var KernelName = "scalar 4x8"

func init() {
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		microKernel, KernelName = kernel4x8FMA, "amd64 avx2+fma 4x8"
	}
}

// kernel4x8FMA is kernel4x8 with each row of the tile in one Float32x8 and
// fused multiply-adds. Four rows give only four dependency chains, too few
// to hide the FMA latency, so even and odd steps of p accumulate into two
// separate sets that are added at the end. Fused rounding and the split sum
// make it differ from the scalar kernel in the last bits.
func kernel4x8FMA(kc int, a, b []float32, c []float32, ldc int, overwrite bool) {
	var c0, c1, c2, c3, d0, d1, d2, d3 archsimd.Float32x8
	a = a[:kc*gemmMR]
	b = b[:kc*gemmNR]
	for len(a) >= 8 && len(b) >= 16 {
		b0 := archsimd.LoadFloat32x8(b[0:8])
		b1 := archsimd.LoadFloat32x8(b[8:16])
		c0 = archsimd.BroadcastFloat32x8(a[0]).MulAdd(b0, c0)
		c1 = archsimd.BroadcastFloat32x8(a[1]).MulAdd(b0, c1)
		c2 = archsimd.BroadcastFloat32x8(a[2]).MulAdd(b0, c2)
		c3 = archsimd.BroadcastFloat32x8(a[3]).MulAdd(b0, c3)
		d0 = archsimd.BroadcastFloat32x8(a[4]).MulAdd(b1, d0)
		d1 = archsimd.BroadcastFloat32x8(a[5]).MulAdd(b1, d1)
		d2 = archsimd.BroadcastFloat32x8(a[6]).MulAdd(b1, d2)
		d3 = archsimd.BroadcastFloat32x8(a[7]).MulAdd(b1, d3)
		a = a[8:]
		b = b[16:]
	}
	if len(a) >= 4 && len(b) >= 8 { // an odd step left over
		b0 := archsimd.LoadFloat32x8(b[0:8])
		c0 = archsimd.BroadcastFloat32x8(a[0]).MulAdd(b0, c0)
		c1 = archsimd.BroadcastFloat32x8(a[1]).MulAdd(b0, c1)
		c2 = archsimd.BroadcastFloat32x8(a[2]).MulAdd(b0, c2)
		c3 = archsimd.BroadcastFloat32x8(a[3]).MulAdd(b0, c3)
	}
	c0, c1, c2, c3 = c0.Add(d0), c1.Add(d1), c2.Add(d2), c3.Add(d3)
	r0 := c[0*ldc : 0*ldc+8 : 0*ldc+8]
	r1 := c[1*ldc : 1*ldc+8 : 1*ldc+8]
	r2 := c[2*ldc : 2*ldc+8 : 2*ldc+8]
	r3 := c[3*ldc : 3*ldc+8 : 3*ldc+8]
	if !overwrite {
		c0 = c0.Add(archsimd.LoadFloat32x8(r0))
		c1 = c1.Add(archsimd.LoadFloat32x8(r1))
		c2 = c2.Add(archsimd.LoadFloat32x8(r2))
		c3 = c3.Add(archsimd.LoadFloat32x8(r3))
	}
	c0.Store(r0)
	c1.Store(r1)
	c2.Store(r2)
	c3.Store(r3)
	// Go's scalar float code is SSE-encoded: with the upper halves of the
	// YMM registers left dirty, every SSE instruction after the kernel pays
	// a transition penalty (measured: the native M frame 258 → 181 ms).
	archsimd.ClearAVXUpperBits()
}
