#!/usr/bin/python3
"""Generator weights both ways between PyTorch and package cyclegan.

(a) PyTorch -> Go. Builds the official PyTorch CycleGAN's ResnetGenerator
    (/work/shared/docs/REFERENCE.md section 1; the module layout is the
    reference's, from reference_cyclegan.py, so the keys are its own) with
    ngf 8, 2 residual blocks, instance norm (affine=False, no running
    statistics), reflect padding, no dropout, initialised with
    init_weights('normal', 0.02) from torch.manual_seed(SEED), and writes

      interop_pytorch_generator.safetensors  exactly net.state_dict() as
                                             torch 1.13 gives it (20 keys
                                             model.1.weight ... model.19.bias,
                                             no norm keys), a pure state dict
      interop_pytorch_io.safetensors         input   [1, 3, 36, 44] F32, an
                                                     8-bit picture mapped to
                                                     [-1, 1] as the reference's
                                                     ToTensor + Normalize(0.5)
                                             output  [1, 3, 36, 44] F32,
                                                     net(input)
                                             pixels        [36, 44, 3] U8,
                                                     the picture
                                             output_pixels [36, 44, 3] U8,
                                                     util.tensor2im(output)

    cyclegan/interop_test.go (TestInteropPyTorchGeneratorTranslatesIdentically)
    loads the generator with UnmarshalGenerator and compares.

(b) Go -> PyTorch. Reads interop_go_generator.safetensors and
    interop_go_io.safetensors (input, output), written by
    cyclegan/interop_test.go (TestInteropGoGeneratorForPyTorch) with -update,
    builds the reference ResnetGenerator with ngf and the number of blocks
    read from the file's shapes, loads the file with
    load_state_dict(strict=True), runs it on Go's input and checks that
    PyTorch's output matches Go's within TOL. Any failure (missing file,
    strict loading, shape, tolerance) exits non-zero with a message.

Run from the repository root with Debian's PyTorch 1.13 (not the python3 on
PATH). Once the PyTorch files exist, the usual order is

    go test ./cyclegan -run Interop -update && /usr/bin/python3 cyclegan/testdata/make_interop.py

(the Go test writes Go's files and checks PyTorch's; the script rewrites
PyTorch's, byte-identical for a given torch build, and checks Go's). From
scratch, run the script first: it writes PyTorch's files and then fails
because Go's are missing; then run the line above.

Options: --go-generator / --go-io check other files (e.g. deliberately
broken copies); --check-only skips (a).

No `safetensors` Python package is needed: files are read and written by
hand (8-byte little-endian header length, JSON header padded with spaces to
a multiple of 8) by reference_cyclegan.py, next to this script, as for
make_train_fixture.py. One thread, float32.
"""

import argparse
import json
import os
import sys

import numpy as np
import torch

# The reference's generator and init, and the safetensors reader and writer,
# shared with make_train_fixture.py and others (this folder is on sys.path:
# it is the script's own). No __pycache__ in testdata.
sys.dont_write_bytecode = True
from reference_cyclegan import (ResnetGenerator, init_weights, read_safetensors,  # noqa: E402
                                write_safetensors)

torch.set_num_threads(1)
torch.set_default_dtype(torch.float32)

HERE = os.path.dirname(os.path.abspath(__file__))
PT_GENERATOR = os.path.join(HERE, "interop_pytorch_generator.safetensors")
PT_IO = os.path.join(HERE, "interop_pytorch_io.safetensors")
GO_GENERATOR = os.path.join(HERE, "interop_go_generator.safetensors")
GO_IO = os.path.join(HERE, "interop_go_io.safetensors")

SEED = 20240611
NGF, N_BLOCKS = 8, 2
H, W = 36, 44  # multiples of 4, as the reference generator needs
# Go and PyTorch sum in different orders; through eight conv + instance-norm
# stages that leaves differences of a few 1e-7 on tanh outputs in [-1, 1].
TOL = 1e-5


def tensor2im(t):
    # util.tensor2im: float32 numpy, (x + 1) / 2 * 255, truncated to uint8
    # (tanh keeps x in [-1, 1], so no clipping is needed).
    image_numpy = t[0].cpu().float().numpy()
    image_numpy = (np.transpose(image_numpy, (1, 2, 0)) + 1) / 2.0 * 255.0
    return image_numpy.astype(np.uint8)


# --- (a) PyTorch -> Go -----------------------------------------------------

def picture():
    """A deterministic 8-bit RGB picture [H, W, 3]: colour gradients, two
    soft blobs and a little seeded noise, so that every channel varies."""
    y = (torch.arange(H, dtype=torch.float64) + 0.5) / H * 2 - 1
    x = (torch.arange(W, dtype=torch.float64) + 0.5) / W * 2 - 1
    y, x = torch.meshgrid(y, x, indexing="ij")
    b1 = torch.exp(-((y + 0.3) ** 2 + (x - 0.4) ** 2) / 0.08)
    b2 = torch.exp(-((y - 0.5) ** 2 + (x + 0.3) ** 2) / 0.05)
    chans = [0.5 + 0.3 * x + 0.4 * b1 - 0.2 * b2,
             0.4 - 0.3 * y + 0.5 * b2,
             0.5 + 0.2 * x * y - 0.4 * b1 + 0.2 * b2]
    img = torch.stack(chans, dim=-1)
    gen = torch.Generator().manual_seed(SEED + 1)
    img = img + 0.04 * torch.randn(img.shape, generator=gen, dtype=torch.float64)
    return (img.clamp(0, 1) * 255).round().to(torch.uint8)


def pytorch_to_go():
    torch.manual_seed(SEED)
    net = init_weights(ResnetGenerator(3, 3, NGF, N_BLOCKS)).eval()
    sd = net.state_dict()
    keys = list(sd)
    assert len(keys) == 20 and not any("running" in k or "num_batches" in k for k in keys), keys

    pix = picture()
    # torchvision ToTensor then Normalize((0.5,)*3, (0.5,)*3), in float32
    inp = ((pix.permute(2, 0, 1).to(torch.float32) / 255 - 0.5) / 0.5).unsqueeze(0).contiguous()
    with torch.no_grad():
        out = net(inp)
    assert out.shape == inp.shape, out.shape

    write_safetensors(PT_GENERATOR, {k: v.detach().numpy() for k, v in sd.items()})
    write_safetensors(PT_IO, {
        "input": inp.numpy(),
        "output": out.numpy(),
        "pixels": pix.numpy(),
        "output_pixels": tensor2im(out),
    }, {
        "generator": "cyclegan/testdata/make_interop.py",
        "torch": torch.__version__,
        "config": json.dumps(dict(ngf=NGF, blocks=N_BLOCKS, seed=SEED, init="normal 0.02",
                                  norm="instance", padding="reflect", dropout=False)),
    })
    print(f"(a) wrote {os.path.relpath(PT_GENERATOR)} ({len(keys)} keys, "
          f"{sum(v.numel() for v in sd.values())} parameters, ngf {NGF}, {N_BLOCKS} blocks) "
          f"and {os.path.relpath(PT_IO)} (input/output {list(inp.shape)})")


# --- (b) Go -> PyTorch -----------------------------------------------------

def fail(msg):
    print(f"(b) FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def go_to_pytorch(gen_path, io_path):
    for p in (gen_path, io_path):
        if not os.path.exists(p):
            fail(f"{p} is missing: run `go test ./cyclegan -run Interop -update` from the repository root first")
    arrays, meta = read_safetensors(gen_path)
    if "model.1.weight" not in arrays:
        fail(f"{gen_path}: no model.1.weight, not a bare generator")
    ngf = arrays["model.1.weight"].shape[0]
    blocks = 0
    while f"model.{10 + blocks}.conv_block.1.weight" in arrays:
        blocks += 1
    net = ResnetGenerator(3, 3, ngf, blocks).eval()
    state = {k: torch.from_numpy(v) for k, v in arrays.items()}
    try:
        result = net.load_state_dict(state, strict=True)
    except RuntimeError as e:
        fail(f"load_state_dict(strict=True) of {gen_path} failed:\n{e}")
    assert not result.missing_keys and not result.unexpected_keys, result
    print(f"(b) {os.path.relpath(gen_path)}: load_state_dict(strict=True) OK "
          f"(ngf {ngf}, {blocks} blocks, {len(arrays)} keys, metadata {meta})")

    io, _ = read_safetensors(io_path)
    for k in ("input", "output"):
        if k not in io:
            fail(f"{io_path} has no tensor {k!r}")
    inp, want = torch.from_numpy(io["input"]), torch.from_numpy(io["output"])
    with torch.no_grad():
        got = net(inp)
    if got.shape != want.shape:
        fail(f"PyTorch's output has shape {list(got.shape)}, Go's {list(want.shape)}")
    diff = (got - want).abs()
    worst = diff.max().item()
    print(f"(b) input {list(inp.shape)}: max |PyTorch - Go| = {worst:.3g}, "
          f"mean {diff.mean().item():.3g} (tolerance {TOL:g}; output range "
          f"[{want.min().item():.3f}, {want.max().item():.3f}])")
    if not worst <= TOL:
        fail(f"PyTorch's output differs from Go's by {worst:.3g} > {TOL:g}")
    print("(b) OK: PyTorch runs Go's generator identically")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check-only", action="store_true", help="skip (a), only check Go's files")
    ap.add_argument("--go-generator", default=GO_GENERATOR)
    ap.add_argument("--go-io", default=GO_IO)
    args = ap.parse_args()
    print(f"torch {torch.__version__}")
    if not args.check_only:
        pytorch_to_go()
    go_to_pytorch(args.go_generator, args.go_io)


if __name__ == "__main__":
    main()
