//go:build js && wasm

package wasm

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"syscall/js"
	"testing"
	"time"

	"github.com/cyclegan-wasm/cyclegan/cyclegan"
	"github.com/cyclegan-wasm/cyclegan/engine"
)

// inProcessPeer joins h's worker to a peer served by a goroutine of this
// Go instance over a real MessageChannel: the messages, transfers and
// encodings are those of two workers, without the parallelism.
func inProcessPeer(t *testing.T, h *harness) *peer {
	ch := js.Global().Get("MessageChannel").New()
	p := &peer{conn: newPortConn(ch.Get("port2"))}
	stop := make(chan struct{})
	go func() {
		for {
			m, _ := p.conn.recv(0)
			select {
			case <-stop:
				return
			default:
			}
			p.handle(m)
		}
	}()
	t.Cleanup(func() {
		close(stop)
		ch.Get("port1").Call("close")
		ch.Get("port2").Call("close")
	})
	h.send(MsgPeers, map[string]any{"ports": []any{ch.Get("port1")}})
	return p
}

// splitSettings is a tiny run with identity loss, long enough for the
// pools to fill and draw from the history.
func splitSettings(workers int) map[string]any {
	return map[string]any{"size": 16, "ngf": 2, "blocks": 1, "ndf": 4, "identity": 0.5,
		"iterations": 12, "seed": 9, "checkpointEvery": 1000, "workers": workers}
}

// trainLosses trains the demo run of settings on h and returns the losses
// of every iteration; before (if not nil) sees the worker before each
// step.
func trainLosses(t *testing.T, h *harness, settings map[string]any, before func(*worker)) []cyclegan.Losses {
	t.Helper()
	m := h.mark()
	h.send(MsgDemo, nil)
	h.send(MsgStart, map[string]any{"config": settings})
	var out []cyclegan.Losses
	for h.w.training() {
		if before != nil {
			before(h.w)
		}
		h.w.step()
		out = append(out, h.w.losses)
	}
	h.noErrors(m)
	for _, w := range h.statuses(m, "warn") {
		if !strings.Contains(w, "Checkpoints are not saved") { // no store here
			t.Fatalf("warning: %q", w)
		}
	}
	return out
}

// TestSplitWorkersMatchOne: two workers train the same run as one, loss
// for loss, up to the order of float32 summation of the generators'
// gradients (the peer's discriminator loss, D_B, a step late: it comes in
// during the next iteration), whichever worker computes the identity
// terms; the previews come from both; a checkpoint of the two-worker run
// (with the peer's pool and discriminator) is the one-worker run's up to
// that rounding.
func TestSplitWorkersMatchOne(t *testing.T) {
	one := newHarness(t, nil)
	lossesOne := trainLosses(t, one, splitSettings(1), nil)
	for _, c := range []struct {
		name  string
		terms func(iteration int) int // the engine worker's identity terms
	}{
		{"balanced by timing", nil},
		{"moved both ways", func(it int) int { return []int{2, 0, 1}[it%3] }},
	} {
		t.Run(c.name, func(t *testing.T) { testSplitMatchesOne(t, one, lossesOne, c.terms) })
	}
}

func testSplitMatchesOne(t *testing.T, one *harness, lossesOne []cyclegan.Losses, terms func(int) int) {
	two := newHarness(t, nil)
	p := inProcessPeer(t, two)
	m := two.mark()
	lossesTwo := trainLosses(t, two, splitSettings(0), func(w *worker) {
		if w.split != nil {
			w.split.identityTerms = terms
		}
	})
	if two.w.split == nil || p.split == nil {
		t.Fatal("the run did not use the peer")
	}
	// The first step starts the two-worker run, with one term each.
	if moved := two.w.split.timing.Moved; terms != nil && moved != 7 {
		t.Fatalf("the identity terms moved in %d of 12 iterations, want 7", moved)
	}
	if n := two.last(m, MsgProgress).Get("workers").Int(); n != 2 {
		t.Fatalf("progress reports %d workers", n)
	}
	if len(lossesOne) != 12 || len(lossesTwo) != 12 {
		t.Fatalf("%d and %d iterations", len(lossesOne), len(lossesTwo))
	}
	const tol = 2e-5 // relative; float32 rounding over 12 iterations
	if !math.IsNaN(lossesTwo[0].DB) {
		t.Fatalf("the first iteration reports D_B %g before the peer sent it", lossesTwo[0].DB)
	}
	for i := range lossesOne {
		a, b := lossesOne[i], lossesTwo[i]
		if i == 0 {
			b.DB = a.DB
		} else {
			b.DB, a.DB = lossesTwo[i].DB, lossesOne[i-1].DB
		}
		pairs := [][2]float64{{a.DA, b.DA}, {a.GA, b.GA}, {a.CycleA, b.CycleA}, {a.IdtA, b.IdtA},
			{a.DB, b.DB}, {a.GB, b.GB}, {a.CycleB, b.CycleB}, {a.IdtB, b.IdtB}, {a.G, b.G}}
		for j, pr := range pairs {
			if d := math.Abs(pr[0] - pr[1]); d > tol*math.Max(1, math.Abs(pr[0])) || math.IsNaN(d) {
				t.Fatalf("iteration %d, term %d: one worker %g, two %g", i+1, j, pr[0], pr[1])
			}
		}
	}
	// The previews: six images, B's side from the peer.
	pv := two.last(m, MsgPreview)
	if pv.Get("images").Length() != 6 {
		t.Fatal("preview without six images")
	}
	pr := two.w.split.preview()
	if pr.RealB == nil || pr.FakeA == nil || pr.RecB == nil || !slices.Equal(pr.FakeA.Shape, []int{1, 3, 16, 16}) {
		t.Fatal("preview lacks the peer's images")
	}

	// The checkpoint of the split run holds both pools and the same
	// weights, up to rounding.
	ck, err := two.w.sess.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	// The peer has taken in the last iteration's messages (it answered
	// the checkpoint's request after them), and both discriminator steps
	// are in. Rounding, not chance: the runs did diverge by a few ulps
	// somewhere, or were identical; either way the peer's replica is this
	// one's.
	if two.w.split.split.PendingDiscriminator() || p.split.PendingDiscriminator() {
		t.Fatal("a discriminator step is still due after the checkpoint")
	}
	for i, prm := range p.split.Trainer.OptG.Params {
		if !slices.Equal(prm.Data, two.w.trainer.OptG.Params[i].Data) {
			t.Fatalf("generator parameter %d differs between the replicas", i)
		}
	}
	tr, _, err := cyclegan.UnmarshalCheckpoint(ck)
	if err != nil {
		t.Fatal(err)
	}
	ref := one.w.trainer
	if len(tr.PoolA.Images) != len(ref.PoolA.Images) || len(tr.PoolB.Images) != len(ref.PoolB.Images) || len(tr.PoolB.Images) == 0 {
		t.Fatalf("pools %d/%d, want %d/%d", len(tr.PoolA.Images), len(tr.PoolB.Images), len(ref.PoolA.Images), len(ref.PoolB.Images))
	}
	for _, c := range []struct {
		name      string
		got, want []*engine.Tensor
	}{{"pool_A", tr.PoolA.Images, ref.PoolA.Images}, {"pool_B", tr.PoolB.Images, ref.PoolB.Images}} {
		for i, img := range c.got {
			for j, v := range img.Data {
				if math.Abs(float64(v-c.want[i].Data[j])) > 1e-4 {
					t.Fatalf("%s image %d value %d: %g, want %g", c.name, i, j, v, c.want[i].Data[j])
				}
			}
		}
	}
	// Adam turns the rounding noise of a gradient that is zero in exact
	// arithmetic (a convolution bias before InstanceNorm) into steps of
	// ±lr, so those values may differ by up to lr per iteration; every
	// other value agrees to rounding.
	var n, off int
	for i, prm := range tr.OptD.Params {
		for j, v := range prm.Data {
			d := math.Abs(float64(v - ref.OptD.Params[i].Data[j]))
			if d > 12*2*2e-4 {
				t.Fatalf("discriminator parameter %d[%d]: %g, want %g", i, j, v, ref.OptD.Params[i].Data[j])
			}
			if d > 1e-5 {
				off++
			}
			n++
		}
	}
	if off > n/100 {
		t.Fatalf("%d of %d discriminator values differ by more than 1e-5", off, n)
	}
}

// TestSplitOneWorkerSetting: with workers = 1 the peer stays idle.
func TestSplitOneWorkerSetting(t *testing.T) {
	h := newHarness(t, nil)
	p := inProcessPeer(t, h)
	trainLosses(t, h, splitSettings(1), nil)
	if h.w.split != nil || p.split != nil {
		t.Fatal("workers = 1 used the peer")
	}
}

// TestSplitPeerFailure: a peer that fails mid-run ends the two-worker run
// in words, and training goes on with one worker from the last checkpoint.
func TestSplitPeerFailure(t *testing.T) {
	st := freshStore(t, "cyclegan-test-split")
	h := newHarness(t, st)
	p := inProcessPeer(t, h)
	m := h.mark()
	h.send(MsgDemo, nil)
	settings := splitSettings(2)
	settings["checkpointEvery"] = 4
	h.send(MsgStart, map[string]any{"config": settings})
	h.train(5)
	if h.w.split == nil || h.w.trainer.Iteration != 5 {
		t.Fatalf("iteration %d, split %v", h.w.trainer.Iteration, h.w.split != nil)
	}
	h.noErrors(m)

	p.split = nil // the peer loses its run: it answers the next iteration with an error
	m = h.mark()
	h.train(1)
	warns := h.statuses(m, "warn")
	if len(warns) != 1 || !strings.Contains(warns[0], "second engine worker failed at iteration 6") || !strings.Contains(warns[0], "checkpoint of iteration 4") {
		t.Fatalf("after the failure: %s", h.describe(m))
	}
	if !h.w.training() || h.w.split != nil || h.w.trainer.Iteration != 4 {
		t.Fatalf("training %v, split %v, iteration %d", h.w.training(), h.w.split != nil, h.w.trainer.Iteration)
	}
	h.train(100)
	h.noErrors(m)
	if h.w.trainer.Iteration != 12 || h.w.state != stateIdle {
		t.Fatalf("ended at iteration %d in state %s", h.w.trainer.Iteration, h.w.state)
	}
}

// TestSplitFramesOnPeer: when not training, the engine worker hands a
// webcam frame to its idle peer, translates the next itself, and both
// answers reach the page with the same pixels as a translation here.
func TestSplitFramesOnPeer(t *testing.T) {
	h := newHarness(t, nil)
	inProcessPeer(t, h)
	g := importRandomGA(t, h, 1, rand.NewPCG(1, 2))

	const size = 16
	bitmap := testBitmaps(t, 20, 20)
	want, _, err := translateFrame(&decoder{}, &cyclegan.Translator{}, g, bitmap(), size)
	if err != nil {
		t.Fatal(err)
	}

	m := h.mark()
	for req := 1; req <= 2; req++ {
		h.send(MsgFrame, map[string]any{"req": req, "direction": "AtoB", "bitmap": bitmap(), "size": size})
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(h.since(m, MsgFrameOut)) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // the peer's goroutine and the port's callback run
	}
	outs := h.since(m, MsgFrameOut)
	if len(outs) != 2 {
		t.Fatalf("%d frames answered: %s", len(outs), h.describe(m))
	}
	h.noErrors(m)
	byPeer := 0
	for _, o := range outs {
		if o.Get("worker").Type() == js.TypeNumber && o.Get("worker").Int() == 2 {
			byPeer++
			if o.Get("req").Int() != 1 {
				t.Fatalf("the peer answered frame %d, want 1", o.Get("req").Int())
			}
		}
		if !slices.Equal(bytesFromJS(o.Get("pixels")), bytesFromJS(want)) {
			t.Fatalf("frame %d: pixels differ from the translation here", o.Get("req").Int())
		}
	}
	if byPeer != 1 {
		t.Fatalf("%d frames translated by the peer, want 1", byPeer)
	}
}

// TestSplitMidFrameFeedsPeer: while the engine worker translates a frame,
// the peer that finishes its own is handed the next queued frame at once
// (midFrame), not after the engine worker's frame ends.
func TestSplitMidFrameFeedsPeer(t *testing.T) {
	h := newHarness(t, nil)
	inProcessPeer(t, h)
	h.w.in, h.w.yield, h.w.midFrameEvery = &inbox{wake: make(chan struct{}, 1)}, newYielder().yield, 0
	g := importRandomGA(t, h, 3, rand.NewPCG(3, 4))
	const size = 16
	bitmap := testBitmaps(t, size, size)
	frame := func(req int) js.Value {
		return js.ValueOf(map[string]any{"type": MsgFrame, "req": req, "direction": "AtoB", "bitmap": bitmap(), "size": size})
	}
	want, _, err := translateFrame(&decoder{}, &cyclegan.Translator{}, g, frame(0).Get("bitmap"), size)
	if err != nil {
		t.Fatal(err)
	}

	m := h.mark()
	h.w.handle(frame(1))  // to the idle peer
	h.w.in.push(frame(3)) // queued behind frame 2, as the page keeps one waiting
	h.w.handle(frame(2))  // the peer is busy: translated here
	deadline := time.Now().Add(20 * time.Second)
	for len(h.since(m, MsgFrameOut)) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	outs := h.since(m, MsgFrameOut)
	if len(outs) != 3 {
		t.Fatalf("%d frames answered (frame 3 still queued: %d messages): %s", len(outs), len(h.w.in.msgs), h.describe(m))
	}
	h.noErrors(m)
	for _, o := range outs {
		req := o.Get("req").Int()
		byPeer := o.Get("worker").Type() == js.TypeNumber && o.Get("worker").Int() == 2
		if byPeer != (req != 2) {
			t.Errorf("frame %d translated by the peer: %v", req, byPeer)
		}
		if !slices.Equal(bytesFromJS(o.Get("pixels")), bytesFromJS(want)) {
			t.Errorf("frame %d: pixels differ from the translation here", req)
		}
	}
}

// testBitmaps returns a maker of ImageBitmaps of one w×h test pattern, a
// new one per call (a frame's bitmap is transferred and closed).
func testBitmaps(t *testing.T, w, h int) func() js.Value {
	px := make([]byte, w*h*4)
	for i := range px {
		px[i] = byte(i*31 + i/7)
	}
	data := js.Global().Get("Uint8ClampedArray").New(len(px))
	js.CopyBytesToJS(data, px)
	img := js.Global().Get("ImageData").New(data, w, h)
	return func() js.Value {
		bm, err := await(js.Global().Call("createImageBitmap", img))
		if err != nil {
			t.Fatal(err)
		}
		return bm
	}
}

// importRandomGA imports a randomly initialised ngf 4 generator with the
// given number of residual blocks into h's worker as a bare G_A, and
// returns it.
func importRandomGA(t *testing.T, h *harness, blocks int, src rand.Source) *cyclegan.Generator {
	t.Helper()
	g := cyclegan.NewGenerator(4, blocks)
	cyclegan.InitWeights(g, rand.New(src))
	bin, err := cyclegan.MarshalGenerator(g, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.send(MsgImport, map[string]any{"name": "G_A.safetensors", "bytes": bytesToJS(bin)})
	if h.w.bareGA == nil {
		t.Fatalf("import: %s", h.describe(0))
	}
	return g
}

// TestBufferPool: a buffer that arrived carries the next message of its
// size, with that message's values, and is handed out once.
func TestBufferPool(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	values := func(n int) []float32 {
		f := make([]float32, n)
		for i := range f {
			f[i] = rng.Float32()*2 - 1
		}
		return f
	}
	var pool bufferPool
	sent := values(1000)
	arrived := float32sToJS(sent) // as the other worker would transfer it
	got := make([]float32, len(sent))
	if err := pool.float32sFromJS(got, arrived, "test"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, sent) {
		t.Fatal("the arrived values differ from the sent ones")
	}

	if other := pool.float32sToJS(values(999)); other.Equal(arrived) {
		t.Error("a 999-value message reused a 1000-value buffer")
	}
	next := values(1000)
	out := pool.float32sToJS(next)
	if !out.Equal(arrived) {
		t.Error("a message of the arrived buffer's size got a new buffer")
	}
	back := make([]float32, len(next))
	if err := float32sFromJS(back, out, "test"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back, next) {
		t.Error("the recycled buffer does not hold the new message's values")
	}
	if again := pool.float32sToJS(next); again.Equal(arrived) {
		t.Error("one buffer was handed out twice")
	}

	for range maxPooled + 2 {
		if err := pool.float32sFromJS(got, float32sToJS(sent), "test"); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(pool.free[4*len(sent)]); n != maxPooled {
		t.Errorf("the pool keeps %d buffers of one size, want at most %d", n, maxPooled)
	}
	if err := pool.float32sFromJS(make([]float32, 10), float32sToJS(sent), "test"); err == nil {
		t.Error("a message of the wrong size was accepted")
	}
}

// BenchmarkMessageOut copies preset M's generator gradient message (the
// largest a worker sends each iteration) out of the Go heap into a new
// ArrayBuffer (fresh), as two workers did, and into a buffer that arrived
// earlier (recycled), as they do now.
func BenchmarkMessageOut(b *testing.B) {
	cfg := cyclegan.DefaultConfig()
	cfg.CropSize, cfg.NGF, cfg.Blocks = 128, 32, 6
	n := cyclegan.SplitMessageFloats(cfg)
	f := make([]float32, n)
	for i := range f {
		f[i] = float32(i)
	}
	b.Run("fresh", func(b *testing.B) {
		b.SetBytes(int64(4 * n))
		for range b.N {
			float32sToJS(f)
		}
	})
	b.Run("recycled", func(b *testing.B) {
		var pool bufferPool
		pool.free = map[int][]js.Value{4 * n: {float32sToJS(f)}}
		b.SetBytes(int64(4 * n))
		for range b.N {
			ab := pool.float32sToJS(f)
			pool.free[4*n] = append(pool.free[4*n], ab) // as if it came back
		}
	})
}
