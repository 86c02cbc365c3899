//go:build js && wasm

package wasm

import (
	"fmt"
	"syscall/js"
	"time"

	"honnef.co/go/js/dom/v2"
)

// Translate: one image file at its own size.

func (p *pageUI) setupTranslate() {
	in := p.input("translate-input")
	p.on(in, "change", func(dom.Event) {
		files := in.Underlying().Get("files")
		if files.Length() == 0 {
			return
		}
		f := files.Index(0)
		in.SetValue("")
		p.translateFile = f
		url := js.Global().Get("URL")
		if p.translateURL.Truthy() {
			url.Call("revokeObjectURL", p.translateURL)
		}
		p.translateURL = url.Call("createObjectURL", f)
		src := p.el("translate-source")
		src.SetAttribute("src", p.translateURL.String())
		src.RemoveAttribute("hidden")
		p.translate()
	})
	p.on(p.el("translate-direction"), "change", func(dom.Event) {
		if p.translateFile.Truthy() {
			p.translate()
		}
	})
	p.onClick("translate-download", func() {
		canvas := p.canvas("translate-output").Underlying()
		name := p.translatedName
		var cb js.Func
		cb = js.FuncOf(func(_ js.Value, args []js.Value) any {
			defer cb.Release()
			defer p.guard("saving the PNG")
			if len(args) == 0 || !args[0].Truthy() {
				p.setStatus("Could not encode the PNG.", "error")
				return nil
			}
			p.pageDownload(args[0], name)
			return nil
		})
		canvas.Call("toBlob", cb, "image/png")
	})
}

// translate sends the chosen file to the worker; only the answer to the
// latest request is shown.
func (p *pageUI) translate() {
	p.translateReq++
	dir := p.selectEl("translate-direction").Value()
	name := pageStr(p.translateFile, "name")
	p.translatedName = fmt.Sprintf("%s-%s.png", pageBaseName(name), dir)
	p.button("translate-download").SetDisabled(true)
	p.setStatus(fmt.Sprintf("Translating %s (%s)…", name, pageDirectionWords(dir)), "info")
	p.post(MsgTranslate, map[string]any{"req": p.translateReq, "direction": dir, "file": p.translateFile})
}

// onTranslated applies MsgTranslated.
func (p *pageUI) onTranslated(m js.Value) {
	if pageInt(m, "req") != p.translateReq {
		return
	}
	w, h := pageInt(m, "width"), pageInt(m, "height")
	pageDrawRGBA(p.canvas("translate-output").Underlying(), m.Get("pixels"), w, h)
	p.button("translate-download").SetDisabled(false)
	p.setStatus(fmt.Sprintf("Translated %s: %d×%d.", pageStr(p.translateFile, "name"), w, h), "info")
}

func pageDirectionWords(dir string) string {
	if dir == "BtoA" {
		return "B → A"
	}
	return "A → B"
}

// Webcam: frames from getUserMedia, translated one at a time.

// pageWebcam is a running webcam loop.
type pageWebcam struct {
	stream js.Value
	stop   chan struct{}
	// out receives the MsgFrameOut answers; the loop has one frame in
	// flight per engine worker (the engine worker hands frames to its
	// peer) and one more, sent times by req.
	out      chan js.Value
	req      int
	inFlight map[int]time.Time
	// lastShown is the req of the newest frame drawn: an answer to an
	// older one, overtaken, is dropped.
	lastShown int
	// times of the last frames shown, for #webcam-fps.
	shown []time.Time
}

// pageWebcamTimeout is how long the loop waits for a frame's answer before
// it sends the next one (the worker answers between training steps, which
// can be slow for big models; a lost answer must not stop the loop).
const pageWebcamTimeout = 20 * time.Second

// pageWebcamDefaultSize is the frame size when no model size is known.
const pageWebcamDefaultSize = 128

func (p *pageUI) setupWebcam() {
	p.onClick("webcam", func() {
		if p.cam != nil {
			p.stopWebcam()
			p.setStatus("Webcam off.", "info")
			return
		}
		cam := &pageWebcam{stop: make(chan struct{}), out: make(chan js.Value, 4), inFlight: map[int]time.Time{}}
		p.cam = cam
		p.button("webcam").SetTextContent("Stop webcam")
		go p.runWebcam(cam)
	})
}

func (p *pageUI) stopWebcam() {
	cam := p.cam
	if cam == nil {
		return
	}
	p.cam = nil
	close(cam.stop)
	if cam.stream.Truthy() {
		tracks := cam.stream.Call("getTracks")
		for i := 0; i < tracks.Length(); i++ {
			tracks.Index(i).Call("stop")
		}
	}
	p.el("webcam-video").Underlying().Set("srcObject", js.Null())
	p.button("webcam").SetTextContent("Start webcam")
	p.el("webcam-fps").SetTextContent("0")
	p.el("webcam-ms").SetTextContent("")
}

// runWebcam opens the camera and translates frames until cam is stopped.
func (p *pageUI) runWebcam(cam *pageWebcam) {
	defer p.guard("running the webcam")
	stopped := func() bool {
		select {
		case <-cam.stop:
			return true
		default:
			return false
		}
	}
	md := js.Global().Get("navigator").Get("mediaDevices")
	if !md.Truthy() || md.Get("getUserMedia").Type() != js.TypeFunction {
		p.setStatus("Webcam: this browser offers no camera here (it needs http://localhost, https:// or a file).", "error")
		p.stopWebcam()
		return
	}
	stream, err := await(md.Call("getUserMedia", map[string]any{"video": true, "audio": false}))
	if err != nil {
		msg := "Webcam: " + err.Error()
		switch jsErrorName(err) {
		case "NotAllowedError":
			msg = "Webcam: permission denied. Allow the camera for this page and try again."
		case "NotFoundError", "OverconstrainedError":
			msg = "Webcam: no camera found."
		case "NotReadableError":
			msg = "Webcam: the camera is in use by another program."
		}
		p.setStatus(msg, "error")
		if p.cam == cam {
			p.stopWebcam()
		}
		return
	}
	cam.stream = stream
	if stopped() {
		// Stopped while the permission prompt was up.
		tracks := stream.Call("getTracks")
		for i := 0; i < tracks.Length(); i++ {
			tracks.Index(i).Call("stop")
		}
		return
	}
	video := p.el("webcam-video").Underlying()
	video.Set("srcObject", stream)
	if _, err := await(video.Call("play")); err != nil && !stopped() {
		p.setStatus("Webcam: could not play the camera stream: "+err.Error(), "warn")
	}
	p.setStatus("Webcam on.", "info")
	waiting := false
	for !stopped() {
		// HAVE_CURRENT_DATA: there is a frame to take.
		if video.Get("readyState").Int() < 2 || video.Get("videoWidth").Int() == 0 {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if !p.hasModel {
			if !waiting {
				p.setStatus("Webcam on. Start training or load a model to see it translated.", "info")
				waiting = true
			}
			time.Sleep(250 * time.Millisecond)
			continue
		}
		waiting = false
		for r, sent := range cam.inFlight {
			if time.Since(sent) > pageWebcamTimeout {
				delete(cam.inFlight, r) // lost: do not wait for it
			}
		}
		// One frame in flight per worker, and one more waiting, so that no
		// worker waits for the page between frames.
		if len(cam.inFlight) >= max(1, p.workerCount)+1 {
			select {
			case <-cam.stop:
				return
			case m := <-cam.out:
				p.takeFrame(cam, m)
			case <-time.After(250 * time.Millisecond):
			}
			continue
		}
		bitmap, err := await(js.Global().Call("createImageBitmap", video))
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if stopped() {
			bitmap.Call("close")
			return
		}
		cam.req++
		size := p.trainSize
		if size <= 0 {
			size = pageWebcamDefaultSize
		}
		p.post(MsgFrame, map[string]any{
			"req":       cam.req,
			"direction": p.selectEl("webcam-direction").Value(),
			"bitmap":    bitmap,
			"size":      size,
		}, bitmap)
		cam.inFlight[cam.req] = time.Now()
	}
}

// takeFrame settles the answer m to a frame in flight, drawing it unless a
// newer frame is already shown.
func (p *pageUI) takeFrame(cam *pageWebcam, m js.Value) {
	req := pageInt(m, "req")
	if _, ok := cam.inFlight[req]; !ok {
		return // a late answer to a frame given up on
	}
	delete(cam.inFlight, req)
	if req > cam.lastShown {
		cam.lastShown = req
		p.showFrame(cam, m)
	}
}

// onFrameOut hands MsgFrameOut to the webcam loop (never blocking).
func (p *pageUI) onFrameOut(m js.Value) {
	if p.cam == nil {
		return
	}
	select {
	case p.cam.out <- m:
	default:
	}
}

// showFrame draws a translated frame and updates the frame rate.
func (p *pageUI) showFrame(cam *pageWebcam, m js.Value) {
	pageDrawRGBA(p.canvas("webcam-output").Underlying(), m.Get("pixels"), pageInt(m, "width"), pageInt(m, "height"))
	now := time.Now()
	cam.shown = append(cam.shown, now)
	// Frames per second over the last two seconds.
	for len(cam.shown) > 1 && now.Sub(cam.shown[0]) > 2*time.Second {
		cam.shown = cam.shown[1:]
	}
	fps := 0.0
	if n := len(cam.shown); n > 1 {
		fps = float64(n-1) / now.Sub(cam.shown[0]).Seconds()
	}
	p.el("webcam-fps").SetTextContent(fmt.Sprintf("%.1f", fps))
	if ms := pageNum(m, "ms"); ms > 0 {
		p.el("webcam-ms").SetTextContent(fmt.Sprintf(", %.0f ms a frame", ms))
	}
}
