//go:build !js

package site_test

// End-to-end tests of the browser app: the site as `make site` builds it,
// served by site.Handler, driven in headless Chromium through the DevTools
// protocol (chromedp). Each test starts its own browser with a fresh
// profile; e2e_browser_test.go is the harness, e2e_fixtures_test.go makes
// the images, the camera clip and the checkpoint the tests use.
//
//	go test ./site/ -run E2E -v                       # these tests
//	go test ./site/ -run E2E -shots /tmp/shots        # keep every screenshot
//	go test ./site/ -run E2E -update-screenshots      # rewrite site/screenshots/
//
// Every test checks that the page requests nothing beyond its own origin
// (and blob:/data: URLs) and that its message log holds no error, and it
// leaves a screenshot of the page; a failing test logs where.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cyclegan-wasm/cyclegan/cyclegan"
)

// remember keeps a canvas's current content in the page (window.__e2e[key])
// for changed.
func (b *browser) remember(key, canvasID string) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`((window.__e2e ??= {})[%q] = document.getElementById(%q).toDataURL(), true)`, key, canvasID))
}

// changed is a condition: the canvas differs from what remember kept.
func changed(key, canvasID string) string {
	return fmt.Sprintf(`document.getElementById(%q).toDataURL() !== window.__e2e[%q]`, canvasID, key)
}

// readmeIters is how long the runs of the README's screenshots train
// (with -update-screenshots only: the previews then show something).
const readmeIters = 300

// skippedHas is a condition: an entry of #skipped contains text.
func skippedHas(text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("#skipped li")].some(li => li.textContent.includes(%q))`, text)
}

// modelListed is a condition: the models list has the saved model id.
func modelListed(id string) string {
	return fmt.Sprintf(`document.querySelector('#models li[data-id=%q]') !== null`, id)
}

// startDemo presses "Try the demo" and waits until training passes
// iteration it.
func (b *browser) startDemo(it int) {
	b.t.Helper()
	b.click("demo")
	b.waitFor("demo training", stateIs("training"))
	b.waitFor(fmt.Sprintf("iteration %d", it), atLeast("iteration", it))
}

// pause presses Pause and waits for the checkpoint it saves; it returns the
// saved iteration.
func (b *browser) pause() int {
	b.t.Helper()
	b.click("pause")
	b.waitFor("the pause", stateIs("paused"))
	b.waitFor("the checkpoint of the pause", `document.getElementById("saved").textContent.startsWith("Saved at iteration")`)
	return b.savedIteration()
}

// checkSkipped checks that #skipped lists exactly the fixture's two bad
// files of domain A, each with a reason.
func checkSkipped(t *testing.T, items []string) {
	t.Helper()
	want := map[string]*regexp.Regexp{
		"notes.txt":  regexp.MustCompile(`^styleA/notes\.txt \(A\): not an image$`),
		"broken.png": regexp.MustCompile(`^styleA/broken\.png \(A\): \S.*`),
	}
	if len(items) != len(want) {
		t.Errorf("#skipped lists %d files, want %d: %q", len(items), len(want), items)
	}
	for name, re := range want {
		found := false
		for _, it := range items {
			if strings.Contains(it, name) {
				found = true
				if !re.MatchString(it) {
					t.Errorf("#skipped entry %q does not match %v", it, re)
				}
			}
		}
		if !found {
			t.Errorf("#skipped does not list %s: %q", name, items)
		}
	}
}

// TestE2EDropFolders drops two folders on the drop zones with real
// (trusted) drag events, then trains the tiny preset on them: the corrupt
// PNG and the text file are listed as skipped while training goes on, and
// the loss chart and the previews update.
func TestE2EDropFolders(t *testing.T) {
	dirA, dirB := domainFolders(t, t.TempDir())
	b := newBrowser(t, e2e.url)
	b.open(e2e.url + "/")

	b.dropFolder("domain-a", dirA)
	b.dropFolder("domain-b", dirB)
	// broken.png counts until it is decoded; notes.txt is refused at once.
	b.waitFor("the image counts 13 and 12", `document.getElementById("count-a").textContent === "13" && document.getElementById("count-b").textContent === "12"`)
	b.waitFor("notes.txt among the skipped files", skippedHas("notes.txt"))

	iters := 60
	if *updateShots {
		iters = readmeIters + 100 // still training at the screenshot
	}
	b.useTinyPreset(iters)
	b.click("start")
	b.waitFor("training", stateIs("training"))
	if got := b.number("total"); got != iters {
		t.Errorf("#total = %d, want %d", got, iters)
	}
	b.waitFor("the first progress report", atLeast("iteration", 1))
	b.remember("chart", "loss-chart")
	b.waitFor("the first preview", `document.getElementById("preview-iteration").textContent !== ""`)
	firstPreview := b.text("preview-iteration")
	for _, id := range []string{"preview-realA", "preview-fakeB", "preview-realB"} {
		if p := b.canvasPixels(id); p.W != 32 || p.distinctColors(10) < 2 {
			t.Errorf("#%s is %d×%d with %d colours: want a 32×32 image", id, p.W, p.H, p.distinctColors(10))
		}
	}
	b.remember("fakeB", "preview-fakeB")
	b.remember("recA", "preview-recA")

	// The corrupt PNG is found when training first reads it (within the
	// first epoch of 13 images); training carries on.
	b.waitFor("broken.png among the skipped files", skippedHas("broken.png"))
	b.waitFor("iteration 20", atLeast("iteration", 20))
	if st := eval[string](b, `document.getElementById("state").dataset.state`); st != "training" && b.number("iteration") != iters {
		t.Errorf("state %q at iteration %d after the skip: training stopped", st, b.number("iteration"))
	}
	checkSkipped(t, b.skippedItems())
	if got := b.text("skipped-count"); got != "2" {
		t.Errorf("#skipped-count = %q, want 2", got)
	}

	b.waitFor("the loss chart to change", changed("chart", "loss-chart"))
	b.waitFor("a later preview", fmt.Sprintf(`document.getElementById("preview-iteration").textContent !== %q`, firstPreview))
	b.waitFor("the A → B preview to change", changed("fakeB", "preview-fakeB"))
	b.waitFor("the A → B → A preview to change", changed("recA", "preview-recA"))
	b.run("opening the skipped files", chromedp.Click(chromedp.CSS("#skipped-box summary"), chromedp.NodeVisible))
	if *updateShots {
		b.waitFor("the README's iteration", atLeast("iteration", readmeIters))
		b.waitFor("a preview of it", fmt.Sprintf(`Number(document.getElementById("preview-iteration").textContent.replace(/\D/g, "")) >= %d`, readmeIters))
	}
	b.readmeShot("training", "header.top, main.layout")

	b.waitFor("the end of the run", stateIs("idle")+" && "+atLeast("iteration", iters))
	b.waitFor("the final checkpoint", modelListed("autosave"))
}

// TestE2EFolderPickers chooses the two folders with the zones' folder
// pickers (<input webkitdirectory>).
func TestE2EFolderPickers(t *testing.T) {
	dirA, dirB := domainFolders(t, t.TempDir())
	b := newBrowser(t, e2e.url)
	b.open(e2e.url + "/")
	// One folder after the other, as a user picks them: on a loaded
	// machine a second file chooser set while the page still reads the
	// first was once lost (CI, 2026-11-27).
	b.upload("domain-a-input", dirA)
	b.waitFor("the image count 13", `document.getElementById("count-a").textContent === "13"`)
	b.upload("domain-b-input", dirB)
	b.waitFor("the image counts 13 and 12", `document.getElementById("count-a").textContent === "13" && document.getElementById("count-b").textContent === "12"`)
	b.waitFor("notes.txt among the skipped files", skippedHas("styleA/notes.txt (A): not an image"))
	if items := b.skippedItems(); len(items) != 1 {
		t.Errorf("#skipped lists %q, want only notes.txt", items)
	}
	for _, id := range []string{"domain-a", "domain-b"} {
		if !eval[bool](b, fmt.Sprintf(`document.getElementById(%q).classList.contains("filled")`, id)) {
			t.Errorf("#%s is not marked filled", id)
		}
	}
}

// TestE2EReloadResumes pauses a demo run (which saves a checkpoint),
// reloads the page and resumes from the offer: training continues from the
// saved iteration.
func TestE2EReloadResumes(t *testing.T) {
	b := newBrowser(t, e2e.url)
	b.open(e2e.url + "/")
	b.startDemo(10)
	saved := b.pause()
	if saved < 10 {
		t.Fatalf("saved at iteration %d, want ≥ 10", saved)
	}
	b.waitFor("the saved model in the list", modelListed("autosave"))

	b.run("reloading", chromedp.Reload())
	b.waitReady()
	b.waitFor("the resume offer", `!document.getElementById("resume-offer").hidden`)
	if got := b.number("resume-iteration"); got != saved {
		t.Errorf("the offer resumes from iteration %d, want %d", got, saved)
	}
	if got := b.number("iteration"); got != 0 {
		t.Errorf("#iteration = %d before resuming, want 0", got)
	}
	b.click("resume")
	b.waitFor("training again", stateIs("training"))
	if got := b.number("iteration"); got < saved {
		t.Errorf("resumed at iteration %d, want ≥ %d", got, saved)
	}
	if got := b.text("count-a"); got != "100" {
		t.Errorf("#count-a = %q after resuming the demo run, want 100 (the demo data)", got)
	}
	b.waitFor("training past the saved iteration", atLeast("iteration", saved+5))
	if b.number("total") != 400 {
		t.Errorf("#total = %q, want 400", b.text("total"))
	}
	if !eval[bool](b, `document.getElementById("resume-offer").hidden`) {
		t.Error("the resume offer is still shown while training")
	}
}

// TestE2EDownloadImport downloads the A → B generator of a paused demo run
// and imports it back: it translates an image exactly as before.
func TestE2EDownloadImport(t *testing.T) {
	sample, _ := writeTranslateImage(t, t.TempDir())
	b := newBrowser(t, e2e.url)
	b.open(e2e.url + "/")
	b.startDemo(5)
	it := b.pause()

	before := b.translate(sample, 27, 19)
	if n := before.distinctColors(100); n < 10 {
		t.Errorf("the translation has %d colours: blank?", n)
	}
	path := b.download("download-ga")
	if want := fmt.Sprintf("cyclegan-G_A-it%d.safetensors", it); filepath.Base(path) != want {
		t.Errorf("downloaded %s, want %s", filepath.Base(path), want)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := cyclegan.UnmarshalGenerator(raw, "G_A")
	if err != nil {
		t.Fatalf("the downloaded generator does not load natively: %v", err)
	}
	if g.NGF != 8 || g.Blocks != 2 {
		t.Errorf("downloaded generator has ngf %d, %d blocks; want the tiny preset's 8, 2", g.NGF, g.Blocks)
	}

	b.upload("import", path)
	b.waitFor("the import", logHas("as the A → B generator"))
	after := b.translate(sample, 27, 19)
	if n := differingBytes(before.Pix, after.Pix); n > 0 {
		t.Errorf("the re-imported generator translates differently: %d of %d bytes differ", n, len(before.Pix))
	}
}

// TestE2ECLICheckpoint imports a checkpoint trained natively (the CLI's
// code path) and translates an image A → B in the page: the pixels match a
// native translation to within 1 per channel.
func TestE2ECLICheckpoint(t *testing.T) {
	dir := t.TempDir()
	ckpt := cliCheckpoint(t)
	ckptPath := filepath.Join(dir, "cli-tiny.safetensors")
	writeFile(t, ckptPath, ckpt)
	sample, _ := writeTranslateImage(t, dir)
	tr, _, err := cyclegan.UnmarshalCheckpoint(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	img := readPNG(t, sample)
	want := cyclegan.Translate(tr.GA, img)

	b := newBrowser(t, e2e.url)
	b.open(e2e.url + "/")
	b.upload("import", ckptPath)
	b.waitFor("the import", logHas("Imported checkpoint cli-tiny.safetensors"))
	b.waitFor("the imported model in the list", modelListed("import-cli-tiny"))
	if got := b.number("iteration"); got != 5 {
		t.Errorf("#iteration = %d after the import, want 5", got)
	}
	got := b.translate(sample, 27, 19)
	if len(got.Pix) != len(want.Pix) {
		t.Fatalf("page translation has %d bytes, native %d", len(got.Pix), len(want.Pix))
	}
	maxDiff, over := 0, 0
	for i := range got.Pix {
		d := int(got.Pix[i]) - int(want.Pix[i])
		d = max(d, -d)
		maxDiff = max(maxDiff, d)
		if d > 1 {
			over++
		}
	}
	t.Logf("page vs native A → B translation of a 27×19 image: max difference %d per channel", maxDiff)
	if over > 0 {
		t.Errorf("%d channel values differ by more than 1 (max %d)", over, maxDiff)
	}
}

// TestE2EWebcam translates the frames of Chromium's fake camera (a y4m
// clip of a moving square) with a model trained in the page.
func TestE2EWebcam(t *testing.T) {
	dir := t.TempDir()
	clip := filepath.Join(dir, "camera.y4m")
	writeY4M(t, clip)
	sample, _ := writeTranslateImage(t, dir)
	b := newBrowser(t, e2e.url,
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", clip),
	)
	b.open(e2e.url + "/")
	it := 5
	if *updateShots {
		it = readmeIters
	}
	b.startDemo(it)
	b.pause()
	b.translate(sample, 27, 19) // for the screenshot

	b.click("webcam")
	b.waitFor("translated camera frames", `document.getElementById("webcam-output").width === 32 && Number(document.getElementById("webcam-fps").textContent) > 0`)
	first := b.canvasPixels("webcam-output")
	if n := first.distinctColors(100); n < 10 {
		t.Errorf("a translated frame has %d colours: blank?", n)
	}
	b.remember("frame", "webcam-output")
	b.waitFor("the translated frames to change", changed("frame", "webcam-output"))
	fps, err := strconv.ParseFloat(b.text("webcam-fps"), 64)
	if err != nil || !(fps > 0) {
		t.Errorf("#webcam-fps = %q, want a positive number", b.text("webcam-fps"))
	}
	t.Logf("webcam: %.1f fps%s", fps, b.text("webcam-ms"))
	if !eval[bool](b, `document.getElementById("webcam-video").videoWidth === 64`) {
		t.Errorf("the camera video is not the 64×48 clip")
	}
	b.readmeShot("tools", "section.tools")
	b.click("webcam")
	b.waitFor("the webcam to stop", `document.getElementById("webcam-fps").textContent === "0"`)
	b.waitFor("the status to say so", statusHas("Webcam off."))
	if !eval[bool](b, `document.getElementById("webcam-video").srcObject === null`) {
		t.Error("the camera stream is still attached after stopping")
	}
}

// TestE2EDemo trains the built-in demo without any file, and pauses and
// resumes it with the Pause button (which reads Resume while paused).
func TestE2EDemo(t *testing.T) {
	b := newBrowser(t, e2e.url)
	b.open(e2e.url + "/")
	b.startDemo(20)
	if a, bb := b.text("count-a"), b.text("count-b"); a != "100" || bb != "100" {
		t.Errorf("demo counts %s and %s, want 100 and 100", a, bb)
	}
	if got := eval[string](b, `document.getElementById("preset").value`); got != "tiny" {
		t.Errorf("the demo chose preset %q, want tiny", got)
	}
	saved := b.pause()
	if got := b.text("pause"); got != "Resume" {
		t.Errorf("the pause button says %q while paused, want Resume", got)
	}
	if got := b.number("iteration"); got != saved {
		t.Errorf("paused at iteration %d but saved %d", got, saved)
	}
	b.click("pause")
	b.waitFor("training again", stateIs("training"))
	b.waitFor("training past the pause", atLeast("iteration", saved+3))
	if got := b.text("pause"); got != "Pause" {
		t.Errorf("the pause button says %q while training, want Pause", got)
	}
}

// TestE2EFileURL runs the page opened from disk (file://): the demo
// trains, pausing saves a checkpoint, and an image translates.
func TestE2EFileURL(t *testing.T) {
	sample, _ := writeTranslateImage(t, t.TempDir())
	origin := "file://" + filepath.ToSlash(e2e.siteDir)
	b := newBrowser(t, origin)
	b.open(origin + "/index.html")
	b.startDemo(5)
	saved := b.pause()
	b.waitFor("the saved model in the list", modelListed("autosave"))
	if meta := eval[string](b, `document.querySelector('#models li[data-id="autosave"] .meta').textContent`); !strings.Contains(meta, fmt.Sprintf("iteration %d of 400", saved)) {
		t.Errorf("the saved model's line says %q, want iteration %d of 400", meta, saved)
	}
	out := b.translate(sample, 27, 19)
	if n := out.distinctColors(100); n < 10 {
		t.Errorf("the translation has %d colours: blank?", n)
	}
}
