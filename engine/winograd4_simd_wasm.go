//go:build goexperiment.simd && wasm

package engine

import "simd/archsimd"

// winograd4Enabled: in the browser's SIMD build convolutions with enough
// channels and output run as F(4×4, 3×3) (see winograd4).
const winograd4Enabled = true

// winograd4InputTiles writes the transformed input tiles of one channel,
// V[ξ][ty·tw+tx] at v[ξ·vs + ty·tw + tx], from its phase planes
// (winograd4Plane), four tiles at a time, matching winograd4InputTilesScalar
// bit for bit. For each row of tiles, first Bᵀ d down whole rows: the six
// combinations of the tile row's 6 input rows in each of the four phase
// planes (24 rows of ld into tmp); then (Bᵀ d) B across them, whose six
// columns for tiles t…t+3 are phases 0…3 at t and phases 0 and 1 at t+1.
// A row not a multiple of four tiles ends with a vector overlapping the
// one before; rows of fewer than four tiles take the scalar kernel.
func winograd4InputTiles(plane []float32, ld, th, tw int, v []float32, vs int, tmp []float32) {
	if tw < 4 {
		winograd4InputTilesScalar(plane, ld, th, tw, v, vs)
		return
	}
	hp := 4*th + 2
	tmp = tmp[:24*ld]
	for ty := 0; ty < th; ty++ {
		for ph := 0; ph < 4; ph++ {
			src := plane[(ph*hp+4*ty)*ld:]
			s0, s1, s2 := src[:ld:ld], src[ld:2*ld:2*ld], src[2*ld:3*ld:3*ld]
			s3, s4, s5 := src[3*ld:4*ld:4*ld], src[4*ld:5*ld:5*ld], src[5*ld:6*ld:6*ld]
			dst := tmp[6*ph*ld:]
			d0, d1, d2 := dst[:ld:ld], dst[ld:2*ld:2*ld], dst[2*ld:3*ld:3*ld]
			d3, d4, d5 := dst[3*ld:4*ld:4*ld], dst[4*ld:5*ld:5*ld], dst[5*ld:6*ld:6*ld]
			for k := 0; k+4 <= ld; k += 4 {
				r0, r1, r2, r3, r4, r5 := winograd4BtVec(load4(s0[k:k+4]), load4(s1[k:k+4]), load4(s2[k:k+4]),
					load4(s3[k:k+4]), load4(s4[k:k+4]), load4(s5[k:k+4]))
				r0.StoreArray((*[4]float32)(d0[k : k+4]))
				r1.StoreArray((*[4]float32)(d1[k : k+4]))
				r2.StoreArray((*[4]float32)(d2[k : k+4]))
				r3.StoreArray((*[4]float32)(d3[k : k+4]))
				r4.StoreArray((*[4]float32)(d4[k : k+4]))
				r5.StoreArray((*[4]float32)(d5[k : k+4]))
			}
		}
		vt := v[ty*tw:]
		for i := 0; i < 6; i++ {
			// Row i of Bᵀ d in each phase; phases 0 and 1 are read one
			// tile further too.
			q0, q1 := tmp[i*ld:][:tw+1:tw+1], tmp[(6+i)*ld:][:tw+1:tw+1]
			q2, q3 := tmp[(12+i)*ld:][:tw:tw], tmp[(18+i)*ld:][:tw:tw]
			v0, v1, v2 := vt[6*i*vs:][:tw:tw], vt[(6*i+1)*vs:][:tw:tw], vt[(6*i+2)*vs:][:tw:tw]
			v3, v4, v5 := vt[(6*i+3)*vs:][:tw:tw], vt[(6*i+4)*vs:][:tw:tw], vt[(6*i+5)*vs:][:tw:tw]
			for t0 := 0; t0 < tw; t0 += 4 {
				t := min(t0, tw-4) // the last vector may overlap the one before
				if t < 0 || t+4 > tw {
					panic("engine: winograd4InputTiles: tile out of range") // never: proves the bounds below
				}
				r0, r1, r2, r3, r4, r5 := winograd4BtVec(load4(q0[t:t+4]), load4(q1[t:t+4]), load4(q2[t:t+4]),
					load4(q3[t:t+4]), load4(q0[t+1:t+5]), load4(q1[t+1:t+5]))
				r0.StoreArray((*[4]float32)(v0[t : t+4]))
				r1.StoreArray((*[4]float32)(v1[t : t+4]))
				r2.StoreArray((*[4]float32)(v2[t : t+4]))
				r3.StoreArray((*[4]float32)(v3[t : t+4]))
				r4.StoreArray((*[4]float32)(v4[t : t+4]))
				r5.StoreArray((*[4]float32)(v5[t : t+4]))
			}
		}
	}
}

// load4 loads s[0:4] as a vector.
func load4(s []float32) archsimd.Float32x4 { return archsimd.LoadFloat32x4Array((*[4]float32)(s)) }

// winograd4BtVec is winograd4Bt on vectors, operation for operation.
func winograd4BtVec(z0, z1, z2, z3, z4, z5 archsimd.Float32x4) (r0, r1, r2, r3, r4, r5 archsimd.Float32x4) {
	two, four, five := archsimd.BroadcastFloat32x4(2), archsimd.BroadcastFloat32x4(4), archsimd.BroadcastFloat32x4(5)
	a, b := z4.Sub(z2), z3.Sub(z1).Mul(two)
	r0 = z0.Mul(four).Sub(z2.Mul(five)).Add(z4)
	r1 = z3.Add(z4).Sub(z1.Add(z2).Mul(four))
	r2 = z4.Sub(z3).Add(z1.Sub(z2).Mul(four))
	r3, r4 = a.Add(b), a.Sub(b)
	r5 = z1.Mul(four).Sub(z3.Mul(five)).Add(z5)
	return
}

// winograd4AtVec is winograd4At on vectors, operation for operation.
func winograd4AtVec(m0, m1, m2, m3, m4, m5 archsimd.Float32x4) (y0, y1, y2, y3 archsimd.Float32x4) {
	two, four, eight := archsimd.BroadcastFloat32x4(2), archsimd.BroadcastFloat32x4(4), archsimd.BroadcastFloat32x4(8)
	a, b := m1.Add(m2), m1.Sub(m2)
	c, d := m3.Add(m4), m3.Sub(m4)
	return m0.Add(a).Add(c), b.Add(d.Mul(two)), a.Add(c.Mul(four)), b.Add(d.Mul(eight)).Add(m5)
}

// winograd4OutputTiles writes (or adds, with accumulate) the output plane
// y [oh, ow] of one channel, the tiles Aᵀ M A + b for M[ξ][ty·tw+tx] at
// m[ξ·ms + ty·tw + tx], four tiles at a time, matching
// winograd4OutputTilesScalar bit for bit; the tiles' 16 values go to rows
// (16·tw floats), then into y's four rows (winograd4StoreRows). A row not
// a multiple of four tiles ends with a vector overlapping the one before;
// rows of fewer than four tiles take the scalar kernel.
func winograd4OutputTiles(m []float32, ms, th, tw int, b float32, rows, y []float32, ow int, accumulate bool) {
	if tw < 4 {
		winograd4OutputTilesScalar(m, ms, th, tw, b, rows, y, ow, accumulate)
		return
	}
	oh := len(y) / ow
	rows = rows[:16*tw]
	var out [16][]float32
	for k := range out {
		out[k] = rows[k*tw:][:tw:tw]
	}
	bv := archsimd.BroadcastFloat32x4(b)
	for ty := 0; ty < th; ty++ {
		mt := m[ty*tw:]
		var mr [36][]float32
		for xi := range mr {
			mr[xi] = mt[xi*ms:][:tw:tw]
		}
		for t0 := 0; t0 < tw; t0 += 4 {
			t := min(t0, tw-4) // the last vector may overlap the one before
			if t < 0 || t+4 > tw {
				panic("engine: winograd4OutputTiles: tile out of range") // never: proves the bounds below
			}
			var s [4][6]archsimd.Float32x4 // Aᵀ M
			for j := 0; j < 6; j++ {
				s[0][j], s[1][j], s[2][j], s[3][j] = winograd4AtVec(load4(mr[j][t:t+4]), load4(mr[6+j][t:t+4]),
					load4(mr[12+j][t:t+4]), load4(mr[18+j][t:t+4]), load4(mr[24+j][t:t+4]), load4(mr[30+j][t:t+4]))
			}
			for i := 0; i < 4; i++ {
				y0, y1, y2, y3 := winograd4AtVec(s[i][0], s[i][1], s[i][2], s[i][3], s[i][4], s[i][5])
				y0.Add(bv).StoreArray((*[4]float32)(out[4*i][t : t+4]))
				y1.Add(bv).StoreArray((*[4]float32)(out[4*i+1][t : t+4]))
				y2.Add(bv).StoreArray((*[4]float32)(out[4*i+2][t : t+4]))
				y3.Add(bv).StoreArray((*[4]float32)(out[4*i+3][t : t+4]))
			}
		}
		winograd4StoreRows(rows, tw, y[4*ty*ow:], ow, min(4, oh-4*ty), accumulate)
	}
}

// winograd4Weights writes U = G g Gᵀ for every 3×3 kernel of w (see
// winograd4WeightsScalar) four destinations at a time, matching the scalar
// kernel bit for bit: the four kernels' values are gathered into nine
// vectors, then transformed and stored as vectors. The last o·c mod 4
// take the scalar kernel.
func winograd4Weights(w []float32, o, c int, flip bool, u []float32, us int) {
	oc := o * c
	w = w[:9*oc]
	u0, u1, u2, u3, u4, u5 := u[:oc], u[1*us:][:oc], u[2*us:][:oc], u[3*us:][:oc], u[4*us:][:oc], u[5*us:][:oc]
	u6, u7, u8, u9, u10, u11 := u[6*us:][:oc], u[7*us:][:oc], u[8*us:][:oc], u[9*us:][:oc], u[10*us:][:oc], u[11*us:][:oc]
	u12, u13, u14, u15, u16, u17 := u[12*us:][:oc], u[13*us:][:oc], u[14*us:][:oc], u[15*us:][:oc], u[16*us:][:oc], u[17*us:][:oc]
	u18, u19, u20, u21, u22, u23 := u[18*us:][:oc], u[19*us:][:oc], u[20*us:][:oc], u[21*us:][:oc], u[22*us:][:oc], u[23*us:][:oc]
	u24, u25, u26, u27, u28, u29 := u[24*us:][:oc], u[25*us:][:oc], u[26*us:][:oc], u[27*us:][:oc], u[28*us:][:oc], u[29*us:][:oc]
	u30, u31, u32, u33, u34, u35 := u[30*us:][:oc], u[31*us:][:oc], u[32*us:][:oc], u[33*us:][:oc], u[34*us:][:oc], u[35*us:][:oc]
	i := 0
	for ; i+4 <= oc; i += 4 {
		var gs [9][4]float32 // value k of the four kernels
		if flip {
			for l := 0; l < 4; l++ {
				g := (*[9]float32)(w[9*(((i+l)%o)*c+(i+l)/o):])
				gs[0][l], gs[1][l], gs[2][l], gs[3][l], gs[4][l] = g[8], g[7], g[6], g[5], g[4]
				gs[5][l], gs[6][l], gs[7][l], gs[8][l] = g[3], g[2], g[1], g[0]
			}
		} else {
			g := (*[36]float32)(w[9*i:])
			for l := 0; l < 4; l++ {
				gs[0][l], gs[1][l], gs[2][l], gs[3][l], gs[4][l] = g[9*l], g[9*l+1], g[9*l+2], g[9*l+3], g[9*l+4]
				gs[5][l], gs[6][l], gs[7][l], gs[8][l] = g[9*l+5], g[9*l+6], g[9*l+7], g[9*l+8]
			}
		}
		g0, g1, g2 := archsimd.LoadFloat32x4Array(&gs[0]), archsimd.LoadFloat32x4Array(&gs[1]), archsimd.LoadFloat32x4Array(&gs[2])
		g3, g4, g5 := archsimd.LoadFloat32x4Array(&gs[3]), archsimd.LoadFloat32x4Array(&gs[4]), archsimd.LoadFloat32x4Array(&gs[5])
		g6, g7, g8 := archsimd.LoadFloat32x4Array(&gs[6]), archsimd.LoadFloat32x4Array(&gs[7]), archsimd.LoadFloat32x4Array(&gs[8])
		a0, a1, a2, a3, a4, a5 := winograd4GVec(g0, g3, g6)
		b0, b1, b2, b3, b4, b5 := winograd4GVec(g1, g4, g7)
		d0, d1, d2, d3, d4, d5 := winograd4GVec(g2, g5, g8)
		r00, r01, r02, r03, r04, r05 := winograd4GVec(a0, b0, d0)
		r00.StoreArray((*[4]float32)(u0[i : i+4]))
		r01.StoreArray((*[4]float32)(u1[i : i+4]))
		r02.StoreArray((*[4]float32)(u2[i : i+4]))
		r03.StoreArray((*[4]float32)(u3[i : i+4]))
		r04.StoreArray((*[4]float32)(u4[i : i+4]))
		r05.StoreArray((*[4]float32)(u5[i : i+4]))
		r10, r11, r12, r13, r14, r15 := winograd4GVec(a1, b1, d1)
		r10.StoreArray((*[4]float32)(u6[i : i+4]))
		r11.StoreArray((*[4]float32)(u7[i : i+4]))
		r12.StoreArray((*[4]float32)(u8[i : i+4]))
		r13.StoreArray((*[4]float32)(u9[i : i+4]))
		r14.StoreArray((*[4]float32)(u10[i : i+4]))
		r15.StoreArray((*[4]float32)(u11[i : i+4]))
		r20, r21, r22, r23, r24, r25 := winograd4GVec(a2, b2, d2)
		r20.StoreArray((*[4]float32)(u12[i : i+4]))
		r21.StoreArray((*[4]float32)(u13[i : i+4]))
		r22.StoreArray((*[4]float32)(u14[i : i+4]))
		r23.StoreArray((*[4]float32)(u15[i : i+4]))
		r24.StoreArray((*[4]float32)(u16[i : i+4]))
		r25.StoreArray((*[4]float32)(u17[i : i+4]))
		r30, r31, r32, r33, r34, r35 := winograd4GVec(a3, b3, d3)
		r30.StoreArray((*[4]float32)(u18[i : i+4]))
		r31.StoreArray((*[4]float32)(u19[i : i+4]))
		r32.StoreArray((*[4]float32)(u20[i : i+4]))
		r33.StoreArray((*[4]float32)(u21[i : i+4]))
		r34.StoreArray((*[4]float32)(u22[i : i+4]))
		r35.StoreArray((*[4]float32)(u23[i : i+4]))
		r40, r41, r42, r43, r44, r45 := winograd4GVec(a4, b4, d4)
		r40.StoreArray((*[4]float32)(u24[i : i+4]))
		r41.StoreArray((*[4]float32)(u25[i : i+4]))
		r42.StoreArray((*[4]float32)(u26[i : i+4]))
		r43.StoreArray((*[4]float32)(u27[i : i+4]))
		r44.StoreArray((*[4]float32)(u28[i : i+4]))
		r45.StoreArray((*[4]float32)(u29[i : i+4]))
		r50, r51, r52, r53, r54, r55 := winograd4GVec(a5, b5, d5)
		r50.StoreArray((*[4]float32)(u30[i : i+4]))
		r51.StoreArray((*[4]float32)(u31[i : i+4]))
		r52.StoreArray((*[4]float32)(u32[i : i+4]))
		r53.StoreArray((*[4]float32)(u33[i : i+4]))
		r54.StoreArray((*[4]float32)(u34[i : i+4]))
		r55.StoreArray((*[4]float32)(u35[i : i+4]))
	}
	winograd4WeightsScalar(w, o, c, flip, u, us, i)
}

// winograd4GVec is winograd4G on vectors, operation for operation.
func winograd4GVec(a, b, c archsimd.Float32x4) (r0, r1, r2, r3, r4, r5 archsimd.Float32x4) {
	s := a.Add(c)
	e := a.Mul(archsimd.BroadcastFloat32x4(1.0 / 24)).Add(c.Mul(archsimd.BroadcastFloat32x4(1.0 / 6)))
	f := b.Mul(archsimd.BroadcastFloat32x4(1.0 / 12))
	sixth := archsimd.BroadcastFloat32x4(-1.0 / 6)
	return a.Mul(archsimd.BroadcastFloat32x4(0.25)), s.Add(b).Mul(sixth), s.Sub(b).Mul(sixth), e.Add(f), e.Sub(f), c
}
