#!/usr/bin/python3
"""Generator weights both ways between PyTorch and package cyclegan.

(a) PyTorch -> Go. Builds the official PyTorch CycleGAN's ResnetGenerator
    (/work/shared/docs/REFERENCE.md section 1; the module layout is copied
    from make_train_fixture.py, so the keys are the reference's own) with
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
a multiple of 8), as in make_train_fixture.py. One thread, float32.
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

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


def norm_layer(c):
    # get_norm_layer('instance')
    return nn.InstanceNorm2d(c, affine=False, track_running_stats=False)


# --- the reference's generator (networks.py), layout kept for the keys ----
# Copied from make_train_fixture.py (importing it would run its fixture).

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


def init_weights(net, gain=0.02):
    # init_weights(net, 'normal', 0.02)
    def init_func(m):
        classname = m.__class__.__name__
        if hasattr(m, "weight") and (classname.find("Conv") != -1 or classname.find("Linear") != -1):
            nn.init.normal_(m.weight.data, 0.0, gain)
            if hasattr(m, "bias") and m.bias is not None:
                nn.init.constant_(m.bias.data, 0.0)
    net.apply(init_func)
    return net


def tensor2im(t):
    # util.tensor2im: float32 numpy, (x + 1) / 2 * 255, truncated to uint8
    # (tanh keeps x in [-1, 1], so no clipping is needed).
    image_numpy = t[0].cpu().float().numpy()
    image_numpy = (np.transpose(image_numpy, (1, 2, 0)) + 1) / 2.0 * 255.0
    return image_numpy.astype(np.uint8)


# --- safetensors by hand ---------------------------------------------------

DTYPES = {"F32": np.dtype("<f4"), "U8": np.dtype("u1")}


def write_safetensors(path, arrays, metadata=None):
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    blobs, offset = [], 0
    for name in sorted(arrays):
        arr = arrays[name]
        dtype = {np.dtype("float32"): "F32", np.dtype("uint8"): "U8"}[arr.dtype]
        blob = np.ascontiguousarray(arr).astype(DTYPES[dtype]).tobytes()
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
