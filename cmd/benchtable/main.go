// Command benchtable turns `go test -bench` outputs into one Markdown table:
// one row per benchmark, one column per run (native or browser, SIMD or
// scalar), each cell the median of the repeated measurements of a metric.
//
//	benchtable -metric GFLOP/s native=.bench/native.txt wasm=.bench/wasm.txt …
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// result line: BenchmarkName[-N]  iterations  value unit  value unit …
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func main() {
	metric := flag.String("metric", "GFLOP/s", "the unit to tabulate")
	flag.Parse()
	var cols []string
	values := map[string]map[string][]float64{} // benchmark → column → samples
	var order []string
	for _, arg := range flag.Args() {
		name, path, ok := strings.Cut(arg, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "benchtable: argument %q is not COLUMN=FILE\n", arg)
			os.Exit(2)
		}
		cols = append(cols, name)
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(1)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			m := benchLine.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			fields := strings.Fields(m[2])
			for i := 0; i+1 < len(fields); i += 2 {
				if fields[i+1] != *metric {
					continue
				}
				v, err := strconv.ParseFloat(fields[i], 64)
				if err != nil {
					continue
				}
				bench := strings.TrimPrefix(m[1], "Benchmark")
				if values[bench] == nil {
					values[bench] = map[string][]float64{}
					order = append(order, bench)
				}
				values[bench][name] = append(values[bench][name], v)
			}
		}
		f.Close()
	}
	fmt.Printf("| benchmark | %s |\n|---|%s\n", strings.Join(cols, " | "), strings.Repeat("---:|", len(cols)))
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
		fmt.Printf("| %s |\n", strings.Join(row, " | "))
	}
	fmt.Printf("\n(%s, median of the runs of each benchmark)\n", *metric)
}

func median(s []float64) float64 {
	s = slices.Clone(s)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
