//go:build js && wasm

package wasm

import (
	"encoding/json"
	"fmt"
	"syscall/js"

	"honnef.co/go/js/dom/v2"
)

// pageExports are the download buttons and what each asks MsgExport for.
var pageExports = []struct{ id, what string }{
	{"download-checkpoint", "checkpoint"},
	{"download-ga", "G_A"},
	{"download-gb", "G_B"},
}

func (p *pageUI) setupModels() {
	for _, e := range pageExports {
		what := e.what
		p.onClick(e.id, func() {
			p.post(MsgExport, map[string]any{"what": what})
		})
	}
	// One listener for every row's buttons.
	p.on(p.el("models"), "click", func(ev dom.Event) {
		target := ev.Target()
		if target == nil {
			return
		}
		btn := target.Closest("button[data-action]")
		if btn == nil {
			return
		}
		id := btn.GetAttribute("data-id")
		switch btn.GetAttribute("data-action") {
		case "resume":
			p.resumeModel(id)
		case "delete":
			btn.(*dom.HTMLButtonElement).SetDisabled(true)
			p.post(MsgDeleteModel, map[string]any{"id": id})
			p.post(MsgListModels, nil)
		}
	})
	imp := p.input("import")
	p.on(imp, "change", func(dom.Event) {
		list := imp.Underlying().Get("files")
		var files []js.Value
		for i := 0; i < list.Length(); i++ {
			files = append(files, list.Index(i))
		}
		imp.SetValue("")
		go p.importFiles(files)
	})
}

// importFiles reads each file and sends it to the worker with MsgImport.
func (p *pageUI) importFiles(files []js.Value) {
	defer p.guard("importing")
	for _, f := range files {
		name := pageStr(f, "name")
		p.setStatus("Reading "+name+"…", "info")
		buf, err := await(f.Call("arrayBuffer"))
		if err != nil {
			p.setStatus(fmt.Sprintf("Could not read %s: %v", name, err), "error")
			continue
		}
		p.post(MsgImport, map[string]any{"name": name, "bytes": buf}, buf)
	}
}

// onModels applies MsgReady or MsgModels: the models list, the storage
// line and (on MsgReady) the offer to resume the autosave.
func (p *pageUI) onModels(m js.Value, atStart bool) {
	p.models = pageModels(m.Get("models"))
	list := p.el("models")
	list.SetInnerHTML("")
	if len(p.models) == 0 {
		li := p.doc.CreateElement("li")
		li.Class().Add("empty")
		li.SetTextContent("No saved models yet.")
		list.AppendChild(li)
	}
	for _, info := range p.models {
		list.AppendChild(p.modelRow(info))
	}
	usage, quota := pageNum(m, "usage"), pageNum(m, "quota")
	if quota > 0 {
		p.el("storage").SetTextContent(fmt.Sprintf("Storage: %s used of %s available to this page.", pageFormatBytes(usage), pageFormatBytes(quota)))
	} else if usage > 0 {
		p.el("storage").SetTextContent(fmt.Sprintf("Storage: %s used.", pageFormatBytes(usage)))
	}

	if atStart {
		offer := p.el("resume-offer")
		offer.SetAttribute("hidden", "")
		for _, info := range p.models {
			if info.ID != "autosave" || p.state == "training" {
				continue
			}
			if pageFinished(info) {
				p.el("resume-text").SetTextContent(fmt.Sprintf("Load the model trained for %d iterations?", info.Iteration))
				p.button("resume").SetTextContent("Load")
			} else {
				p.el("resume-iteration").SetTextContent(fmt.Sprint(info.Iteration))
			}
			offer.RemoveAttribute("hidden")
		}
	}
}

// modelRow is the models list's entry for info.
func (p *pageUI) modelRow(info ModelInfo) dom.Element {
	doc := p.doc
	li := doc.CreateElement("li")
	li.SetAttribute("data-id", info.ID)

	name := doc.CreateElement("span")
	name.Class().Add("name")
	title := info.Name
	if title == "" {
		title = info.ID
	}
	name.SetTextContent(title)
	li.AppendChild(name)

	meta := doc.CreateElement("span")
	meta.Class().Add("meta")
	text := fmt.Sprintf("iteration %d", info.Iteration)
	if info.Total > 0 {
		text += fmt.Sprintf(" of %d", info.Total)
	}
	text += " · " + pageFormatBytes(float64(info.Size))
	if info.Date > 0 {
		text += " · " + js.Global().Get("Date").New(float64(info.Date)).Call("toLocaleString").String()
	}
	switch info.Data {
	case "demo":
		text += " · demo data"
	case "files":
		text += " · your images"
	}
	meta.SetTextContent(text)
	li.AppendChild(meta)

	actions := doc.CreateElement("span")
	actions.Class().Add("actions")
	resume := "Resume"
	if pageFinished(info) {
		resume = "Load"
	}
	for _, a := range []struct{ action, label, class string }{
		{"resume", resume, "small"},
		{"delete", "Delete", "small danger"},
	} {
		actions.AppendChild(pageActionButton(doc, a.action, a.label, a.class, info.ID))
	}
	li.AppendChild(actions)
	return li
}

// pageFinished reports whether info's run has done all its iterations:
// resuming it loads it (to translate, export, …) without training.
func pageFinished(info ModelInfo) bool {
	return info.Total > 0 && info.Iteration >= info.Total
}

// pageModels decodes a [ModelInfo] array (a JS array of plain objects).
func pageModels(v js.Value) []ModelInfo {
	if !v.Truthy() {
		return nil
	}
	var out []ModelInfo
	if err := json.Unmarshal([]byte(js.Global().Get("JSON").Call("stringify", v).String()), &out); err != nil {
		js.Global().Get("console").Call("warn", "page: models list: "+err.Error())
		return nil
	}
	return out
}

// onSaved applies MsgSaved.
func (p *pageUI) onSaved(m js.Value) {
	p.el("saved").SetTextContent(fmt.Sprintf("Saved at iteration %d (%s), %s.",
		pageInt(m, "iteration"), pageFormatBytes(pageNum(m, "bytes")),
		js.Global().Get("Date").New().Call("toLocaleTimeString").String()))
	p.post(MsgListModels, nil)
}

// onFile applies MsgFile: the browser downloads the bytes.
func (p *pageUI) onFile(m js.Value) {
	if p.takeSharedFile(m) {
		return
	}
	name := pageStr(m, "name")
	if name == "" {
		name = "cyclegan.safetensors"
	}
	blob := js.Global().Get("Blob").New([]any{m.Get("bytes")}, map[string]any{"type": "application/octet-stream"})
	p.pageDownload(blob, name)
}

// pageActionButton is a list entry's button: its click is handled by the
// list's delegate through data-action and data-id.
func pageActionButton(doc dom.Document, action, label, class, id string) dom.Element {
	b := doc.CreateElement("button")
	b.SetAttribute("type", "button")
	b.SetAttribute("class", class)
	b.SetAttribute("data-action", action)
	b.SetAttribute("data-id", id)
	b.SetTextContent(label)
	return b
}
