package engine

// thinConvTable are convolutions with 3 output channels, stride 1 and no
// padding, which the browser's SIMD build runs with thinForward (rows of 16
// or more) and thinBackwardWeight (rows of 4 or more; other builds through
// the GEMM): rows of exactly 16 and of 37 (a last block of 16 overlapping
// the one before); rows of 8, 9 and 13 (the GEMM forward; for the weight
// gradient, whole vectors of 4 and a column after them), 1×1 to 7×7 kernels
// (kernel rows of 3, of 1 and of 3+3+1 columns for the weight gradient's
// blocks), 1 to 32 channels, with and without bias, two images; and rows
// too short for either kernel.
// TestConv2DMatchesNaive runs them.
var thinConvTable = []convCase{
	{name: "thin_7x7_32to3_row8", n: 1, c: 32, h: 10, w: 14, o: 3, kh: 7, kw: 7, s: 1, p: 0, bias: true},
	{name: "thin_7x7_4to3_row16", n: 1, c: 4, h: 8, w: 22, o: 3, kh: 7, kw: 7, s: 1, p: 0},             // one block of 16
	{name: "thin_7x7_8to3_row37", n: 2, c: 8, h: 9, w: 43, o: 3, kh: 7, kw: 7, s: 1, p: 0, bias: true}, // blocks of 16 at 0, 16 and 21 (overlapping)
	{name: "thin_7x7_5to3_row9", n: 2, c: 5, h: 9, w: 15, o: 3, kh: 7, kw: 7, s: 1, p: 0, bias: true},
	{name: "thin_3x3_1to3_row13", n: 1, c: 1, h: 6, w: 15, o: 3, kh: 3, kw: 3, s: 1, p: 0},
	{name: "thin_1x1_4to3_row20", n: 1, c: 4, h: 3, w: 20, o: 3, kh: 1, kw: 1, s: 1, p: 0, bias: true},    // blocks at 0 and 4
	{name: "thin_5x3_2to3_row7_gemmforward", n: 1, c: 2, h: 6, w: 9, o: 3, kh: 5, kw: 3, s: 1, p: 0},      // ow 7: the GEMM forward; the thin weight gradient with 3 columns after its vector
	{name: "thin_3x3_2to3_row3_gemm", n: 1, c: 2, h: 5, w: 5, o: 3, kh: 3, kw: 3, s: 1, p: 0, bias: true}, // ow 3: the GEMM for both
}
