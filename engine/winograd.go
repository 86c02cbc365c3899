package engine

// Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms
// for Convolutional Neural Networks", 2015) computes a 3×3, stride-1
// convolution in 2×2 output tiles, each from a 4×4 input tile d (stride 2,
// overlapping by 2), with 16 multiplications per tile and channel pair
// where the direct sum takes 36:
//
//	V = Bᵀ d B     U = G g Gᵀ     Y = Aᵀ (Σ_c U ⊙ V) A
//
//	     ⎡1  0 −1  0⎤        ⎡1    0    0⎤
//	Bᵀ = ⎢0  1  1  0⎥    G = ⎢½    ½    ½⎥    Aᵀ = ⎡1  1  1  0⎤
//	     ⎢0 −1  1  0⎥        ⎢½   −½    ½⎥         ⎣0  1 −1 −1⎦
//	     ⎣0  1  0 −1⎦        ⎣0    0    1⎦
//
// Over all channels and tiles the element-wise products become 16
// independent matrix products, one per position ξ = 4i+j of the 4×4
// transformed tile:
//
//	V [16][c][T]   transformed input tiles (T = ⌈oh/2⌉·⌈ow/2⌉ tiles)
//	U [16][o][c]   transformed weights
//	M [16][o][T]   M[ξ] = U[ξ] · V[ξ], a plain row-major GEMM
//
// after which the output transform Aᵀ M A gives each 2×2 output tile. The
// GEMMs do 16·o·c·T multiply-adds, 4/9 of the direct 9·o·c·oh·ow, and are
// the existing packed GEMM; the transforms are additions only, linear in
// the size of the images (see winogradInputTiles, winogradOutputTiles).
// The arithmetic differs from direct summation by rounding only (see
// winograd_test.go for how much).
//
// The input gradient of a stride-1 3×3 convolution is itself a 3×3
// convolution, of ∂y zero-padded by 2−p with the weight flipped in space and
// transposed in its channels (see fullConvolution). Flipping g swaps rows 0
// and 3 and columns 0 and 3 of G g Gᵀ and leaves the rest (G's middle rows
// are palindromes, its first and last each other's mirror), so the input
// gradient reuses the forward's weight transform with the positions
// permuted (winogradFlip) and the channel transpose folded into the GEMM
// (a transposed A).
//
// The weight gradient is the adjoint of the forward's map from g to Y:
// for every 2×2 tile of ∂y, ⟨∂Y, Aᵀ Z A⟩ = ⟨A ∂Y Aᵀ, Z⟩, so
//
//	∂g[o, c] = Gᵀ (Σ_T (A ∂Y_T Aᵀ)[o] ⊙ V_T[c]) G
//
// with V the forward's input transform. Over all channels and tiles the
// sum is again 16 matrix products, now over the tiles:
//
//	V [16][c][T]   transformed input tiles, as in the forward pass
//	W [16][o][T]   W[ξ] = (A ∂Y Aᵀ)[ξ], the transformed ∂y tiles
//	M [16][o][c]   M[ξ] = W[ξ] · V[ξ]ᵀ (k = T)
//
// and the weight transform Gᵀ M G turns each 4×4 M into a 3×3 gradient:
// 16·o·c·T multiply-adds, 4/9 of the GEMM's 9·o·c·oh·ow as before
// (winogradBackwardWeight).

// winogradMinChannels, winogradMinSize: below these the transforms, linear
// in the images, are not paid back by the GEMMs' savings, and the 16 GEMMs
// (k = c, n = tiles) are too small to run at speed. Measured in the
// browser (BenchmarkConv2DWinogradVsGEMM, medians of three runs of
// direct-equivalent GFLOP/s, forward / input gradient, Winograd against
// the im2col GEMM): 8→8 at 32 px 4.9 / 5.2 against 5.0 / 6.1; 32→32 at
// 8 px 6.9 / 6.2 against 6.4 / 6.0; 16→16 at 16 px 9.1 / 8.7 against
// 8.9 / 6.4; 16→16 at 32 px 13.0 / 10.3 against 7.5 / 9.9; 32→32 at
// 16 px 13.9 / 11.8 against 9.5 / 9.0; 128→128 at 16 px 21.0 / 18.4
// against 12.0 / 10.3. (64→64 at 8 px, 10.7 / 8.6 against 8.3 / 6.8, would
// pay too; no layer here has that shape.) The generator's residual blocks,
// 128 channels at 32×32, are far above both.
const (
	winogradMinChannels = 16
	winogradMinSize     = 16
)

// winograd reports whether g's forward pass runs as a Winograd convolution:
// a 3×3 kernel with stride 1 (any padding: the input transform reads zeros
// outside the image), with enough channels and output to pay for the
// transforms.
func (g convGeometry) winograd() bool {
	return g.kh == 3 && g.kw == 3 && g.stride == 1 &&
		g.c >= winogradMinChannels && g.o >= winogradMinChannels &&
		g.oh >= winogradMinSize && g.ow >= winogradMinSize
}

// winogradWeight reports whether g's weight gradient runs as a Winograd
// convolution (winogradBackwardWeight): as the forward pass, but only for
// outputs of 32×32 or more, and with winogradWeightMinChannels (the
// forward's 16 in the browser's SIMD build, 128 in the others). Its 16
// GEMMs run over the tiles (k = T), which at 16×16 (T = 64) are too few to
// pay for the transforms reliably.
//
// Measured (BenchmarkConv2DWinogradVsGEMM, BackwardWeight, Winograd against
// the GEMM, medians of three, direct-equivalent GFLOP/s; two runs, the
// second within make bench), in the browser: 128→128 at 32 px 26.5 / 20.7
// against 13.0 / 12.6 (BenchmarkConv2D_3x3_128to128_32px) and at 64 px
// 24.5 / 31.5 against 13.5 / 17.4, clear wins; 32→32 at 32 px 14.3 / 12.2
// against 8.8 / 9.4; but 64→64 at 32 px 17.2 / 18.6 against 13.5 / 19.8,
// 16→16 at 32 px 7.5 / 6.8 against 7.0 / 8.1, 64→64 at 16 px 13.9 / 12.6
// against 16.5 / 9.9 and 128→128 at 16 px 16.7 / 20.1 against 20.4 / 19.9,
// within this machine's noise. Natively (two cores, scalar transforms):
// 128→128 at 32 px 41.3 / 43.9 against 31.2 / 35.6, at 64 px 67.3 / 76.0
// against 39.3 / 55.5; 64→64 at 32 px 31.9 / 40.8 against 40.0 / 40.1;
// 32→32 at 32 px 17.3 / 20.6 against 28.5 / 40.0.
func (g convGeometry) winogradWeight() bool {
	return g.winograd() && g.oh >= 32 && g.ow >= 32 && g.c >= winogradWeightMinChannels && g.o >= winogradWeightMinChannels
}

// winogradInput reports whether g's input gradient runs as a Winograd
// convolution: stride 1, 3×3, and padding at most 2, so that the
// convolution of ∂y giving it (winogradGradient) has padding 2−p ≥ 0.
func (g convGeometry) winogradInput() bool {
	return g.kh == 3 && g.kw == 3 && g.stride == 1 && g.pad <= 2 && g.winogradGradient().winograd()
}

// winogradGradient is the convolution that gives g's input gradient: over
// ∂y [o, oh, ow], padded by 2−p, producing [c, h, w]. (paddedGradient is the
// same convolution with the padding stored, for the GEMM.)
func (g convGeometry) winogradGradient() convGeometry {
	return newConvGeometry(g.o, g.oh, g.ow, g.c, 3, 3, 1, 2-g.pad)
}

// winogradFlip maps a position ξ = 4i+j of the transformed weight of the
// flipped kernel to the position of the unflipped one it equals: rows and
// columns 0 and 3 swap (G·flip(g) is G·g with its first and last rows
// swapped).
var winogradFlip = [16]int{15, 13, 14, 12, 7, 5, 6, 4, 11, 9, 10, 8, 3, 1, 2, 0}

// winogradScratch is the memory of one Winograd convolution in flight:
// U, V, M and the working rows of the transforms. Each call takes one
// from winogradScratches and returns it, so in steady state a call
// allocates nothing (and needs no tape: inference passes a nil one).
type winogradScratch struct {
	buf []float32
}

var winogradScratches = freeList[winogradScratch]{new: func() *winogradScratch { return new(winogradScratch) }}

// floats returns n floats of the scratch, with unspecified contents.
func (s *winogradScratch) floats(n int) []float32 {
	if cap(s.buf) < n {
		s.buf = make([]float32, n)
	}
	return s.buf[:n]
}

// winogradLayout is where a Winograd convolution F(m×m, 3×3) keeps its
// operands in its scratch: the th×tw tiles of m×m of the output (T = th·tw,
// the last row and column partial when m does not divide oh or ow), the
// row length ld of its planes of the input split by column phase
// (winogradPlane for m = 2, winograd4Plane for m = 4), and the distance
// between the (m+2)² matrices of each of U, V and M (winogradStride).
type winogradLayout struct {
	tile, th, tw, t, ld int
	us, vs, ms          int
}

// winogradLayout is g's layout as F(2×2, 3×3), winograd4Layout as
// F(4×4, 3×3).
func (g convGeometry) winogradLayout() winogradLayout  { return g.winogradTiling(2) }
func (g convGeometry) winograd4Layout() winogradLayout { return g.winogradTiling(4) }

func (g convGeometry) winogradTiling(tile int) winogradLayout {
	th, tw := (g.oh+tile-1)/tile, (g.ow+tile-1)/tile
	t := th * tw
	return winogradLayout{tile: tile, th: th, tw: tw, t: t, ld: winogradPlaneWidth(tw),
		us: winogradStride(g.o * g.c), vs: winogradStride(g.c * t), ms: winogradStride(g.o * t)}
}

// winogradPlaneWidth is the row length of a deinterleaved input plane
// (winogradPlane): the tw+1 even (or odd) columns that tw tiles read,
// rounded up to whole vectors of 4.
func winogradPlaneWidth(tw int) int { return (tw + 1 + 3) &^ 3 }

// winogradStride is the distance in floats between the 16 matrices of n
// floats of U, V or M: the smallest above n that is 16 (a cache line) past
// a multiple of 1024 (4 KiB). The transforms read or write all 16 at once,
// one value each; at a stride that is a multiple of 4 KiB, as c·T = 128·256
// is, all 16 streams fall into one set of the L1 cache and evict each
// other (measured natively, with the scalar transforms, on the residual
// blocks' convolution: the input transform took 2.6 ms at a stride of c·T,
// 1.0 ms at this one; the weight transform 1.2 and 0.4 ms).
func winogradStride(n int) int { return n + ((16-n)%1024+1024)%1024 }

// matrices is the number of matrices in each of U, V and M: (m+2)², one
// for each point of an input tile.
func (l winogradLayout) matrices() int { return (l.tile + 2) * (l.tile + 2) }

// planeLen is the input's m phase planes of m·th+2 rows of ld (for m = 2,
// the even and odd columns). tmpLen is the transforms' working rows,
// m·(m+2)·ld: for F(2×2, 3×3) 8·ld (the output's 4·tw ≤ 8·ld); for
// F(4×4, 3×3) 24·ld, six combined rows of each phase for the input (the
// output's 16 rows of tw ≤ that).
func (l winogradLayout) planeLen() int { return l.tile * (l.tile*l.th + 2) * l.ld }
func (l winogradLayout) tmpLen() int   { return l.tile * (l.tile + 2) * l.ld }

// scratchLen is the number of floats a Winograd convolution needs: U, V,
// M, the planes and the working rows.
func (l winogradLayout) scratchLen() int {
	return l.matrices()*(l.us+l.vs+l.ms) + l.planeLen() + l.tmpLen()
}

// parts cuts a Winograd convolution's scratch (scratchLen floats) into its
// three sets of matrices (us, vs and ms floats apart: U, V and M of the
// forward pass; M, V and W of the weight gradient), the planes and the
// transforms' working rows.
func (l winogradLayout) parts(scratch []float32) (u, v, m, plane, tmp []float32) {
	n := l.matrices()
	u = scratch[:n*l.us]
	v = scratch[n*l.us:][:n*l.vs]
	m = scratch[n*(l.us+l.vs):][:n*l.ms]
	rest := scratch[n*(l.us+l.vs+l.ms):]
	return u, v, m, rest[:l.planeLen()], rest[l.planeLen():][:l.tmpLen()]
}

// winogradInputTransform writes V[ξ][c][ty·tw+tx] = (Bᵀ d B)[ξ] for every
// channel c of x [c, h, w] and its input tile d at (2ty−p, 2tx−p), the
// matrices vs apart in v, through plane and tmp (see parts).
func (g convGeometry) winogradInputTransform(l winogradLayout, x, v, plane, tmp []float32) {
	for c := 0; c < g.c; c++ {
		winogradPlane(x[c*g.h*g.w:][:g.h*g.w], g.h, g.w, g.pad, l.th, l.ld, plane)
		winogradInputTiles(plane, l.ld, l.th, l.tw, v[c*l.t:], l.vs, tmp)
	}
}

// winogradForward sets y [o, oh, ow] to the convolution of x [c, h, w] with
// w [o, c, 3, 3], plus bias [o] if non-nil. g must be 3×3 with stride 1.
func (g convGeometry) winogradForward(x, w, bias, y []float32) {
	if g.kh != 3 || g.kw != 3 || g.stride != 1 {
		panic("engine: Winograd convolution of a kernel other than 3×3 stride 1")
	}
	l := g.winogradLayout()
	s := winogradScratches.get()
	scratch := s.floats(l.scratchLen())
	winogradWeights(w, g.o, g.c, scratch[:16*l.us], l.us)
	g.winogradRun(l, scratch, x, nil, bias, y, false)
	winogradScratches.put(s)
}

// winogradBackwardInput adds to dx [c, h, w] the input gradient of g for
// the output gradient dy [o, oh, ow] and weight w [o, c, 3, 3]: the
// Winograd convolution winogradGradient of dy, whose weight is w flipped
// and transposed, read from w's own transform.
func (g convGeometry) winogradBackwardInput(w, dy, dx []float32) {
	if g.kh != 3 || g.kw != 3 || g.stride != 1 || g.pad > 2 {
		panic("engine: Winograd input gradient of a kernel other than 3×3 stride 1, padding ≤ 2")
	}
	full := g.winogradGradient()
	l := full.winogradLayout() // its U holds o·c floats a matrix, as g's
	s := winogradScratches.get()
	scratch := s.floats(l.scratchLen())
	winogradWeights(w, g.o, g.c, scratch[:16*l.us], l.us)
	full.winogradRun(l, scratch, dy, &winogradFlip, nil, dx, true)
	winogradScratches.put(s)
}

// winogradBackwardWeight adds to dw [o, c, 3, 3] the weight gradient of g
// for the input x [c, h, w] and output gradient dy [o, oh, ow]: M[ξ] =
// W[ξ]·V[ξ]ᵀ over the tiles, then Gᵀ M G (see the top of this file). The
// scratch is the forward's, with U's place holding M (o·c floats a
// matrix) and M's holding W (o·T).
func (g convGeometry) winogradBackwardWeight(x, dy, dw []float32) {
	if g.kh != 3 || g.kw != 3 || g.stride != 1 {
		panic("engine: Winograd weight gradient of a kernel other than 3×3 stride 1")
	}
	l := g.winogradLayout()
	th, tw, t, ld := l.th, l.tw, l.t, l.ld
	s := winogradScratches.get()
	m, v, wt, plane, tmp := l.parts(s.floats(l.scratchLen()))
	g.winogradInputTransform(l, x, v, plane, tmp)
	// ∂y's tiles start at (2ty, 2tx) and reach past oh or ow into zeros,
	// which contribute nothing: the plane of ∂y is unpadded.
	for o := 0; o < g.o; o++ {
		winogradPlane(dy[o*g.oh*g.ow:][:g.oh*g.ow], g.oh, g.ow, 0, th, ld, plane)
		winogradGradientTiles(plane, ld, th, tw, wt[o*t:], l.ms)
	}
	for xi := 0; xi < 16; xi++ {
		gemmOperands(gemmA{a: wt[xi*l.ms:][:g.o*t], ld: t}, gemmB{b: v[xi*l.vs:][:g.c*t], ld: t, trans: true},
			g.o, g.c, t, m[xi*l.us:][:g.o*g.c], g.c, false)
	}
	winogradWeightGradient(m, l.us, g.o*g.c, dw)
	winogradScratches.put(s)
}

// winogradGradientTilesScalar writes the transformed output-gradient tiles
// of one channel, W[ξ][ty·tw+tx] = (A ∂Y Aᵀ)[ξ] at w[ξ·ws + ty·tw + tx],
// for the 2×2 tiles ∂Y [[a, b], [c, d]] of its unpadded deinterleaved
// plane (winogradPlane with padding 0: a and c in the even columns, b and
// d in the odd). A's rows are (1, 0), (1, 1), (1, −1), (0, −1), so the
// rows (p, q) of A ∂Y are (a, b), (a+c, b+d), (a−c, b−d), (−c, −d), and
// each becomes (p, p+q, p−q, −q). It is winogradGradientTiles outside the
// browser's SIMD build, and its reference (bit for bit: a negation is
// 0 − x in both, which differs from −x in the sign of a zero).
func winogradGradientTilesScalar(plane []float32, ld, th, tw int, w []float32, ws int) {
	hp := 2*th + 2
	for ty := 0; ty < th; ty++ {
		e0, e1 := plane[2*ty*ld:][:ld], plane[(2*ty+1)*ld:][:ld]
		o0, o1 := plane[(hp+2*ty)*ld:][:ld], plane[(hp+2*ty+1)*ld:][:ld]
		for tx := 0; tx < tw; tx++ {
			a, b, c, d := e0[tx], o0[tx], e1[tx], o1[tx]
			p := [4]float32{a, a + c, a - c, 0 - c}
			q := [4]float32{b, b + d, b - d, 0 - d}
			at := ty*tw + tx
			for i := 0; i < 4; i++ {
				w[4*i*ws+at] = p[i]
				w[(4*i+1)*ws+at] = p[i] + q[i]
				w[(4*i+2)*ws+at] = p[i] - q[i]
				w[(4*i+3)*ws+at] = 0 - q[i]
			}
		}
	}
}

// winogradWeightGradient adds Gᵀ M G to the 3×3 kernels of dw [n, 3, 3],
// for M[ξ][i] at m[ξ·ms + i], i < n. Gᵀ's rows are (1, ½, ½, 0),
// (0, ½, −½, 0) and (0, ½, ½, 1). Scalar in every build, like
// winogradWeights: 16·n values against the GEMMs' 16·n·T multiply-adds.
func winogradWeightGradient(m []float32, ms, n int, dw []float32) {
	dw = dw[:9*n]
	var r [16][]float32
	for xi := range r {
		r[xi] = m[xi*ms:][:n]
	}
	for i := 0; i < n; i++ {
		// Gᵀ M: three rows of four.
		var gm [3][4]float32
		for j := 0; j < 4; j++ {
			m0, m1, m2, m3 := r[j][i], r[4+j][i], r[8+j][i], r[12+j][i]
			s := (m1 + m2) * 0.5
			gm[0][j], gm[1][j], gm[2][j] = m0+s, (m1-m2)*0.5, s+m3
		}
		// (Gᵀ M) G: the same on each row.
		k := (*[9]float32)(dw[9*i:])
		for y := 0; y < 3; y++ {
			m0, m1, m2, m3 := gm[y][0], gm[y][1], gm[y][2], gm[y][3]
			s := (m1 + m2) * 0.5
			k[3*y] += m0 + s
			k[3*y+1] += (m1 - m2) * 0.5
			k[3*y+2] += s + m3
		}
	}
}

// winogradRun is the Winograd convolution g of x [c, h, w] into y
// [o, oh, ow], given the transformed weight U at the start of scratch
// (laid out as l says). Without flip, U is [16][o][c]; with flip it is the
// transform of the weight whose flipped transpose g convolves with,
// [16][c][o], read at the positions flip maps to and transposed. bias [o]
// may be nil; accumulate adds to y rather than overwriting it.
func (g convGeometry) winogradRun(l winogradLayout, scratch, x []float32, flip *[16]int, bias, y []float32, accumulate bool) {
	th, tw, t := l.th, l.tw, l.t
	u, v, m, plane, tmp := l.parts(scratch)
	g.winogradInputTransform(l, x, v, plane, tmp)

	// M[ξ] = U[ξ] · V[ξ], o×T.
	for xi := 0; xi < 16; xi++ {
		a := gemmA{a: u[xi*l.us:][:g.o*g.c], ld: g.c}
		if flip != nil {
			a = gemmA{a: u[flip[xi]*l.us:][:g.o*g.c], ld: g.o, trans: true}
		}
		gemmOperands(a, gemmB{b: v[xi*l.vs:][:g.c*t], ld: t}, g.o, t, g.c, m[xi*l.ms:][:g.o*t], t, false)
	}

	// Y = Aᵀ M A per tile, written out as rows of y.
	for o := 0; o < g.o; o++ {
		var b float32
		if bias != nil {
			b = bias[o]
		}
		winogradOutputTiles(m[o*t:], l.ms, th, tw, b, tmp, y[o*g.oh*g.ow:][:g.oh*g.ow], g.ow, accumulate)
	}
}

// winogradPlane writes the image x [h, w], zero-padded by pad on the top
// and left (and by as much as the tiles need on the bottom and right), as
// two planes of 2·th+2 rows of ld floats: first its even columns, then its
// odd ones,
//
//	even[py·ld + k] = xpad[py, 2k]     odd[py·ld + k] = xpad[py, 2k+1]
//
// with xpad[py, px] = x[py−pad, px−pad], zero outside x. Input tile tx
// reads columns 2tx…2tx+3, which are even[tx], odd[tx], even[tx+1],
// odd[tx+1]: with the columns split so, four adjacent tiles' values at one
// position of the tile are four adjacent floats, and the transforms run on
// vectors of tiles.
func winogradPlane(x []float32, h, w, pad, th, ld int, plane []float32) {
	hp := 2*th + 2
	even, odd := plane[:hp*ld], plane[hp*ld:2*hp*ld]
	for py := 0; py < hp; py++ {
		er, or := even[py*ld:(py+1)*ld], odd[py*ld:(py+1)*ld]
		iy := py - pad
		if iy < 0 || iy >= h {
			clear(er)
			clear(or)
			continue
		}
		row := x[iy*w : (iy+1)*w]
		// Column ix of x is column ix+pad of xpad: even[(ix+pad)/2] or
		// odd[(ix+pad)/2]. Zero the columns before and after x.
		k0, k1 := pad/2, (w+pad+1)/2 // the first and last+1 k written
		clear(er[:k0])
		clear(or[:k0])
		clear(er[k1:])
		clear(or[k1:])
		if pad%2 == 1 { // x's first column lands in odd[k0], after a zero
			er[k0], or[k0] = 0, row[0]
			row, k0 = row[1:], k0+1
		}
		if len(row)%2 == 1 { // a last column without its pair
			or[k1-1] = 0
		}
		winogradDeinterleave(row, er[k0:k1], or[k0:k1])
	}
}

// winogradDeinterleaveScalar writes even[j] = src[2j] and odd[j] =
// src[2j+1] for j < len(src)/2, and even[len(src)/2] = the last value when
// len(src) is odd. It is winogradDeinterleave outside the browser's SIMD
// build, and its reference.
func winogradDeinterleaveScalar(src, even, odd []float32) {
	n := len(src) / 2
	even, odd = even[:n+len(src)%2], odd[:n]
	for j := range odd {
		p := (*[2]float32)(src[2*j:])
		even[j], odd[j] = p[0], p[1]
	}
	if len(src)%2 == 1 {
		even[n] = src[2*n]
	}
}

// winogradInterleaveScalar writes dst[2k] = left[k] and dst[2k+1] =
// right[k], and dst's last value = left[len(dst)/2] when len(dst) is odd;
// or adds them to dst with accumulate. It is winogradInterleave outside
// the browser's SIMD build, and its reference.
func winogradInterleaveScalar(dst, left, right []float32, accumulate bool) {
	n := len(dst) / 2
	left, right = left[:n+len(dst)%2], right[:n]
	if accumulate {
		for k := range right {
			d := (*[2]float32)(dst[2*k:])
			d[0] += left[k]
			d[1] += right[k]
		}
		if len(dst)%2 == 1 {
			dst[2*n] += left[n]
		}
		return
	}
	for k := range right {
		d := (*[2]float32)(dst[2*k:])
		d[0], d[1] = left[k], right[k]
	}
	if len(dst)%2 == 1 {
		dst[2*n] = left[n]
	}
}

// winogradWeights writes U [16][o][c] = G g Gᵀ for every 3×3 kernel g of
// w [o, c, 3, 3], U[ξ] starting at u[ξ·us]. It runs on every call (the
// weights change every training step), and costs 16·o·c floats written
// against the GEMMs' 16·o·c·T multiply-adds.
func winogradWeights(w []float32, o, c int, u []float32, us int) {
	oc := o * c
	w = w[:9*oc]
	// The 16 matrices, sliced once so that the loop's stores need no
	// bounds checks: this is scalar code in every build (a kernel's 9
	// values are 9 apart from the next kernel's, which no vector load
	// gathers), run once or twice per convolution.
	u0, u1, u2, u3 := u[:oc], u[us:][:oc], u[2*us:][:oc], u[3*us:][:oc]
	u4, u5, u6, u7 := u[4*us:][:oc], u[5*us:][:oc], u[6*us:][:oc], u[7*us:][:oc]
	u8, u9, u10, u11 := u[8*us:][:oc], u[9*us:][:oc], u[10*us:][:oc], u[11*us:][:oc]
	u12, u13, u14, u15 := u[12*us:][:oc], u[13*us:][:oc], u[14*us:][:oc], u[15*us:][:oc]
	for i := 0; i < oc; i++ {
		g := (*[9]float32)(w[9*i:])
		// G g: rows g0, (g0+g1+g2)/2, (g0−g1+g2)/2, g2 of g's rows (the
		// halvings are exact).
		s0, s1, s2 := g[0]+g[6], g[1]+g[7], g[2]+g[8]
		a0, a1, a2 := g[0], g[1], g[2]
		b0, b1, b2 := (s0+g[3])*0.5, (s1+g[4])*0.5, (s2+g[5])*0.5
		c0, c1, c2 := (s0-g[3])*0.5, (s1-g[4])*0.5, (s2-g[5])*0.5
		d0, d1, d2 := g[6], g[7], g[8]
		// (G g) Gᵀ: the same on each row of G g.
		t := a0 + a2
		u0[i], u1[i], u2[i], u3[i] = a0, (t+a1)*0.5, (t-a1)*0.5, a2
		t = b0 + b2
		u4[i], u5[i], u6[i], u7[i] = b0, (t+b1)*0.5, (t-b1)*0.5, b2
		t = c0 + c2
		u8[i], u9[i], u10[i], u11[i] = c0, (t+c1)*0.5, (t-c1)*0.5, c2
		t = d0 + d2
		u12[i], u13[i], u14[i], u15[i] = d0, (t+d1)*0.5, (t-d1)*0.5, d2
	}
}

// winogradInputTilesScalar is winogradInputTiles one tile at a time, in
// scalar arithmetic: the portable kernel, and the reference the vector one
// is held to (bit for bit: both take Bᵀ d first, then (Bᵀ d) B, in the
// same order).
func winogradInputTilesScalar(plane []float32, ld, th, tw int, v []float32, vs int) {
	hp := 2*th + 2
	for ty := 0; ty < th; ty++ {
		even := plane[2*ty*ld : (2*ty+4)*ld]
		odd := plane[(hp+2*ty)*ld : (hp+2*ty+4)*ld]
		e0, e1, e2, e3 := even[:ld], even[ld:2*ld], even[2*ld:3*ld], even[3*ld:4*ld]
		o0, o1, o2, o3 := odd[:ld], odd[ld:2*ld], odd[2*ld:3*ld], odd[3*ld:4*ld]
		for tx := 0; tx < tw; tx++ {
			// Row i of Bᵀ d at the tile's columns 0…3: even[tx], odd[tx],
			// even[tx+1], odd[tx+1] of the combined input rows.
			var r [4][4]float32
			for j, k := range [4]int{tx, tx, tx + 1, tx + 1} {
				d0, d1, d2, d3 := e0[k], e1[k], e2[k], e3[k]
				if j%2 == 1 {
					d0, d1, d2, d3 = o0[k], o1[k], o2[k], o3[k]
				}
				r[0][j], r[1][j], r[2][j], r[3][j] = d0-d2, d1+d2, d2-d1, d1-d3
			}
			at := ty*tw + tx
			for i := 0; i < 4; i++ {
				v[4*i*vs+at] = r[i][0] - r[i][2]
				v[(4*i+1)*vs+at] = r[i][1] + r[i][2]
				v[(4*i+2)*vs+at] = r[i][2] - r[i][1]
				v[(4*i+3)*vs+at] = r[i][1] - r[i][3]
			}
		}
	}
}

// winogradOutputTilesScalar is winogradOutputTiles one tile at a time, in
// scalar arithmetic: the portable kernel, and the reference the vector one
// is held to (bit for bit).
func winogradOutputTilesScalar(m []float32, ms, th, tw int, b float32, rows, y []float32, ow int, accumulate bool) {
	oh := len(y) / ow
	rows = rows[:4*tw]
	for ty := 0; ty < th; ty++ {
		for tx := 0; tx < tw; tx++ {
			at := ty*tw + tx
			// Column j of Aᵀ M: s = M[0,j] + M[1,j] + M[2,j], d = M[1,j] − M[2,j] − M[3,j].
			var s, d [4]float32
			for j := 0; j < 4; j++ {
				m0, m1, m2, m3 := m[j*ms+at], m[(4+j)*ms+at], m[(8+j)*ms+at], m[(12+j)*ms+at]
				s[j] = m0 + m1 + m2
				d[j] = m1 - m2 - m3
			}
			rows[tx] = s[0] + s[1] + s[2] + b
			rows[tw+tx] = s[1] - s[2] - s[3] + b
			rows[2*tw+tx] = d[0] + d[1] + d[2] + b
			rows[3*tw+tx] = d[1] - d[2] - d[3] + b
		}
		winogradStoreRows(rows, tw, y[2*ty*ow:], ow, min(2, oh-2*ty), accumulate)
	}
}

// winogradStoreRows writes n (1 or 2) rows of 2×2 output tiles to y, whose
// rows are ow apart: rows holds [4][tw], the tiles' top-left, top-right,
// bottom-left and bottom-right values, which interleave into the rows
// (the right column of the last tile is dropped when ow is odd). With
// accumulate it adds to y.
func winogradStoreRows(rows []float32, tw int, y []float32, ow, n int, accumulate bool) {
	for r := 0; r < n; r++ {
		winogradInterleave(y[r*ow:(r+1)*ow], rows[2*r*tw:][:tw], rows[(2*r+1)*tw:][:tw], accumulate)
	}
}
