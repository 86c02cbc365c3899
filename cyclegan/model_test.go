package cyclegan

import (
	"fmt"
	"testing"
)

// The key names and parameter counts of REFERENCE.md §1.
func TestGeneratorStateDictKeys(t *testing.T) {
	for _, c := range []struct {
		ngf, blocks, keys, params int
		last                      string
	}{
		{64, 6, 36, 7837699, "model.23.bias"},
		{64, 9, 48, 11378179, "model.26.bias"},
	} {
		t.Run(fmt.Sprintf("ngf%d_blocks%d", c.ngf, c.blocks), func(t *testing.T) {
			g := NewGenerator(c.ngf, c.blocks)
			ps := g.Parameters()
			if len(ps) != c.keys {
				t.Fatalf("%d keys, want %d", len(ps), c.keys)
			}
			if n := CountParameters(g); n != c.params {
				t.Fatalf("%d parameters, want %d", n, c.params)
			}
			if ps[len(ps)-1].Name != c.last {
				t.Fatalf("last key %q, want %q", ps[len(ps)-1].Name, c.last)
			}
			want := map[string][]int{
				"model.1.weight":                            {c.ngf, 3, 7, 7},
				"model.4.weight":                            {2 * c.ngf, c.ngf, 3, 3},
				"model.7.weight":                            {4 * c.ngf, 2 * c.ngf, 3, 3},
				"model.10.conv_block.1.weight":              {4 * c.ngf, 4 * c.ngf, 3, 3},
				"model.10.conv_block.5.bias":                {4 * c.ngf},
				fmt.Sprintf("model.%d.weight", 10+c.blocks): {4 * c.ngf, 2 * c.ngf, 3, 3},
				fmt.Sprintf("model.%d.weight", 13+c.blocks): {2 * c.ngf, c.ngf, 3, 3},
				fmt.Sprintf("model.%d.weight", 17+c.blocks): {3, c.ngf, 7, 7},
			}
			for _, p := range ps {
				if s, ok := want[p.Name]; ok {
					if fmt.Sprint(s) != fmt.Sprint(p.Tensor.Shape) {
						t.Errorf("%s: shape %v, want %v", p.Name, p.Tensor.Shape, s)
					}
					delete(want, p.Name)
				}
			}
			if len(want) != 0 {
				t.Errorf("missing keys %v", want)
			}
		})
	}
}

func TestDiscriminatorKeysAndPatchMap(t *testing.T) {
	d := NewDiscriminator(64, 3)
	var names []string
	for _, p := range d.Parameters() {
		names = append(names, p.Name)
	}
	want := "[model.0.weight model.0.bias model.2.weight model.2.bias model.5.weight model.5.bias model.8.weight model.8.bias model.11.weight model.11.bias]"
	if fmt.Sprint(names) != want {
		t.Fatalf("keys %v, want %s", names, want)
	}
	if s := fmt.Sprint(d.Convs[3].Weight.Shape); s != "[512 256 4 4]" {
		t.Fatalf("model.8.weight %s", s)
	}
	// 256 px → 30×30 and 128 px → 14×14 (REFERENCE.md §1), here at ndf 4
	// to keep the test fast: the map size does not depend on ndf.
	small := NewDiscriminator(4, 3)
	for _, c := range []struct{ in, out int }{{256, 30}, {128, 14}} {
		x := newImage(c.in)
		y := small.Forward(nil, x)
		if fmt.Sprint(y.Shape) != fmt.Sprint([]int{1, 1, c.out, c.out}) {
			t.Fatalf("%d px → %v, want %d×%d", c.in, y.Shape, c.out, c.out)
		}
	}
}

func TestGeneratorKeepsSize(t *testing.T) {
	g := NewGenerator(4, 1)
	for _, s := range [][2]int{{32, 32}, {36, 44}} {
		x := newImageHW(s[0], s[1])
		y := g.Forward(nil, x)
		if fmt.Sprint(y.Shape) != fmt.Sprint(x.Shape) {
			t.Fatalf("%v → %v", x.Shape, y.Shape)
		}
	}
}
