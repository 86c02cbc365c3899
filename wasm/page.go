//go:build js && wasm

package wasm

import (
	"encoding/json"
	"fmt"
	"strings"
	"syscall/js"
	"time"

	"honnef.co/go/js/dom/v2"
)

// The page's side of the app: wasm.RunPage builds the UI on the elements of
// site/index.html, starts the engine worker and talks to it with the
// messages of protocol.go. Everything that waits (file reading, the webcam,
// promises) runs in its own goroutine: a js.FuncOf callback never blocks.
//
// The page's names all start with "page" (or are methods of *pageUI): the
// package is shared with the worker.

// pageUI is the page's state. Go on wasm runs one goroutine at a time and
// switches only where one blocks, so the fields are used without locks;
// goroutines update them only between their blocking calls.
type pageUI struct {
	doc    dom.Document
	worker js.Value
	// workerCount is how many engine workers the page runs: the engine
	// worker and workerCount−1 peers that lend it their cores.
	workerCount int
	peers       []js.Value

	// Messages posted before the worker answered MsgReady wait here.
	ready  bool
	outbox []pageOutMsg

	state    string // "idle", "training", "paused" (MsgState)
	hasModel bool
	data     string // "none", "demo", "files"

	// trainSize is the image size of the current run (MsgStart, MsgPreview):
	// the webcam frames are translated at this size.
	trainSize int

	models  []ModelInfo
	skipped map[string][]pageSkip // per domain, from MsgIntake

	chart   *pageChart
	rafFunc js.Func
	rafSet  bool

	translateReq   int
	translateFile  js.Value
	translateURL   js.Value
	translatedName string

	cam *pageWebcam

	share *pageShare // page_share.go
}

// pageOutMsg is one queued postMessage.
type pageOutMsg struct {
	msg      js.Value
	transfer []any
}

// pageSkip is one skipped file as listed by MsgIntake.
type pageSkip struct {
	name, reason string
}

// RunPage starts the UI in the page's Go instance (wasm/app calls it when
// there is a document) and returns; the caller keeps the program alive.
func RunPage() {
	p := &pageUI{
		doc:       dom.GetWindow().Document(),
		state:     "idle",
		data:      "none",
		trainSize: 0,
		skipped:   map[string][]pageSkip{},

		workerCount: pageWorkerCount(js.Global().Get("navigator").Get("hardwareConcurrency")),
	}
	defer p.guard("starting the page")
	p.chart = newPageChart(p.canvas("loss-chart"), p.el("loss-legend"))
	p.rafFunc = js.FuncOf(func(js.Value, []js.Value) any {
		defer p.guard("drawing")
		p.rafSet = false
		p.chart.draw()
		return nil
	})
	p.setState("loading")

	p.setupData()
	p.setupSettings()
	p.setupTraining()
	p.setupModels()
	p.setupTranslate()
	p.setupWebcam()
	p.setupShare()

	js.Global().Get("document").Call("addEventListener", "visibilitychange", js.FuncOf(func(js.Value, []js.Value) any {
		defer p.guard("visibilitychange")
		if js.Global().Get("document").Get("visibilityState").String() == "hidden" &&
			(p.hasModel || p.state == "training" || p.state == "paused") {
			p.post(MsgSave, map[string]any{"reason": "page hidden"})
		}
		return nil
	}))
	js.Global().Call("addEventListener", "resize", js.FuncOf(func(js.Value, []js.Value) any {
		p.redraw()
		return nil
	}))

	p.startWorker()
	p.redraw()
}

// startWorker creates the engine worker from the bundle's worker source (a
// blob: URL, which also works from file://) and boots it with a copy of the
// WebAssembly module boot.js decoded.
func (p *pageUI) startWorker() {
	g := js.Global()
	bundle := g.Get("CYCLEGAN_BUNDLE")
	wasmBytes := g.Get("CYCLEGAN_WASM")
	if !bundle.Truthy() || bundle.Get("worker").Type() != js.TypeString || bundle.Get("worker").String() == "" || !wasmBytes.Truthy() {
		p.fail("bundle.js has no engine worker: run make site, then reload.")
		return
	}
	blob := g.Get("Blob").New([]any{bundle.Get("worker")}, map[string]any{"type": "text/javascript"})
	url := g.Get("URL").Call("createObjectURL", blob)
	w, err := pageTry(func() js.Value { return g.Get("Worker").New(url) })
	if err != nil {
		p.fail("Could not start the engine worker: " + err.Error())
		return
	}
	p.worker = w
	w.Set("onmessage", js.FuncOf(func(_ js.Value, args []js.Value) any {
		p.onMessage(args[0].Get("data"))
		return nil
	}))
	w.Set("onerror", js.FuncOf(func(_ js.Value, args []js.Value) any {
		defer p.guard("worker error")
		ev := args[0]
		msg := "unknown error"
		if m := ev.Get("message"); m.Type() == js.TypeString && m.String() != "" {
			msg = m.String()
		}
		ev.Call("preventDefault")
		p.fail("The engine worker failed: " + msg)
		return nil
	}))
	w.Set("onmessageerror", js.FuncOf(func(js.Value, []js.Value) any {
		p.setStatus("A message from the engine could not be read.", "error")
		return nil
	}))
	buf := wasmBytes.Call("slice").Get("buffer")
	// The peers first: each boots from its own copy of the module's bytes.
	for range p.workerCount - 1 {
		if err := p.startPeer(url, wasmBytes); err != nil {
			p.setStatus("Training uses one worker: a second could not start ("+err.Error()+").", "warn")
			break
		}
	}
	w.Call("postMessage", map[string]any{"type": MsgBoot, "wasm": buf}, []any{buf})
	if len(p.peers) > 0 {
		ports := make([]any, len(p.peers))
		for i, pw := range p.peers {
			ch := js.Global().Get("MessageChannel").New()
			pw.Call("postMessage", map[string]any{"type": MsgPeer, "port": ch.Get("port2")}, []any{ch.Get("port2")})
			ports[i] = ch.Get("port1")
		}
		w.Call("postMessage", map[string]any{"type": MsgPeers, "ports": ports}, ports)
	}
	// The worker has its copy; free the page's.
	g.Set("CYCLEGAN_WASM", js.Undefined())
	bundle.Set("worker", "")
	go func() {
		time.Sleep(60 * time.Second)
		if !p.ready && p.state != "error" {
			p.setStatus("The engine has not started after a minute. Is this browser out of memory? Try reloading.", "warn")
		}
	}()
}

// pageMaxWorkers caps the engine workers: a run splits into two halves
// (cyclegan.SplitTrainer), so a third core would have nothing to do.
const pageMaxWorkers = 2

// pageWorkerCount is how many engine workers to run for
// navigator.hardwareConcurrency hc (undefined in old browsers: one).
func pageWorkerCount(hc js.Value) int {
	if hc.Type() != js.TypeNumber {
		return 1
	}
	return max(1, min(pageMaxWorkers, hc.Int()))
}

// startPeer starts one peer worker (RunPeer) from the worker script at url
// and boots it; startWorker then joins it to the engine worker.
func (p *pageUI) startPeer(url, wasmBytes js.Value) error {
	g := js.Global()
	pw, err := pageTry(func() js.Value { return g.Get("Worker").New(url) })
	if err != nil {
		return err
	}
	// A peer reports only failures; the engine worker notices a lost peer
	// and goes on alone.
	pw.Set("onmessage", js.FuncOf(func(_ js.Value, args []js.Value) any {
		defer p.guard("a message from a peer worker")
		m := args[0].Get("data")
		if m.Get("type").String() == MsgStatus && m.Get("level").String() == "error" {
			p.setStatus("Second engine worker: "+m.Get("text").String(), "warn")
		}
		return nil
	}))
	pw.Set("onerror", js.FuncOf(func(_ js.Value, args []js.Value) any {
		defer p.guard("a peer worker error")
		args[0].Call("preventDefault")
		p.setStatus("The second engine worker failed: "+args[0].Get("message").String(), "warn")
		return nil
	}))
	buf := wasmBytes.Call("slice").Get("buffer")
	pw.Call("postMessage", map[string]any{"type": MsgBoot, "wasm": buf,
		"env": map[string]any{PeerRoleEnv: "peer"}}, []any{buf})
	p.peers = append(p.peers, pw)
	return nil
}

// post sends a message to the worker, queueing it until the worker is
// ready. fields may be nil; transfer lists the ArrayBuffers / ImageBitmaps
// to move rather than copy.
func (p *pageUI) post(typ string, fields map[string]any, transfer ...js.Value) {
	msg := js.Global().Get("Object").New()
	msg.Set("type", typ)
	for k, v := range fields {
		msg.Set(k, v)
	}
	tl := make([]any, len(transfer))
	for i, t := range transfer {
		tl[i] = t
	}
	if !p.ready || p.worker.IsUndefined() {
		p.outbox = append(p.outbox, pageOutMsg{msg, tl})
		return
	}
	p.worker.Call("postMessage", msg, tl)
}

// onMessage handles one message from the worker. It runs inside the
// worker's onmessage callback: only quick DOM work here.
func (p *pageUI) onMessage(m js.Value) {
	defer p.guard("handling a message from the engine")
	switch typ := m.Get("type").String(); typ {
	case MsgReady:
		p.ready = true
		if p.state == "loading" {
			p.setState("idle")
		}
		p.setStatus("Engine ready. Drop two folders of images, or try the demo.", "info")
		for _, o := range p.outbox {
			p.worker.Call("postMessage", o.msg, o.transfer)
		}
		p.outbox = nil
		p.onModels(m, true)
	case MsgIntake:
		p.onIntake(m)
	case MsgProgress:
		p.onProgress(m)
	case MsgPreview:
		p.onPreview(m)
	case MsgStatus:
		p.setStatus(pageStr(m, "text"), pageStr(m, "level"))
	case MsgState:
		p.onState(m)
	case MsgSaved:
		p.onSaved(m)
	case MsgModels:
		p.onModels(m, false)
	case MsgTranslated:
		p.onTranslated(m)
	case MsgFrameOut:
		p.onFrameOut(m)
	case MsgFile:
		p.onFile(m)
	default:
		js.Global().Get("console").Call("warn", "page: unknown message from the engine", m)
	}
}

// onState applies MsgState: the state badge, the buttons, the counters.
func (p *pageUI) onState(m js.Value) {
	p.setState(pageStr(m, "state"))
	p.hasModel = m.Get("hasModel").Truthy()
	if d := pageStr(m, "data"); d != "" {
		p.data = d
	}
	if m.Get("iteration").Type() == js.TypeNumber {
		p.el("iteration").SetTextContent(fmt.Sprint(pageInt(m, "iteration")))
	}
	if m.Get("total").Type() == js.TypeNumber {
		p.el("total").SetTextContent(fmt.Sprint(pageInt(m, "total")))
		p.setProgressBar(pageInt(m, "iteration"), pageInt(m, "total"))
	}
	if p.state == "training" {
		p.el("resume-offer").SetAttribute("hidden", "")
	}
	p.updateButtons()
}

// setState shows state in the #state badge and remembers it.
func (p *pageUI) setState(state string) {
	if state == "" {
		return
	}
	p.state = state
	el := p.el("state")
	el.SetTextContent(state)
	el.SetAttribute("data-state", state)
	p.updateButtons()
}

func (p *pageUI) updateButtons() {
	start := p.button("start")
	pause := p.button("pause")
	switch p.state {
	case "training":
		start.SetDisabled(true)
		pause.SetDisabled(false)
		pause.SetTextContent("Pause")
	case "paused":
		start.SetDisabled(false)
		pause.SetDisabled(false)
		pause.SetTextContent("Resume")
	case "error":
		start.SetDisabled(true)
		pause.SetDisabled(true)
		p.button("demo").SetDisabled(true)
	default:
		start.SetDisabled(false)
		pause.SetDisabled(true)
		pause.SetTextContent("Pause")
	}
	p.updateShare()
}

// setStatus shows text in #status (level "info", "warn" or "error") and
// adds it to the message log.
func (p *pageUI) setStatus(text, level string) {
	if level == "" {
		level = "info"
	}
	st := p.el("status")
	st.SetTextContent(text)
	st.SetAttribute("data-level", level)

	log := p.el("log")
	li := p.doc.CreateElement("li")
	li.SetAttribute("data-level", level)
	li.SetTextContent(time.Now().Format("15:04:05") + "  " + text)
	log.AppendChild(li)
	for len(log.ChildNodes()) > 200 {
		log.RemoveChild(log.FirstChild())
	}
	if level == "error" {
		js.Global().Get("console").Call("error", "cyclegan: "+text)
	}
}

// fail reports an error the page cannot recover from.
func (p *pageUI) fail(text string) {
	p.setStatus(text, "error")
	p.setState("error")
}

// guard, deferred at the top of every callback and goroutine, turns a panic
// into an error in #status instead of ending the page's Go program.
func (p *pageUI) guard(where string) {
	if r := recover(); r != nil {
		text := fmt.Sprintf("Page error while %s: %v", where, r)
		js.Global().Get("console").Call("error", text)
		func() {
			defer func() { recover() }()
			p.setStatus(text, "error")
		}()
	}
}

// redraw schedules a chart redraw on the next animation frame.
func (p *pageUI) redraw() {
	if p.rafSet {
		return
	}
	p.rafSet = true
	js.Global().Call("requestAnimationFrame", p.rafFunc)
}

// el returns the element with the given id; a missing one is a bug in
// index.html.
func (p *pageUI) el(id string) dom.Element {
	e := p.doc.GetElementByID(id)
	if e == nil {
		panic("page: index.html has no #" + id)
	}
	return e
}

func (p *pageUI) button(id string) *dom.HTMLButtonElement {
	return p.el(id).(*dom.HTMLButtonElement)
}

func (p *pageUI) input(id string) *dom.HTMLInputElement {
	return p.el(id).(*dom.HTMLInputElement)
}

func (p *pageUI) selectEl(id string) *dom.HTMLSelectElement {
	return p.el(id).(*dom.HTMLSelectElement)
}

func (p *pageUI) canvas(id string) *dom.HTMLCanvasElement {
	return p.el(id).(*dom.HTMLCanvasElement)
}

// on adds an event listener whose panics end up in #status.
func (p *pageUI) on(target dom.EventTarget, typ string, fn func(dom.Event)) {
	target.AddEventListener(typ, false, func(ev dom.Event) {
		defer p.guard(typ)
		fn(ev)
	})
}

// onClick adds a click listener to the element with the given id.
func (p *pageUI) onClick(id string, fn func()) {
	p.on(p.el(id), "click", func(dom.Event) { fn() })
}

// pageJSON converts v to a plain JS object through its JSON encoding, so
// the field names are exactly the protocol's struct tags.
func pageJSON(v any) js.Value {
	b, err := json.Marshal(v)
	if err != nil {
		panic("page: " + err.Error())
	}
	return js.Global().Get("JSON").Call("parse", string(b))
}

// pageTry calls f and turns a thrown JS exception into an error.
func pageTry(f func() js.Value) (v js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			if je, ok := r.(js.Error); ok {
				err = jsError(je.Value)
				return
			}
			err = fmt.Errorf("%v", r)
		}
	}()
	return f(), nil
}

func pageStr(o js.Value, key string) string {
	v := o.Get(key)
	if v.Type() != js.TypeString {
		return ""
	}
	return v.String()
}

func pageNum(o js.Value, key string) float64 {
	v := o.Get(key)
	if v.Type() != js.TypeNumber {
		return 0
	}
	return v.Float()
}

func pageInt(o js.Value, key string) int {
	return int(pageNum(o, key))
}

// pageDownload saves blob under name through a temporary <a download>.
func (p *pageUI) pageDownload(blob js.Value, name string) {
	url := js.Global().Get("URL").Call("createObjectURL", blob)
	a := p.doc.CreateElement("a").(*dom.HTMLAnchorElement)
	a.SetAttribute("href", url.String())
	a.SetAttribute("download", name)
	a.SetAttribute("hidden", "")
	p.doc.(dom.HTMLDocument).Body().AppendChild(a)
	a.Click()
	a.Remove()
	go func() {
		// Long enough for the browser to have started the download.
		time.Sleep(time.Minute)
		js.Global().Get("URL").Call("revokeObjectURL", url)
	}()
}

// pageFormatBytes is n in B, kB, MB or GB (powers of 1000, as storage
// quotas are usually shown).
func pageFormatBytes(n float64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%.0f B", n)
	case n < 1e6:
		return fmt.Sprintf("%.1f kB", n/1e3)
	case n < 1e9:
		return fmt.Sprintf("%.1f MB", n/1e6)
	default:
		return fmt.Sprintf("%.1f GB", n/1e9)
	}
}

// pageFormatDuration is a time left as "45 s", "3 min 20 s", "2 h 5 min".
func pageFormatDuration(seconds float64) string {
	if !(seconds >= 0) || seconds > 1e8 {
		return "–"
	}
	s := int(seconds + 0.5)
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s < 3600:
		return fmt.Sprintf("%d min %02d s", s/60, s%60)
	default:
		return fmt.Sprintf("%d h %02d min", s/3600, s%3600/60)
	}
}

// pageFormatRate is an iterations-per-second figure with sensible digits.
func pageFormatRate(r float64) string {
	switch {
	case !(r > 0):
		return "–"
	case r < 1:
		return fmt.Sprintf("%.2f", r)
	case r < 100:
		return fmt.Sprintf("%.1f", r)
	default:
		return fmt.Sprintf("%.0f", r)
	}
}

// pageBaseName is a file name without directories and extension.
func pageBaseName(name string) string {
	if i := strings.LastIndexAny(name, "/\\"); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		name = name[:i]
	}
	return name
}
