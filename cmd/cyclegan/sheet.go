package main

import (
	"image"
	"image/color"
	"image/draw"

	"github.com/cyclegan-wasm/cyclegan/cyclegan"
)

// contactSheet lays out rows of A | G_A(A) | true B at size×size with a
// small gap, for the held-out names picked by eval -sheet.
func contactSheet(ga *cyclegan.Generator, a, b cyclegan.Domain, names []string, size int) (*image.NRGBA, error) {
	const gap = 4
	idxA, idxB := index(a), index(b)
	sheet := image.NewNRGBA(image.Rect(0, 0, 3*size+4*gap, len(names)*(size+gap)+gap))
	draw.Draw(sheet, sheet.Bounds(), image.NewUniform(color.NRGBA{235, 235, 235, 255}), image.Point{}, draw.Src)
	for row, name := range names {
		imgA, err := a.Open(idxA[name])
		if err != nil {
			return nil, err
		}
		imgB, err := b.Open(idxB[name])
		if err != nil {
			return nil, err
		}
		realA := cyclegan.Resize(imgA, size, size)
		fakeB := cyclegan.TensorToImage(ga.Forward(nil, cyclegan.ImageToTensorSize(imgA, size, size)))
		realB := cyclegan.Resize(imgB, size, size)
		y := gap + row*(size+gap)
		for col, img := range []image.Image{realA, fakeB, realB} {
			x := gap + col*(size+gap)
			draw.Draw(sheet, image.Rect(x, y, x+size, y+size), img, image.Point{}, draw.Src)
		}
	}
	return sheet, nil
}

func index(d cyclegan.Domain) map[string]int {
	m := map[string]int{}
	for i := 0; i < d.Len(); i++ {
		m[d.Name(i)] = i
	}
	return m
}
