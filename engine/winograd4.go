package engine

// Winograd's F(4×4, 3×3) computes a 3×3, stride-1 convolution in 4×4 output
// tiles, each from a 6×6 input tile d (stride 4, overlapping by 2), with 36
// multiplications per tile and channel pair where the direct sum takes 144
// and F(2×2, 3×3) (winograd.go) 64:
//
//	V = Bᵀ d B     U = G g Gᵀ     Y = Aᵀ (Σ_c U ⊙ V) A
//
//	     ⎡4  0 −5  0  1  0⎤        ⎡ ¼     0    0 ⎤
//	     ⎢0 −4 −4  1  1  0⎥        ⎢−⅙   −⅙   −⅙ ⎥        ⎡1  1  1  1  1  0⎤
//	Bᵀ = ⎢0  4 −4 −1  1  0⎥    G = ⎢−⅙    ⅙   −⅙ ⎥   Aᵀ = ⎢0  1 −1  2 −2  0⎥
//	     ⎢0 −2 −1  2  1  0⎥        ⎢1/24 1/12  ⅙ ⎥        ⎢0  1  1  4  4  0⎥
//	     ⎢0  2 −1 −2  1  0⎥        ⎢1/24 −1/12 ⅙ ⎥        ⎣0  1 −1  8 −8  1⎦
//	     ⎣0  4  0 −5  0  1⎦        ⎣ 0     0    1 ⎦
//
// (Lavin & Gray, 2015, with the points 0, ±1, ±2). As in F(2×2, 3×3) the
// products over all channels and tiles are independent matrix products, 36
// of them, one per position ξ = 6i+j of the transformed tile:
//
//	V [36][c][T]   transformed input tiles (T = ⌈oh/4⌉·⌈ow/4⌉ tiles)
//	U [36][o][c]   transformed weights
//	M [36][o][T]   M[ξ] = U[ξ] · V[ξ]
//
// The GEMMs do 36·o·c·T multiply-adds, 1/4 of the direct 9·o·c·oh·ow against
// F(2×2, 3×3)'s 4/9, and their operands are smaller too (2.25 transformed
// values an output pixel against 4), so V and M cost less memory traffic;
// the transforms do more arithmetic a tile. The price is accuracy: the
// transformed values grow with the points' powers (up to 8 in Aᵀ), so the
// rounding error bound is about 36 times F(2×2, 3×3)'s (winograd4Bound).
//
// The input gradient is the convolution of ∂y with the weight flipped and
// transposed (winogradGradient). G's rows are not a permutation of their
// own mirror images here (row 0 is ¼ g₀, row 5 is g₂), so the flipped
// weight gets its own transform (winograd4Weights with flip), written
// straight into the transposed layout; it costs 36·o·c values against the
// GEMMs' 36·o·c·T multiply-adds. The weight gradient keeps F(2×2, 3×3)
// (winogradBackwardWeight), whose adjoint is one transform pair fewer.
//
// The input is split into four phase planes (winograd4Plane), columns 4k+r
// in plane r, so that four adjacent tiles' values at one position of the
// tile are four adjacent floats and the tile transforms run on vectors of
// four tiles (winograd4_simd_wasm.go).

// winograd4 reports whether g's forward pass runs as F(4×4, 3×3): a 3×3
// kernel with stride 1, in a build whose tile transforms are vectors
// (winograd4Enabled), with enough channels and output that the GEMMs'
// savings pay for the larger transforms (winograd4MinChannels,
// winograd4MinSize).
func (g convGeometry) winograd4() bool {
	return winograd4Enabled && g.kh == 3 && g.kw == 3 && g.stride == 1 &&
		g.c >= winograd4MinChannels && g.o >= winograd4MinChannels &&
		g.oh >= winograd4MinSize && g.ow >= winograd4MinSize
}

// winograd4MinChannels, winograd4MinSize: where F(4×4, 3×3) beats
// F(2×2, 3×3) in the browser. Measured (BenchmarkConv2DWinogradVsGEMM,
// direct-equivalent GFLOP/s, medians of three side by side, forward /
// input gradient, F(4×4, 3×3) against F(2×2, 3×3)): 256→256 at 64 px
// (the reference generator's residual blocks at 256 px) 37.3 / 43.1
// against 24.0 / 27.5; 128→128 at 64 px 30.8 / 28.6 against 21.8 / 21.7;
// 64→64 at 32 px 16.5 / 15.9 against 14.8 / 16.1; 128→128 at 32 px
// 22.1 / 20.9 against 21.3 / 20.5, a tie; but 128→128 at 16 px 12.5 /
// 12.2 against 16.6 / 15.0, and 64→64 at 16 px 5.6 / 6.2 against 11.4 /
// 11.6: at 16×16 there are 16 tiles, too few columns for the GEMMs to
// run at speed against the transforms and the packing of U. On the
// generator's own geometry (the _pad0 rows: input reflection-padded,
// padding 0, so that the input gradient's output is 34×34, 9×9 tiles, 81
// GEMM columns where 80 would fill ten micro-panels) 128→128 at 32 px
// still ties: 22.2 / 15.9 against 21.7 / 17.2 (medians of five alternating
// runs, single runs ±15%); at 64 px F(4×4, 3×3) wins, 26.8 / 23.7 against
// 21.4 / 18.5.
const (
	winograd4MinChannels = 64
	winograd4MinSize     = 32
)

// winograd4Input reports whether g's input gradient runs as F(4×4, 3×3):
// its gradient convolution (winogradGradient) does.
func (g convGeometry) winograd4Input() bool {
	return g.kh == 3 && g.kw == 3 && g.stride == 1 && g.pad <= 2 && g.winogradGradient().winograd4()
}

// winograd4Forward sets y [o, oh, ow] to the convolution of x [c, h, w] with
// w [o, c, 3, 3], plus bias [o] if non-nil, as F(4×4, 3×3). g must be 3×3
// with stride 1.
func (g convGeometry) winograd4Forward(x, w, bias, y []float32) {
	if g.kh != 3 || g.kw != 3 || g.stride != 1 {
		panic("engine: Winograd F(4×4, 3×3) of a kernel other than 3×3 stride 1")
	}
	g.winograd4Run(w, false, x, bias, y, false)
}

// winograd4BackwardInput adds to dx [c, h, w] the input gradient of g for
// the output gradient dy [o, oh, ow] and weight w [o, c, 3, 3]: the
// convolution winogradGradient of dy with w flipped and transposed, as
// F(4×4, 3×3).
func (g convGeometry) winograd4BackwardInput(w, dy, dx []float32) {
	if g.kh != 3 || g.kw != 3 || g.stride != 1 || g.pad > 2 {
		panic("engine: Winograd F(4×4, 3×3) input gradient of a kernel other than 3×3 stride 1, padding ≤ 2")
	}
	g.winogradGradient().winograd4Run(w, true, dy, nil, dx, true)
}

// winograd4Run is the F(4×4, 3×3) convolution g of x [c, h, w] into y
// [o, oh, ow] with the weight w: w [o, c, 3, 3] itself, or with flip the
// weight [c, o, 3, 3] that g's weight is the flipped transpose of (g being
// an input gradient's convolution, winogradGradient). bias [o] may be nil;
// accumulate adds to y rather than overwriting it.
func (g convGeometry) winograd4Run(w []float32, flip bool, x, bias, y []float32, accumulate bool) {
	l := g.winograd4Layout()
	s := winogradScratches.get()
	scratch := s.floats(l.scratchLen())
	if flip {
		winograd4Weights(w, g.c, g.o, true, scratch[:36*l.us], l.us) // U [36][g.o][g.c] of w [g.c, g.o, 3, 3]
	} else {
		winograd4Weights(w, g.o, g.c, false, scratch[:36*l.us], l.us)
	}
	t := l.t
	u, v, m, plane, tmp := l.parts(scratch)
	for c := 0; c < g.c; c++ {
		winograd4Plane(x[c*g.h*g.w:][:g.h*g.w], g.h, g.w, g.pad, l.th, l.ld, plane, c > 0)
		winograd4InputTiles(plane, l.ld, l.th, l.tw, v[c*t:], l.vs, tmp)
	}
	// The GEMM packs each U[ξ] itself, into a block that stays in cache.
	// Written by the weight transform straight into the packed layout
	// instead, U is four times larger in the browser (each value broadcast
	// to four lanes: 9.4 MB at 128 channels) and goes out to memory and
	// back: in profiles of both passes at 128 channels and 32 px that
	// transform took 1.8 times as long as the plain transform and the
	// packing together (each profile scaled by its micro-kernel's time).
	for xi := 0; xi < 36; xi++ {
		gemmOperands(gemmA{a: u[xi*l.us:][:g.o*g.c], ld: g.c}, gemmB{b: v[xi*l.vs:][:g.c*t], ld: t},
			g.o, t, g.c, m[xi*l.ms:][:g.o*t], t, false)
	}
	for o := 0; o < g.o; o++ {
		var b float32
		if bias != nil {
			b = bias[o]
		}
		winograd4OutputTiles(m[o*t:], l.ms, l.th, l.tw, b, tmp, y[o*g.oh*g.ow:][:g.oh*g.ow], g.ow, accumulate)
	}
	winogradScratches.put(s)
}

// winograd4Plane writes the image x [h, w], zero-padded by pad on the top
// and left (and by as much as the tiles read on the bottom and right), as
// four phase planes of 4·th+2 rows of ld floats,
//
//	plane[(r·(4·th+2) + py)·ld + k] = xpad[py, 4k+r]
//
// with xpad[py, px] = x[py−pad, px−pad], zero outside x. Input tile tx reads
// columns 4tx…4tx+5: phases 0…3 at k = tx, then phases 0 and 1 at tx+1.
// With zeroed, plane already holds a plane of an image of the same size
// and padding, whose zeros need not be written again: the rows outside x
// and the groups of columns wholly past it (a convolution's channels
// after the first; the clearing took a third of the time).
func winograd4Plane(x []float32, h, w, pad, th, ld int, plane []float32, zeroed bool) {
	hp := 4*th + 2
	plane = plane[:4*hp*ld]
	for py := 0; py < hp; py++ {
		p0, p1 := plane[py*ld:][:ld], plane[(hp+py)*ld:][:ld]
		p2, p3 := plane[(2*hp+py)*ld:][:ld], plane[(3*hp+py)*ld:][:ld]
		iy := py - pad
		if iy < 0 || iy >= h {
			if !zeroed {
				clear(p0)
				clear(p1)
				clear(p2)
				clear(p3)
			}
			continue
		}
		row := x[iy*w:][:w]
		// Whole groups of four columns of xpad that lie inside x go
		// straight across; the groups at the edges, with the padding, one
		// value at a time; the groups past x are zero.
		k0 := (pad + 3) / 4      // the first k whose four columns are all in x
		k1 := max(k0, (w+pad)/4) // the first k past them
		for k := 0; k < k0; k++ {
			winograd4PlaneEdge(row, pad, k, p0, p1, p2, p3)
		}
		if k1 > k0 {
			src := row[4*k0-pad : 4*k1-pad]
			q0, q1, q2, q3 := p0[k0:k1], p1[k0:k1], p2[k0:k1], p3[k0:k1]
			q1, q2, q3 = q1[:len(q0)], q2[:len(q0)], q3[:len(q0)]
			for j := range q0 {
				q := (*[4]float32)(src[4*j:])
				q0[j], q1[j], q2[j], q3[j] = q[0], q[1], q[2], q[3]
			}
		}
		end := k1
		if 4*k1-pad < w { // a last group partly in x
			winograd4PlaneEdge(row, pad, k1, p0, p1, p2, p3)
			end++
		}
		if !zeroed {
			clear(p0[end:])
			clear(p1[end:])
			clear(p2[end:])
			clear(p3[end:])
		}
	}
}

// winograd4PlaneEdge writes column group k of winograd4Plane's row one
// value at a time, zero outside row.
func winograd4PlaneEdge(row []float32, pad, k int, p0, p1, p2, p3 []float32) {
	var q [4]float32
	for r := range q {
		if ix := 4*k + r - pad; ix >= 0 && ix < len(row) {
			q[r] = row[ix]
		}
	}
	p0[k], p1[k], p2[k], p3[k] = q[0], q[1], q[2], q[3]
}

// winograd4Bt is Bᵀ applied to one column (or row) z of a tile. The vector
// kernel (winograd4BtVec) runs the same operations in the same order, so
// the two agree bit for bit.
func winograd4Bt(z0, z1, z2, z3, z4, z5 float32) [6]float32 {
	a, b := z4-z2, 2*(z3-z1)
	return [6]float32{
		4*z0 - 5*z2 + z4,
		(z3 + z4) - 4*(z1+z2),
		(z4 - z3) + 4*(z1-z2),
		a + b,
		a - b,
		4*z1 - 5*z3 + z5,
	}
}

// winograd4At is Aᵀ applied to one column (or row) m of a tile (the vector
// kernel, winograd4AtVec, runs the same operations in the same order).
func winograd4At(m0, m1, m2, m3, m4, m5 float32) [4]float32 {
	a, b := m1+m2, m1-m2
	c, d := m3+m4, m3-m4
	return [4]float32{m0 + a + c, b + 2*d, a + 4*c, b + 8*d + m5}
}

// winograd4G is G applied to one column (or row) (a, b, c) of a 3×3
// kernel. Rows 3 and 4 share a/24 + c/6.
func winograd4G(a, b, c float32) (r0, r1, r2, r3, r4, r5 float32) {
	s := a + c
	e, f := a*(1.0/24)+c*(1.0/6), b*(1.0/12)
	return a * 0.25, (s + b) * (-1.0 / 6), (s - b) * (-1.0 / 6), e + f, e - f, c
}

// winograd4WeightsScalar writes U = G g Gᵀ for every 3×3 kernel g of w
// [o, c, 3, 3], the 36 matrices us apart in u: U [36][o][c], or with flip
// the transform of the kernel flipped in space, transposed, [36][c][o]
// (the weight of the input gradient's convolution), for the destinations
// i0 ≤ i < o·c. It is winograd4Weights outside the browser's SIMD build,
// and its reference there (bit for bit). It is written out so that it
// costs little beside the GEMMs: the 36 matrices sliced once into locals
// and the destination running in order (flip permutes the source), so
// that no store needs a bounds check. (With the matrices in an array of
// slices, 128×128 kernels took 5.8 ms in the browser; so, 1.5 ms; four at
// a time in vectors, winograd4Weights, 0.6 ms.)
func winograd4WeightsScalar(w []float32, o, c int, flip bool, u []float32, us, i0 int) {
	oc := o * c
	w = w[:9*oc]
	u0, u1, u2, u3, u4, u5 := u[:oc], u[1*us:][:oc], u[2*us:][:oc], u[3*us:][:oc], u[4*us:][:oc], u[5*us:][:oc]
	u6, u7, u8, u9, u10, u11 := u[6*us:][:oc], u[7*us:][:oc], u[8*us:][:oc], u[9*us:][:oc], u[10*us:][:oc], u[11*us:][:oc]
	u12, u13, u14, u15, u16, u17 := u[12*us:][:oc], u[13*us:][:oc], u[14*us:][:oc], u[15*us:][:oc], u[16*us:][:oc], u[17*us:][:oc]
	u18, u19, u20, u21, u22, u23 := u[18*us:][:oc], u[19*us:][:oc], u[20*us:][:oc], u[21*us:][:oc], u[22*us:][:oc], u[23*us:][:oc]
	u24, u25, u26, u27, u28, u29 := u[24*us:][:oc], u[25*us:][:oc], u[26*us:][:oc], u[27*us:][:oc], u[28*us:][:oc], u[29*us:][:oc]
	u30, u31, u32, u33, u34, u35 := u[30*us:][:oc], u[31*us:][:oc], u[32*us:][:oc], u[33*us:][:oc], u[34*us:][:oc], u[35*us:][:oc]
	for i := i0; i < oc; i++ {
		src := i // the kernel of destination i: (o, c) = (i/c, i%c), or with flip (i%o, i/o)
		if flip {
			src = (i%o)*c + i/o
		}
		g := (*[9]float32)(w[9*src:])
		g0, g1, g2, g3, g4, g5, g6, g7, g8 := g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8]
		if flip {
			g0, g1, g2, g3, g5, g6, g7, g8 = g8, g7, g6, g5, g3, g2, g1, g0
		}
		// G g, column by column (six rows a, b, d of three), then
		// (G g) Gᵀ row by row.
		a0, a1, a2, a3, a4, a5 := winograd4G(g0, g3, g6)
		b0, b1, b2, b3, b4, b5 := winograd4G(g1, g4, g7)
		d0, d1, d2, d3, d4, d5 := winograd4G(g2, g5, g8)
		u0[i], u1[i], u2[i], u3[i], u4[i], u5[i] = winograd4G(a0, b0, d0)
		u6[i], u7[i], u8[i], u9[i], u10[i], u11[i] = winograd4G(a1, b1, d1)
		u12[i], u13[i], u14[i], u15[i], u16[i], u17[i] = winograd4G(a2, b2, d2)
		u18[i], u19[i], u20[i], u21[i], u22[i], u23[i] = winograd4G(a3, b3, d3)
		u24[i], u25[i], u26[i], u27[i], u28[i], u29[i] = winograd4G(a4, b4, d4)
		u30[i], u31[i], u32[i], u33[i], u34[i], u35[i] = winograd4G(a5, b5, d5)
	}
}

// winograd4InputTilesScalar writes V[ξ][ty·tw+tx] = (Bᵀ d B)[ξ] at
// v[ξ·vs + ty·tw + tx] for every tile d of one channel's phase planes
// (winograd4Plane), one tile at a time: the portable kernel, and the
// reference the vector one is held to (bit for bit: both take Bᵀ d column
// by column first, then (Bᵀ d) B row by row).
func winograd4InputTilesScalar(plane []float32, ld, th, tw int, v []float32, vs int) {
	hp := 4*th + 2
	for ty := 0; ty < th; ty++ {
		for tx := 0; tx < tw; tx++ {
			var r [6][6]float32 // Bᵀ d
			for j := 0; j < 6; j++ {
				col := plane[((j&3)*hp+4*ty)*ld+tx+j>>2:]
				c := winograd4Bt(col[0], col[ld], col[2*ld], col[3*ld], col[4*ld], col[5*ld])
				for i := range c {
					r[i][j] = c[i]
				}
			}
			at := ty*tw + tx
			for i := 0; i < 6; i++ {
				c := winograd4Bt(r[i][0], r[i][1], r[i][2], r[i][3], r[i][4], r[i][5])
				for j := range c {
					v[(6*i+j)*vs+at] = c[j]
				}
			}
		}
	}
}

// winograd4OutputTilesScalar writes (or adds, with accumulate) the output
// plane y [oh, ow] of one channel, the tiles Aᵀ M A + b for M[ξ][ty·tw+tx]
// at m[ξ·ms + ty·tw + tx], one tile at a time: the portable kernel and the
// vector one's reference (bit for bit: Aᵀ M column by column, then
// (Aᵀ M) A row by row, then the bias). rows is scratch for 16·tw floats.
func winograd4OutputTilesScalar(m []float32, ms, th, tw int, b float32, rows, y []float32, ow int, accumulate bool) {
	oh := len(y) / ow
	rows = rows[:16*tw]
	for ty := 0; ty < th; ty++ {
		for tx := 0; tx < tw; tx++ {
			at := ty*tw + tx
			var s [4][6]float32 // Aᵀ M
			for j := 0; j < 6; j++ {
				c := winograd4At(m[j*ms+at], m[(6+j)*ms+at], m[(12+j)*ms+at], m[(18+j)*ms+at], m[(24+j)*ms+at], m[(30+j)*ms+at])
				for i := range c {
					s[i][j] = c[i]
				}
			}
			for i := 0; i < 4; i++ {
				c := winograd4At(s[i][0], s[i][1], s[i][2], s[i][3], s[i][4], s[i][5])
				for j := range c {
					rows[(4*i+j)*tw+tx] = c[j] + b
				}
			}
		}
		winograd4StoreRows(rows, tw, y[4*ty*ow:], ow, min(4, oh-4*ty), accumulate)
	}
}

// winograd4StoreRows writes n (1 to 4) rows of 4×4 output tiles to y, whose
// rows are ow apart: rows holds [16][tw], value (i, j) of every tile of
// the row at rows[(4i+j)·tw + tx], which goes to y's row i, column 4tx+j
// (columns past ow are dropped). With accumulate it adds to y.
func winograd4StoreRows(rows []float32, tw int, y []float32, ow, n int, accumulate bool) {
	for i := 0; i < n; i++ {
		dst := y[i*ow:][:ow]
		r0, r1 := rows[4*i*tw:][:tw], rows[(4*i+1)*tw:][:tw]
		r2, r3 := rows[(4*i+2)*tw:][:tw], rows[(4*i+3)*tw:][:tw]
		whole := ow / 4
		if accumulate {
			for tx := 0; tx < whole; tx++ {
				d := (*[4]float32)(dst[4*tx:])
				d[0] += r0[tx]
				d[1] += r1[tx]
				d[2] += r2[tx]
				d[3] += r3[tx]
			}
		} else {
			for tx := 0; tx < whole; tx++ {
				d := (*[4]float32)(dst[4*tx:])
				d[0], d[1], d[2], d[3] = r0[tx], r1[tx], r2[tx], r3[tx]
			}
		}
		for x := 4 * whole; x < ow; x++ { // a partial last tile
			v := [4][]float32{r0, r1, r2, r3}[x&3][whole]
			if accumulate {
				dst[x] += v
			} else {
				dst[x] = v
			}
		}
	}
}
