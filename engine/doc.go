// Package engine is a small float32 tensor library with reverse-mode
// automatic differentiation, written for training CycleGAN on one CPU core
// (natively or inside a WebAssembly worker).
//
// It holds exactly what the CycleGAN reference needs and no more: a tensor
// with its memory layout exposed (NCHW, row-major, like image.RGBA exposes
// Pix and Stride), a tape that records operations and replays their
// gradients backwards, the primitive ops of the ResNet generator and the
// PatchGAN discriminator (Conv2D, ConvTranspose2D, ReflectionPad2D,
// InstanceNorm2D, ReLU, LeakyReLU, Tanh, Add, Scale, Mean, L1, MSE), the
// Adam optimiser and N(0, σ) initialisation.
//
// Every op lives in its own file with its forward and backward side by side,
// and matches the semantics of the PyTorch op of the same name. The fast
// kernels (im2col + a packed, register-blocked GEMM; Winograd F(2×2, 3×3)
// for the 3×3 stride-1 convolutions; the browser's direct kernels for
// convolutions with 3 output channels, its SIMD elementwise ops and Adam)
// each have a naive or scalar reference in the tree that the tests hold
// them to.
//
// What it is not: a general array library (no broadcasting, no views, no
// dtype other than float32) and it never touches JavaScript: the browser
// bridge lives in package wasm. Misuse (a shape mismatch, a missing
// gradient buffer) is a programming error and panics with a message
// prefixed "engine:"; there is no data-dependent failure inside the engine.
package engine
