package main

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/cyclegan-wasm/cyclegan/cyclegan"
)

func runClassifier(args []string) error {
	fs := flag.NewFlagSet("classifier", flag.ContinueOnError)
	dirA := fs.String("a", "", "training images of style A")
	dirB := fs.String("b", "", "training images of style B")
	size := fs.Int("size", 64, "image size")
	ndf := fs.Int("ndf", 16, "classifier width")
	iters := fs.Int("iters", 3000, "training steps (one A and one B image each)")
	seed := fs.Uint64("seed", 1, "random seed")
	out := fs.String("out", "classifier.safetensors", "the classifier file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dirA == "" || *dirB == "" {
		return errors.New("-a and -b are required")
	}
	a, b, err := cyclegan.ResolveDomains(*dirA, *dirB)
	if err != nil {
		return err
	}
	start := time.Now()
	clf, err := cyclegan.TrainStyleClassifier(a, b, *size, *ndf, *iters, *seed, func(it int, loss float64) {
		if it%500 == 0 {
			fmt.Printf("step %d/%d  loss %.4f  %s\n", it, *iters, loss, time.Since(start).Round(time.Second))
		}
	})
	if err != nil {
		return err
	}
	raw, err := clf.Marshal()
	if err != nil {
		return err
	}
	if err := cyclegan.WriteFileAtomic(*out, raw); err != nil {
		return err
	}
	fmt.Printf("wrote %s\n", *out)
	return nil
}
