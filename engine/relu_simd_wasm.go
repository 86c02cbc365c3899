//go:build goexperiment.simd && wasm

package engine

import "simd/archsimd"

// The browser's LeakyReLU (and ReLU) kernels. They select between x and
// slope·x with a mask of x > 0 (a compare and a bitselect) instead of
// taking a maximum: f32x4.max(x, 0) would map −0 to +0 and −∞ to 0 where
// the scalar code gives −0 and NaN (0·−∞), and a NaN would fail x > 0 and
// come out as slope·NaN = NaN either way. With the same product under the
// same mask the result is the scalar code's, bit for bit.

// leakyReLU writes y = x where x > 0, else slope·x, as leakyReLUScalar.
func leakyReLU(y, x []float32, slope float32) {
	y = y[:len(x)]
	sv := archsimd.BroadcastFloat32x4(slope)
	var zero archsimd.Float32x4
	for len(x) >= 16 && len(y) >= 16 {
		xp, yp := (*[16]float32)(x), (*[16]float32)(y)
		v := ld4(xp[0:4])
		st4(v.IfElse(v.Greater(zero), v.Mul(sv)), yp[0:4])
		v = ld4(xp[4:8])
		st4(v.IfElse(v.Greater(zero), v.Mul(sv)), yp[4:8])
		v = ld4(xp[8:12])
		st4(v.IfElse(v.Greater(zero), v.Mul(sv)), yp[8:12])
		v = ld4(xp[12:16])
		st4(v.IfElse(v.Greater(zero), v.Mul(sv)), yp[12:16])
		x, y = x[16:], y[16:]
	}
	leakyReLUScalar(y, x, slope)
}

// leakyReLUGrad adds ∂y where x > 0, else slope·∂y, to ∂x, as
// leakyReLUGradScalar.
func leakyReLUGrad(dx, dy, x []float32, slope float32) {
	dx, dy = dx[:len(x)], dy[:len(x)]
	sv := archsimd.BroadcastFloat32x4(slope)
	var zero archsimd.Float32x4
	for len(x) >= 16 && len(dx) >= 16 && len(dy) >= 16 {
		xp, gp, op := (*[16]float32)(x), (*[16]float32)(dy), (*[16]float32)(dx)
		g := ld4(gp[0:4])
		st4(ld4(op[0:4]).Add(g.IfElse(ld4(xp[0:4]).Greater(zero), sv.Mul(g))), op[0:4])
		g = ld4(gp[4:8])
		st4(ld4(op[4:8]).Add(g.IfElse(ld4(xp[4:8]).Greater(zero), sv.Mul(g))), op[4:8])
		g = ld4(gp[8:12])
		st4(ld4(op[8:12]).Add(g.IfElse(ld4(xp[8:12]).Greater(zero), sv.Mul(g))), op[8:12])
		g = ld4(gp[12:16])
		st4(ld4(op[12:16]).Add(g.IfElse(ld4(xp[12:16]).Greater(zero), sv.Mul(g))), op[12:16])
		x, dx, dy = x[16:], dx[16:], dy[16:]
	}
	leakyReLUGradScalar(dx, dy, x, slope)
}
