//go:build js && wasm

package wasm

import (
	"fmt"
	"strconv"
	"syscall/js"
)

// pagePreviewIDs are the preview canvases, in the order of MsgPreview's
// images.
var pagePreviewIDs = []string{"preview-realA", "preview-fakeB", "preview-recA", "preview-realB", "preview-fakeA", "preview-recB"}

// onProgress applies MsgProgress: the counters and a point on the chart.
func (p *pageUI) onProgress(m js.Value) {
	it, total := pageInt(m, "iteration"), pageInt(m, "total")
	p.el("iteration").SetTextContent(strconv.Itoa(it))
	p.el("total").SetTextContent(strconv.Itoa(total))
	p.el("itps").SetTextContent(pageFormatRate(pageNum(m, "itPerSec")))
	if n := int(pageNum(m, "workers")); n > 1 {
		p.el("workers-in-use").SetTextContent(fmt.Sprintf(" on %d workers", n))
	} else {
		p.el("workers-in-use").SetTextContent("")
	}
	if eta := m.Get("etaSeconds"); eta.Type() == js.TypeNumber {
		p.el("eta").SetTextContent(pageFormatDuration(eta.Float()))
	} else {
		p.el("eta").SetTextContent("–")
	}
	if lr := pageNum(m, "lr"); lr > 0 {
		p.el("lr").SetTextContent(strconv.FormatFloat(lr, 'e', 2, 64))
	}
	p.setProgressBar(it, total)
	if losses := m.Get("losses"); losses.Type() == js.TypeObject {
		p.chart.add(it, losses)
		p.redraw()
	}
}

func (p *pageUI) setProgressBar(it, total int) {
	frac := 0.0
	if total > 0 {
		frac = min(1, max(0, float64(it)/float64(total)))
	}
	p.el("progress-fill").SetAttribute("style", fmt.Sprintf("width: %.2f%%", 100*frac))
}

// onPreview applies MsgPreview: six RGBA images into the preview grid.
func (p *pageUI) onPreview(m js.Value) {
	size := pageInt(m, "size")
	images := m.Get("images")
	if size <= 0 || !images.Truthy() {
		return
	}
	p.trainSize = size
	for i, id := range pagePreviewIDs {
		if i >= images.Length() {
			break
		}
		pageDrawRGBA(p.canvas(id).Underlying(), images.Index(i), size, size)
	}
	p.el("preview-iteration").SetTextContent(fmt.Sprintf("at iteration %d", pageInt(m, "iteration")))
}

// pageDrawRGBA puts w×h RGBA pixels (an ArrayBuffer or a typed array) on
// canvas, resizing the canvas to w×h. The bytes stay in JavaScript.
func pageDrawRGBA(canvas, pixels js.Value, w, h int) {
	g := js.Global()
	var clamped js.Value
	if pixels.InstanceOf(g.Get("ArrayBuffer")) {
		clamped = g.Get("Uint8ClampedArray").New(pixels)
	} else {
		clamped = g.Get("Uint8ClampedArray").New(pixels.Get("buffer"), pixels.Get("byteOffset"), pixels.Get("byteLength"))
	}
	img := g.Get("ImageData").New(clamped, w, h)
	if canvas.Get("width").Int() != w || canvas.Get("height").Int() != h {
		canvas.Set("width", w)
		canvas.Set("height", h)
	}
	canvas.Call("getContext", "2d").Call("putImageData", img, 0, 0)
}
