package cyclegan

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/cyclegan-wasm/cyclegan/engine"
	"github.com/cyclegan-wasm/cyclegan/engine/safetensors"
)

// StyleClassifier tells domain A's style from domain B's: it answers "does
// this translation look like B?" without ground truth. It is a PatchGAN
// trained by least squares to output 0 on every patch of an A image and 1
// on every patch of a B image; an image's score is the mean over its
// patches, and a score above ½ calls it B.
type StyleClassifier struct {
	Net  *Discriminator
	Size int // images are resized to Size×Size
}

// TrainStyleClassifier trains a classifier on domains a and b for iters
// steps of one image each, alternating A and B, with the training
// augmentation (resize to 286/256 of size, random crop, flip).
func TrainStyleClassifier(a, b Domain, size, ndf, iters int, seed uint64, progress func(it int, loss float64)) (*StyleClassifier, error) {
	c := &StyleClassifier{Net: NewDiscriminator(ndf, 3), Size: size}
	InitWeights(c.Net, rand.New(rand.NewPCG(seed, streamInit)))
	sampler, err := NewSampler(a, b, DefaultAugment(size), rand.New(rand.NewPCG(seed, streamData)))
	if err != nil {
		return nil, err
	}
	var params []*engine.Tensor
	for _, p := range c.Net.Parameters() {
		params = append(params, p.Tensor)
	}
	opt := engine.NewAdam(params, 2e-4, 0.5, 0.999)
	realA, realB := engine.New(1, 3, size, size), engine.New(1, 3, size, size)
	tp := engine.NewTape()
	var sum float64
	for it := 1; it <= iters; it++ {
		if err := sampler.Next(realA, realB); err != nil {
			return nil, err
		}
		tp.Reset()
		loss := engine.Scale(tp, engine.Add(tp,
			engine.MSE(tp, c.Net.Forward(tp, realA), 0),
			engine.MSE(tp, c.Net.Forward(tp, realB), 1)), 0.5)
		opt.ZeroGrad()
		tp.Backward(loss)
		opt.Step()
		sum += float64(loss.Item())
		if progress != nil && it%100 == 0 {
			progress(it, sum/100)
			sum = 0
		}
	}
	return c, nil
}

// Score is the mean patch output for x [1, 3, Size, Size]: near 0 for A's
// style, near 1 for B's.
func (c *StyleClassifier) Score(x *engine.Tensor) float64 {
	y := c.Net.Forward(nil, x)
	var s float64
	for _, v := range y.Data {
		s += float64(v)
	}
	return s / float64(len(y.Data))
}

// IsB reports whether the classifier calls x domain B's style.
func (c *StyleClassifier) IsB(x *engine.Tensor) bool { return c.Score(x) > 0.5 }

// Marshal encodes the classifier as safetensors (its PatchGAN's keys).
func (c *StyleClassifier) Marshal() ([]byte, error) {
	tensors := map[string]safetensors.Tensor{}
	for _, p := range c.Net.Parameters() {
		tensors[p.Name] = f32(p.Tensor.Shape, p.Tensor.Data)
	}
	return safetensors.Marshal(tensors, map[string]string{
		"format": "cyclegan-wasm/style-classifier",
		"size":   strconv.Itoa(c.Size),
		"ndf":    strconv.Itoa(c.Net.NDF),
	})
}

// UnmarshalStyleClassifier reads what Marshal wrote.
func UnmarshalStyleClassifier(b []byte) (*StyleClassifier, error) {
	f, err := safetensors.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("style classifier: %w", err)
	}
	if f.Metadata["format"] != "cyclegan-wasm/style-classifier" {
		return nil, fmt.Errorf("style classifier: format %q", f.Metadata["format"])
	}
	size, err1 := strconv.Atoi(f.Metadata["size"])
	ndf, err2 := strconv.Atoi(f.Metadata["ndf"])
	if err1 != nil || err2 != nil || size < 16 || ndf < 1 || ndf > 256 {
		return nil, fmt.Errorf("style classifier: size %q, ndf %q", f.Metadata["size"], f.Metadata["ndf"])
	}
	c := &StyleClassifier{Net: NewDiscriminator(ndf, 3), Size: size}
	for _, p := range c.Net.Parameters() {
		st, ok := f.Tensors[p.Name]
		if !ok {
			return nil, fmt.Errorf("style classifier: %q: %w", p.Name, ErrMissingKey)
		}
		if err := checkTensor(p.Name, st, p.Tensor.Shape); err != nil {
			return nil, fmt.Errorf("style classifier: %w", err)
		}
		copyF32(p.Tensor.Data, st.Data)
	}
	return c, nil
}
