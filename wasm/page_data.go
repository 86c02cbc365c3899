//go:build js && wasm

package wasm

import (
	"fmt"
	"path"
	"strings"
	"syscall/js"

	"honnef.co/go/js/dom/v2"
)

// pageFile is one file picked or dropped, with its path relative to what
// was dropped ("horse2zebra/trainA/n02381460_2.jpg").
type pageFile struct {
	file js.Value
	path string
}

// pageDomains are the two drop zones: their element ids and domains.
var pageDomains = []struct{ id, domain string }{
	{"domain-a", "A"},
	{"domain-b", "B"},
}

// setupData wires the drop zones, their folder pickers and the demo button.
func (p *pageUI) setupData() {
	// A file dropped outside the zones must not replace the page.
	win := dom.GetWindow()
	for _, typ := range []string{"dragover", "drop"} {
		p.on(win, typ, func(ev dom.Event) { ev.PreventDefault() })
	}
	for _, z := range pageDomains {
		zone := p.el(z.id)
		domain := z.domain
		p.on(zone, "dragenter", func(ev dom.Event) {
			ev.PreventDefault()
			zone.Class().Add("over")
		})
		p.on(zone, "dragover", func(ev dom.Event) {
			ev.PreventDefault()
			ev.StopPropagation()
			if dt := ev.Underlying().Get("dataTransfer"); dt.Truthy() {
				dt.Set("dropEffect", "copy")
			}
			zone.Class().Add("over")
		})
		p.on(zone, "dragleave", func(ev dom.Event) {
			zone.Class().Remove("over")
		})
		p.on(zone, "drop", func(ev dom.Event) {
			ev.PreventDefault()
			ev.StopPropagation()
			zone.Class().Remove("over")
			// The entries must be taken now, synchronously: the
			// DataTransfer is emptied once this handler returns.
			entries, files := pageDropped(ev.Underlying().Get("dataTransfer"))
			go p.intakeDrop(zone, domain, entries, files)
		})
		input := zone.QuerySelector("input[type=file]").(*dom.HTMLInputElement)
		p.on(input, "change", func(dom.Event) {
			var picked []pageFile
			list := input.Underlying().Get("files")
			for i := 0; i < list.Length(); i++ {
				f := list.Index(i)
				rel := pageStr(f, "webkitRelativePath")
				if rel == "" {
					rel = pageStr(f, "name")
				}
				picked = append(picked, pageFile{file: f, path: rel})
			}
			// Clear the input so that picking the same folder again
			// fires change again; the File objects stay valid.
			input.SetValue("")
			p.intake(domain, picked)
		})
	}
	p.onClick("demo", func() {
		p.selectEl("preset").SetValue("tiny")
		p.applyPreset("tiny")
		s, err := p.readSettings()
		if err != nil {
			p.setStatus(err.Error(), "error")
			return
		}
		p.post(MsgDemo, nil)
		p.startRun(s)
	})
}

// pageDropped takes what a drop carries: a FileSystemEntry per item when
// the browser has webkitGetAsEntry, else the flat file list. It must run
// inside the drop handler.
func pageDropped(dt js.Value) (entries, files []js.Value) {
	if !dt.Truthy() {
		return nil, nil
	}
	if items := dt.Get("items"); items.Truthy() {
		for i := 0; i < items.Length(); i++ {
			item := items.Index(i)
			if pageStr(item, "kind") != "file" {
				continue
			}
			if item.Get("webkitGetAsEntry").Type() == js.TypeFunction {
				if e := item.Call("webkitGetAsEntry"); e.Truthy() {
					entries = append(entries, e)
					continue
				}
			}
			if f := item.Call("getAsFile"); f.Truthy() {
				files = append(files, f)
			}
		}
		if len(entries)+len(files) > 0 {
			return entries, files
		}
	}
	list := dt.Get("files")
	for i := 0; list.Truthy() && i < list.Length(); i++ {
		files = append(files, list.Index(i))
	}
	return nil, files
}

// intakeDrop walks the dropped directories (in a goroutine: it waits for
// the browser's callbacks) and hands the files to intake.
func (p *pageUI) intakeDrop(zone dom.Element, domain string, entries, files []js.Value) {
	defer p.guard("reading the dropped files")
	zone.Class().Add("busy")
	defer zone.Class().Remove("busy")
	var picked []pageFile
	for _, f := range files {
		picked = append(picked, pageFile{file: f, path: pageStr(f, "name")})
	}
	for _, e := range entries {
		if err := p.walkEntry(e, &picked); err != nil {
			p.setStatus(fmt.Sprintf("Could not read %s: %v", strings.TrimPrefix(pageStr(e, "fullPath"), "/"), err), "error")
			return
		}
	}
	p.intake(domain, picked)
}

// walkEntry appends the files under a FileSystemEntry to out, directories
// recursively. readEntries answers in batches (at most 100 in Chromium)
// and must be called until it gives an empty one. The File objects of a
// batch are asked for all at once.
func (p *pageUI) walkEntry(entry js.Value, out *[]pageFile) error {
	if entry.Get("isFile").Truthy() {
		return p.entryFiles([]js.Value{entry}, out)
	}
	if !entry.Get("isDirectory").Truthy() || pageHidden(pageStr(entry, "name")) {
		return nil
	}
	reader := entry.Call("createReader")
	for {
		batch, err := await(pageCallbackPromise(func(resolve, reject js.Value) {
			reader.Call("readEntries", resolve, reject)
		}))
		if err != nil {
			return err
		}
		n := batch.Length()
		if n == 0 {
			return nil
		}
		var files, dirs []js.Value
		for i := 0; i < n; i++ {
			e := batch.Index(i)
			if e.Get("isFile").Truthy() {
				files = append(files, e)
			} else {
				dirs = append(dirs, e)
			}
		}
		if err := p.entryFiles(files, out); err != nil {
			return err
		}
		for _, d := range dirs {
			if err := p.walkEntry(d, out); err != nil {
				return err
			}
		}
	}
}

// entryFiles appends the File of each FileSystemFileEntry to out.
func (p *pageUI) entryFiles(entries []js.Value, out *[]pageFile) error {
	if len(entries) == 0 {
		return nil
	}
	promises := make([]any, len(entries))
	for i, e := range entries {
		promises[i] = pageCallbackPromise(func(resolve, reject js.Value) {
			e.Call("file", resolve, reject)
		})
	}
	files, err := await(js.Global().Get("Promise").Call("all", promises))
	if err != nil {
		return err
	}
	before := len(*out)
	for i, e := range entries {
		*out = append(*out, pageFile{file: files.Index(i), path: strings.TrimPrefix(pageStr(e, "fullPath"), "/")})
	}
	if n := len(*out); n/1000 > before/1000 {
		p.setStatus(fmt.Sprintf("Reading the folder: %d files so far…", n), "info")
	}
	return nil
}

// intake sends picked files to the worker: to the zone's domain, or, for a
// dataset folder with trainA/ and trainB/, to both (see pageRoute). Each
// domain that receives files is cleared first: a new folder replaces the
// old one.
func (p *pageUI) intake(zoneDomain string, picked []pageFile) {
	var kept []pageFile
	hidden := 0
	for _, f := range picked {
		if pageHiddenPath(f.path) {
			hidden++
			continue
		}
		kept = append(kept, f)
	}
	if len(kept) == 0 {
		p.setStatus("No files found in what was dropped.", "warn")
		return
	}
	paths := make([]string, len(kept))
	for i, f := range kept {
		paths[i] = f.path
	}
	route, dataset := pageRoute(paths, zoneDomain)
	byDomain := map[string][]pageFile{}
	ignored := 0
	for i, d := range route {
		if d == "" {
			ignored++
			continue
		}
		byDomain[d] = append(byDomain[d], kept[i])
	}
	for _, d := range []string{"A", "B"} {
		fs := byDomain[d]
		if len(fs) == 0 {
			continue
		}
		files := make([]any, len(fs))
		rel := make([]any, len(fs))
		for i, f := range fs {
			files[i] = f.file
			rel[i] = f.path
		}
		p.skipped[d] = nil
		p.shareNoteFolder(d, fs[0].path)
		p.post(MsgClearDomain, map[string]any{"domain": d})
		p.post(MsgAddFiles, map[string]any{"domain": d, "files": files, "paths": rel})
	}
	var msg string
	if dataset {
		msg = fmt.Sprintf("Dataset folder: %d files from trainA for domain A, %d from trainB for domain B.", len(byDomain["A"]), len(byDomain["B"]))
		if ignored > 0 {
			msg += fmt.Sprintf(" %d files outside trainA/ and trainB/ (test sets, …) are not used.", ignored)
		}
	} else {
		msg = fmt.Sprintf("%d files for domain %s; checking them…", len(kept), zoneDomain)
	}
	p.setStatus(msg, "info")
}

// pageRoute decides where each of paths goes when dropped on the zone of
// domain zone. If the paths contain both a trainA and a trainB directory
// (a dataset folder in the layout of the CycleGAN datasets), files under
// trainA go to "A", under trainB to "B" and the rest nowhere ("");
// dataset reports this case. Otherwise every file goes to zone. Directory
// names match without regard to case; the deepest trainA/trainB in a path
// decides.
func pageRoute(paths []string, zone string) (route []string, dataset bool) {
	route = make([]string, len(paths))
	haveA, haveB := false, false
	for i, pth := range paths {
		route[i] = pageTrainDir(pth)
		haveA = haveA || route[i] == "A"
		haveB = haveB || route[i] == "B"
	}
	if haveA && haveB {
		return route, true
	}
	for i := range route {
		route[i] = zone
	}
	return route, false
}

// pageTrainDir is "A" or "B" when the deepest directory of pth named
// trainA or trainB (any case) is that one, else "".
func pageTrainDir(pth string) string {
	dirs := strings.Split(path.Dir(pth), "/")
	for i := len(dirs) - 1; i >= 0; i-- {
		switch strings.ToLower(dirs[i]) {
		case "traina":
			return "A"
		case "trainb":
			return "B"
		}
	}
	return ""
}

// pageHidden reports names the page leaves out without a word: hidden
// files and folders (".DS_Store", "._x.jpg", ".git") and macOS archive
// debris ("__MACOSX").
func pageHidden(name string) bool {
	return strings.HasPrefix(name, ".") || name == "__MACOSX"
}

// pageHiddenPath reports whether any element of pth is hidden.
func pageHiddenPath(pth string) bool {
	for _, seg := range strings.Split(pth, "/") {
		if pageHidden(seg) {
			return true
		}
	}
	return false
}

// pageCallbackPromise wraps an API that takes success and error callbacks
// (FileSystemEntry.file, readEntries) in a Promise, for await.
func pageCallbackPromise(call func(resolve, reject js.Value)) js.Value {
	exec := js.FuncOf(func(_ js.Value, args []js.Value) any {
		call(args[0], args[1])
		return nil
	})
	// The executor runs synchronously inside the constructor.
	promise := js.Global().Get("Promise").New(exec)
	exec.Release()
	return promise
}

// onIntake applies MsgIntake: a domain's image count and skipped files.
func (p *pageUI) onIntake(m js.Value) {
	domain := pageStr(m, "domain")
	id := map[string]string{"A": "count-a", "B": "count-b"}[domain]
	if id == "" {
		return
	}
	count := pageInt(m, "count")
	p.el(id).SetTextContent(fmt.Sprint(count))
	zone := p.el(map[string]string{"A": "domain-a", "B": "domain-b"}[domain])
	if count > 0 {
		zone.Class().Add("filled")
	} else {
		zone.Class().Remove("filled")
	}
	var skips []pageSkip
	if s := m.Get("skipped"); s.Truthy() {
		for i := 0; i < s.Length(); i++ {
			skips = append(skips, pageSkip{name: pageStr(s.Index(i), "name"), reason: pageStr(s.Index(i), "reason")})
		}
	}
	p.skipped[domain] = skips
	p.renderSkipped()
}

func (p *pageUI) renderSkipped() {
	list := p.el("skipped")
	list.SetInnerHTML("")
	n := 0
	for _, d := range []string{"A", "B"} {
		for _, s := range p.skipped[d] {
			li := p.doc.CreateElement("li")
			text := fmt.Sprintf("%s (%s)", s.name, d)
			if s.reason != "" {
				text += ": " + s.reason
			}
			li.SetTextContent(text)
			list.AppendChild(li)
			n++
		}
	}
	p.el("skipped-count").SetTextContent(fmt.Sprint(n))
	box := p.el("skipped-box")
	if n > 0 {
		box.RemoveAttribute("hidden")
	} else {
		box.SetAttribute("hidden", "")
	}
}
