//go:build js && wasm

package wasm

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"os"
	"slices"
	"strings"
	"syscall/js"
	"testing"
	"time"

	"github.com/cyclegan-wasm/cyclegan/cyclegan"
)

// posted is one worker → page message as the test saw it.
type posted struct {
	typ      string
	v        js.Value
	transfer []any
}

// harness drives a worker through handle and step, recording its messages.
type harness struct {
	t    *testing.T
	w    *worker
	msgs []posted
}

func newHarness(t *testing.T, st *store) *harness {
	h := &harness{t: t}
	h.w = newWorker(func(m js.Value, transfer []any) {
		h.msgs = append(h.msgs, posted{typ: m.Get("type").String(), v: m, transfer: transfer})
	}, st)
	h.w.progressEvery, h.w.previewEvery = 0, 0
	return h
}

func (h *harness) send(typ string, fields map[string]any) {
	m := map[string]any{"type": typ}
	for k, v := range fields {
		m[k] = v
	}
	h.w.handle(js.ValueOf(m))
}

// mark returns the position in the log, for since.
func (h *harness) mark() int { return len(h.msgs) }

func (h *harness) since(mark int, typ string) []js.Value {
	var out []js.Value
	for _, m := range h.msgs[mark:] {
		if m.typ == typ {
			out = append(out, m.v)
		}
	}
	return out
}

// last is the latest message of a type since mark (fails if none).
func (h *harness) last(mark int, typ string) js.Value {
	h.t.Helper()
	l := h.since(mark, typ)
	if len(l) == 0 {
		h.t.Fatalf("no %s message; got %s", typ, h.describe(mark))
	}
	return l[len(l)-1]
}

func (h *harness) describe(mark int) string {
	var s []string
	for _, m := range h.msgs[mark:] {
		d := m.typ
		if m.typ == MsgStatus {
			d += "(" + m.v.Get("level").String() + ": " + m.v.Get("text").String() + ")"
		}
		if m.typ == MsgState {
			d += "(" + m.v.Get("state").String() + ")"
		}
		s = append(s, d)
	}
	return strings.Join(s, ", ")
}

func (h *harness) statuses(mark int, level string) []string {
	var out []string
	for _, m := range h.since(mark, MsgStatus) {
		if m.Get("level").String() == level {
			out = append(out, m.Get("text").String())
		}
	}
	return out
}

func (h *harness) noErrors(mark int) {
	h.t.Helper()
	if e := h.statuses(mark, "error"); len(e) > 0 {
		h.t.Fatalf("errors: %q", e)
	}
}

// states lists the MsgState states since mark.
func (h *harness) states(mark int) []string {
	var out []string
	for _, m := range h.since(mark, MsgState) {
		out = append(out, m.Get("state").String())
	}
	return out
}

// train steps until the worker stops training or n steps ran.
func (h *harness) train(n int) {
	for i := 0; i < n && h.w.training(); i++ {
		h.w.step()
	}
}

var tinySettings = map[string]any{"size": 16, "ngf": 2, "blocks": 1, "ndf": 4, "identity": 0.5,
	"iterations": 6, "seed": 3, "checkpointEvery": 3}

func pngFile(t *testing.T, w, h int, name string) (js.Value, image.Image) {
	img := testPattern(w, h, false)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return jsFile(b.Bytes(), name, "image/png"), img
}

func generatorBytes(t *testing.T, g *cyclegan.Generator) []byte {
	b, err := cyclegan.MarshalGenerator(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWorkerTrainPauseResumeReload(t *testing.T) {
	const dbn = "cyclegan-test-worker"
	st := freshStore(t, dbn)
	h := newHarness(t, st)
	h.w.postReady()
	if n := h.last(0, MsgReady).Get("models").Length(); n != 0 {
		t.Fatalf("fresh store lists %d models", n)
	}

	// Start without data: an error in words, nothing else.
	m := h.mark()
	h.send(MsgStart, map[string]any{"config": tinySettings})
	if e := h.statuses(m, "error"); len(e) != 1 || !strings.Contains(e[0], "no training images") {
		t.Fatalf("start without data: %q", e)
	}
	if h.w.training() {
		t.Fatal("training without data")
	}

	m = h.mark()
	h.send(MsgDemo, nil)
	if in := h.since(m, MsgIntake); len(in) != 2 || in[0].Get("count").Int() != demoCount || in[1].Get("domain").String() != "B" {
		t.Fatalf("demo intake: %s", h.describe(m))
	}
	if d := h.last(m, MsgState).Get("data").String(); d != "demo" {
		t.Fatalf("data %q after demo", d)
	}

	// Bad settings are refused in words.
	m = h.mark()
	bad := map[string]any{"size": 18, "ngf": 2, "blocks": 1, "ndf": 4, "iterations": 6}
	h.send(MsgStart, map[string]any{"config": bad})
	if e := h.statuses(m, "error"); len(e) != 1 || !strings.Contains(e[0], "multiple of 4") {
		t.Fatalf("bad size: %q", e)
	}

	m = h.mark()
	h.send(MsgStart, map[string]any{"config": tinySettings})
	if !h.w.training() || !slices.Equal(h.states(m), []string{"training"}) {
		t.Fatalf("after start: %s", h.describe(m))
	}
	cfg := h.w.trainer.Config
	if cfg.CropSize != 16 || cfg.LoadSize != 18 || cfg.DLayers != 2 || cfg.ConstantIters != 3 || cfg.DecayIters != 3 || cfg.NGF != 2 || cfg.Seed != 3 {
		t.Fatalf("config %+v", cfg)
	}
	h.train(2)
	h.send(MsgExport, map[string]any{"what": "checkpoint"})
	ck2 := bytesFromJS(h.last(m, MsgFile).Get("bytes"))
	h.send(MsgPause, nil)
	if h.w.training() || h.w.state != statePaused {
		t.Fatal("pause did not stop training")
	}
	saved := h.last(m, MsgSaved)
	if saved.Get("id").String() != autosaveID || saved.Get("iteration").Int() != 2 {
		t.Fatalf("saved on pause: id %v iteration %v", saved.Get("id"), saved.Get("iteration"))
	}
	h.noErrors(m)
	h.train(5) // paused: nothing runs
	if h.w.trainer.Iteration != 2 {
		t.Fatalf("stepped while paused: iteration %d", h.w.trainer.Iteration)
	}
	if got := h.states(m); !slices.Equal(got, []string{"training", "paused"}) {
		t.Fatalf("states %v", got)
	}

	// Reload: a new worker on the reopened store resumes the demo run
	// without any data chosen.
	st.close()
	st2, err := openStoreNamed(dbn)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.close()
	h2 := newHarness(t, st2)
	h2.w.postReady()
	models := h2.last(0, MsgReady).Get("models")
	if models.Length() != 1 || models.Index(0).Get("data").String() != "demo" || models.Index(0).Get("iteration").Int() != 2 {
		t.Fatalf("models after reload: %s", js.Global().Get("JSON").Call("stringify", models))
	}
	m = h2.mark()
	h2.send(MsgResume, map[string]any{"id": autosaveID})
	if !h2.w.training() || h2.w.trainer.Iteration != 2 {
		t.Fatalf("resume after reload: %s", h2.describe(m))
	}
	h2.train(100)
	h2.noErrors(m)
	if got := h2.states(m); !slices.Equal(got, []string{"training", "idle"}) {
		t.Fatalf("states %v", got)
	}
	var its []int
	for _, p := range h2.since(m, MsgProgress) {
		its = append(its, p.Get("iteration").Int())
		if p.Get("total").Int() != 6 || !(p.Get("lr").Float() > 0) || p.Get("losses").Get("cycle_A").Type() != js.TypeNumber {
			t.Fatalf("progress message %s", js.Global().Get("JSON").Call("stringify", p))
		}
	}
	if !slices.Equal(its, []int{3, 4, 5, 6}) {
		t.Fatalf("progress iterations %v", its)
	}
	prev := h2.last(m, MsgPreview)
	imgs := prev.Get("images")
	if imgs.Length() != 6 || prev.Get("size").Int() != 16 {
		t.Fatalf("preview with %d images of size %d", imgs.Length(), prev.Get("size").Int())
	}
	for i := range 6 {
		if n := imgs.Index(i).Get("byteLength").Int(); n != 16*16*4 {
			t.Fatalf("preview image %d has %d bytes", i, n)
		}
	}
	var savedIts []int
	for _, s := range h2.since(m, MsgSaved) {
		savedIts = append(savedIts, s.Get("iteration").Int())
	}
	// The cadence of checkpoints is a setting of the page's, unknown after a
	// reload: the default (every 100) applies, and the end saves.
	if !slices.Equal(savedIts, []int{6}) {
		t.Fatalf("saved at %v, want 6", savedIts)
	}
	info, stored, err := st2.load(autosaveID)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := h2.w.sess.Checkpoint()
	if info.Iteration != 6 || info.Total != 6 || !bytes.Equal(stored, want) {
		t.Fatalf("stored checkpoint: iteration %d, %d bytes (Checkpoint gives %d)", info.Iteration, len(stored), len(want))
	}
	m = h2.mark()
	h2.send(MsgResume, nil)
	if h2.w.training() || len(h2.statuses(m, "info")) != 1 {
		t.Fatalf("resume of a complete run: %s", h2.describe(m))
	}

	// The checkpoint exported at iteration 2, imported into a fresh worker
	// and resumed, ends exactly where the paused and reloaded run did.
	h3 := newHarness(t, nil)
	m = h3.mark()
	h3.send(MsgImport, map[string]any{"name": "run.safetensors", "bytes": bytesToJS(ck2)})
	if h3.w.state != statePaused || !h3.last(m, MsgState).Get("hasModel").Bool() || h3.w.runData != "demo" {
		t.Fatalf("import of a checkpoint: %s", h3.describe(m))
	}
	h3.send(MsgResume, nil)
	h3.train(100)
	h3.noErrors(m)
	if h3.w.trainer.Iteration != 6 {
		t.Fatalf("imported run stopped at %d", h3.w.trainer.Iteration)
	}
	if !bytes.Equal(generatorBytes(t, h3.w.trainer.GA), generatorBytes(t, h2.w.trainer.GA)) {
		t.Fatal("imported and resumed run differs from the paused and reloaded one")
	}
}

func TestWorkerTranslateExportImport(t *testing.T) {
	h := newHarness(t, nil)
	file, img := pngFile(t, 23, 17, "cat.png")

	// No model yet.
	m := h.mark()
	h.send(MsgTranslate, map[string]any{"req": 1, "direction": "AtoB", "file": file})
	if e := h.statuses(m, "error"); len(e) != 1 || !strings.Contains(e[0], "no model") || h.last(m, MsgStatus).Get("req").Int() != 1 {
		t.Fatalf("translate without a model: %s", h.describe(m))
	}

	h.send(MsgDemo, nil)
	h.send(MsgStart, map[string]any{"config": tinySettings})
	h.train(3)
	h.send(MsgPause, nil)

	m = h.mark()
	h.send(MsgTranslate, map[string]any{"req": 7, "direction": "AtoB", "file": file})
	tr := h.last(m, MsgTranslated)
	if tr.Get("req").Int() != 7 || tr.Get("width").Int() != 23 || tr.Get("height").Int() != 17 {
		t.Fatalf("translated: %s", h.describe(m))
	}
	p1 := bytesFromJS(tr.Get("pixels"))
	if want := cyclegan.Translate(h.w.trainer.GA, img).Pix; !bytes.Equal(p1, want) {
		t.Fatal("worker translation differs from cyclegan.Translate of Go's decode")
	}
	h.send(MsgTranslate, map[string]any{"req": 8, "direction": "BtoA", "file": file})
	pB := bytesFromJS(h.last(m, MsgTranslated).Get("pixels"))
	if bytes.Equal(pB, p1) {
		t.Fatal("B → A gave the A → B pixels")
	}

	// An image too large to translate at once within the memory budget
	// is translated downscaled, and said so.
	h.w.translateBudget = 4 << 20
	limit := translatePixels(h.w.trainer.GA, h.w.translateBudget)
	side := int(math.Sqrt(float64(limit))) + 40
	big, _ := pngFile(t, side, side, "big.png")
	h.send(MsgTranslate, map[string]any{"req": 10, "direction": "AtoB", "file": big})
	bt := h.last(m, MsgTranslated)
	if bw, bh := bt.Get("width").Int(), bt.Get("height").Int(); bw*bh > limit || bw*bh < limit*8/10 || bw != bh ||
		bt.Get("pixels").Get("byteLength").Int() != bw*bh*4 || !strings.Contains(h.statuses(m, "info")[0], "to fit in memory") {
		t.Fatalf("large translation %dx%d (limit %d px): %s", bw, bh, limit, h.describe(m))
	}

	// Webcam frame.
	bm, err := await(js.Global().Call("createImageBitmap", file))
	if err != nil {
		t.Fatal(err)
	}
	h.send(MsgFrame, map[string]any{"req": 9, "direction": "AtoB", "bitmap": bm, "size": 16})
	fo := h.last(m, MsgFrameOut)
	if fo.Get("req").Int() != 9 || fo.Get("width").Int() != 16 || fo.Get("pixels").Get("byteLength").Int() != 16*16*4 || !(fo.Get("ms").Float() >= 0) {
		t.Fatalf("frame: %s", h.describe(m))
	}
	h.noErrors(m)

	// Export G_A, import it into a fresh worker: same pixels.
	h.send(MsgExport, map[string]any{"what": "G_A"})
	f := h.last(m, MsgFile)
	if !strings.HasSuffix(f.Get("name").String(), ".safetensors") {
		t.Fatalf("export name %q", f.Get("name").String())
	}
	gA := bytesFromJS(f.Get("bytes"))
	h.send(MsgExport, map[string]any{"what": "G_B"})
	if gB := bytesFromJS(h.last(m, MsgFile).Get("bytes")); bytes.Equal(gA, gB) || len(gB) != len(gA) {
		t.Fatal("G_B export is not a distinct generator")
	}

	h2 := newHarness(t, nil)
	m = h2.mark()
	h2.send(MsgImport, map[string]any{"name": "G_A.safetensors", "bytes": bytesToJS(gA)})
	if !h2.last(m, MsgState).Get("hasModel").Bool() || h2.w.bareGA == nil {
		t.Fatalf("import G_A: %s", h2.describe(m))
	}
	h2.send(MsgTranslate, map[string]any{"req": 1, "direction": "AtoB", "file": file})
	if p2 := bytesFromJS(h2.last(m, MsgTranslated).Get("pixels")); !bytes.Equal(p2, p1) {
		t.Fatal("the imported G_A translates differently")
	}
	h2.noErrors(m)
	h2.send(MsgTranslate, map[string]any{"req": 2, "direction": "BtoA", "file": file})
	if e := h2.statuses(m, "error"); len(e) != 1 || !strings.Contains(e[0], "A → B only") {
		t.Fatalf("B → A with a bare generator: %q", e)
	}

	// Invalid imports: errors in words, the worker goes on.
	for _, b := range [][]byte{[]byte("certainly not safetensors"), {}, gA[:len(gA)/2]} {
		m = h2.mark()
		h2.send(MsgImport, map[string]any{"name": "junk.bin", "bytes": bytesToJS(b)})
		e := h2.statuses(m, "error")
		if len(e) != 1 || !strings.Contains(e[0], "Cannot import junk.bin") {
			t.Fatalf("invalid import: %s", h2.describe(m))
		}
		t.Logf("invalid import: %s", e[0])
	}
	m = h2.mark()
	h2.send(MsgTranslate, map[string]any{"req": 3, "direction": "AtoB", "file": file})
	if p3 := bytesFromJS(h2.last(m, MsgTranslated).Get("pixels")); !bytes.Equal(p3, p1) {
		t.Fatal("a failed import changed the model")
	}
	h2.send(MsgExport, map[string]any{"what": "checkpoint"})
	if e := h2.statuses(m, "error"); len(e) != 1 {
		t.Fatalf("export of a checkpoint without a run: %q", e)
	}
}

func TestWorkerFilesAndSkips(t *testing.T) {
	h := newHarness(t, freshStore(t, "cyclegan-test-files"))
	good, _ := pngFile(t, 30, 30, "a1.png")
	good2, _ := pngFile(t, 20, 40, "a2.png")
	corrupt := jsFile([]byte("\x89PNG\r\n\x1a\nnot really"), "broken.png", "image/png")
	text := jsFile([]byte("hello"), "notes.txt", "text/plain")
	m := h.mark()
	h.send(MsgAddFiles, map[string]any{"domain": "A", "files": []any{good, corrupt, text, good2},
		"paths": []any{"A/a1.png", "A/broken.png", "A/notes.txt", "A/a2.png"}})
	in := h.last(m, MsgIntake)
	if in.Get("domain").String() != "A" || in.Get("count").Int() != 3 || in.Get("skipped").Length() != 1 ||
		in.Get("skipped").Index(0).Get("reason").String() != "not an image" {
		t.Fatalf("intake: %s", js.Global().Get("JSON").Call("stringify", in))
	}
	m = h.mark()
	h.send(MsgStart, map[string]any{"config": tinySettings})
	if e := h.statuses(m, "error"); len(e) != 1 || !strings.Contains(e[0], "domain B has no images") {
		t.Fatalf("start with one domain: %q", e)
	}
	b1, _ := pngFile(t, 25, 19, "b1.png")
	h.send(MsgAddFiles, map[string]any{"domain": "B", "files": []any{b1}})
	m = h.mark()
	h.send(MsgStart, map[string]any{"config": tinySettings})
	h.train(100)
	if h.w.trainer.Iteration != 6 || h.w.runData != "files" {
		t.Fatalf("training on files stopped at %d: %s", h.w.trainer.Iteration, h.describe(m))
	}
	warn := h.statuses(m, "warn")
	if len(warn) != 1 || !strings.Contains(warn[0], "A/broken.png") || !strings.Contains(warn[0], "corrupt or unsupported image") {
		t.Fatalf("skip warnings %q", warn)
	}
	in = h.last(m, MsgIntake)
	if in.Get("domain").String() != "A" || in.Get("skipped").Length() != 2 {
		t.Fatalf("intake after the skip: %s", js.Global().Get("JSON").Call("stringify", in))
	}
	m = h.mark()
	h.send(MsgClearDomain, map[string]any{"domain": "A"})
	if h.last(m, MsgIntake).Get("count").Int() != 0 || h.last(m, MsgState).Get("data").String() != "files" {
		t.Fatalf("clear: %s", h.describe(m))
	}
	h.send(MsgClearDomain, map[string]any{"domain": "B"})
	if h.last(m, MsgState).Get("data").String() != "none" {
		t.Fatalf("clear both: %s", h.describe(m))
	}
}

func TestWorkerDivergenceRestores(t *testing.T) {
	st := freshStore(t, "cyclegan-test-diverge")
	h := newHarness(t, st)
	h.send(MsgDemo, nil)
	h.send(MsgStart, map[string]any{"config": map[string]any{"size": 16, "ngf": 2, "blocks": 1, "ndf": 4,
		"iterations": 20, "seed": 1, "checkpointEvery": 3}})
	h.train(4)
	m := h.mark()
	h.w.trainer.GA.In.Weight.Data[0] = float32(math.NaN()) // every step is non-finite from here
	h.train(100)
	if h.w.training() || h.w.state != statePaused {
		t.Fatalf("still training after divergence: %s", h.describe(m))
	}
	e := h.statuses(m, "error")
	if len(e) != 1 || !strings.Contains(e[0], "diverged") || !strings.Contains(e[0], "Restored the checkpoint of iteration 3") {
		t.Fatalf("divergence: %s", h.describe(m))
	}
	if w := h.statuses(m, "warn"); len(w) != cyclegan.MaxBadSteps-1 {
		t.Fatalf("non-finite warnings %q", w)
	}
	if h.w.trainer.Iteration != 3 || math.IsNaN(float64(h.w.trainer.GA.In.Weight.Data[0])) {
		t.Fatalf("after the restore: iteration %d", h.w.trainer.Iteration)
	}
	// Resuming trains on from the restored checkpoint.
	m = h.mark()
	h.send(MsgResume, nil)
	h.train(2)
	h.noErrors(m)
	if h.w.trainer.Iteration != 5 {
		t.Fatalf("after resume: iteration %d", h.w.trainer.Iteration)
	}
	// Models can be listed and deleted.
	m = h.mark()
	h.send(MsgDeleteModel, map[string]any{"id": autosaveID})
	if n := h.last(m, MsgModels).Get("models").Length(); n != 0 {
		t.Fatalf("%d models after delete", n)
	}
}

// TestWorkerProcess is the engine inside a real Web Worker: it runs only
// there (started by TestWorkerInRealWorker with -test.run), and never
// returns.
func TestWorkerProcess(t *testing.T) {
	if !js.Global().Get("document").IsUndefined() {
		t.Skip("runs only inside the Web Worker that TestWorkerInRealWorker starts")
	}
	RunWorker()
}

// startRealWorker boots the engine worker (TestWorkerProcess) or a peer
// (TestPeerProcess) in a new Web Worker (startWorkerProcess).
func startRealWorker(tb testing.TB, peer bool) (js.Value, chan js.Value) {
	tb.Helper()
	if peer {
		return startWorkerProcess(tb, "TestPeerProcess", map[string]any{PeerRoleEnv: "peer"})
	}
	return startWorkerProcess(tb, "TestWorkerProcess", nil)
}

// startWorkerProcess boots this test binary in a new Web Worker through
// worker.js, exactly as the page boots the app (wasm_exec.js + worker.js in
// a blob: URL, then the boot message), running the test function named
// test with the environment env (nil: none). Its messages, and its errors
// as {type: "workerError"}, arrive on the channel; it is terminated when
// the test ends.
func startWorkerProcess(tb testing.TB, test string, env map[string]any) (js.Value, chan js.Value) {
	tb.Helper()
	g := js.Global()
	execJS, err := await(g.Call("fetch", "wasm_exec.js"))
	if err != nil {
		tb.Fatal(err)
	}
	execText, err := await(execJS.Call("text"))
	if err != nil {
		tb.Fatal(err)
	}
	workerJS, err := os.ReadFile("../worker.js")
	if err != nil {
		tb.Fatal(err)
	}
	blob := g.Get("Blob").New([]any{execText, "\n", string(workerJS)}, map[string]any{"type": "text/javascript"})
	url := g.Get("URL").Call("createObjectURL", blob)
	wk := g.Get("Worker").New(url)

	msgs := make(chan js.Value, 10000)
	onMsg := js.FuncOf(func(this js.Value, args []js.Value) any {
		select {
		case msgs <- args[0].Get("data"):
		default:
		}
		return nil
	})
	onErr := js.FuncOf(func(this js.Value, args []js.Value) any {
		msgs <- js.ValueOf(map[string]any{"type": "workerError", "text": args[0].Get("message")})
		return nil
	})
	tb.Cleanup(func() {
		wk.Call("terminate")
		onMsg.Release()
		onErr.Release()
		g.Get("URL").Call("revokeObjectURL", url)
	})
	wk.Set("onmessage", onMsg)
	wk.Set("onerror", onErr)

	resp, err := await(g.Call("fetch", "wasm.wasm"))
	if err != nil {
		tb.Fatal(err)
	}
	bin, err := await(resp.Call("arrayBuffer"))
	if err != nil {
		tb.Fatal(err)
	}
	boot := map[string]any{"type": MsgBoot, "wasm": bin, "argv": []any{"engine.wasm", "-test.run=^" + test + "$"}}
	if env != nil {
		boot["env"] = env
	}
	wk.Call("postMessage", boot, []any{bin})
	return wk, msgs
}

// joinRealWorkers makes peer lend its core to engine, as the page does.
func joinRealWorkers(engine, peer js.Value) {
	ch := js.Global().Get("MessageChannel").New()
	peer.Call("postMessage", map[string]any{"type": MsgPeer, "port": ch.Get("port2")}, []any{ch.Get("port2")})
	engine.Call("postMessage", map[string]any{"type": MsgPeers, "ports": []any{ch.Get("port1")}}, []any{ch.Get("port1")})
}

// TestPeerProcess is a peer inside a real Web Worker (started by
// startRealWorker with -test.run), and never returns.
func TestPeerProcess(t *testing.T) {
	if !js.Global().Get("document").IsUndefined() || !IsPeer() {
		t.Skip("runs only inside the peer Web Worker that startRealWorker starts")
	}
	RunPeer()
}

// TestWorkerInRealWorker boots this test binary in a Web Worker through
// worker.js, exactly as the page does (wasm_exec.js + worker.js in a blob:
// URL, then the boot message), and trains the demo to the end through
// postMessage alone.
func TestWorkerInRealWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	g := js.Global()
	wk, msgs := startRealWorker(t, false)
	// Sent before Go is up: worker.js keeps them for RunWorker.
	wk.Call("postMessage", map[string]any{"type": MsgDemo})
	settings := map[string]any{"size": 16, "ngf": 2, "blocks": 1, "ndf": 4, "identity": 0.5,
		"iterations": 8, "seed": 5, "checkpointEvery": 4}
	wk.Call("postMessage", map[string]any{"type": MsgStart, "config": settings})

	var got []js.Value
	wait := func(what string, done func(m js.Value) bool) js.Value {
		t.Helper()
		timeout := time.After(90 * time.Second)
		for {
			select {
			case m := <-msgs:
				got = append(got, m)
				typ := m.Get("type").String()
				if typ == "workerError" || (typ == MsgStatus && m.Get("level").String() == "error") {
					t.Fatalf("waiting for %s: %s: %s", what, typ, m.Get("text").String())
				}
				if done(m) {
					return m
				}
			case <-timeout:
				t.Fatalf("timed out waiting for %s; got %d messages", what, len(got))
			}
		}
	}
	is := func(typ string) func(js.Value) bool {
		return func(m js.Value) bool { return m.Get("type").String() == typ }
	}
	wait("the end of training", func(m js.Value) bool {
		return m.Get("type").String() == MsgState && m.Get("state").String() == stateIdle && m.Get("iteration").Int() == 8
	})
	if typ := got[0].Get("type").String(); typ != MsgReady {
		t.Fatalf("first message %q, want ready", typ)
	}
	count := map[string]int{}
	for _, m := range got {
		count[m.Get("type").String()]++
		if m.Get("type").String() == MsgPreview {
			imgs := m.Get("images")
			if imgs.Length() != 6 || !imgs.Index(5).InstanceOf(g.Get("ArrayBuffer")) || imgs.Index(5).Get("byteLength").Int() != 16*16*4 {
				t.Fatal("preview without 6 RGBA buffers")
			}
		}
	}
	t.Logf("messages: %v", count)
	if count[MsgIntake] != 2 || count[MsgProgress] < 1 || count[MsgPreview] < 1 || count[MsgSaved] != 2 || count[MsgState] < 2 {
		t.Fatalf("messages %v", count)
	}

	file, _ := pngFile(t, 21, 13, "x.png")
	wk.Call("postMessage", map[string]any{"type": MsgTranslate, "req": 4, "direction": "BtoA", "file": file})
	tr := wait("the translation", is(MsgTranslated))
	if tr.Get("req").Int() != 4 || tr.Get("width").Int() != 21 || tr.Get("pixels").Get("byteLength").Int() != 21*13*4 {
		t.Fatal("bad translation message")
	}
	bm, err := await(g.Call("createImageBitmap", file))
	if err != nil {
		t.Fatal(err)
	}
	wk.Call("postMessage", map[string]any{"type": MsgFrame, "req": 5, "direction": "AtoB", "bitmap": bm, "size": 32}, []any{bm})
	fo := wait("the frame", is(MsgFrameOut))
	if fo.Get("req").Int() != 5 || fo.Get("pixels").Get("byteLength").Int() != 32*32*4 {
		t.Fatal("bad frame message")
	}
	wk.Call("postMessage", map[string]any{"type": MsgListModels})
	ms := wait("the models", is(MsgModels))
	if ms.Get("models").Length() < 1 || ms.Get("models").Index(0).Get("id").String() != autosaveID {
		t.Fatal("autosave not listed")
	}
}

func TestWorkerStorageFullKeepsTraining(t *testing.T) {
	st := freshStore(t, "cyclegan-test-quota")
	st.failSave = &jsErr{name: "QuotaExceededError", msg: "QuotaExceededError: The quota has been exceeded."}
	h := newHarness(t, st)
	h.send(MsgDemo, nil)
	m := h.mark()
	h.send(MsgStart, map[string]any{"config": map[string]any{"size": 16, "ngf": 2, "blocks": 1, "ndf": 4,
		"iterations": 6, "seed": 1, "checkpointEvery": 2}})
	h.train(3)
	e := h.statuses(m, "error")
	if len(e) != 1 || !strings.Contains(e[0], "storage is full") || !strings.Contains(e[0], "used of") || !strings.Contains(e[0], "Training goes on") {
		t.Fatalf("quota: %s", h.describe(m))
	}
	t.Logf("quota: %s", e[0])
	if !h.w.training() || h.w.trainer.Iteration != 3 || len(h.since(m, MsgSaved)) != 0 {
		t.Fatalf("after a full disk: training %v, iteration %d", h.w.training(), h.w.trainer.Iteration)
	}
	// Space freed: the next checkpoint is saved.
	st.failSave = nil
	h.train(1)
	if s := h.since(m, MsgSaved); len(s) != 1 || s[0].Get("iteration").Int() != 4 {
		t.Fatalf("after freeing space: %s", h.describe(m))
	}
}
