"""Pillow fixtures for cyclegan/data_test.go (TestResizeMatchesPillow).

Regenerate from the module root with

    /usr/bin/python3 cyclegan/testdata/images/make_fixtures.py

(Debian's python3-pil; any Pillow since 7 resamples 8-bit images the same
way). The sources are random pixels from a fixed seed; every want_* file is
what the reference's data pipeline makes of them before ToTensor:

    Image.alpha_composite(white, src).convert("RGB")   # our alpha rule
    img.resize((w, h), Image.BICUBIC)                  # transforms.Resize

Files, all 8-bit PNG:
    src_rgb.png              23x19 RGB, random
    want_rgb_<w>x<h>.png     src_rgb resized with BICUBIC
    src_rgba.png             17x13 RGBA, random, alpha 0 and 255 included
    want_rgba_white.png      src_rgba composited on white
    want_rgba_<w>x<h>.png    that, resized with BICUBIC
    src_rgba.webp            lossless WebP of src_rgba's top-left 7x5
    src_<sub>.jpg            29x21 noisy gradient, JPEG quality 90 with chroma
                             subsampling 420 or 422
    want_<sub>.png           Pillow's (libjpeg's) decoding of it, as RGB
    src_lossy.webp           that gradient as lossy WebP (quality 80)
    want_lossy.png           Pillow's (libwebp's) decoding of it
    src_lossy_alpha.webp     the gradient with random alpha, lossy WebP
    want_lossy_alpha_white.png  its decoding composited on white
"""
import os
import random

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20240611)


def save(img, name):
    img.save(os.path.join(HERE, name), optimize=True)


src = Image.new("RGB", (23, 19))
src.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(23 * 19)])
save(src, "src_rgb.png")
for w, h in [(9, 40), (40, 7), (23, 31), (11, 19), (12, 12), (5, 4), (50, 41)]:
    save(src.resize((w, h), Image.BICUBIC), "want_rgb_%dx%d.png" % (w, h))

pixels = []
for i in range(17 * 13):
    a = [0, 255, rng.randrange(256)][i % 3]
    pixels.append(tuple(rng.randrange(256) for _ in range(3)) + (a,))
rgba = Image.new("RGBA", (17, 13))
rgba.putdata(pixels)
save(rgba, "src_rgba.png")
white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
on_white = Image.alpha_composite(white, rgba).convert("RGB")
save(on_white, "want_rgba_white.png")
save(on_white.resize((30, 8), Image.BICUBIC), "want_rgba_30x8.png")
rgba.crop((0, 0, 7, 5)).save(os.path.join(HERE, "src_rgba.webp"), lossless=True)

w, h = 29, 21
grad = Image.new("RGB", (w, h))
grad.putdata([((8 * x + rng.randrange(40)) % 256, (11 * y + rng.randrange(40)) % 256,
               (5 * (x + y) + rng.randrange(60)) % 256) for y in range(h) for x in range(w)])
for sub, code in [("420", 2), ("422", 1)]:
    path = os.path.join(HERE, "src_%s.jpg" % sub)
    grad.save(path, quality=90, subsampling=code)
    save(Image.open(path).convert("RGB"), "want_%s.png" % sub)

grad.save(os.path.join(HERE, "src_lossy.webp"), quality=80)
save(Image.open(os.path.join(HERE, "src_lossy.webp")).convert("RGB"), "want_lossy.png")
alpha = Image.new("L", (w, h))
alpha.putdata([[0, 255, rng.randrange(256)][i % 3] for i in range(w * h)])
with_alpha = grad.copy()
with_alpha.putalpha(alpha)
with_alpha.save(os.path.join(HERE, "src_lossy_alpha.webp"), quality=80)
decoded = Image.open(os.path.join(HERE, "src_lossy_alpha.webp"))
assert decoded.mode == "RGBA"
white = Image.new("RGBA", decoded.size, (255, 255, 255, 255))
save(Image.alpha_composite(white, decoded).convert("RGB"), "want_lossy_alpha_white.png")
