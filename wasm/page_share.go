//go:build js && wasm

package wasm

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall/js"
	"time"

	"honnef.co/go/js/dom/v2"
)

// Sharing generators through the server's model API (package site/share):
//
//	GET    api/models             {"models": [Meta, …]}, newest first
//	POST   api/models?name=…&…    body: a generator's safetensors bytes
//	                              → 201 {"id", "deleteToken", "model": Meta}
//	GET    api/models/{id}        the bytes
//	GET    api/models/{id}/info   Meta
//	DELETE api/models/{id}        header X-Delete-Token → 204, 403, 404
//
// Errors come as {"error": "reason"}. The share card (#share-card) is shown
// only when GET api/models answers: a static host or file:// has no API, and
// the page then looks as before. A share link is the page's own address
// with ?model=id; opening it fetches the generator and imports it into the
// worker as the A → B generator (MsgImport). Every URL is relative to the
// page, so the page talks to its own origin only.
//
// The delete token of each upload stays in this browser's localStorage,
// under pageShareKeyPrefix+id, so the uploader can delete it later.

// pageShareAPI is the model API's path, relative to the page.
const pageShareAPI = "api/models"

// pageShareKeyPrefix prefixes the localStorage keys of this browser's
// uploads: one JSON pageShareOwned per id.
const pageShareKeyPrefix = "cyclegan-shared:"

// pageShareExportTimeout is how long a share waits for the worker's
// MsgFile (the worker answers between training steps).
const pageShareExportTimeout = 2 * time.Minute

// pageDemoDomains are the names offered for the demo data's domains.
var pageDemoDomains = [2]string{"warm discs", "cool stripes"}

// pageShared is one shared generator as the API describes it: share.Meta's
// JSON, mirrored here so that the browser app does not link the server's
// package (and net/http with it).
type pageShared struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	DomainA    string `json:"domainA"`
	DomainB    string `json:"domainB"`
	Resolution int    `json:"resolution"`
	NGF        int    `json:"ngf"`
	Blocks     int    `json:"blocks"`
	Iterations int    `json:"iterations"`
	Size       int64  `json:"size"`
	Date       int64  `json:"date"` // ms since the epoch
}

// pageShareOwned is an upload of this browser, as kept in localStorage.
type pageShareOwned struct {
	pageShared
	DeleteToken string `json:"deleteToken"`
}

// pageShareUpload is what an upload tells the API besides the bytes.
type pageShareUpload struct {
	Name, DomainA, DomainB string
	Resolution, Iterations int
}

// pageShare is the page's sharing state (pageUI.share).
type pageShare struct {
	api bool // the server answered GET api/models

	// req numbers the exports asked for a share; pending is the one
	// waiting for its MsgFile (0: none).
	req, pending int

	// auto are the values the page itself last put in #share-domain-a,
	// #share-domain-b and #share-name: a field still holding its auto
	// value (or empty) may be refilled, one the user typed in is kept.
	auto [3]string

	opened *pageShared // the shared generator opened last
	link   string      // the link shown in #share-result
}

// pageShareFields are the share form's inputs, in the order of
// pageShare.auto.
var pageShareFields = [3]string{"share-domain-a", "share-domain-b", "share-name"}

// setupShare wires the share card and, in a goroutine, asks the server
// whether it shares models (probeShare).
func (p *pageUI) setupShare() {
	p.share = &pageShare{}
	p.onClick("share", p.shareGenerator)
	p.onClick("share-copy", func() { go p.copyShareLink() })
	p.onClick("shared-refresh", func() { go p.refreshShared() })
	for _, id := range pageShareFields[:2] {
		p.on(p.el(id), "input", func(dom.Event) { p.fillShareName() })
	}
	p.on(p.el("open-shared-form"), "submit", func(ev dom.Event) {
		ev.PreventDefault()
		in := p.input("open-shared-input")
		id, err := pageShareID(in.Value())
		if err != nil {
			p.shareMessage("shared-error", err.Error(), "warn")
			return
		}
		in.SetValue("")
		go p.openShared(id)
	})
	// One listener for the rows of both lists.
	for _, list := range []string{"shared-models", "shared-mine"} {
		p.on(p.el(list), "click", func(ev dom.Event) {
			if ev.Target() == nil {
				return
			}
			// A plain click on a name opens it here, without reloading
			// the page (and its run); with a modifier key the browser
			// opens the link as it likes (a new tab, …).
			if a := ev.Target().Closest("a.name"); a != nil {
				e := ev.Underlying()
				if e.Get("button").Int() == 0 && !e.Get("ctrlKey").Bool() && !e.Get("metaKey").Bool() &&
					!e.Get("shiftKey").Bool() && !e.Get("altKey").Bool() {
					ev.PreventDefault()
					go p.openShared(a.ParentElement().GetAttribute("data-id"))
				}
				return
			}
			btn := ev.Target().Closest("button[data-action]")
			if btn == nil {
				return
			}
			id := btn.GetAttribute("data-id")
			switch btn.GetAttribute("data-action") {
			case "open":
				go p.openShared(id)
			case "delete":
				btn.(*dom.HTMLButtonElement).SetDisabled(true)
				go p.deleteShared(id)
			}
		})
	}
	go p.probeShare()
}

// probeShare asks the server for its shared models: when it answers, the
// share card appears, and a ?model=id in the page's address is opened.
func (p *pageUI) probeShare() {
	defer p.guard("looking for the sharing server")
	loc := js.Global().Get("location")
	id := pageShareLinkID(pageStr(loc, "search"))
	if proto := pageStr(loc, "protocol"); proto != "http:" && proto != "https:" {
		if id != "" {
			p.setStatus("This is a link to a shared generator, but a page opened from a file cannot fetch it: open the link from the site that shared it.", "warn")
		}
		return
	}
	var list struct {
		Models []pageShared `json:"models"`
	}
	if status, err := pageShareJSON("GET", pageShareAPI, js.Undefined(), nil, &list); err != nil {
		if id != "" {
			text := "This is a link to a shared generator, but this server does not share models."
			if status != 404 {
				text = "This is a link to a shared generator, but the server's list of models could not be read: " + err.Error() + "."
			}
			p.setStatus(text, "warn")
		}
		return
	}
	p.share.api = true
	p.el("share-card").RemoveAttribute("hidden")
	p.renderShared(list.Models)
	p.updateShare()
	if id != "" {
		p.openShared(id)
	}
}

// refreshShared reloads the list of recent shared models.
func (p *pageUI) refreshShared() {
	defer p.guard("listing the shared generators")
	var list struct {
		Models []pageShared `json:"models"`
	}
	if _, err := pageShareJSON("GET", pageShareAPI, js.Undefined(), nil, &list); err != nil {
		p.shareMessage("shared-error", "Could not list the shared generators: "+err.Error()+".", "warn")
		return
	}
	p.renderShared(list.Models)
}

// updateShare enables "Share this generator" when there is a model to
// share, and offers the demo's domain names when it trains on the demo.
// It runs with updateButtons.
func (p *pageUI) updateShare() {
	s := p.share
	if s == nil {
		return
	}
	if p.data == "demo" {
		p.autoFillShare(0, pageDemoDomains[0])
		p.autoFillShare(1, pageDemoDomains[1])
	}
	btn := p.button("share")
	btn.SetDisabled(!s.api || !p.hasModel || s.pending != 0 || p.state == "error")
	switch {
	case s.pending != 0:
		btn.SetTextContent("Sharing…")
	default:
		btn.SetTextContent("Share this generator")
	}
}

// shareNoteFolder offers the name of the folder dropped for a domain ("A"
// or "B") as that domain's name; intake calls it with the path of one of
// the domain's new files.
func (p *pageUI) shareNoteFolder(domain, path string) {
	if p.share == nil {
		return
	}
	i := 0
	if domain == "B" {
		i = 1
	}
	if name := pageShareFolderName(path, domain); name != "" {
		p.autoFillShare(i, name)
	}
}

// autoFillShare puts value in share field i unless the user typed there.
func (p *pageUI) autoFillShare(i int, value string) {
	in := p.input(pageShareFields[i])
	if cur := in.Value(); cur != "" && cur != p.share.auto[i] {
		return
	}
	in.SetValue(value)
	p.share.auto[i] = value
	if i < 2 {
		p.fillShareName()
	}
}

// fillShareName offers "A → B" as the name when both domains are named.
func (p *pageUI) fillShareName() {
	a := strings.TrimSpace(p.input("share-domain-a").Value())
	b := strings.TrimSpace(p.input("share-domain-b").Value())
	if a != "" && b != "" {
		p.autoFillShare(2, a+" → "+b)
	}
}

// shareGenerator starts a share: it asks the worker for the A → B
// generator (MsgExport); takeSharedFile receives it.
func (p *pageUI) shareGenerator() {
	s := p.share
	name := strings.TrimSpace(p.input("share-name").Value())
	if name == "" {
		p.shareMessage("share-error", "Give the generator a name first: it is how others find it.", "warn")
		p.input("share-name").Focus()
		return
	}
	if !p.hasModel {
		p.shareMessage("share-error", "There is no generator to share yet: train, resume or import one first.", "warn")
		return
	}
	s.req++
	s.pending = s.req
	p.el("share-error").SetAttribute("hidden", "")
	p.updateShare()
	p.setStatus(fmt.Sprintf("Preparing the generator “%s” for sharing…", name), "info")
	// The worker echoes req in its MsgFile, which takeSharedFile takes.
	p.post(MsgExport, map[string]any{"what": "G_A", "req": s.req})
	req := s.req
	go func() {
		time.Sleep(pageShareExportTimeout)
		if s.pending == req {
			s.pending = 0
			p.updateShare()
			p.shareMessage("share-error", "The engine did not hand over the generator to share: try again.", "error")
		}
	}()
}

// takeSharedFile takes the MsgFile a share is waiting for and uploads it;
// it reports whether it took m (onFile then does not download it).
func (p *pageUI) takeSharedFile(m js.Value) bool {
	s := p.share
	if s == nil || s.pending == 0 {
		return false
	}
	// The worker echoes the export's req: a download has none.
	if r := m.Get("req"); r.Type() != js.TypeNumber || r.Int() != s.pending {
		return false
	}
	req := s.pending
	go p.uploadShare(req, m.Get("bytes"))
	return true
}

// uploadShare sends the generator's bytes (an ArrayBuffer) to the API and
// shows the share link.
func (p *pageUI) uploadShare(req int, buf js.Value) {
	defer p.guard("sharing the generator")
	s := p.share
	defer func() {
		if s.pending == req {
			s.pending = 0
		}
		p.updateShare()
	}()
	up := pageShareUpload{
		Name:    strings.TrimSpace(p.input("share-name").Value()),
		DomainA: strings.TrimSpace(p.input("share-domain-a").Value()),
		DomainB: strings.TrimSpace(p.input("share-domain-b").Value()),
	}
	// What the generator file says of itself comes first; a generator
	// opened from a share has no training metadata, but its Meta says.
	meta := pageGeneratorMetadata(pageJSHeader(buf))
	up.Resolution, _ = strconv.Atoi(meta["crop_size"])
	up.Iterations, _ = strconv.Atoi(meta["iteration"])
	if o := s.opened; o != nil && meta["crop_size"] == "" {
		up.Resolution, up.Iterations = o.Resolution, o.Iterations
	}
	if up.Resolution == 0 {
		up.Resolution = p.trainSize
	}
	size := buf.Get("byteLength").Int()
	p.setStatus(fmt.Sprintf("Uploading the generator “%s” (%s)…", up.Name, pageFormatBytes(float64(size))), "info")
	var created struct {
		ID          string     `json:"id"`
		DeleteToken string     `json:"deleteToken"`
		Model       pageShared `json:"model"`
	}
	status, err := pageShareJSON("POST", pageShareAPI+"?"+pageShareQuery(up), buf,
		map[string]any{"Content-Type": "application/octet-stream"}, &created)
	if err != nil {
		// A refusal (4xx) is the server's word on this upload, not a
		// failure of the page.
		level := "error"
		if status/100 == 4 {
			level = "warn"
		}
		p.shareMessage("share-error", "Could not share the generator: "+err.Error()+".", level)
		return
	}
	if created.ID == "" {
		p.shareMessage("share-error", "Could not share the generator: the server's answer has no id.", "error")
		return
	}
	if created.Model.ID == "" {
		created.Model = pageShared{ID: created.ID, Name: up.Name, DomainA: up.DomainA, DomainB: up.DomainB,
			Resolution: up.Resolution, Iterations: up.Iterations, Size: int64(size), Date: time.Now().UnixMilli()}
	}
	link := pageShareLink(created.ID)
	s.link = link
	p.input("share-link").SetValue(link)
	p.el("share-result").RemoveAttribute("hidden")
	p.button("share-copy").SetTextContent("Copy link")
	if err := pageShareKeep(pageShareOwned{pageShared: created.Model, DeleteToken: created.DeleteToken}); err != nil {
		p.setStatus(fmt.Sprintf("Shared “%s”, but this browser could not keep its delete token (%v): to delete it later you need %s.",
			up.Name, err, created.DeleteToken), "warn")
	} else {
		p.setStatus(fmt.Sprintf("Shared “%s”: anyone with the link can open it. %s", up.Name, link), "info")
	}
	p.refreshShared()
}

// openShared fetches the shared generator id and imports it into the
// worker as the A → B generator.
func (p *pageUI) openShared(id string) {
	defer p.guard("opening a shared generator")
	p.setStatus("Fetching the shared generator "+id+"…", "info")
	base := pageShareAPI + "/" + url.PathEscape(id)
	var meta pageShared
	if _, err := pageShareJSON("GET", base+"/info", js.Undefined(), nil, &meta); err != nil {
		p.shareMessage("shared-error", fmt.Sprintf("Could not open the shared generator %s: %v.", id, err), "warn")
		return
	}
	if meta.ID == "" {
		meta.ID = id
	}
	status, resp, err := pageShareFetch("GET", base, js.Undefined(), nil)
	if err == nil && status/100 != 2 {
		err = pageShareResponseError(status, resp)
	}
	var buf js.Value
	if err == nil {
		buf, err = await(resp.Call("arrayBuffer"))
	}
	if err != nil {
		p.shareMessage("shared-error", fmt.Sprintf("Could not fetch the shared generator “%s”: %v.", pageSharedTitle(meta), err), "error")
		return
	}
	p.share.opened = &meta
	p.post(MsgImport, map[string]any{"name": "the shared generator “" + pageSharedTitle(meta) + "”", "bytes": buf}, buf)
	// A bare generator translates A → B only.
	p.selectEl("translate-direction").SetValue("AtoB")
	// What was opened, in the translate card: that is where it is used.
	box := p.el("shared-opened")
	box.SetInnerHTML("")
	box.AppendChild(p.doc.CreateTextNode("Shared generator "))
	title := p.doc.CreateElement("strong")
	title.SetTextContent(pageSharedTitle(meta))
	box.AppendChild(title)
	box.AppendChild(p.doc.CreateTextNode(": " + pageSharedLine(meta) + ". Choose an image to translate it A → B."))
	box.SetAttribute("data-id", meta.ID)
	box.RemoveAttribute("hidden")
	p.el("shared-error").SetAttribute("hidden", "")
	p.el("translate-card").Underlying().Call("scrollIntoView", map[string]any{"block": "nearest"})
}

// deleteShared deletes this browser's upload id with its delete token.
func (p *pageUI) deleteShared(id string) {
	defer p.guard("deleting a shared generator")
	owned, ok := pageShareOwnedByID(id)
	if !ok {
		p.shareMessage("shared-error", "This browser has no delete token for that generator: only the browser that shared it can delete it.", "warn")
		p.refreshShared()
		return
	}
	status, resp, err := pageShareFetch("DELETE", pageShareAPI+"/"+url.PathEscape(id), js.Undefined(),
		map[string]any{"X-Delete-Token": owned.DeleteToken})
	switch {
	case err != nil:
		p.shareMessage("shared-error", fmt.Sprintf("Could not delete “%s”: %v.", pageSharedTitle(owned.pageShared), err), "error")
	case status == 204 || status == 200 || status == 404:
		pageShareForget(id)
		if status == 404 {
			p.setStatus(fmt.Sprintf("“%s” was no longer on the server.", pageSharedTitle(owned.pageShared)), "info")
		} else {
			p.setStatus(fmt.Sprintf("Deleted the shared generator “%s” from the server.", pageSharedTitle(owned.pageShared)), "info")
		}
		if p.share.link == pageShareLink(id) {
			p.el("share-result").SetAttribute("hidden", "")
		}
	default:
		p.shareMessage("shared-error", fmt.Sprintf("Could not delete “%s”: %v.", pageSharedTitle(owned.pageShared), pageShareResponseError(status, resp)), "error")
	}
	p.refreshShared()
}

// copyShareLink copies the link in #share-link to the clipboard.
func (p *pageUI) copyShareLink() {
	defer p.guard("copying the link")
	in := p.input("share-link")
	link := in.Value()
	btn := p.button("share-copy")
	var err error
	if clip := js.Global().Get("navigator").Get("clipboard"); clip.Truthy() {
		var promise js.Value
		if promise, err = pageTry(func() js.Value { return clip.Call("writeText", link) }); err == nil {
			_, err = await(promise)
		}
	} else {
		err = errors.New("no clipboard")
	}
	if err != nil {
		// Older browsers, or no permission: select the text and try the
		// old way; the user can still copy the selection.
		in.Focus()
		in.Select()
		if ok, e := pageTry(func() js.Value { return js.Global().Get("document").Call("execCommand", "copy") }); e == nil && ok.Truthy() {
			err = nil
		}
	}
	if err != nil {
		p.setStatus("Could not copy the link ("+err.Error()+"): it is selected, copy it with the keyboard.", "warn")
		return
	}
	btn.SetTextContent("Copied")
	p.setStatus("Copied the link "+link+".", "info")
}

// shareMessage shows text in the share card, under the part it is about:
// #share-error (sharing this generator) or #shared-error (opening, listing
// and deleting shared ones); and in #status.
func (p *pageUI) shareMessage(where, text, level string) {
	box := p.el(where)
	box.SetTextContent(text)
	box.SetAttribute("data-level", level)
	box.RemoveAttribute("hidden")
	p.setStatus(text, level)
}

// renderShared fills #shared-models with the server's list and
// #shared-mine with this browser's uploads.
func (p *pageUI) renderShared(models []pageShared) {
	owned := pageShareOwnedAll()
	mine := map[string]bool{}
	for _, o := range owned {
		mine[o.ID] = true
	}
	list := p.el("shared-models")
	list.SetInnerHTML("")
	if len(models) == 0 {
		li := p.doc.CreateElement("li")
		li.Class().Add("empty")
		li.SetTextContent("Nothing shared yet.")
		list.AppendChild(li)
	}
	for _, m := range models {
		list.AppendChild(p.sharedRow(m, mine[m.ID], false))
	}
	mineList := p.el("shared-mine")
	mineList.SetInnerHTML("")
	for _, o := range owned {
		mineList.AppendChild(p.sharedRow(o.pageShared, true, true))
	}
	if len(owned) == 0 {
		p.el("shared-mine-box").SetAttribute("hidden", "")
	} else {
		p.el("shared-mine-box").RemoveAttribute("hidden")
	}
}

// sharedRow is a list entry for m: its name (a link to it), a line of
// facts (noting that this browser shared it, when own) and Open, and, with
// canDelete, Delete shared.
func (p *pageUI) sharedRow(m pageShared, own, canDelete bool) dom.Element {
	doc := p.doc
	li := doc.CreateElement("li")
	li.SetAttribute("data-id", m.ID)

	name := doc.CreateElement("a")
	name.Class().Add("name")
	name.SetAttribute("href", pageShareLink(m.ID))
	name.SetTextContent(pageSharedTitle(m))
	li.AppendChild(name)

	meta := doc.CreateElement("span")
	meta.Class().Add("meta")
	text := pageSharedLine(m)
	if m.Size > 0 {
		text += " · " + pageFormatBytes(float64(m.Size))
	}
	if m.Date > 0 {
		text += " · " + js.Global().Get("Date").New(float64(m.Date)).Call("toLocaleString").String()
	}
	if own && !canDelete {
		text += " · shared from this browser"
	}
	meta.SetTextContent(text)
	li.AppendChild(meta)

	actions := doc.CreateElement("span")
	actions.Class().Add("actions")
	buttons := []struct{ action, label, class string }{{"open", "Open", "small"}}
	if canDelete {
		buttons = append(buttons, struct{ action, label, class string }{"delete", "Delete shared", "small danger"})
	}
	for _, a := range buttons {
		actions.AppendChild(pageActionButton(doc, a.action, a.label, a.class, m.ID))
	}
	li.AppendChild(actions)
	return li
}

// ---- The API over fetch.

// pageShareFetch sends one request to the API (url relative to the page)
// and returns the response's status and the Response. err is a network
// failure, not an HTTP error status. It blocks: call it from a goroutine.
func pageShareFetch(method, url string, body js.Value, header map[string]any) (int, js.Value, error) {
	opts := map[string]any{"method": method, "cache": "no-store", "credentials": "same-origin", "redirect": "error"}
	h := map[string]any{"Accept": "application/json"}
	for k, v := range header {
		h[k] = v
	}
	opts["headers"] = h
	o := js.ValueOf(opts)
	if !body.IsUndefined() {
		o.Set("body", body)
	}
	promise, err := pageTry(func() js.Value { return js.Global().Call("fetch", url, o) })
	if err != nil {
		return 0, js.Undefined(), fmt.Errorf("the request could not be sent: %w", err)
	}
	resp, err := await(promise)
	if err != nil {
		return 0, js.Undefined(), fmt.Errorf("the server could not be reached (%w)", err)
	}
	return resp.Get("status").Int(), resp, nil
}

// pageShareJSON sends a request and decodes a 2xx JSON answer into out; an
// error status becomes an error with the server's reason.
func pageShareJSON(method, url string, body js.Value, header map[string]any, out any) (int, error) {
	status, resp, err := pageShareFetch(method, url, body, header)
	if err != nil {
		return 0, err
	}
	if status/100 != 2 {
		return status, pageShareResponseError(status, resp)
	}
	text, err := await(resp.Call("text"))
	if err != nil {
		return status, fmt.Errorf("the server's answer could not be read (%w)", err)
	}
	if err := json.Unmarshal([]byte(text.String()), out); err != nil {
		return status, fmt.Errorf("the server's answer is not what this page expects (%v)", err)
	}
	return status, nil
}

// pageShareResponseError reads an error response's body and words it.
func pageShareResponseError(status int, resp js.Value) error {
	body := ""
	if text, err := await(resp.Call("text")); err == nil && text.Type() == js.TypeString {
		body = text.String()
	}
	return pageShareError(status, body)
}

// pageShareError words an API error: the server's reason from
// {"error": "reason"} when there is one, else what the status means.
func pageShareError(status int, body string) error {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal([]byte(body), &e) == nil && strings.TrimSpace(e.Error) != "" {
		return fmt.Errorf("%s (HTTP %d)", strings.TrimSpace(e.Error), status)
	}
	words := map[int]string{
		400: "the server refused the request",
		403: "the server refused: the delete token does not match",
		404: "there is no such shared generator on this server",
		405: "this server does not share models",
		413: "the file is too large for this server",
		429: "too many requests: wait a little and try again",
		500: "the server failed",
		503: "the server is busy or its storage is full",
	}[status]
	if words == "" {
		words = "the server answered with an error"
	}
	return fmt.Errorf("%s (HTTP %d)", words, status)
}

// ---- Pure helpers.

// pageShareIDPattern is what the page accepts as a model id.
var pageShareIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// pageShareID reads what the user typed in "Open a shared generator": a
// share link (absolute, or just "/?model=id" or "?model=id") or a bare id.
func pageShareID(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("Paste a share link or a model id first.")
	}
	if strings.Contains(s, "model=") {
		u, err := url.Parse(s)
		if err == nil {
			if id := u.Query().Get("model"); pageShareIDPattern.MatchString(id) {
				return id, nil
			}
		}
		return "", fmt.Errorf("%q is not a share link: it should end in ?model= and the model's id.", s)
	}
	if pageShareIDPattern.MatchString(s) {
		return s, nil
	}
	return "", fmt.Errorf("%q is neither a share link nor a model id.", s)
}

// pageShareLinkID is the model id in a page address's query ("?model=id"),
// or "" when there is none (or it is not an id).
func pageShareLinkID(search string) string {
	q, err := url.ParseQuery(strings.TrimPrefix(search, "?"))
	if err != nil {
		return ""
	}
	if id := q.Get("model"); pageShareIDPattern.MatchString(id) {
		return id
	}
	return ""
}

// pageShareLink is the share link of id: this page's address (without its
// file name and query) with ?model=id. Served from a site's root, that is
// origin + "/?model=" + id.
func pageShareLink(id string) string {
	base := js.Global().Get("location").Get("href")
	return js.Global().Get("URL").New("./?model="+url.QueryEscape(id), base).Call("toString").String()
}

// pageShareQuery is the query string of an upload. Resolution and
// iterations are left out when unknown (0).
func pageShareQuery(up pageShareUpload) string {
	q := url.Values{}
	q.Set("name", up.Name)
	if up.DomainA != "" {
		q.Set("domainA", up.DomainA)
	}
	if up.DomainB != "" {
		q.Set("domainB", up.DomainB)
	}
	if up.Resolution > 0 {
		q.Set("resolution", strconv.Itoa(up.Resolution))
	}
	if up.Iterations > 0 {
		q.Set("iterations", strconv.Itoa(up.Iterations))
	}
	return q.Encode()
}

// pageShareFolderName is the name a dropped path suggests for domain
// ("A" or "B"): the folder the file was dropped in ("horses/1.jpg" →
// "horses"), or for a dataset folder the dataset's half for that domain
// ("horse2zebra/trainB/1.jpg" → "zebra"; without a "2" in its name,
// "cityscapes B"). A loose file suggests nothing.
func pageShareFolderName(path, domain string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	dirs := segs[:len(segs)-1]
	if len(dirs) == 0 {
		return ""
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		d := strings.ToLower(dirs[i])
		if d != "traina" && d != "trainb" {
			continue
		}
		if i == 0 {
			return dirs[i]
		}
		set := dirs[i-1]
		if a, b, ok := strings.Cut(set, "2"); ok && a != "" && b != "" && !strings.Contains(b, "2") {
			if domain == "B" {
				return b
			}
			return a
		}
		return set + " " + domain
	}
	return dirs[0]
}

// pageSharedTitle is a shared generator's name, or its id.
func pageSharedTitle(m pageShared) string {
	if strings.TrimSpace(m.Name) != "" {
		return m.Name
	}
	return m.ID
}

// pageSharedLine is a line of facts of m: "horse → zebra · 64 px · ngf 16,
// 3 blocks · 2000 iterations", leaving out what is unknown.
func pageSharedLine(m pageShared) string {
	var parts []string
	a, b := m.DomainA, m.DomainB
	if a != "" || b != "" {
		if a == "" {
			a = "A"
		}
		if b == "" {
			b = "B"
		}
		parts = append(parts, a+" → "+b)
	}
	if m.Resolution > 0 {
		parts = append(parts, fmt.Sprintf("%d px", m.Resolution))
	}
	if m.NGF > 0 {
		parts = append(parts, fmt.Sprintf("ngf %d, %d blocks", m.NGF, m.Blocks))
	}
	if m.Iterations > 0 {
		parts = append(parts, fmt.Sprintf("%d iterations", m.Iterations))
	}
	if len(parts) == 0 {
		return "A → B generator"
	}
	return strings.Join(parts, " · ")
}

// pageGeneratorMetadata is the "__metadata__" of a safetensors file from
// its first bytes (the 8-byte header length and the JSON header), or nil
// when they are not a whole safetensors header.
func pageGeneratorMetadata(head []byte) map[string]string {
	if len(head) < 8 {
		return nil
	}
	n := binary.LittleEndian.Uint64(head)
	if n > uint64(len(head)-8) {
		return nil
	}
	var header struct {
		Metadata map[string]string `json:"__metadata__"`
	}
	if json.Unmarshal(head[8:8+n], &header) != nil {
		return nil
	}
	return header.Metadata
}

// pageShareMaxHeader bounds how much of a generator file's header
// pageJSHeader copies (the generators' headers are a few kB).
const pageShareMaxHeader = 1 << 20

// pageJSHeader copies the safetensors header of the ArrayBuffer buf (length
// and JSON) into Go, or nil when it has none of a sensible size.
func pageJSHeader(buf js.Value) []byte {
	if !buf.Truthy() || !buf.InstanceOf(js.Global().Get("ArrayBuffer")) {
		return nil
	}
	size := buf.Get("byteLength").Int()
	if size < 8 {
		return nil
	}
	lenBytes := bytesFromJS(js.Global().Get("Uint8Array").New(buf, 0, 8))
	n := binary.LittleEndian.Uint64(lenBytes)
	if n > pageShareMaxHeader || n > uint64(size-8) {
		return nil
	}
	return bytesFromJS(js.Global().Get("Uint8Array").New(buf, 0, 8+int(n)))
}

// ---- This browser's uploads (localStorage).

// pageLocalStorage is window.localStorage, or an error when the browser
// refuses it (storage disabled, an opaque origin).
func pageLocalStorage() (js.Value, error) {
	var ls js.Value
	if err := catchJS(func() { ls = js.Global().Get("localStorage") }); err != nil {
		return js.Undefined(), err
	}
	if !ls.Truthy() {
		return js.Undefined(), errors.New("this browser offers no local storage")
	}
	return ls, nil
}

// pageShareKeep remembers an upload (with its delete token).
func pageShareKeep(o pageShareOwned) error {
	ls, err := pageLocalStorage()
	if err != nil {
		return err
	}
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return catchJS(func() { ls.Call("setItem", pageShareKeyPrefix+o.ID, string(b)) })
}

// pageShareForget forgets the upload id.
func pageShareForget(id string) {
	if ls, err := pageLocalStorage(); err == nil {
		catchJS(func() { ls.Call("removeItem", pageShareKeyPrefix+id) })
	}
}

// pageShareOwnedByID is this browser's upload id, if it has one.
func pageShareOwnedByID(id string) (pageShareOwned, bool) {
	var o pageShareOwned
	ls, err := pageLocalStorage()
	if err != nil {
		return o, false
	}
	var v js.Value
	if catchJS(func() { v = ls.Call("getItem", pageShareKeyPrefix+id) }) != nil || v.Type() != js.TypeString {
		return o, false
	}
	if json.Unmarshal([]byte(v.String()), &o) != nil || o.DeleteToken == "" {
		return o, false
	}
	o.ID = id
	return o, true
}

// pageShareOwnedAll is this browser's uploads, newest first.
func pageShareOwnedAll() []pageShareOwned {
	ls, err := pageLocalStorage()
	if err != nil {
		return nil
	}
	var ids []string
	catchJS(func() {
		for i := 0; i < ls.Get("length").Int(); i++ {
			if k := ls.Call("key", i); k.Type() == js.TypeString && strings.HasPrefix(k.String(), pageShareKeyPrefix) {
				ids = append(ids, strings.TrimPrefix(k.String(), pageShareKeyPrefix))
			}
		}
	})
	var out []pageShareOwned
	for _, id := range ids {
		if o, ok := pageShareOwnedByID(id); ok {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b pageShareOwned) int {
		switch {
		case a.Date > b.Date:
			return -1
		case a.Date < b.Date:
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}
