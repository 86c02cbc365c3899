package main

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/cyclegan-wasm/cyclegan/cyclegan"
)

// runPlot draws the loss curves of a training CSV (train -csv) as an SVG
// line chart, each curve a moving average so trends show through the noise
// of batch-1 training.
func runPlot(args []string) error {
	fs := flag.NewFlagSet("plot", flag.ContinueOnError)
	in := fs.String("csv", "", "the CSV written by train -csv")
	out := fs.String("out", "losses.svg", "the SVG to write")
	window := fs.Int("window", 50, "moving-average window in iterations")
	cols := fs.String("columns", "G,D_A,D_B,cycle_A,cycle_B,idt_A,idt_B", "columns to draw")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" {
		return errors.New("-csv is required")
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	names := strings.Split(*cols, ",")
	series := make([][]float64, len(names))
	var iters []float64
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", *in, err)
		}
		it, _ := strconv.ParseFloat(rec[col["iteration"]], 64)
		iters = append(iters, it)
		for k, n := range names {
			i, ok := col[n]
			if !ok {
				return fmt.Errorf("%s has no column %q", *in, n)
			}
			v, _ := strconv.ParseFloat(rec[i], 64)
			series[k] = append(series[k], v)
		}
	}
	if len(iters) == 0 {
		return fmt.Errorf("%s: no rows", *in)
	}
	svg := lineChart(iters, names, series, *window)
	if err := cyclegan.WriteFileAtomic(*out, []byte(svg)); err != nil {
		return err
	}
	fmt.Printf("wrote %s (%d iterations)\n", *out, len(iters))
	return nil
}

func movingAverage(v []float64, w int) []float64 {
	out := make([]float64, len(v))
	var s float64
	for i, x := range v {
		s += x
		if i >= w {
			s -= v[i-w]
		}
		out[i] = s / float64(min(i+1, w))
	}
	return out
}

// lineChart renders the series on a log-scaled y axis (losses span two
// decades) against iterations.
func lineChart(x []float64, names []string, series [][]float64, window int) string {
	const w, h, left, right, top, bottom = 820, 420, 60, 150, 20, 40
	colors := []string{"#222", "#d62728", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"}
	lo, hi := math.Inf(1), math.Inf(-1)
	smooth := make([][]float64, len(series))
	for k, s := range series {
		smooth[k] = movingAverage(s, window)
		for _, v := range smooth[k] {
			if v > 0 {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	lo, hi = math.Pow(10, math.Floor(math.Log10(lo))), math.Pow(10, math.Ceil(math.Log10(hi)))
	px := func(v float64) float64 { return left + (v-x[0])/math.Max(1, x[len(x)-1]-x[0])*(w-left-right) }
	py := func(v float64) float64 {
		return top + (math.Log10(hi)-math.Log10(math.Max(v, lo)))/(math.Log10(hi)-math.Log10(lo))*(h-top-bottom)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	for d := lo; d <= hi*1.0001; d *= 10 {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%g</text>`+"\n",
			left, w-right, py(d), py(d), left-6, py(d)+4, d)
	}
	for i := 0; i <= 4; i++ {
		it := x[0] + float64(i)*(x[len(x)-1]-x[0])/4
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%.0f</text>`+"\n", px(it), h-bottom+16, it)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">iteration (moving average over %d)</text>`+"\n", (left+w-right)/2, h-6, window)
	for k, s := range smooth {
		var pts strings.Builder
		step := max(1, len(s)/800)
		for i := 0; i < len(s); i += step {
			fmt.Fprintf(&pts, "%.1f,%.1f ", px(x[i]), py(s[i]))
		}
		c := colors[k%len(colors)]
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", c, pts.String())
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="3"/><text x="%d" y="%d">%s</text>`+"\n",
			w-right+12, w-right+32, top+10+18*k, top+10+18*k, c, w-right+38, top+14+18*k, names[k])
	}
	b.WriteString("</svg>\n")
	return b.String()
}
