#!/usr/bin/python3
"""Seconds per training iteration of the official PyTorch CycleGAN.

The reference side of cmd/cyclegan/speed.md: one CycleGAN training iteration
as junyanz/pytorch-CycleGAN-and-pix2pix does it (/work/shared/docs/
REFERENCE.md section 1), timed on the CPU with a fixed number of threads,
batch 1, on random images (data loading excluded):

  * two ResnetGenerators (reflect padding, InstanceNorm2d affine=False
    without running statistics, no dropout), two NLayerDiscriminators
    (PatchGAN, 4x4 kernels, ndf 64, n_layers 3), init_weights('normal',
    0.02); module layout as in cyclegan/testdata/make_train_fixture.py;
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
import itertools
import random
import statistics
import sys
import time

import torch
import torch.nn as nn


def norm_layer(c):
    # get_norm_layer('instance')
    return nn.InstanceNorm2d(c, affine=False, track_running_stats=False)


class ResnetBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, kernel_size=3, padding=0, bias=True),
            norm_layer(dim),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(dim, dim, kernel_size=3, padding=0, bias=True),
            norm_layer(dim),
        )

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    def __init__(self, input_nc, output_nc, ngf, n_blocks):
        super().__init__()
        model = [nn.ReflectionPad2d(3),
                 nn.Conv2d(input_nc, ngf, kernel_size=7, padding=0, bias=True),
                 norm_layer(ngf),
                 nn.ReLU(True)]
        n_downsampling = 2
        for i in range(n_downsampling):
            mult = 2 ** i
            model += [nn.Conv2d(ngf * mult, ngf * mult * 2, kernel_size=3, stride=2, padding=1, bias=True),
                      norm_layer(ngf * mult * 2),
                      nn.ReLU(True)]
        mult = 2 ** n_downsampling
        for i in range(n_blocks):
            model += [ResnetBlock(ngf * mult)]
        for i in range(n_downsampling):
            mult = 2 ** (n_downsampling - i)
            model += [nn.ConvTranspose2d(ngf * mult, int(ngf * mult / 2), kernel_size=3, stride=2,
                                         padding=1, output_padding=1, bias=True),
                      norm_layer(int(ngf * mult / 2)),
                      nn.ReLU(True)]
        model += [nn.ReflectionPad2d(3)]
        model += [nn.Conv2d(ngf, output_nc, kernel_size=7, padding=0)]
        model += [nn.Tanh()]
        self.model = nn.Sequential(*model)

    def forward(self, x):
        return self.model(x)


class NLayerDiscriminator(nn.Module):
    def __init__(self, input_nc, ndf, n_layers):
        super().__init__()
        kw, padw = 4, 1
        sequence = [nn.Conv2d(input_nc, ndf, kernel_size=kw, stride=2, padding=padw),
                    nn.LeakyReLU(0.2, True)]
        nf_mult = 1
        for n in range(1, n_layers):
            nf_mult_prev = nf_mult
            nf_mult = min(2 ** n, 8)
            sequence += [nn.Conv2d(ndf * nf_mult_prev, ndf * nf_mult, kernel_size=kw, stride=2,
                                   padding=padw, bias=True),
                         norm_layer(ndf * nf_mult),
                         nn.LeakyReLU(0.2, True)]
        nf_mult_prev = nf_mult
        nf_mult = min(2 ** n_layers, 8)
        sequence += [nn.Conv2d(ndf * nf_mult_prev, ndf * nf_mult, kernel_size=kw, stride=1,
                               padding=padw, bias=True),
                     norm_layer(ndf * nf_mult),
                     nn.LeakyReLU(0.2, True)]
        sequence += [nn.Conv2d(ndf * nf_mult, 1, kernel_size=kw, stride=1, padding=padw)]
        self.model = nn.Sequential(*sequence)

    def forward(self, x):
        return self.model(x)


def init_weights(net, gain=0.02):
    def init_func(m):
        classname = m.__class__.__name__
        if hasattr(m, "weight") and (classname.find("Conv") != -1 or classname.find("Linear") != -1):
            nn.init.normal_(m.weight.data, 0.0, gain)
            if hasattr(m, "bias") and m.bias is not None:
                nn.init.constant_(m.bias.data, 0.0)
    net.apply(init_func)
    return net


class GANLoss(nn.Module):
    # GANLoss('lsgan')
    def __init__(self):
        super().__init__()
        self.register_buffer("real_label", torch.tensor(1.0))
        self.register_buffer("fake_label", torch.tensor(0.0))
        self.loss = nn.MSELoss()

    def __call__(self, prediction, target_is_real):
        target = self.real_label if target_is_real else self.fake_label
        return self.loss(prediction, target.expand_as(prediction))


class ImagePool:
    # util/image_pool.py
    def __init__(self, pool_size):
        self.pool_size = pool_size
        self.num_imgs = 0
        self.images = []

    def query(self, images):
        if self.pool_size == 0:
            return images
        return_images = []
        for image in images:
            image = torch.unsqueeze(image.data, 0)
            if self.num_imgs < self.pool_size:
                self.num_imgs += 1
                self.images.append(image)
                return_images.append(image)
            else:
                p = random.uniform(0, 1)
                if p > 0.5:
                    random_id = random.randint(0, self.pool_size - 1)
                    tmp = self.images[random_id].clone()
                    self.images[random_id] = image
                    return_images.append(tmp)
                else:
                    return_images.append(image)
        return torch.cat(return_images, 0)


def set_requires_grad(nets, requires_grad):
    for net in nets:
        for p in net.parameters():
            p.requires_grad = requires_grad


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
    criterionGAN = GANLoss()
    criterionCycle = nn.L1Loss()
    criterionIdt = nn.L1Loss()
    fake_A_pool, fake_B_pool = ImagePool(50), ImagePool(50)
    optimizer_G = torch.optim.Adam(itertools.chain(netG_A.parameters(), netG_B.parameters()),
                                   lr=2e-4, betas=(0.5, 0.999))
    optimizer_D = torch.optim.Adam(itertools.chain(netD_A.parameters(), netD_B.parameters()),
                                   lr=2e-4, betas=(0.5, 0.999))

    def backward_D_basic(netD, real, fake):
        loss_D_real = criterionGAN(netD(real), True)
        loss_D_fake = criterionGAN(netD(fake.detach()), False)
        loss_D = (loss_D_real + loss_D_fake) * 0.5
        loss_D.backward()
        return loss_D

    # Random images in [-1, 1], made up front: data loading is not timed.
    n_images = 16
    images_A = [torch.rand(1, 3, args.size, args.size) * 2 - 1 for _ in range(n_images)]
    images_B = [torch.rand(1, 3, args.size, args.size) * 2 - 1 for _ in range(n_images)]

    def iteration(i):
        real_A, real_B = images_A[i % n_images], images_B[(7 * i) % n_images]
        # forward()
        fake_B = netG_A(real_A)
        rec_A = netG_B(fake_B)
        fake_A = netG_B(real_B)
        rec_B = netG_A(fake_A)
        # G_A and G_B
        set_requires_grad([netD_A, netD_B], False)
        optimizer_G.zero_grad()
        # backward_G()
        if lambda_idt > 0:
            idt_A = netG_A(real_B)
            loss_idt_A = criterionIdt(idt_A, real_B) * lambda_B * lambda_idt
            idt_B = netG_B(real_A)
            loss_idt_B = criterionIdt(idt_B, real_A) * lambda_A * lambda_idt
        else:
            loss_idt_A = loss_idt_B = 0
        loss_G_A = criterionGAN(netD_A(fake_B), True)
        loss_G_B = criterionGAN(netD_B(fake_A), True)
        loss_cycle_A = criterionCycle(rec_A, real_A) * lambda_A
        loss_cycle_B = criterionCycle(rec_B, real_B) * lambda_B
        loss_G = loss_G_A + loss_G_B + loss_cycle_A + loss_cycle_B + loss_idt_A + loss_idt_B
        loss_G.backward()
        optimizer_G.step()
        # D_A and D_B
        set_requires_grad([netD_A, netD_B], True)
        optimizer_D.zero_grad()
        backward_D_basic(netD_A, real_B, fake_B_pool.query(fake_B))
        backward_D_basic(netD_B, real_A, fake_A_pool.query(fake_A))
        optimizer_D.step()
        return loss_G.item()

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


if __name__ == "__main__":
    main()
