package cyclegan

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/cyclegan-wasm/cyclegan/engine"
)

// ImagePool is the reference's history of generated images (Shrivastava et
// al.): the discriminator sees a mix of the newest fakes and older ones, so
// the generator cannot win by chasing the discriminator's latest mood.
//
// While fewer than Size images are stored, Query stores the new fake and
// returns it. Once full, with probability ½ it returns a stored image chosen
// at random and keeps the new one in its slot; otherwise it returns the new
// one. Size 0 disables the pool.
type ImagePool struct {
	Size   int
	Images []*engine.Tensor // the stored fakes, each [1, 3, H, W]

	out *engine.Tensor // Query's result, reused from call to call
}

// NewImagePool returns an empty pool of the given capacity.
func NewImagePool(size int) *ImagePool {
	if size < 0 {
		panic(fmt.Sprintf("cyclegan: NewImagePool(%d)", size))
	}
	return &ImagePool{Size: size}
}

// Query takes a batch of fakes [N, 3, H, W] and returns the batch the
// discriminator should see, drawing from rng as the reference draws from
// Python's random module: one uniform per image once the pool is full and,
// when it is above ½, one index. The result is detached (it never requires
// a gradient) and is valid until the next Query.
func (p *ImagePool) Query(fakes *engine.Tensor, rng *rand.Rand) *engine.Tensor {
	return p.query(fakes, rng, nil)
}

// query is Query; with swapped non-nil it also appends, per image, the
// slot whose stored image it returned and replaced (-1 for none), for undo.
func (p *ImagePool) query(fakes *engine.Tensor, rng *rand.Rand, swapped *[]int) *engine.Tensor {
	n, c, h, w := fakes.Dims()
	if p.out == nil || !slices.Equal(p.out.Shape, fakes.Shape) {
		p.out = engine.New(n, c, h, w)
	}
	per := c * h * w
	for i := 0; i < n; i++ {
		fake := fakes.Data[i*per : (i+1)*per]
		dst := p.out.Data[i*per : (i+1)*per]
		k := poolChoice(p.Size, len(p.Images), rng)
		switch {
		case k == poolStore:
			stored := engine.New(1, c, h, w)
			copy(stored.Data, fake)
			p.Images = append(p.Images, stored)
			copy(dst, fake)
		case k >= 0:
			slot := p.Images[k]
			if slot.Len() != per {
				panic(fmt.Sprintf("cyclegan: ImagePool: stored %v, query %v", slot, fakes))
			}
			copy(dst, slot.Data)
			copy(slot.Data, fake)
		default:
			copy(dst, fake)
		}
		if swapped != nil {
			*swapped = append(*swapped, max(k, -1))
		}
	}
	return p.out
}

// undo takes back the last query, which found n images stored and
// swapped the given slots: each swapped slot gets back the image the
// query returned from it (in reverse order, so that a slot swapped twice
// ends with its first image), and the images the query stored are dropped.
func (p *ImagePool) undo(n int, swapped []int) {
	if len(swapped) > 0 {
		per := p.out.Len() / len(swapped)
		for i := len(swapped) - 1; i >= 0; i-- {
			if k := swapped[i]; k >= 0 {
				copy(p.Images[k].Data, p.out.Data[i*per:(i+1)*per])
			}
		}
	}
	p.Images = p.Images[:n]
}

// Outcomes of poolChoice besides a slot index.
const (
	poolPassThrough = -1 // return the new image, store nothing
	poolStore       = -2 // store the new image and return it
)

// poolChoice is the reference's decision for one query of a pool of size
// slots holding stored images, drawing from rng exactly as Query does: a
// slot index k ≥ 0 means return the image stored in slot k and keep the new
// one there. A worker that does not hold a pool's images (SplitTrainer)
// replays the same draws with it.
func poolChoice(size, stored int, rng *rand.Rand) int {
	switch {
	case size == 0:
		return poolPassThrough
	case stored < size:
		return poolStore
	case rng.Float64() > 0.5:
		return rng.IntN(size)
	default:
		return poolPassThrough
	}
}
