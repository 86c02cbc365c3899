package engine

import "fmt"

// ReflectionPad2D pads every image plane by reflecting it about its edge
// (the edge pixel itself is not repeated), as PyTorch's
// torch.nn.ReflectionPad2d (https://pytorch.org/docs/stable/generated/torch.nn.ReflectionPad2d.html):
//
//	x [N, C, H, W] → y [N, C, H+2p, W+2p]
//	y[n,c,i,j] = x[n,c, r(i−p, H), r(j−p, W)],  r(k, L) = |k| reflected back inside [0, L)
//
// The padding must be smaller than H and W. Backward adds every output
// gradient to the input pixel it was copied from, so a border pixel gathers
// the gradients of its reflections as well as its own.
func ReflectionPad2D(tp *Tape, x *Tensor, pad int) *Tensor {
	n, c, h, w := x.Dims()
	if pad < 0 || pad >= h || pad >= w {
		panic(fmt.Sprintf("engine: ReflectionPad2D: padding %d needs an input larger than %v", pad, x))
	}
	oh, ow := h+2*pad, w+2*pad
	y := tp.output([]int{n, c, oh, ow}, x)
	for p := 0; p < n*c; p++ {
		src := x.Data[p*h*w : (p+1)*h*w]
		dst := y.Data[p*oh*ow : (p+1)*oh*ow]
		for i := 0; i < oh; i++ {
			srow := src[reflect(i-pad, h)*w:][:w]
			drow := dst[i*ow : (i+1)*ow]
			copy(drow[pad:pad+w], srow)
			for j := 0; j < pad; j++ {
				drow[j] = srow[pad-j]       // reflect(j−pad) = pad−j
				drow[pad+w+j] = srow[w-2-j] // reflect(w+j) = w−2−j
			}
		}
	}
	if !y.RequiresGrad {
		return y
	}
	tp.record(node{backward: reflectionPad2DBackward, a: x, out: y, k: pad})
	return y
}

// reflectionPad2DBackward is ReflectionPad2D's backward pass: a = x, k = pad.
func reflectionPad2DBackward(_ *Tape, nd *node) {
	x, y, pad := nd.a, nd.out, nd.k
	if !needsGrad(x) {
		return
	}
	n, c, h, w := x.Dims()
	oh, ow := h+2*pad, w+2*pad
	for p := 0; p < n*c; p++ {
		dx := x.Grad[p*h*w : (p+1)*h*w]
		dy := y.Grad[p*oh*ow : (p+1)*oh*ow]
		for i := 0; i < oh; i++ {
			xrow := dx[reflect(i-pad, h)*w:][:w]
			yrow := dy[i*ow : (i+1)*ow]
			addTo(xrow, yrow[pad:pad+w])
			for j := 0; j < pad; j++ {
				xrow[pad-j] += yrow[j]
				xrow[w-2-j] += yrow[pad+w+j]
			}
		}
	}
}

// reflect maps k ∈ [−(L−1), 2L−2] to its reflection inside [0, L).
func reflect(k, l int) int {
	if k < 0 {
		return -k
	}
	if k >= l {
		return 2*(l-1) - k
	}
	return k
}
