//go:build js && wasm

package wasm

import (
	"errors"
	"fmt"
	"image"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"syscall/js"
	"time"

	"github.com/cyclegan-wasm/cyclegan/cyclegan"
	"github.com/cyclegan-wasm/cyclegan/engine"
)

// The engine worker: a Go main loop inside a Web Worker that trains one
// CycleGAN Session a step at a time and answers the page between steps
// (protocol.go is the contract). There are no threads in Go on wasm, and
// JS events (messages, IndexedDB callbacks, decoded images) only run when
// every goroutine is blocked, so the loop yields to the event loop after
// every step.

// RunWorker runs the engine in the current Web Worker; it never returns.
// worker.js queues the messages that arrive before Go is up in
// self.__pending; they are handled first, in order.
func RunWorker() {
	in := &inbox{wake: make(chan struct{}, 1)}
	self := js.Global()
	onMessage := js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) > 0 {
			in.push(args[0].Get("data"))
		}
		return nil
	})
	self.Set("onmessage", onMessage)
	if p := self.Get("__pending"); p.Type() == js.TypeObject {
		for i, n := 0, p.Get("length").Int(); i < n; i++ {
			in.push(p.Index(i))
		}
		self.Set("__pending", js.Undefined())
	}

	w := newWorker(postMessage, nil)
	y := newYielder()
	w.in, w.yield = in, y.yield
	st, err := openStore()
	if err != nil {
		w.status("error", "Saved models are unavailable: %v. Training works, but checkpoints cannot be kept.", err)
	} else {
		w.store = st
	}
	w.postReady()
	w.postState()

	for {
		// One message at a time: a frame translated here may hand the
		// frames still queued to the peer (midFrame).
		for m, ok := in.pop(); ok; m, ok = in.pop() {
			if isBoot(m) {
				continue
			}
			w.handle(m)
			if str(m.Get("type")) == MsgFrame {
				// Let the peer's answers in (its port's callback frees it
				// for the next frame) before the next frame is placed.
				y.yield()
			}
		}
		if w.training() {
			w.step()
			y.yield() // let messages, frames and IndexedDB callbacks in
			continue
		}
		<-in.wake
	}
}

func isBoot(m js.Value) bool {
	return m.Type() == js.TypeObject && m.Get("type").Type() == js.TypeString && m.Get("type").String() == MsgBoot
}

// postMessage is the worker's self.postMessage with a transfer list.
func postMessage(msg js.Value, transfer []any) {
	if len(transfer) > 0 {
		js.Global().Call("postMessage", msg, js.ValueOf(transfer))
	} else {
		js.Global().Call("postMessage", msg)
	}
}

// inbox is the queue between the onmessage callback (which must never
// block) and the main loop.
type inbox struct {
	mu   sync.Mutex
	msgs []js.Value
	wake chan struct{} // capacity 1
}

func (in *inbox) push(v js.Value) {
	in.mu.Lock()
	in.msgs = append(in.msgs, v)
	in.mu.Unlock()
	select {
	case in.wake <- struct{}{}:
	default:
	}
}

// take takes every queued message, oldest first.
func (in *inbox) take() []js.Value {
	in.mu.Lock()
	defer in.mu.Unlock()
	m := in.msgs
	in.msgs = nil
	return m
}

// pop takes the oldest message, if any.
func (in *inbox) pop() (js.Value, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.msgs) == 0 {
		return js.Undefined(), false
	}
	m := in.msgs[0]
	in.msgs[0] = js.Undefined()
	in.msgs = in.msgs[1:]
	return m, true
}

// takeFrame takes the oldest MsgFrame, leaving the other messages queued
// in order.
func (in *inbox) takeFrame() (js.Value, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for i, m := range in.msgs {
		if m.Type() == js.TypeObject && str(m.Get("type")) == MsgFrame {
			in.msgs = append(in.msgs[:i], in.msgs[i+1:]...)
			return m, true
		}
	}
	return js.Undefined(), false
}

// yielder hands control back to the JS event loop for one turn: a message
// to itself through a MessageChannel (unlike setTimeout, not clamped to
// 4 ms), falling back to a 1 ms sleep.
type yielder struct {
	port js.Value
	ch   chan struct{}
}

func newYielder() *yielder {
	y := &yielder{ch: make(chan struct{}, 1)}
	mc := js.Global().Get("MessageChannel")
	if mc.Type() != js.TypeFunction {
		return y
	}
	c := mc.New()
	c.Get("port1").Set("onmessage", js.FuncOf(func(this js.Value, args []js.Value) any {
		select {
		case y.ch <- struct{}{}:
		default:
		}
		return nil
	}))
	y.port = c.Get("port2")
	return y
}

func (y *yielder) yield() {
	if y.port.IsUndefined() {
		time.Sleep(time.Millisecond)
		return
	}
	y.port.Call("postMessage", js.Null())
	<-y.ch
}

// Run states (MsgState).
const (
	stateIdle     = "idle"
	stateTraining = "training"
	statePaused   = "paused"
)

const (
	autosaveID             = "autosave"
	demoCount              = 100 // images per demo domain
	demoSeed               = 1
	defaultCheckpointEvery = 100
	// translateBudget bounds the memory one translation may take; larger
	// images are translated downscaled (the 7×7 convolutions' columns take
	// max(3, ngf)·49 floats per pixel).
	translateBudget    = 512 << 20
	translateMaxPixels = 4 << 20
)

// worker is the engine's state. Its methods run on one goroutine.
type worker struct {
	post  func(msg js.Value, transfer []any)
	store *store // nil when IndexedDB is unavailable

	cache *imageCache
	dec   *decoder // training images
	tdec  *decoder // translations and frames
	files [2]*fileDomain
	demo  bool // the built-in demo data is chosen
	// demoSet is the last demo data made, at load size size.
	demoSet struct {
		size int
		a, b cyclegan.MemoryDomain
	}

	// The current model. sess is a run that can step; without one, trainer
	// (with ckpt, its checkpoint bytes) is a model known from a file or the
	// store that becomes a Session on resume, with the domains of then.
	// bareGA is an imported bare generator, used for A → B translation.
	sess    *cyclegan.Session
	trainer *cyclegan.Trainer
	ckpt    []byte
	bareGA  *cyclegan.Generator
	runDoms [2]cyclegan.Domain // the session's domains

	runID    string // the store record the run saves to
	runName  string
	runData  string // "demo" or "files"
	runSaved bool   // runID holds a checkpoint of this run
	savedIt  int    // iteration of the last save

	state           string
	checkpointEvery int

	// Two-worker training (split.go): peer is the link to the peer worker
	// (nil without one), workers how many workers runs may use (0: all),
	// peerOff set once the peer failed; split is the current session's
	// coordinator while it trains on both.
	peer    *portConn
	workers int
	peerOff bool
	split   *splitCoordinator

	// Webcam frames: frames translates them here without allocating; when
	// not training, a frame goes to the peer whenever it is free
	// (framePeer), which holds the generators of peerGens. In the middle
	// of a frame here, midFrame yields to the event loop (yield; nil:
	// never) at most every midFrameEvery and hands a frame queued in in to
	// the peer as soon as the peer is free.
	frames        cyclegan.Translator
	peerFrameBusy bool
	peerGens      map[string]peerGen
	in            *inbox
	yield         func()
	midFrameEvery time.Duration
	midFrameAt    time.Time
	translating   bool // a frame is being translated here

	// Reporting.
	progressEvery, previewEvery time.Duration
	lastProgress, lastPreview   time.Time
	rateIt                      int
	rateT                       time.Time
	itPerSec                    float64
	losses                      cyclegan.Losses
	frameErrAt                  time.Time
	noStoreWarned               bool
	translateBudget             int // bytes (translateBudget; tests lower it)
}

func newWorker(post func(js.Value, []any), st *store) *worker {
	cache := newImageCache(defaultCacheBytes)
	dec := &decoder{}
	w := &worker{
		post: post, store: st, cache: cache, dec: dec, tdec: &decoder{},
		state: stateIdle, checkpointEvery: defaultCheckpointEvery,
		progressEvery: 500 * time.Millisecond, previewEvery: 2 * time.Second,
		translateBudget: translateBudget, midFrameEvery: 15 * time.Millisecond,
	}
	w.frames.Between = w.midFrame
	w.files[0] = newFileDomain("A", cache, dec)
	w.files[1] = newFileDomain("B", cache, dec)
	return w
}

func (w *worker) training() bool { return w.state == stateTraining && w.sess != nil }

// ---- Sending.

func (w *worker) send(typ string, fields map[string]any, transfer ...any) {
	m := map[string]any{"type": typ}
	for k, v := range fields {
		m[k] = v
	}
	w.post(js.ValueOf(m), transfer)
}

// status sends MsgStatus: level "info", "warn" or "error".
func (w *worker) status(level, format string, args ...any) {
	w.send(MsgStatus, map[string]any{"text": fmt.Sprintf(format, args...), "level": level})
}

func (w *worker) statusReq(req js.Value, level, format string, args ...any) {
	w.send(MsgStatus, map[string]any{"text": fmt.Sprintf(format, args...), "level": level, "req": req})
}

func (w *worker) dataKind() string {
	switch {
	case w.demo:
		return "demo"
	case w.files[0].Len()+w.files[1].Len() > 0:
		return "files"
	}
	return "none"
}

func (w *worker) hasModel() bool { return w.trainer != nil || w.bareGA != nil }

func configTotal(c cyclegan.Config) int { return c.ConstantIters + c.DecayIters }

func (w *worker) iteration() (it, total int) {
	if w.trainer != nil {
		return w.trainer.Iteration, configTotal(w.trainer.Config)
	}
	return 0, 0
}

func (w *worker) postState() {
	it, total := w.iteration()
	w.send(MsgState, map[string]any{"state": w.state, "iteration": it, "total": total,
		"hasModel": w.hasModel(), "data": w.dataKind()})
}

func (w *worker) setState(s string) {
	w.state = s
	w.postState()
}

func (w *worker) modelsFields() map[string]any {
	infos := []ModelInfo{}
	var usage, quota int64
	if w.store != nil {
		l, err := w.store.list()
		if err != nil {
			w.status("error", "%v", err)
		} else {
			infos = l
		}
		usage, quota = w.store.estimate()
	}
	models, _ := toJSObject(infos)
	return map[string]any{"models": models, "usage": usage, "quota": quota}
}

func (w *worker) postReady()  { w.send(MsgReady, w.modelsFields()) }
func (w *worker) postModels() { w.send(MsgModels, w.modelsFields()) }

// postIntake sends domain d's image count and every file skipped so far.
func (w *worker) postIntake(d int) {
	label := "AB"[d : d+1]
	count := 0
	skipped := []any{}
	if w.demo {
		count = demoCount
	} else {
		f := w.files[d]
		count = f.Len()
		for _, s := range f.skipped {
			skipped = append(skipped, map[string]any{"name": s.Name, "reason": s.Reason})
		}
		if w.sess != nil && w.runData == "files" {
			for _, s := range w.sess.Sampler.Skipped() {
				if s.Domain == label {
					skipped = append(skipped, map[string]any{"name": s.Name, "reason": s.Reason})
				}
			}
		}
	}
	w.send(MsgIntake, map[string]any{"domain": label, "count": count, "skipped": skipped})
}

func (w *worker) postProgress() {
	t := w.sess.Trainer
	now := time.Now()
	if !w.rateT.IsZero() && now.Sub(w.rateT) > 0 && t.Iteration > w.rateIt {
		r := float64(t.Iteration-w.rateIt) / now.Sub(w.rateT).Seconds()
		if w.itPerSec > 0 {
			r = 0.6*w.itPerSec + 0.4*r
		}
		w.itPerSec = r
		w.rateIt, w.rateT = t.Iteration, now
	}
	total := configTotal(t.Config)
	eta := 0.0
	if w.itPerSec > 0 {
		eta = float64(max(0, total-t.Iteration)) / w.itPerSec
	}
	l := w.losses
	w.send(MsgProgress, map[string]any{
		"iteration": t.Iteration, "total": total, "itPerSec": w.itPerSec, "etaSeconds": eta,
		"lr": t.LearningRate(), "workers": w.workersInUse(),
		"memory": wasmMemoryBytes(), "peerMemory": w.peerMemory(), "split": w.splitTiming(),
		"losses": map[string]any{"D_A": l.DA, "G_A": l.GA, "cycle_A": l.CycleA, "idt_A": l.IdtA,
			"D_B": l.DB, "G_B": l.GB, "cycle_B": l.CycleB, "idt_B": l.IdtB, "G": l.G},
	})
	w.lastProgress = now
}

func (w *worker) postPreview() {
	p := w.sess.Trainer.LastPreview()
	if w.split != nil {
		p = w.split.preview()
	}
	if p.RealA == nil {
		return
	}
	images := make([]any, 0, 6)
	for _, t := range []*engine.Tensor{p.RealA, p.FakeB, p.RecA, p.RealB, p.FakeA, p.RecB} {
		images = append(images, bytesToJS(cyclegan.TensorToImage(t).Pix))
	}
	_, _, size, _ := p.RealA.Dims()
	w.send(MsgPreview, map[string]any{"iteration": w.sess.Trainer.Iteration, "size": size, "images": images}, images...)
	w.lastPreview = time.Now()
}

// ---- Handling the page's messages.

// handle runs one page → worker message. It never panics: an internal
// failure is reported in words and the run paused.
func (w *worker) handle(msg js.Value) {
	defer w.recoverInternal("handling a message", false)
	if msg.Type() != js.TypeObject || msg.Get("type").Type() != js.TypeString {
		w.status("warn", "Ignored a message without a type.")
		return
	}
	switch typ := msg.Get("type").String(); typ {
	case MsgBoot:
	case MsgAddFiles:
		w.addFiles(msg)
	case MsgClearDomain:
		w.clearDomain(msg)
	case MsgDemo:
		w.useDemo()
	case MsgStart:
		w.start(msg.Get("config"))
	case MsgPause:
		w.pause()
	case MsgResume:
		w.resume(str(msg.Get("id")))
	case MsgSave:
		w.saveNow(str(msg.Get("reason")))
	case MsgTranslate:
		w.translate(msg)
	case MsgFrame:
		w.frame(msg)
	case MsgExport:
		w.export(str(msg.Get("what")), msg.Get("req"))
	case MsgImport:
		w.importFile(str(msg.Get("name")), msg.Get("bytes"))
	case MsgListModels:
		w.postModels()
	case MsgDeleteModel:
		w.deleteModel(str(msg.Get("id")))
	case MsgPeers:
		if ports := msg.Get("ports"); ports.Type() == js.TypeObject && ports.Length() > 0 && w.peer == nil {
			w.peer = newPortConn(ports.Index(0))
			w.peer.intercept = w.peerFrameOut
		}
	case MsgWorkers:
		if c := msg.Get("count"); c.Type() == js.TypeNumber {
			w.workers = c.Int()
		}
	default:
		w.status("warn", "Ignored an unknown message %q.", typ)
	}
}

// recoverInternal turns a panic into an error message (the worker must
// survive: a dead worker loses the run); a failure of training pauses it.
func (w *worker) recoverInternal(what string, pause bool) {
	r := recover()
	if r == nil {
		return
	}
	if je, ok := r.(js.Error); ok {
		r = jsError(je.Value)
	}
	println("cyclegan worker: panic while", what+":", fmt.Sprint(r), "\n", string(debug.Stack()))
	if pause && w.state == stateTraining {
		w.state = statePaused
		w.status("error", "Internal error while %s: %v. Training is paused.", what, r)
		w.postState()
		return
	}
	w.status("error", "Internal error while %s: %v.", what, r)
}

func str(v js.Value) string {
	if v.Type() == js.TypeString {
		return v.String()
	}
	return ""
}

func domainIndex(v js.Value) (int, bool) {
	switch str(v) {
	case "A":
		return 0, true
	case "B":
		return 1, true
	}
	return 0, false
}

func (w *worker) addFiles(msg js.Value) {
	d, ok := domainIndex(msg.Get("domain"))
	if !ok {
		w.status("error", "Adding files: domain %q is neither A nor B.", str(msg.Get("domain")))
		return
	}
	wasDemo := w.demo
	w.demo = false
	added, skipped := w.files[d].add(msg.Get("files"), msg.Get("paths"))
	if wasDemo {
		w.postIntake(1 - d)
	}
	w.postIntake(d)
	text := fmt.Sprintf("Added %d image%s to domain %s (%d in all).", added, plural(added), "AB"[d:d+1], w.files[d].Len())
	if len(skipped) > 0 {
		names := make([]string, 0, 3)
		for i, s := range skipped {
			if i == 3 {
				names = append(names, "…")
				break
			}
			names = append(names, s.Name)
		}
		text += fmt.Sprintf(" Skipped %d file%s that %s not images: %s.", len(skipped), plural(len(skipped)),
			map[bool]string{true: "is", false: "are"}[len(skipped) == 1], strings.Join(names, ", "))
	}
	if w.training() {
		text += " They are used from the next start or resume."
	}
	level := "info"
	if len(skipped) > 0 {
		level = "warn"
	}
	w.status(level, "%s", text)
	w.postState()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (w *worker) clearDomain(msg js.Value) {
	d, ok := domainIndex(msg.Get("domain"))
	if !ok {
		w.status("error", "Clearing a domain: %q is neither A nor B.", str(msg.Get("domain")))
		return
	}
	w.files[d].clear()
	if w.demo {
		w.demo = false
		w.postIntake(1 - d)
	}
	w.postIntake(d)
	w.status("info", "Domain %s has no images now.", "AB"[d:d+1])
	w.postState()
}

func (w *worker) useDemo() {
	w.demo = true
	w.postIntake(0)
	w.postIntake(1)
	w.status("info", "Using the built-in demo data: %d warm soft discs (A) and %d cool striped squares (B).", demoCount, demoCount)
	w.postState()
}

// demoDomains are the demo data at a load size (regenerated, so a run on
// them resumes without any file). The last set made is kept: making one
// takes a while at large sizes.
func (w *worker) demoDomains(loadSize int) (cyclegan.Domain, cyclegan.Domain) {
	if w.demoSet.size != loadSize {
		a, b := cyclegan.DemoDomains(demoCount, loadSize, demoSeed)
		w.demoSet.size, w.demoSet.a, w.demoSet.b = loadSize, a, b
	}
	return w.demoSet.a, w.demoSet.b
}

// runDomains picks the domains of a run: the demo data when chosen, else
// the files of both domains; hint "demo" (the saved run's data) takes the
// demo data when no file is loaded, so a reload resumes a demo run.
func (w *worker) runDomains(loadSize int, hint string) (a, b cyclegan.Domain, data string, err error) {
	nA, nB := w.files[0].Len(), w.files[1].Len()
	switch {
	case w.demo || (hint == "demo" && nA == 0 && nB == 0):
		a, b = w.demoDomains(loadSize)
		return a, b, "demo", nil
	case nA > 0 && nB > 0:
		return w.files[0].snapshot(loadSize), w.files[1].snapshot(loadSize), "files", nil
	case nA == 0 && nB == 0 && hint == "files":
		return nil, nil, "", errors.New("this model was trained on your own images: add the images of domains A and B (or choose the demo data), then resume")
	case nA == 0 && nB == 0:
		return nil, nil, "", errors.New("there are no training images: add images to domains A and B, or choose the demo data")
	case nA == 0:
		return nil, nil, "", errors.New("domain A has no images yet: add some, or choose the demo data")
	default:
		return nil, nil, "", errors.New("domain B has no images yet: add some, or choose the demo data")
	}
}

// settingsConfig maps the page's settings to a training configuration.
func settingsConfig(s Settings) (cyclegan.Config, error) {
	if s.Iterations < 1 {
		return cyclegan.Config{}, fmt.Errorf("%d iterations: at least 1 is needed", s.Iterations)
	}
	if s.Size < 16 || s.Size%4 != 0 {
		return cyclegan.Config{}, fmt.Errorf("image size %d: it must be a multiple of 4, at least 16", s.Size)
	}
	cfg := cyclegan.DefaultConfig()
	cfg.CropSize = s.Size
	cfg.LoadSize = cyclegan.DefaultAugment(s.Size).LoadSize
	cfg.NGF, cfg.Blocks, cfg.NDF = s.NGF, s.Blocks, s.NDF
	cfg.LambdaIdentity = s.Identity
	cfg.Seed = s.Seed
	cfg.ConstantIters = s.Iterations / 2
	cfg.DecayIters = s.Iterations - cfg.ConstantIters
	cfg.DLayers = 3
	if s.Size < 64 {
		cfg.DLayers = 2
	}
	if err := cfg.Validate(); err != nil {
		return cyclegan.Config{}, err
	}
	return cfg, nil
}

// useSession makes s the current run.
func (w *worker) useSession(s *cyclegan.Session, a, b cyclegan.Domain) {
	w.sess, w.trainer, w.ckpt, w.bareGA = s, s.Trainer, nil, nil
	w.split = nil
	w.runDoms = [2]cyclegan.Domain{a, b}
	s.Sampler.OnSkip = w.onSkip
	w.losses = cyclegan.Losses{}
	w.resetRate()
}

func (w *worker) resetRate() {
	w.itPerSec = 0
	w.rateT = time.Now()
	if w.trainer != nil {
		w.rateIt = w.trainer.Iteration
	}
	w.lastProgress, w.lastPreview = time.Time{}, time.Time{}
}

func (w *worker) onSkip(s cyclegan.Skipped) {
	w.status("warn", "Skipped %s (domain %s): %s. Training goes on with the other images.", s.Name, s.Domain, strings.TrimRight(s.Reason, ". "))
	if w.runData == "files" {
		w.postIntake(strings.Index("AB", s.Domain))
	}
}

func (w *worker) start(config js.Value) {
	var s Settings
	if err := fromJSObject(config, &s); err != nil {
		w.status("error", "Cannot start: the settings are unreadable (%v).", err)
		return
	}
	cfg, err := settingsConfig(s)
	if err != nil {
		w.status("error", "Cannot start: %v.", err)
		return
	}
	a, b, data, err := w.runDomains(cfg.LoadSize, "")
	if err != nil {
		w.status("error", "Cannot start: %v.", err)
		return
	}
	sess, err := cyclegan.NewSession(cfg, a, b)
	if err != nil {
		w.status("error", "Cannot start: %v.", err)
		return
	}
	w.stopCurrent()
	w.useSession(sess, a, b)
	w.runID, w.runData, w.runSaved, w.savedIt = autosaveID, data, false, 0
	w.runName = fmt.Sprintf("%s, %d px, ngf %d, %d blocks", map[string]string{"demo": "Demo data", "files": "Your images"}[data],
		cfg.CropSize, cfg.NGF, cfg.Blocks)
	w.checkpointEvery = s.CheckpointEvery
	w.workers = s.Workers
	if w.checkpointEvery <= 0 {
		w.checkpointEvery = defaultCheckpointEvery
	}
	w.status("info", "Training started: %d iterations at %d px on %s (%d A and %d B images).",
		configTotal(cfg), cfg.CropSize, map[string]string{"demo": "the demo data", "files": "your images"}[data], a.Len(), b.Len())
	w.setState(stateTraining)
}

// stopCurrent saves the current run, if it is training and has unsaved
// iterations, before another takes its place.
func (w *worker) stopCurrent() {
	if w.training() && w.sess.Trainer.Iteration > w.savedIt {
		w.save("")
	}
	if w.state == stateTraining {
		w.state = statePaused
	}
}

func (w *worker) pause() {
	if !w.training() {
		return
	}
	w.state = statePaused
	w.postProgress()
	w.postPreview()
	w.postState()
	if w.sess.Trainer.Iteration > w.savedIt || !w.runSaved {
		w.save("paused")
	}
	w.status("info", "Paused at iteration %d.", w.sess.Trainer.Iteration)
}

func (w *worker) finished() bool {
	return w.trainer != nil && w.trainer.Iteration >= configTotal(w.trainer.Config)
}

func (w *worker) resume(id string) {
	if id != "" && id == w.runID && (w.sess != nil || w.ckpt != nil) {
		id = "" // the current run: continue it as it is
	}
	if id == "" && w.training() {
		return
	}
	if id == "" && (w.sess != nil || w.ckpt != nil) {
		if w.finished() {
			it, _ := w.iteration()
			w.status("info", "This run is complete (%d iterations): start a new one to train further.", it)
			return
		}
		if w.sess == nil {
			if err := w.sessionFromCheckpoint(w.ckpt, w.runData); err != nil {
				w.status("error", "Cannot resume: %v.", err)
				return
			}
		}
		w.resetRate()
		w.status("info", "Training resumed at iteration %d.", w.sess.Trainer.Iteration)
		w.setState(stateTraining)
		return
	}
	if id == "" {
		id = autosaveID
		if w.store != nil {
			if _, _, err := w.store.load(id); err != nil {
				w.status("error", "There is no run to resume: start one, or pick a saved model.")
				return
			}
		}
	}
	if w.store == nil {
		w.status("error", "Cannot resume %q: saved models are unavailable in this browser.", id)
		return
	}
	info, ckpt, err := w.store.load(id)
	if err != nil {
		w.status("error", "Cannot resume: %v.", err)
		return
	}
	w.stopCurrent()
	if err := w.sessionFromCheckpoint(ckpt, info.Data); err != nil {
		w.status("error", "Cannot resume %q: %v.", info.Name, err)
		w.postState()
		return
	}
	w.runID, w.runName, w.runSaved, w.savedIt = id, info.Name, true, w.sess.Trainer.Iteration
	if w.finished() {
		w.status("info", "Loaded %q: the run is complete (%d iterations); it translates, and a new run trains further.", info.Name, w.sess.Trainer.Iteration)
		w.setState(stateIdle)
		return
	}
	w.status("info", "Resumed %q at iteration %d of %d.", info.Name, w.sess.Trainer.Iteration, configTotal(w.sess.Trainer.Config))
	w.setState(stateTraining)
}

// sessionFromCheckpoint makes a Session of ckpt on the domains of now
// (dataHint: what the run was trained on) and makes it current.
func (w *worker) sessionFromCheckpoint(ckpt []byte, dataHint string) error {
	t, _, err := cyclegan.UnmarshalCheckpoint(ckpt)
	if err != nil {
		return err
	}
	a, b, data, err := w.runDomains(t.Config.LoadSize, dataHint)
	if err != nil {
		return err
	}
	sess, err := cyclegan.ResumeSession(ckpt, a, b)
	if err != nil {
		return err
	}
	w.useSession(sess, a, b)
	w.runData = data
	if data == "demo" && !w.demo {
		// Regenerated for a run trained on them (after a reload).
		w.demo = true
		w.postIntake(0)
		w.postIntake(1)
	}
	if sess.DataChanged {
		w.status("info", "The images differ from those this model was trained on: training continues on a fresh order of the current images.")
	}
	if data == "files" {
		w.postIntake(0)
		w.postIntake(1)
	}
	return nil
}

func (w *worker) saveNow(reason string) {
	if w.sess == nil {
		if reason == "" {
			w.status("info", "Nothing to save: no run in progress.")
		}
		return
	}
	if w.runSaved && w.sess.Trainer.Iteration == w.savedIt {
		return // already saved at this iteration
	}
	w.save(reason)
}

// save writes the run's checkpoint to the store (record runID) and sends
// MsgSaved. A failure (storage full, …) is reported and training goes on.
func (w *worker) save(reason string) bool {
	if w.store == nil {
		if !w.noStoreWarned {
			w.status("warn", "Checkpoints are not saved: saved models are unavailable in this browser (export the model to keep it).")
			w.noStoreWarned = true
		}
		return false
	}
	t := w.sess.Trainer
	ckpt, err := w.sess.Checkpoint()
	if err != nil {
		w.status("error", "Could not make a checkpoint at iteration %d: %v.", t.Iteration, err)
		return false
	}
	info := ModelInfo{ID: w.runID, Name: w.runName, Iteration: t.Iteration, Total: configTotal(t.Config),
		Date: time.Now().UnixMilli(), Size: len(ckpt), Data: w.runData}
	if err := w.store.save(info, ckpt); err != nil {
		more := ""
		if w.training() {
			more = " Training goes on."
		}
		w.status("error", "Checkpoint at iteration %d not saved: %v.%s", t.Iteration, err, more)
		return false
	}
	w.runSaved, w.savedIt = true, t.Iteration
	w.send(MsgSaved, map[string]any{"id": info.ID, "iteration": info.Iteration, "bytes": info.Size})
	if reason != "" && reason != "paused" {
		w.status("info", "Saved the checkpoint of iteration %d (%s).", t.Iteration, reason)
	}
	w.postModels()
	return true
}

// step runs one training iteration and the reports, saves and end that
// follow it.
func (w *worker) step() {
	defer w.recoverInternal("training", true)
	s := w.sess
	t := s.Trainer
	total := configTotal(t.Config)
	if t.Iteration >= total {
		w.finish()
		return
	}
	if w.rateT.IsZero() {
		w.resetRate()
	}
	w.useWorkers()
	losses, err := s.Step()
	switch {
	case err == nil:
		w.losses = losses
	case errors.Is(err, errPeer):
		w.peerFailed(err)
		return
	case errors.Is(err, cyclegan.ErrDiverged):
		w.diverged(err)
		return
	case errors.Is(err, cyclegan.ErrNonFinite):
		// The error says which iteration and which step: with two
		// workers a discriminator's may be the previous iteration's.
		w.status("warn", "Training goes on after a discarded step: %v.", err)
	case errors.Is(err, cyclegan.ErrEmptyDomain):
		w.status("error", "Training stopped: %v.", err)
		w.setState(statePaused)
		return
	default:
		w.status("error", "Training stopped at iteration %d: %v.", t.Iteration, err)
		w.setState(statePaused)
		return
	}
	now := time.Now()
	done := t.Iteration >= total
	if done || now.Sub(w.lastProgress) >= w.progressEvery {
		w.postProgress()
	}
	if done || now.Sub(w.lastPreview) >= w.previewEvery {
		w.postPreview()
	}
	// No periodic save while steps are being discarded: the last good
	// checkpoint is what a divergence restores.
	if !done && w.checkpointEvery > 0 && t.Iteration%w.checkpointEvery == 0 && t.BadSteps == 0 {
		w.save("")
	}
	if done {
		w.finish()
	}
}

// useWorkers makes the current session train on two workers when a peer is
// there and allowed, before its first step (a new Session, from a start,
// a resume or a restore, starts on one).
func (w *worker) useWorkers() {
	if w.split != nil || w.peer == nil || w.peerOff || w.workers == 1 {
		return
	}
	c, err := startSplit(w.peer, w.sess.Trainer)
	if err != nil {
		w.peerOff = true
		w.status("warn", "The second engine worker is unavailable (%v): training goes on with one worker.", err)
		return
	}
	w.split = c
	w.sess.Stepper = c
}

// splitTiming is the two-worker run's timing so far (MsgProgress), or
// null on one worker.
func (w *worker) splitTiming() any {
	if w.split == nil {
		return nil
	}
	return w.split.timing.js()
}

// peerMemory is the peer's memory in bytes as it last reported it (0
// without a peer).
func (w *worker) peerMemory() int {
	if w.split == nil {
		return 0
	}
	return w.split.peerMemory
}

// workersInUse is how many workers train the current run.
func (w *worker) workersInUse() int {
	if w.split != nil {
		return 2
	}
	return 1
}

// peerFailed ends a two-worker run whose peer failed mid-iteration: the
// state of this half is then incomplete, so the run goes on, with one
// worker, from its last checkpoint.
func (w *worker) peerFailed(cause error) {
	it := w.sess.Trainer.Iteration
	w.peerOff = true
	w.split = nil
	if w.store != nil && w.runSaved {
		info, ckpt, err := w.store.load(w.runID)
		if err == nil {
			var sess *cyclegan.Session
			if sess, err = cyclegan.ResumeSession(ckpt, w.runDoms[0], w.runDoms[1]); err == nil {
				w.useSession(sess, w.runDoms[0], w.runDoms[1])
				w.savedIt = sess.Trainer.Iteration
				w.status("warn", "The second engine worker failed at iteration %d (%v): training goes on with one worker from the checkpoint of iteration %d.",
					it, cause, info.Iteration)
				return
			}
		}
		w.status("error", "The second engine worker failed at iteration %d (%v), and the last checkpoint could not be restored: %v. Training is stopped.", it, cause, err)
	} else {
		w.status("error", "The second engine worker failed at iteration %d (%v) before any checkpoint was saved: training is stopped; start the run again (it will use one worker).", it, cause)
		w.sess, w.trainer = nil, nil
	}
	w.setState(statePaused)
}

// finish ends a run that reached its last iteration.
func (w *worker) finish() {
	t := w.sess.Trainer
	if !w.runSaved || w.savedIt != t.Iteration {
		w.save("")
	}
	w.status("info", "Training complete: %d iterations. The model translates now; export it to keep a file.", t.Iteration)
	w.setState(stateIdle)
}

// diverged restores the last checkpoint of the run and stops.
func (w *worker) diverged(cause error) {
	it := w.sess.Trainer.Iteration
	w.state = statePaused
	if w.store != nil && w.runSaved {
		info, ckpt, err := w.store.load(w.runID)
		if err == nil {
			var sess *cyclegan.Session
			sess, err = cyclegan.ResumeSession(ckpt, w.runDoms[0], w.runDoms[1])
			if err == nil {
				w.useSession(sess, w.runDoms[0], w.runDoms[1])
				w.savedIt = sess.Trainer.Iteration
				w.status("error", "Training diverged at iteration %d (%d steps in a row gave non-finite values). Restored the checkpoint of iteration %d (%q) and stopped; resume to try again from there, or start a new run with other settings.",
					it, cyclegan.MaxBadSteps, info.Iteration, info.Name)
				w.postState()
				return
			}
		}
		w.status("error", "Training diverged at iteration %d (%v), and the last checkpoint could not be restored: %v. Training is stopped.", it, cause, err)
		w.postState()
		return
	}
	w.sess.Trainer.BadSteps = 0
	w.status("error", "Training diverged at iteration %d (%d steps in a row gave non-finite values) before any checkpoint was saved: training is stopped, on the last good weights.", it, cyclegan.MaxBadSteps)
	w.postState()
}

// ---- Translation.

// generator is the generator of a direction, or an error in words.
func (w *worker) generator(dir string) (*cyclegan.Generator, error) {
	switch dir {
	case "AtoB", "":
		if w.bareGA != nil {
			return w.bareGA, nil
		}
		if w.trainer != nil {
			return w.trainer.GA, nil
		}
	case "BtoA":
		if w.trainer != nil {
			return w.trainer.GB, nil
		}
		if w.bareGA != nil {
			return nil, errors.New("the imported generator translates A → B only")
		}
	default:
		return nil, fmt.Errorf("unknown direction %q (AtoB or BtoA)", dir)
	}
	return nil, errors.New("there is no model yet: train, resume or import one first")
}

// translatePixels is how many pixels an image may have to be translated
// at once by g within budget bytes: the im2col columns of the 7×7
// convolutions (max(3, ngf)·49 floats a pixel) and a few activations.
func translatePixels(g *cyclegan.Generator, budget int) int {
	perPixel := 4 * (max(3, g.NGF)*49 + 8*g.NGF + 16)
	return max(64*64, min(translateMaxPixels, budget/perPixel))
}

func (w *worker) translate(msg js.Value) {
	req := msg.Get("req")
	file := msg.Get("file")
	if file.Type() != js.TypeObject {
		w.statusReq(req, "error", "Cannot translate: the message carries no file.")
		return
	}
	name := str(file.Get("name"))
	if name == "" {
		name = "the image"
	}
	g, err := w.generator(str(msg.Get("direction")))
	if err != nil {
		w.statusReq(req, "error", "Cannot translate %s: %v.", name, err)
		return
	}
	start := time.Now()
	limit := translatePixels(g, w.translateBudget)
	var ow, oh int
	img, err := w.tdec.decodeFile(file, func(iw, ih int) (int, int) {
		ow, oh = iw, ih
		return fitPixels(iw, ih, limit)
	}, false)
	if err != nil {
		w.statusReq(req, "error", "Cannot translate %s: %v.", name, err)
		return
	}
	b := img.Bounds()
	out := cyclegan.Translate(g, img)
	ms := float64(time.Since(start).Microseconds()) / 1000
	pix := bytesToJS(out.Pix)
	w.send(MsgTranslated, map[string]any{"req": req, "width": b.Dx(), "height": b.Dy(), "pixels": pix, "ms": ms}, pix)
	if b.Dx()*b.Dy() < ow*oh {
		w.statusReq(req, "info", "%s (%d×%d) was translated at %d×%d to fit in memory.", name, ow, oh, b.Dx(), b.Dy())
	}
}

func (w *worker) frame(msg js.Value) {
	req, bm := msg.Get("req"), msg.Get("bitmap")
	defer func() {
		if bm.Type() == js.TypeObject && bm.Get("close").Type() == js.TypeFunction {
			bm.Call("close")
		}
	}()
	fail := func(format string, args ...any) {
		// Frames come many a second: say it once in a while.
		if time.Since(w.frameErrAt) > 5*time.Second {
			w.statusReq(req, "error", format, args...)
			w.frameErrAt = time.Now()
		}
	}
	g, err := w.generator(str(msg.Get("direction")))
	if err != nil {
		fail("Cannot translate the camera: %v.", err)
		return
	}
	size := 0
	if v := msg.Get("size"); v.Type() == js.TypeNumber {
		size = v.Int()
	}
	if size < 1 || size > 1024 {
		fail("Cannot translate the camera: frame size %d (1 to 1024).", size)
		return
	}
	if bm.Type() != js.TypeObject || bm.Get("width").Type() != js.TypeNumber || bm.Get("width").Int() <= 0 {
		fail("Cannot translate the camera: the frame has no pixels.")
		return
	}
	if w.framePeer(msg, g, size) {
		bm = js.Undefined() // transferred to the peer, which closes it
		return
	}
	if w.translating {
		// From midFrame, in the middle of a frame here: w.frames is busy.
		fail("Cannot translate the camera: the second worker did not take a frame.")
		return
	}
	w.translating, w.midFrameAt = true, time.Now()
	defer func() { w.translating = false }()
	pix, ms, err := translateFrame(w.tdec, &w.frames, g, bm, size)
	if err != nil {
		fail("Cannot translate the camera: %v.", err)
		return
	}
	w.send(MsgFrameOut, map[string]any{"req": req, "width": size, "height": size, "pixels": pix, "ms": ms}, pix)
}

// translateFrame draws the ImageBitmap bm at size×size and translates it
// with g on tr; it returns the RGBA pixels (an ArrayBuffer) and the time it
// took in milliseconds.
func translateFrame(dec *decoder, tr *cyclegan.Translator, g *cyclegan.Generator, bm js.Value, size int) (js.Value, float64, error) {
	start := time.Now()
	rw, rh := fitForLoad(bm.Get("width").Int(), bm.Get("height").Int(), size)
	img, err := dec.draw(bm, rw, rh)
	if err != nil {
		return js.Undefined(), 0, err
	}
	var in image.Image = img
	if rw != size || rh != size {
		in = cyclegan.Resize(img, size, size)
	}
	out := cyclegan.TensorToImage(tr.Translate(g, cyclegan.ImageToTensorSize(in, size, size)))
	return bytesToJS(out.Pix), float64(time.Since(start).Microseconds()) / 1000, nil
}

// ---- Files.

// export answers MsgExport with MsgFile, echoing req (a share's export
// is told from a download by it).
func (w *worker) export(what string, req js.Value) {
	it, _ := w.iteration()
	var (
		b    []byte
		err  error
		name string
	)
	switch what {
	case "checkpoint":
		switch {
		case w.sess != nil:
			b, err = w.sess.Checkpoint()
		case w.ckpt != nil:
			b = w.ckpt
		default:
			err = errors.New("there is no training run to export (train, resume or import one)")
		}
		name = fmt.Sprintf("cyclegan-checkpoint-it%d.safetensors", it)
	case "G_A", "G_B":
		var g *cyclegan.Generator
		dir := map[string]string{"G_A": "AtoB", "G_B": "BtoA"}[what]
		if g, err = w.generator(dir); err == nil {
			meta := map[string]string{"net": what, "direction": map[string]string{"G_A": "A→B", "G_B": "B→A"}[what],
				"ngf": fmt.Sprint(g.NGF), "blocks": fmt.Sprint(g.Blocks)}
			if w.trainer != nil && !(what == "G_A" && w.bareGA != nil) {
				meta["iteration"] = fmt.Sprint(it)
				meta["crop_size"] = fmt.Sprint(w.trainer.Config.CropSize)
			}
			b, err = cyclegan.MarshalGenerator(g, meta)
		}
		name = fmt.Sprintf("cyclegan-%s-it%d.safetensors", what, it)
		if what == "G_A" && w.bareGA != nil {
			name = "cyclegan-G_A.safetensors"
		}
	default:
		err = fmt.Errorf("unknown export %q (checkpoint, G_A or G_B)", what)
	}
	if err != nil {
		w.statusReq(req, "error", "Cannot export: %v.", err)
		return
	}
	buf := bytesToJS(b)
	w.send(MsgFile, map[string]any{"name": name, "bytes": buf, "req": req}, buf)
	w.status("info", "Exported %s (%s).", name, formatBytes(int64(len(b))))
}

var unsafeID = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func (w *worker) importFile(name string, bytesV js.Value) {
	if name == "" {
		name = "the file"
	}
	b := bytesFromJS(bytesV)
	if len(b) == 0 {
		w.status("error", "Cannot import %s: it is empty or was not sent as bytes.", name)
		return
	}
	t, _, cerr := cyclegan.UnmarshalCheckpoint(b)
	if cerr == nil {
		w.importCheckpoint(name, b, t)
		return
	}
	claimed := !errors.Is(cerr, cyclegan.ErrNotCheckpoint) && (errors.Is(cerr, cyclegan.ErrVersion) ||
		errors.Is(cerr, cyclegan.ErrShape) || errors.Is(cerr, cyclegan.ErrMissingKey) ||
		errors.Is(cerr, cyclegan.ErrUnexpectedKey) || errors.Is(cerr, cyclegan.ErrDType) || errors.Is(cerr, cyclegan.ErrConfig))
	if claimed {
		w.status("error", "Cannot import %s: it is a training checkpoint this app cannot use: %v.", name, cerr)
		return
	}
	g, gerr := cyclegan.UnmarshalGenerator(b, "G_A")
	if gerr != nil {
		w.status("error", "Cannot import %s: it is neither a CycleGAN training checkpoint nor a generator (%v).", name, gerr)
		return
	}
	w.bareGA = g
	w.status("info", "Imported %s as the A → B generator (ngf %d, %d blocks): it translates A → B now.", name, g.NGF, g.Blocks)
	w.postState()
}

// importCheckpoint makes an imported training checkpoint the current
// model, paused (resumable), and saves it to the store.
func (w *worker) importCheckpoint(name string, b []byte, t *cyclegan.Trainer) {
	w.stopCurrent()
	cfg := t.Config
	// Trained on the demo data? Then it resumes on it with no file.
	data := "files"
	da, db := w.demoDomains(cfg.LoadSize)
	if s, err := cyclegan.ResumeSession(b, da, db); err == nil && !s.DataChanged {
		data = "demo"
	}
	w.sess, w.trainer, w.ckpt, w.bareGA = nil, t, b, nil
	w.runDoms = [2]cyclegan.Domain{}
	base := strings.TrimSuffix(name, ".safetensors")
	w.runID = "import-" + strings.Trim(unsafeID.ReplaceAllString(base, "_"), "_")
	w.runName, w.runData, w.runSaved, w.savedIt = base, data, false, t.Iteration
	total := configTotal(cfg)
	if w.store != nil {
		info := ModelInfo{ID: w.runID, Name: w.runName, Iteration: t.Iteration, Total: total,
			Date: time.Now().UnixMilli(), Size: len(b), Data: data}
		if err := w.store.save(info, b); err != nil {
			w.status("warn", "The imported checkpoint works, but was not saved in the browser: %v.", err)
		} else {
			w.runSaved = true
			w.send(MsgSaved, map[string]any{"id": info.ID, "iteration": info.Iteration, "bytes": info.Size})
			w.postModels()
		}
	}
	on := map[string]string{"demo": "the demo data", "files": "other images"}[data]
	w.status("info", "Imported checkpoint %s: iteration %d of %d, %d px, ngf %d, %d blocks, trained on %s. It translates now; resume to train on.",
		name, t.Iteration, total, cfg.CropSize, cfg.NGF, cfg.Blocks, on)
	if w.finished() {
		w.setState(stateIdle)
	} else {
		w.setState(statePaused)
	}
}

func (w *worker) deleteModel(id string) {
	if w.store == nil {
		w.status("error", "Saved models are unavailable in this browser.")
		return
	}
	if id == "" {
		w.status("error", "Cannot delete a saved model without its id.")
		return
	}
	if err := w.store.delete(id); err != nil {
		w.status("error", "%v.", err)
		return
	}
	if id == w.runID {
		w.runSaved = false
	}
	w.status("info", "Deleted the saved model %q.", id)
	w.postModels()
}

// ---- Webcam frames on the peer.

// peerGen identifies the generator the peer holds for a direction: which
// one, at which training iteration.
type peerGen struct {
	g         *cyclegan.Generator
	iteration int
}

// framePeer hands the frame msg to the peer when the peer is idle and not
// training; it reports whether it did. The peer gets the generator's
// weights with the first frame after they changed.
func (w *worker) framePeer(msg js.Value, g *cyclegan.Generator, size int) bool {
	if !w.peerTakesFrames() {
		return false
	}
	dir := str(msg.Get("direction"))
	it, _ := w.iteration()
	id := peerGen{g, it}
	bm := msg.Get("bitmap")
	fields := map[string]any{"req": msg.Get("req"), "bitmap": bm, "size": size, "direction": dir}
	transfer := []any{bm}
	if w.peerGens[dir] != id {
		b, err := cyclegan.MarshalGenerator(g, nil)
		if err != nil {
			return false
		}
		gen := bytesToJS(b)
		fields["gen"] = gen
		transfer = append(transfer, gen)
		if w.peerGens == nil {
			w.peerGens = map[string]peerGen{}
		}
		w.peerGens[dir] = id
	}
	w.peer.send(peerFrame, fields, transfer...)
	w.peerFrameBusy = true
	return true
}

// peerTakesFrames reports whether the next frame would go to the peer.
func (w *worker) peerTakesFrames() bool {
	return w.peer != nil && !w.peerOff && w.workers != 1 && !w.training() && !w.peerFrameBusy
}

// midFrame runs between the stages of a frame translated here
// (Translator.Between). Without it the peer, done with its frame, would
// wait for this one to end before its answer is passed on and the next
// frame handed to it: with the two equally fast, it would sit idle for
// about every other frame. So every midFrameEvery it yields to the event
// loop, where the peer's port callback passes its answer on and frees it,
// and then hands the oldest queued frame to the free peer.
func (w *worker) midFrame() {
	if w.yield == nil || w.peer == nil || time.Since(w.midFrameAt) < w.midFrameEvery {
		return
	}
	w.yield()
	w.midFrameAt = time.Now()
	if !w.peerTakesFrames() || w.in == nil {
		return
	}
	if m, ok := w.in.takeFrame(); ok {
		w.frame(m) // to the peer: framePeer takes it
	}
}

// peerFrameOut passes the peer's answer to a frame on to the page, from
// the port's message callback (it must not block); it reports whether m
// was one.
func (w *worker) peerFrameOut(m js.Value) bool {
	switch str(m.Get("type")) {
	case MsgFrameOut:
		w.peerFrameBusy = false
		w.post(m, []any{m.Get("pixels")})
		return true
	case peerFrameError:
		w.peerFrameBusy = false
		delete(w.peerGens, str(m.Get("direction"))) // resend the weights next time
		if time.Since(w.frameErrAt) > 5*time.Second {
			w.statusReq(m.Get("req"), "error", "Cannot translate the camera: %s.", str(m.Get("text")))
			w.frameErrAt = time.Now()
		}
		return true
	}
	return false
}
