//go:build goexperiment.simd && wasm

package engine

// The browser's elementwise sums: one rounding per element like the scalar
// loops, so bit for bit the same results, four lanes at a time.

// add writes y = a + b, as addScalar.
func add(y, a, b []float32) {
	a, b = a[:len(y)], b[:len(y)]
	for len(y) >= 16 && len(a) >= 16 && len(b) >= 16 {
		yp, ap, bp := (*[16]float32)(y), (*[16]float32)(a), (*[16]float32)(b)
		st4(ld4(ap[0:4]).Add(ld4(bp[0:4])), yp[0:4])
		st4(ld4(ap[4:8]).Add(ld4(bp[4:8])), yp[4:8])
		st4(ld4(ap[8:12]).Add(ld4(bp[8:12])), yp[8:12])
		st4(ld4(ap[12:16]).Add(ld4(bp[12:16])), yp[12:16])
		y, a, b = y[16:], a[16:], b[16:]
	}
	addScalar(y, a, b)
}

// addTo adds src to dst, as addToScalar.
func addTo(dst, src []float32) {
	src = src[:len(dst)]
	for len(dst) >= 16 && len(src) >= 16 {
		dp, sp := (*[16]float32)(dst), (*[16]float32)(src)
		st4(ld4(dp[0:4]).Add(ld4(sp[0:4])), dp[0:4])
		st4(ld4(dp[4:8]).Add(ld4(sp[4:8])), dp[4:8])
		st4(ld4(dp[8:12]).Add(ld4(sp[8:12])), dp[8:12])
		st4(ld4(dp[12:16]).Add(ld4(sp[12:16])), dp[12:16])
		dst, src = dst[16:], src[16:]
	}
	addToScalar(dst, src)
}
