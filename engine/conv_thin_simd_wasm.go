//go:build goexperiment.simd && wasm

package engine

import "simd/archsimd"

// thinForward computes a stride-1, unpadded convolution with 3 output
// channels (the generator's last layer, 7×7 ngf → 3) directly, sixteen
// output pixels of all three channels at a time (thinForward16): y [3, oh,
// ow] = w [3, k] ⋆ x [c, h, w]. As a GEMM this layer has 3 rows, so
// packing the image's columns costs as much as the arithmetic (measured:
// under 4 GFLOP/s in the browser); here each input vector is loaded once
// for three channels and nothing is packed. It reports false, doing
// nothing, for other shapes or rows narrower than 16 (the generator's
// rows are the image's, 16 pixels or more).
func thinForward(g convGeometry, x, w, y []float32) bool {
	if g.o != 3 || g.stride != 1 || g.pad != 0 || g.ow < 16 {
		return false
	}
	k := g.k()
	// The weights broadcast to four lanes and interleaved, [k][3][4]: three
	// vector loads from one array per step instead of loads and splats.
	if cap(thinWeights) < 12*k {
		thinWeights = make([]float32, 12*k)
	}
	wb := thinWeights[:12*k]
	for o := range 3 {
		for i, v := range w[o*k : (o+1)*k] {
			archsimd.BroadcastFloat32x4(v).StoreArray((*[4]float32)(wb[12*i+4*o:]))
		}
	}
	plane := g.oh * g.ow
	y0, y1, y2 := y[:plane], y[plane:2*plane], y[2*plane:3*plane]
	for oy := 0; oy < g.oh; oy++ {
		for ox0 := 0; ox0 < g.ow; ox0 += 16 {
			ox := min(ox0, g.ow-16) // the last block may overlap the one before
			thinForward16(g, x, wb, oy, ox, y0, y1, y2)
		}
	}
	return true
}

// thinForward16 is thinForward's sums for the 16 output pixels of row oy
// from column ox, in twelve accumulators: each broadcast weight, loaded
// once, serves four vectors of pixels. Measured on the generator's 7×7
// 32→3 layer at 128 px (BenchmarkConv2D_7x7_32to3_128px/Forward, three
// runs alternating): 9.6, 6.2 and 7.7 GFLOP/s against 5.7, 3.8 and 4.6
// for eight pixels at a time in six accumulators (before ece9935).
func thinForward16(g convGeometry, x, wb []float32, oy, ox int, y0, y1, y2 []float32) {
	var a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3 archsimd.Float32x4
	p := 0
	for c := 0; c < g.c; c++ {
		for ky := 0; ky < g.kh; ky++ {
			row := x[(c*g.h+oy+ky)*g.w+ox:]
			for kx := 0; kx < g.kw; kx++ {
				v := (*[16]float32)(row[kx : kx+16])
				ws := (*[12]float32)(wb[p : p+12])
				x0 := archsimd.LoadFloat32x4Array((*[4]float32)(v[0:4]))
				x1 := archsimd.LoadFloat32x4Array((*[4]float32)(v[4:8]))
				x2 := archsimd.LoadFloat32x4Array((*[4]float32)(v[8:12]))
				x3 := archsimd.LoadFloat32x4Array((*[4]float32)(v[12:16]))
				wv := archsimd.LoadFloat32x4Array((*[4]float32)(ws[0:4]))
				a0, a1, a2, a3 = a0.Add(x0.Mul(wv)), a1.Add(x1.Mul(wv)), a2.Add(x2.Mul(wv)), a3.Add(x3.Mul(wv))
				wv = archsimd.LoadFloat32x4Array((*[4]float32)(ws[4:8]))
				b0, b1, b2, b3 = b0.Add(x0.Mul(wv)), b1.Add(x1.Mul(wv)), b2.Add(x2.Mul(wv)), b3.Add(x3.Mul(wv))
				wv = archsimd.LoadFloat32x4Array((*[4]float32)(ws[8:12]))
				c0, c1, c2, c3 = c0.Add(x0.Mul(wv)), c1.Add(x1.Mul(wv)), c2.Add(x2.Mul(wv)), c3.Add(x3.Mul(wv))
				p += 12
			}
		}
	}
	o := oy*g.ow + ox
	d0, d1, d2 := (*[16]float32)(y0[o:o+16]), (*[16]float32)(y1[o:o+16]), (*[16]float32)(y2[o:o+16])
	a0.StoreArray((*[4]float32)(d0[0:4]))
	a1.StoreArray((*[4]float32)(d0[4:8]))
	a2.StoreArray((*[4]float32)(d0[8:12]))
	a3.StoreArray((*[4]float32)(d0[12:16]))
	b0.StoreArray((*[4]float32)(d1[0:4]))
	b1.StoreArray((*[4]float32)(d1[4:8]))
	b2.StoreArray((*[4]float32)(d1[8:12]))
	b3.StoreArray((*[4]float32)(d1[12:16]))
	c0.StoreArray((*[4]float32)(d2[0:4]))
	c1.StoreArray((*[4]float32)(d2[4:8]))
	c2.StoreArray((*[4]float32)(d2[8:12]))
	c3.StoreArray((*[4]float32)(d2[12:16]))
}

// thinWeights is thinForward's broadcast weights, kept between calls (a
// WebAssembly instance has one thread, and thinForward does not yield).
var thinWeights []float32

// thinBackwardWeight adds to dw [3, c, kh, kw] the weight gradient of a
// stride-1, unpadded convolution with 3 output channels (see thinForward),
// directly: dw[o, c, ky, kx] += Σ_{oy,ox} dy[o, oy, ox] · x[c, oy+ky, ox+kx].
// As a GEMM each value of the transposed column matrix it packs serves only
// 3 multiply-adds (measured: about 4 GFLOP/s in the browser). Here the
// three channels' ∂y rows are loaded once for three adjacent kx, four
// output pixels at a time, into nine accumulators. It reports false, doing
// nothing, for other shapes or rows narrower than 4.
func thinBackwardWeight(g convGeometry, x, dy, dw []float32) bool {
	if g.o != 3 || g.stride != 1 || g.pad != 0 || g.ow < 4 {
		return false
	}
	plane, k := g.oh*g.ow, g.k()
	dy = dy[:3*plane]
	dw = dw[:3*k]
	for c := 0; c < g.c; c++ {
		for ky := 0; ky < g.kh; ky++ {
			at := (c*g.kh + ky) * g.kw // dw's offset of (c, ky, 0) in each channel
			kx := 0
			for ; kx+3 <= g.kw; kx += 3 {
				s := thinWeightBlock3(g, x, dy, c, ky, kx)
				for o := range 3 {
					for j := range 3 {
						dw[o*k+at+kx+j] += s[o][j]
					}
				}
			}
			for ; kx < g.kw; kx++ {
				s := thinWeightBlock1(g, x, dy, c, ky, kx)
				for o := range 3 {
					dw[o*k+at+kx] += s[o]
				}
			}
		}
	}
	return true
}

// thinWeightBlock3 is thinBackwardWeight's sums for one input channel c,
// kernel row ky and the three columns kx…kx+2, for each output channel.
func thinWeightBlock3(g convGeometry, x, dy []float32, c, ky, kx int) (s [3][3]float32) {
	plane, ow := g.oh*g.ow, g.ow
	var a00, a01, a02, a10, a11, a12, a20, a21, a22 archsimd.Float32x4
	for oy := 0; oy < g.oh; oy++ {
		// The row of x the window's column kx reads, with the 2 more
		// columns kx+1 and kx+2 read: ow+2 values.
		xr := x[(c*g.h+oy+ky)*g.w+kx:][: ow+2 : ow+2]
		e0, e1, e2 := thinGradientRows(dy, plane, oy, ow)
		ox := 0
		for ; ox+4 <= ow; ox += 4 {
			d0 := archsimd.LoadFloat32x4Array((*[4]float32)(e0[ox : ox+4]))
			d1 := archsimd.LoadFloat32x4Array((*[4]float32)(e1[ox : ox+4]))
			d2 := archsimd.LoadFloat32x4Array((*[4]float32)(e2[ox : ox+4]))
			v := (*[6]float32)(xr[ox : ox+6])
			x0 := archsimd.LoadFloat32x4Array((*[4]float32)(v[0:4]))
			a00, a10, a20 = a00.Add(d0.Mul(x0)), a10.Add(d1.Mul(x0)), a20.Add(d2.Mul(x0))
			x1 := archsimd.LoadFloat32x4Array((*[4]float32)(v[1:5]))
			a01, a11, a21 = a01.Add(d0.Mul(x1)), a11.Add(d1.Mul(x1)), a21.Add(d2.Mul(x1))
			x2 := archsimd.LoadFloat32x4Array((*[4]float32)(v[2:6]))
			a02, a12, a22 = a02.Add(d0.Mul(x2)), a12.Add(d1.Mul(x2)), a22.Add(d2.Mul(x2))
		}
		for ; ox < ow; ox++ { // the columns after the last whole vector
			for j := range 3 {
				xv := xr[ox+j]
				s[0][j] += e0[ox] * xv
				s[1][j] += e1[ox] * xv
				s[2][j] += e2[ox] * xv
			}
		}
	}
	for o, row := range [3][3]archsimd.Float32x4{{a00, a01, a02}, {a10, a11, a12}, {a20, a21, a22}} {
		for j, v := range row {
			s[o][j] += float32(fold(v))
		}
	}
	return s
}

// thinGradientRows is output row oy (ow values) of each of ∂y's three
// channel planes (plane values apart).
func thinGradientRows(dy []float32, plane, oy, ow int) (e0, e1, e2 []float32) {
	return dy[oy*ow:][:ow:ow], dy[plane+oy*ow:][:ow:ow], dy[2*plane+oy*ow:][:ow:ow]
}

// thinWeightBlock1 is thinWeightBlock3 for the single column kx.
func thinWeightBlock1(g convGeometry, x, dy []float32, c, ky, kx int) (s [3]float32) {
	plane, ow := g.oh*g.ow, g.ow
	var a0, a1, a2 archsimd.Float32x4
	for oy := 0; oy < g.oh; oy++ {
		xr := x[(c*g.h+oy+ky)*g.w+kx:][:ow:ow]
		e0, e1, e2 := thinGradientRows(dy, plane, oy, ow)
		ox := 0
		for ; ox+4 <= ow; ox += 4 {
			x0 := archsimd.LoadFloat32x4Array((*[4]float32)(xr[ox : ox+4]))
			a0 = a0.Add(archsimd.LoadFloat32x4Array((*[4]float32)(e0[ox : ox+4])).Mul(x0))
			a1 = a1.Add(archsimd.LoadFloat32x4Array((*[4]float32)(e1[ox : ox+4])).Mul(x0))
			a2 = a2.Add(archsimd.LoadFloat32x4Array((*[4]float32)(e2[ox : ox+4])).Mul(x0))
		}
		for ; ox < ow; ox++ {
			s[0] += e0[ox] * xr[ox]
			s[1] += e1[ox] * xr[ox]
			s[2] += e2[ox] * xr[ox]
		}
	}
	s[0] += float32(fold(a0))
	s[1] += float32(fold(a1))
	s[2] += float32(fold(a2))
	return s
}
