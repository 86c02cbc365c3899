//go:build goexperiment.simd && wasm

package engine

import "simd/archsimd"

// thinForward computes a stride-1, unpadded convolution with 3 output
// channels (the generator's last layer, 7×7 ngf → 3) directly, eight
// output pixels of all three channels at a time: y [3, oh, ow] += w [3, k]
// ⋆ x [c, h, w]. As a GEMM this layer has 3 rows, so packing the image's
// columns costs as much as the arithmetic (measured: under 4 GFLOP/s in the
// browser); here each input vector is loaded once for three channels and
// nothing is packed. It reports false, doing nothing, for other shapes or
// rows narrower than 8.
func thinForward(g convGeometry, x, w, y []float32) bool {
	if g.o != 3 || g.stride != 1 || g.pad != 0 || g.ow < 8 {
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
		for ox0 := 0; ox0 < g.ow; ox0 += 8 {
			ox := min(ox0, g.ow-8) // the last block overlaps the one before
			var a0, a1, b0, b1, c0, c1 archsimd.Float32x4
			p := 0
			for c := 0; c < g.c; c++ {
				for ky := 0; ky < g.kh; ky++ {
					row := x[(c*g.h+oy+ky)*g.w+ox:]
					for kx := 0; kx < g.kw; kx++ {
						v := (*[8]float32)(row[kx : kx+8])
						lo := archsimd.LoadFloat32x4Array((*[4]float32)(v[0:4]))
						hi := archsimd.LoadFloat32x4Array((*[4]float32)(v[4:8]))
						ws := (*[12]float32)(wb[p : p+12])
						wv := archsimd.LoadFloat32x4Array((*[4]float32)(ws[0:4]))
						a0, a1 = a0.Add(lo.Mul(wv)), a1.Add(hi.Mul(wv))
						wv = archsimd.LoadFloat32x4Array((*[4]float32)(ws[4:8]))
						b0, b1 = b0.Add(lo.Mul(wv)), b1.Add(hi.Mul(wv))
						wv = archsimd.LoadFloat32x4Array((*[4]float32)(ws[8:12]))
						c0, c1 = c0.Add(lo.Mul(wv)), c1.Add(hi.Mul(wv))
						p += 12
					}
				}
			}
			o := oy*g.ow + ox
			a0.StoreArray((*[4]float32)(y0[o : o+4]))
			a1.StoreArray((*[4]float32)(y0[o+4 : o+8]))
			b0.StoreArray((*[4]float32)(y1[o : o+4]))
			b1.StoreArray((*[4]float32)(y1[o+4 : o+8]))
			c0.StoreArray((*[4]float32)(y2[o : o+4]))
			c1.StoreArray((*[4]float32)(y2[o+4 : o+8]))
		}
	}
	return true
}

// thinWeights is thinForward's broadcast weights, kept between calls (a
// WebAssembly instance has one thread, and thinForward does not yield).
var thinWeights []float32
