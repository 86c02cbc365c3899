//go:build js && wasm

package wasm

import (
	"fmt"
	"strconv"
	"strings"

	"honnef.co/go/js/dom/v2"
)

// pagePreset is one choice of the #preset select: the model and run
// settings it fills in (the seed and the checkpoint interval are left as
// they are).
type pagePreset struct {
	Name       string
	Size       int
	NGF        int
	Blocks     int
	NDF        int
	Identity   float64
	Iterations int
}

// pagePresets are the #preset choices, smallest first. "reference" is the
// model of the CycleGAN paper (ResNet generator, 9 blocks, ngf 64, ndf 64,
// 256 px); the others shrink it so that it trains in a browser tab.
var pagePresets = []pagePreset{
	{Name: "tiny", Size: 32, NGF: 8, Blocks: 2, NDF: 16, Identity: 0.5, Iterations: 400},
	{Name: "small", Size: 64, NGF: 16, Blocks: 3, NDF: 64, Identity: 0.5, Iterations: 2000},
	{Name: "medium", Size: 128, NGF: 32, Blocks: 6, NDF: 64, Identity: 0.5, Iterations: 2000},
	{Name: "reference", Size: 256, NGF: 64, Blocks: 9, NDF: 64, Identity: 0.5, Iterations: 2000},
}

const (
	// pageDefaultPreset is selected when the page loads.
	pageDefaultPreset = "small"
	// pageDefaultSeed and pageDefaultCheckpointEvery fill their fields on load.
	pageDefaultSeed            = 1
	pageDefaultCheckpointEvery = 100
)

// pagePresetNamed returns the preset called name.
func pagePresetNamed(name string) (pagePreset, bool) {
	for _, pr := range pagePresets {
		if pr.Name == name {
			return pr, true
		}
	}
	return pagePreset{}, false
}

// pageSettingFields are the ids of the settings inputs.
var pageSettingFields = []string{"size", "ngf", "blocks", "ndf", "identity", "iterations", "seed", "checkpoint-every"}

func (p *pageUI) setupSettings() {
	// Workers: 1 up to the engine workers the page started (the engine
	// worker and its peers), the most by default.
	sel := p.selectEl("workers")
	sel.SetInnerHTML("")
	for n := 1; n <= p.workerCount; n++ {
		o := p.doc.CreateElement("option").(*dom.HTMLOptionElement)
		o.SetValue(strconv.Itoa(n))
		o.SetTextContent(strconv.Itoa(n))
		sel.AppendChild(o)
	}
	sel.SetValue(strconv.Itoa(p.workerCount))
	p.on(sel, "change", func(dom.Event) {
		n, _ := strconv.Atoi(sel.Value())
		p.post(MsgWorkers, map[string]any{"count": n})
	})
	p.input("seed").SetValue(fmt.Sprint(pageDefaultSeed))
	p.input("checkpoint-every").SetValue(fmt.Sprint(pageDefaultCheckpointEvery))
	p.selectEl("preset").SetValue(pageDefaultPreset)
	p.applyPreset(pageDefaultPreset)

	p.on(p.el("preset"), "change", func(dom.Event) {
		p.applyPreset(p.selectEl("preset").Value())
	})
	// Editing a field that a preset sets makes the choice "custom".
	for _, id := range []string{"size", "ngf", "blocks", "ndf", "identity", "iterations"} {
		p.on(p.el(id), "input", func(dom.Event) {
			pr, ok := pagePresetNamed(p.selectEl("preset").Value())
			if ok && !p.fieldsMatch(pr) {
				p.selectEl("preset").SetValue("custom")
			}
		})
	}
}

// applyPreset fills the fields from the preset called name ("custom"
// leaves them).
func (p *pageUI) applyPreset(name string) {
	pr, ok := pagePresetNamed(name)
	if !ok {
		return
	}
	p.input("size").SetValue(fmt.Sprint(pr.Size))
	p.input("ngf").SetValue(fmt.Sprint(pr.NGF))
	p.input("blocks").SetValue(fmt.Sprint(pr.Blocks))
	p.input("ndf").SetValue(fmt.Sprint(pr.NDF))
	p.input("identity").SetValue(strconv.FormatFloat(pr.Identity, 'g', -1, 64))
	p.input("iterations").SetValue(fmt.Sprint(pr.Iterations))
}

// fieldsMatch reports whether the fields still hold pr's values.
func (p *pageUI) fieldsMatch(pr pagePreset) bool {
	s, err := p.readSettings()
	return err == nil && s.Size == pr.Size && s.NGF == pr.NGF && s.Blocks == pr.Blocks &&
		s.NDF == pr.NDF && s.Identity == pr.Identity && s.Iterations == pr.Iterations
}

// readSettings reads the settings fields.
func (p *pageUI) readSettings() (Settings, error) {
	vals := map[string]string{}
	for _, id := range pageSettingFields {
		vals[id] = p.input(id).Value()
	}
	s, err := pageParseSettings(vals)
	if err == nil {
		s.Workers, _ = strconv.Atoi(p.selectEl("workers").Value())
	}
	return s, err
}

// pageParseSettings turns the settings fields' texts (by element id) into
// Settings, or an error that names the field in words. It checks only what
// the page can tell alone; the engine validates the whole configuration.
func pageParseSettings(vals map[string]string) (Settings, error) {
	var s Settings
	ints := []struct {
		id, label string
		min, max  int
		dst       *int
	}{
		{"size", "Image size", 16, 1024, &s.Size},
		{"ngf", "Generator width", 1, 1024, &s.NGF},
		{"blocks", "Residual blocks", 0, 64, &s.Blocks},
		{"ndf", "Discriminator width", 1, 1024, &s.NDF},
		{"iterations", "Iterations", 1, 100_000_000, &s.Iterations},
		{"checkpoint-every", "Checkpoint every", 1, 100_000_000, &s.CheckpointEvery},
	}
	for _, f := range ints {
		v, err := strconv.Atoi(strings.TrimSpace(vals[f.id]))
		if err != nil {
			return Settings{}, fmt.Errorf("%s: enter a whole number", f.label)
		}
		if v < f.min || v > f.max {
			return Settings{}, fmt.Errorf("%s: %d is out of range %d…%d", f.label, v, f.min, f.max)
		}
		*f.dst = v
	}
	if s.Size%4 != 0 {
		return Settings{}, fmt.Errorf("Image size: %d is not a multiple of 4", s.Size)
	}
	id, err := strconv.ParseFloat(strings.TrimSpace(vals["identity"]), 64)
	if err != nil || id < 0 || id > 100 {
		return Settings{}, fmt.Errorf("Identity loss: enter a number from 0 (off) to 100; 0.5 is the usual")
	}
	s.Identity = id
	seed, err := strconv.ParseUint(strings.TrimSpace(vals["seed"]), 10, 53)
	if err != nil {
		return Settings{}, fmt.Errorf("Seed: enter a whole number from 0 up")
	}
	s.Seed = seed
	return s, nil
}

func (p *pageUI) setupTraining() {
	p.onClick("start", func() {
		s, err := p.readSettings()
		if err != nil {
			p.setStatus(err.Error(), "error")
			return
		}
		p.startRun(s)
	})
	p.onClick("pause", func() {
		if p.state == "paused" {
			p.post(MsgResume, nil)
			return
		}
		p.post(MsgPause, nil)
	})
	p.onClick("resume", func() {
		p.resumeModel("autosave")
	})
}

// startRun asks the worker for a new run with settings s.
func (p *pageUI) startRun(s Settings) {
	p.trainSize = s.Size
	p.chart.reset()
	p.redraw()
	p.el("resume-offer").SetAttribute("hidden", "")
	p.post(MsgStart, map[string]any{"config": pageJSON(s)})
}

// resumeModel resumes (or, for a finished run, loads) the saved model id
// on the current domains. The worker brings back the demo domains for a
// model trained on them.
func (p *pageUI) resumeModel(id string) {
	p.el("resume-offer").SetAttribute("hidden", "")
	p.chart.reset()
	p.redraw()
	p.post(MsgResume, map[string]any{"id": id})
}
