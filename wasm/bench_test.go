//go:build js && wasm

package wasm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"syscall/js"
	"testing"
	"time"

	"github.com/cyclegan-wasm/cyclegan/cyclegan"
	"github.com/cyclegan-wasm/cyclegan/engine"
)

// Browser benchmarks of whole training iterations and webcam frames, in
// real Web Workers booted from this test binary as the page boots the app
// (startRealWorker), run by `make bench`:
//
//	GOOS=js GOARCH=wasm go test -run=NONE -bench=Browser -benchtime=1x ./wasm/
//
// They report seconds per iteration (s/iter), the peak WebAssembly memory
// of each worker (MB-engine, MB-peer), where two workers' iterations go
// (ms-gen, …: reportSplitTiming) and frames per second (frames/s).

// realRun drives an engine worker (and its peer) booted by startRealWorker.
type realRun struct {
	tb   testing.TB
	msgs chan js.Value
	last js.Value // latest progress
	mem  [2]int   // peak memory of the engine worker and the peer, bytes
}

// wait returns the first message for which done holds; a worker error or
// an error/warning status fails.
func (r *realRun) wait(what string, timeout time.Duration, done func(m js.Value) bool) js.Value {
	r.tb.Helper()
	expire := time.After(timeout)
	for {
		select {
		case m := <-r.msgs:
			typ := m.Get("type").String()
			if typ == "workerError" || (typ == MsgStatus && m.Get("level").String() != "info") {
				r.tb.Fatalf("waiting for %s: %s: %s", what, typ, m.Get("text").String())
			}
			if typ == MsgProgress {
				r.last = m
				r.mem[0] = max(r.mem[0], m.Get("memory").Int())
				r.mem[1] = max(r.mem[1], m.Get("peerMemory").Int())
			}
			if done(m) {
				return m
			}
		case <-expire:
			r.tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

func progressAt(it int) func(js.Value) bool {
	return func(m js.Value) bool {
		return m.Get("type").String() == MsgProgress && m.Get("iteration").Int() >= it
	}
}

// startRealWorkers boots the engine worker and, for two workers, a peer
// joined to it; the messages of both arrive on the channel.
func startRealWorkers(tb testing.TB, workers int) (js.Value, chan js.Value) {
	tb.Helper()
	eng, msgs := startRealWorker(tb, false)
	if workers == 2 {
		peer, peerMsgs := startRealWorker(tb, true)
		joinRealWorkers(eng, peer)
		go func() {
			for m := range peerMsgs { // a peer only ever reports failures
				msgs <- m
			}
		}()
	}
	return eng, msgs
}

// startRealRun boots the engine worker (and a peer, for two workers) and
// starts a demo run of settings.
func startRealRun(tb testing.TB, settings map[string]any, workers int) *realRun {
	tb.Helper()
	eng, msgs := startRealWorkers(tb, workers)
	settings["workers"] = workers
	eng.Call("postMessage", map[string]any{"type": MsgDemo})
	eng.Call("postMessage", map[string]any{"type": MsgStart, "config": settings})
	return &realRun{tb: tb, msgs: msgs}
}

// benchTrain times iterations warm+1 … warm+timed of a demo run in real
// workers, from the progress messages (each sent right after a step).
func benchTrain(b *testing.B, size, ngf, blocks, workers, warm, timed int) {
	b.StopTimer()
	settings := map[string]any{"size": size, "ngf": ngf, "blocks": blocks, "ndf": 64, "identity": 0.5,
		"iterations": warm + timed + 1000, "seed": 1, "checkpointEvery": 1_000_000}
	r := startRealRun(b, settings, workers)
	perIter := 3 * time.Duration(size*size/(64*64)+1) * time.Minute
	r.wait("the warm-up", perIter*time.Duration(warm+2), progressAt(warm))
	it0, t0 := r.last.Get("iteration").Int(), time.Now()
	split0 := r.last.Get("split")
	b.StartTimer()
	r.wait("the timed iterations", perIter*time.Duration(timed+2), progressAt(it0+timed))
	b.StopTimer()
	split1 := r.last.Get("split")
	it1, el := r.last.Get("iteration").Int(), time.Since(t0)
	if got := r.last.Get("workers").Int(); got != workers {
		b.Fatalf("trained on %d workers, want %d", got, workers)
	}
	sec := el.Seconds() / float64(it1-it0)
	b.ReportMetric(sec, "s/iter")
	b.ReportMetric(sec*1e9/float64(b.N), "ns/op")
	b.ReportMetric(float64(r.mem[0])/(1<<20), "MB-engine")
	if workers == 2 {
		b.ReportMetric(float64(r.mem[1])/(1<<20), "MB-peer")
		reportSplitTiming(b, split0, split1)
	}
}

// reportSplitTiming reports where the timed iterations of a two-worker run
// went, per iteration in ms, from the progress messages' split timing
// before and after them (see splitTiming): ms-gen, ms-disc, ms-finish and
// ms-exchange (ms-copy + ms-wait, and the wait split into ms-wait-peer-busy
// and ms-wait-delivery) on the engine worker; ms-peer-gen and ms-peer-disc
// on the peer; frac-moved, the share of iterations in which one worker
// computed both identity terms (cyclegan.IdentityBalancer).
func reportSplitTiming(b *testing.B, before, after js.Value) {
	if before.Type() != js.TypeObject || after.Type() != js.TypeObject {
		b.Fatal("a two-worker run's progress has no split timing")
	}
	steps := after.Get("steps").Int() - before.Get("steps").Int()
	if steps < 1 {
		b.Fatalf("split timing over %d steps", steps)
	}
	for _, f := range []struct{ field, unit string }{
		{"gen", "ms-gen"}, {"disc", "ms-disc"}, {"finish", "ms-finish"}, {"exchange", "ms-exchange"},
		{"copy", "ms-copy"}, {"wait", "ms-wait"}, {"peerBusy", "ms-wait-peer-busy"}, {"delivery", "ms-wait-delivery"},
		{"peerGen", "ms-peer-gen"}, {"peerDisc", "ms-peer-disc"}, {"moved", "frac-moved"},
	} {
		b.ReportMetric((after.Get(f.field).Float()-before.Get(f.field).Float())/float64(steps), f.unit)
	}
}

// benchTrainBusy is benchTrain on one worker while a second, independent
// one-worker run of the same preset keeps the other core busy. It
// measures what one core delivers when both work, the fair baseline of
// two workers' speed-up: two workers can at best halve this time.
func benchTrainBusy(b *testing.B, size, ngf, blocks, warm, timed int) {
	b.StopTimer()
	settings := func() map[string]any {
		return map[string]any{"size": size, "ngf": ngf, "blocks": blocks, "ndf": 64, "identity": 0.5,
			"iterations": warm + timed + 1000, "seed": 1, "checkpointEvery": 1_000_000}
	}
	r := startRealRun(b, settings(), 1)
	busy := startRealRun(b, settings(), 1)
	perIter := 3 * time.Duration(size*size/(64*64)+1) * time.Minute
	busy.wait("the other run's first iteration", perIter*2, progressAt(1))
	r.wait("the warm-up", perIter*time.Duration(warm+2), progressAt(warm))
	it0, t0 := r.last.Get("iteration").Int(), time.Now()
	b.StartTimer()
	r.wait("the timed iterations", perIter*time.Duration(timed+2), progressAt(it0+timed))
	b.StopTimer()
	el := time.Since(t0)
	// The other run must still be training: its latest progress is recent.
	busy.wait("the other run", perIter, progressAt(busy.last.Get("iteration").Int()+1))
	sec := el.Seconds() / float64(r.last.Get("iteration").Int()-it0)
	b.ReportMetric(sec, "s/iter")
	b.ReportMetric(sec*1e9/float64(b.N), "ns/op")
}

// Presets S (64 px, ngf 16, 3 blocks) and M (128 px, ngf 32, 6 blocks),
// and M's architecture at 64 and 256 px for the scaling with image size.
// (Benchmarks run in the order of this file: make bench's rounds run S on
// one worker, on one beside a busy core, and on two, one after the other.)
func BenchmarkBrowserTrain_S_1worker(b *testing.B)       { benchTrain(b, 64, 16, 3, 1, 3, 40) }
func BenchmarkBrowserTrain_S_1worker_busy(b *testing.B)  { benchTrainBusy(b, 64, 16, 3, 3, 40) }
func BenchmarkBrowserTrain_S_2workers(b *testing.B)      { benchTrain(b, 64, 16, 3, 2, 3, 40) }
func BenchmarkBrowserTrain_M_1worker(b *testing.B)       { benchTrain(b, 128, 32, 6, 1, 2, 8) }
func BenchmarkBrowserTrain_M_2workers(b *testing.B)      { benchTrain(b, 128, 32, 6, 2, 2, 8) }
func BenchmarkBrowserTrain_M_1worker_busy(b *testing.B)  { benchTrainBusy(b, 128, 32, 6, 2, 8) }
func BenchmarkBrowserTrain_M64px_1worker(b *testing.B)   { benchTrain(b, 64, 32, 6, 1, 3, 12) }
func BenchmarkBrowserTrain_M256px_1worker(b *testing.B)  { benchTrain(b, 256, 32, 6, 1, 1, 3) }
func BenchmarkBrowserTrain_M256px_2workers(b *testing.B) { benchTrain(b, 256, 32, 6, 2, 1, 3) }

// benchFrames: webcam frames through the engine worker as the page sends
// them (an ImageBitmap, transferred; RGBA back), with M's generator (ngf
// 32, 6 blocks), keeping one frame in flight per worker and one waiting,
// as the page does (with two, the engine worker hands frames to
// its peer).
func benchFrames(b *testing.B, workers int) {
	b.StopTimer()
	eng, msgs := startRealWorkers(b, workers)
	r := &realRun{tb: b, msgs: msgs}
	g := cyclegan.NewGenerator(32, 6)
	bin, err := cyclegan.MarshalGenerator(g, nil)
	if err != nil {
		b.Fatal(err)
	}
	buf := bytesToJS(bin)
	eng.Call("postMessage", map[string]any{"type": MsgImport, "name": "G_A.safetensors", "bytes": buf}, []any{buf})
	r.wait("the import", time.Minute, func(m js.Value) bool {
		return m.Get("type").String() == MsgState && m.Get("hasModel").Bool()
	})

	const size = 128
	px := make([]byte, size*size*4)
	for i := range px {
		px[i] = byte(i * 7)
	}
	data := js.Global().Get("Uint8ClampedArray").New(len(px))
	js.CopyBytesToJS(data, px)
	img := js.Global().Get("ImageData").New(data, size, size)
	req := 0
	send := func() {
		bm, err := await(js.Global().Call("createImageBitmap", img))
		if err != nil {
			b.Fatal(err)
		}
		req++
		eng.Call("postMessage", map[string]any{"type": MsgFrame, "req": req, "direction": "AtoB", "bitmap": bm, "size": size}, []any{bm})
	}
	var engineMS []float64
	answer := func() {
		out := r.wait("a frame", time.Minute, func(m js.Value) bool { return m.Get("type").String() == MsgFrameOut })
		if out.Get("pixels").Get("byteLength").Int() != size*size*4 {
			b.Fatal("bad frame")
		}
		engineMS = append(engineMS, out.Get("ms").Float())
	}
	const warm, frames = 4, 24
	for range workers + 1 { // as the page: one in flight per worker, one waiting
		send()
	}
	for range warm {
		answer()
		send()
	}
	b.StartTimer()
	t0 := time.Now()
	for range frames {
		answer()
		send()
	}
	el := time.Since(t0)
	b.StopTimer()
	b.ReportMetric(frames/el.Seconds(), "frames/s")
	b.ReportMetric(el.Seconds()*1e9/frames/float64(b.N), "ns/op")
	b.ReportMetric(median(engineMS[warm:]), "ms-engine")
}

func BenchmarkBrowserFrame_M_128px_1worker(b *testing.B)  { benchFrames(b, 1) }
func BenchmarkBrowserFrame_M_128px_2workers(b *testing.B) { benchFrames(b, 2) }

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	for i := range s { // insertion sort: a handful of values
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[len(s)/2]
}

// TestTwoRealWorkers trains a small run on an engine worker and a peer in
// two real Web Workers, through messages alone, to its end.
func TestTwoRealWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	settings := map[string]any{"size": 16, "ngf": 2, "blocks": 1, "ndf": 4, "identity": 0.5,
		"iterations": 8, "seed": 5, "checkpointEvery": 4}
	r := startRealRun(t, settings, 2)
	r.wait("the end of training", 2*time.Minute, func(m js.Value) bool {
		return m.Get("type").String() == MsgState && m.Get("state").String() == stateIdle && m.Get("iteration").Int() == 8
	})
	if n := r.last.Get("workers").Int(); n != 2 {
		t.Fatalf("the last progress reports %d workers", n)
	}
	if r.mem[0] == 0 || r.mem[1] == 0 {
		t.Fatalf("memory not reported: %v", r.mem)
	}
	t.Log(fmt.Sprintf("peak memory: engine %d MB, peer %d MB", r.mem[0]>>20, r.mem[1]>>20))
}

// The platform's own two-core speed-up, without the split: one or two Web
// Workers (TestKernelProcess) run the generator's residual-block
// convolution (3×3, 128→128 channels at 32×32, forward, as the engine
// runs it: Winograd) over the same few seconds of wall-clock time, each
// on its own data. Two workers' total rate over one worker's is the most
// that two workers can gain on this machine in its current state; make
// bench runs it in each round, beside the training runs.
func BenchmarkBrowserKernel_1worker(b *testing.B)  { benchKernel(b, 1) }
func BenchmarkBrowserKernel_2workers(b *testing.B) { benchKernel(b, 2) }

const (
	kernelStartEnv   = "CYCLEGAN_KERNEL_START"   // wallMS when to start
	kernelSecondsEnv = "CYCLEGAN_KERNEL_SECONDS" // how long to run
	kernelMsg        = "kernelProbe"
	flopsPerConv     = 2 * 128 * 128 * 9 * 32 * 32
)

// benchKernel reports each worker's GFLOP/s (their mean) and the workers'
// total (GFLOP/s-total). The workers start at one wall-clock time, far
// enough ahead for both to boot and warm up, and run for kernelSeconds.
func benchKernel(b *testing.B, workers int) {
	b.StopTimer()
	const lead, seconds = 8000.0, 6.0
	start := wallMS() + lead
	env := map[string]any{kernelStartEnv: fmt.Sprint(start), kernelSecondsEnv: fmt.Sprint(seconds)}
	var all []chan js.Value
	for range workers {
		_, msgs := startWorkerProcess(b, "TestKernelProcess", env)
		all = append(all, msgs)
	}
	total := 0.0
	for i, msgs := range all {
		expire := time.After(time.Duration(lead+seconds*1000)*time.Millisecond + time.Minute)
		var m js.Value
		for m.IsUndefined() {
			select {
			case got := <-msgs:
				switch str(got.Get("type")) {
				case kernelMsg:
					m = got
				case "workerError", MsgStatus:
					b.Fatalf("kernel worker %d: %s", i, str(got.Get("text")))
				}
			case <-expire:
				b.Fatalf("kernel worker %d sent nothing", i)
			}
		}
		if late := m.Get("late").Float(); late > 0 {
			b.Fatalf("kernel worker %d was ready %.0f ms after the start time", i, late)
		}
		total += m.Get("flops").Float() / (m.Get("to").Float() - m.Get("from").Float()) / 1e6
	}
	each := total / float64(workers)
	b.ReportMetric(flopsPerConv/each, "ns/op") // one convolution on one worker
	b.ReportMetric(each, "GFLOP/s")
	b.ReportMetric(total, "GFLOP/s-total")
}

// TestKernelProcess is a worker of benchKernel: it warms the kernel up,
// waits for the start time, runs the convolution until kernelSeconds have
// passed and posts how many floating-point operations it did in how long.
func TestKernelProcess(t *testing.T) {
	start, err1 := strconv.ParseFloat(os.Getenv(kernelStartEnv), 64)
	seconds, err2 := strconv.ParseFloat(os.Getenv(kernelSecondsEnv), 64)
	if !js.Global().Get("document").IsUndefined() || err1 != nil || err2 != nil {
		t.Skip("runs only inside the Web Worker that benchKernel starts")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x, w := engine.New(1, 128, 34, 34), engine.New(128, 128, 3, 3)
	engine.InitNormal(x, rng, 0, 1)
	engine.InitNormal(w, rng, 0, 0.05)
	tp := engine.NewTape()
	conv := func() {
		tp.Reset()
		engine.Conv2D(tp, x, w, nil, 1, 0)
	}
	for range 20 { // tiers the kernels up to optimised code
		conv()
	}
	late := wallMS() - start
	if late < 0 {
		time.Sleep(time.Duration(-late * float64(time.Millisecond)))
	}
	calls, from := 0, wallMS()
	to := from
	for to < start+seconds*1000 {
		conv()
		calls++
		to = wallMS()
	}
	js.Global().Call("postMessage", map[string]any{"type": kernelMsg, "flops": float64(calls) * flopsPerConv,
		"from": from, "to": to, "late": max(late, 0)})
}
