package engine

// im2col lays out the receptive fields of a convolution over one image
// x [C, H, W] as the columns of col, a (C·KH·KW) × (OH·OW) row-major matrix:
//
//	col[(c·KH+ky)·KW+kx, oy·OW+ox] = x[c, oy·s−p+ky, ox·s−p+kx]  (0 outside x)
//
// so that a convolution becomes one matrix product W[O, C·KH·KW] · col.
// The reference is im2colNaive.
func im2col(x []float32, c, h, w, kh, kw, stride, pad, oh, ow int, col []float32) {
	for ic := 0; ic < c; ic++ {
		plane := x[ic*h*w : (ic+1)*h*w]
		for ky := 0; ky < kh; ky++ {
			for kx := 0; kx < kw; kx++ {
				row := col[((ic*kh+ky)*kw+kx)*oh*ow:][:oh*ow]
				lo, hi := validRange(kx, pad, stride, w, ow)
				for oy := 0; oy < oh; oy++ {
					dst := row[oy*ow : (oy+1)*ow]
					iy := oy*stride - pad + ky
					if iy < 0 || iy >= h || lo >= hi {
						clear(dst)
						continue
					}
					clear(dst[:lo])
					clear(dst[hi:])
					src := plane[iy*w : (iy+1)*w]
					if stride == 1 {
						copy(dst[lo:hi], src[lo-pad+kx:])
						continue
					}
					ix := lo*stride - pad + kx
					for ox := lo; ox < hi; ox++ {
						dst[ox] = src[ix]
						ix += stride
					}
				}
			}
		}
	}
}

// col2im is the adjoint of im2col: it adds every entry of col back onto the
// pixel of x it was read from (entries that came from the zero padding are
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
