package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/cyclegan-wasm/cyclegan/cyclegan"
)

func runTrain(args []string) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	def := cyclegan.DefaultConfig()
	dirA := fs.String("a", "", "domain A: a folder of images, or a dataset root holding trainA/ and trainB/")
	dirB := fs.String("b", "", "domain B: a folder of images (not needed with a dataset root)")
	size := fs.Int("size", 256, "training crop size in pixels (a multiple of 4)")
	load := fs.Int("load", 0, "resize images to this size before cropping (default size·286/256)")
	noFlip := fs.Bool("no-flip", false, "no random horizontal flips")
	ngf := fs.Int("ngf", def.NGF, "generator width")
	blocks := fs.Int("blocks", def.Blocks, "residual blocks in the generator")
	ndf := fs.Int("ndf", def.NDF, "discriminator width")
	dLayers := fs.Int("dlayers", def.DLayers, "strided layers of the PatchGAN discriminator")
	identity := fs.Float64("identity", def.LambdaIdentity, "identity loss weight relative to the cycle weight (0 disables)")
	lambda := fs.Float64("lambda", def.LambdaA, "cycle loss weight")
	pool := fs.Int("pool", def.PoolSize, "image pool size (0 disables)")
	lr := fs.Float64("lr", def.LR, "Adam learning rate")
	iters := fs.Int("iters", 10000, "total training iterations")
	decay := fs.Int("decay", -1, "iterations of linear learning-rate decay at the end (default: half of -iters)")
	seed := fs.Uint64("seed", 1, "random seed (weights, data order, augmentation, pool)")
	out := fs.String("out", "cyclegan.safetensors", "checkpoint file to write")
	resume := fs.String("resume", "", "resume from this checkpoint (its configuration wins over the flags)")
	every := fs.Int("every", 500, "write a checkpoint every N iterations")
	snapshots := fs.Bool("snapshots", false, "also keep each periodic checkpoint as OUT.iterN.safetensors")
	logEvery := fs.Duration("log", 2*time.Second, "how often to print progress")
	csvPath := fs.String("csv", "", "append every iteration's losses to this CSV file")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the training loop to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dirA == "" {
		return errors.New("-a is required (a folder of domain A images, or a dataset root)")
	}
	a, b, err := cyclegan.ResolveDomains(*dirA, *dirB)
	if err != nil {
		return err
	}

	var s *cyclegan.Session
	if *resume != "" {
		ckpt, err := os.ReadFile(*resume)
		if err != nil {
			return err
		}
		if s, err = cyclegan.ResumeSession(ckpt, a, b); err != nil {
			return fmt.Errorf("resume %s: %w", *resume, err)
		}
		if s.DataChanged {
			fmt.Fprintln(os.Stderr, "warning: the folders differ from the checkpoint's; resuming the weights on a fresh data order")
		}
		fmt.Printf("resumed %s at iteration %d\n", *resume, s.Trainer.Iteration)
	} else {
		cfg := def
		cfg.CropSize = *size
		cfg.LoadSize = *load
		if cfg.LoadSize == 0 {
			cfg.LoadSize = cyclegan.DefaultAugment(*size).LoadSize
		}
		cfg.Flip = !*noFlip
		cfg.NGF, cfg.Blocks, cfg.NDF, cfg.DLayers = *ngf, *blocks, *ndf, *dLayers
		cfg.LambdaA, cfg.LambdaB, cfg.LambdaIdentity = *lambda, *lambda, *identity
		cfg.PoolSize, cfg.LR, cfg.Seed = *pool, *lr, *seed
		cfg.DecayIters = *decay
		if cfg.DecayIters < 0 {
			cfg.DecayIters = *iters / 2
		}
		cfg.ConstantIters = max(0, *iters-cfg.DecayIters)
		if s, err = cyclegan.NewSession(cfg, a, b); err != nil {
			return err
		}
	}
	cfg := s.Trainer.Config
	total := cfg.ConstantIters + cfg.DecayIters
	fmt.Printf("A: %s (%d files)  B: %s (%d files)\n", a.Dir, a.Len(), b.Dir, b.Len())
	fmt.Printf("config: %d px (load %d), ngf %d, %d blocks, ndf %d, identity %g, pool %d, lr %g, %d+%d iterations, seed %d, %d cores\n",
		cfg.CropSize, cfg.LoadSize, cfg.NGF, cfg.Blocks, cfg.NDF, cfg.LambdaIdentity, cfg.PoolSize, cfg.LR,
		cfg.ConstantIters, cfg.DecayIters, cfg.Seed, runtime.GOMAXPROCS(0))
	s.Sampler.OnSkip = func(sk cyclegan.Skipped) {
		fmt.Fprintf(os.Stderr, "skipped %s/%s: %s\n", sk.Domain, sk.Name, sk.Reason)
	}

	var csv io.Writer
	if *csvPath != "" {
		f, err := os.OpenFile(*csvPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		if st, _ := f.Stat(); st.Size() == 0 {
			fmt.Fprintln(f, "iteration,lr,D_A,G_A,cycle_A,idt_A,D_B,G_B,cycle_B,idt_B,G,seconds")
		}
		csv = f
	}

	save := func(why string) error {
		ckpt, err := s.Checkpoint()
		if err != nil {
			return err
		}
		if err := cyclegan.WriteFileAtomic(*out, ckpt); err != nil {
			return err
		}
		fmt.Printf("saved %s at iteration %d (%s, %.1f MB)\n", *out, s.Trainer.Iteration, why, float64(len(ckpt))/1e6)
		return nil
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	interrupt := make(chan os.Signal, 1)
	signal.Notify(interrupt, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(interrupt)

	start := time.Now()
	startIter := s.Trainer.Iteration
	lastLog := time.Time{}
	var avg lossAverage
	for s.Trainer.Iteration < total {
		select {
		case sig := <-interrupt:
			fmt.Printf("\n%v: stopping\n", sig)
			return save("interrupted")
		default:
		}
		lr := s.Trainer.LearningRate()
		l, err := s.Step()
		switch {
		case errors.Is(err, cyclegan.ErrDiverged):
			return diverged(err, *out, a, b)
		case errors.Is(err, cyclegan.ErrNonFinite):
			fmt.Fprintf(os.Stderr, "warning: %v\n", err)
		case err != nil:
			return err
		default:
			avg.add(l)
		}
		it := s.Trainer.Iteration
		if csv != nil {
			fmt.Fprintf(csv, "%d,%g,%g,%g,%g,%g,%g,%g,%g,%g,%g,%.3f\n", it, lr, l.DA, l.GA, l.CycleA, l.IdtA,
				l.DB, l.GB, l.CycleB, l.IdtB, l.G, time.Since(start).Seconds())
		}
		if now := time.Now(); now.Sub(lastLog) >= *logEvery || it == total {
			lastLog = now
			done := it - startIter
			rate := float64(done) / now.Sub(start).Seconds()
			eta := time.Duration(float64(total-it) / rate * float64(time.Second))
			fmt.Printf("iter %d/%d  %.2f it/s  ETA %s  lr %.2e  %s\n", it, total, rate, eta.Round(time.Second), lr, avg.String())
			avg = lossAverage{}
		}
		if *every > 0 && it%*every == 0 && it < total {
			if err := save("periodic"); err != nil {
				return err
			}
			if *snapshots {
				snap := fmt.Sprintf("%s.iter%d.safetensors", strings.TrimSuffix(*out, ".safetensors"), it)
				if err := copyFile(*out, snap); err != nil {
					return err
				}
			}
		}
	}
	if err := save("done"); err != nil {
		return err
	}
	if sk := s.Sampler.Skipped(); len(sk) > 0 {
		fmt.Fprintf(os.Stderr, "%d files skipped (unreadable or not images)\n", len(sk))
	}
	fmt.Printf("trained %d iterations in %s\n", s.Trainer.Iteration-startIter, time.Since(start).Round(time.Second))
	return nil
}

// diverged stops training after repeated non-finite steps: it restores the
// last good checkpoint (written before the failures, and left untouched)
// and says where training can pick up again.
func diverged(err error, out string, a, b cyclegan.Domain) error {
	ckpt, readErr := os.ReadFile(out)
	if readErr != nil {
		return fmt.Errorf("%w\nno checkpoint was written yet; restart with a lower -lr", err)
	}
	good, loadErr := cyclegan.ResumeSession(ckpt, a, b)
	if loadErr != nil {
		return fmt.Errorf("%w\nand the last checkpoint %s does not load: %v", err, out, loadErr)
	}
	return fmt.Errorf("%w\nrestored the last good checkpoint %s (iteration %d); stopping. Resume from it with a lower -lr",
		err, out, good.Trainer.Iteration)
}

// lossAverage averages the losses printed in one progress line.
type lossAverage struct {
	n int
	s cyclegan.Losses
}

func (a *lossAverage) add(l cyclegan.Losses) {
	a.n++
	a.s.DA += l.DA
	a.s.GA += l.GA
	a.s.CycleA += l.CycleA
	a.s.IdtA += l.IdtA
	a.s.DB += l.DB
	a.s.GB += l.GB
	a.s.CycleB += l.CycleB
	a.s.IdtB += l.IdtB
	a.s.G += l.G
}

func (a *lossAverage) String() string {
	if a.n == 0 {
		return "(no finite step)"
	}
	n := float64(a.n)
	var b strings.Builder
	for _, t := range []struct {
		name string
		v    float64
	}{{"D_A", a.s.DA}, {"G_A", a.s.GA}, {"cyc_A", a.s.CycleA}, {"idt_A", a.s.IdtA},
		{"D_B", a.s.DB}, {"G_B", a.s.GB}, {"cyc_B", a.s.CycleB}, {"idt_B", a.s.IdtB}} {
		fmt.Fprintf(&b, "%s %.3f  ", t.name, t.v/n)
	}
	if math.IsNaN(a.s.G) {
		b.WriteString("(NaN)")
	}
	return strings.TrimSpace(b.String())
}

// copyFile copies src to dst atomically.
func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return cyclegan.WriteFileAtomic(dst, b)
}
