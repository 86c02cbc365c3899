package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	"github.com/cyclegan-wasm/cyclegan/cyclegan"
)

// loadGenerator reads a bare generator file, or generator net of a
// training checkpoint.
func loadGenerator(path, net string) (*cyclegan.Generator, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	g, err := cyclegan.UnmarshalGenerator(b, net)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

func runTranslate(args []string) error {
	fs := flag.NewFlagSet("translate", flag.ContinueOnError)
	weights := fs.String("weights", "", "a generator file, or a training checkpoint (then -net says which generator)")
	net := fs.String("net", "", "G_A (A → B) or G_B (B → A), when -weights is a training checkpoint")
	in := fs.String("in", "", "an image, or a folder of images")
	out := fs.String("out", "", "the output PNG, or a folder for a folder of inputs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *weights == "" || *in == "" || *out == "" {
		return errors.New("-weights, -in and -out are required")
	}
	g, err := loadGenerator(*weights, *net)
	if err != nil {
		return err
	}
	st, err := os.Stat(*in)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return translateFile(g, *in, *out)
	}
	folder, err := cyclegan.OpenFolder(*in)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	done, skipped := 0, 0
	for i := 0; i < folder.Len(); i++ {
		name := folder.Name(i)
		dst := filepath.Join(*out, strings.TrimSuffix(filepath.FromSlash(name), filepath.Ext(name))+".png")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		img, err := folder.Open(i)
		if err != nil {
			fmt.Fprintf(os.Stderr, "skipped %s: %v\n", name, err)
			skipped++
			continue
		}
		if err := writePNG(dst, cyclegan.Translate(g, img)); err != nil {
			return err
		}
		done++
	}
	fmt.Printf("translated %d images into %s", done, *out)
	if skipped > 0 {
		fmt.Printf(" (%d skipped)", skipped)
	}
	fmt.Println()
	return nil
}

func translateFile(g *cyclegan.Generator, in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	img, _, err := cyclegan.Decode(f, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	return writePNG(out, cyclegan.Translate(g, img))
}

// writePNG encodes img as PNG into path, atomically.
func writePNG(path string, img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	return cyclegan.WriteFileAtomic(path, buf.Bytes())
}
