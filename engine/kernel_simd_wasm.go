//go:build goexperiment.simd && wasm

package engine

import "simd/archsimd"

// microKernel is the gemmMR×gemmNR kernel the packed GEMM runs: in a
// WebAssembly build with GOEXPERIMENT=simd, the 128-bit SIMD kernel.
var microKernel = kernel4x8SIMD

// KernelName says which micro-kernel this build runs, for benchmark reports.
var KernelName = "wasm simd128 4x8"

// gemmAStep is the number of floats one packed step of an A micro-panel
// takes. This kernel reads every value of A already broadcast to four lanes
// (gemmMR×4 floats per step): Go emits a broadcast as a scalar load and a
// splat, a shuffle in the inner loop, while a pre-broadcast value is one
// vector load. Packing pays the splat once per value of A instead of once
// per micro-tile that reads it (measured in the browser: about 1.5× the
// throughput of the splatting kernel).
const gemmAStep = 4 * gemmMR

// packAStep writes one packed step of an A micro-panel: the values of A's
// gemmMR rows at one p, each broadcast to four lanes.
func packAStep(dst []float32, v0, v1, v2, v3 float32) {
	d := (*[gemmAStep]float32)(dst)
	archsimd.BroadcastFloat32x4(v0).StoreArray((*[4]float32)(d[0:4]))
	archsimd.BroadcastFloat32x4(v1).StoreArray((*[4]float32)(d[4:8]))
	archsimd.BroadcastFloat32x4(v2).StoreArray((*[4]float32)(d[8:12]))
	archsimd.BroadcastFloat32x4(v3).StoreArray((*[4]float32)(d[12:16]))
}

// copy8 copies src[:8] to dst[:8] as two vectors: a memmove call per eight
// floats costs more than the move, and eight scalar moves cost four times
// the instructions.
func copy8(dst, src []float32) {
	archsimd.LoadFloat32x4Array((*[4]float32)(src[0:4])).StoreArray((*[4]float32)(dst[0:4]))
	archsimd.LoadFloat32x4Array((*[4]float32)(src[4:8])).StoreArray((*[4]float32)(dst[4:8]))
}

// kernel4x8SIMD is kernel4x8 with each row of the 4×8 tile held in two
// Float32x4 accumulators: per packed step it loads the 8 values of b as two
// vectors and the 4 pre-broadcast values of a (see gemmAStep), and
// multiplies-adds (wasm SIMD has no fused multiply-add, so it rounds like
// the scalar kernel). Eight accumulators, two b vectors, one a vector and
// a product fit the 15 vector registers V8 allocates (Go's own allocator
// spills two vectors per eight steps to its stack, which costs little).
// The loop is unrolled eight steps deep: Go's WebAssembly loops
// dispatch every back edge through a br_table and re-check the slices, which
// cost as much as the arithmetic of a step or two (measured: unrolling by
// eight took the kernel from 11 to 17 GFLOP/s in the browser). Fixed-size
// array views keep it to one bounds check per eight steps.
func kernel4x8SIMD(kc int, a, b []float32, c []float32, ldc int, overwrite bool) {
	var c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float32x4
	var b0, b1, ai archsimd.Float32x4
	a = a[:kc*gemmAStep]
	b = b[:kc*gemmNR]
	for len(a) >= 8*gemmAStep && len(b) >= 8*gemmNR {
		ap := (*[8 * gemmAStep]float32)(a)
		bp := (*[8 * gemmNR]float32)(b)
		b0 = archsimd.LoadFloat32x4Array((*[4]float32)(bp[0:4]))
		b1 = archsimd.LoadFloat32x4Array((*[4]float32)(bp[4:8]))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[0:4]))
		c00 = c00.Add(ai.Mul(b0))
		c01 = c01.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[4:8]))
		c10 = c10.Add(ai.Mul(b0))
		c11 = c11.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[8:12]))
		c20 = c20.Add(ai.Mul(b0))
		c21 = c21.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[12:16]))
		c30 = c30.Add(ai.Mul(b0))
		c31 = c31.Add(ai.Mul(b1))
		b0 = archsimd.LoadFloat32x4Array((*[4]float32)(bp[8:12]))
		b1 = archsimd.LoadFloat32x4Array((*[4]float32)(bp[12:16]))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[16:20]))
		c00 = c00.Add(ai.Mul(b0))
		c01 = c01.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[20:24]))
		c10 = c10.Add(ai.Mul(b0))
		c11 = c11.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[24:28]))
		c20 = c20.Add(ai.Mul(b0))
		c21 = c21.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[28:32]))
		c30 = c30.Add(ai.Mul(b0))
		c31 = c31.Add(ai.Mul(b1))
		b0 = archsimd.LoadFloat32x4Array((*[4]float32)(bp[16:20]))
		b1 = archsimd.LoadFloat32x4Array((*[4]float32)(bp[20:24]))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[32:36]))
		c00 = c00.Add(ai.Mul(b0))
		c01 = c01.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[36:40]))
		c10 = c10.Add(ai.Mul(b0))
		c11 = c11.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[40:44]))
		c20 = c20.Add(ai.Mul(b0))
		c21 = c21.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[44:48]))
		c30 = c30.Add(ai.Mul(b0))
		c31 = c31.Add(ai.Mul(b1))
		b0 = archsimd.LoadFloat32x4Array((*[4]float32)(bp[24:28]))
		b1 = archsimd.LoadFloat32x4Array((*[4]float32)(bp[28:32]))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[48:52]))
		c00 = c00.Add(ai.Mul(b0))
		c01 = c01.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[52:56]))
		c10 = c10.Add(ai.Mul(b0))
		c11 = c11.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[56:60]))
		c20 = c20.Add(ai.Mul(b0))
		c21 = c21.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[60:64]))
		c30 = c30.Add(ai.Mul(b0))
		c31 = c31.Add(ai.Mul(b1))
		b0 = archsimd.LoadFloat32x4Array((*[4]float32)(bp[32:36]))
		b1 = archsimd.LoadFloat32x4Array((*[4]float32)(bp[36:40]))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[64:68]))
		c00 = c00.Add(ai.Mul(b0))
		c01 = c01.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[68:72]))
		c10 = c10.Add(ai.Mul(b0))
		c11 = c11.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[72:76]))
		c20 = c20.Add(ai.Mul(b0))
		c21 = c21.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[76:80]))
		c30 = c30.Add(ai.Mul(b0))
		c31 = c31.Add(ai.Mul(b1))
		b0 = archsimd.LoadFloat32x4Array((*[4]float32)(bp[40:44]))
		b1 = archsimd.LoadFloat32x4Array((*[4]float32)(bp[44:48]))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[80:84]))
		c00 = c00.Add(ai.Mul(b0))
		c01 = c01.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[84:88]))
		c10 = c10.Add(ai.Mul(b0))
		c11 = c11.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[88:92]))
		c20 = c20.Add(ai.Mul(b0))
		c21 = c21.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[92:96]))
		c30 = c30.Add(ai.Mul(b0))
		c31 = c31.Add(ai.Mul(b1))
		b0 = archsimd.LoadFloat32x4Array((*[4]float32)(bp[48:52]))
		b1 = archsimd.LoadFloat32x4Array((*[4]float32)(bp[52:56]))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[96:100]))
		c00 = c00.Add(ai.Mul(b0))
		c01 = c01.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[100:104]))
		c10 = c10.Add(ai.Mul(b0))
		c11 = c11.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[104:108]))
		c20 = c20.Add(ai.Mul(b0))
		c21 = c21.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[108:112]))
		c30 = c30.Add(ai.Mul(b0))
		c31 = c31.Add(ai.Mul(b1))
		b0 = archsimd.LoadFloat32x4Array((*[4]float32)(bp[56:60]))
		b1 = archsimd.LoadFloat32x4Array((*[4]float32)(bp[60:64]))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[112:116]))
		c00 = c00.Add(ai.Mul(b0))
		c01 = c01.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[116:120]))
		c10 = c10.Add(ai.Mul(b0))
		c11 = c11.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[120:124]))
		c20 = c20.Add(ai.Mul(b0))
		c21 = c21.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[124:128]))
		c30 = c30.Add(ai.Mul(b0))
		c31 = c31.Add(ai.Mul(b1))
		a = a[8*gemmAStep:]
		b = b[8*gemmNR:]
	}
	for len(a) >= gemmAStep && len(b) >= gemmNR {
		ap := (*[gemmAStep]float32)(a)
		bp := (*[gemmNR]float32)(b)
		b0 = archsimd.LoadFloat32x4Array((*[4]float32)(bp[0:4]))
		b1 = archsimd.LoadFloat32x4Array((*[4]float32)(bp[4:8]))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[0:4]))
		c00 = c00.Add(ai.Mul(b0))
		c01 = c01.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[4:8]))
		c10 = c10.Add(ai.Mul(b0))
		c11 = c11.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[8:12]))
		c20 = c20.Add(ai.Mul(b0))
		c21 = c21.Add(ai.Mul(b1))
		ai = archsimd.LoadFloat32x4Array((*[4]float32)(ap[12:16]))
		c30 = c30.Add(ai.Mul(b0))
		c31 = c31.Add(ai.Mul(b1))
		a = a[gemmAStep:]
		b = b[gemmNR:]
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
