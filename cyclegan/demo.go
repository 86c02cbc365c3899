package cyclegan

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
)

// DemoDomains returns a built-in pair of procedural domains that CycleGAN
// learns visibly within a few hundred iterations at 32–64 px, so the
// browser app can train without any files:
//
//   - A: one to three soft-edged discs and blobs (ellipses) in warm
//     colours (red, orange, amber, yellow) on a light cream background;
//   - B: one to three hard-edged squares and bars, striped across, in cool
//     colours (teal, blue, indigo) on a light blue-grey background.
//
// The layouts (how many shapes, where, how large) are drawn the same way in
// both domains, from independent streams: the domains are unpaired, as
// CycleGAN expects. Each domain has n images of size×size pixels, named
// "demo-A-000" …, and everything is a deterministic function of (n, size,
// seed). It panics if n < 1 or size < 4.
func DemoDomains(n, size int, seed uint64) (a, b MemoryDomain) {
	if n < 1 || size < 4 {
		panic(fmt.Sprintf("cyclegan: DemoDomains(%d, %d)", n, size))
	}
	ra := rand.New(rand.NewPCG(seed, 0xdeb0a))
	rb := rand.New(rand.NewPCG(seed, 0xdeb0b))
	a = make(MemoryDomain, n)
	b = make(MemoryDomain, n)
	for i := range n {
		a[i] = NamedImage{Name: fmt.Sprintf("demo-A-%03d", i), Image: demoImage(ra, size, false)}
		b[i] = NamedImage{Name: fmt.Sprintf("demo-B-%03d", i), Image: demoImage(rb, size, true)}
	}
	return a, b
}

// demoShape is one shape of a layout: centre, half extents (fractions of
// the side), colour.
type demoShape struct {
	cx, cy, rx, ry float64
	r, g, b        float64
	stripes        float64 // stripe period in pixels (B only)
}

func demoImage(rng *rand.Rand, size int, cool bool) *image.NRGBA {
	s := float64(size)
	// Background: light, slightly tinted, with a gentle vertical gradient.
	var bg [3]float64
	if cool {
		bg = [3]float64{218, 230, 242}
	} else {
		bg = [3]float64{246, 236, 218}
	}
	for c := range bg {
		bg[c] += rng.Float64()*12 - 6
	}
	grad := rng.Float64()*16 - 8

	shapes := make([]demoShape, 1+rng.IntN(3))
	for k := range shapes {
		sh := &shapes[k]
		sh.cx = 0.2 + 0.6*rng.Float64()
		sh.cy = 0.2 + 0.6*rng.Float64()
		r := 0.12 + 0.16*rng.Float64()
		aspect := 0.7 + 0.6*rng.Float64()
		sh.rx, sh.ry = r*aspect, r/aspect
		var hue float64
		if cool {
			hue = 175 + 75*rng.Float64() // teal … indigo
		} else {
			hue = 0 + 50*rng.Float64() // red … amber/yellow
		}
		sat := 0.65 + 0.3*rng.Float64()
		val := 0.7 + 0.28*rng.Float64()
		sh.r, sh.g, sh.b = hsv(hue, sat, val)
		sh.stripes = math.Max(3, s/(5+3*rng.Float64()))
	}

	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for y := range size {
		t := (float64(y)+0.5)/s - 0.5
		row := img.Pix[y*img.Stride : y*img.Stride+4*size]
		for c := range 3 {
			row[c] = toByte(bg[c] + grad*t)
		}
		row[3] = 255
		for n := 4; n < len(row); n *= 2 {
			copy(row[n:], row[:n])
		}
	}
	// The shapes, over their bounding boxes (with the soft edge). This runs
	// in the browser at every start: the inner loops avoid divisions and
	// calls.
	soft := max(0.75, s/32) // half width of A's soft edge, in pixels
	for _, sh := range shapes {
		margin := soft + 1
		x0 := max(0, int(math.Floor((sh.cx-sh.rx)*s-margin)))
		x1 := min(size, int(math.Ceil((sh.cx+sh.rx)*s+margin)))
		y0 := max(0, int(math.Floor((sh.cy-sh.ry)*s-margin)))
		y1 := min(size, int(math.Ceil((sh.cy+sh.ry)*s+margin)))
		minR := min(sh.rx, sh.ry) * s
		invRx, invRy := 1/(sh.rx*s), 1/(sh.ry*s)
		col := [3]float64{255 * sh.r, 255 * sh.g, 255 * sh.b}
		for y := y0; y < y1; y++ {
			py := float64(y) + 0.5
			dy := (py - sh.cy*s) * invRy
			row := img.Pix[y*img.Stride:]
			if cool {
				// Square (max-norm, one pixel of antialiasing), striped across.
				shade := 1.0
				if math.Mod(py-sh.cy*s+100*sh.stripes, sh.stripes) < sh.stripes/2 {
					shade = 0.72
				}
				var full [3]uint8
				for c := range 3 {
					full[c] = toByte(min(col[c]*shade, 255))
				}
				ady := math.Abs(dy)
				for x := x0; x < x1; x++ {
					dx := (float64(x) + 0.5 - sh.cx*s) * invRx
					cover := 0.5 - (max(math.Abs(dx), ady)-1)*minR
					p := row[4*x : 4*x+3 : 4*x+3]
					switch {
					case cover >= 1:
						p[0], p[1], p[2] = full[0], full[1], full[2]
					case cover > 0:
						for c := range 3 {
							p[c] = toByte(float64(p[c])*(1-cover) + float64(full[c])*cover)
						}
					}
				}
				continue
			}
			// Disc or blob: Euclidean, smooth edge, lit from the top left.
			for x := x0; x < x1; x++ {
				dx := (float64(x) + 0.5 - sh.cx*s) * invRx
				d := (math.Sqrt(dx*dx+dy*dy) - 1) * minR
				if d >= soft {
					continue
				}
				cover := 1.0
				if d > -soft {
					t := (soft - d) / (2 * soft)
					cover = t * t * (3 - 2*t)
				}
				shade := 1.08 - 0.25*min(max((dx+dy+1.4)/2.8, 0), 1)
				p := row[4*x : 4*x+3 : 4*x+3]
				for c := range 3 {
					p[c] = toByte(float64(p[c])*(1-cover) + min(col[c]*shade, 255)*cover)
				}
			}
		}
	}
	return img
}

func toByte(v float64) uint8 { return uint8(min(max(v, 0), 255) + 0.5) }

// hsv converts hue (degrees), saturation and value in [0, 1] to RGB in [0, 1].
func hsv(h, s, v float64) (r, g, b float64) {
	h = math.Mod(h, 360) / 60
	c := v * s
	x := c * (1 - math.Abs(math.Mod(h, 2)-1))
	switch int(h) {
	case 0:
		r, g, b = c, x, 0
	case 1:
		r, g, b = x, c, 0
	case 2:
		r, g, b = 0, c, x
	case 3:
		r, g, b = 0, x, c
	case 4:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	m := v - c
	return r + m, g + m, b + m
}
