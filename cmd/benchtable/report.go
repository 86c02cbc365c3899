package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The report of `make bench` (-report DIR): everything the run measured, in
// one Markdown document. DIR holds the raw outputs the Makefile wrote:
//
//	native.txt native-scalar.txt wasm.txt wasm-scalar.txt  engine kernels
//	step-native.txt   cyclegan TrainerStep_* (native, the CLI's step)
//	step-wasm.txt     cyclegan TrainerStep_(S|M) and SplitStep_* in Chromium
//	browser.txt       wasm BrowserTrain_* and BrowserFrame_* (real workers)
//	pytorch.txt       pytorch_speed.py --bench-name lines
//	env.txt           the machine, versions and load, as KEY: VALUE lines

// samples are one output's measurements: benchmark → unit → values, and
// the benchmarks in order of appearance.
type samples struct {
	m     map[string]map[string][]float64
	order []string
}

func readSamples(path string) (samples, error) {
	out := samples{m: map[string]map[string][]float64{}}
	f, err := os.Open(path)
	if err != nil {
		return out, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		bench := strings.TrimPrefix(m[1], "Benchmark")
		fields := strings.Fields(m[2])
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			if out.m[bench] == nil {
				out.m[bench] = map[string][]float64{}
				out.order = append(out.order, bench)
			}
			out.m[bench][fields[i+1]] = append(out.m[bench][fields[i+1]], v)
		}
	}
	return out, sc.Err()
}

// get is the median of bench's unit, NaN when not measured.
func (s samples) get(bench, unit string) float64 {
	v := s.m[bench][unit]
	if len(v) == 0 {
		return math.NaN()
	}
	return median(v)
}

func (s samples) runs(bench, unit string) int { return len(s.m[bench][unit]) }

// worst is the largest value of unit over every run of the benchmarks whose
// names start with prefix, and how many runs there were (NaN, 0 when none).
func (s samples) worst(prefix, unit string) (float64, int) {
	w, n := math.NaN(), 0
	for _, bench := range s.order {
		if !strings.HasPrefix(bench, prefix) {
			continue
		}
		for _, v := range s.m[bench][unit] {
			if n == 0 || v > w {
				w = v
			}
			n++
		}
	}
	return w, n
}

// ratios is a/b run by run, in the order the runs were made (make bench
// runs one and two workers round by round), as "1.52×, 1.61×"; – when
// either was not measured.
func (s samples) ratios(a, b, unit string) string {
	va, vb := s.m[a][unit], s.m[b][unit]
	var out []string
	for i := 0; i < min(len(va), len(vb)); i++ {
		out = append(out, cell(va[i]/vb[i], "%.2f×"))
	}
	if len(out) == 0 {
		return "–"
	}
	return strings.Join(out, ", ")
}

func cell(v float64, format string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmt.Sprintf(format, v)
}

func readEnv(path string) map[string]string {
	env := map[string]string{}
	b, err := os.ReadFile(path)
	if err != nil {
		return env
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			env[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return env
}

// report writes the whole benchmark document for the outputs in dir.
func report(w io.Writer, dir string) error {
	load := func(name string) samples {
		s, err := readSamples(filepath.Join(dir, name))
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchtable: %v (its rows stay empty)\n", err)
		}
		return s
	}
	native, browser, torch := load("step-native.txt"), load("browser.txt"), load("pytorch.txt")
	stepWasm := load("step-wasm.txt")
	env := readEnv(filepath.Join(dir, "env.txt"))

	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("# Benchmarks\n\n")
	p("Written by `make bench` (`cmd/benchtable -report`) from one run on one machine, every\n")
	p("column measured in the same run, one after the other. Do not edit: run `make bench`.\n\n")
	for _, k := range []string{"date", "machine", "cpu", "go", "chromium", "torch", "load before", "load after"} {
		if v, ok := env[k]; ok {
			p("- %s: %s\n", k, v)
		}
	}
	p("\nPresets: **S** is 64 px, ngf 16, 3 residual blocks; **M** is 128 px, ngf 32, 6 blocks;\n")
	p("both with ndf 64, 3-layer PatchGAN, identity loss 0.5, batch 1, pool 50. *Browser*\n")
	p("is headless Chromium, the app's engine worker (and, for two workers, its peer) booted\n")
	p("from the test binary exactly as the page boots them, training the demo data\n")
	p("(`wasm/bench_test.go`); *native* is the CLI's training step (`cyclegan.Trainer.Step`,\n")
	p("`cyclegan/bench_test.go`, random images, both cores); *PyTorch* is the reference\n")
	p("implementation's iteration in Debian's PyTorch with 2 threads\n")
	p("(`cmd/cyclegan/testdata/pytorch_speed.py`, random images). Seconds per iteration are\n")
	p("medians over the runs; each browser run times 8–40 consecutive iterations after a\n")
	p("warm-up, and the runs of S and M on one and two workers go round by round (S 1, S 1\n")
	p("beside a busy core, S 2, M 1, M 2, the kernel on 1 and 2 workers; %d rounds), so that\n"+
		"a slow spell of this shared machine falls on all of them.\n\n", len(browser.m["BrowserTrain_S_1worker"]["s/iter"]))

	// native is the Trainer.Step benchmark (step-native.txt, and on one
	// core in Chromium, step-wasm.txt); split, both halves of a two-worker
	// iteration on one core (step-wasm.txt).
	type preset struct{ name, browser1, browser2, native, split, torch string }
	presets := []preset{
		{"S", "BrowserTrain_S_1worker", "BrowserTrain_S_2workers", "TrainerStep_S_64px_ngf16_3blocks", "SplitStep_S", "PyTorch_S"},
		{"M", "BrowserTrain_M_1worker", "BrowserTrain_M_2workers", "TrainerStep_M_128px_ngf32_6blocks", "SplitStep_M", "PyTorch_M"},
	}
	p("## Seconds per training iteration\n\n")
	p("| preset | browser, 1 worker | browser, 2 workers | 2 workers' speed-up | native CLI (2 cores) | PyTorch (2 threads) | browser 2 workers ÷ PyTorch |\n")
	p("|---|---:|---:|---:|---:|---:|---:|\n")
	speedup := map[string]float64{}
	vsTorch := map[string]float64{}
	for _, pr := range presets {
		b1, b2 := browser.get(pr.browser1, "s/iter"), browser.get(pr.browser2, "s/iter")
		nt, pt := native.get(pr.native, "s/iter"), torch.get(pr.torch, "s/iter")
		speedup[pr.name], vsTorch[pr.name] = b1/b2, b2/pt
		p("| %s | %s | %s | %s | %s | %s | %s |\n", pr.name, cell(b1, "%.3f"), cell(b2, "%.3f"), cell(b1/b2, "%.2f×"),
			cell(nt, "%.3f"), cell(pt, "%.3f"), cell(b2/pt, "%.2f×"))
	}
	p("\n(runs: browser %d, native %d, PyTorch %d per cell)\n\n",
		browser.runs("BrowserTrain_M_2workers", "s/iter"), native.runs("TrainerStep_M_128px_ngf32_6blocks", "s/iter"),
		torch.runs("PyTorch_M", "s/iter"))

	p("## Two workers\n\n")
	p("Two workers split each iteration (`cyclegan/split.go`) and can at best halve the time\n")
	p("one worker takes *on a core whose neighbour is busy too*. The column *1 worker, other\n")
	p("core busy* measures that: one worker timed while a second, independent one-worker run\n")
	p("of the same preset trains beside it (`benchTrainBusy`). Its ratio to *1 worker* is what\n")
	p("this machine's second core costs the first; the last two columns are the split's own\n")
	p("efficiency.\n\n")
	p("| preset | 1 worker | 1 worker, other core busy | 2 workers | speed-up over 1 worker | each round's speed-up | over 1 worker with the other core busy (ideal 2×) | each round's, over the busy core |\n")
	p("|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, pr := range presets {
		b1, b2 := browser.get(pr.browser1, "s/iter"), browser.get(pr.browser2, "s/iter")
		busy := browser.get(pr.browser1+"_busy", "s/iter")
		// Round by round only when the busy run was in every round (S).
		busyRounds := "–"
		if n := browser.runs(pr.browser1+"_busy", "s/iter"); n > 1 && n == browser.runs(pr.browser2, "s/iter") {
			busyRounds = browser.ratios(pr.browser1+"_busy", pr.browser2, "s/iter")
		}
		p("| %s | %s | %s | %s | %s | %s | %s | %s |\n", pr.name, cell(b1, "%.3f"), cell(busy, "%.3f"), cell(b2, "%.3f"),
			cell(b1/b2, "%.2f×"), browser.ratios(pr.browser1, pr.browser2, "s/iter"), cell(busy/b2, "%.2f×"), busyRounds)
	}
	k1, k2 := browser.get("BrowserKernel_1worker", "GFLOP/s"), browser.get("BrowserKernel_2workers", "GFLOP/s")
	kt := browser.get("BrowserKernel_2workers", "GFLOP/s-total")
	p("\nThe machine's own two-core speed-up, without the split: one worker, then two at once,\n")
	p("run the residual blocks' convolution (3×3, 128→128 at 32×32, forward, as the engine\n")
	p("runs it) for the same 6 s of wall-clock time (`BenchmarkBrowserKernel_*`, in every round).\n\n")
	p("| 1 worker | 2 workers, each | 2 workers, total | total over 1 worker | each round's |\n|---:|---:|---:|---:|---:|\n")
	p("| %s GFLOP/s | %s GFLOP/s | %s GFLOP/s | %s | %s |\n", cell(k1, "%.1f"), cell(k2, "%.1f"), cell(kt, "%.1f"),
		cell(kt/k1, "%.2f×"), browser.ratios("BrowserKernel_2workers", "BrowserKernel_1worker", "GFLOP/s-total"))
	p("\nThe work alone, without a second core: one Chromium instance runs `Trainer.Step`, and\n")
	p("both halves of a two-worker iteration back to back on two replicas of the networks, as\n")
	p("two workers hold them (`BenchmarkSplitStep_*`, `cyclegan/split_test.go`; each worker\n")
	p("also takes both generators' Adam step, and its own discriminator's). The slower worker's\n")
	p("share is what two workers would take if two busy cores ran as fast as one idle one.\n\n")
	p("| preset | one core: Trainer.Step | one core: both halves | the slower worker's share | speed-up on two ideal cores |\n")
	p("|---|---:|---:|---:|---:|\n")
	for _, pr := range presets {
		one, both, share := stepWasm.get(pr.native, "s/iter"), stepWasm.get(pr.split, "s/iter"), stepWasm.get(pr.split, "s/iter-2workers")
		p("| %s | %s | %s | %s | %s |\n", pr.name, cell(one, "%.3f"), cell(both, "%.3f"), cell(share, "%.3f"), cell(one/share, "%.2f×"))
	}
	p("\nWhere an iteration of two workers goes, ms per iteration (medians; see `splitTiming`):\n")
	p("each worker's generator half (three generator passes and its discriminator's verdict,\n")
	p("forward and backward) and discriminator half (its discriminator, forward and backward);\n")
	p("on the engine worker the Adam steps (both generators and its discriminator), and the\n")
	p("exchange: copying the messages out of and into its Go heap (into recycled buffers,\n")
	p("`bufferPool`), and waiting for the peer's two messages. Each message has work in\n")
	p("front of it to absorb the two workers' differences in speed from one iteration to the\n")
	p("next (the generators' gradient a discriminator half, the discriminator's loss, which only\n")
	p("reports, since each worker steps its own discriminator alone, the next iteration's whole\n")
	p("generator and discriminator halves: `cyclegan/split.go`), so what is left of the wait is\n")
	p("the slower worker's lag. It is split by the time the peer posted each message\n")
	p("(both workers read the browser's wall clock): before it, the peer was still computing;\n")
	p("after it, the message was on its way and Go waking up. When one core stays slower\n")
	p("for a few iterations, the worker on the other takes both identity terms\n")
	p("(`cyclegan.IdentityBalancer`); the last column is the share of iterations in which\n")
	p("one did.\n\n")
	p("| preset | engine: generator half | engine: discriminator half | engine: Adam steps | engine: copying messages | engine: waiting | of which the peer still computing | of which delivery | peer: generator half | peer: discriminator half | identity terms moved |\n")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, pr := range presets {
		g := func(unit string) string { return cell(browser.get(pr.browser2, unit), "%.0f") }
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", pr.name, g("ms-gen"), g("ms-disc"), g("ms-finish"), g("ms-copy"), g("ms-wait"),
			cell(browser.get(pr.browser2, "ms-wait-peer-busy"), "%.1f"), cell(browser.get(pr.browser2, "ms-wait-delivery"), "%.1f"),
			g("ms-peer-gen"), g("ms-peer-disc"), cell(100*browser.get(pr.browser2, "frac-moved"), "%.0f%%"))
	}
	p("\n")

	p("## Growth with image size (M's networks: ngf 32, 6 blocks)\n\n")
	p("| size | browser, 1 worker | browser, 2 workers | native CLI | PyTorch | browser 1 worker ÷ its 64 px |\n|---|---:|---:|---:|---:|---:|\n")
	sizes := []struct {
		px                     int
		b1, b2, native, torchN string
	}{
		{64, "BrowserTrain_M64px_1worker", "", "TrainerStep_M64px", "PyTorch_M64px"},
		{128, "BrowserTrain_M_1worker", "BrowserTrain_M_2workers", "TrainerStep_M_128px_ngf32_6blocks", "PyTorch_M"},
		{256, "BrowserTrain_M256px_1worker", "BrowserTrain_M256px_2workers", "TrainerStep_M256px", "PyTorch_M256px"},
	}
	base := browser.get(sizes[0].b1, "s/iter")
	for _, s := range sizes {
		b1 := browser.get(s.b1, "s/iter")
		p("| %d px | %s | %s | %s | %s | %s |\n", s.px, cell(b1, "%.3f"), cell(browser.get(s.b2, "s/iter"), "%.3f"),
			cell(native.get(s.native, "s/iter"), "%.3f"), cell(torch.get(s.torchN, "s/iter"), "%.3f"), cell(b1/base, "%.2f×"))
	}
	p("\nPixels grow 4× per row; so does the work of every convolution.\n\n")

	p("## Peak memory of the workers\n\n")
	p("The size of each worker's WebAssembly memory after training (it never shrinks: the peak).\n\n")
	p("| run | 1 worker | 2 workers: engine worker | 2 workers: peer |\n|---|---:|---:|---:|\n")
	for _, r := range []struct{ name, one, two string }{
		{"S (64 px, ngf 16)", "BrowserTrain_S_1worker", "BrowserTrain_S_2workers"},
		{"M (128 px, ngf 32)", "BrowserTrain_M_1worker", "BrowserTrain_M_2workers"},
		{"256 px, ngf 32, 6 blocks", "BrowserTrain_M256px_1worker", "BrowserTrain_M256px_2workers"},
	} {
		p("| %s | %s | %s | %s |\n", r.name, cell(browser.get(r.one, "MB-engine"), "%.0f MB"),
			cell(browser.get(r.two, "MB-engine"), "%.0f MB"), cell(browser.get(r.two, "MB-peer"), "%.0f MB"))
	}

	fps1, fps := browser.get("BrowserFrame_M_128px_1worker", "frames/s"), browser.get("BrowserFrame_M_128px_2workers", "frames/s")
	p("\n## Webcam translation\n\n")
	p("M's generator (ngf 32, 6 blocks) on 128 px frames sent to the engine worker as the page\n")
	p("sends them (an ImageBitmap in, RGBA out), one frame in flight per worker and one waiting\n")
	p("(with two, the engine worker hands a frame to its peer whenever the peer is free, even in\n")
	p("the middle of a frame of its own): **%s frames/s** with 2 workers,\n", cell(fps, "%.1f"))
	p("%s with 1; each frame takes the engine %s ms.\n\n", cell(fps1, "%.1f"),
		cell(browser.get("BrowserFrame_M_128px_1worker", "ms-engine"), "%.0f"))

	kernels := func(unit string) {
		args := []string{
			"native SIMD (2 cores)=" + filepath.Join(dir, "native.txt"),
			"native scalar (2 cores)=" + filepath.Join(dir, "native-scalar.txt"),
			"browser SIMD (1 core)=" + filepath.Join(dir, "wasm.txt"),
			"browser scalar (1 core)=" + filepath.Join(dir, "wasm-scalar.txt"),
		}
		table(w, unit, args)
	}
	p("## Convolution kernels, GFLOP/s\n\n")
	p("Each pass of every convolution shape of M's generator and the discriminator, and the\n")
	p("plain GEMM of REFERENCE.md §3 (`engine/bench_test.go`, see `engine/BENCHMARKS.md`).\n\n")
	kernels("GFLOP/s")
	// Target 1 is the convolution as the engine runs it: all three passes
	// of this shape are Winograd convolutions (in the browser, forward and
	// input gradient F(4×4, 3×3), 1/4 of the multiply-adds; the weight
	// gradient F(2×2, 3×3), 4/9), whose "GFLOP/s" count the direct
	// convolution's FLOPs over the time
	// (the usual effective rate of Winograd and FFT convolutions). The
	// same passes through the im2col GEMM, at its own arithmetic rate,
	// are shown and judged beside them.
	kg, wino := map[string]float64{}, map[string]float64{}
	if s, err := readSamples(filepath.Join(dir, "wasm.txt")); err == nil {
		for _, pass := range []string{"Forward", "BackwardInput", "BackwardWeight"} {
			kg[pass] = s.get("Conv2D_3x3_128to128_32px_GEMM/"+pass, "GFLOP/s")
			wino[pass] = s.get("Conv2D_3x3_128to128_32px/"+pass, "GFLOP/s")
		}
	}
	// A step that allocates once in three iterations reports 0 allocs/op
	// (rounded down) but some B/op; and one run in several may allocate
	// (the runtime's own records, see engine/gemm.go). So the target takes
	// the bytes of the worst run of every native step benchmark.
	allocBytes, allocRuns := native.worst("TrainerStep_", "B/op")

	p("\n## Targets\n\n| target | measured | |\n|---|---|---|\n")
	mark := func(ok bool, v float64) string {
		switch {
		case math.IsNaN(v):
			return "not measured"
		case ok:
			return "met"
		}
		return "**not met**"
	}
	passes := func(r map[string]float64) (string, float64) {
		return cell(r["Forward"], "%.1f") + " / " + cell(r["BackwardInput"], "%.1f") + " / " + cell(r["BackwardWeight"], "%.1f"),
			math.Min(r["Forward"], math.Min(r["BackwardInput"], r["BackwardWeight"]))
	}
	winoCells, minW := passes(wino)
	gemmCells, minG := passes(kg)
	p("| browser, 1 core: 3×3 128→128 at 32×32 ≥ 15 GFLOP/s, each pass (forward / input gradient / weight gradient) as the engine runs them: Winograd, the direct convolution's FLOPs over the time | %s | %s |\n",
		winoCells, mark(minW >= 15, minW))
	p("| the same passes through the im2col GEMM, at its own arithmetic rate | %s | %s |\n", gemmCells, mark(minG >= 15, minG))
	p("| M, browser, all workers ≤ 2× PyTorch s/iter | %s | %s |\n", cell(vsTorch["M"], "%.2f×"), mark(vsTorch["M"] <= 2, vsTorch["M"]))
	p("| M generator, 128 px frames ≥ 5 frames/s (2 workers) | %s | %s |\n", cell(fps, "%.1f"), mark(fps >= 5, fps))
	p("| steady-state training step allocates nothing (native; the worst of %d runs of S, M, 64 and 256 px) | %s B/op | %s |\n",
		allocRuns, cell(allocBytes, "%.0f"), mark(allocBytes == 0, allocBytes))
	p("| two workers ≥ 1.7× one (S / M) | %s / %s | %s |\n", cell(speedup["S"], "%.3f×"), cell(speedup["M"], "%.3f×"),
		mark(speedup["S"] >= 1.7 && speedup["M"] >= 1.7, math.Min(speedup["S"], speedup["M"])))
	return nil
}
