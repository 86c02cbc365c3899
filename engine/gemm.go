package engine

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Blocking of the packed GEMM. A micro-tile of C is gemmMR×gemmNR and lives
// in local accumulators; an A block of gemmMC×gemmKC (64 KiB, or 256 KiB
// where the kernel wants A pre-broadcast, see gemmAStep) stays in L2 while
// it meets every B panel of a gemmKC×gemmNC block (512 KiB).
const (
	gemmMR = 4
	gemmNR = 8
	gemmKC = 256
	gemmMC = 64
	gemmNC = 512
)

// gemmA is the left factor op(A) of a product, m×k: a row-major matrix,
//
//	op(A)[i,p] = a[i*ld+p], or a[p*ld+i] when trans,
//
// or, when flip is set, the weight w [g.o, g.c, g.kh, g.kw] of the
// convolution g read as the weight of the full convolution that gives its
// input gradient (see convGeometry.backwardInput):
//
//	op(A)[ic, (o·kh+ky)·kw+kx] = w[o, ic, kh−1−ky, kw−1−kx]
type gemmA struct {
	a     []float32
	ld    int
	trans bool
	flip  bool
	g     convGeometry
}

// gemmB is the right factor op(B) of a product, k×n: a row-major matrix,
//
//	op(B)[p,j] = b[p*ld+j], or b[j*ld+p] when trans,
//
// or, when im2col is set, the column matrix of the image b [g.c, g.h, g.w]
// for the convolution g (see im2colNaive), or its transpose when trans:
//
//	op(B)[(c·kh+ky)·kw+kx, oy·ow+ox] = b[c, oy·s−p+ky, ox·s−p+kx]  (0 outside)
//
// The packing reads the image directly, so the column matrix, kh·kw times
// the image, is never written out.
type gemmB struct {
	b      []float32
	ld     int
	trans  bool
	im2col bool
	g      convGeometry
}

// gemm computes C = op(A)·op(B), or C += op(A)·op(B) when accumulate is set,
// with op(A) m×k and op(B) k×n, all row-major:
//
//	op(A)[i,p] = a[i*lda+p], or a[p*lda+i] when transA
//	op(B)[p,j] = b[p*ldb+j], or b[j*ldb+p] when transB
//	C[i,j]     = c[i*ldc+j]
//
// It packs blocks of A and B into contiguous panels and runs a register-
// blocked micro-kernel over them (the BLIS scheme), so transposed operands
// cost no more than plain ones. The slow but obviously correct version is
// gemmNaive; the tests hold the two together.
func gemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	gemmOperands(gemmA{a: a, ld: lda, trans: transA}, gemmB{b: b, ld: ldb, trans: transB}, m, n, k, c, ldc, accumulate)
}

// gemmOperands is gemm for factors given as operands, which may be read
// through a convolution (im2col, or a flipped weight) rather than stored.
func gemmOperands(a gemmA, b gemmB, m, n, k int, c []float32, ldc int, accumulate bool) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if !accumulate {
			for i := 0; i < m; i++ {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	job := gemmJob{a: a, b: b, m: m, n: n, k: k, c: c, ldc: ldc, accumulate: accumulate}
	workers := runtime.GOMAXPROCS(0)
	if workers == 1 || float64(m)*float64(n)*float64(k) < gemmParallelMACs {
		ws := gemmWorkspaces.get()
		gemmSerial(ws, &job)
		gemmWorkspaces.put(ws)
		return
	}
	gemmParallel(workers, job)
}

// gemmParallelMACs is the size below which a product is not worth
// splitting across goroutines (a goroutine costs about a microsecond).
const gemmParallelMACs = 1 << 20

// gemmParallel splits C into bands along its longer side, one per core,
// each computed by gemmSerial with its own packing buffers: the caller
// computes one band and the long-lived gemm goroutines the others (so a
// product allocates nothing). Natively this uses every core; in
// WebAssembly GOMAXPROCS is 1 and it is never called.
//
// Nobody parks here while a training step runs. A parked goroutine needs a
// wait record (a runtime sudog) from its core's cache; the caches drift
// from core to core as goroutines wake up elsewhere, and a core whose cache
// has run dry after a garbage collection emptied the shared one allocates
// a new record. With the caller parked on a sync.WaitGroup and the gemm
// goroutines on the channel, 5 of 8 five-step runs of preset S allocated
// 22–134 B per step. So the caller computes a band itself, then takes back
// any band no gemm goroutine has started and polls for the rest, and an
// idle gemm goroutine polls for the next band for up to gemmWorkerSpin
// before it parks (nextGemmJob); 0 of 8 runs allocated, and a step took
// 0.385 s against 0.512 (medians, side by side). Polling yields to the
// process's goroutines but not to other processes, so while another
// process keeps a core busy a step is slower than with parking (0.87 s
// against 0.60): the usual price of spinning BLAS threads (MKL's default
// KMP_BLOCKTIME spins for 200 ms).
func gemmParallel(workers int, job gemmJob) {
	startGemmWorkers.Do(func() {
		gemmWorkerCount = max(1, runtime.GOMAXPROCS(0)-1)
		for i := 0; i < gemmWorkerCount; i++ {
			go gemmWorker()
		}
	})
	bands := min(workers, gemmWorkerCount+1)
	pending := gemmCounters.get()
	defer gemmCounters.put(pending)
	job.pending = pending
	var own gemmJob
	if job.n >= job.m {
		step := (job.n/bands + gemmNR - 1) / gemmNR * gemmNR
		for j0 := 0; j0 < job.n; j0 += step {
			band := job
			band.j0, band.n = j0, min(step, job.n-j0)
			band.c = job.c[j0:]
			own = dispatchGemmBand(own, band, j0+step >= job.n)
		}
	} else {
		step := (job.m/bands + gemmMR - 1) / gemmMR * gemmMR
		for i0 := 0; i0 < job.m; i0 += step {
			band := job
			band.i0, band.m = i0, min(step, job.m-i0)
			band.c = job.c[i0*job.ldc:]
			own = dispatchGemmBand(own, band, i0+step >= job.m)
		}
	}
	ws := gemmWorkspaces.get()
	defer gemmWorkspaces.put(ws)
	gemmSerial(ws, &own)
	for pending.Load() != 0 {
		select {
		case j := <-gemmJobs: // a band no gemm goroutine has started: its goroutine is busy, or descheduled
			gemmSerial(ws, &j)
			j.pending.Add(-1)
		default:
			runtime.Gosched()
		}
	}
}

// dispatchGemmBand hands band to the gemm goroutines, or, for the last
// band, returns it for the caller to compute (own otherwise).
func dispatchGemmBand(own, band gemmJob, last bool) gemmJob {
	if last {
		return band
	}
	band.pending.Add(1)
	gemmJobs <- band
	return own
}

// gemmWorkerSpin is how long an idle gemm goroutine keeps polling for the
// next band before it parks. Between two products of a training step the
// engine runs other ops for at most a few tens of milliseconds (measured:
// the longest gap of a step of S or M was under 51 ms, most under 2 ms),
// so in a step the goroutines do not park; after it they stop using the
// core this long after the last product.
const gemmWorkerSpin = 50 * time.Millisecond

// gemmJob is one product, or one band of a parallel one: C (c, m×n) gets
// op(A)[i0:i0+m, :] · op(B)[:, j0:j0+n].
type gemmJob struct {
	a          gemmA
	b          gemmB
	i0, j0     int
	m, n, k    int
	c          []float32
	ldc        int
	accumulate bool
	pending    *atomic.Int32 // bands of the product still being computed by gemm goroutines
}

var (
	gemmJobs         = make(chan gemmJob, 64)
	startGemmWorkers sync.Once
	gemmWorkerCount  int // gemm goroutines, one fewer than the cores (the caller computes a band too)
	gemmCounters     = freeList[atomic.Int32]{new: func() *atomic.Int32 { return new(atomic.Int32) }}
)

func gemmWorker() {
	ws := newGemmWorkspace()
	for {
		j := nextGemmJob()
		gemmSerial(ws, &j)
		j.pending.Add(-1)
	}
}

// nextGemmJob returns the next band to compute: it polls for one, yielding
// the core between polls, and parks on the channel only once none has come
// for gemmWorkerSpin (see gemmParallel for why).
func nextGemmJob() gemmJob {
	deadline := time.Now().Add(gemmWorkerSpin)
	for {
		select {
		case j := <-gemmJobs:
			return j
		default:
		}
		if time.Now().After(deadline) {
			return <-gemmJobs
		}
		runtime.Gosched()
	}
}

// gemmWorkspace holds the packed panels of one GEMM in flight.
type gemmWorkspace struct {
	packedA []float32                // gemmMC×gemmKC, in gemmMR-row panels of gemmAStep floats per p
	packedB []float32                // gemmKC×gemmNC, in gemmNR-column panels bPanelStride apart
	rows    []float32                // gemmNR·gemmKC ≥ gemmNC floats: op(B) on its way into a panel
	edge    [gemmMR * gemmNR]float32 // a partial tile of C at the matrix edge
	wholeA  []float32                // all of op(A) packed, when it is reused (see gemmSerial)
}

func newGemmWorkspace() *gemmWorkspace {
	return &gemmWorkspace{
		packedA: make([]float32, gemmMC*gemmKC*gemmAStep/gemmMR),
		packedB: make([]float32, gemmNC/gemmNR*bPanelStride(gemmKC)),
		rows:    make([]float32, gemmNR*gemmKC),
	}
}

var gemmWorkspaces = freeList[gemmWorkspace]{new: newGemmWorkspace}

// gemmWholeAMax is the largest packed op(A), in floats, that gemmSerial
// keeps whole rather than packing it again for each block of gemmNC columns
// of C: 16 MiB, more than any layer of the generator needs.
const gemmWholeAMax = 1 << 22

func gemmSerial(ws *gemmWorkspace, job *gemmJob) {
	m, n, k, c, ldc := job.m, job.n, job.k, job.c, job.ldc
	edge := ws.edge[:]
	// When C is wider than one block, every block of columns meets all of
	// op(A) again: pack it once (block (pc, ic) at offset (pc·mPad + ic·kc)
	// in gemmMR-row panels) instead of once per block. A convolution's op(A)
	// is its weight, small next to its image, so this costs little memory.
	mPad := (m + gemmMR - 1) / gemmMR * gemmMR
	wholeA := n > gemmNC && mPad*k*gemmAStep/gemmMR <= gemmWholeAMax
	if wholeA && len(ws.wholeA) < mPad*k*gemmAStep/gemmMR {
		ws.wholeA = make([]float32, mPad*k*gemmAStep/gemmMR)
	}
	for jc := 0; jc < n; jc += gemmNC {
		nc := min(gemmNC, n-jc)
		for pc := 0; pc < k; pc += gemmKC {
			kc := min(gemmKC, k-pc)
			packB(&job.b, pc, kc, job.j0+jc, nc, ws.packedB, ws.rows)
			// The first k-block overwrites C unless the caller accumulates.
			overwrite := pc == 0 && !job.accumulate
			for ic := 0; ic < m; ic += gemmMC {
				mc := min(gemmMC, m-ic)
				packedA := ws.packedA
				if wholeA {
					packedA = ws.wholeA[(pc*mPad+ic*kc)*gemmAStep/gemmMR:]
				}
				if !wholeA || jc == 0 {
					packA(&job.a, job.i0+ic, mc, pc, kc, packedA)
				}
				for jr := 0; jr < nc; jr += gemmNR {
					nr := min(gemmNR, nc-jr)
					bp := ws.packedB[jr/gemmNR*bPanelStride(kc):][:gemmNR*kc]
					for ir := 0; ir < mc; ir += gemmMR {
						mr := min(gemmMR, mc-ir)
						ap := packedA[ir*kc*gemmAStep/gemmMR : (ir+gemmMR)*kc*gemmAStep/gemmMR]
						ci := (ic+ir)*ldc + jc + jr
						if mr == gemmMR && nr == gemmNR {
							microKernel(kc, ap, bp, c[ci:], ldc, overwrite)
							continue
						}
						// A partial tile at the matrix edge: compute the full
						// tile into a temporary and copy the part that exists.
						microKernel(kc, ap, bp, edge, gemmNR, true)
						for i := 0; i < mr; i++ {
							row := c[ci+i*ldc : ci+i*ldc+nr]
							if overwrite {
								copy(row, edge[i*gemmNR:i*gemmNR+nr])
							} else {
								for j := range row {
									row[j] += edge[i*gemmNR+j]
								}
							}
						}
					}
				}
			}
		}
	}
}

// gemmZeros stands in for the missing rows of a partial A panel.
var gemmZeros [gemmKC]float32

// packA copies op(A)[i0:i0+mc, p0:p0+kc] into dst as panels of gemmMR rows,
// each panel stored p-major, gemmAStep floats per p (packAStep), padding
// missing rows with zeros.
func packA(a *gemmA, i0, mc, p0, kc int, dst []float32) {
	for ir := 0; ir < mc; ir += gemmMR {
		panel := dst[ir*kc*gemmAStep/gemmMR : (ir+gemmMR)*kc*gemmAStep/gemmMR]
		mr := min(gemmMR, mc-ir)
		i := i0 + ir
		switch {
		case a.flip:
			packAFlipped(a, i, mr, p0, kc, panel)
		case a.trans:
			// op(A)[i,p] = a[p*ld+i]: the gemmMR values of one p are adjacent.
			for p := 0; p < kc; p++ {
				src := a.a[(p0+p)*a.ld+i:]
				d := panel[p*gemmAStep:]
				if mr == gemmMR {
					s := src[:gemmMR:gemmMR]
					packAStep(d, s[0], s[1], s[2], s[3])
					continue
				}
				var v [gemmMR]float32
				copy(v[:mr], src)
				packAStep(d, v[0], v[1], v[2], v[3])
			}
		default:
			// Read the gemmMR rows side by side, so dst fills in order.
			var rows [gemmMR][]float32
			for r := range rows {
				if r < mr {
					rows[r] = a.a[(i+r)*a.ld+p0 : (i+r)*a.ld+p0+kc]
				} else {
					rows[r] = gemmZeros[:kc]
				}
			}
			r0, r1, r2, r3 := rows[0], rows[1][:len(rows[0])], rows[2][:len(rows[0])], rows[3][:len(rows[0])]
			for p := range r0 {
				packAStep(panel[p*gemmAStep:], r0[p], r1[p], r2[p], r3[p])
			}
		}
	}
}

// packAFlipped is packA for a flipped convolution weight (gemmA.flip):
// rows ic0…ic0+mr−1, columns q = p0…p0+kc−1 of
// op(A)[ic, q] = w[o, ic, kh−1−ky, kw−1−kx] with q = (o·kh+ky)·kw+kx.
// For each o the kh·kw weights of one channel are adjacent in w, read
// backwards.
func packAFlipped(a *gemmA, ic0, mr, p0, kc int, panel []float32) {
	khw := a.g.kh * a.g.kw
	o, r := p0/khw, p0%khw
	for p := 0; p < kc; o, r = o+1, 0 {
		// w[o, ic, kh−1−ky, kw−1−kx] = w[(o·c+ic)·khw + khw−1−r], r = ky·kw+kx.
		var rows [gemmMR][]float32
		for i := range rows {
			if i < mr {
				rows[i] = a.a[(o*a.g.c+ic0+i)*khw : (o*a.g.c+ic0+i+1)*khw]
			} else {
				// A missing row of the panel only feeds rows of an edge
				// tile that are never stored: any finite values do.
				rows[i] = rows[0]
			}
		}
		r0, r1, r2, r3 := rows[0], rows[1][:len(rows[0])], rows[2][:len(rows[0])], rows[3][:len(rows[0])]
		for ; r < khw && p < kc; r, p = r+1, p+1 {
			t := khw - 1 - r
			packAStep(panel[p*gemmAStep:], r0[t], r1[t], r2[t], r3[t])
		}
	}
}

// bPanelStride is the distance between the B panels of kc steps in
// packedB: a panel and a cache line. Packing writes step p of every panel
// in turn; were panels a multiple of 4 KiB apart (kc a multiple of 128),
// all those stores would fall into one set of the L1 cache and evict each
// other (measured: packing a 256×512 block took twice as long).
func bPanelStride(kc int) int { return kc*gemmNR + 16 }

// packB copies op(B)[p0:p0+kc, j0:j0+nc] into dst as panels of gemmNR
// columns, bPanelStride(kc) apart, each stored p-major
// (dst[panel*bPanelStride(kc) + p*gemmNR + j]),
// padding missing columns with zeros. rows is scratch for gemmNR·kc floats.
func packB(b *gemmB, p0, kc, j0, nc int, dst, rows []float32) {
	switch {
	case b.im2col && !b.trans:
		packBIm2col(&b.g, b.b, p0, kc, j0, nc, dst, rows)
		return
	case !b.trans:
		// Row p of op(B) is cut into runs of gemmNR, one per panel.
		for p := 0; p < kc; p++ {
			src := b.b[(p0+p)*b.ld+j0 : (p0+p)*b.ld+j0+nc]
			off := scatter8(dst[p*gemmNR:], 0, bPanelStride(kc), src)
			if tail := src[nc/gemmNR*gemmNR:]; len(tail) > 0 {
				d := dst[p*gemmNR+off : p*gemmNR+off+gemmNR]
				clear(d[copy(d, tail):])
			}
		}
		return
	}
	// A column of op(B) is a row of b, or a row of the column matrix:
	// gather gemmNR of them, gemmKC apart in rows, and interleave them into
	// the panel.
	for jr := 0; jr < nc; jr += gemmNR {
		nr := min(gemmNR, nc-jr)
		for j := 0; j < gemmNR; j++ {
			col := rows[j*gemmKC : j*gemmKC+kc]
			switch {
			case j >= nr:
				clear(col)
			case b.im2col:
				b.g.colRow(b.b, j0+jr+j, p0, col)
			default:
				copy(col, b.b[(j0+jr+j)*b.ld+p0:])
			}
		}
		interleave8(dst[jr/gemmNR*bPanelStride(kc):][:gemmNR*kc], rows)
	}
}

// interleave8 writes dst[p·8+j] = rows[j·gemmKC+p] for the gemmNR rows
// j and the len(dst)/8 columns p: a transpose with every offset but p a
// constant, so the loop keeps only two pointers live.
func interleave8(dst, rows []float32) {
	r := (*[gemmNR * gemmKC]float32)(rows)
	for p := 0; p < len(dst)/gemmNR && p < gemmKC; p++ {
		d := (*[gemmNR]float32)(dst[p*gemmNR:])
		d[0], d[1], d[2], d[3] = r[p], r[gemmKC+p], r[2*gemmKC+p], r[3*gemmKC+p]
		d[4], d[5], d[6], d[7] = r[4*gemmKC+p], r[5*gemmKC+p], r[6*gemmKC+p], r[7*gemmKC+p]
	}
}

// scatter8 copies src, whole runs of gemmNR floats, to dst[off:],
// dst[off+step:], dst[off+2·step:], … and returns the offset after the
// last run. Four runs an iteration, since a loop iteration in WebAssembly
// costs about as much as a run.
func scatter8(dst []float32, off, step int, src []float32) int {
	for ; len(src) >= 4*gemmNR; src = src[4*gemmNR:] {
		s := (*[4 * gemmNR]float32)(src)
		copy8(dst[off:], s[0:gemmNR])
		copy8(dst[off+step:], s[gemmNR:2*gemmNR])
		copy8(dst[off+2*step:], s[2*gemmNR:3*gemmNR])
		copy8(dst[off+3*step:], s[3*gemmNR:4*gemmNR])
		off += 4 * step
	}
	for ; len(src) >= gemmNR; src = src[gemmNR:] {
		copy8(dst[off:], src)
		off += step
	}
	return off
}

// packBIm2col is packB for the column matrix of the image x (gemmB.im2col,
// not transposed): row p of a panel is gemmNR consecutive output pixels of
// one (c, ky, kx). When every output row reads whole runs of gemmNR
// adjacent input pixels (stride 1, no padding across the row, rows and the
// block made of whole runs), the runs move straight from the image; else the
// row of the column matrix is built in rows (nc floats) first and then cut
// into the panels.
func packBIm2col(g *convGeometry, x []float32, p0, kc, j0, nc int, dst, rows []float32) {
	khw, hw := g.kh*g.kw, g.h*g.w
	ic, r := p0/khw, p0%khw
	oy0, ox0 := j0/g.ow, j0%g.ow
	step := bPanelStride(kc)
	for p := 0; p < kc; p++ {
		ky, kx := r/g.kw, r%g.kw
		plane := x[ic*hw : (ic+1)*hw]
		lo, hi := validRange(kx, g.pad, g.stride, g.w, g.ow)
		d := dst[p*gemmNR:]
		if g.stride == 1 && lo == 0 && hi == g.ow && g.ow%gemmNR == 0 && ox0%gemmNR == 0 && nc%gemmNR == 0 {
			off := 0
			for j, oy, ox := 0, oy0, ox0; j < nc; j, oy, ox = j+g.ow-ox, oy+1, 0 {
				n := min(g.ow-ox, nc-j)
				iy := oy - g.pad + ky
				if iy < 0 || iy >= g.h {
					for ; n > 0; n -= gemmNR {
						clear(d[off : off+gemmNR])
						off += step
					}
					continue
				}
				off = scatter8(d, off, step, plane[iy*g.w+ox-g.pad+kx:][:n])
			}
		} else {
			row := rows[:nc]
			g.colSpan(plane, ky, kx, lo, hi, oy0, ox0, row)
			off := scatter8(d, 0, step, row)
			if tail := row[nc/gemmNR*gemmNR:]; len(tail) > 0 {
				n := copy(d[off:off+gemmNR], tail)
				clear(d[off+n : off+gemmNR])
			}
		}
		if r++; r == khw {
			ic, r = ic+1, 0
		}
	}
}
