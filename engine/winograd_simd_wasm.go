//go:build goexperiment.simd && wasm

package engine

import "simd/archsimd"

// winogradInputTiles writes the transformed input tiles of one channel,
// V[ξ][ty·tw+tx] at v[ξ·vs + ty·tw + tx], from its deinterleaved plane
// (winogradPlane), four tiles at a time (matching
// winogradInputTilesScalar bit for bit): with the columns split into even
// and odd, the values of four adjacent tiles at one position are four
// adjacent floats. For each row of tiles, first Bᵀ d over whole rows: the
// four combinations of the tile row's 4 input rows, for every even and
// every odd column (8 rows of ld into tmp); then (Bᵀ d) B across them,
// whose four columns are even[tx], odd[tx], even[tx+1], odd[tx+1] of each
// combined row: vectors at offsets t and t+1. A row not a multiple of four
// tiles ends with a vector overlapping the one before (writing some values
// twice, the same); rows of fewer than four tiles take the scalar kernel.
//
// The row slices are cut with their capacity equal to their length, so
// that the loop conditions prove every vector's bounds and the compiler
// checks none (a check costs about as much as the arithmetic here).
func winogradInputTiles(plane []float32, ld, th, tw int, v []float32, vs int, tmp []float32) {
	if tw < 4 {
		winogradInputTilesScalar(plane, ld, th, tw, v, vs)
		return
	}
	hp := 2*th + 2
	tmp = tmp[:8*ld]
	for ty := 0; ty < th; ty++ {
		for h := 0; h < 2; h++ {
			src := plane[(h*hp+2*ty)*ld:]
			s0, s1, s2, s3 := src[:ld:ld], src[ld:2*ld:2*ld], src[2*ld:3*ld:3*ld], src[3*ld:4*ld:4*ld]
			dst := tmp[4*h*ld:]
			d0, d1, d2, d3 := dst[:ld:ld], dst[ld:2*ld:2*ld], dst[2*ld:3*ld:3*ld], dst[3*ld:4*ld:4*ld]
			for k := 0; k+4 <= ld; k += 4 {
				r0 := archsimd.LoadFloat32x4Array((*[4]float32)(s0[k : k+4]))
				r1 := archsimd.LoadFloat32x4Array((*[4]float32)(s1[k : k+4]))
				r2 := archsimd.LoadFloat32x4Array((*[4]float32)(s2[k : k+4]))
				r3 := archsimd.LoadFloat32x4Array((*[4]float32)(s3[k : k+4]))
				r0.Sub(r2).StoreArray((*[4]float32)(d0[k : k+4]))
				r1.Add(r2).StoreArray((*[4]float32)(d1[k : k+4]))
				r2.Sub(r1).StoreArray((*[4]float32)(d2[k : k+4]))
				r1.Sub(r3).StoreArray((*[4]float32)(d3[k : k+4]))
			}
		}
		vt := v[ty*tw:]
		for i := 0; i < 4; i++ {
			re := tmp[i*ld:][: tw+1 : tw+1]
			ro := tmp[(4+i)*ld:][: tw+1 : tw+1]
			v0, v1 := vt[4*i*vs:][:tw:tw], vt[(4*i+1)*vs:][:tw:tw]
			v2, v3 := vt[(4*i+2)*vs:][:tw:tw], vt[(4*i+3)*vs:][:tw:tw]
			t := 0
			for ; t+4 <= tw; t += 4 {
				winogradInputGroup((*[5]float32)(re[t:t+5]), (*[5]float32)(ro[t:t+5]),
					(*[4]float32)(v0[t:t+4]), (*[4]float32)(v1[t:t+4]), (*[4]float32)(v2[t:t+4]), (*[4]float32)(v3[t:t+4]))
			}
			if t < tw { // the last vector, overlapping the one before
				t = tw - 4
				winogradInputGroup((*[5]float32)(re[t:t+5]), (*[5]float32)(ro[t:t+5]),
					(*[4]float32)(v0[t:t+4]), (*[4]float32)(v1[t:t+4]), (*[4]float32)(v2[t:t+4]), (*[4]float32)(v3[t:t+4]))
			}
		}
	}
}

// winogradInputGroup is (Bᵀ d B)'s row i for four tiles: e and o are row i
// of Bᵀ d at the tiles' even and odd columns (tile t reads e[t], o[t],
// e[t+1], o[t+1]), v0…v3 the four positions 4i…4i+3.
func winogradInputGroup(e, o *[5]float32, v0, v1, v2, v3 *[4]float32) {
	e0 := archsimd.LoadFloat32x4Array((*[4]float32)(e[0:4]))
	e1 := archsimd.LoadFloat32x4Array((*[4]float32)(e[1:5]))
	o0 := archsimd.LoadFloat32x4Array((*[4]float32)(o[0:4]))
	o1 := archsimd.LoadFloat32x4Array((*[4]float32)(o[1:5]))
	e0.Sub(e1).StoreArray(v0)
	o0.Add(e1).StoreArray(v1)
	e1.Sub(o0).StoreArray(v2)
	o0.Sub(o1).StoreArray(v3)
}

// winogradWeightMinChannels: in the browser the Winograd weight gradient
// wins from the forward's winogradMinChannels (see winogradWeight).
const winogradWeightMinChannels = winogradMinChannels

// winogradGradientTiles writes the transformed output-gradient tiles of
// one channel (see winogradGradientTilesScalar) four tiles at a time,
// matching the scalar kernel bit for bit: in the deinterleaved plane, four
// adjacent tiles' a, b, c or d are four adjacent floats. A row not a multiple of four tiles ends with a vector
// overlapping the one before; rows of fewer than four tiles take the
// scalar kernel.
func winogradGradientTiles(plane []float32, ld, th, tw int, w []float32, ws int) {
	if tw < 4 {
		winogradGradientTilesScalar(plane, ld, th, tw, w, ws)
		return
	}
	hp := 2*th + 2
	var zero archsimd.Float32x4
	for ty := 0; ty < th; ty++ {
		e0, e1 := plane[2*ty*ld:][:tw:tw], plane[(2*ty+1)*ld:][:tw:tw]
		o0, o1 := plane[(hp+2*ty)*ld:][:tw:tw], plane[(hp+2*ty+1)*ld:][:tw:tw]
		wt := w[ty*tw:]
		var rows [16][]float32
		for xi := range rows {
			rows[xi] = wt[xi*ws:][:tw:tw]
		}
		for t0 := 0; t0 < tw; t0 += 4 {
			t := min(t0, tw-4) // the last vector may overlap the one before
			if t < 0 || t+4 > tw {
				panic("engine: winogradGradientTiles: tile out of range") // never: proves the bounds below
			}
			a := archsimd.LoadFloat32x4Array((*[4]float32)(e0[t : t+4]))
			b := archsimd.LoadFloat32x4Array((*[4]float32)(o0[t : t+4]))
			c := archsimd.LoadFloat32x4Array((*[4]float32)(e1[t : t+4]))
			d := archsimd.LoadFloat32x4Array((*[4]float32)(o1[t : t+4]))
			p := [4]archsimd.Float32x4{a, a.Add(c), a.Sub(c), zero.Sub(c)}
			q := [4]archsimd.Float32x4{b, b.Add(d), b.Sub(d), zero.Sub(d)}
			for i := 0; i < 4; i++ {
				p[i].StoreArray((*[4]float32)(rows[4*i][t : t+4]))
				p[i].Add(q[i]).StoreArray((*[4]float32)(rows[4*i+1][t : t+4]))
				p[i].Sub(q[i]).StoreArray((*[4]float32)(rows[4*i+2][t : t+4]))
				zero.Sub(q[i]).StoreArray((*[4]float32)(rows[4*i+3][t : t+4]))
			}
		}
	}
}

// winogradOutputTiles writes (or adds, with accumulate) the output plane
// y [oh, ow] of one channel, the tiles Aᵀ M A + b for M[ξ][ty·tw+tx] at
// m[ξ·ms + ty·tw + tx], four tiles at a time (matching
// winogradOutputTilesScalar bit for bit): M's 16 matrices hold the four
// tiles' values at one position as four adjacent floats. The tiles' four
// values go to rows (4·tw floats), then interleave into y's two rows. A
// row not a multiple of four tiles ends with a vector overlapping the one
// before; rows of fewer than four tiles take the scalar kernel.
//
// As in winogradInputTiles, the slices are cut so that the loop conditions
// prove every vector's bounds.
func winogradOutputTiles(m []float32, ms, th, tw int, b float32, rows, y []float32, ow int, accumulate bool) {
	if tw < 4 {
		winogradOutputTilesScalar(m, ms, th, tw, b, rows, y, ow, accumulate)
		return
	}
	oh := len(y) / ow
	rows = rows[:4*tw]
	r0, r1, r2, r3 := rows[:tw:tw], rows[tw:2*tw:2*tw], rows[2*tw:3*tw:3*tw], rows[3*tw:4*tw:4*tw]
	bv := archsimd.BroadcastFloat32x4(b)
	for ty := 0; ty < th; ty++ {
		// M[ξ]'s row of tiles, ξ = 4i+j, as mij.
		mt := m[ty*tw:]
		m00, m01, m02, m03 := mt[:tw:tw], mt[ms:][:tw:tw], mt[2*ms:][:tw:tw], mt[3*ms:][:tw:tw]
		m10, m11, m12, m13 := mt[4*ms:][:tw:tw], mt[5*ms:][:tw:tw], mt[6*ms:][:tw:tw], mt[7*ms:][:tw:tw]
		m20, m21, m22, m23 := mt[8*ms:][:tw:tw], mt[9*ms:][:tw:tw], mt[10*ms:][:tw:tw], mt[11*ms:][:tw:tw]
		m30, m31, m32, m33 := mt[12*ms:][:tw:tw], mt[13*ms:][:tw:tw], mt[14*ms:][:tw:tw], mt[15*ms:][:tw:tw]
		for t0 := 0; t0 < tw; t0 += 4 {
			t := t0
			if t+4 > tw { // the last vector, overlapping the one before
				t = tw - 4
			}
			if t < 0 || t+4 > tw {
				panic("engine: winogradOutputTiles: tile out of range") // never: proves the bounds below
			}
			s0, d0 := winogradOutputColumn(m00[t:t+4], m10[t:t+4], m20[t:t+4], m30[t:t+4])
			s1, d1 := winogradOutputColumn(m01[t:t+4], m11[t:t+4], m21[t:t+4], m31[t:t+4])
			s2, d2 := winogradOutputColumn(m02[t:t+4], m12[t:t+4], m22[t:t+4], m32[t:t+4])
			s3, d3 := winogradOutputColumn(m03[t:t+4], m13[t:t+4], m23[t:t+4], m33[t:t+4])
			s0.Add(s1).Add(s2).Add(bv).StoreArray((*[4]float32)(r0[t : t+4]))
			s1.Sub(s2).Sub(s3).Add(bv).StoreArray((*[4]float32)(r1[t : t+4]))
			d0.Add(d1).Add(d2).Add(bv).StoreArray((*[4]float32)(r2[t : t+4]))
			d1.Sub(d2).Sub(d3).Add(bv).StoreArray((*[4]float32)(r3[t : t+4]))
		}
		winogradStoreRows(rows, tw, y[2*ty*ow:], ow, min(2, oh-2*ty), accumulate)
	}
}

// winogradOutputColumn is column j of Aᵀ M for four tiles, given M[i, j]
// for i = 0…3: s = M[0,j] + M[1,j] + M[2,j] and d = M[1,j] − M[2,j] − M[3,j].
func winogradOutputColumn(m0, m1, m2, m3 []float32) (s, d archsimd.Float32x4) {
	v0 := archsimd.LoadFloat32x4Array((*[4]float32)(m0))
	v1 := archsimd.LoadFloat32x4Array((*[4]float32)(m1))
	v2 := archsimd.LoadFloat32x4Array((*[4]float32)(m2))
	v3 := archsimd.LoadFloat32x4Array((*[4]float32)(m3))
	return v0.Add(v1).Add(v2), v1.Sub(v2).Sub(v3)
}

// Byte indices for i8x16.swizzle (LookupOrZero) that move floats between
// vectors: lane l of the result takes float f of the source (bytes 4f…4f+3),
// or zero for −1. winogradDeinterleave and winogradInterleave or two such
// halves together, wasm SIMD having no two-vector shuffle in Go.
var (
	swzEvenLo = floatLanes(0, 2, -1, -1)
	swzEvenHi = floatLanes(-1, -1, 0, 2)
	swzOddLo  = floatLanes(1, 3, -1, -1)
	swzOddHi  = floatLanes(-1, -1, 1, 3)
	swzZipLo0 = floatLanes(0, -1, 1, -1)
	swzZipLo1 = floatLanes(-1, 0, -1, 1)
	swzZipHi0 = floatLanes(2, -1, 3, -1)
	swzZipHi1 = floatLanes(-1, 2, -1, 3)
)

// floatLanes returns the swizzle indices that put float f[l] of the
// source in lane l, or zero where f[l] is −1.
func floatLanes(f0, f1, f2, f3 int) [16]int8 {
	var b [16]int8
	for l, f := range [4]int{f0, f1, f2, f3} {
		for i := 0; i < 4; i++ {
			if f < 0 {
				b[4*l+i] = -1
			} else {
				b[4*l+i] = int8(4*f + i)
			}
		}
	}
	return b
}

// asBytes and asFloats reinterpret a vector's bits (no instruction), for
// the byte swizzle.
func asBytes(v archsimd.Float32x4) archsimd.Int8x16 { return v.ToBits().ReshapeToUint8s().BitsToInt8() }
func asFloats(v archsimd.Int8x16) archsimd.Float32x4 {
	return v.ToBits().ReshapeToUint32s().BitsToFloat32()
}

// winogradDeinterleave writes even[j] = src[2j] and odd[j] = src[2j+1]
// for j < len(src)/2 (and even[len(src)/2] = the last value when len(src)
// is odd), eight values at a time (matching winogradDeinterleaveScalar).
func winogradDeinterleave(src, even, odd []float32) {
	el, eh := archsimd.LoadInt8x16Array(&swzEvenLo), archsimd.LoadInt8x16Array(&swzEvenHi)
	ol, oh := archsimd.LoadInt8x16Array(&swzOddLo), archsimd.LoadInt8x16Array(&swzOddHi)
	j := 0
	for ; len(src) >= 8; src, j = src[8:], j+4 {
		s := (*[8]float32)(src)
		a := asBytes(archsimd.LoadFloat32x4Array((*[4]float32)(s[0:4])))
		b := asBytes(archsimd.LoadFloat32x4Array((*[4]float32)(s[4:8])))
		asFloats(a.LookupOrZero(el).Or(b.LookupOrZero(eh))).StoreArray((*[4]float32)(even[j : j+4]))
		asFloats(a.LookupOrZero(ol).Or(b.LookupOrZero(oh))).StoreArray((*[4]float32)(odd[j : j+4]))
	}
	winogradDeinterleaveScalar(src, even[j:], odd[j:])
}

// winogradInterleave writes dst[2k] = left[k] and dst[2k+1] = right[k]
// (dst's last value is left[len(dst)/2] when len(dst) is odd), or adds
// them to dst with accumulate, eight values at a time (matching
// winogradInterleaveScalar).
func winogradInterleave(dst, left, right []float32, accumulate bool) {
	l0, r0 := archsimd.LoadInt8x16Array(&swzZipLo0), archsimd.LoadInt8x16Array(&swzZipLo1)
	l1, r1 := archsimd.LoadInt8x16Array(&swzZipHi0), archsimd.LoadInt8x16Array(&swzZipHi1)
	k := 0
	for ; len(dst) >= 8; dst, k = dst[8:], k+4 {
		d := (*[8]float32)(dst)
		l := asBytes(archsimd.LoadFloat32x4Array((*[4]float32)(left[k : k+4])))
		r := asBytes(archsimd.LoadFloat32x4Array((*[4]float32)(right[k : k+4])))
		lo := asFloats(l.LookupOrZero(l0).Or(r.LookupOrZero(r0)))
		hi := asFloats(l.LookupOrZero(l1).Or(r.LookupOrZero(r1)))
		if accumulate {
			lo = lo.Add(archsimd.LoadFloat32x4Array((*[4]float32)(d[0:4])))
			hi = hi.Add(archsimd.LoadFloat32x4Array((*[4]float32)(d[4:8])))
		}
		lo.StoreArray((*[4]float32)(d[0:4]))
		hi.StoreArray((*[4]float32)(d[4:8]))
	}
	winogradInterleaveScalar(dst, left[k:], right[k:], accumulate)
}
