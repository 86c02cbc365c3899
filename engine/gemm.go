package engine

import (
	"runtime"
	"sync"
)

// Blocking of the packed GEMM. A micro-tile of C is gemmMR×gemmNR and lives
// in 32 local accumulators; an A block of gemmMC×gemmKC (64 KiB) stays in L2
// while it meets every B panel of a gemmKC×gemmNC block (512 KiB).
const (
	gemmMR = 4
	gemmNR = 8
	gemmKC = 256
	gemmMC = 64
	gemmNC = 512
)

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
	workers := runtime.GOMAXPROCS(0)
	if workers == 1 || float64(m)*float64(n)*float64(k) < gemmParallelMACs {
		ws := gemmWorkspaces.Get().(*gemmWorkspace)
		gemmSerial(ws, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate)
		gemmWorkspaces.Put(ws)
		return
	}
	gemmParallel(workers, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate)
}

// gemmParallelMACs is the size below which a product is not worth
// splitting across goroutines (a goroutine costs about a microsecond).
const gemmParallelMACs = 1 << 20

// gemmParallel splits C into bands along its longer side, one per worker,
// each computed by gemmSerial with its own packing buffers on one of the
// long-lived gemm goroutines (so a product allocates nothing). Natively this
// uses every core; in WebAssembly GOMAXPROCS is 1 and it is never called.
func gemmParallel(workers int, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	startGemmWorkers.Do(func() {
		for i := 0; i < runtime.GOMAXPROCS(0); i++ {
			go gemmWorker()
		}
	})
	wg := gemmWaitGroups.Get().(*sync.WaitGroup)
	defer gemmWaitGroups.Put(wg)
	job := gemmJob{transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate, wg: wg}
	if n >= m {
		step := (n/workers + gemmNR - 1) / gemmNR * gemmNR
		for j0 := 0; j0 < n; j0 += step {
			band := job
			band.n = min(step, n-j0)
			if transB {
				band.b = b[j0*ldb:] // op(B)[:, j0:] starts at row j0 of a transposed b …
			} else {
				band.b = b[j0:] // … or at column j0 of a plain one
			}
			band.c = c[j0:]
			wg.Add(1)
			gemmJobs <- band
		}
	} else {
		step := (m/workers + gemmMR - 1) / gemmMR * gemmMR
		for i0 := 0; i0 < m; i0 += step {
			band := job
			band.m = min(step, m-i0)
			if transA {
				band.a = a[i0:]
			} else {
				band.a = a[i0*lda:]
			}
			band.c = c[i0*ldc:]
			wg.Add(1)
			gemmJobs <- band
		}
	}
	wg.Wait()
}

// gemmJob is one band of a parallel product.
type gemmJob struct {
	transA, transB bool
	m, n, k        int
	a              []float32
	lda            int
	b              []float32
	ldb            int
	c              []float32
	ldc            int
	accumulate     bool
	wg             *sync.WaitGroup
}

var (
	gemmJobs         = make(chan gemmJob, 64)
	startGemmWorkers sync.Once
	gemmWaitGroups   = sync.Pool{New: func() any { return new(sync.WaitGroup) }}
)

func gemmWorker() {
	ws := &gemmWorkspace{packedA: make([]float32, gemmMC*gemmKC), packedB: make([]float32, gemmKC*gemmNC)}
	for j := range gemmJobs {
		gemmSerial(ws, j.transA, j.transB, j.m, j.n, j.k, j.a, j.lda, j.b, j.ldb, j.c, j.ldc, j.accumulate)
		j.wg.Done()
	}
}

// gemmWorkspace holds the packed panels of one GEMM in flight.
type gemmWorkspace struct {
	packedA []float32                // gemmMC×gemmKC, in gemmMR-row panels
	packedB []float32                // gemmKC×gemmNC, in gemmNR-column panels
	edge    [gemmMR * gemmNR]float32 // a partial tile of C at the matrix edge
}

var gemmWorkspaces = sync.Pool{New: func() any {
	return &gemmWorkspace{
		packedA: make([]float32, gemmMC*gemmKC),
		packedB: make([]float32, gemmKC*gemmNC),
	}
}}

func gemmSerial(ws *gemmWorkspace, transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	edge := ws.edge[:]
	for jc := 0; jc < n; jc += gemmNC {
		nc := min(gemmNC, n-jc)
		for pc := 0; pc < k; pc += gemmKC {
			kc := min(gemmKC, k-pc)
			packB(transB, b, ldb, pc, kc, jc, nc, ws.packedB)
			// The first k-block overwrites C unless the caller accumulates.
			overwrite := pc == 0 && !accumulate
			for ic := 0; ic < m; ic += gemmMC {
				mc := min(gemmMC, m-ic)
				packA(transA, a, lda, ic, mc, pc, kc, ws.packedA)
				for jr := 0; jr < nc; jr += gemmNR {
					nr := min(gemmNR, nc-jr)
					bp := ws.packedB[jr*kc : (jr+gemmNR)*kc]
					for ir := 0; ir < mc; ir += gemmMR {
						mr := min(gemmMR, mc-ir)
						ap := ws.packedA[ir*kc : (ir+gemmMR)*kc]
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

// packA copies op(A)[i0:i0+mc, p0:p0+kc] into dst as panels of gemmMR rows,
// each panel stored p-major (dst[panel*gemmMR*kc + p*gemmMR + i]), padding
// missing rows with zeros.
func packA(transA bool, a []float32, lda, i0, mc, p0, kc int, dst []float32) {
	for ir := 0; ir < mc; ir += gemmMR {
		panel := dst[ir*kc : (ir+gemmMR)*kc]
		mr := min(gemmMR, mc-ir)
		if transA {
			// op(A)[i,p] = a[p*lda+i]: the gemmMR values of one p are adjacent.
			for p := 0; p < kc; p++ {
				src := a[(p0+p)*lda+i0+ir:]
				d := panel[p*gemmMR : p*gemmMR+gemmMR]
				if mr == gemmMR {
					d[0], d[1], d[2], d[3] = src[0], src[1], src[2], src[3]
					continue
				}
				for i := range d {
					if i < mr {
						d[i] = src[i]
					} else {
						d[i] = 0
					}
				}
			}
			continue
		}
		for i := 0; i < gemmMR; i++ {
			if i >= mr {
				for p := 0; p < kc; p++ {
					panel[p*gemmMR+i] = 0
				}
				continue
			}
			src := a[(i0+ir+i)*lda+p0 : (i0+ir+i)*lda+p0+kc]
			for p, v := range src {
				panel[p*gemmMR+i] = v
			}
		}
	}
}

// packB copies op(B)[p0:p0+kc, j0:j0+nc] into dst as panels of gemmNR
// columns, each panel stored p-major (dst[panel*gemmNR*kc + p*gemmNR + j]),
// padding missing columns with zeros.
func packB(transB bool, b []float32, ldb, p0, kc, j0, nc int, dst []float32) {
	for jr := 0; jr < nc; jr += gemmNR {
		panel := dst[jr*kc : (jr+gemmNR)*kc]
		nr := min(gemmNR, nc-jr)
		if !transB {
			for p := 0; p < kc; p++ {
				src := b[(p0+p)*ldb+j0+jr:]
				d := panel[p*gemmNR : p*gemmNR+gemmNR]
				if nr == gemmNR {
					// Eight assignments, not copy: a memmove call per eight
					// floats costs more than the move in WebAssembly.
					s := src[:gemmNR:gemmNR]
					d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
					continue
				}
				n := copy(d[:nr], src)
				clear(d[n:])
			}
			continue
		}
		// op(B)[p,j] = b[j*ldb+p]: one column of op(B) is a row of b.
		for j := 0; j < gemmNR; j++ {
			if j >= nr {
				for p := 0; p < kc; p++ {
					panel[p*gemmNR+j] = 0
				}
				continue
			}
			src := b[(j0+jr+j)*ldb+p0 : (j0+jr+j)*ldb+p0+kc]
			for p, v := range src {
				panel[p*gemmNR+j] = v
			}
		}
	}
}
