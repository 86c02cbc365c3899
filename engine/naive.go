package engine

// This file keeps the slow but obviously correct kernels that the fast ones
// are tested against. They are part of the package, not of the tests, so the
// reference stays next to the code it vouches for.

// gemmNaive is the triple loop that gemm must agree with.
func gemmNaive(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			if accumulate {
				c[i*ldc+j] += s
			} else {
				c[i*ldc+j] = s
			}
		}
	}
}

// conv2dNaive is Conv2D by its definition:
//
//	y[n,o,oy,ox] = b[o] + Σ_{c,ky,kx} x[n,c,oy·s−p+ky, ox·s−p+kx] · w[o,c,ky,kx]
//
// with x read as zero outside its bounds. It returns y and, given dy, the
// three gradients (dx, dw, db); dy may be nil for a forward pass only.
func conv2dNaive(x, w, b []float32, n, c, h, wd, o, kh, kw, stride, pad int, dy []float32) (y, dx, dw, db []float32) {
	oh := (h+2*pad-kh)/stride + 1
	ow := (wd+2*pad-kw)/stride + 1
	y = make([]float32, n*o*oh*ow)
	if dy != nil {
		dx = make([]float32, len(x))
		dw = make([]float32, len(w))
		db = make([]float32, o)
	}
	for in := 0; in < n; in++ {
		for io := 0; io < o; io++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					yi := ((in*o+io)*oh+oy)*ow + ox
					var s float32
					if b != nil {
						s = b[io]
					}
					var g float32
					if dy != nil {
						g = dy[yi]
						db[io] += g
					}
					for ic := 0; ic < c; ic++ {
						for ky := 0; ky < kh; ky++ {
							iy := oy*stride - pad + ky
							if iy < 0 || iy >= h {
								continue
							}
							for kx := 0; kx < kw; kx++ {
								ix := ox*stride - pad + kx
								if ix < 0 || ix >= wd {
									continue
								}
								xi := ((in*c+ic)*h+iy)*wd + ix
								wi := ((io*c+ic)*kh+ky)*kw + kx
								s += x[xi] * w[wi]
								if dy != nil {
									dx[xi] += g * w[wi]
									dw[wi] += g * x[xi]
								}
							}
						}
					}
					y[yi] = s
				}
			}
		}
	}
	return y, dx, dw, db
}

// convTranspose2dNaive is ConvTranspose2D by its definition: every input
// pixel scatters its kernel into the output,
//
//	y[n,o,iy·s−p+ky, ix·s−p+kx] += x[n,c,iy,ix] · w[c,o,ky,kx]
//
// (contributions falling outside y are dropped), plus the bias. It returns
// y and, given dy, the three gradients.
func convTranspose2dNaive(x, w, b []float32, n, c, h, wd, o, kh, kw, stride, pad, outPad int, dy []float32) (y, dx, dw, db []float32) {
	oh := (h-1)*stride - 2*pad + kh + outPad
	ow := (wd-1)*stride - 2*pad + kw + outPad
	y = make([]float32, n*o*oh*ow)
	if dy != nil {
		dx = make([]float32, len(x))
		dw = make([]float32, len(w))
		db = make([]float32, o)
	}
	for in := 0; in < n; in++ {
		for io := 0; io < o; io++ {
			for i := 0; i < oh*ow; i++ {
				yi := (in*o+io)*oh*ow + i
				if b != nil {
					y[yi] = b[io]
				}
				if dy != nil {
					db[io] += dy[yi]
				}
			}
		}
		for ic := 0; ic < c; ic++ {
			for iy := 0; iy < h; iy++ {
				for ix := 0; ix < wd; ix++ {
					xi := ((in*c+ic)*h+iy)*wd + ix
					for io := 0; io < o; io++ {
						for ky := 0; ky < kh; ky++ {
							oy := iy*stride - pad + ky
							if oy < 0 || oy >= oh {
								continue
							}
							for kx := 0; kx < kw; kx++ {
								ox := ix*stride - pad + kx
								if ox < 0 || ox >= ow {
									continue
								}
								yi := ((in*o+io)*oh+oy)*ow + ox
								wi := ((ic*o+io)*kh+ky)*kw + kx
								y[yi] += x[xi] * w[wi]
								if dy != nil {
									dx[xi] += dy[yi] * w[wi]
									dw[wi] += dy[yi] * x[xi]
								}
							}
						}
					}
				}
			}
		}
	}
	return y, dx, dw, db
}

// im2colNaive is im2col element by element.
func im2colNaive(x []float32, c, h, w, kh, kw, stride, pad, oh, ow int, col []float32) {
	for ic := 0; ic < c; ic++ {
		for ky := 0; ky < kh; ky++ {
			for kx := 0; kx < kw; kx++ {
				row := (ic*kh+ky)*kw + kx
				for oy := 0; oy < oh; oy++ {
					for ox := 0; ox < ow; ox++ {
						iy, ix := oy*stride-pad+ky, ox*stride-pad+kx
						var v float32
						if iy >= 0 && iy < h && ix >= 0 && ix < w {
							v = x[(ic*h+iy)*w+ix]
						}
						col[row*oh*ow+oy*ow+ox] = v
					}
				}
			}
		}
	}
}
