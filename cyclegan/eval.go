package cyclegan

import (
	"fmt"
	"image"
	"math"

	"github.com/cyclegan-wasm/cyclegan/engine"
)

// PairedEval measures a translation A → B on pairs with ground truth (the
// same picture in both styles), pixels in [0, 1] with alpha composited on
// white, each image resized to the evaluation size:
type PairedEval struct {
	Pairs int
	// L1 is mean |G_A(A) − B|: how far the translation is from the truth.
	L1 float64
	// Baseline is mean |A − B|: the score of not translating at all.
	Baseline float64
	// Cycle is mean |G_B(G_A(A)) − A| (NaN without G_B).
	Cycle float64
	// With a style classifier: the share of translations G_A(A) it calls
	// B, and for reference the shares of the A and B originals it calls B
	// (NaN without a classifier).
	FakeBCalledB, RealACalledB, RealBCalledB float64
	// Skipped lists the names that could not be read, with the reason.
	Skipped []Skipped
}

// EvaluatePaired runs ga (and gb, if not nil, for the cycle) over every A
// image that has a B image of the same name, at size×size, and asks clf (if
// not nil) which style the translations have.
func EvaluatePaired(ga, gb *Generator, clf *StyleClassifier, a, b Domain, size int) (PairedEval, error) {
	byName := map[string]int{}
	for i := 0; i < b.Len(); i++ {
		byName[b.Name(i)] = i
	}
	var r PairedEval
	var sumL1, sumBase, sumCycle float64
	var fakeBs, realAs, realBs int
	for i := 0; i < a.Len(); i++ {
		j, ok := byName[a.Name(i)]
		if !ok {
			continue
		}
		imgA, errA := a.Open(i)
		imgB, errB := b.Open(j)
		if errA != nil || errB != nil {
			r.Skipped = append(r.Skipped, Skipped{Domain: "A/B", Index: i, Name: a.Name(i), Reason: fmt.Sprint(errA, errB)})
			continue
		}
		realA := testTensor(imgA, size)
		realB := testTensor(imgB, size)
		fakeB := ga.Forward(nil, realA)
		sumL1 += meanAbsUnit(fakeB, realB)
		sumBase += meanAbsUnit(realA, realB)
		if gb != nil {
			sumCycle += meanAbsUnit(gb.Forward(nil, fakeB), realA)
		}
		if clf != nil {
			fakeBAtClf, realAAtClf, realBAtClf := fakeB, realA, realB
			if clf.Size != size {
				fakeBAtClf = ImageToTensorSize(TensorToImage(fakeB), clf.Size, clf.Size)
				realAAtClf, realBAtClf = testTensor(imgA, clf.Size), testTensor(imgB, clf.Size)
			}
			fakeBs += b2i(clf.IsB(fakeBAtClf))
			realAs += b2i(clf.IsB(realAAtClf))
			realBs += b2i(clf.IsB(realBAtClf))
		}
		r.Pairs++
	}
	if r.Pairs == 0 {
		return r, fmt.Errorf("no pairs: no A image has a readable B image of the same name: %w", ErrEmptyDomain)
	}
	n := float64(r.Pairs)
	r.L1, r.Baseline, r.Cycle = sumL1/n, sumBase/n, sumCycle/n
	if gb == nil {
		r.Cycle = math.NaN()
	}
	r.FakeBCalledB, r.RealACalledB, r.RealBCalledB = math.NaN(), math.NaN(), math.NaN()
	if clf != nil {
		r.FakeBCalledB, r.RealACalledB, r.RealBCalledB = float64(fakeBs)/n, float64(realAs)/n, float64(realBs)/n
	}
	return r, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func testTensor(img image.Image, size int) *engine.Tensor {
	return ImageToTensorSize(img, size, size)
}

// meanAbsUnit is mean |x − y| with both mapped from [−1, 1] to [0, 1].
func meanAbsUnit(x, y *engine.Tensor) float64 {
	var s float64
	for i, v := range x.Data {
		s += math.Abs(float64(v) - float64(y.Data[i]))
	}
	return s / float64(len(x.Data)) / 2
}
