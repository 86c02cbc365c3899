package cyclegan

import (
	"bytes"
	"image"
	"testing"
)

func TestDemoDomainsDeterministic(t *testing.T) {
	a1, b1 := DemoDomains(8, 36, 7)
	a2, b2 := DemoDomains(8, 36, 7)
	a3, _ := DemoDomains(8, 36, 8)
	if a1.Len() != 8 || b1.Len() != 8 {
		t.Fatalf("lengths %d, %d, want 8", a1.Len(), b1.Len())
	}
	same := func(x, y MemoryDomain) bool {
		for i := range x {
			if x[i].Name != y[i].Name || !bytes.Equal(x[i].Image.(*image.NRGBA).Pix, y[i].Image.(*image.NRGBA).Pix) {
				return false
			}
		}
		return true
	}
	if !same(a1, a2) || !same(b1, b2) {
		t.Fatal("same seed gave different images")
	}
	if same(a1, a3) {
		t.Fatal("another seed gave the same images")
	}
	for _, d := range []MemoryDomain{a1, b1} {
		for i := range d {
			img, err := d.Open(i)
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b != image.Rect(0, 0, 36, 36) {
				t.Fatalf("%s: bounds %v", d.Name(i), b)
			}
		}
	}
	if a1.Name(3) != "demo-A-003" || b1.Name(0) != "demo-B-000" {
		t.Fatalf("names %q, %q", a1.Name(3), b1.Name(0))
	}
}

// stats are the mean of R−B and the fraction of "edge" pixels (neither
// background nor fully inside a shape is hard to measure; the warmth is the
// clear difference).
func warmth(d MemoryDomain) (redMinusBlue float64, minWarm, maxWarm float64) {
	minWarm, maxWarm = 1e9, -1e9
	for i := range d {
		m := d[i].Image.(*image.NRGBA)
		var sum float64
		for p := 0; p < len(m.Pix); p += 4 {
			sum += float64(m.Pix[p]) - float64(m.Pix[p+2])
		}
		v := sum / float64(len(m.Pix)/4)
		redMinusBlue += v
		minWarm, maxWarm = min(minWarm, v), max(maxWarm, v)
	}
	return redMinusBlue / float64(len(d)), minWarm, maxWarm
}

func TestDemoDomainsDiffer(t *testing.T) {
	a, b := DemoDomains(40, 32, 1)
	wa, minA, _ := warmth(a)
	wb, _, maxB := warmth(b)
	t.Logf("mean R−B: A %.1f, B %.1f; min A %.1f, max B %.1f", wa, wb, minA, maxB)
	if !(wa > 20 && wb < -20) {
		t.Fatalf("A should be warm and B cool: mean R−B %.1f and %.1f", wa, wb)
	}
	if minA <= maxB {
		t.Fatalf("the warmest B image (%.1f) is warmer than the coolest A (%.1f)", maxB, minA)
	}
	// Not blank: every image has a shape (pixels far from the background).
	for _, d := range []MemoryDomain{a, b} {
		for i := range d {
			m := d[i].Image.(*image.NRGBA)
			var lo uint8 = 255
			for p := 0; p < len(m.Pix); p += 4 {
				lo = min(lo, m.Pix[p], m.Pix[p+1], m.Pix[p+2])
			}
			if lo > 180 {
				t.Fatalf("%s looks blank (darkest channel %d)", d.Name(i), lo)
			}
		}
	}
}
