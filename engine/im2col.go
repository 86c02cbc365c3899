package engine

// The column matrix of a convolution g over one image x [c, h, w] is the
// (c·kh·kw) × (oh·ow) matrix
//
//	col[(c·kh+ky)·kw+kx, oy·ow+ox] = x[c, oy·s−p+ky, ox·s−p+kx]  (0 outside x)
//
// so that a convolution is one matrix product W[o, c·kh·kw] · col. It is
// never stored: the GEMM's packing reads it piece by piece (gemmB.im2col)
// through colRow and colSpan. The reference is im2colNaive.

// colRow writes col[q, j : j+len(dst)] of the image x into dst: row
// q = (c·kh+ky)·kw+kx of the column matrix from output pixel j on, across
// output rows.
func (g *convGeometry) colRow(x []float32, q, j int, dst []float32) {
	khw, hw := g.kh*g.kw, g.h*g.w
	ic, ky, kx := q/khw, q%khw/g.kw, q%g.kw
	lo, hi := validRange(kx, g.pad, g.stride, g.w, g.ow)
	g.colSpan(x[ic*hw:(ic+1)*hw], ky, kx, lo, hi, j/g.ow, j%g.ow, dst)
}

// colSpan writes into dst the values of the column matrix for kernel offset
// (ky, kx) of one channel's plane, from output pixel (oy, ox) on, across
// output rows; [lo, hi) is validRange(kx, …), the output columns that read
// inside the plane.
func (g *convGeometry) colSpan(plane []float32, ky, kx, lo, hi, oy, ox int, dst []float32) {
	for len(dst) > 0 {
		seg := dst[:min(len(dst), g.ow-ox)]
		dst = dst[len(seg):]
		iy := oy*g.stride - g.pad + ky
		// Output columns [a, b) of this row read inside the plane.
		a, b := max(lo, ox), min(hi, ox+len(seg))
		if iy < 0 || iy >= g.h || a >= b {
			clear(seg)
		} else {
			// clear is a call; most rows have nothing to clear.
			if a > ox {
				clear(seg[:a-ox])
			}
			if b-ox < len(seg) {
				clear(seg[b-ox:])
			}
			src := plane[iy*g.w : (iy+1)*g.w]
			ix := a*g.stride - g.pad + kx
			if g.stride == 1 {
				copy(seg[a-ox:b-ox], src[ix:])
			} else {
				for t := a - ox; t < b-ox; t++ {
					seg[t] = src[ix]
					ix += g.stride
				}
			}
		}
		oy, ox = oy+1, 0
	}
}

// col2im is the adjoint of the column matrix: it adds every entry of a
// stored col back onto the pixel of x it was read from (entries that came from the zero padding are
// dropped). x is accumulated into, not overwritten.
func col2im(col []float32, c, h, w, kh, kw, stride, pad, oh, ow int, x []float32) {
	for ic := 0; ic < c; ic++ {
		plane := x[ic*h*w : (ic+1)*h*w]
		for ky := 0; ky < kh; ky++ {
			for kx := 0; kx < kw; kx++ {
				row := col[((ic*kh+ky)*kw+kx)*oh*ow:][:oh*ow]
				lo, hi := validRange(kx, pad, stride, w, ow)
				if lo >= hi {
					continue
				}
				for oy := 0; oy < oh; oy++ {
					iy := oy*stride - pad + ky
					if iy < 0 || iy >= h {
						continue
					}
					src := row[oy*ow+lo : oy*ow+hi]
					dst := plane[iy*w : (iy+1)*w]
					ix := lo*stride - pad + kx
					if stride == 1 {
						dst = dst[ix : ix+len(src)]
						for i, v := range src {
							dst[i] += v
						}
						continue
					}
					for _, v := range src {
						dst[ix] += v
						ix += stride
					}
				}
			}
		}
	}
}

// validRange returns the output columns [lo, hi) whose input column
// ox·stride − pad + k lies inside [0, w).
func validRange(k, pad, stride, w, ow int) (lo, hi int) {
	// ox·s − p + k ≥ 0  ⇔  ox ≥ ceil((p − k) / s)
	lo = 0
	if d := pad - k; d > 0 {
		lo = (d + stride - 1) / stride
	}
	// ox·s − p + k ≤ w − 1  ⇔  ox ≤ floor((w − 1 + p − k) / s)
	hi = ow
	if d := w - 1 + pad - k; d < 0 {
		hi = 0
	} else if m := d/stride + 1; m < hi {
		hi = m
	}
	if lo > hi {
		lo = hi
	}
	return lo, hi
}
