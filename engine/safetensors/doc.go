// Package safetensors reads and writes the safetensors file format, the
// format PyTorch checkpoints are exchanged in (the CycleGAN weights this
// project loads and saves) and the format of this project's test fixtures.
//
// A file is an 8-byte little-endian header length N, N bytes of UTF-8 JSON
// describing every tensor (dtype, shape and the byte range it occupies),
// and the data buffer that those byte ranges tile. See Parse for the rules
// the reader enforces and Encode for the exact bytes the writer produces.
//
// The reader is strict and meant for untrusted input (a file uploaded to a
// web page, say): it never panics, it reports every problem as an error
// that wraps one of the exported sentinel errors (test with errors.Is), and
// it never allocates in proportion to a length the input merely claims.
// The header size is capped (Parser.MaxHeaderSize, 100 MB by default, as
// in the reference implementation); Parse keeps the tensors' bytes in the
// caller's buffer rather than copying them.
//
// The writer is deterministic: the same tensors and metadata give the same
// bytes, with tensors laid out in the order of their names and the header
// padded with spaces to a multiple of 8 bytes so that every tensor starts
// 8-byte aligned when the file is loaded at an aligned address.
//
// What it is not: a tensor library. A Tensor is raw little-endian bytes plus
// a dtype name and a shape; the only conversion offered is to and from
// []float32 (F32), the one dtype the project computes in. It does not
// memory-map files, does not stream tensors lazily (the whole file is held
// in memory), and knows nothing about model architectures or PyTorch state
// dict naming.
package safetensors
