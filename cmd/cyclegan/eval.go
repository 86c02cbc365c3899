package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"os"

	"github.com/cyclegan-wasm/cyclegan/cyclegan"
)

func runEval(args []string) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	weights := fs.String("weights", "", "a training checkpoint (G_A for A → B, G_B for the cycle), or a bare A → B generator")
	dirA := fs.String("a", "", "held-out A images")
	dirB := fs.String("b", "", "their B counterparts, with the same file names")
	size := fs.Int("size", 64, "evaluate at this size (images are resized to it)")
	clfPath := fs.String("classifier", "", "a style classifier (cyclegan classifier) to ask whether G_A(A) looks like B")
	sheetPath := fs.String("sheet", "", "also write a contact sheet PNG of rows A | G_A(A) | true B")
	sheetRows := fs.Int("sheet-rows", 12, "rows of the contact sheet (names spread evenly over the pairs)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *weights == "" || *dirA == "" || *dirB == "" {
		return errors.New("-weights, -a and -b are required")
	}
	raw, err := os.ReadFile(*weights)
	if err != nil {
		return err
	}
	var ga, gb *cyclegan.Generator
	if t, _, err := cyclegan.UnmarshalCheckpoint(raw); err == nil {
		ga, gb = t.GA, t.GB
	} else if errors.Is(err, cyclegan.ErrNotCheckpoint) {
		if ga, err = cyclegan.UnmarshalGenerator(raw, ""); err != nil {
			return fmt.Errorf("%s: %w", *weights, err)
		}
	} else {
		return fmt.Errorf("%s: %w", *weights, err)
	}
	a, err := cyclegan.OpenFolder(*dirA)
	if err != nil {
		return err
	}
	b, err := cyclegan.OpenFolder(*dirB)
	if err != nil {
		return err
	}
	var clf *cyclegan.StyleClassifier
	if *clfPath != "" {
		raw, err := os.ReadFile(*clfPath)
		if err != nil {
			return err
		}
		if clf, err = cyclegan.UnmarshalStyleClassifier(raw); err != nil {
			return fmt.Errorf("%s: %w", *clfPath, err)
		}
	}
	r, err := cyclegan.EvaluatePaired(ga, gb, clf, a, b, *size)
	if err != nil {
		return err
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(os.Stderr, "skipped %s: %s\n", s.Name, s.Reason)
	}
	fmt.Printf("pairs %d at %d px (pixels in [0, 1])\n", r.Pairs, *size)
	fmt.Printf("L1(G_A(A), B)     %.4f\n", r.L1)
	fmt.Printf("L1(A, B) baseline %.4f  (translation/baseline %.3f)\n", r.Baseline, r.L1/r.Baseline)
	if !math.IsNaN(r.Cycle) {
		fmt.Printf("L1(G_B(G_A(A)), A) %.4f  (held-out cycle)\n", r.Cycle)
	}
	if *sheetPath != "" {
		var names []string
		for i := 0; i < a.Len(); i++ {
			names = append(names, a.Name(i))
		}
		var pick []string
		for k := 0; k < *sheetRows && len(names) > 0; k++ {
			pick = append(pick, names[k*len(names) / *sheetRows])
		}
		sheet, err := contactSheet(ga, a, b, pick, *size)
		if err != nil {
			return err
		}
		if err := writePNG(*sheetPath, sheet); err != nil {
			return err
		}
		fmt.Printf("wrote contact sheet %s (%d rows: A | G_A(A) | B)\n", *sheetPath, len(pick))
	}
	if clf != nil {
		fmt.Printf("called B: G_A(A) %.3f   A originals %.3f   B originals %.3f\n", r.FakeBCalledB, r.RealACalledB, r.RealBCalledB)
	}
	return nil
}
