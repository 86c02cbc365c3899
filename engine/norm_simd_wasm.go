//go:build goexperiment.simd && wasm

package engine

import (
	"math"
	"simd/archsimd"
)

// The browser's InstanceNorm2D kernels. The scalar versions
// (instancenorm2d.go) convert every value to float64, one at a time, which
// in WebAssembly cost about 10 ns per element over the three passes; these
// keep four float32 lanes busy and go to float64 once per sumBlock values.
//
// Accuracy. The scalar code sums a plane in float64. Here a plane is summed
// in blocks of sumBlock = 64 values: the block's 16 vectors are added as a
// balanced tree, so lane j holds the sum of the 16 values j, j+4, …, j+60,
// each of which has passed through four float32 additions; the four lanes
// are then added in float64, where the block sums accumulate. A block sum
// is thus within 4·f32u·Σ|terms| of exact (to first order) however large the
// plane, where a float32 running sum's error grows with the plane (about
// four digits lost on a 256×256 plane). The variance sums (x − m)² about
// m = float32(μ) the same way (the difference and the square round once
// more each) and takes the shift back out exactly, in float64:
// Σ(x − m)²/n − (μ − m)² = σ², the scalar code's two-pass variance up to
// those roundings. TestInstanceNormKernelsMatchScalar holds both sums to
// these bounds; against PyTorch's fixtures the largest difference stays
// at about an eighth of the tolerance.

// sumBlock is the number of values summed in float32 before their sum goes
// to float64.
const sumBlock = 64

// normStats returns the mean of a plane and 1/√(σ²+ε), as normStatsScalar
// but with SIMD block sums (see above).
func normStats(src []float32) (mean, invStd float64) {
	var sum float64
	s := src
	for len(s) >= sumBlock {
		p := (*[sumBlock]float32)(s)
		q0 := ld4(p[0:4]).Add(ld4(p[4:8])).Add(ld4(p[8:12]).Add(ld4(p[12:16])))
		q1 := ld4(p[16:20]).Add(ld4(p[20:24])).Add(ld4(p[24:28]).Add(ld4(p[28:32])))
		q2 := ld4(p[32:36]).Add(ld4(p[36:40])).Add(ld4(p[40:44]).Add(ld4(p[44:48])))
		q3 := ld4(p[48:52]).Add(ld4(p[52:56])).Add(ld4(p[56:60]).Add(ld4(p[60:64])))
		sum += fold(q0.Add(q1).Add(q2.Add(q3)))
		s = s[sumBlock:]
	}
	for _, v := range s {
		sum += float64(v)
	}
	mean = sum / float64(len(src))

	m := float32(mean)
	mv := archsimd.BroadcastFloat32x4(m)
	var sq float64
	s = src
	for len(s) >= sumBlock {
		p := (*[sumBlock]float32)(s)
		q0 := sqDev(p[0:4], mv).Add(sqDev(p[4:8], mv)).Add(sqDev(p[8:12], mv).Add(sqDev(p[12:16], mv)))
		q1 := sqDev(p[16:20], mv).Add(sqDev(p[20:24], mv)).Add(sqDev(p[24:28], mv).Add(sqDev(p[28:32], mv)))
		q2 := sqDev(p[32:36], mv).Add(sqDev(p[36:40], mv)).Add(sqDev(p[40:44], mv).Add(sqDev(p[44:48], mv)))
		q3 := sqDev(p[48:52], mv).Add(sqDev(p[52:56], mv)).Add(sqDev(p[56:60], mv).Add(sqDev(p[60:64], mv)))
		sq += fold(q0.Add(q1).Add(q2.Add(q3)))
		s = s[sumBlock:]
	}
	for _, v := range s {
		d := float64(v) - float64(m)
		sq += d * d
	}
	// Σ(x − m)²/n = σ² + (μ − m)²: take the shift back out (exactly, in
	// float64); rounding may leave a hair below zero for a constant plane.
	shift := mean - float64(m)
	variance := max(sq/float64(len(src))-shift*shift, 0)
	return mean, 1 / math.Sqrt(variance+InstanceNormEps)
}

// sqDev returns (s[0:4] − m)² lane by lane.
func sqDev(s []float32, m archsimd.Float32x4) archsimd.Float32x4 {
	d := ld4(s).Sub(m)
	return d.Mul(d)
}

// normApply writes y = x̂·scale + shift, x̂ = (x − m)·inv, and x̂ into xh
// unless xh is nil: normApplyScalar four lanes at a time, with the same
// operations in the same order, so bit for bit the same.
func normApply(y, xh, x []float32, m, inv, scale, shift float32) {
	y = y[:len(x)]
	mv, iv := archsimd.BroadcastFloat32x4(m), archsimd.BroadcastFloat32x4(inv)
	sv, bv := archsimd.BroadcastFloat32x4(scale), archsimd.BroadcastFloat32x4(shift)
	if xh == nil {
		for len(x) >= 16 && len(y) >= 16 {
			xp, yp := (*[16]float32)(x), (*[16]float32)(y)
			st4(ld4(xp[0:4]).Sub(mv).Mul(iv).Mul(sv).Add(bv), yp[0:4])
			st4(ld4(xp[4:8]).Sub(mv).Mul(iv).Mul(sv).Add(bv), yp[4:8])
			st4(ld4(xp[8:12]).Sub(mv).Mul(iv).Mul(sv).Add(bv), yp[8:12])
			st4(ld4(xp[12:16]).Sub(mv).Mul(iv).Mul(sv).Add(bv), yp[12:16])
			x, y = x[16:], y[16:]
		}
		normApplyScalar(y, nil, x, m, inv, scale, shift)
		return
	}
	xh = xh[:len(x)]
	for len(x) >= 16 && len(y) >= 16 && len(xh) >= 16 {
		xp, yp, hp := (*[16]float32)(x), (*[16]float32)(y), (*[16]float32)(xh)
		t := ld4(xp[0:4]).Sub(mv).Mul(iv)
		st4(t, hp[0:4])
		st4(t.Mul(sv).Add(bv), yp[0:4])
		t = ld4(xp[4:8]).Sub(mv).Mul(iv)
		st4(t, hp[4:8])
		st4(t.Mul(sv).Add(bv), yp[4:8])
		t = ld4(xp[8:12]).Sub(mv).Mul(iv)
		st4(t, hp[8:12])
		st4(t.Mul(sv).Add(bv), yp[8:12])
		t = ld4(xp[12:16]).Sub(mv).Mul(iv)
		st4(t, hp[12:16])
		st4(t.Mul(sv).Add(bv), yp[12:16])
		x, y, xh = x[16:], y[16:], xh[16:]
	}
	normApplyScalar(y, xh, x, m, inv, scale, shift)
}

// normGradSums returns Σ ∂y and Σ ∂y·x̂ over one plane, as
// normGradSumsScalar but with SIMD block sums (see above).
func normGradSums(dy, xh []float32) (sumG, sumGX float64) {
	xh = xh[:len(dy)]
	for len(dy) >= sumBlock && len(xh) >= sumBlock {
		g, h := (*[sumBlock]float32)(dy), (*[sumBlock]float32)(xh)
		g0, x0 := gradTree(g[0:16], h[0:16])
		g1, x1 := gradTree(g[16:32], h[16:32])
		g2, x2 := gradTree(g[32:48], h[32:48])
		g3, x3 := gradTree(g[48:64], h[48:64])
		sumG += fold(g0.Add(g1).Add(g2.Add(g3)))
		sumGX += fold(x0.Add(x1).Add(x2.Add(x3)))
		dy, xh = dy[sumBlock:], xh[sumBlock:]
	}
	g, gx := normGradSumsScalar(dy, xh)
	return sumG + g, sumGX + gx
}

// gradTree returns the pairwise sums of g[0:16] and of g[0:16]·h[0:16],
// four vectors each, as two vectors.
func gradTree(g, h []float32) (sg, sgx archsimd.Float32x4) {
	gp, hp := (*[16]float32)(g), (*[16]float32)(h)
	g0, g1, g2, g3 := ld4(gp[0:4]), ld4(gp[4:8]), ld4(gp[8:12]), ld4(gp[12:16])
	sg = g0.Add(g1).Add(g2.Add(g3))
	sgx = g0.Mul(ld4(hp[0:4])).Add(g1.Mul(ld4(hp[4:8]))).Add(g2.Mul(ld4(hp[8:12])).Add(g3.Mul(ld4(hp[12:16]))))
	return sg, sgx
}

// normGradApply adds k·(∂y − meanG − x̂·meanGX) to ∂x: normGradApplyScalar
// four lanes at a time, same operations in the same order, bit for bit.
func normGradApply(dx, dy, xh []float32, k, meanG, meanGX float32) {
	dx, xh = dx[:len(dy)], xh[:len(dy)]
	kv := archsimd.BroadcastFloat32x4(k)
	gv, xv := archsimd.BroadcastFloat32x4(meanG), archsimd.BroadcastFloat32x4(meanGX)
	for len(dy) >= 16 && len(dx) >= 16 && len(xh) >= 16 {
		d, h, o := (*[16]float32)(dy), (*[16]float32)(xh), (*[16]float32)(dx)
		st4(ld4(o[0:4]).Add(kv.Mul(ld4(d[0:4]).Sub(gv).Sub(ld4(h[0:4]).Mul(xv)))), o[0:4])
		st4(ld4(o[4:8]).Add(kv.Mul(ld4(d[4:8]).Sub(gv).Sub(ld4(h[4:8]).Mul(xv)))), o[4:8])
		st4(ld4(o[8:12]).Add(kv.Mul(ld4(d[8:12]).Sub(gv).Sub(ld4(h[8:12]).Mul(xv)))), o[8:12])
		st4(ld4(o[12:16]).Add(kv.Mul(ld4(d[12:16]).Sub(gv).Sub(ld4(h[12:16]).Mul(xv)))), o[12:16])
		dy, dx, xh = dy[16:], dx[16:], xh[16:]
	}
	normGradApplyScalar(dx, dy, xh, k, meanG, meanGX)
}
