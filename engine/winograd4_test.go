package engine

import (
	"fmt"
	"testing"
)

// winograd4Bound is winogradBound for F(4×4, 3×3): about c+25 roundings in
// a row (c in the GEMM's sum, about 8 in each of V, U — whose fractions ⅙,
// 1/12 and 1/24 are rounded too — and Y), of transformed values bounded
// through |Aᵀ|(|G||g||Gᵀ| ⊙ |Bᵀ||d||B|)|A|: for all-ones g and d that is
// 48 in each dimension (Aᵀ's last row) where the direct sum's is 3, a
// factor of 16² = 256.
func winograd4Bound(c int) float64 { return 9*float64(c) + 256*float64(c+25) }

// winograd4RMS is the root mean square error, in units of winograd4Bound's
// tolerance, that F(4×4, 3×3) is held to over a whole output
// (assertWinogradRMS): the table's outputs reach 0.0007 (seeded data, the
// same in every build); with one of G's ¼, 1/12 or ⅙ off by 1e-4, 15 or
// 16 of them exceed this, and none exceeds the bound at any element.
const winograd4RMS = 0.002

// TestWinograd4Plane holds the phase planes to their definition: every
// value of xpad at its place, zero in the padding and past the image, when
// written over the plane of another image (zeroed: the zeros are kept).
func TestWinograd4Plane(t *testing.T) {
	rng := newRNG(18)
	for _, tc := range []struct{ h, w, pad int }{{1, 1, 1}, {2, 3, 2}, {3, 3, 0}, {5, 7, 1}, {8, 8, 2}, {9, 13, 1}, {34, 34, 0}, {32, 31, 2}} {
		g := newConvGeometry(1, tc.h, tc.w, 1, 3, 3, 1, tc.pad)
		l := g.winograd4Layout()
		x := randTensor(rng, tc.h*tc.w).Data
		plane := randTensor(rng, l.planeLen()).Data // garbage in: every value is written
		winograd4Plane(randTensor(rng, tc.h*tc.w).Data, tc.h, tc.w, tc.pad, l.th, l.ld, plane, false)
		winograd4Plane(x, tc.h, tc.w, tc.pad, l.th, l.ld, plane, true) // over a plane of another image
		hp := 4*l.th + 2
		for r := 0; r < 4; r++ {
			for py := 0; py < hp; py++ {
				for k := 0; k < l.ld; k++ {
					var want float32
					if iy, ix := py-tc.pad, 4*k+r-tc.pad; iy >= 0 && iy < tc.h && ix >= 0 && ix < tc.w {
						want = x[iy*tc.w+ix]
					}
					if got := plane[(r*hp+py)*l.ld+k]; got != want {
						t.Fatalf("%dx%d pad %d: phase %d row %d column %d = %g, want %g", tc.h, tc.w, tc.pad, r, py, k, got, want)
					}
				}
			}
		}
	}
}

// TestWinograd4TilesMatchScalar holds the tile transforms this build runs
// (vectors of four tiles in the browser's SIMD build) to the scalar ones
// bit for bit, for rows of 1 to 17 tiles, 1 to 3 rows of tiles, and output
// planes 0 to 3 short of whole tiles, written and added to.
func TestWinograd4TilesMatchScalar(t *testing.T) {
	rng := newRNG(19)
	for _, tw := range []int{1, 3, 4, 5, 7, 8, 9, 16, 17} {
		for _, th := range []int{1, 3} {
			t.Run(fmt.Sprintf("tw%d_th%d", tw, th), func(t *testing.T) {
				ld := (tw + 1 + 3) &^ 3
				plane := randTensor(rng, 4*(4*th+2)*ld).Data
				vs := th*tw + 7 // a stride unlike th·tw: the kernels write only their tiles
				got := randTensor(rng, 36*vs).Data
				want := append([]float32(nil), got...)
				winograd4InputTiles(plane, ld, th, tw, got, vs, make([]float32, 24*ld))
				winograd4InputTilesScalar(plane, ld, th, tw, want, vs)
				assertSameBits(t, "V", got, want)

				m := randTensor(rng, 36*vs).Data
				for short := 0; short < 4; short++ {
					oh, ow := 4*th-short, 4*tw-short
					if ow < 1 || oh < 1 {
						continue
					}
					for _, acc := range []bool{false, true} {
						gotY := randTensor(rng, oh*ow).Data
						wantY := append([]float32(nil), gotY...)
						winograd4OutputTiles(m, vs, th, tw, 0.25, make([]float32, 24*ld), gotY, ow, acc)
						winograd4OutputTilesScalar(m, vs, th, tw, 0.25, make([]float32, 24*ld), wantY, ow, acc)
						assertSameBits(t, fmt.Sprintf("Y %dx%d accumulate %v", oh, ow, acc), gotY, wantY)
					}
				}
			})
		}
	}
}

// TestWinograd4WeightsFlip: the flipped transform of kernel (o, c) is, at
// the transposed place, the plain transform of that kernel flipped in
// space.
func TestWinograd4WeightsFlip(t *testing.T) {
	rng := newRNG(20)
	const o, c = 3, 5
	w := randTensor(rng, o*c*9).Data
	flipped := make([]float32, len(w)) // [c, o, 3, 3]: each kernel flipped, the channels transposed
	for oi := 0; oi < o; oi++ {
		for ci := 0; ci < c; ci++ {
			for k := 0; k < 9; k++ {
				flipped[(ci*o+oi)*9+k] = w[(oi*c+ci)*9+8-k]
			}
		}
	}
	u := make([]float32, 36*o*c)
	uf := make([]float32, 36*o*c)
	winograd4Weights(w, o, c, true, u, o*c)
	winograd4Weights(flipped, c, o, false, uf, o*c)
	assertSameBits(t, "U", u, uf)
}

// TestWinograd4Dispatch checks which convolutions take F(4×4, 3×3): in the
// browser's SIMD build the generator's residual blocks at 128 and 256 px
// (128 channels at 32×32 and 64×64, 256 at 64×64 for ngf 64), forward and
// input gradient, and not those at 64 px (16×16, preset S) nor strided
// ones, which keep F(2×2, 3×3) or the GEMM; in other builds none.
func TestWinograd4Dispatch(t *testing.T) {
	for _, tc := range []struct {
		g    convGeometry
		want bool
	}{
		{newConvGeometry(128, 34, 34, 128, 3, 3, 1, 0), true},
		{newConvGeometry(128, 66, 66, 128, 3, 3, 1, 0), true},
		{newConvGeometry(256, 66, 66, 256, 3, 3, 1, 0), true},
		{newConvGeometry(64, 32, 32, 64, 3, 3, 1, 1), true},
		{newConvGeometry(128, 18, 18, 128, 3, 3, 1, 0), false},
		{newConvGeometry(64, 18, 18, 64, 3, 3, 1, 0), false},
		{newConvGeometry(32, 34, 34, 32, 3, 3, 1, 0), false},
		{newConvGeometry(128, 10, 10, 128, 3, 3, 1, 0), false},
		{newConvGeometry(128, 33, 33, 128, 3, 3, 2, 0), false},
	} {
		want := tc.want && winograd4Enabled
		if got, gotInput := tc.g.winograd4(), tc.g.winograd4Input(); got != want || gotInput != want {
			t.Errorf("%d→%d at %dx%d stride %d: winograd4 %v, winograd4Input %v, want %v",
				tc.g.c, tc.g.o, tc.g.oh, tc.g.ow, tc.g.stride, got, gotInput, want)
		}
	}
}

// TestWinograd4WeightsMatchScalar holds the weight transform this build
// runs (four kernels at a time in the browser's SIMD build) to the scalar
// one bit for bit, plain and flipped, for o·c a multiple of 4 and not.
func TestWinograd4WeightsMatchScalar(t *testing.T) {
	rng := newRNG(21)
	for _, oc := range [][2]int{{1, 1}, {3, 5}, {4, 4}, {8, 3}, {16, 16}} {
		o, c := oc[0], oc[1]
		w := randTensor(rng, o*c*9).Data
		for _, flip := range []bool{false, true} {
			us := o*c + 5
			got := randTensor(rng, 36*us).Data
			want := append([]float32(nil), got...)
			winograd4Weights(w, o, c, flip, got, us)
			winograd4WeightsScalar(w, o, c, flip, want, us, 0)
			assertSameBits(t, fmt.Sprintf("%dx%d flip %v", o, c, flip), got, want)
		}
	}
}
