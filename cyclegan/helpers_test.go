package cyclegan

import "github.com/cyclegan-wasm/cyclegan/engine"

func newImage(size int) *engine.Tensor { return newImageHW(size, size) }

func newImageHW(h, w int) *engine.Tensor {
	t := engine.New(1, 3, h, w)
	for i := range t.Data {
		t.Data[i] = float32(i%17)/8 - 1
	}
	return t
}
