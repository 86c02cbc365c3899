//go:build js && wasm

package wasm

import (
	"fmt"
	"math"
	"syscall/js"

	"honnef.co/go/js/dom/v2"
)

// pageSeries are the lines of the loss chart: name, colour, and how a
// MsgProgress losses object gives the value.
var pageSeries = []struct {
	name  string
	color string
	keys  []string // summed
}{
	{"G (total)", "#4f46e5", []string{"G"}},
	{"D_A", "#f97316", []string{"D_A"}},
	{"D_B", "#db2777", []string{"D_B"}},
	{"cycle (A+B)", "#0d9488", []string{"cycle_A", "cycle_B"}},
	{"identity (A+B)", "#64748b", []string{"idt_A", "idt_B"}},
}

// pageChartMax is the most points a chart keeps; beyond it every other
// point is dropped (the chart draws at most one value per pixel column
// anyway).
const pageChartMax = 20000

// pageChart is the live loss chart on a canvas.
type pageChart struct {
	canvas *dom.HTMLCanvasElement
	its    []int
	values [][]float64 // per series, parallel to its
	step   int         // keep one point in step (doubles when full)
	seen   int
}

func newPageChart(canvas *dom.HTMLCanvasElement, legend dom.Element) *pageChart {
	c := &pageChart{canvas: canvas}
	c.reset()
	legend.SetInnerHTML("")
	doc := dom.GetWindow().Document()
	for _, s := range pageSeries {
		item := doc.CreateElement("span")
		swatch := doc.CreateElement("i").(dom.HTMLElement)
		swatch.Style().SetProperty("background", s.color, "")
		item.AppendChild(swatch)
		item.AppendChild(doc.CreateTextNode(s.name))
		legend.AppendChild(item)
	}
	return c
}

// reset forgets every point (a new run).
func (c *pageChart) reset() {
	c.its = c.its[:0]
	c.values = make([][]float64, len(pageSeries))
	c.step = 1
	c.seen = 0
}

// add records the losses of iteration it. An iteration lower than the last
// one means a new run: the chart starts over.
func (c *pageChart) add(it int, losses js.Value) {
	if n := len(c.its); n > 0 && it < c.its[n-1] {
		c.reset()
	}
	c.seen++
	if (c.seen-1)%c.step != 0 {
		return
	}
	c.its = append(c.its, it)
	for i, s := range pageSeries {
		v := 0.0
		for _, k := range s.keys {
			if x := losses.Get(k); x.Type() == js.TypeNumber {
				v += x.Float()
			}
		}
		c.values[i] = append(c.values[i], v)
	}
	if len(c.its) >= pageChartMax {
		c.its = pageHalve(c.its)
		for i := range c.values {
			c.values[i] = pageHalve(c.values[i])
		}
		c.step *= 2
	}
}

// pageHalve keeps every other element of s.
func pageHalve[T any](s []T) []T {
	out := s[:0]
	for i := 0; i < len(s); i += 2 {
		out = append(out, s[i])
	}
	return out
}

// draw paints the chart at the canvas's displayed size.
func (c *pageChart) draw() {
	el := c.canvas
	dpr := js.Global().Get("devicePixelRatio").Float()
	if !(dpr > 0) {
		dpr = 1
	}
	cssW := el.Underlying().Get("clientWidth").Float()
	cssH := el.Underlying().Get("clientHeight").Float()
	if cssW <= 0 || cssH <= 0 {
		return
	}
	if w, h := int(cssW*dpr+0.5), int(cssH*dpr+0.5); el.Width() != w || el.Height() != h {
		el.SetWidth(w)
		el.SetHeight(h)
	}
	ctx := el.GetContext2d()
	ctx.SetTransform(dpr, 0, 0, dpr, 0, 0)
	ctx.ClearRect(0, 0, cssW, cssH)

	ink := js.Global().Call("getComputedStyle", el.Underlying()).Get("color").String()
	const left, right, top, bottom = 44.0, 12.0, 10.0, 24.0
	plotW, plotH := cssW-left-right, cssH-top-bottom
	if plotW < 10 || plotH < 10 {
		return
	}
	ctx.SetFont("11px system-ui, sans-serif")
	ctx.SetFillStyle(ink)
	ctx.SetStrokeStyle(ink)

	n := len(c.its)
	if n == 0 {
		ctx.SetTextAlign("center")
		ctx.SetTextBaseline("middle")
		ctx.FillText("Losses appear here once training starts.", left+plotW/2, top+plotH/2, -1)
		return
	}

	// Bucket the points into at most one per pixel column (mean), so that
	// long runs draw fast and smooth.
	cols := max(1, int(plotW))
	buckets := min(n, cols)
	xs := make([]float64, buckets)
	ys := make([][]float64, len(pageSeries))
	for s := range ys {
		ys[s] = make([]float64, buckets)
	}
	for b := 0; b < buckets; b++ {
		lo, hi := b*n/buckets, (b+1)*n/buckets
		xs[b] = float64(c.its[(lo+hi-1)/2])
		for s := range pageSeries {
			sum := 0.0
			for i := lo; i < hi; i++ {
				sum += c.values[s][i]
			}
			ys[s][b] = sum / float64(hi-lo)
		}
	}
	yMax := pageChartTop(ys)
	x0, x1 := float64(c.its[0]), float64(c.its[n-1])
	if x1 <= x0 {
		x1 = x0 + 1
	}
	px := func(x float64) float64 { return left + (x-x0)/(x1-x0)*plotW }
	py := func(y float64) float64 { return top + plotH - math.Min(y, yMax*1.02)/yMax*plotH }

	// Grid and axes.
	ctx.SetGlobalAlpha(0.25)
	ctx.SetLineWidth(1)
	ctx.BeginPath()
	for _, t := range pageTicks(yMax) {
		y := math.Round(py(t)) + 0.5
		ctx.MoveTo(left, y)
		ctx.LineTo(left+plotW, y)
	}
	ctx.Stroke()
	ctx.SetGlobalAlpha(1)
	ctx.SetTextAlign("right")
	ctx.SetTextBaseline("middle")
	for _, t := range pageTicks(yMax) {
		ctx.FillText(pageTickLabel(t), left-6, py(t), -1)
	}
	ctx.SetTextBaseline("top")
	ctx.SetTextAlign("left")
	ctx.FillText(fmt.Sprint(c.its[0]), left, top+plotH+6, -1)
	ctx.SetTextAlign("right")
	ctx.FillText(fmt.Sprint(c.its[n-1]), left+plotW, top+plotH+6, -1)
	ctx.SetTextAlign("center")
	ctx.FillText("iteration", left+plotW/2, top+plotH+6, -1)

	// The lines.
	ctx.Save()
	ctx.BeginPath()
	ctx.Rect(left, top, plotW, plotH)
	ctx.Clip()
	ctx.SetLineWidth(2)
	ctx.SetLineJoin("round")
	for s, ser := range pageSeries {
		ctx.SetStrokeStyle(ser.color)
		ctx.BeginPath()
		if buckets == 1 {
			ctx.Arc(px(xs[0]), py(ys[s][0]), 2.5, 0, 2*math.Pi, false)
			ctx.SetFillStyle(ser.color)
			ctx.Fill()
			continue
		}
		for b := 0; b < buckets; b++ {
			if b == 0 {
				ctx.MoveTo(px(xs[b]), py(ys[s][b]))
			} else {
				ctx.LineTo(px(xs[b]), py(ys[s][b]))
			}
		}
		ctx.Stroke()
	}
	ctx.Restore()
}

// pageChartTop is the top of the y axis: the largest value (the values are
// already bucket means), leaving out the first 5% of the points once there
// are enough of them, so that the large losses of the first iterations do
// not flatten the rest of the run.
func pageChartTop(ys [][]float64) float64 {
	top := 0.0
	for _, s := range ys {
		skip := 0
		if len(s) >= 40 {
			skip = len(s) / 20
		}
		for _, v := range s[skip:] {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				top = math.Max(top, v)
			}
		}
	}
	return math.Max(top*1.1, 1e-3)
}

// pageTicks are 3 to 6 round values from 0 up to top.
func pageTicks(top float64) []float64 {
	step := math.Pow(10, math.Floor(math.Log10(top/4)))
	for _, m := range []float64{1, 2, 5, 10} {
		if top/(step*m) <= 5 {
			step *= m
			break
		}
	}
	var ticks []float64
	for t := 0.0; t <= top*1.0001; t += step {
		ticks = append(ticks, t)
	}
	return ticks
}

func pageTickLabel(t float64) string {
	switch {
	case t == 0:
		return "0"
	case t >= 10:
		return fmt.Sprintf("%.0f", t)
	case t >= 1:
		return fmt.Sprintf("%.1f", t)
	default:
		return fmt.Sprintf("%.2g", t)
	}
}
