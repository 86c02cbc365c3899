// Package cyclegan is CycleGAN (Zhu et al., arXiv 1703.10593) built on
// package engine, exactly as the official PyTorch implementation trains it:
// the ResNet generator, the 70×70 PatchGAN discriminator, the least-squares
// GAN loss with cycle weight 10 and identity weight 0.5, the image pool of
// 50, two Adam optimisers (2e-4, β1 0.5) and the linear learning-rate decay.
//
// It also holds what turns the model into a tool: the data pipeline (image
// folders to tensors, with the reference's resize, crop and flip), the
// trainer with its guard against non-finite steps, and checkpoints as
// safetensors files whose parameter names are the PyTorch state-dict keys,
// so weights move between this engine and the reference both ways.
//
// It is pure Go and runs natively and in WebAssembly alike; it never
// touches JavaScript (package wasm does) or the terminal (cmd/cyclegan does).
// Files, images and weight files are user data: problems with them are
// returned as errors that name the file and the reason.
package cyclegan
