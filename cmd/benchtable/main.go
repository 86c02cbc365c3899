// Command benchtable turns `go test -bench` outputs into Markdown: a table
// with one row per benchmark, one column per run (native or browser, SIMD
// or scalar), each cell the median of the repeated measurements of a
// metric; or (-report) the whole document of `make bench` (report.go).
//
//	benchtable -metric GFLOP/s native=.bench/native.txt wasm=.bench/wasm.txt …
//	benchtable -report .bench [-o cyclegan/BENCHMARKS.md]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

// result line: BenchmarkName[-N]  iterations  value unit  value unit …
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func main() {
	metric := flag.String("metric", "GFLOP/s", "the unit to tabulate")
	dir := flag.String("report", "", "write the make bench report of the outputs in `dir`")
	out := flag.String("o", "", "write to `file` (atomically) instead of standard output")
	flag.Parse()
	var buf strings.Builder
	if *dir != "" {
		if err := report(&buf, *dir); err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(1)
		}
	} else if err := table(&buf, *metric, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(2)
	}
	if *out == "" {
		fmt.Print(buf.String())
		return
	}
	tmp := *out + ".tmp"
	if err := os.WriteFile(tmp, []byte(buf.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if err := os.Rename(tmp, *out); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

// table writes one Markdown table of metric from the COLUMN=FILE args.
func table(w io.Writer, metric string, args []string) error {
	var cols []string
	values := map[string]map[string][]float64{} // benchmark → column → samples
	var order []string
	for _, arg := range args {
		name, path, ok := strings.Cut(arg, "=")
		if !ok {
			return fmt.Errorf("argument %q is not COLUMN=FILE", arg)
		}
		cols = append(cols, name)
		s, err := readSamples(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchtable: %v (its column stays empty)\n", err)
		}
		for bench, units := range s.m {
			if len(units[metric]) == 0 {
				continue
			}
			if values[bench] == nil {
				values[bench] = map[string][]float64{}
			}
			values[bench][name] = units[metric]
		}
		for _, bench := range s.order {
			if values[bench] != nil && !slices.Contains(order, bench) {
				order = append(order, bench)
			}
		}
	}
	fmt.Fprintf(w, "| benchmark | %s |\n|---|%s\n", strings.Join(cols, " | "), strings.Repeat("---:|", len(cols)))
	for _, b := range order {
		row := []string{b}
		for _, c := range cols {
			s := values[b][c]
			if len(s) == 0 {
				row = append(row, "–")
				continue
			}
			row = append(row, fmt.Sprintf("%.3g", median(s)))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
	fmt.Fprintf(w, "\n(%s, median of the runs of each benchmark)\n", metric)
	return nil
}

func median(s []float64) float64 {
	s = slices.Clone(s)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
