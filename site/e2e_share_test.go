//go:build !js

package site_test

// End-to-end tests of model sharing: the page served with the model API
// (site.HandlerWithAPI over share.NewHandler and an in-memory store), a
// generator trained in one browser, shared, and opened by its link in
// another browser with a profile of its own.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cyclegan-wasm/cyclegan/cyclegan"
	"github.com/cyclegan-wasm/cyclegan/site"
	"github.com/cyclegan-wasm/cyclegan/site/share"
)

// shareServer serves the built site with the model API over a fresh
// in-memory store and returns its origin.
func shareServer(t *testing.T, cfg share.Config) string {
	t.Helper()
	if e2e.setupErr != nil {
		t.Fatal(e2e.setupErr)
	}
	cfg.Logf = t.Logf
	srv := httptest.NewServer(site.HandlerWithAPI(os.DirFS(e2e.siteDir), share.NewHandler(&share.MemoryStore{}, cfg)))
	t.Cleanup(srv.Close)
	return srv.URL
}

// apiGet fetches origin+path from the test (not the page) and returns the
// status and body.
func apiGet(t *testing.T, origin, path string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(origin + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// setValue types value into the input with the given id (its input event
// included).
func (b *browser) setValue(id, value string) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`(() => {
		const el = document.getElementById(%q);
		el.value = %q;
		el.dispatchEvent(new Event("input", {bubbles: true}));
		return true;
	})()`, id, value))
}

// value is the value of the input with the given id.
func (b *browser) value(id string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`document.getElementById(%q).value`, id))
}

// clickCSS clicks the first element matching the CSS selector sel.
func (b *browser) clickCSS(sel string) {
	b.t.Helper()
	b.run("clicking "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// shareShown is a condition: the share card is on the page.
const shareShown = `!document.getElementById("share-card").hidden`

// TestE2EShare trains a tiny model on two dropped folders, shares its
// A → B generator under the folders' names, and opens the share link in a
// second browser with a fresh profile: the shared generator translates an
// image to the same pixels. The uploader then deletes it with the token
// its browser kept, and the link stops working.
func TestE2EShare(t *testing.T) {
	origin := shareServer(t, share.Config{})
	dir := t.TempDir()
	dirA, dirB := domainFolders(t, dir)
	sample, _ := writeTranslateImage(t, dir)

	b := newBrowser(t, origin)
	b.open(origin + "/")
	b.waitFor("the share card", shareShown)
	if !eval[bool](b, `document.getElementById("share").disabled`) {
		t.Error(`"Share this generator" is enabled before there is a model`)
	}
	if got := eval[int](b, `document.querySelectorAll("#shared-models li:not(.empty)").length`); got != 0 {
		t.Errorf("the empty server lists %d shared models", got)
	}

	b.dropFolder("domain-a", dirA)
	b.dropFolder("domain-b", dirB)
	b.waitFor("the image counts 13 and 12", `document.getElementById("count-a").textContent === "13" && document.getElementById("count-b").textContent === "12"`)
	for id, want := range map[string]string{"share-domain-a": "styleA", "share-domain-b": "styleB", "share-name": "styleA → styleB"} {
		if got := b.value(id); got != want {
			t.Errorf("#%s = %q, want %q (from the folders' names)", id, got, want)
		}
	}

	const iters = 10
	b.useTinyPreset(iters)
	b.click("start")
	b.waitFor("the end of the run", stateIs("idle")+" && "+atLeast("iteration", iters))
	b.waitFor(`"Share this generator" to be enabled`, `!document.getElementById("share").disabled`)
	before := b.translate(sample, 27, 19)
	if n := before.distinctColors(100); n < 10 {
		t.Errorf("the translation has %d colours: blank?", n)
	}

	const name = "Warm discs into cool stripes"
	b.setValue("share-name", name)
	b.click("share")
	b.waitFor("the share link", `!document.getElementById("share-result").hidden`)
	link := b.value("share-link")
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	id := u.Query().Get("model")
	if want := origin + "/?model=" + id; link != want || id == "" {
		t.Fatalf("share link %q, want %s/?model=<id>", link, origin)
	}
	t.Logf("shared as %s", link)
	if got := b.value("share-name"); got != name {
		t.Errorf("the typed name was replaced by %q", got)
	}
	token := eval[string](b, fmt.Sprintf(`(JSON.parse(localStorage.getItem("cyclegan-shared:" + %q)) || {}).deleteToken || ""`, id))
	if token == "" {
		t.Error("no delete token kept in localStorage")
	}

	// What the server holds: the metadata from the page and the file.
	status, body := apiGet(t, origin, "/api/models/"+id+"/info")
	if status != http.StatusOK {
		t.Fatalf("GET info: %d %s", status, body)
	}
	var meta share.Meta
	if err := json.Unmarshal(body, &meta); err != nil {
		t.Fatal(err)
	}
	want := share.Meta{ID: id, Name: name, DomainA: "styleA", DomainB: "styleB", Resolution: 32, NGF: 8, Blocks: 2, Iterations: iters,
		Size: meta.Size, Date: meta.Date}
	if meta != want || meta.Size == 0 || meta.Date == 0 {
		t.Errorf("the server describes the model as %+v, want %+v", meta, want)
	}
	b.waitFor("the model in the recent list and, with Delete shared, among this browser's", fmt.Sprintf(
		`document.querySelector('#shared-models li[data-id=%q]') !== null && document.querySelector('#shared-mine li[data-id=%q] button[data-action=delete]') !== null`, id, id))
	b.shot("shared")

	status, file := apiGet(t, origin, "/api/models/"+id)
	if status != http.StatusOK {
		t.Fatalf("GET the file: %d", status)
	}
	g, err := cyclegan.UnmarshalGenerator(file, "G_A")
	if err != nil {
		t.Fatalf("the shared file is not a generator: %v", err)
	}

	// A second browser, its own profile, opens the link.
	b2 := newBrowser(t, origin)
	b2.open(link)
	b2.waitFor("the shared generator to be opened", fmt.Sprintf(
		`(() => { const o = document.getElementById("shared-opened"); return !o.hidden && o.dataset.id === %q; })()`, id))
	b2.waitFor("the import", logHas("as the A → B generator"))
	opened := b2.text("shared-opened")
	for _, s := range []string{name, "styleA → styleB", "32 px", "ngf 8, 2 blocks"} {
		if !strings.Contains(opened, s) {
			t.Errorf("#shared-opened says %q: no %q", opened, s)
		}
	}
	if eval[bool](b2, fmt.Sprintf(`document.querySelector('#share-card [data-id=%q] button[data-action=delete]') !== null || !document.getElementById("shared-mine-box").hidden`, id)) {
		t.Error("the second browser offers to delete a model it did not share")
	}
	after := b2.translate(sample, 27, 19)
	if n := differingBytes(before.Pix, after.Pix); n > 0 {
		t.Errorf("the opened generator translates differently: %d of %d bytes differ", n, len(before.Pix))
	}
	b2.shot("opened")

	// The served file, translated natively, agrees too (to within 1 per
	// channel, as TestE2ECLICheckpoint finds between the page and Go).
	img := readPNG(t, sample)
	native := cyclegan.Translate(g, img)
	if len(native.Pix) != len(after.Pix) {
		t.Fatalf("native translation has %d bytes, the page's %d", len(native.Pix), len(after.Pix))
	}
	for i := range native.Pix {
		if d := int(native.Pix[i]) - int(after.Pix[i]); d > 1 || d < -1 {
			t.Errorf("native and page translations of the shared generator differ by %d at byte %d", d, i)
			break
		}
	}

	// In the first browser a click on the name in the list opens it in
	// place (no navigation: the page and its run stay).
	eval[bool](b, `(window.__e2eStay = true)`)
	b.clickCSS(fmt.Sprintf(`#shared-models li[data-id=%q] a.name`, id))
	b.waitFor("the generator opened from the list", fmt.Sprintf(
		`(() => { const o = document.getElementById("shared-opened"); return !o.hidden && o.dataset.id === %q; })()`, id))
	if !eval[bool](b, `window.__e2eStay === true && location.search === ""`) {
		t.Error("clicking a shared model's name navigated away from the page")
	}

	// The uploader deletes it: gone from the server and from the token
	// store; the link now says so in words.
	b.clickCSS(fmt.Sprintf(`#shared-mine li[data-id=%q] button[data-action=delete]`, id))
	b.waitFor("the delete", logHas("Deleted the shared generator"))
	if status, body := apiGet(t, origin, "/api/models/"+id+"/info"); status != http.StatusNotFound {
		t.Errorf("after the delete, GET info answers %d %s", status, body)
	}
	if eval[bool](b, fmt.Sprintf(`localStorage.getItem("cyclegan-shared:" + %q) !== null`, id)) {
		t.Error("the delete token is still kept after the delete")
	}
	b.waitFor("the model gone from the lists", fmt.Sprintf(`document.querySelector('#share-card [data-id=%q]') === null`, id))
	b.waitFor("the share link hidden", `document.getElementById("share-result").hidden`)

	b2.run("reloading the link", chromedp.Reload())
	b2.waitReady()
	b2.waitFor("the page to say the link is gone", `document.getElementById("shared-error").textContent.includes("Could not open the shared generator")`)
}

// TestE2EShareRefused shares with a server that refuses the file (too
// large for it): the page says why, in words. It then opens a share by an
// id that does not exist, typed in the box.
func TestE2EShareRefused(t *testing.T) {
	origin := shareServer(t, share.Config{MaxUpload: 1000})
	ckptPath := filepath.Join(t.TempDir(), "cli-tiny.safetensors")
	writeFile(t, ckptPath, cliCheckpoint(t))

	b := newBrowser(t, origin)
	b.open(origin + "/")
	b.waitFor("the share card", shareShown)
	b.upload("import", ckptPath)
	b.waitFor("the import", logHas("Imported checkpoint cli-tiny.safetensors"))
	b.waitFor(`"Share this generator" to be enabled`, `!document.getElementById("share").disabled`)
	b.setValue("share-name", "Too big")
	b.click("share")
	b.waitFor("the refusal", `!document.getElementById("share-error").hidden`)
	msg := b.text("share-error")
	if !strings.Contains(msg, "Could not share the generator") || !strings.Contains(msg, "larger than the limit of 1000 bytes") || !strings.Contains(msg, "413") {
		t.Errorf("#share-error says %q: want the server's reason", msg)
	}
	if !eval[bool](b, `document.getElementById("share-result").hidden`) {
		t.Error("a share link is shown for a refused upload")
	}
	b.waitFor(`"Share this generator" to be enabled again`, `!document.getElementById("share").disabled`)

	// An id of the right form that the server does not know.
	b.setValue("open-shared-input", origin+"/?model=AAAAAAAAAAAAAAAAAAAAAA")
	b.click("open-shared")
	b.waitFor("the answer", `document.getElementById("shared-error").textContent.includes("AAAAAAAAAAAAAAAAAAAAAA")`)
	if msg := b.text("shared-error"); !strings.Contains(msg, "404") {
		t.Errorf("#shared-error says %q: want the server's 404", msg)
	}
	// Not a link at all: the page says so without asking the server.
	b.setValue("open-shared-input", "not a link")
	b.click("open-shared")
	b.waitFor("the answer", `document.getElementById("shared-error").textContent.includes("neither a share link nor a model id")`)
}

// TestE2EShareHidden: served without the API (the static handler), the page
// shows no share card, and a share link says it cannot be opened here.
func TestE2EShareHidden(t *testing.T) {
	b := newBrowser(t, e2e.url)
	b.open(e2e.url + "/?model=AAAAAAAAAAAAAAAAAAAAAA")
	b.waitFor("the page to say the link cannot be opened", logHas("this server does not share models"))
	if !eval[bool](b, `document.getElementById("share-card").hidden`) {
		t.Error("the share card is shown by a server without the API")
	}
}
