package cyclegan

import (
	"fmt"
	"math/rand/v2"

	"github.com/cyclegan-wasm/cyclegan/engine"
)

// Param is a learnable tensor with its PyTorch state-dict key.
type Param struct {
	Name   string
	Tensor *engine.Tensor
}

// Network is a model with named parameters: the state dict is a walk over
// Parameters, in the order PyTorch's state_dict lists them.
type Network interface {
	Forward(tp *engine.Tape, x *engine.Tensor) *engine.Tensor
	Parameters() []Param
}

// conv is a convolution's weight and bias, registered under a key prefix.
type conv struct {
	Weight, Bias *engine.Tensor
}

func newConv(params *[]Param, prefix string, weightShape ...int) conv {
	c := conv{Weight: engine.NewParam(weightShape...), Bias: engine.NewParam(weightShape[0])}
	*params = append(*params, Param{prefix + ".weight", c.Weight}, Param{prefix + ".bias", c.Bias})
	return c
}

// newConvTranspose registers a transposed convolution, whose weight is
// [in, out, kH, kW] and whose bias has out elements.
func newConvTranspose(params *[]Param, prefix string, in, out, k int) conv {
	c := conv{Weight: engine.NewParam(in, out, k, k), Bias: engine.NewParam(out)}
	*params = append(*params, Param{prefix + ".weight", c.Weight}, Param{prefix + ".bias", c.Bias})
	return c
}

// Generator is the reference's ResnetGenerator with instance norm
// (affine off) and no dropout, mapping [N, 3, H, W] images in [−1, 1] to
// images of the same size (H and W multiples of 4):
//
//	ReflectionPad(3) → Conv 7×7 3→ngf → IN → ReLU              model.1
//	Conv 3×3 s2 ngf→2ngf → IN → ReLU                           model.4
//	Conv 3×3 s2 2ngf→4ngf → IN → ReLU                          model.7
//	Blocks × residual block at 4ngf                            model.10 …
//	ConvTranspose 3×3 s2 4ngf→2ngf (output padding 1) → IN → ReLU  model.{10+B}
//	ConvTranspose 3×3 s2 2ngf→ngf (output padding 1) → IN → ReLU   model.{13+B}
//	ReflectionPad(3) → Conv 7×7 ngf→3 → Tanh                   model.{17+B}
//
// The keys count the parameter-free layers too, as PyTorch's Sequential does.
type Generator struct {
	NGF, Blocks int

	In, Down1, Down2 conv
	Res              []residualBlock
	Up1, Up2         conv
	Out              conv

	params []Param
}

// residualBlock is x + [ReflPad(1), Conv 3×3, IN, ReLU, ReflPad(1), Conv 3×3, IN](x),
// with keys conv_block.1 and conv_block.5.
type residualBlock struct {
	Conv1, Conv2 conv
}

// NewGenerator returns a generator with zero weights; Init draws them.
func NewGenerator(ngf, blocks int) *Generator {
	if ngf < 1 || blocks < 0 {
		panic(fmt.Sprintf("cyclegan: NewGenerator(ngf %d, blocks %d)", ngf, blocks))
	}
	g := &Generator{NGF: ngf, Blocks: blocks}
	p := &g.params
	g.In = newConv(p, "model.1", ngf, 3, 7, 7)
	g.Down1 = newConv(p, "model.4", 2*ngf, ngf, 3, 3)
	g.Down2 = newConv(p, "model.7", 4*ngf, 2*ngf, 3, 3)
	for i := 0; i < blocks; i++ {
		prefix := fmt.Sprintf("model.%d.conv_block", 10+i)
		g.Res = append(g.Res, residualBlock{
			Conv1: newConv(p, prefix+".1", 4*ngf, 4*ngf, 3, 3),
			Conv2: newConv(p, prefix+".5", 4*ngf, 4*ngf, 3, 3),
		})
	}
	g.Up1 = newConvTranspose(p, fmt.Sprintf("model.%d", 10+blocks), 4*ngf, 2*ngf, 3)
	g.Up2 = newConvTranspose(p, fmt.Sprintf("model.%d", 13+blocks), 2*ngf, ngf, 3)
	g.Out = newConv(p, fmt.Sprintf("model.%d", 17+blocks), 3, ngf, 7, 7)
	return g
}

// Parameters lists the weights in state-dict order.
func (g *Generator) Parameters() []Param { return g.params }

// Forward translates x [N, 3, H, W] to [N, 3, H, W]; H and W must be
// multiples of 4 so the two stride-2 stages invert exactly.
func (g *Generator) Forward(tp *engine.Tape, x *engine.Tensor) *engine.Tensor {
	return g.forward(tp, x, nil)
}

// forward is Forward, calling between (when not nil) after each stage: the
// three input convolutions, every residual block, the two upsamplings.
func (g *Generator) forward(tp *engine.Tape, x *engine.Tensor, between func()) *engine.Tensor {
	stage := func() {
		if between != nil {
			between()
		}
	}
	_, c, h, w := x.Dims()
	if c != 3 || h%4 != 0 || w%4 != 0 {
		panic(fmt.Sprintf("cyclegan: Generator input %v: want 3 channels and sides that are multiples of 4", x))
	}
	y := engine.ReflectionPad2D(tp, x, 3)
	y = normReLU(tp, engine.Conv2D(tp, y, g.In.Weight, g.In.Bias, 1, 0))
	stage()
	y = normReLU(tp, engine.Conv2D(tp, y, g.Down1.Weight, g.Down1.Bias, 2, 1))
	stage()
	y = normReLU(tp, engine.Conv2D(tp, y, g.Down2.Weight, g.Down2.Bias, 2, 1))
	stage()
	for _, b := range g.Res {
		r := engine.ReflectionPad2D(tp, y, 1)
		r = normReLU(tp, engine.Conv2D(tp, r, b.Conv1.Weight, b.Conv1.Bias, 1, 0))
		r = engine.ReflectionPad2D(tp, r, 1)
		r = engine.InstanceNorm2D(tp, engine.Conv2D(tp, r, b.Conv2.Weight, b.Conv2.Bias, 1, 0), nil, nil)
		y = engine.Add(tp, y, r)
		stage()
	}
	y = normReLU(tp, engine.ConvTranspose2D(tp, y, g.Up1.Weight, g.Up1.Bias, 2, 1, 1))
	stage()
	y = normReLU(tp, engine.ConvTranspose2D(tp, y, g.Up2.Weight, g.Up2.Bias, 2, 1, 1))
	stage()
	y = engine.ReflectionPad2D(tp, y, 3)
	return engine.Tanh(tp, engine.Conv2D(tp, y, g.Out.Weight, g.Out.Bias, 1, 0))
}

func normReLU(tp *engine.Tape, x *engine.Tensor) *engine.Tensor {
	return engine.ReLU(tp, engine.InstanceNorm2D(tp, x, nil, nil))
}

// Discriminator is the reference's NLayerDiscriminator (PatchGAN) with
// instance norm: 4×4 convolutions with padding 1,
//
//	Conv s2 3→ndf → LeakyReLU(0.2)                         model.0
//	(Layers−1) × Conv s2 → IN → LeakyReLU(0.2)             model.2, model.5, …
//	Conv s1 → IN → LeakyReLU(0.2)                          model.{3·Layers−1}
//	Conv s1 → 1                                            model.{3·Layers+2}
//
// with channels ndf·min(2ⁿ, 8). Three layers see 70×70 patches; a 256 px
// image gives a 30×30 map of real/fake scores.
type Discriminator struct {
	NDF, Layers int

	Convs []conv // the Layers+2 convolutions in order

	params []Param
}

// NewDiscriminator returns a discriminator with zero weights.
func NewDiscriminator(ndf, layers int) *Discriminator {
	if ndf < 1 || layers < 1 {
		panic(fmt.Sprintf("cyclegan: NewDiscriminator(ndf %d, layers %d)", ndf, layers))
	}
	d := &Discriminator{NDF: ndf, Layers: layers}
	p := &d.params
	d.Convs = append(d.Convs, newConv(p, "model.0", ndf, 3, 4, 4))
	mult := 1
	for n := 1; n <= layers; n++ {
		prev := mult
		mult = min(1<<n, 8)
		d.Convs = append(d.Convs, newConv(p, fmt.Sprintf("model.%d", 3*n-1), ndf*mult, ndf*prev, 4, 4))
	}
	d.Convs = append(d.Convs, newConv(p, fmt.Sprintf("model.%d", 3*layers+2), 1, ndf*mult, 4, 4))
	return d
}

// Parameters lists the weights in state-dict order.
func (d *Discriminator) Parameters() []Param { return d.params }

// Forward scores x [N, 3, H, W] patch by patch: [N, 1, H', W'].
func (d *Discriminator) Forward(tp *engine.Tape, x *engine.Tensor) *engine.Tensor {
	last := len(d.Convs) - 1
	y := x
	for i, c := range d.Convs {
		stride := 2
		if i >= last-1 {
			stride = 1
		}
		y = engine.Conv2D(tp, y, c.Weight, c.Bias, stride, 1)
		if i == last {
			break
		}
		if i > 0 {
			y = engine.InstanceNorm2D(tp, y, nil, nil)
		}
		y = engine.LeakyReLU(tp, y, 0.2)
	}
	return y
}

// InitWeights draws every weight from N(0, 0.02²) and sets every bias to
// zero, as the reference's init_weights('normal', 0.02), walking the
// parameters in state-dict order.
func InitWeights(net Network, rng *rand.Rand) {
	for _, p := range net.Parameters() {
		if len(p.Tensor.Shape) == 1 {
			clear(p.Tensor.Data)
			continue
		}
		engine.InitNormal(p.Tensor, rng, 0, 0.02)
	}
}

// SetRequiresGrad freezes (false) or unfreezes (true) every parameter of
// net. A frozen network still passes gradients through to its input, but
// computes none for its own weights: the generator step freezes both
// discriminators, as the reference does.
func SetRequiresGrad(net Network, on bool) {
	for _, p := range net.Parameters() {
		p.Tensor.RequiresGrad = on
	}
}

// CountParameters is the number of scalars in net.
func CountParameters(net Network) int {
	n := 0
	for _, p := range net.Parameters() {
		n += p.Tensor.Len()
	}
	return n
}
