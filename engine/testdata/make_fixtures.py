#!/usr/bin/python3
"""Generate ops.safetensors: PyTorch reference values for package engine.

For every op of the engine (Conv2d, ConvTranspose2d, ReflectionPad2d,
InstanceNorm2d, ReLU, LeakyReLU, Tanh, add, scale, mean, L1Loss, MSELoss)
over a table of shapes, for a small composite network
(ReflectionPad2d(3) -> Conv2d(3->4, k7) -> InstanceNorm2d -> ReLU ->
Conv2d(4->8, k3, s2, p1) -> ConvTranspose2d(8->4, k3, s2, p1, op1) -> Tanh),
and for five steps of torch.optim.Adam with a learning rate that changes
between steps, this script stores the inputs, the forward output and the
gradient of every input and every parameter, as computed by PyTorch on the
CPU in float32. engine/fixture_test.go (TestPyTorchFixtures) runs the Go
ops on the same inputs and compares.

Layout of the file (safetensors, every tensor F32, little-endian):

  <case>/<role>   one tensor; <case> is "<family>/<variant>", e.g.
                  conv2d/3x3_s2_p1_batch2/x, .../weight, .../bias, .../dy,
                  .../y, .../grad_x, .../grad_weight, .../grad_bias.
                  dy is the upstream gradient: y.backward(dy). It is random
                  for every output, scalars included (a 0-dim tensor), so
                  that a backward that ignores its upstream gradient fails.
  __metadata__    one entry per case, key = case name, value = a JSON object
                  with "op" (which Go code runs it) and the op's
                  hyper-parameters (stride, padding, output_padding, bias,
                  affine, pad, slope, scale, target, lr, ...); plus the
                  file-level entries "generator" and "torch" (keys without a
                  '/', which are not cases).

Inputs are uniform in [-1, 1) (exactly representable: 2*rand - 1), except
where a case says otherwise. Inputs of kinked ops are kept away from their
kinks (|x| >= 0.05 for ReLU/LeakyReLU, |a - b| >= 0.05 for L1, and the
composite's ReLU input checked to be >= 1e-3 from 0), so a last-bit
difference cannot flip a gradient. Every case reseeds torch from a CRC of
its name, so adding a case does not change the values of the others.

Regenerate (from the repository root) with Debian's PyTorch (1.13):

  /usr/bin/python3 engine/testdata/make_fixtures.py

It does not need the `safetensors` Python package: the file is written by
hand (8-byte little-endian header length, JSON header padded with spaces to
a multiple of 8, tensors in name order), by write_safetensors from
cyclegan/testdata/reference_cyclegan.py. The output is deterministic for a
given PyTorch build (one thread).
"""

import json
import os
import sys
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F

# The safetensors writer is shared with the CycleGAN fixture scripts in
# cyclegan/testdata/reference_cyclegan.py; put that folder on sys.path, found
# from this file's own location (two levels up is the repository root),
# whatever the working directory. No __pycache__ in testdata.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir, os.pardir, "cyclegan", "testdata"))
sys.dont_write_bytecode = True
from reference_cyclegan import write_safetensors  # noqa: E402

torch.set_num_threads(1)  # one summation order, run to run

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ops.safetensors")

tensors = {}  # name -> float32 tensor
metadata = {}  # case -> JSON string
notes = []  # printed at the end: PyTorch's own error where it is interesting


def begin(case, op, **params):
    """Start a case: record its metadata and reseed torch from its name."""
    assert case.count("/") == 1, case
    assert case not in metadata, case
    metadata[case] = json.dumps(dict(op=op, **params), sort_keys=True)
    torch.manual_seed(zlib.crc32(case.encode()))
    return case


def put(case, role, t):
    name = case + "/" + role
    assert "/" not in role and name not in tensors, name
    assert t is not None, name
    tensors[name] = t.detach().to(torch.float32).contiguous().clone()


def uniform(*shape, scale=1.0):
    """Uniform in [-scale, scale)."""
    return (torch.rand(shape) * 2 - 1) * scale


def away_from_zero(*shape, margin=0.05):
    """Uniform magnitude in [margin, 1) with a random sign."""
    mag = margin + (1 - margin) * torch.rand(shape)
    sign = torch.where(torch.rand(shape) < 0.5, -1.0, 1.0)
    return mag * sign


def leaf(t):
    return t.clone().requires_grad_(True)


def backward(y):
    dy = uniform(*y.shape)
    y.backward(dy)
    return dy


# --- Conv2d -----------------------------------------------------------------

CONV2D = [
    # name, N, C, H, W, O, KH, KW, stride, padding, bias
    ("3x3_s1_p1_odd_1ch", 1, 1, 5, 7, 2, 3, 3, 1, 1, True),
    ("3x3_s2_p1_batch2", 2, 3, 7, 6, 4, 3, 3, 2, 1, True),
    ("1x1_s1_p0", 1, 4, 4, 3, 3, 1, 1, 1, 0, True),
    ("1x1_s2_p0", 1, 2, 5, 5, 3, 1, 1, 2, 0, True),
    ("7x7_s1_p0", 1, 3, 9, 10, 2, 7, 7, 1, 0, True),
    ("7x7_s1_p3", 1, 3, 9, 8, 4, 7, 7, 1, 3, True),
    ("4x4_s2_p1_patchgan", 2, 3, 10, 9, 4, 4, 4, 2, 1, True),
    ("4x4_s1_p1_patchgan_1out", 1, 4, 6, 7, 1, 4, 4, 1, 1, True),
    ("3x3_s1_p1_nobias", 1, 2, 5, 5, 3, 3, 3, 1, 1, False),
    ("3x2_s1_p0_rect", 1, 2, 5, 4, 2, 3, 2, 1, 0, True),
    # Wide enough to cross the GEMM blocking (K = 288 > 256, O = 72 > 64).
    ("3x3_s1_p1_32to72", 1, 32, 6, 5, 72, 3, 3, 1, 1, True),
    # Many output pixels (OH*OW = 576 > 512).
    ("3x3_s1_p1_24x24", 1, 2, 24, 24, 3, 3, 3, 1, 1, True),
]

for name, n, c, h, w, o, kh, kw, s, p, has_bias in CONV2D:
    case = begin("conv2d/" + name, "conv2d", stride=s, padding=p, bias=has_bias)
    x = leaf(uniform(n, c, h, w))
    weight = leaf(uniform(o, c, kh, kw))
    bias = leaf(uniform(o)) if has_bias else None
    y = F.conv2d(x, weight, bias, stride=s, padding=p)
    dy = backward(y)
    put(case, "x", x)
    put(case, "weight", weight)
    put(case, "dy", dy)
    put(case, "y", y)
    put(case, "grad_x", x.grad)
    put(case, "grad_weight", weight.grad)
    if has_bias:
        put(case, "bias", bias)
        put(case, "grad_bias", bias.grad)

# --- ConvTranspose2d --------------------------------------------------------

CONVT2D = [
    # name, N, C, H, W, O, KH, KW, stride, padding, output_padding, bias
    ("3x3_s2_p1_op1_generator", 1, 4, 5, 6, 3, 3, 3, 2, 1, 1, True),
    ("3x3_s1_p1", 1, 3, 5, 5, 2, 3, 3, 1, 1, 0, True),
    ("4x4_s2_p1_op0", 1, 3, 4, 5, 2, 4, 4, 2, 1, 0, True),
    ("1x1_s1_p0", 1, 4, 3, 4, 3, 1, 1, 1, 0, 0, True),
    ("3x3_s2_p1_op1_odd_batch2", 2, 2, 5, 7, 3, 3, 3, 2, 1, 1, True),
    ("3x3_s2_p1_op1_1ch", 1, 1, 4, 3, 1, 3, 3, 2, 1, 1, True),
    ("3x3_s2_p1_op1_nobias", 1, 3, 4, 4, 2, 3, 3, 2, 1, 1, False),
    ("3x3_s2_p0_op1", 1, 2, 3, 4, 2, 3, 3, 2, 0, 1, True),
    # Wide: K = O*KH*KW = 72*9 > 256 in the backward convolution, C = 32.
    ("3x3_s2_p1_op1_32to72", 1, 32, 4, 4, 72, 3, 3, 2, 1, 1, True),
]

for name, n, c, h, w, o, kh, kw, s, p, op, has_bias in CONVT2D:
    case = begin("convtranspose2d/" + name, "convtranspose2d",
                 stride=s, padding=p, output_padding=op, bias=has_bias)
    x = leaf(uniform(n, c, h, w))
    weight = leaf(uniform(c, o, kh, kw))
    bias = leaf(uniform(o)) if has_bias else None
    y = F.conv_transpose2d(x, weight, bias, stride=s, padding=p, output_padding=op)
    dy = backward(y)
    put(case, "x", x)
    put(case, "weight", weight)
    put(case, "dy", dy)
    put(case, "y", y)
    put(case, "grad_x", x.grad)
    put(case, "grad_weight", weight.grad)
    if has_bias:
        put(case, "bias", bias)
        put(case, "grad_bias", bias.grad)

# --- ReflectionPad2d --------------------------------------------------------

REFLECT = [
    # name, N, C, H, W, pad
    ("pad1", 2, 3, 5, 4, 1),
    ("pad3", 1, 2, 8, 7, 3),
    ("pad3_eq_h_minus_1", 1, 1, 4, 5, 3),
    ("pad3_eq_h_and_w_minus_1", 1, 2, 4, 4, 3),
    ("pad1_eq_w_minus_1", 1, 2, 5, 2, 1),
]

for name, n, c, h, w, pad in REFLECT:
    case = begin("reflectionpad2d/" + name, "reflectionpad2d", pad=pad)
    x = leaf(uniform(n, c, h, w))
    y = nn.ReflectionPad2d(pad)(x)
    dy = backward(y)
    put(case, "x", x)
    put(case, "dy", dy)
    put(case, "y", y)
    put(case, "grad_x", x.grad)

# --- InstanceNorm2d ---------------------------------------------------------

INORM = [
    # name, N, C, H, W, affine, offset added to the input
    ("plain", 2, 3, 5, 4, False, 0.0),
    ("affine", 2, 3, 5, 4, True, 0.0),
    ("plain_7x1", 1, 2, 7, 1, False, 0.0),
    ("affine_16x16", 1, 2, 16, 16, True, 0.0),
    ("plain_mean50", 2, 2, 6, 5, False, 50.0),
    ("affine_mean50", 1, 3, 8, 8, True, 50.0),
]


def instance_norm_f64(x, gamma, beta):
    """The exact answer for float32 inputs, in float64."""
    x = x.double()
    mean = x.mean(dim=(2, 3), keepdim=True)
    var = ((x - mean) ** 2).mean(dim=(2, 3), keepdim=True)
    y = (x - mean) / torch.sqrt(var + 1e-5)
    if gamma is not None:
        y = y * gamma.double().view(1, -1, 1, 1) + beta.double().view(1, -1, 1, 1)
    return y


for name, n, c, h, w, affine, offset in INORM:
    case = begin("instancenorm2d/" + name, "instancenorm2d", affine=affine, eps=1e-5)
    x = leaf(uniform(n, c, h, w) + offset)
    m = nn.InstanceNorm2d(c, affine=affine, eps=1e-5)
    if affine:
        with torch.no_grad():
            m.weight.copy_(1 + 0.5 * uniform(c))
            m.bias.copy_(uniform(c))
    y = m(x)
    dy = backward(y)
    put(case, "x", x)
    put(case, "dy", dy)
    put(case, "y", y)
    put(case, "grad_x", x.grad)
    if affine:
        put(case, "gamma", m.weight)
        put(case, "beta", m.bias)
        put(case, "grad_gamma", m.weight.grad)
        put(case, "grad_beta", m.bias.grad)
    exact = instance_norm_f64(x.detach(), m.weight if affine else None, m.bias if affine else None)
    err = (y.detach().double() - exact).abs().max().item()
    notes.append(f"{case}: PyTorch forward differs from float64 by {err:.3g}")

# --- Elementwise ops ------------------------------------------------------

SHAPE = (2, 3, 4, 5)

case = begin("relu/2x3x4x5", "relu")
x = leaf(away_from_zero(*SHAPE))
y = torch.relu(x)
dy = backward(y)
put(case, "x", x), put(case, "dy", dy), put(case, "y", y), put(case, "grad_x", x.grad)

case = begin("leakyrelu/slope0.2", "leakyrelu", slope=0.2)
x = leaf(away_from_zero(*SHAPE))
y = F.leaky_relu(x, 0.2)
dy = backward(y)
put(case, "x", x), put(case, "dy", dy), put(case, "y", y), put(case, "grad_x", x.grad)

case = begin("tanh/2x3x4x5", "tanh")
x = leaf(uniform(*SHAPE, scale=3.0))
y = torch.tanh(x)
dy = backward(y)
put(case, "x", x), put(case, "dy", dy), put(case, "y", y), put(case, "grad_x", x.grad)

case = begin("add/2x3x4x5", "add", same_input=False)
a, b = leaf(uniform(*SHAPE)), leaf(uniform(*SHAPE))
y = a + b
dy = backward(y)
put(case, "a", a), put(case, "b", b), put(case, "dy", dy), put(case, "y", y)
put(case, "grad_a", a.grad), put(case, "grad_b", b.grad)

# a + a: both operands are one tensor, whose gradient gets both contributions.
case = begin("add/same_input", "add", same_input=True)
a = leaf(uniform(*SHAPE))
y = a + a
dy = backward(y)
put(case, "a", a), put(case, "dy", dy), put(case, "y", y), put(case, "grad_a", a.grad)

for name, s in [("half", 0.5), ("ten", 10.0), ("minus2.5", -2.5), ("0.3", 0.3)]:
    case = begin("scale/" + name, "scale", scale=s)
    x = leaf(uniform(*SHAPE))
    y = x * s
    dy = backward(y)
    put(case, "x", x), put(case, "dy", dy), put(case, "y", y), put(case, "grad_x", x.grad)

# --- Reductions and losses (scalar outputs, random scalar dy) -------------

case = begin("mean/2x3x4x5", "mean")
x = leaf(uniform(*SHAPE))
y = x.mean()
dy = backward(y)
put(case, "x", x), put(case, "dy", dy), put(case, "y", y), put(case, "grad_x", x.grad)

case = begin("l1/2x3x4x5", "l1")
a = leaf(uniform(*SHAPE))
b = leaf((a.detach() + away_from_zero(*SHAPE)))
assert ((a - b).abs() >= 0.04).all()
y = nn.L1Loss()(a, b)
dy = backward(y)
put(case, "a", a), put(case, "b", b), put(case, "dy", dy), put(case, "y", y)
put(case, "grad_a", a.grad), put(case, "grad_b", b.grad)

for name, shape, target in [("target1_patch30", (1, 1, 30, 30), 1.0),
                            ("target0_batch2", (2, 1, 6, 6), 0.0)]:
    case = begin("mse/" + name, "mse", target=target)
    x = leaf(uniform(*shape))
    y = nn.MSELoss()(x, torch.full(shape, target))
    dy = backward(y)
    put(case, "x", x), put(case, "dy", dy), put(case, "y", y), put(case, "grad_x", x.grad)

# --- Composite --------------------------------------------------------------

case = begin("composite/pad_conv7_in_relu_conv3s2_convt3s2_tanh", "composite",
             layers=["reflectionpad2d(3)", "conv1: conv2d(3->4, k7, s1, p0)",
                     "instancenorm2d(affine=False)", "relu",
                     "conv2: conv2d(4->8, k3, s2, p1)",
                     "convt: convtranspose2d(8->4, k3, s2, p1, output_padding=1)", "tanh"])
# Default PyTorch initialisation. The ReLU input must stay clear of 0, or a
# last-bit difference between PyTorch and the engine flips a gradient: draw
# again (deterministically) until it is at least 1e-3 away.
for attempt in range(100):
    torch.manual_seed(zlib.crc32(case.encode()) + attempt)
    conv1 = nn.Conv2d(3, 4, 7, stride=1, padding=0)
    conv2 = nn.Conv2d(4, 8, 3, stride=2, padding=1)
    convt = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
    x = leaf(uniform(1, 3, 16, 16))
    h = nn.InstanceNorm2d(4)(conv1(nn.ReflectionPad2d(3)(x)))
    if h.abs().min().item() >= 1e-3:
        break
else:
    raise SystemExit("composite: no draw keeps the ReLU input away from 0")
y = torch.tanh(convt(conv2(torch.relu(h))))
dy = backward(y)
put(case, "x", x), put(case, "dy", dy), put(case, "y", y), put(case, "grad_x", x.grad)
for mname, mod in [("conv1", conv1), ("conv2", conv2), ("convt", convt)]:
    put(case, mname + "_weight", mod.weight)
    put(case, mname + "_bias", mod.bias)
    put(case, "grad_" + mname + "_weight", mod.weight.grad)
    put(case, "grad_" + mname + "_bias", mod.bias.grad)

# --- Adam -------------------------------------------------------------------

# CycleGAN's optimiser, with the learning rate changed between steps the way
# its linear decay does (steps 4 and 5 at lower rates).
LRS = [2e-4, 2e-4, 2e-4, 1e-4, 2e-4 * (1 - 2 / 3)]
# name, shape, size of the initial values, size of the gradients. p3 is
# small, with gradients near eps, so that its trajectory resolves the
# update to many digits and depends on eps.
PARAMS = [("p0", (4, 5), 1.0, 1.0), ("p1", (6,), 1.0, 1e-3),
          ("p2", (2, 3, 3, 3), 1.0, 10.0), ("p3", (7,), 1e-3, 1e-7)]
case = begin("adam/5_steps_lr_decay", "adam", lr=LRS, beta1=0.5, beta2=0.999, eps=1e-8,
             params=[p[0] for p in PARAMS], steps=len(LRS))
params = []
for pname, shape, pscale, _ in PARAMS:
    p = uniform(*shape, scale=pscale).requires_grad_(True)
    put(case, pname, p)
    params.append(p)
opt = torch.optim.Adam(params, lr=LRS[0], betas=(0.5, 0.999), eps=1e-8, foreach=False)
for k, lr in enumerate(LRS, start=1):
    for group in opt.param_groups:
        group["lr"] = lr
    for (pname, shape, _, gscale), p in zip(PARAMS, params):
        g = uniform(*shape, scale=gscale)
        if pname == "p1":
            g[0] = 0  # a zero gradient: the update is 0/(0 + eps)
        p.grad = g
        put(case, f"grad_{pname}_step{k}", g)
    opt.step()
    for (pname, _, _, _), p in zip(PARAMS, params):
        put(case, f"{pname}_step{k}", p)

# --- Write ------------------------------------------------------------------

metadata["generator"] = "engine/testdata/make_fixtures.py"
metadata["torch"] = torch.__version__
write_safetensors(OUT, tensors, metadata)
ncases = sum(1 for k in metadata if "/" in k)
print(f"wrote {OUT}: {ncases} cases, {len(tensors)} tensors, {os.path.getsize(OUT)} bytes")
for note in notes:
    print(note)
