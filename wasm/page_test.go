//go:build js && wasm

package wasm

import (
	"reflect"
	"strconv"
	"strings"
	"syscall/js"
	"testing"
)

func TestPageRoute(t *testing.T) {
	tests := []struct {
		name        string
		paths       []string
		zone        string
		want        []string
		wantDataset bool
	}{
		{
			name:  "folder on A",
			paths: []string{"horses/1.jpg", "horses/sub/2.jpg"},
			zone:  "A",
			want:  []string{"A", "A"},
		},
		{
			name:  "plain files on B",
			paths: []string{"1.png", "2.png"},
			zone:  "B",
			want:  []string{"B", "B"},
		},
		{
			name: "dataset root on A fills both",
			paths: []string{
				"horse2zebra/trainA/a.jpg", "horse2zebra/trainB/b.jpg",
				"horse2zebra/testA/c.jpg", "horse2zebra/README.txt",
				"horse2zebra/trainA/deeper/d.jpg",
			},
			zone:        "A",
			want:        []string{"A", "B", "", "", "A"},
			wantDataset: true,
		},
		{
			name:        "dataset root on B, any case",
			paths:       []string{"d/TrainA/a.png", "d/TRAINB/b.png"},
			zone:        "B",
			want:        []string{"A", "B"},
			wantDataset: true,
		},
		{
			// A folder called trainA dropped on B alone is the user's
			// choice: B.
			name:  "trainA alone on B",
			paths: []string{"trainA/a.png", "trainA/b.png"},
			zone:  "B",
			want:  []string{"B", "B"},
		},
		{
			// The deepest trainA/trainB decides.
			name:        "nested",
			paths:       []string{"trainA/trainB/x.png", "trainB/trainA/y.png"},
			zone:        "A",
			want:        []string{"B", "A"},
			wantDataset: true,
		},
		{
			// A file named trainA is not a directory.
			name:  "file named trainA",
			paths: []string{"x/trainA", "x/trainB"},
			zone:  "A",
			want:  []string{"A", "A"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dataset := pageRoute(tt.paths, tt.zone)
			if !reflect.DeepEqual(got, tt.want) || dataset != tt.wantDataset {
				t.Errorf("pageRoute(%q, %s) = %q, %v; want %q, %v", tt.paths, tt.zone, got, dataset, tt.want, tt.wantDataset)
			}
		})
	}
}

func TestPageHiddenPath(t *testing.T) {
	for path, want := range map[string]bool{
		"a/b.png":           false,
		".DS_Store":         true,
		"a/._b.png":         true,
		"a/.git/config":     true,
		"__MACOSX/a/b.png":  true,
		"x/MACOSX/b.png":    false,
		"horse2zebra/a.jpg": false,
	} {
		if got := pageHiddenPath(path); got != want {
			t.Errorf("pageHiddenPath(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestPagePresets(t *testing.T) {
	want := map[string]pagePreset{
		"tiny":      {Name: "tiny", Size: 32, NGF: 8, Blocks: 2, NDF: 16, Identity: 0.5, Iterations: 400},
		"small":     {Name: "small", Size: 64, NGF: 16, Blocks: 3, NDF: 64, Identity: 0.5, Iterations: 2000},
		"medium":    {Name: "medium", Size: 128, NGF: 32, Blocks: 6, NDF: 64, Identity: 0.5, Iterations: 2000},
		"reference": {Name: "reference", Size: 256, NGF: 64, Blocks: 9, NDF: 64, Identity: 0.5, Iterations: 2000},
	}
	for name, w := range want {
		got, ok := pagePresetNamed(name)
		if !ok || got != w {
			t.Errorf("preset %s = %+v, %v; want %+v", name, got, ok, w)
		}
		// Every preset passes the page's own checks.
		vals := map[string]string{
			"size": strconv.Itoa(got.Size), "ngf": strconv.Itoa(got.NGF), "blocks": strconv.Itoa(got.Blocks), "ndf": strconv.Itoa(got.NDF),
			"identity": "0.5", "iterations": strconv.Itoa(got.Iterations), "seed": "1", "checkpoint-every": "100",
		}
		if _, err := pageParseSettings(vals); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
	}
	if _, ok := pagePresetNamed("custom"); ok {
		t.Error(`"custom" is a preset`)
	}
	if _, ok := pagePresetNamed(pageDefaultPreset); !ok {
		t.Errorf("default preset %q does not exist", pageDefaultPreset)
	}
}

func TestPageParseSettings(t *testing.T) {
	good := map[string]string{
		"size": "64", "ngf": "16", "blocks": "3", "ndf": "64", "identity": "0.5",
		"iterations": "2000", "seed": "7", "checkpoint-every": "100",
	}
	s, err := pageParseSettings(good)
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{Size: 64, NGF: 16, Blocks: 3, NDF: 64, Identity: 0.5, Iterations: 2000, Seed: 7, CheckpointEvery: 100}
	if s != want {
		t.Errorf("got %+v, want %+v", s, want)
	}

	bad := []struct {
		field, value, errHas string
	}{
		{"size", "63", "multiple of 4"},
		{"size", "8", "out of range"},
		{"size", "abc", "Image size"},
		{"ngf", "0", "Generator width"},
		{"blocks", "-1", "Residual blocks"},
		{"ndf", "", "Discriminator width"},
		{"identity", "-0.1", "Identity"},
		{"identity", "x", "Identity"},
		{"iterations", "0", "Iterations"},
		{"seed", "-1", "Seed"},
		{"seed", "1.5", "Seed"},
		{"checkpoint-every", "0", "Checkpoint every"},
	}
	for _, b := range bad {
		vals := map[string]string{}
		for k, v := range good {
			vals[k] = v
		}
		vals[b.field] = b.value
		if _, err := pageParseSettings(vals); err == nil || !strings.Contains(err.Error(), b.errHas) {
			t.Errorf("%s=%q: error %v, want one mentioning %q", b.field, b.value, err, b.errHas)
		}
	}
}

// TestPageSettingsJSON checks that Settings reach the worker under the
// protocol's field names.
func TestPageSettingsJSON(t *testing.T) {
	v := pageJSON(Settings{Size: 32, NGF: 8, Blocks: 2, NDF: 16, Identity: 0.5, Iterations: 400, Seed: 1, CheckpointEvery: 100})
	for key, want := range map[string]float64{
		"size": 32, "ngf": 8, "blocks": 2, "ndf": 16, "identity": 0.5, "iterations": 400, "seed": 1, "checkpointEvery": 100,
	} {
		if got := v.Get(key); got.Type() != js.TypeNumber || got.Float() != want {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
}

func TestPageFormat(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{pageFormatBytes(999), "999 B"},
		{pageFormatBytes(1500), "1.5 kB"},
		{pageFormatBytes(3.5e6), "3.5 MB"},
		{pageFormatBytes(1.07e10), "10.7 GB"},
		{pageFormatDuration(44.6), "45 s"},
		{pageFormatDuration(200), "3 min 20 s"},
		{pageFormatDuration(7500), "2 h 05 min"},
		{pageFormatDuration(-1), "–"},
		{pageFormatRate(0), "–"},
		{pageFormatRate(0.333), "0.33"},
		{pageFormatRate(12.34), "12.3"},
		{pageFormatRate(250), "250"},
		{pageBaseName("dir/photo.final.JPG"), "photo.final"},
		{pageBaseName(".hidden"), ".hidden"},
		{pageTickLabel(0.25), "0.25"},
		{pageTickLabel(2), "2.0"},
		{pageTickLabel(20), "20"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestPageTicks(t *testing.T) {
	for _, top := range []float64{0.001, 0.3, 1, 4.4, 9.99, 27, 350} {
		ticks := pageTicks(top)
		if len(ticks) < 2 || len(ticks) > 7 || ticks[0] != 0 || ticks[len(ticks)-1] > top*1.0001 {
			t.Errorf("pageTicks(%g) = %v", top, ticks)
		}
	}
}

func TestPageChartKeepsPoints(t *testing.T) {
	c := &pageChart{}
	c.reset()
	losses := js.ValueOf(map[string]any{"G": 3.0, "D_A": 0.25, "D_B": 0.5, "cycle_A": 1.0, "cycle_B": 2.0, "idt_A": 0.25, "idt_B": 0.25})
	for it := 1; it <= 3*pageChartMax; it++ {
		c.add(it, losses)
	}
	if n := len(c.its); n == 0 || n >= pageChartMax {
		t.Fatalf("%d points kept, want 0 < n < %d", n, pageChartMax)
	}
	for s := range pageSeries {
		if len(c.values[s]) != len(c.its) {
			t.Fatalf("series %d has %d points, its %d", s, len(c.values[s]), len(c.its))
		}
	}
	// The sums of the chart's series.
	for s, want := range []float64{3, 0.25, 0.5, 3, 0.5} {
		if got := c.values[s][0]; got != want {
			t.Errorf("series %s = %g, want %g", pageSeries[s].name, got, want)
		}
	}
	// A lower iteration starts a new run.
	c.add(1, losses)
	if len(c.its) != 1 {
		t.Errorf("after a restart: %d points, want 1", len(c.its))
	}
}

// TestPageDrawRGBA draws a buffer on a canvas and reads it back.
func TestPageDrawRGBA(t *testing.T) {
	doc := js.Global().Get("document")
	if !doc.Truthy() {
		t.Skip("no document")
	}
	canvas := doc.Call("createElement", "canvas")
	pix := []byte{255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 10, 20, 30, 255}
	pageDrawRGBA(canvas, bytesToJS(pix), 2, 2)
	if w, h := canvas.Get("width").Int(), canvas.Get("height").Int(); w != 2 || h != 2 {
		t.Fatalf("canvas %d×%d, want 2×2", w, h)
	}
	data := canvas.Call("getContext", "2d").Call("getImageData", 0, 0, 2, 2).Get("data")
	got := make([]byte, 16)
	js.CopyBytesToGo(got, js.Global().Get("Uint8Array").New(data.Get("buffer")))
	if !reflect.DeepEqual(got, pix) {
		t.Errorf("read back %v, want %v", got, pix)
	}
}
