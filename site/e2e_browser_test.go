//go:build !js

package site_test

// The harness of the end-to-end tests: TestMain builds the app as `make
// site` does and serves it with the real handler; newBrowser starts a fresh
// headless Chromium (chromedp) for one test, watches every request the page
// makes and the console, and keeps a screenshot of the page when the test
// ends.

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/cyclegan-wasm/cyclegan/site"
)

var (
	shotsFlag   = flag.String("shots", "", "keep the e2e tests' screenshots in this `directory` (default: a temporary directory, kept only when a test fails)")
	updateShots = flag.Bool("update-screenshots", false, "write the README's screenshots to site/screenshots/")
)

const (
	chromiumPath = "/usr/bin/chromium"
	// testTimeout bounds each end-to-end test; waitTimeout each wait in it.
	testTimeout = 3 * time.Minute
	waitTimeout = 100 * time.Second
)

// e2e is what TestMain prepares for the tests.
var e2e struct {
	siteDir  string // the built site (index.html, bundle.js, …)
	url      string // the test server's origin, http://127.0.0.1:port
	shots    string // where screenshots go
	setupErr error  // why the site could not be built or served
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "cyclegan-e2e-site-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	e2e.siteDir = tmp
	if _, err := os.Stat(chromiumPath); err != nil {
		e2e.setupErr = fmt.Errorf("%s is missing: run `make test`, which installs Chromium (apt-get install chromium)", chromiumPath)
	} else if err := buildSite(tmp); err != nil {
		e2e.setupErr = fmt.Errorf("building the site: %w", err)
	}

	srv := httptest.NewServer(site.Handler(os.DirFS(tmp)))
	defer srv.Close()
	e2e.url = srv.URL

	keep := *shotsFlag != ""
	if keep {
		e2e.shots, err = filepath.Abs(*shotsFlag)
		if err == nil {
			err = os.MkdirAll(e2e.shots, 0o755)
		}
	} else {
		e2e.shots, err = os.MkdirTemp("", "cyclegan-e2e-shots-")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if !keep {
		if code == 0 {
			os.RemoveAll(e2e.shots)
		} else {
			fmt.Fprintf(os.Stderr, "e2e: screenshots kept in %s\n", e2e.shots)
		}
	}
	return code
}

// buildSite builds the browser app into dir as `make site` does: the wasm
// program (GOOS=js GOARCH=wasm GOEXPERIMENT=simd), Go's wasm_exec.js, the
// hand-written page files and bundle.js (site.WriteBundle).
func buildSite(dir string) error {
	root, err := filepath.Abs("..")
	if err != nil {
		return err
	}
	wasmPath := filepath.Join(dir, "cyclegan.wasm")
	build := exec.Command("go", "build", "-o", wasmPath, "./wasm/app")
	build.Dir = root
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "GOEXPERIMENT=simd")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./wasm/app: %v\n%s", err, out)
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return fmt.Errorf("go env GOROOT: %v", err)
	}
	wasmExec, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "wasm_exec.js"), wasmExec, 0o644); err != nil {
		return err
	}
	for _, name := range []string{"index.html", "boot.js", "style.css"} {
		b, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	worker, err := os.ReadFile(filepath.Join(root, "worker.js"))
	if err != nil {
		return err
	}
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "bundle.js"))
	if err != nil {
		return err
	}
	if err := site.WriteBundle(f, wasm, string(wasmExec), string(worker)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// browser is one headless Chromium with one tab, for one test.
type browser struct {
	t      *testing.T
	tab    context.Context // lives until the test's cleanup
	ctx    context.Context // tab, bounded by testTimeout
	origin string          // where the page may make requests

	mu       sync.Mutex
	requests int      // requests the page made
	foreign  []string // requests beyond the page's origin
	console  []string // console errors and uncaught exceptions
	shotSeq  int
}

// newBrowser starts Chromium with a fresh profile and the flags the tests
// need (plus extra), for a page of origin: every request the page makes
// must be to origin, blob: or data:.
func newBrowser(t *testing.T, origin string, extra ...chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	if e2e.setupErr != nil {
		t.Fatal(e2e.setupErr)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // ends Chromium and waits for it
	})
	b := &browser{t: t, tab: tab, origin: origin}
	// The first Do starts the browser and binds its life to its context:
	// tab, which lives until the cleanup.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	if err := chromedp.Listen(tab, b.onEvent); err != nil {
		t.Fatal(err)
	}
	var cancel context.CancelFunc
	b.ctx, cancel = context.WithTimeout(tab, testTimeout)
	// Cleanups run last first: this one before Chromium ends.
	t.Cleanup(func() {
		cancel()
		b.finish()
	})
	return b
}

// onEvent runs in chromedp's event loop: it only records.
func (b *browser) onEvent(ev any) {
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		b.mu.Lock()
		b.requests++
		if u := ev.Request.URL; !b.allowed(u) {
			b.foreign = append(b.foreign, u)
		}
		b.mu.Unlock()
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
			var parts []string
			for _, a := range ev.Args {
				if len(a.Value) > 0 {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			b.mu.Lock()
			b.console = append(b.console, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(parts, " ")))
			b.mu.Unlock()
		}
	case *runtime.EventExceptionThrown:
		text := ev.ExceptionDetails.Text
		if ex := ev.ExceptionDetails.Exception; ex != nil {
			text += " " + ex.Description
		}
		b.mu.Lock()
		b.console = append(b.console, "exception: "+text)
		b.mu.Unlock()
	}
}

func (b *browser) allowed(u string) bool {
	if strings.HasPrefix(u, "blob:") || strings.HasPrefix(u, "data:") {
		return true
	}
	return u == b.origin || strings.HasPrefix(u, b.origin+"/")
}

// finish, at the end of the test: the last screenshot, the checks every
// test makes (no request beyond the origin, no error in the page's message
// log) and, on failure, what the page said.
func (b *browser) finish() {
	t := b.t
	ctx, cancel := context.WithTimeout(b.tab, 20*time.Second)
	defer cancel()
	path := b.shotCtx(ctx, "end")
	b.mu.Lock()
	requests := b.requests
	foreign := append([]string(nil), b.foreign...)
	console := append([]string(nil), b.console...)
	b.mu.Unlock()
	if len(foreign) > 0 {
		t.Errorf("the page made %d requests beyond its origin %s: %q", len(foreign), b.origin, foreign)
	}
	if requests == 0 {
		t.Error("no request of the page was seen: the network events are not watched")
	}
	errs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("#log li[data-level=error]")].map(li => li.textContent)`))
	if err == nil && len(errs) > 0 {
		t.Errorf("the page reported errors:\n  %s", strings.Join(errs, "\n  "))
	}
	if t.Failed() {
		if path != "" {
			t.Logf("screenshot of the page at the end: %s (kept)", path)
		}
		if log, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
			`[...document.querySelectorAll("#log li")].map(li => li.dataset.level + ": " + li.textContent)`)); err == nil {
			t.Logf("the page's message log:\n  %s", strings.Join(log, "\n  "))
		}
		if len(console) > 0 {
			t.Logf("console:\n  %s", strings.Join(console, "\n  "))
		}
	}
}

// shot saves a screenshot of the whole page as DIR/Test-NN-name.png and
// returns its path ("" if it could not be taken).
func (b *browser) shot(name string) string {
	return b.shotCtx(b.ctx, name)
}

func (b *browser) shotCtx(ctx context.Context, name string) string {
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	return b.saveShot(name, png)
}

func (b *browser) saveShot(name string, png []byte) string {
	b.mu.Lock()
	b.shotSeq++
	seq := b.shotSeq
	b.mu.Unlock()
	path := filepath.Join(e2e.shots, fmt.Sprintf("%s-%02d-%s.png", b.t.Name(), seq, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	return path
}

// readmeShot screenshots the area of the elements matching the CSS
// selector sel (all of them) into the shots directory and, with
// -update-screenshots, into site/screenshots/name.png for the README.
func (b *browser) readmeShot(name, sel string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.Screenshot(chromedp.CSSAll(sel)))
	if err != nil {
		b.t.Fatalf("screenshot of %s: %v", sel, err)
	}
	b.saveShot("readme-"+name, png)
	if *updateShots {
		writeFile(b.t, filepath.Join("screenshots", name+".png"), png)
		b.t.Logf("wrote screenshots/%s.png", name)
	}
}

// run runs actions, failing the test on an error.
func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v (page: %s)", what, err, b.describe())
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v (page: %s)", expr, err, b.describe())
	}
	return v
}

// open navigates to url and waits until the engine is ready.
func (b *browser) open(url string) {
	b.t.Helper()
	b.run("opening "+url, chromedp.Navigate(url))
	b.waitReady()
}

// waitReady waits for the engine's MsgReady: the state badge leaves
// "loading".
func (b *browser) waitReady() {
	b.t.Helper()
	b.waitFor("the engine to be ready", `(() => { const s = document.getElementById("state"); return s && s.dataset.state === "idle"; })()`)
}

// waitFor polls the JavaScript expression cond until it is truthy.
func (b *browser) waitFor(what, cond string) {
	b.t.Helper()
	b.waitForT(waitTimeout, what, cond)
}

func (b *browser) waitForT(d time.Duration, what, cond string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	var lastErr error
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+cond+")"))
		if err == nil && ok {
			return
		}
		if err != nil && ctx.Err() == nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			b.t.Fatalf("timed out after %v waiting for %s\n  condition: %s\n  last error: %v\n  page: %s", d, what, cond, lastErr, b.describe())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// describe is the page's state in a line, for failure messages.
func (b *browser) describe() string {
	ctx, cancel := context.WithTimeout(b.tab, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const t = id => { const e = document.getElementById(id); return e ? e.textContent : "?"; };
		const st = document.getElementById("state");
		return "state=" + (st ? st.dataset.state : "?") + " iteration=" + t("iteration") + "/" + t("total") +
			" counts=" + t("count-a") + "/" + t("count-b") + " status=" + JSON.stringify(t("status"));
	})()`))
	if err != nil {
		return "(unavailable: " + err.Error() + ")"
	}
	return s
}

// text is the text content of the element with the given id.
func (b *browser) text(id string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`document.getElementById(%q).textContent`, id))
}

// number is the text of the element with the given id as an integer.
func (b *browser) number(id string) int {
	b.t.Helper()
	s := strings.TrimSpace(b.text(id))
	n, err := strconv.Atoi(s)
	if err != nil {
		b.t.Fatalf("#%s is %q, not a number", id, s)
	}
	return n
}

// atLeast is a condition: the number in #id is at least n.
func atLeast(id string, n int) string {
	return fmt.Sprintf(`Number(document.getElementById(%q).textContent) >= %d`, id, n)
}

// stateIs is a condition: the state badge shows state.
func stateIs(state string) string {
	return fmt.Sprintf(`document.getElementById("state").dataset.state === %q`, state)
}

// statusHas is a condition: #status contains text.
func statusHas(text string) string {
	return fmt.Sprintf(`document.getElementById("status").textContent.includes(%q)`, text)
}

// logHas is a condition: a line of the page's message log contains text.
func logHas(text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#log li")].some(li => li.textContent.includes(%q))`, text)
}

// click clicks the element with the given id like a user (mouse events at
// its centre, after scrolling it into view).
func (b *browser) click(id string) {
	b.t.Helper()
	b.run("clicking #"+id, chromedp.Click(chromedp.ID(id), chromedp.NodeVisible))
}

// upload sets the files of the <input type=file> with the given id (a
// directory for a webkitdirectory input), as the file chooser would.
func (b *browser) upload(id string, paths ...string) {
	b.t.Helper()
	b.run("choosing files for #"+id, chromedp.SetUploadFiles(chromedp.ID(id), paths))
}

// useTinyPreset picks the tiny preset and then sets the iterations, through
// the controls' own events.
func (b *browser) useTinyPreset(iterations int) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`(() => {
		const p = document.getElementById("preset");
		p.value = "tiny";
		p.dispatchEvent(new Event("change", {bubbles: true}));
		const it = document.getElementById("iterations");
		it.value = "%d";
		it.dispatchEvent(new Event("input", {bubbles: true}));
		return true;
	})()`, iterations))
}

// dropFolder drags folder (a directory on disk) onto the element with the
// given id, as a user dragging it from a file manager would: a trusted
// dragenter, dragover and drop at the element's centre.
func (b *browser) dropFolder(id, folder string) {
	b.t.Helper()
	type point struct {
		X float64 `json:"x"`
		Y float64 `json:"y"`
	}
	pt := eval[point](b, fmt.Sprintf(`(() => {
		const el = document.getElementById(%q);
		el.scrollIntoView({block: "center"});
		const r = el.getBoundingClientRect();
		return {x: r.left + r.width / 2, y: r.top + r.height / 2};
	})()`, id))
	data := &input.DragData{Items: []*input.DragDataItem{}, Files: []string{folder}, DragOperationsMask: 1}
	for _, typ := range []input.DispatchDragEventType{
		input.DispatchDragEventTypeDragEnter, input.DispatchDragEventTypeDragOver, input.DispatchDragEventTypeDrop,
	} {
		if _, err := chromedp.Call(b.ctx, input.DispatchDragEvent, input.DispatchDragEventParams{Type: typ, X: pt.X, Y: pt.Y, Data: data}); err != nil {
			b.t.Fatalf("%s on #%s: %v", typ, id, err)
		}
	}
}

// canvasURL is the canvas's content as a PNG data: URL (for comparisons).
func (b *browser) canvasURL(id string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`document.getElementById(%q).toDataURL()`, id))
}

// pixels is the RGBA content of a canvas.
type pixels struct {
	W, H int
	Pix  []byte
}

func (b *browser) canvasPixels(id string) pixels {
	b.t.Helper()
	type raw struct {
		W   int    `json:"w"`
		H   int    `json:"h"`
		B64 string `json:"b64"`
	}
	r := eval[raw](b, fmt.Sprintf(`(() => {
		const c = document.getElementById(%q);
		const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
		let s = "";
		for (let i = 0; i < d.length; i += 8192) s += String.fromCharCode.apply(null, d.subarray(i, i + 8192));
		return {w: c.width, h: c.height, b64: btoa(s)};
	})()`, id))
	pix, err := base64.StdEncoding.DecodeString(r.B64)
	if err != nil || len(pix) != 4*r.W*r.H {
		b.t.Fatalf("reading #%s: %d bytes for %d×%d (%v)", id, len(pix), r.W, r.H, err)
	}
	return pixels{W: r.W, H: r.H, Pix: pix}
}

// distinctColors counts the different RGBA values of p (up to limit).
func (p pixels) distinctColors(limit int) int {
	seen := map[[4]byte]bool{}
	for i := 0; i+4 <= len(p.Pix) && len(seen) < limit; i += 4 {
		seen[[4]byte(p.Pix[i:i+4])] = true
	}
	return len(seen)
}

// resetCanvas makes a canvas 1×1, so that the next drawing shows.
func (b *browser) resetCanvas(id string) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`(() => { const c = document.getElementById(%q); c.width = 1; c.height = 1; return true; })()`, id))
}

// translate translates the image file at path through #translate-input and
// returns #translate-output's pixels, which must be w×h.
func (b *browser) translate(path string, w, h int) pixels {
	b.t.Helper()
	b.resetCanvas("translate-output")
	b.upload("translate-input", path)
	b.waitFor("the translation", fmt.Sprintf(
		`(() => { const c = document.getElementById("translate-output"); return c.width === %d && c.height === %d; })()`, w, h))
	return b.canvasPixels("translate-output")
}

// download clicks the button with the given id and waits for the browser to
// save the file it starts. It returns the file's path, named as the page
// suggested.
func (b *browser) download(id string) string {
	b.t.Helper()
	dir := b.t.TempDir()
	if _, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior:      cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName,
		DownloadPath:  dir,
		EventsEnabled: new(true),
	}); err != nil {
		b.t.Fatalf("Browser.setDownloadBehavior: %v", err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	// Subscribe before the click: the iterators buffer what comes.
	begins := chromedp.BrowserEvents(ctx, cdpbrowser.DownloadWillBegin)
	progress := chromedp.BrowserEvents(ctx, cdpbrowser.DownloadProgress)
	b.click(id)
	var guid, name string
	for ev, err := range begins {
		if err != nil {
			b.t.Fatalf("waiting for the download of #%s to begin: %v (page: %s)", id, err, b.describe())
		}
		guid, name = ev.GUID, ev.SuggestedFilename
		break
	}
	for ev, err := range progress {
		if err != nil {
			b.t.Fatalf("waiting for the download %s to complete: %v", name, err)
		}
		if ev.GUID != guid {
			continue
		}
		if ev.State == cdpbrowser.DownloadProgressStateCanceled {
			b.t.Fatalf("the download %s was canceled", name)
		}
		if ev.State == cdpbrowser.DownloadProgressStateCompleted {
			break
		}
	}
	// allowAndName saves the file under its GUID.
	named := filepath.Join(b.t.TempDir(), name)
	if err := os.Rename(filepath.Join(dir, guid), named); err != nil {
		b.t.Fatal(err)
	}
	return named
}

// skippedItems is the text of each entry of #skipped.
func (b *browser) skippedItems() []string {
	b.t.Helper()
	return eval[[]string](b, `[...document.querySelectorAll("#skipped li")].map(li => li.textContent)`)
}

// savedIteration is the iteration of "Saved at iteration N (…)" in #saved.
func (b *browser) savedIteration() int {
	b.t.Helper()
	s := b.text("saved")
	m := regexp.MustCompile(`Saved at iteration (\d+)`).FindStringSubmatch(s)
	if m == nil {
		b.t.Fatalf("#saved says %q, no saved iteration", s)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
