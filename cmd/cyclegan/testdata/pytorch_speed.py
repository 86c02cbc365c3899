#!/usr/bin/python3
"""Seconds per training iteration of the official PyTorch CycleGAN.

The reference side of cmd/cyclegan/speed.md: one CycleGAN training iteration
as junyanz/pytorch-CycleGAN-and-pix2pix does it (/work/shared/docs/
REFERENCE.md section 1), timed on the CPU with a fixed number of threads,
batch 1, on random images (data loading excluded):

  * two ResnetGenerators (reflect padding, InstanceNorm2d affine=False
    without running statistics, no dropout), two NLayerDiscriminators
    (PatchGAN, 4x4 kernels, ndf 64, n_layers 3), init_weights('normal',
    0.02); module layout, losses, pool and training step from
    cyclegan/testdata/reference_cyclegan.py, as for make_train_fixture.py;
  * GANLoss('lsgan'), L1 cycle loss (lambda 10), identity loss
    (lambda_identity 0.5 by default), two ImagePool(50) (with their random
    draws once full), two Adams (lr 2e-4, betas (0.5, 0.999));
  * CycleGANModel.optimize_parameters: forward, freeze D, zero_grad,
    backward_G, optimizer_G.step, unfreeze D, zero_grad, backward_D_A,
    backward_D_B, optimizer_D.step.

Defaults: 64 px, ngf 32, 6 blocks, 2 threads, 5 warm-up iterations, then
30 timed. Prints the median and the mean seconds per iteration and the list.
Run with Debian's PyTorch 1.13:

  /usr/bin/python3 cmd/cyclegan/testdata/pytorch_speed.py [--size 64] [--ngf 32]
      [--blocks 6] [--iters 30] [--threads 2] [--identity 0.5]
"""

import argparse
import os
import random
import statistics
import sys
import time

import torch

# The reference's networks, init, losses, pool and training step live in
# cyclegan/testdata/reference_cyclegan.py (shared with the fixture scripts
# there); put that folder on sys.path, found from this file's own location
# (three levels up is the repository root), whatever the working directory.
# No __pycache__ in testdata.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir, os.pardir, os.pardir, "cyclegan", "testdata"))
sys.dont_write_bytecode = True
from reference_cyclegan import CycleGANModel, NLayerDiscriminator, ResnetGenerator, init_weights  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description="Seconds per iteration of the reference CycleGAN on the CPU.")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--ngf", type=int, default=32)
    ap.add_argument("--blocks", type=int, default=6)
    ap.add_argument("--ndf", type=int, default=64)
    ap.add_argument("--iters", type=int, default=30, help="timed iterations (after --warmup)")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--identity", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--bench-name", default="",
                    help="also print the median as a Go benchmark line, BenchmarkNAME 1 <median> s/iter (for make bench)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    lambda_A = lambda_B = 10.0
    lambda_idt = args.identity

    netG_A = init_weights(ResnetGenerator(3, 3, args.ngf, args.blocks))
    netG_B = init_weights(ResnetGenerator(3, 3, args.ngf, args.blocks))
    netD_A = init_weights(NLayerDiscriminator(3, args.ndf, 3))
    netD_B = init_weights(NLayerDiscriminator(3, args.ndf, 3))
    model = CycleGANModel(netG_A, netG_B, netD_A, netD_B, lambda_A=lambda_A, lambda_B=lambda_B,
                          lambda_identity=lambda_idt, pool_size=50, lr=2e-4, beta1=0.5, beta2=0.999)

    # Random images in [-1, 1], made up front: data loading is not timed.
    n_images = 16
    images_A = [torch.rand(1, 3, args.size, args.size) * 2 - 1 for _ in range(n_images)]
    images_B = [torch.rand(1, 3, args.size, args.size) * 2 - 1 for _ in range(n_images)]

    def iteration(i):
        real_A, real_B = images_A[i % n_images], images_B[(7 * i) % n_images]
        return model.optimize_parameters(real_A, real_B)["G"].item()

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.size} px, ngf {args.ngf}, "
          f"{args.blocks} blocks, ndf {args.ndf}, identity {args.identity}, batch 1")
    for i in range(args.warmup):
        t0 = time.perf_counter()
        iteration(i)
        print(f"warm-up {i + 1}/{args.warmup}: {time.perf_counter() - t0:.4f} s", file=sys.stderr, flush=True)
    times, cpu = [], []
    for i in range(args.warmup, args.warmup + args.iters):
        t0, c0 = time.perf_counter(), time.process_time()
        iteration(i)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        print(f"iteration {len(times)}/{args.iters}: {times[-1]:.4f} s", file=sys.stderr, flush=True)
    print(f"median {statistics.median(times):.4f} s/iter  mean {statistics.mean(times):.4f} s/iter "
          f"over {len(times)} iterations (after {args.warmup} warm-up)")
    # CPU time of all threads (user + system): the work done, less
    # sensitive to other processes than wall time, but it includes the
    # OpenMP threads' spin-waiting.
    print(f"cpu: median {statistics.median(cpu):.4f} s/iter  mean {statistics.mean(cpu):.4f} s/iter")
    print("per iteration: " + " ".join(f"{t:.4f}" for t in times))
    if args.bench_name:
        print(f"Benchmark{args.bench_name} 1 {statistics.median(times):.6f} s/iter")


if __name__ == "__main__":
    main()
