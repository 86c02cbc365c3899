package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/cyclegan-wasm/cyclegan/cyclegan"
)

func runExport(args []string) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	ckpt := fs.String("ckpt", "", "a training checkpoint")
	net := fs.String("net", "G_A", "the generator to export: G_A (A → B) or G_B (B → A)")
	out := fs.String("out", "", "the generator file to write (.safetensors)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ckpt == "" || *out == "" {
		return errors.New("-ckpt and -out are required")
	}
	b, err := os.ReadFile(*ckpt)
	if err != nil {
		return err
	}
	t, _, err := cyclegan.UnmarshalCheckpoint(b)
	if err != nil {
		return fmt.Errorf("%s: %w", *ckpt, err)
	}
	g := t.GA
	switch *net {
	case "G_A":
	case "G_B":
		g = t.GB
	default:
		return fmt.Errorf("-net %q: want G_A or G_B", *net)
	}
	gen, err := cyclegan.MarshalGenerator(g, map[string]string{
		"net":         *net,
		"ngf":         fmt.Sprint(g.NGF),
		"blocks":      fmt.Sprint(g.Blocks),
		"iteration":   fmt.Sprint(t.Iteration),
		"crop_size":   fmt.Sprint(t.Config.CropSize),
		"exported_by": "cyclegan-wasm",
	})
	if err != nil {
		return err
	}
	if err := cyclegan.WriteFileAtomic(*out, gen); err != nil {
		return err
	}
	fmt.Printf("wrote %s: %s of iteration %d (ngf %d, %d blocks), PyTorch keys model.1.weight …\n", *out, *net, t.Iteration, g.NGF, g.Blocks)
	return nil
}
