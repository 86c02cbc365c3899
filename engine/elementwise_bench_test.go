package engine

import "testing"

// The elementwise ops of CycleGAN's ResNet generator (ngf 32, 128 px) at
// its sizes: 32×128×128 after the first and last convolutions, 128×32×32
// in the residual blocks; and Adam over a million parameters. Each reports
// "GB/s": the bytes the op must move at the least (every tensor it reads or
// writes, once) per second, so ops of different arity compare; the actual
// traffic is higher (InstanceNorm2D reads its input three times, and the
// tape clears every buffer it hands out). They deliberately report no
// "GFLOP/s", the metric the convolution table is built from.

// benchBytes times run, which moves bytes bytes, and reports GB/s.
func benchBytes(b *testing.B, bytes int, run func()) {
	run() // warm up: V8 tiers a long-running wasm function up after its first calls
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run()
	}
	b.ReportMetric(float64(bytes)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

// benchUnary times op's forward pass without a gradient (inference: the
// output on a reused tape), with one (training: it records a node and gets
// a gradient buffer), and its backward pass alone, the recorded node run
// over and over. A unary op moves x and y forward; backward reads what it
// kept (read counts the tensors) and reads and writes ∂x.
func benchUnary(b *testing.B, op func(tp *Tape, x *Tensor) *Tensor, backwardReads int, shape ...int) {
	rng := newRNG(7)
	x := randTensor(rng, shape...)
	n := 4 * len(x.Data) // bytes per tensor
	b.Run("Forward", func(b *testing.B) {
		tp := NewTape()
		benchBytes(b, 2*n, func() { tp.Reset(); op(tp, x) })
	})
	xg := param(randTensor(rng, shape...))
	b.Run("ForwardTrain", func(b *testing.B) {
		tp := NewTape()
		benchBytes(b, 2*n, func() { tp.Reset(); op(tp, xg) })
	})
	b.Run("Backward", func(b *testing.B) {
		tp := NewTape()
		y := op(tp, xg)
		copy(y.Grad, randTensor(rng, shape...).Data)
		nd := &tp.nodes[len(tp.nodes)-1]
		benchBytes(b, (backwardReads+2)*n, func() { nd.backward(tp, nd) })
	})
}

func instanceNorm(tp *Tape, x *Tensor) *Tensor { return InstanceNorm2D(tp, x, nil, nil) }

// InstanceNorm2D's backward reads ∂y and x̂.
func BenchmarkInstanceNorm2D_32x128x128(b *testing.B) {
	benchUnary(b, instanceNorm, 2, 1, 32, 128, 128)
}
func BenchmarkInstanceNorm2D_128x32x32(b *testing.B) {
	benchUnary(b, instanceNorm, 2, 1, 128, 32, 32)
}

// ReLU's backward reads ∂y and x.
func BenchmarkReLU_32x128x128(b *testing.B) { benchUnary(b, ReLU, 2, 1, 32, 128, 128) }
func BenchmarkReLU_128x32x32(b *testing.B)  { benchUnary(b, ReLU, 2, 1, 128, 32, 32) }

// LeakyReLU at the size of the discriminator's second layer (ndf 64).
func BenchmarkLeakyReLU_128x32x32(b *testing.B) {
	benchUnary(b, func(tp *Tape, x *Tensor) *Tensor { return LeakyReLU(tp, x, 0.2) }, 2, 1, 128, 32, 32)
}

// ReflectionPad2D's backward reads ∂y only (y is larger than x by the
// border; the figure counts x's size twice).
func BenchmarkReflectionPad2D_128x32x32_pad1(b *testing.B) {
	benchUnary(b, func(tp *Tape, x *Tensor) *Tensor { return ReflectionPad2D(tp, x, 1) }, 1, 1, 128, 32, 32)
}

// Add is the residual sum: forward reads a and b and writes y; backward
// reads ∂y and adds it to ∂a and ∂b.
func BenchmarkAdd_128x32x32(b *testing.B) {
	rng := newRNG(8)
	shape := []int{1, 128, 32, 32}
	x, r := param(randTensor(rng, shape...)), param(randTensor(rng, shape...))
	n := 4 * len(x.Data)
	b.Run("Forward", func(b *testing.B) {
		a, c := randTensor(rng, shape...), randTensor(rng, shape...)
		tp := NewTape()
		benchBytes(b, 3*n, func() { tp.Reset(); Add(tp, a, c) })
	})
	b.Run("Backward", func(b *testing.B) {
		tp := NewTape()
		y := Add(tp, x, r)
		copy(y.Grad, randTensor(rng, shape...).Data)
		nd := &tp.nodes[len(tp.nodes)-1]
		benchBytes(b, 5*n, func() { nd.backward(tp, nd) })
	})
}

// Adam over 2²⁰ parameters (the ngf-32 generator has about 2 million):
// it reads θ, g, m, v and writes θ, m, v.
func BenchmarkAdam_1M(b *testing.B) {
	rng := newRNG(9)
	p := param(randTensor(rng, 1<<20))
	copy(p.Grad, randTensor(rng, 1<<20).Data)
	opt := NewAdam([]*Tensor{p}, 2e-4, 0.5, 0.999)
	benchBytes(b, 7*4*len(p.Data), opt.Step)
}
