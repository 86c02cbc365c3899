//go:build goexperiment.simd && wasm

package engine

import "simd/archsimd"

// microKernel is the gemmMR×gemmNR kernel the packed GEMM runs: in a
// WebAssembly build with GOEXPERIMENT=simd, the 128-bit SIMD kernel.
var microKernel = kernel4x8SIMD

// KernelName says which micro-kernel this build runs, for benchmark reports.
var KernelName = "wasm simd128 4x8"

// kernel4x8SIMD is kernel4x8 with each row of the 4×8 tile held in two
// Float32x4 accumulators: per packed step it loads the 8 values of b as two
// vectors, broadcasts each of the 4 values of a and multiplies-adds (wasm
// SIMD has no fused multiply-add, so it rounds like the scalar kernel).
// Eight accumulators, two b vectors and one broadcast fit the sixteen vector
// registers the compiler has, so nothing spills inside the loop.
func kernel4x8SIMD(kc int, a, b []float32, c []float32, ldc int, overwrite bool) {
	var c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float32x4
	a = a[:kc*gemmMR]
	b = b[:kc*gemmNR]
	for len(a) >= 4 && len(b) >= 8 {
		b0 := archsimd.LoadFloat32x4(b[0:4])
		b1 := archsimd.LoadFloat32x4(b[4:8])
		a0 := archsimd.BroadcastFloat32x4(a[0])
		c00 = c00.Add(a0.Mul(b0))
		c01 = c01.Add(a0.Mul(b1))
		a1 := archsimd.BroadcastFloat32x4(a[1])
		c10 = c10.Add(a1.Mul(b0))
		c11 = c11.Add(a1.Mul(b1))
		a2 := archsimd.BroadcastFloat32x4(a[2])
		c20 = c20.Add(a2.Mul(b0))
		c21 = c21.Add(a2.Mul(b1))
		a3 := archsimd.BroadcastFloat32x4(a[3])
		c30 = c30.Add(a3.Mul(b0))
		c31 = c31.Add(a3.Mul(b1))
		a = a[4:]
		b = b[8:]
	}
	r0 := c[0*ldc : 0*ldc+8 : 0*ldc+8]
	r1 := c[1*ldc : 1*ldc+8 : 1*ldc+8]
	r2 := c[2*ldc : 2*ldc+8 : 2*ldc+8]
	r3 := c[3*ldc : 3*ldc+8 : 3*ldc+8]
	if !overwrite {
		c00 = c00.Add(archsimd.LoadFloat32x4(r0[0:4]))
		c01 = c01.Add(archsimd.LoadFloat32x4(r0[4:8]))
		c10 = c10.Add(archsimd.LoadFloat32x4(r1[0:4]))
		c11 = c11.Add(archsimd.LoadFloat32x4(r1[4:8]))
		c20 = c20.Add(archsimd.LoadFloat32x4(r2[0:4]))
		c21 = c21.Add(archsimd.LoadFloat32x4(r2[4:8]))
		c30 = c30.Add(archsimd.LoadFloat32x4(r3[0:4]))
		c31 = c31.Add(archsimd.LoadFloat32x4(r3[4:8]))
	}
	c00.Store(r0[0:4])
	c01.Store(r0[4:8])
	c10.Store(r1[0:4])
	c11.Store(r1[4:8])
	c20.Store(r2[0:4])
	c21.Store(r2[4:8])
	c30.Store(r3[0:4])
	c31.Store(r3[4:8])
}
