//go:build goexperiment.simd && wasm

package engine

import "simd/archsimd"

// adamUpdate is adamUpdateScalar four lanes at a time, bit for bit: the
// same operations in the same order (c2·g·g is (c2·g)·g, as Go evaluates
// the scalar expression), no fused multiply-add (wasm SIMD has none, and Go
// does not fuse scalar WebAssembly arithmetic either), and a square root
// and division that are correctly rounded in f32x4 as in the scalar code,
// whose float32(math.Sqrt(float64(v))) is the correctly rounded float32
// square root (a float64 root rounded again to float32 never double-rounds).
func adamUpdate(p, g, m, v []float32, k adamCoeffs) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	b1, c1 := archsimd.BroadcastFloat32x4(k.b1), archsimd.BroadcastFloat32x4(k.c1)
	b2, c2 := archsimd.BroadcastFloat32x4(k.b2), archsimd.BroadcastFloat32x4(k.c2)
	bc2 := archsimd.BroadcastFloat32x4(k.bc2Sqrt)
	step, eps := archsimd.BroadcastFloat32x4(k.stepSize), archsimd.BroadcastFloat32x4(k.eps)
	for len(p) >= 16 && len(g) >= 16 && len(m) >= 16 && len(v) >= 16 {
		pp, gp := (*[16]float32)(p), (*[16]float32)(g)
		mp, vp := (*[16]float32)(m), (*[16]float32)(v)
		adam4(pp[0:4], gp[0:4], mp[0:4], vp[0:4], b1, c1, b2, c2, bc2, step, eps)
		adam4(pp[4:8], gp[4:8], mp[4:8], vp[4:8], b1, c1, b2, c2, bc2, step, eps)
		adam4(pp[8:12], gp[8:12], mp[8:12], vp[8:12], b1, c1, b2, c2, bc2, step, eps)
		adam4(pp[12:16], gp[12:16], mp[12:16], vp[12:16], b1, c1, b2, c2, bc2, step, eps)
		p, g, m, v = p[16:], g[16:], m[16:], v[16:]
	}
	adamUpdateScalar(p, g, m, v, k)
}

// adam4 is one Adam step of the four values at p, with the coefficients
// broadcast (see adamCoeffs).
func adam4(p, g, m, v []float32, b1, c1, b2, c2, bc2, step, eps archsimd.Float32x4) {
	gv := ld4(g)
	mv := b1.Mul(ld4(m)).Add(c1.Mul(gv))
	vv := b2.Mul(ld4(v)).Add(c2.Mul(gv).Mul(gv))
	st4(mv, m)
	st4(vv, v)
	denom := vv.Sqrt().Div(bc2).Add(eps)
	st4(ld4(p).Sub(step.Mul(mv.Div(denom))), p)
}
