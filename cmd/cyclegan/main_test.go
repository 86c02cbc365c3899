//go:build !js

package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeImages writes n random-ish PNGs of one hue into dir.
func writeImages(t *testing.T, dir string, n, w, h int, hue uint8) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		img := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				img.SetNRGBA(x, y, color.NRGBA{hue, uint8(x * 255 / w), uint8((x*y + i*37) % 256), 255})
			}
		}
		var buf bytes.Buffer
		png.Encode(&buf, img)
		if err := os.WriteFile(filepath.Join(dir, "img"+string(rune('a'+i))+".png"), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// capture runs f with stdout and stderr captured.
func capture(t *testing.T, f func() error) (string, error) {
	t.Helper()
	r, w, _ := os.Pipe()
	oldOut, oldErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = w, w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	err := f()
	w.Close()
	os.Stdout, os.Stderr = oldOut, oldErr
	return <-done, err
}

func TestCLITrainResumeExportTranslateEval(t *testing.T) {
	root := t.TempDir()
	writeImages(t, filepath.Join(root, "trainA"), 4, 20, 18, 20)
	writeImages(t, filepath.Join(root, "trainB"), 3, 17, 22, 220)
	// A corrupt image and a text file: skipped, counted, training goes on.
	os.WriteFile(filepath.Join(root, "trainA", "broken.png"), []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
	os.WriteFile(filepath.Join(root, "trainA", "notes.txt"), []byte("hello"), 0o644)
	ckpt := filepath.Join(root, "run.safetensors")
	tiny := []string{"-size", "16", "-ngf", "2", "-blocks", "1", "-ndf", "4", "-dlayers", "2", "-seed", "3", "-every", "2", "-log", "0s"}

	out, err := capture(t, func() error {
		return runTrain(append([]string{"-a", root, "-iters", "6", "-out", ckpt}, tiny...))
	})
	if err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	for _, want := range []string{"skipped A/broken.png", "skipped A/notes.txt", "2 files skipped", "iter 6/6", "it/s", "ETA"} {
		if !strings.Contains(out, want) {
			t.Errorf("train output lacks %q:\n%s", want, out)
		}
	}

	// Resuming a finished run for more iterations is refused by nothing:
	// the schedule is the checkpoint's, so it stops at once.
	out, err = capture(t, func() error {
		return runTrain([]string{"-a", root, "-resume", ckpt, "-out", ckpt})
	})
	if err != nil || !strings.Contains(out, "resumed") {
		t.Fatalf("resume: %v\n%s", err, out)
	}

	gen := filepath.Join(root, "ga.safetensors")
	if _, err := capture(t, func() error { return runExport([]string{"-ckpt", ckpt, "-net", "G_A", "-out", gen}) }); err != nil {
		t.Fatal(err)
	}
	// Any input size comes out at its own size, from the checkpoint and from
	// the bare generator alike, and the two agree.
	in := filepath.Join(root, "trainA", "imgb.png")
	var outputs [][]byte
	for i, c := range [][]string{{"-weights", ckpt, "-net", "G_A"}, {"-weights", gen}} {
		dst := filepath.Join(root, fmt.Sprintf("out%d.png", i))
		if _, err := capture(t, func() error { return runTranslate(append(c, "-in", in, "-out", dst)) }); err != nil {
			t.Fatal(err)
		}
		raw, _ := os.ReadFile(dst)
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil || img.Bounds().Dx() != 20 || img.Bounds().Dy() != 18 {
			t.Fatalf("translated %v, err %v", img.Bounds(), err)
		}
		outputs = append(outputs, raw)
	}
	if !bytes.Equal(outputs[0], outputs[1]) {
		t.Fatal("the checkpoint's G_A and the exported generator translate differently")
	}

	// A folder in, a folder out, the broken files skipped with a warning.
	outDir := filepath.Join(root, "translated")
	out, err = capture(t, func() error {
		return runTranslate([]string{"-weights", gen, "-in", filepath.Join(root, "trainA"), "-out", outDir})
	})
	if err != nil || !strings.Contains(out, "translated 4 images") || !strings.Contains(out, "(2 skipped)") {
		t.Fatalf("folder translate: %v\n%s", err, out)
	}

	// Eval of paired folders (same names): trainB has imga…imgc like trainA.
	out, err = capture(t, func() error {
		return runEval([]string{"-weights", ckpt, "-a", filepath.Join(root, "trainA"), "-b", filepath.Join(root, "trainB"), "-size", "16"})
	})
	if err != nil || !strings.Contains(out, "pairs 3") || !strings.Contains(out, "baseline") || !strings.Contains(out, "held-out cycle") {
		t.Fatalf("eval: %v\n%s", err, out)
	}
}

func TestCLIBadInput(t *testing.T) {
	root := t.TempDir()
	empty := filepath.Join(root, "empty")
	os.MkdirAll(empty, 0o755)
	writeImages(t, filepath.Join(root, "b"), 2, 16, 16, 100)
	if _, err := capture(t, func() error {
		return runTrain([]string{"-a", empty, "-b", filepath.Join(root, "b"), "-size", "16", "-out", filepath.Join(root, "x")})
	}); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty domain: %v", err)
	}
	bad := filepath.Join(root, "bad.safetensors")
	os.WriteFile(bad, []byte("definitely not weights"), 0o644)
	if _, err := capture(t, func() error {
		return runTranslate([]string{"-weights", bad, "-in", filepath.Join(root, "b"), "-out", filepath.Join(root, "o")})
	}); err == nil || !strings.Contains(err.Error(), "bad.safetensors") {
		t.Fatalf("bad weights: %v", err)
	}
	if _, err := capture(t, func() error { return runExport([]string{"-ckpt", bad, "-out", filepath.Join(root, "g")}) }); err == nil {
		t.Fatal("export of a bad checkpoint succeeded")
	}
}
