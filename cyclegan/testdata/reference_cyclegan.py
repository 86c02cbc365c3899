"""The official PyTorch CycleGAN, re-implemented once for the fixture scripts.

A few lines each of the parts of junyanz/pytorch-CycleGAN-and-pix2pix
(/work/shared/docs/REFERENCE.md section 1) that the repository's Python
scripts need, with the reference's module layout so that the state-dict keys
are the reference's own, plus a hand-written safetensors reader and writer.
Imported by

  cyclegan/testdata/make_train_fixture.py   (networks, init, losses, pool,
                                             training step, writer)
  cyclegan/testdata/make_interop.py         (generator, init, reader, writer)
  cmd/cyclegan/testdata/pytorch_speed.py    (networks, init, losses, pool,
                                             training step)
  engine/testdata/make_fixtures.py          (writer)

The two in this folder import it directly (a script's own folder is on
sys.path); the other two put this folder on sys.path relative to their own
file. They set sys.dont_write_bytecode first, so that no __pycache__ appears
here. Importing this module has no side effects: it neither seeds torch nor
sets its thread count or default dtype (the scripts do).

The committed fixtures are byte-identical functions of this code for a given
PyTorch build: after any change here, regenerate them (see each script's
docstring) and check that `git status` shows no .safetensors file changed.

What is here:

  * norm_layer: get_norm_layer('instance'), i.e. InstanceNorm2d
    affine=False without running statistics (so no norm keys);
  * ResnetGenerator (reflect padding, no dropout, a bias on every
    convolution), keys model.1, model.4, model.7, model.10.conv_block.{1,5}
    (one per residual block, model.10 to model.(9 + n_blocks)), then the two
    ConvTranspose2d and the last Conv2d;
  * NLayerDiscriminator (PatchGAN: 4x4 kernels, padding 1, LeakyReLU 0.2,
    instance norm, a bias on every convolution), keys model.0, 2, 5, 8, 11
    for n_layers 3;
  * init_weights(net, 'normal', gain);
  * GANLoss('lsgan'): nn.MSELoss against 1.0 / 0.0 expanded to the
    prediction's shape;
  * ImagePool (util/image_pool.py), optionally forbidden to draw random
    numbers;
  * set_requires_grad and CycleGANModel: the optimisers, the losses and
    optimize_parameters of models/cycle_gan_model.py;
  * write_safetensors / read_safetensors (F32 and U8 only).
"""

import itertools
import json
import math
import os
import random
import struct

import numpy as np
import torch
import torch.nn as nn


# --- the reference's networks (networks.py), layout kept for the keys -----

def norm_layer(c):
    # get_norm_layer('instance')
    return nn.InstanceNorm2d(c, affine=False, track_running_stats=False)


class ResnetBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        # build_conv_block with padding_type 'reflect', use_dropout False,
        # use_bias True (instance norm)
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
    # init_weights(net, 'normal', gain). The BatchNorm2d branch is the
    # reference's; these networks have none (instance norm, no affine).
    def init_func(m):
        classname = m.__class__.__name__
        if hasattr(m, "weight") and (classname.find("Conv") != -1 or classname.find("Linear") != -1):
            nn.init.normal_(m.weight.data, 0.0, gain)
            if hasattr(m, "bias") and m.bias is not None:
                nn.init.constant_(m.bias.data, 0.0)
        elif classname.find("BatchNorm2d") != -1:
            nn.init.normal_(m.weight.data, 1.0, gain)
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


# --- util/image_pool.py ------------------------------------------------------

class ImagePool:
    """The reference's ImagePool. With may_draw=False a query that finds the
    pool full raises instead of drawing from Python's `random` (for a
    fixture that must stay free of random numbers)."""

    def __init__(self, pool_size, may_draw=True):
        self.pool_size = pool_size
        self.may_draw = may_draw
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
            elif not self.may_draw:
                raise AssertionError("the pool is full: the fixture would need random numbers")
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


# --- models/cycle_gan_model.py -----------------------------------------------

def set_requires_grad(nets, requires_grad):
    for net in nets:
        for p in net.parameters():
            p.requires_grad = requires_grad


class CycleGANModel:
    """The training half of the reference's CycleGANModel, over four given
    (already built and initialised) networks: GANLoss('lsgan'), nn.L1Loss
    for the cycle and identity terms, two ImagePools, and two
    torch.optim.Adam over itertools.chain(G_A, G_B) and
    itertools.chain(D_A, D_B). Built in the reference's order; nothing here
    draws random numbers except a full ImagePool."""

    def __init__(self, netG_A, netG_B, netD_A, netD_B, lambda_A=10.0, lambda_B=10.0,
                 lambda_identity=0.5, pool_size=50, lr=2e-4, beta1=0.5, beta2=0.999,
                 dtype=torch.float32, pool_may_draw=True):
        self.netG_A, self.netG_B, self.netD_A, self.netD_B = netG_A, netG_B, netD_A, netD_B
        self.lambda_A, self.lambda_B, self.lambda_identity = lambda_A, lambda_B, lambda_identity
        self.criterionGAN = GANLoss().to(dtype)
        self.criterionCycle = nn.L1Loss()
        self.criterionIdt = nn.L1Loss()
        self.fake_A_pool = ImagePool(pool_size, pool_may_draw)
        self.fake_B_pool = ImagePool(pool_size, pool_may_draw)
        self.optimizer_G = torch.optim.Adam(itertools.chain(netG_A.parameters(), netG_B.parameters()),
                                            lr=lr, betas=(beta1, beta2))
        self.optimizer_D = torch.optim.Adam(itertools.chain(netD_A.parameters(), netD_B.parameters()),
                                            lr=lr, betas=(beta1, beta2))

    def backward_D_basic(self, netD, real, fake):
        pred_real = netD(real)
        loss_D_real = self.criterionGAN(pred_real, True)
        pred_fake = netD(fake.detach())
        loss_D_fake = self.criterionGAN(pred_fake, False)
        loss_D = (loss_D_real + loss_D_fake) * 0.5
        loss_D.backward()
        return loss_D

    def optimize_parameters(self, real_A, real_B):
        """One training iteration: forward, freeze D, zero_grad, backward_G,
        optimizer_G.step, unfreeze D, zero_grad, backward_D_A, backward_D_B,
        optimizer_D.step. Returns the losses (0-dim tensors; the identity
        terms are 0 when lambda_identity is 0), in the order G_A, G_B,
        cycle_A, cycle_B, idt_A, idt_B, G (the total generator objective),
        D_A, D_B."""
        netG_A, netG_B, netD_A, netD_B = self.netG_A, self.netG_B, self.netD_A, self.netD_B
        lambda_A, lambda_B, lambda_idt = self.lambda_A, self.lambda_B, self.lambda_identity
        # forward()
        fake_B = netG_A(real_A)
        rec_A = netG_B(fake_B)
        fake_A = netG_B(real_B)
        rec_B = netG_A(fake_A)
        # G_A and G_B
        set_requires_grad([netD_A, netD_B], False)
        self.optimizer_G.zero_grad()
        # backward_G()
        if lambda_idt > 0:
            idt_A = netG_A(real_B)
            loss_idt_A = self.criterionIdt(idt_A, real_B) * lambda_B * lambda_idt
            idt_B = netG_B(real_A)
            loss_idt_B = self.criterionIdt(idt_B, real_A) * lambda_A * lambda_idt
        else:
            loss_idt_A = loss_idt_B = 0
        loss_G_A = self.criterionGAN(netD_A(fake_B), True)
        loss_G_B = self.criterionGAN(netD_B(fake_A), True)
        loss_cycle_A = self.criterionCycle(rec_A, real_A) * lambda_A
        loss_cycle_B = self.criterionCycle(rec_B, real_B) * lambda_B
        loss_G = loss_G_A + loss_G_B + loss_cycle_A + loss_cycle_B + loss_idt_A + loss_idt_B
        loss_G.backward()
        self.optimizer_G.step()
        # D_A and D_B
        set_requires_grad([netD_A, netD_B], True)
        self.optimizer_D.zero_grad()
        loss_D_A = self.backward_D_basic(netD_A, real_B, self.fake_B_pool.query(fake_B))
        loss_D_B = self.backward_D_basic(netD_B, real_A, self.fake_A_pool.query(fake_A))
        self.optimizer_D.step()
        return dict(G_A=loss_G_A, G_B=loss_G_B, cycle_A=loss_cycle_A, cycle_B=loss_cycle_B,
                    idt_A=loss_idt_A, idt_B=loss_idt_B, G=loss_G, D_A=loss_D_A, D_B=loss_D_B)


# --- safetensors by hand ---------------------------------------------------
#
# No `safetensors` Python package is needed: 8-byte little-endian header
# length, JSON header (compact separators) padded with spaces to a multiple
# of 8, then the tensors' bytes in name order.

DTYPES = {"F32": np.dtype("<f4"), "U8": np.dtype("u1")}
_DTYPE_NAMES = {np.dtype("float32"): "F32", np.dtype("uint8"): "U8"}


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: float32 or uint8 numpy array or torch tensor} to path
    (through path + ".tmp", then renamed). metadata, a {str: str} dict, is
    written as __metadata__ unless it is None."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    blobs, offset = [], 0
    for name in sorted(tensors):
        arr = tensors[name]
        if isinstance(arr, torch.Tensor):
            arr = arr.detach().cpu().numpy()
        dtype = _DTYPE_NAMES[arr.dtype]
        blob = arr.astype(DTYPES[dtype]).tobytes()  # C order, little-endian
        header[name] = {"dtype": dtype, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_safetensors(path):
    """Returns ({name: numpy array}, metadata); strict about the layout."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: truncated")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise ValueError(f"{path}: header length {n} exceeds the file")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    buf = data[8 + n:]
    metadata = header.pop("__metadata__", {})
    arrays, end = {}, 0
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, stop = e["data_offsets"]
        dt = DTYPES[e["dtype"]]
        if begin != end or stop - begin != dt.itemsize * math.prod(e["shape"]):
            raise ValueError(f"{path}: {name}: bad data_offsets {e['data_offsets']}")
        arrays[name] = np.frombuffer(buf[begin:stop], dtype=dt).reshape(e["shape"]).copy()
        end = stop
    if end != len(buf):
        raise ValueError(f"{path}: {len(buf) - end} bytes after the last tensor")
    return arrays, metadata
