#!/usr/bin/python3
"""Generates the ThumbnailApi test-image corpus (called by make_test_images.sh).

Everything is synthesised here (gradients, shapes, seeded noise); nothing is downloaded.
Layout of this file:
  1. tool paths and small helpers
  2. the source pictures (PHOTO, QUADRANTS, ALPHA, CARD, BILEVEL, PATCHES, ...)
  3. hand-written encoders for the variants no installed tool writes exactly
     (PNG of any depth/type, BMP incl. RLE4/RLE8/V5, uncompressed TIFF with any tags,
     ICC profiles, a baseline JPEG encoder for YCCK)
  4. one block per output file, each with a comment saying what it exercises
  5. verification with independent decoders (ImageMagick, libvips, PIL, libtiff tools)
  6. README.md and manifest.json, written from what the verification found

Run it through make_test_images.sh (which sets LC_ALL/TZ and checks the tools).
"""

import hashlib
import io
import json
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib

from PIL import Image, ImageDraw, ImageOps

# --------------------------------------------------------------------------------------------
# 1. Tools and helpers
# --------------------------------------------------------------------------------------------

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = HERE  # the corpus lives next to this script
TOOLS = {
    "convert": "/usr/bin/convert",  # ImageMagick 6 (NOT whatever `convert` is on PATH)
    "identify": "/usr/bin/identify",
    "vips": "/usr/bin/vips",
    "vipsheader": "/usr/bin/vipsheader",
    "vipsthumbnail": "/usr/bin/vipsthumbnail",
    "cjpeg": "/usr/bin/cjpeg",
    "jpegtran": "/usr/bin/jpegtran",
    "tiffcp": "/usr/bin/tiffcp",
    "tiffinfo": "/usr/bin/tiffinfo",
    "tiff2rgba": "/usr/bin/tiff2rgba",
    "exiftool": "/usr/bin/exiftool",
    "cwebp": "/usr/bin/cwebp",
    "img2webp": "/usr/bin/img2webp",
    "webpmux": "/usr/bin/webpmux",
    "gifsicle": "/usr/bin/gifsicle",
    "file": "/usr/bin/file",
}
T = TOOLS
TMP = tempfile.mkdtemp(prefix="thumbtest-")

SUBDIRS = ["orientation", "colour", "jpeg", "png", "bmp", "gif", "webp", "tiff", "patterns",
           "damaged", "disguised", "reference"]
ROOT_FILES = ["photo.jpg", "photo-progressive.jpg", "alpha.png", "photo.tif", "photo.bmp",
              "photo.gif", "photo.webp", "quadrants.png"]

# Registry of every produced file: relative path -> dict(made=..., expect=..., ...)
FILES = {}


def run(*args, stdin=None, check=True, capture=True):
    """Runs a tool; returns stdout bytes. Raises with stderr on failure when check."""
    r = subprocess.run([str(a) for a in args], input=stdin, capture_output=capture)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed ({r.returncode}):\n"
                           f"{r.stderr.decode(errors='replace')}")
    return r.stdout


def run_rc(*args):
    r = subprocess.run([str(a) for a in args], capture_output=True)
    return r.returncode, r.stdout, r.stderr


def out(rel):
    p = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def tmp(name):
    return os.path.join(TMP, name)


def write_bytes(rel, data):
    with open(out(rel), "wb") as f:
        f.write(data)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def register(rel, made, expect, **extra):
    """Records how a file was made and what a thumbnailer must do with it."""
    assert os.path.exists(out(rel)), rel
    FILES[rel] = dict(made=made, expect=expect, **extra)


# --------------------------------------------------------------------------------------------
# 2. Source pictures
# --------------------------------------------------------------------------------------------

RED, GREEN, BLUE, YELLOW = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)
QUAD_COLOURS = {"TL": RED, "TR": GREEN, "BL": BLUE, "BR": YELLOW}


def gradient_column(h, stops):
    """A 1 x h RGB image interpolating between (y, colour) stops."""
    col = Image.new("RGB", (1, h))
    px = col.load()
    for y in range(h):
        for (y0, c0), (y1, c1) in zip(stops, stops[1:]):
            if y0 <= y <= y1:
                t = (y - y0) / max(1, (y1 - y0))
                px[0, y] = tuple(round(a + (b - a) * t) for a, b in zip(c0, c1))
                break
    return col


def add_noise(im, amplitude, seed):
    """Adds uniform integer noise in [-amplitude, amplitude] per channel, from a fixed seed."""
    rnd = random.Random(seed)
    n = 2 * amplitude + 1
    raw = rnd.randbytes(im.width * im.height * len(im.getbands()))
    noise = Image.frombytes(im.mode, im.size, bytes(b % n for b in raw))
    from PIL import ImageChops
    return ImageChops.add(im, noise, scale=1.0, offset=-amplitude)


def make_photo():
    """640x480 photo-like landscape: sky/ground gradients, sun, house, tree, road, mild noise.
    Drawn at 2x and downsampled (antialiased edges), then +-2 noise with seed 1234."""
    W, H = 1280, 960
    sky = gradient_column(H, [(0, (38, 84, 160)), (600, (172, 206, 236)), (H - 1, (172, 206, 236))])
    im = sky.resize((W, H), Image.Resampling.NEAREST)
    ground = gradient_column(H - 600, [(0, (96, 150, 70)), (H - 601, (34, 84, 30))])
    im.paste(ground.resize((W, H - 600), Image.Resampling.NEAREST), (0, 600))
    d = ImageDraw.Draw(im)
    # sun with a soft glow
    for r, c in [(150, (200, 220, 230)), (125, (225, 230, 215)), (100, (255, 236, 150)), (90, (255, 226, 110))]:
        d.ellipse((960 - r, 220 - r, 960 + r, 220 + r), fill=c)
    # distant hills
    d.polygon([(0, 600), (200, 470), (420, 560), (640, 430), (900, 600)], fill=(70, 110, 90))
    d.polygon([(600, 600), (1000, 500), (1280, 560), (1280, 600)], fill=(82, 124, 96))
    # road
    d.polygon([(560, 960), (760, 960), (660, 600), (640, 600)], fill=(110, 108, 104))
    d.line([(660, 960), (650, 600)], fill=(230, 220, 120), width=6)
    # house
    d.rectangle((220, 470, 520, 680), fill=(178, 52, 40))
    d.polygon([(190, 475), (370, 330), (550, 475)], fill=(90, 50, 36))
    d.rectangle((260, 520, 330, 590), fill=(170, 210, 240), outline=(250, 250, 250), width=6)
    d.rectangle((410, 520, 480, 590), fill=(170, 210, 240), outline=(250, 250, 250), width=6)
    d.rectangle((345, 580, 395, 680), fill=(70, 40, 25))
    # tree
    d.rectangle((880, 560, 920, 760), fill=(92, 60, 34))
    d.ellipse((790, 400, 1010, 610), fill=(40, 110, 45))
    d.ellipse((840, 360, 980, 500), fill=(56, 130, 56))
    # a few flowers
    rnd = random.Random(99)
    for _ in range(40):
        x, y = rnd.randrange(0, 540), rnd.randrange(720, 950)
        c = rnd.choice([(240, 240, 90), (240, 120, 160), (250, 250, 250)])
        d.ellipse((x, y, x + 10, y + 10), fill=c)
    im = im.resize((640, 480), Image.Resampling.LANCZOS)
    return add_noise(im, 2, 1234)


def make_quadrants(w=400, h=300):
    """The orientation reference picture: TL red, TR green, BL blue, BR yellow; nothing else."""
    im = Image.new("RGB", (w, h))
    im.paste(RED, (0, 0, w // 2, h // 2))
    im.paste(GREEN, (w // 2, 0, w, h // 2))
    im.paste(BLUE, (0, h // 2, w // 2, h))
    im.paste(YELLOW, (w // 2, h // 2, w, h))
    return im


HIDDEN = (0, 255, 255)  # RGB stored under fully transparent pixels (must never become visible)


def make_alpha():
    """320x240 RGBA: transparent background (hidden RGB = cyan), opaque red disc, green square,
    blue triangle, and a magenta band with alpha 128. Drawn 4x and downsampled (premultiplied)."""
    S = 4
    im = Image.new("RGBA", (320 * S, 240 * S), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    d.ellipse((30 * S, 40 * S, 130 * S, 140 * S), fill=(255, 0, 0, 255))
    d.rectangle((150 * S, 40 * S, 230 * S, 120 * S), fill=(0, 200, 0, 255))
    d.polygon([(275 * S, 30 * S), (310 * S, 140 * S), (240 * S, 140 * S)], fill=(0, 0, 255, 255))
    band = Image.new("RGBA", im.size, (0, 0, 0, 0))
    ImageDraw.Draw(band).rectangle((0, 170 * S, 320 * S - 1, 200 * S - 1), fill=(255, 0, 255, 128))
    im = Image.alpha_composite(im, band)
    im = im.resize((320, 240), Image.Resampling.LANCZOS)  # Pillow resamples RGBA premultiplied
    px = im.load()
    for y in range(240):
        for x in range(320):
            if px[x, y][3] == 0:
                px[x, y] = HIDDEN + (0,)
    return im


# The "card": 160x120 quadrants (same colours as quadrants.png) inside an 8-pixel frame of
# seeded noise drawn from the file's palette. The frame makes RLE/LZW/deflate coders emit
# literal runs and full code tables; the quadrant centres stay pure.
CARD_W, CARD_H, CARD_BORDER = 160, 120, 8
BASE16 = [RED, GREEN, BLUE, YELLOW, (0, 0, 0), (255, 255, 255), (0, 255, 255), (255, 0, 255),
          (128, 128, 128), (128, 0, 0), (0, 128, 0), (0, 0, 128), (128, 128, 0), (0, 128, 128),
          (128, 0, 128), (192, 192, 192)]
PALETTE256 = BASE16 + [(r * 51, round(g * 255 / 7), round(b * 255 / 4))
                       for r in range(6) for g in range(8) for b in range(5)]
assert len(PALETTE256) == 256


def card_indices(ncolours, seed=7):
    """Index grid (rows of ints) for the card: quadrants use indices 0..3, frame uses 0..ncolours-1."""
    rnd = random.Random(seed)
    rows = []
    for y in range(CARD_H):
        row = []
        for x in range(CARD_W):
            if (x < CARD_BORDER or y < CARD_BORDER or x >= CARD_W - CARD_BORDER
                    or y >= CARD_H - CARD_BORDER):
                row.append(rnd.randrange(ncolours))
            else:
                row.append((0 if x < CARD_W // 2 else 1) + (0 if y < CARD_H // 2 else 2))
        rows.append(row)
    return rows


def in_frame(x, y):
    return (x < CARD_BORDER or y < CARD_BORDER or x >= CARD_W - CARD_BORDER
            or y >= CARD_H - CARD_BORDER)


def card_rgb_rows(ncolours=16, palette=BASE16):
    return [[palette[i] for i in row] for row in card_indices(ncolours)]


def rows_to_image(rows, mode):
    h, w = len(rows), len(rows[0])
    im = Image.new(mode, (w, h))
    im.putdata([p for row in rows for p in row])
    return im


CARD_CENTRES = {"TL": (40, 30), "TR": (120, 30), "BL": (40, 90), "BR": (120, 90)}

# 16-bit card: high and low byte of every quadrant sample differ, so a decoder that keeps the
# low byte or swaps bytes shows wrong colours. 8-bit equivalents: 230 and 25.
HI16, LO16 = 230 * 257 - 100, 25 * 257 + 100  # 0xE682, 0x197D
QUAD16 = [(HI16, LO16, LO16), (LO16, HI16, LO16), (LO16, LO16, HI16), (HI16, HI16, LO16)]
QUAD16_AS8 = {"TL": (230, 25, 25), "TR": (25, 230, 25), "BL": (25, 25, 230), "BR": (230, 230, 25)}


def card16_rgb_rows():
    rows = []
    for y, row in enumerate(card_indices(16)):
        r = []
        for x, i in enumerate(row):
            if in_frame(x, y):
                r.append(tuple(v * 257 for v in BASE16[i]))
            else:
                r.append(QUAD16[i])
        rows.append(r)
    return rows


# Grey card: quadrant levels 32/96/160/224 (TL/TR/BL/BR); frame = 16 grey levels.
GREY_LEVELS = {"TL": 32, "TR": 96, "BL": 160, "BR": 224}
GREY16 = {32: 32 * 257 + 100, 96: 96 * 257 + 100, 160: 160 * 257 - 100, 224: 224 * 257 - 100}


def grey_card_rows(bits=8):
    q = [GREY_LEVELS[k] for k in ("TL", "TR", "BL", "BR")]
    rows = []
    for y, row in enumerate(card_indices(16, seed=8)):
        r = []
        for x, i in enumerate(row):
            if in_frame(x, y):
                v = i * 17
                r.append(v * 257 if bits == 16 else v)
            else:
                r.append(GREY16[q[i]] if bits == 16 else q[i])
        rows.append(r)
    return rows


def make_bilevel(w=320, h=240):
    """Black-and-white drawing: TL filled black rectangle, TR black ring (white centre),
    BL black 'L' shape and thin lines (white centre), BR filled black disc. Mode '1'."""
    im = Image.new("L", (w, h), 255)
    d = ImageDraw.Draw(im)
    d.rectangle((10, 10, 149, 109), fill=0)
    d.ellipse((240 - 45, 60 - 45, 240 + 45, 60 + 45), fill=0)
    d.ellipse((240 - 37, 60 - 37, 240 + 37, 60 + 37), fill=255)
    d.rectangle((12, 130, 30, 228), fill=0)
    d.rectangle((12, 210, 120, 228), fill=0)
    for i in range(6):
        d.line((40 + i * 14, 132, 148, 200 - i * 10), fill=0, width=1)
    d.ellipse((240 - 45, 180 - 45, 240 + 45, 180 + 45), fill=0)
    d.rectangle((0, 0, w - 1, h - 1), outline=0)
    return im.convert("1", dither=Image.Dither.NONE)


BILEVEL_EXPECT = {"TL": "black", "TR": "white", "BL": "white", "BR": "black"}
BILEVEL_CENTRES = {"TL": (80, 60), "TR": (240, 60), "BL": (80, 180), "BR": (240, 180)}

# Colour patches (320x240, 2x2 patches of 160x120) for the colour-management files.
PATCH_CENTRES = {"TL": (80, 60), "TR": (240, 60), "BL": (80, 180), "BR": (240, 180)}
SRGB_PATCHES = {"TL": (255, 0, 0), "TR": (0, 255, 0), "BL": (0, 0, 255), "BR": (128, 128, 128)}
# CMYK ink amounts (0 = no ink, 255 = full ink) used for every CMYK/YCCK file. All are nodes of
# the test CMYK profile's 6-point grid (multiples of 51), so colour-managed results do not depend
# on the CMM's interpolation.
CMYK_PATCHES = {"TL": (0, 255, 255, 0), "TR": (255, 0, 255, 0), "BL": (255, 255, 0, 0),
                "BR": (0, 0, 0, 153)}


def patches_image(colours, mode="RGB"):
    im = Image.new(mode, (320, 240))
    for k, (x, y) in PATCH_CENTRES.items():
        im.paste(colours[k], (x - 80, y - 60, x + 80, y + 60))
    return im


def naive_cmyk_to_rgb(c, m, y, k):
    return tuple(round((255 - v) * (255 - k) / 255) for v in (c, m, y))


# --------------------------------------------------------------------------------------------
# 3. Hand-written encoders
# --------------------------------------------------------------------------------------------

# ---- PNG -----------------------------------------------------------------------------------

def png_chunk(typ, data):
    return struct.pack(">I", len(data)) + typ + data + struct.pack(">I", zlib.crc32(typ + data))


def _pack_row(row, bitdepth, channels):
    """row: list of ints (1 channel) or tuples. Returns packed bytes (no filter byte)."""
    if bitdepth == 8:
        if channels == 1:
            return bytes(row)
        return bytes(v for px in row for v in px)
    if bitdepth == 16:
        if channels == 1:
            return b"".join(struct.pack(">H", v) for v in row)
        return b"".join(struct.pack(">" + "H" * channels, *px) for px in row)
    assert channels == 1 and bitdepth in (1, 2, 4)
    per = 8 // bitdepth
    outb = bytearray()
    for i in range(0, len(row), per):
        b = 0
        chunk = row[i:i + per]
        for j in range(per):
            b = (b << bitdepth) | (chunk[j] if j < len(chunk) else 0)
        outb.append(b)
    return bytes(outb)


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _filter_rows(raw_rows, bpp, adaptive=True):
    """PNG filtering with the usual minimum-sum-of-absolute-differences heuristic."""
    outb = bytearray()
    prev = bytes(len(raw_rows[0])) if raw_rows else b""
    for cur in raw_rows:
        n = len(cur)
        cands = [(0, cur)]
        if adaptive:
            sub = bytes((cur[i] - (cur[i - bpp] if i >= bpp else 0)) & 255 for i in range(n))
            up = bytes((cur[i] - prev[i]) & 255 for i in range(n))
            avg = bytes((cur[i] - (((cur[i - bpp] if i >= bpp else 0) + prev[i]) >> 1)) & 255
                        for i in range(n))
            pae = bytes((cur[i] - _paeth(cur[i - bpp] if i >= bpp else 0, prev[i],
                                         prev[i - bpp] if i >= bpp else 0)) & 255 for i in range(n))
            cands += [(1, sub), (2, up), (3, avg), (4, pae)]
        best = min(cands, key=lambda c: sum(v if v < 128 else 256 - v for v in c[1]))
        outb.append(best[0])
        outb += best[1]
        prev = cur
    return bytes(outb)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png_bytes(rows, bitdepth, colortype, palette=None, trns=None, iccp=None, interlace=False,
              adaptive=True, width=None, height=None, extra_chunks=()):
    """Encodes a PNG. rows: list of rows of samples (int or tuple). colortype: 0 grey, 2 RGB,
    3 palette, 4 grey+alpha, 6 RGBA. extra_chunks: (type, data) pairs written right after IHDR."""
    h = height if height is not None else len(rows)
    w = width if width is not None else len(rows[0])
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colortype]
    bpp = max(1, channels * bitdepth // 8)
    chunks = [png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bitdepth, colortype, 0, 0,
                                               1 if interlace else 0))]
    chunks += [png_chunk(typ, data) for typ, data in extra_chunks]
    if iccp is not None:
        name, prof = iccp
        chunks.append(png_chunk(b"iCCP", name + b"\0\0" + zlib.compress(prof, 9)))
    if palette is not None:
        chunks.append(png_chunk(b"PLTE", bytes(v for c in palette for v in c)))
    if trns is not None:
        chunks.append(png_chunk(b"tRNS", trns))
    if not interlace:
        raw = [_pack_row(r, bitdepth, channels) for r in rows]
        data = _filter_rows(raw, bpp, adaptive)
    else:
        data = b""
        for x0, y0, dx, dy in ADAM7:
            sub = [row[x0::dx] for row in rows[y0::dy]]
            if not sub or not sub[0]:
                continue
            data += _filter_rows([_pack_row(r, bitdepth, channels) for r in sub], bpp, adaptive)
    chunks.append(png_chunk(b"IDAT", zlib.compress(data, 9)))
    chunks.append(png_chunk(b"IEND", b""))
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def image_rows(im):
    w, h = im.size
    data = list(im.getdata())
    return [data[y * w:(y + 1) * w] for y in range(h)]


def save_png(rel_or_path, im_or_rows, **kw):
    """Saves a PIL image (L, LA, RGB, RGBA, P) or rows with explicit bitdepth/colortype."""
    if isinstance(im_or_rows, Image.Image):
        im = im_or_rows
        ct = {"L": 0, "RGB": 2, "LA": 4, "RGBA": 6, "P": 3}[im.mode]
        if im.mode == "P":
            pal = im.getpalette()[:3 * 256]
            kw.setdefault("palette", [tuple(pal[i:i + 3]) for i in range(0, len(pal), 3)])
        data = png_bytes(image_rows(im), 8, ct, **kw)
    else:
        data = png_bytes(im_or_rows, **kw)
    path = rel_or_path if os.path.isabs(rel_or_path) else out(rel_or_path)
    with open(path, "wb") as f:
        f.write(data)


# ---- BMP -----------------------------------------------------------------------------------

def _rle8_row(row):
    outb = bytearray()
    i, n = 0, len(row)
    while i < n:
        j = i
        while j < n and row[j] == row[i] and j - i < 255:
            j += 1
        if j - i >= 3 or j == n:
            outb += bytes((j - i, row[i]))
            i = j
            continue
        # collect a literal stretch (until a run of >= 3 starts)
        k = i
        while k < n and k - i < 255:
            if k + 2 < n and row[k] == row[k + 1] == row[k + 2]:
                break
            k += 1
        lit = row[i:k]
        if len(lit) >= 3:
            outb += bytes((0, len(lit))) + bytes(lit)
            if len(lit) % 2:
                outb.append(0)
        else:
            for v in lit:
                outb += bytes((1, v))
        i = k
    return bytes(outb)


def _rle4_row(row):
    outb = bytearray()
    i, n = 0, len(row)
    while i < n:
        j = i
        while j < n and row[j] == row[i] and j - i < 255:
            j += 1
        if j - i >= 4 or j == n:
            outb += bytes((j - i, (row[i] << 4) | row[i]))
            i = j
            continue
        k = i
        while k < n and k - i < 252:
            if k + 3 < n and row[k] == row[k + 1] == row[k + 2] == row[k + 3]:
                break
            k += 1
        lit = row[i:k]
        if len(lit) >= 3:
            packed = bytes(((lit[m] << 4) | (lit[m + 1] if m + 1 < len(lit) else 0))
                           for m in range(0, len(lit), 2))
            outb += bytes((0, len(lit))) + packed
            if len(packed) % 2:
                outb.append(0)
        else:
            for v in lit:
                outb += bytes((1, v << 4))
        i = k
    return bytes(outb)


def bmp_bytes(rows, bpp, palette=None, compression="rgb", topdown=False, header="info",
              masks=None, rle_rows_override=None, declared=None):
    """rows: top-down list of rows; entries are palette indices (bpp<=8) or RGB/RGBA tuples.
    compression: rgb | rle8 | rle4 | bitfields. header: info (40 bytes) | v5 (124 bytes).
    masks: (r, g, b[, a]) for bitfields. declared: (w, h) to lie about the size."""
    h = len(rows)
    w = len(rows[0]) if rows else 0
    stored = rows if topdown else rows[::-1]
    if compression in ("rle8", "rle4"):
        assert not topdown
        enc = _rle8_row if compression == "rle8" else _rle4_row
        data = bytearray()
        for y, r in enumerate(stored):
            data += enc(r)
            data += b"\x00\x01" if y == h - 1 else b"\x00\x00"
        if rle_rows_override is not None:
            data = bytearray(rle_rows_override)
        data = bytes(data)
    else:
        data = bytearray()
        for r in stored:
            if bpp == 24:
                line = bytes(v for px in r for v in (px[2], px[1], px[0]))
            elif bpp == 32:
                line = bytes(v for px in r for v in (px[2], px[1], px[0], px[3]))
            elif bpp == 16:
                line = b"".join(struct.pack("<H", px) for px in r)  # pre-packed 16-bit values
            elif bpp == 8:
                line = bytes(r)
            else:
                line = _pack_row(r, bpp, 1)
            line += bytes((-len(line)) % 4)
            data += line
        data = bytes(data)
    comp_code = {"rgb": 0, "rle8": 1, "rle4": 2, "bitfields": 3}[compression]
    pal = b""
    if palette is not None:
        pal = b"".join(bytes((c[2], c[1], c[0], 0)) for c in palette)
    extra_masks = b""
    dw, dh = declared if declared else (w, h)
    if header == "info":
        hdr = struct.pack("<IiiHHIIiiII", 40, dw, -dh if topdown else dh, 1, bpp, comp_code,
                          len(data) if comp_code else 0, 2835, 2835,
                          len(palette) if palette else 0, 0)
        if compression == "bitfields":
            extra_masks = struct.pack("<III", *masks[:3])
    else:  # BITMAPV5HEADER
        m = list(masks) + [0] * (4 - len(masks))
        hdr = struct.pack("<IiiHHIIiiII", 124, dw, -dh if topdown else dh, 1, bpp, comp_code,
                          len(data), 2835, 2835, len(palette) if palette else 0, 0)
        hdr += struct.pack("<IIII", *m)
        hdr += b"BGRs"  # LCS_sRGB, stored little-endian as 'sRGB' -> bytes 'BGRs'
        hdr += bytes(36) + struct.pack("<III", 0, 0, 0)  # endpoints, gamma
        hdr += struct.pack("<IIII", 4, 0, 0, 0)  # LCS_GM_IMAGES, no profile, reserved
        assert len(hdr) == 124
    off = 14 + len(hdr) + len(extra_masks) + len(pal)
    fh = b"BM" + struct.pack("<IHHI", off + len(data), 0, 0, off)
    return fh + hdr + extra_masks + pal + data


# ---- TIFF ----------------------------------------------------------------------------------

TIFF_TYPES = {"BYTE": (1, "B"), "ASCII": (2, "s"), "SHORT": (3, "H"), "LONG": (4, "I"),
              "RATIONAL": (5, "II"), "DOUBLE": (12, "d")}


def tiff_bytes(width, height, strips, tags, order="<", tiles=None):
    """Minimal classic TIFF writer: header, ONE IFD right after the header, out-of-line tag
    values, then the strip data (so a file cut in its second half still has an intact IFD).
    strips: list of byte strings (tiles, row by row, when tiles=(width, length) is given).
    tags: {tag: (typename, [values])}; Strip- or TileOffsets/ByteCounts, TileWidth/Length and
    ImageWidth/Length are filled in here."""
    tags = dict(tags)
    tags[256] = ("LONG", [width])
    tags[257] = ("LONG", [height])
    offsets_tag, counts_tag = (324, 325) if tiles else (273, 279)
    if tiles:
        tags[322], tags[323] = ("LONG", [tiles[0]]), ("LONG", [tiles[1]])
    tags[counts_tag] = ("LONG", [len(s) for s in strips])
    tags[offsets_tag] = ("LONG", [0] * len(strips))  # patched below
    items = sorted(tags.items())
    ifd_off = 8
    ifd_size = 2 + 12 * len(items) + 4
    extra_off = ifd_off + ifd_size

    def encode(typename, values):
        code, fmt = TIFF_TYPES[typename]
        if typename == "ASCII":
            b = values.encode() + b"\0"
            return code, len(b), b
        if typename == "RATIONAL":
            b = b"".join(struct.pack(order + "II", *v) for v in values)
            return code, len(values), b
        return code, len(values), struct.pack(order + fmt * len(values), *values)

    # first pass to compute sizes
    blobs = {}
    cur = extra_off
    for tag, (tn, vals) in items:
        code, count, b = encode(tn, vals)
        if len(b) > 4:
            blobs[tag] = cur
            cur += len(b) + (len(b) % 2)
    data_off = cur
    offsets = []
    for s in strips:
        offsets.append(data_off)
        data_off += len(s)
    tags[offsets_tag] = ("LONG", offsets)
    items = sorted(tags.items())
    ifd = struct.pack(order + "H", len(items))
    extra = b""
    for tag, (tn, vals) in items:
        code, count, b = encode(tn, vals)
        if len(b) > 4:
            assert extra_off + len(extra) == blobs[tag]
            ifd += struct.pack(order + "HHII", tag, code, count, blobs[tag])
            extra += b + bytes(len(b) % 2)
        else:
            ifd += struct.pack(order + "HHI", tag, code, count) + b + bytes(4 - len(b))
    ifd += struct.pack(order + "I", 0)
    head = (b"II*\0" if order == "<" else b"MM\0*") + struct.pack(order + "I", ifd_off)
    return head + ifd + extra + b"".join(strips)


def tiff_from_rows(rows, spp, bps, photometric, order="<", rows_per_strip=None, sample_format=1,
                   extra_tags=None):
    """Chunky (PlanarConfiguration=1) uncompressed TIFF from top-down rows of samples."""
    height, width = len(rows), len(rows[0])
    rps = rows_per_strip or height

    def pack_row(r):
        if bps == 8:
            return bytes(v for px in r for v in (px if spp > 1 else (px,)))
        if bps == 16:
            flat = [v for px in r for v in (px if spp > 1 else (px,))]
            return struct.pack(order + "H" * len(flat), *flat)
        if bps == 32 and sample_format == 3:
            flat = [v for px in r for v in (px if spp > 1 else (px,))]
            return struct.pack(order + "f" * len(flat), *flat)
        if bps == 1:
            return _pack_row(r, 1, 1)
        raise ValueError(bps)

    strips = [b"".join(pack_row(r) for r in rows[y:y + rps]) for y in range(0, height, rps)]
    tags = {258: ("SHORT", [bps] * spp), 259: ("SHORT", [1]), 262: ("SHORT", [photometric]),
            277: ("SHORT", [spp]), 278: ("LONG", [rps]), 282: ("RATIONAL", [(72, 1)]),
            283: ("RATIONAL", [(72, 1)]), 284: ("SHORT", [1]), 296: ("SHORT", [2])}
    if sample_format != 1:
        tags[339] = ("SHORT", [sample_format] * spp)
    tags.update(extra_tags or {})
    return tiff_bytes(width, height, strips, tags, order)


# ---- ICC profiles --------------------------------------------------------------------------

def s15f16(v):
    return struct.pack(">i", round(v * 65536))


D50 = (0.9642, 1.0, 0.8249)


def icc_profile(cls, space, pcs, tags):
    """ICC v2.1 profile. tags: list of (signature, data); identical data is stored once."""
    n = len(tags)
    off = 128 + 4 + 12 * n
    table = b""
    body = b""
    placed = {}
    for sig, data in tags:
        if data not in placed:
            placed[data] = off + len(body)
            body += data + bytes((-len(data)) % 4)
        table += sig + struct.pack(">II", placed[data], len(data))
    size = off + len(body)
    header = (struct.pack(">I", size) + b"\0\0\0\0" + struct.pack(">I", 0x02100000) + cls + space
              + pcs + struct.pack(">6H", 2024, 1, 1, 0, 0, 0) + b"acsp" + bytes(4) + bytes(4)
              + bytes(4) + bytes(4) + bytes(8) + struct.pack(">I", 0)
              + b"".join(s15f16(v) for v in D50) + bytes(4) + bytes(16) + bytes(28))
    assert len(header) == 128
    return header + struct.pack(">I", n) + table + body


def icc_desc(text):
    a = text.encode() + b"\0"
    return b"desc" + bytes(4) + struct.pack(">I", len(a)) + a + bytes(4) + bytes(4) + bytes(2) + bytes(1) + bytes(67)


def icc_text(text):
    return b"text" + bytes(4) + text.encode() + b"\0"


def icc_xyz(xyz):
    return b"XYZ " + bytes(4) + b"".join(s15f16(v) for v in xyz)


def make_gray_profile():
    """Grey display profile whose tone curve (kTRC, 1024 samples) is the sRGB curve, D50 white, so
    applying it leaves sRGB-encoded grey values unchanged. Hand-made, public domain."""
    curve = [round(65535 * srgb_decode(i / 1023)) for i in range(1024)]
    return icc_profile(b"mntr", b"GRAY", b"XYZ ", [
        (b"desc", icc_desc("ThumbnailApi test grey (sRGB tone curve)")),
        (b"cprt", icc_text("No copyright, generated by make_test_images.py")),
        (b"wtpt", icc_xyz(D50)),
        (b"kTRC", b"curv" + bytes(4) + struct.pack(">I", 1024) + struct.pack(">1024H", *curve)),
    ])


# Simple-ink CMYK model: each ink lets through a fraction of its complementary light, applied
# multiplicatively in linear light. Deliberately NOT the naive 255-x formula, so that a decoder
# that ignores the embedded profile shows different colours from one that applies it.
INK_T = 0.06  # residual transmission of C, M, Y at full coverage
BLACK_T = 0.03  # residual transmission of K
SRGB_D50 = [[0.4360747, 0.3850649, 0.1430804], [0.2225045, 0.7168786, 0.0606169],
            [0.0139322, 0.0971045, 0.7141733]]


def srgb_encode(v):
    v = min(1.0, max(0.0, v))
    return 12.92 * v if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055


def srgb_decode(v):
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def ink_model_linear(c, m, y, k):
    kk = 1 - k * (1 - BLACK_T)
    return ((1 - c * (1 - INK_T)) * kk, (1 - m * (1 - INK_T)) * kk, (1 - y * (1 - INK_T)) * kk)


def ink_model_srgb8(c, m, y, k):
    return tuple(round(255 * srgb_encode(v)) for v in ink_model_linear(c / 255, m / 255, y / 255, k / 255))


def lin_to_lab(rgb):
    X, Y, Z = (sum(SRGB_D50[i][j] * rgb[j] for j in range(3)) for i in range(3))

    def f(t):
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116
    fx, fy, fz = f(X / D50[0]), f(Y / D50[1]), f(Z / D50[2])
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def lab_to_lin(L, a, b):
    fy = (L + 16) / 116
    fx, fz = fy + a / 500, fy - b / 200

    def finv(t):
        return t ** 3 if t ** 3 > 216 / 24389 else (116 * t - 16) / (24389 / 27)
    X, Y, Z = finv(fx) * D50[0], finv(fy) * D50[1], finv(fz) * D50[2]
    det_inv = _inv3(SRGB_D50)
    return tuple(sum(det_inv[i][j] * (X, Y, Z)[j] for j in range(3)) for i in range(3))


def _inv3(m):
    a, b, c = m[0]
    d, e, f = m[1]
    g, h, i = m[2]
    det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    return [[(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
            [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
            [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det]]


def lab_v2_16(L, a, b):
    enc = (L * 65280 / 100, (a + 128) * 256, (b + 128) * 256)
    return tuple(min(65535, max(0, round(v))) for v in enc)


def lut16(in_ch, out_ch, grid, clut_values):
    head = b"mft2" + bytes(4) + bytes((in_ch, out_ch, grid, 0))
    head += b"".join(s15f16(1.0 if i == j else 0.0) for i in range(3) for j in range(3))
    head += struct.pack(">HH", 2, 2)
    tables_in = struct.pack(">" + "H" * (2 * in_ch), *([0, 65535] * in_ch))
    tables_out = struct.pack(">" + "H" * (2 * out_ch), *([0, 65535] * out_ch))
    clut = struct.pack(">" + "H" * len(clut_values), *clut_values)
    return head + tables_in + clut + tables_out


def make_cmyk_profile():
    """CMYK output profile (Lab PCS) for the simple-ink model: A2B0/A2B1 lut16 with a 6-point
    grid (CMYK nodes at multiples of 51), B2A0/B2A1 lut16 with a 9-point Lab grid (no black
    generation). Hand-made, public domain, ~14 KB."""
    g = 6
    a2b = []
    for ci in range(g):
        for mi in range(g):
            for yi in range(g):
                for ki in range(g):
                    lin = ink_model_linear(ci / (g - 1), mi / (g - 1), yi / (g - 1), ki / (g - 1))
                    a2b += lab_v2_16(*lin_to_lab(lin))
    gb = 9
    b2a = []
    for li in range(gb):
        for ai in range(gb):
            for bi in range(gb):
                enc = [v / (gb - 1) * 65535 for v in (li, ai, bi)]
                L, a, b = enc[0] * 100 / 65280, enc[1] / 256 - 128, enc[2] / 256 - 128
                lin = lab_to_lin(L, a, b)
                inks = [min(1.0, max(0.0, (1 - min(1.0, max(0.0, v))) / (1 - INK_T))) for v in lin]
                b2a += [round(v * 65535) for v in inks] + [0]
    a2b_tag = lut16(4, 3, g, a2b)
    b2a_tag = lut16(3, 4, gb, b2a)
    return icc_profile(b"prtr", b"CMYK", b"Lab ", [
        (b"desc", icc_desc("ThumbnailApi test CMYK (simple ink model)")),
        (b"cprt", icc_text("No copyright, generated by make_test_images.py")),
        (b"wtpt", icc_xyz(D50)),
        (b"A2B0", a2b_tag), (b"A2B1", a2b_tag),
        (b"B2A0", b2a_tag), (b"B2A1", b2a_tag),
    ])


# ---- Baseline JPEG encoder (only used for YCCK, which no installed tool writes) -------------

ZIGZAG = [0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34,
          27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37,
          44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63]
STD_LUMA_Q = [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40,
              57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24,
              35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98,
              112, 100, 103, 99]
STD_CHROMA_Q = [17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99,
                99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99] + [99] * 32
def _standard_huffman_tables():
    """The Annex K tables, read back from a JPEG that libjpeg wrote without optimisation
    (rather than typed in by hand). Returns {(class, id): (counts, values)}."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "JPEG", quality=90, optimize=False)
    data = buf.getvalue()
    tables, i = {}, 2
    while i < len(data) - 1 and data[i] == 0xFF and data[i + 1] != 0xDA:
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        seg = data[i + 4:i + 2 + length]
        if data[i + 1] == 0xC4:
            j = 0
            while j < len(seg):
                tc, th = seg[j] >> 4, seg[j] & 15
                counts = list(seg[j + 1:j + 17])
                values = list(seg[j + 17:j + 17 + sum(counts)])
                tables[(tc, th)] = (counts, values)
                j += 17 + sum(counts)
        i += 2 + length
    return tables


_STD = _standard_huffman_tables()
DC_LUMA, AC_LUMA, DC_CHROMA, AC_CHROMA = _STD[(0, 0)], _STD[(1, 0)], _STD[(0, 1)], _STD[(1, 1)]
assert len(AC_LUMA[1]) == 162 and len(AC_CHROMA[1]) == 162 and len(DC_LUMA[1]) == 12


def _huff_codes(table):
    counts, values = table
    codes, code, k = {}, 0, 0
    for length in range(1, 17):
        for _ in range(counts[length - 1]):
            codes[values[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return codes


def _scale_q(q, quality):
    s = 5000 // quality if quality < 50 else 200 - quality * 2
    return [min(255, max(1, (v * s + 50) // 100)) for v in q]


_COS = [[math.cos((2 * x + 1) * u * math.pi / 16) * (math.sqrt(0.5) if u == 0 else 1) / 2
         for x in range(8)] for u in range(8)]


def _fdct(block):
    tmpb = [[sum(_COS[u][x] * block[y * 8 + x] for x in range(8)) for u in range(8)] for y in range(8)]
    return [sum(_COS[v][y] * tmpb[y][u] for y in range(8)) for v in range(8) for u in range(8)]


class _BitWriter:
    def __init__(self):
        self.buf, self.acc, self.n = bytearray(), 0, 0

    def put(self, code, length):
        self.acc = (self.acc << length) | code
        self.n += length
        while self.n >= 8:
            self.n -= 8
            b = (self.acc >> self.n) & 255
            self.buf.append(b)
            if b == 255:
                self.buf.append(0)

    def flush(self):
        if self.n:
            self.put((1 << (8 - self.n)) - 1, 8 - self.n)


def jpeg_4comp_bytes(planes, width, height, adobe_transform, quality=95):
    """Baseline, non-subsampled, 4-component JPEG with an Adobe APP14 marker.
    planes: 4 lists of width*height samples (already in the JPEG colour space)."""
    assert width % 8 == 0 and height % 8 == 0
    ql, qc = _scale_q(STD_LUMA_Q, quality), _scale_q(STD_CHROMA_Q, quality)
    # component i -> (quant table, dc/ac table); components 1 and 4 (Y, K) use the luma tables
    comp_tables = [0, 1, 1, 0]
    qt = [ql, qc]
    huff = [(_huff_codes(DC_LUMA), _huff_codes(AC_LUMA)), (_huff_codes(DC_CHROMA), _huff_codes(AC_CHROMA))]

    def seg(marker, payload):
        return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload

    outb = b"\xff\xd8"
    outb += seg(0xEE, b"Adobe" + struct.pack(">HHHB", 100, 0, 0, adobe_transform))
    for i in range(2):
        outb += seg(0xDB, bytes((i,)) + bytes(qt[i][ZIGZAG[k]] for k in range(64)))
    outb += seg(0xC0, struct.pack(">BHHB", 8, height, width, 4)
                + b"".join(bytes((i + 1, 0x11, comp_tables[i])) for i in range(4)))
    for cls, tid, tab in [(0, 0, DC_LUMA), (1, 0, AC_LUMA), (0, 1, DC_CHROMA), (1, 1, AC_CHROMA)]:
        outb += seg(0xC4, bytes(((cls << 4) | tid,)) + bytes(tab[0]) + bytes(tab[1]))
    outb += seg(0xDA, bytes((4,)) + b"".join(bytes((i + 1, (comp_tables[i] << 4) | comp_tables[i]))
                                             for i in range(4)) + bytes((0, 63, 0)))
    bw = _BitWriter()
    pred = [0, 0, 0, 0]

    def category(v):
        v = abs(v)
        n = 0
        while v:
            n += 1
            v >>= 1
        return n

    def bits_of(v, n):
        return v if v >= 0 else v + (1 << n) - 1

    for by in range(0, height, 8):
        for bx in range(0, width, 8):
            for c in range(4):
                p = planes[c]
                block = [p[(by + y) * width + bx + x] - 128 for y in range(8) for x in range(8)]
                coef = _fdct(block)
                q = qt[comp_tables[c]]
                zz = [int(round(coef[ZIGZAG[k]] / q[ZIGZAG[k]])) for k in range(64)]
                dc_codes, ac_codes = huff[comp_tables[c]]
                diff = zz[0] - pred[c]
                pred[c] = zz[0]
                n = category(diff)
                bw.put(*dc_codes[n])
                if n:
                    bw.put(bits_of(diff, n), n)
                run = 0
                for k in range(1, 64):
                    v = zz[k]
                    if v == 0:
                        run += 1
                        continue
                    while run > 15:
                        bw.put(*ac_codes[0xF0])
                        run -= 16
                    n = category(v)
                    bw.put(*ac_codes[(run << 4) | n])
                    bw.put(bits_of(v, n), n)
                    run = 0
                if run:
                    bw.put(*ac_codes[0x00])
    bw.flush()
    return outb + bytes(bw.buf) + b"\xff\xd9"


for _t in (DC_LUMA, DC_CHROMA, AC_LUMA, AC_CHROMA):
    assert sum(_t[0]) == len(_t[1])


# --------------------------------------------------------------------------------------------
# 4. The corpus, one block per file
# --------------------------------------------------------------------------------------------

def orient_store(im, n):
    """Stored pixels for EXIF/TIFF orientation n: the inverse of the transform a viewer applies."""
    T_ = Image.Transpose
    inverse = {1: None, 2: T_.FLIP_LEFT_RIGHT, 3: T_.ROTATE_180, 4: T_.FLIP_TOP_BOTTOM,
               5: T_.TRANSPOSE, 6: T_.ROTATE_90, 7: T_.TRANSVERSE, 8: T_.ROTATE_270}[n]
    return im if inverse is None else im.transpose(inverse)


ORIENT_NAMES = {1: "top-left (identity)", 2: "mirror horizontal", 3: "rotate 180",
                4: "mirror vertical", 5: "transpose (mirror horizontal + rotate 270 CW)",
                6: "rotate 90 CW", 7: "transverse (mirror horizontal + rotate 90 CW)",
                8: "rotate 270 CW (90 CCW)"}

Q_EXPECT = "thumbnail shows TL red, TR green, BL blue, BR yellow"
CARD_EXPECT = ("thumbnail quadrant centres: TL red (255,0,0), TR green (0,255,0), BL blue (0,0,255), "
               "BR yellow (255,255,0); frame of coloured noise at the edges")
CARD16_EXPECT = ("quadrant centres ~ TL (230,25,25), TR (25,230,25), BL (25,25,230), BR (230,230,25); "
                 "~(130,125,125)-like values mean the low byte was used / bytes swapped")
GREY_EXPECT = "quadrant centres grey 32 (TL), 96 (TR), 160 (BL), 224 (BR)"
BILEVEL_TXT = ("thumbnail centres: TL black, TR white (inside a black ring), BL white, BR black (disc)")


def build_sources():
    S = {}
    S["photo640"] = make_photo()
    S["photo320"] = S["photo640"].resize((320, 240), Image.Resampling.LANCZOS)
    S["quad"] = make_quadrants()
    S["alpha"] = make_alpha()
    S["bilevel"] = make_bilevel()
    S["card_rows"] = card_rgb_rows()
    S["card"] = rows_to_image(S["card_rows"], "RGB")
    S["photo320"].save(tmp("photo320.ppm"))
    S["photo640"].save(tmp("photo640.ppm"))
    S["quad"].save(tmp("quad.ppm"))
    save_png(tmp("photo320.png"), S["photo320"])
    save_png(tmp("card.png"), S["card"])
    # The two vips built-in RGB profiles (CC0 / "use freely"), taken from files vips tags.
    for name in ("srgb", "p3"):
        run(T["vips"], "icc_transform", tmp("card.png"), tmp(f"prof-{name}.jpg"), name,
            "--input-profile", "srgb")
        S["icc_" + name] = run(T["exiftool"], "-b", "-ICC_Profile", tmp(f"prof-{name}.jpg"))
    S["icc_gray"] = make_gray_profile()
    S["icc_cmyk"] = make_cmyk_profile()
    with open(tmp("test-cmyk.icc"), "wb") as f:
        f.write(S["icc_cmyk"])
    return S


def make_core(S):
    # photo.jpg: baseline JPEG, q90, 4:2:0 (cjpeg defaults), 640x480 photo-like picture
    run(T["cjpeg"], "-quality", "90", "-baseline", "-outfile", out("photo.jpg"), tmp("photo640.ppm"))
    register("photo.jpg", "cjpeg -quality 90 (baseline, 4:2:0, standard Huffman tables) from the 640x480 PHOTO picture",
             "thumbnail; compare with reference/photo-jpg.png", kind="decode", ref="reference/photo-jpg.png")
    # photo-progressive.jpg: same DCT coefficients re-encoded progressively (lossless jpegtran)
    run(T["jpegtran"], "-progressive", "-copy", "all", "-outfile", out("photo-progressive.jpg"), out("photo.jpg"))
    register("photo-progressive.jpg", "jpegtran -progressive of photo.jpg (lossless: decodes to exactly the same pixels)",
             "thumbnail identical to photo.jpg's", kind="decode", same_pixels_as="photo.jpg")
    # alpha.png: RGBA, transparent background whose hidden RGB is cyan, semi-transparent band
    save_png("alpha.png", S["alpha"])
    register("alpha.png", "own PNG writer, 8-bit RGBA (colour type 6) of the ALPHA picture",
             "thumbnail keeps transparency (PNG/WebP output): corners alpha 0; disc red, square green "
             "(0,200,0), triangle blue, band magenta at alpha ~128. No cyan anywhere (cyan is the RGB "
             "hidden under alpha 0: seeing it means alpha was dropped or not premultiplied). Flattened "
             "output must show the background colour, not cyan, in the corners.",
             kind="decode", ref="reference/alpha-png.png")
    # photo.tif: RGB, LZW, no predictor, 320x240
    with open(tmp("photo320-none.tif"), "wb") as f:
        f.write(tiff_from_rows(image_rows(S["photo320"]), 3, 8, 2))
    run(T["tiffcp"], "-c", "lzw", tmp("photo320-none.tif"), out("photo.tif"))
    register("photo.tif", "own TIFF writer + tiffcp -c lzw, 320x240 PHOTO", "thumbnail; compare with reference/photo-tif.png",
             kind="decode", ref="reference/photo-tif.png")
    # photo.bmp: 24-bit BI_RGB, bottom-up, BITMAPINFOHEADER
    write_bytes("photo.bmp", bmp_bytes(image_rows(S["photo320"]), 24))
    register("photo.bmp", "own BMP writer: BITMAPINFOHEADER, 24 bpp, BI_RGB, bottom-up, 320x240 PHOTO",
             "thumbnail; compare with reference/photo-bmp.png", kind="decode", ref="reference/photo-bmp.png")
    # photo.gif: 256-colour median-cut palette with Floyd-Steinberg dither, not interlaced
    S["photo_p"] = S["photo320"].quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG)
    S["photo_p"].save(out("photo.gif"), interlace=False, optimize=False)
    register("photo.gif", "PIL: median-cut 256-colour palette + Floyd-Steinberg, not interlaced, 320x240 (Pillow writes "
             "GIF87a when no extension block is needed)",
             "thumbnail; compare with reference/photo-gif.png", kind="decode", ref="reference/photo-gif.png")
    # photo.webp: lossy VP8
    run(T["cwebp"], "-quiet", "-q", "80", "-m", "6", "-metadata", "none", tmp("photo320.png"), "-o", out("photo.webp"))
    register("photo.webp", "cwebp -q 80 -m 6 (lossy VP8, no alpha), 320x240 PHOTO",
             "thumbnail; compare with reference/photo-webp.png", kind="decode", ref="reference/photo-webp.png")
    # quadrants.png: the orientation reference
    save_png("quadrants.png", S["quad"])
    register("quadrants.png", "own PNG writer, 8-bit RGB, 400x300, four solid quadrants", Q_EXPECT,
             kind="decode", quadrants=dict(QUAD_COLOURS), display=(400, 300))


def make_orientation(S):
    for n in range(1, 9):
        stored = orient_store(S["quad"], n)
        # exif-N.jpg: stored pixels pre-transformed, EXIF Orientation=N; shows quadrants.png when honoured
        exif = Image.Exif()
        exif[0x0112] = n
        stored.save(out(f"orientation/exif-{n}.jpg"), quality=95, subsampling=0, exif=exif.tobytes())
        register(f"orientation/exif-{n}.jpg",
                 f"PIL JPEG q95 4:4:4, stored {stored.width}x{stored.height} = quadrants with the inverse of "
                 f"orientation {n} ({ORIENT_NAMES[n]}); EXIF IFD0 Orientation={n}",
                 Q_EXPECT + " (400x300 after applying the tag)", kind="decode",
                 quadrants=dict(QUAD_COLOURS), display=(400, 300), orientation=n)
        # tiff-N.tif: same with the TIFF Orientation tag (274), LZW
        with open(tmp(f"tiff-{n}.tif"), "wb") as f:
            f.write(tiff_from_rows(image_rows(stored), 3, 8, 2, extra_tags={274: ("SHORT", [n])}))
        run(T["tiffcp"], "-c", "lzw", tmp(f"tiff-{n}.tif"), out(f"orientation/tiff-{n}.tif"))
        register(f"orientation/tiff-{n}.tif",
                 f"own TIFF writer + tiffcp -c lzw, stored {stored.width}x{stored.height} (inverse of "
                 f"orientation {n}), tag 274 Orientation={n}",
                 Q_EXPECT + " (400x300 after applying the tag)", kind="decode",
                 quadrants=dict(QUAD_COLOURS), display=(400, 300), orientation=n)


def make_colour(S):
    cmyk = patches_image(CMYK_PATCHES, "CMYK")
    naive = {k: naive_cmyk_to_rgb(*v) for k, v in CMYK_PATCHES.items()}
    managed = {k: ink_model_srgb8(*v) for k, v in CMYK_PATCHES.items()}
    S["cmyk_naive"], S["cmyk_managed"] = naive, managed
    # cmyk-adobe.jpg: Photoshop-style CMYK JPEG: Adobe APP14 (transform 0), inverted samples, no ICC
    cmyk.save(out("colour/cmyk-adobe.jpg"), quality=95)
    register("colour/cmyk-adobe.jpg",
             "PIL/libjpeg: 4-component CMYK JPEG, Adobe APP14 transform=0, Adobe-inverted samples, no ICC profile; "
             f"ink patches TL C0M100Y100, TR C100Y100, BL C100M100, BR K60",
             f"decodes; naive CMYK->RGB (what Skia and ImageMagick do without a profile) gives TL {naive['TL']}, "
             f"TR {naive['TR']}, BL {naive['BL']}, BR {naive['BR']} (tolerance ~8). A decoder that treats the "
             "samples as non-inverted shows the complementary colours (cyan/magenta/yellow/light grey).",
             kind="decode", quadrants=naive, centres=PATCH_CENTRES, tolerance=10)
    # cmyk-icc.jpg: the same ink values plus the embedded test CMYK profile
    cmyk.save(out("colour/cmyk-icc.jpg"), quality=95, icc_profile=S["icc_cmyk"])
    register("colour/cmyk-icc.jpg",
             "PIL/libjpeg: same CMYK JPEG as cmyk-adobe.jpg plus an embedded CMYK ICC profile (hand-made, "
             f"{len(S['icc_cmyk'])} bytes, 'ThumbnailApi test CMYK (simple ink model)', lut16 A2B0/B2A0)",
             f"colour-managed decode gives TL {managed['TL']}, TR {managed['TR']}, BL {managed['BL']}, "
             f"BR {managed['BR']} (tolerance ~8); ignoring the profile gives the naive values of cmyk-adobe.jpg",
             kind="decode", quadrants=managed, quadrants_if_profile_ignored=naive, centres=PATCH_CENTRES, tolerance=10)
    # ycck.jpg: the same inks stored as YCCK (Adobe transform=2), written by the encoder above
    w, h = cmyk.size
    planes = [[], [], [], []]
    for (c, m, y, k) in cmyk.getdata():
        # libjpeg's cmyk_ycck_convert on Adobe-inverted input: R=C, G=M, B=Y (ink), K stored inverted
        r_, g_, b_ = c, m, y
        planes[0].append(min(255, max(0, round(0.299 * r_ + 0.587 * g_ + 0.114 * b_))))
        planes[1].append(min(255, max(0, round(-0.168736 * r_ - 0.331264 * g_ + 0.5 * b_ + 128))))
        planes[2].append(min(255, max(0, round(0.5 * r_ - 0.418688 * g_ - 0.081312 * b_ + 128))))
        planes[3].append(255 - k)
    write_bytes("colour/ycck.jpg", jpeg_4comp_bytes(planes, w, h, adobe_transform=2, quality=95))
    register("colour/ycck.jpg",
             "own baseline JPEG encoder (no tool here writes YCCK): 4 components Y,Cb,Cr,K, no subsampling, "
             "q95, standard Huffman tables, Adobe APP14 transform=2, same inks as cmyk-adobe.jpg, no ICC",
             f"decodes like cmyk-adobe.jpg: TL {naive['TL']}, TR {naive['TR']}, BL {naive['BL']}, BR {naive['BR']}"
             " (tolerance ~8)", kind="decode", quadrants=naive, centres=PATCH_CENTRES, tolerance=10)
    # p3.jpg: sRGB patches converted into Display P3 (vips built-in 'p3' profile, embedded)
    save_png(tmp("patches.png"), patches_image(SRGB_PATCHES))
    run(T["vips"], "icc_transform", tmp("patches.png"), out("colour/p3.jpg") + "[Q=95,subsample-mode=off]",
        "p3", "--input-profile", "srgb")
    register("colour/p3.jpg",
             "vips icc_transform sRGB->p3 (libvips built-in 'sP3C' Display P3 profile, CC0, embedded), Q95 4:4:4",
             f"colour-managed thumbnail ~ TL {SRGB_PATCHES['TL']}, TR {SRGB_PATCHES['TR']}, BL {SRGB_PATCHES['BL']}, "
             f"BR {SRGB_PATCHES['BR']} (tolerance ~8); ignoring the profile gives the desaturated stored values "
             "(see verification table)", kind="decode", quadrants=dict(SRGB_PATCHES), centres=PATCH_CENTRES,
             tolerance=10, ref="reference/p3-jpg.png")
    # gray.jpg / gray-icc.jpg: 1-component JPEGs of the grey card
    grey = rows_to_image(grey_card_rows(8), "L")
    grey.save(out("colour/gray.jpg"), quality=95)
    register("colour/gray.jpg", "PIL/libjpeg 1-component greyscale JPEG q95 of the 160x120 grey card",
             GREY_EXPECT + " (output may be grey or RGB)", kind="decode", grey=dict(GREY_LEVELS), tolerance=6)
    grey.save(out("colour/gray-icc.jpg"), quality=95, icc_profile=S["icc_gray"])
    register("colour/gray-icc.jpg",
             f"as gray.jpg plus a hand-made GRAY ICC profile ({len(S['icc_gray'])} bytes, kTRC = sampled sRGB curve, PCS XYZ)",
             GREY_EXPECT + " (same with or without applying the profile)", kind="decode", grey=dict(GREY_LEVELS),
             tolerance=6)


def make_png(S):
    idx16 = card_indices(16)
    # rgb16.png: 16-bit RGB; quadrant samples have different high and low bytes
    save_png("png/rgb16.png", card16_rgb_rows(), bitdepth=16, colortype=2)
    register("png/rgb16.png", "own PNG writer, 16-bit RGB (colour type 2, depth 16), 160x120 16-bit card",
             CARD16_EXPECT, kind="decode", quadrants=dict(QUAD16_AS8), centres=CARD_CENTRES, display=(160, 120))
    # rgba16.png: 16-bit RGBA; frame fully transparent, semi-transparent ramp band rows 52..67
    rows = []
    for y, row in enumerate(card16_rgb_rows()):
        r = []
        for x, px in enumerate(row):
            a = 0 if in_frame(x, y) else (round(65535 * (x - 8) / 143) if 52 <= y < 68 else 65535)
            r.append(px + (a,))
        rows.append(r)
    save_png("png/rgba16.png", rows, bitdepth=16, colortype=6)
    register("png/rgba16.png",
             "own PNG writer, 16-bit RGBA (colour type 6), 16-bit card; noise frame alpha 0, rows 52-67 alpha ramps 0->1 left to right",
             CARD16_EXPECT + "; edges transparent", kind="decode", quadrants=dict(QUAD16_AS8), centres=CARD_CENTRES,
             display=(160, 120))
    # gray16.png / gray8.png
    save_png("png/gray16.png", grey_card_rows(16), bitdepth=16, colortype=0)  # high/low bytes differ
    register("png/gray16.png", "own PNG writer, 16-bit greyscale (colour type 0), grey card; quadrant high/low bytes differ",
             GREY_EXPECT, kind="decode", grey=dict(GREY_LEVELS), display=(160, 120))
    save_png("png/gray8.png", grey_card_rows(8), bitdepth=8, colortype=0)  # plain 8-bit greyscale
    register("png/gray8.png", "own PNG writer, 8-bit greyscale, grey card", GREY_EXPECT, kind="decode",
             grey=dict(GREY_LEVELS), display=(160, 120))
    # gray-alpha.png: grey + alpha (colour type 4): frame transparent, centre cross semi-transparent
    rows = []
    for y, row in enumerate(grey_card_rows(8)):
        r = []
        for x, v in enumerate(row):
            a = 0 if in_frame(x, y) else (128 if abs(x - 80) < 6 or abs(y - 60) < 6 else 255)
            r.append((v, a))
        rows.append(r)
    save_png("png/gray-alpha.png", rows, bitdepth=8, colortype=4)
    register("png/gray-alpha.png",
             "own PNG writer, 8-bit grey+alpha (colour type 4), grey card; frame alpha 0, a 12-px cross through the centre alpha 128",
             GREY_EXPECT + "; edges transparent", kind="decode", grey=dict(GREY_LEVELS), display=(160, 120))
    # palette-1bit.png: 2-entry palette (navy, gold): catches decoders that treat 1-bit as black/white
    bl = S["bilevel"]
    bl_rows = [[1 if v else 0 for v in row] for row in image_rows(bl)]
    S["bilevel_rows"] = bl_rows
    navy, gold = (0, 0, 128), (255, 200, 0)
    save_png("png/palette-1bit.png", bl_rows, bitdepth=1, colortype=3, palette=[navy, gold])
    register("png/palette-1bit.png", "own PNG writer, palette depth 1, PLTE [navy (0,0,128), gold (255,200,0)], 320x240 BILEVEL drawing",
             "thumbnail centres: TL navy, TR gold (inside a navy ring), BL gold, BR navy - never black/white",
             kind="decode", display=(320, 240),
             quadrants={"TL": navy, "TR": gold, "BL": gold, "BR": navy}, centres=BILEVEL_CENTRES)
    # palette-2bit.png / palette-4bit.png: card with 4 / 16 palette entries
    save_png("png/palette-2bit.png", card_indices(4), bitdepth=2, colortype=3, palette=BASE16[:4])  # 4 px/byte
    register("png/palette-2bit.png", "own PNG writer, palette depth 2 (4 entries), card with a 4-colour noise frame",
             CARD_EXPECT, kind="decode", quadrants=dict(QUAD_COLOURS), centres=CARD_CENTRES, display=(160, 120))
    save_png("png/palette-4bit.png", idx16, bitdepth=4, colortype=3, palette=BASE16)  # 2 px/byte
    register("png/palette-4bit.png", "own PNG writer, palette depth 4 (16 entries), card", CARD_EXPECT,
             kind="decode", quadrants=dict(QUAD_COLOURS), centres=CARD_CENTRES, display=(160, 120))
    # palette-8bit-trns.png: 256 entries; tRNS: 0-3 opaque, 4 (black) alpha 0, 5..255 alpha 128
    rows = []
    idx256 = card_indices(256, seed=11)
    for y, row in enumerate(idx256):
        r = []
        for x, i in enumerate(row):
            if not in_frame(x, y) and (abs(x - 80) < 4 or abs(y - 60) < 4):
                i = 4
            elif in_frame(x, y) and i == 4:
                i = 5
            r.append(i)
        rows.append(r)
    trns = bytes([255, 255, 255, 255, 0] + [128] * 251)
    save_png("png/palette-8bit-trns.png", rows, bitdepth=8, colortype=3, palette=PALETTE256, trns=trns)
    register("png/palette-8bit-trns.png",
             "own PNG writer, palette depth 8 (256 entries) + tRNS (entries 0-3 opaque, 4 alpha 0, 5-255 alpha 128); "
             "card whose frame is semi-transparent noise and whose centre cross (8 px) is fully transparent",
             CARD_EXPECT + "; frame semi-transparent, centre cross transparent", kind="decode",
             quadrants=dict(QUAD_COLOURS), centres=CARD_CENTRES, display=(160, 120))
    # gray-1bit.png: greyscale depth 1
    save_png("png/gray-1bit.png", bl_rows, bitdepth=1, colortype=0)
    register("png/gray-1bit.png", "own PNG writer, greyscale depth 1, 320x240 BILEVEL drawing", BILEVEL_TXT,
             kind="decode", bilevel=True, display=(320, 240))
    # interlaced.png: Adam7, 8-bit RGB, PHOTO 320x240: pixels identical to photo.bmp / photo.tif
    save_png("png/interlaced.png", S["photo320"], interlace=True)
    register("png/interlaced.png", "own PNG writer, Adam7 interlaced 8-bit RGB of the 320x240 PHOTO",
             "decoded pixels identical to photo.bmp and photo.tif (so the thumbnail is too)", kind="decode",
             same_pixels_as="photo.bmp", display=(320, 240))
    # srgb-iccp.png: iCCP chunk with the vips built-in sRGB profile
    save_png("png/srgb-iccp.png", S["card"], iccp=(b"sRGB", S["icc_srgb"]))
    register("png/srgb-iccp.png",
             f"own PNG writer, 8-bit RGB card + iCCP chunk (libvips built-in sRGB profile, {len(S['icc_srgb'])} bytes, zlib)",
             CARD_EXPECT + " (same as without profile, +-2)", kind="decode", quadrants=dict(QUAD_COLOURS),
             centres=CARD_CENTRES, display=(160, 120))


def make_bmp(S):
    card_rows = S["card_rows"]
    # rgb24.bmp / rgb24-topdown.bmp
    write_bytes("bmp/rgb24.bmp", bmp_bytes(card_rows, 24))
    register("bmp/rgb24.bmp", "own BMP writer: BITMAPINFOHEADER, 24 bpp BI_RGB, bottom-up (positive height), card",
             CARD_EXPECT, kind="decode", quadrants=dict(QUAD_COLOURS), centres=CARD_CENTRES, display=(160, 120))
    write_bytes("bmp/rgb24-topdown.bmp", bmp_bytes(card_rows, 24, topdown=True))
    register("bmp/rgb24-topdown.bmp", "as rgb24.bmp but height stored negative (-120): rows top-down",
             CARD_EXPECT + " (an upside-down result means the negative height was ignored)", kind="decode",
             quadrants=dict(QUAD_COLOURS), centres=CARD_CENTRES, display=(160, 120))
    # rgba32.bmp: BITMAPV5HEADER, BI_BITFIELDS with alpha mask; frame alpha 0, band alpha 128
    rows = []
    for y, row in enumerate(card_rows):
        rows.append([px + ((0 if in_frame(x, y) else (128 if 52 <= y < 68 else 255)),) for x, px in enumerate(row)])
    write_bytes("bmp/rgba32.bmp", bmp_bytes(rows, 32, compression="bitfields", header="v5",
                                            masks=(0x00FF0000, 0x0000FF00, 0x000000FF, 0xFF000000)))
    register("bmp/rgba32.bmp",
             "own BMP writer: BITMAPV5HEADER (124), 32 bpp BI_BITFIELDS, masks R 00FF0000 G 0000FF00 B 000000FF "
             "A FF000000, LCS_sRGB; card with alpha 0 in the frame and alpha 128 in rows 52-67",
             CARD_EXPECT + "; edges transparent (alpha honoured) - an opaque noise frame means the alpha mask was ignored",
             kind="decode", quadrants=dict(QUAD_COLOURS), centres=CARD_CENTRES, display=(160, 120))
    # rgb16-565.bmp: BITMAPINFOHEADER + three DWORD masks (BI_BITFIELDS)
    p565 = [[((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3) for (r, g, b) in row] for row in card_rows]
    write_bytes("bmp/rgb16-565.bmp", bmp_bytes(p565, 16, compression="bitfields", masks=(0xF800, 0x07E0, 0x001F)))
    register("bmp/rgb16-565.bmp", "own BMP writer: BITMAPINFOHEADER + 3 masks (F800/07E0/001F), 16 bpp BI_BITFIELDS, card",
             CARD_EXPECT, kind="decode", quadrants=dict(QUAD_COLOURS), centres=CARD_CENTRES, display=(160, 120))
    # rgb16-555.bmp: 16 bpp BI_RGB, the implicit X1R5G5B5 layout (no masks in the file)
    p555 = [[((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3) for (r, g, b) in row] for row in card_rows]
    write_bytes("bmp/rgb16-555.bmp", bmp_bytes(p555, 16))
    register("bmp/rgb16-555.bmp", "own BMP writer: BITMAPINFOHEADER, 16 bpp BI_RGB (implicit X1R5G5B5), card",
             CARD_EXPECT, kind="decode", quadrants=dict(QUAD_COLOURS), centres=CARD_CENTRES, display=(160, 120))
    # pal1.bmp: 1 bpp with a coloured 2-entry palette (catches decoders that assume black/white)
    navy, gold = (0, 0, 128), (255, 200, 0)
    write_bytes("bmp/pal1.bmp", bmp_bytes(S["bilevel_rows"], 1, palette=[navy, gold]))
    register("bmp/pal1.bmp", "own BMP writer: 1 bpp, 2-entry palette [navy, gold], 320x240 BILEVEL",
             "centres: TL navy, TR gold, BL gold, BR navy", kind="decode", display=(320, 240),
             quadrants={"TL": navy, "TR": gold, "BL": gold, "BR": navy}, centres=BILEVEL_CENTRES)
    # pal4.bmp / pal8.bmp: uncompressed 4- and 8-bit palette rows (nibble packing, 4-byte row padding)
    write_bytes("bmp/pal4.bmp", bmp_bytes(card_indices(16), 4, palette=BASE16))
    register("bmp/pal4.bmp", "own BMP writer: 4 bpp BI_RGB, 16-entry palette, card", CARD_EXPECT, kind="decode",
             quadrants=dict(QUAD_COLOURS), centres=CARD_CENTRES, display=(160, 120))
    idx256 = card_indices(256, seed=11)
    write_bytes("bmp/pal8.bmp", bmp_bytes(idx256, 8, palette=PALETTE256))
    register("bmp/pal8.bmp", "own BMP writer: 8 bpp BI_RGB, 256-entry palette, card with a 256-colour frame",
             CARD_EXPECT, kind="decode", quadrants=dict(QUAD_COLOURS), centres=CARD_CENTRES, display=(160, 120))
    # rle8.bmp / rle4.bmp: run-length encoded, encoded + absolute runs, EOL and EOB escapes
    write_bytes("bmp/rle8.bmp", bmp_bytes(idx256, 8, palette=PALETTE256, compression="rle8"))
    register("bmp/rle8.bmp", "own BMP writer: 8 bpp BI_RLE8 (encoded runs, absolute runs, end-of-line, end-of-bitmap), same pixels as pal8.bmp",
             CARD_EXPECT, kind="decode", quadrants=dict(QUAD_COLOURS), centres=CARD_CENTRES, display=(160, 120),
             same_pixels_as="bmp/pal8.bmp")
    write_bytes("bmp/rle4.bmp", bmp_bytes(card_indices(16), 4, palette=BASE16, compression="rle4"))
    register("bmp/rle4.bmp", "own BMP writer: 4 bpp BI_RLE4 (encoded + absolute runs), same pixels as pal4.bmp",
             CARD_EXPECT, kind="decode", quadrants=dict(QUAD_COLOURS), centres=CARD_CENTRES, display=(160, 120),
             same_pixels_as="bmp/pal4.bmp")


# GIF animation geometry (200x150 canvas): (x, y, w, h, colour, disposal)
ANIM_FRAMES = [  # disposal names as gifsicle spells them: asis = 1 (do not dispose)
    (0, 0, 200, 150, None, "asis"),           # 1: quadrants, full frame
    (20, 15, 60, 45, "white-ring", "asis"),   # 2: white outline, transparent inside (red shows)
    (120, 90, 60, 45, "black", "background"), # 3: black block in BR, disposed to background (2)
    (80, 60, 40, 30, "magenta", "previous"),  # 4: magenta block at the centre, restored to previous (3)
    (0, 0, 10, 10, "cyan", "asis"),           # 5: cyan corner
]
GIF_PAL = [RED, GREEN, BLUE, YELLOW, (255, 255, 255), (0, 0, 0), (255, 0, 255), (0, 255, 255)] + [(0, 0, 0)] * 8
GIF_TRANSPARENT = 15


def gif_frame(w, h, kind):
    im = Image.new("P", (w, h))
    im.putpalette(bytes(v for c in GIF_PAL for v in c))
    if kind is None:
        q = make_quadrants(w, h)
        px, qp = im.load(), q.load()
        for y in range(h):
            for x in range(w):
                px[x, y] = GIF_PAL.index(qp[x, y])
    elif kind == "white-ring":
        im.paste(GIF_TRANSPARENT, (0, 0, w, h))
        ImageDraw.Draw(im).rectangle((0, 0, w - 1, h - 1), outline=4, width=4)
    else:
        im.paste({"black": 5, "magenta": 6, "cyan": 7}[kind], (0, 0, w, h))
    return im


def make_gif(S):
    # transparent.gif: ALPHA picture with alpha >= 128 kept, rest -> transparent index 255
    a = S["alpha"]
    rgb = a.convert("RGB")  # straight (unpremultiplied) colours; alpha handled by the mask below
    p = rgb.quantize(255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    pal = p.getpalette()[:255 * 3] + [255, 255, 255]
    p.putpalette(pal + [0] * (768 - len(pal)))
    mask = a.getchannel("A").point(lambda v: 255 if v < 128 else 0)
    p.paste(255, (0, 0), mask)
    p.save(out("gif/transparent.gif"), transparency=255, background=255, interlace=False, optimize=False)
    register("gif/transparent.gif",
             "PIL: ALPHA picture, pixels with alpha >= 128 kept with their straight colour (the alpha-128 band "
             "becomes opaque magenta), "
             "others set to index 255 = transparent (GCE transparency), background index 255",
             "thumbnail keeps transparency: corners transparent; red disc, green square, blue triangle, magenta band opaque",
             kind="decode", display=(320, 240))
    # animated.gif: 5 frames, partial rectangles, disposal none/background/previous, transparency
    args = [T["gifsicle"], "--no-warnings", "--loopcount=forever", "--logical-screen", "200x150"]
    for i, (x, y, w, h, kind, disp) in enumerate(ANIM_FRAMES):
        fp = tmp(f"anim{i}.gif")
        fr = gif_frame(w, h, kind)
        if kind == "white-ring":
            fr.save(fp, transparency=GIF_TRANSPARENT, interlace=False, optimize=False)
        else:
            fr.save(fp, interlace=False, optimize=False)
        args += ["--delay", "50", "--disposal", disp, "--position", f"{x},{y}", fp]
    args += ["-o", out("gif/animated.gif")]
    run(*args)
    register("gif/animated.gif",
             "PIL frames assembled by gifsicle: 200x150 canvas, 5 frames, delay 0.5 s, loop forever. "
             "F1 full-frame quadrants (disposal 1 = do not dispose); F2 60x45 at (20,15) white 4-px outline with a "
             "transparent inside (GCE transparency; disposal 1); F3 60x45 black at (120,90) (disposal 2 = restore to "
             "background); F4 40x30 magenta at (80,60) (disposal 3 = restore previous); F5 10x10 cyan at (0,0) "
             "(disposal 1). gifsicle merges the frame palettes into one 8-entry global palette",
             "thumbnail of frame 1 = quadrants (TL red, TR green, BL blue, BR yellow). Correctly composited later "
             "frames: F2 = quadrants + white outline in TL with red inside; F3 = F2 + black block in BR; F4 = F2 with "
             "the block area cleared to transparent (browsers, ImageMagick; Pillow 9.4 paints it with background "
             "index 0 = red) + magenta centre; F5 = F4 without magenta + cyan corner. "
             "Decoding a later frame on its own gives a small rectangle instead.",
             kind="decode", quadrants=dict(QUAD_COLOURS), display=(200, 150), frames=5)
    # interlaced.gif: same palette image as photo.gif, interlaced (4-pass row order)
    S["photo_p"].save(out("gif/interlaced.gif"), interlace=True, optimize=False)
    register("gif/interlaced.gif", "PIL: same palette image as photo.gif, interlace flag set",
             "decoded pixels identical to photo.gif", kind="decode", same_pixels_as="photo.gif", display=(320, 240))


def make_webp(S):
    # lossless-alpha.webp: VP8L with alpha, RGB under alpha 0 kept exact (cyan) to catch alpha bugs
    run(T["cwebp"], "-quiet", "-lossless", "-exact", "-q", "100", "-m", "6", "-metadata", "none",
        out("alpha.png"), "-o", out("webp/lossless-alpha.webp"))
    register("webp/lossless-alpha.webp", "cwebp -lossless -exact -q 100 -m 6 of alpha.png (VP8L + alpha, hidden cyan preserved)",
             "same as alpha.png: transparent corners, no cyan", kind="decode", same_pixels_as="alpha.png",
             display=(320, 240))
    # animated.webp: 3 frames, img2webp (lossless), first frame = quadrants
    base = make_quadrants(200, 150)
    f2 = base.copy()
    ImageDraw.Draw(f2).rectangle((20, 15, 79, 59), fill=(255, 255, 255))
    f3 = f2.copy()
    ImageDraw.Draw(f3).rectangle((120, 90, 179, 134), fill=(0, 0, 0))
    for i, f in enumerate((base, f2, f3)):
        save_png(tmp(f"wanim{i}.png"), f)
    run(T["img2webp"], "-loop", "0", "-lossless", "-d", "500", tmp("wanim0.png"), tmp("wanim1.png"),
        tmp("wanim2.png"), "-o", out("webp/animated.webp"))
    register("webp/animated.webp",
             "img2webp -lossless -d 500 -loop 0 of three 200x150 frames: quadrants; + white block at (20,15)-(79,59); "
             "+ black block at (120,90)-(179,134) (img2webp stores later frames as sub-rectangles)",
             "thumbnail of frame 1 = quadrants", kind="decode", quadrants=dict(QUAD_COLOURS), display=(200, 150), frames=3)


def make_tiff(S):
    card_rows = S["card_rows"]
    none = tmp("card-none.tif")
    write_bytes("tiff/none.tif", tiff_from_rows(card_rows, 3, 8, 2))
    shutil.copy(out("tiff/none.tif"), none)
    common = dict(kind="decode", quadrants=dict(QUAD_COLOURS), centres=CARD_CENTRES, display=(160, 120))
    register("tiff/none.tif", "own TIFF writer: II, RGB 8-bit chunky, uncompressed, one strip, IFD before the data",
             CARD_EXPECT, **common)
    variants = [
        ("lzw.tif", ["-c", "lzw"], "tiffcp -c lzw (no predictor)"),
        ("deflate.tif", ["-c", "zip:p9"], "tiffcp -c zip:p9 (Adobe Deflate, compression 8)"),
        ("jpeg.tif", ["-r", "16", "-c", "jpeg:90"], "tiffcp -r 16 -c jpeg:90 (new-style JPEG, compression 7, YCbCr 2x2, 16-row strips)"),
        ("packbits.tif", ["-c", "packbits"], "tiffcp -c packbits"),
        ("tiled.tif", ["-t", "-w", "64", "-l", "64", "-c", "lzw"], "tiffcp -t -w 64 -l 64 -c lzw (3x2 tiles, edge tiles partly outside the image)"),
        ("strips.tif", ["-r", "16", "-c", "lzw"], "tiffcp -r 16 -c lzw (8 strips, the last one 8 rows)"),
        ("planar.tif", ["-p", "separate", "-c", "lzw"], "tiffcp -p separate -c lzw (PlanarConfiguration 2)"),
        ("predictor.tif", ["-c", "lzw:2"], "tiffcp -c lzw:2 (horizontal differencing predictor)"),
    ]
    for name, opts, how in variants:
        run(T["tiffcp"], *opts, none, out("tiff/" + name))
        exp = CARD_EXPECT
        if name == "jpeg.tif":
            exp += " (JPEG: tolerance ~12)"
        if name == "predictor.tif":
            exp += " (ignoring the predictor gives near-black quadrants)"
        register("tiff/" + name, how + " of none.tif", exp, **common)
    # g3.tif / g4.tif: 1-bit WhiteIsZero bilevel drawing
    bl = [[1 - v for v in row] for row in S["bilevel_rows"]]  # WhiteIsZero: 1 = black
    with open(tmp("bilevel.tif"), "wb") as f:
        f.write(tiff_from_rows(bl, 1, 1, 0))
    run(T["tiffcp"], "-c", "g3", tmp("bilevel.tif"), out("tiff/g3.tif"))
    register("tiff/g3.tif", "own TIFF writer (1-bit, Photometric WhiteIsZero) + tiffcp -c g3 (CCITT T.4 1-D)",
             BILEVEL_TXT, kind="decode", bilevel=True, display=(320, 240))
    run(T["tiffcp"], "-c", "g4", tmp("bilevel.tif"), out("tiff/g4.tif"))
    register("tiff/g4.tif", "own TIFF writer (1-bit, WhiteIsZero) + tiffcp -c g4 (CCITT T.6)", BILEVEL_TXT,
             kind="decode", bilevel=True, display=(320, 240))
    # cmyk.tif: Photometric 5 (separated), InkSet 1 (CMYK), not inverted (0 = no ink)
    cm = [[(255 - r, 255 - g, 255 - b, 0) for (r, g, b) in row] for row in card_rows]
    with open(tmp("cmyk.tif"), "wb") as f:
        f.write(tiff_from_rows(cm, 4, 8, 5, extra_tags={332: ("SHORT", [1])}))
    run(T["tiffcp"], "-c", "lzw", tmp("cmyk.tif"), out("tiff/cmyk.tif"))
    register("tiff/cmyk.tif", "own TIFF writer + tiffcp -c lzw: Photometric 5 (Separated), InkSet 1, 4x8-bit, "
             "C=255-R M=255-G Y=255-B K=0, no ICC", CARD_EXPECT + " (naive CMYK conversion)", **common)
    # rgb16.tif: 16 bits per sample
    with open(tmp("rgb16.tif"), "wb") as f:
        f.write(tiff_from_rows(card16_rgb_rows(), 3, 16, 2))
    run(T["tiffcp"], "-c", "lzw", tmp("rgb16.tif"), out("tiff/rgb16.tif"))
    register("tiff/rgb16.tif", "own TIFF writer + tiffcp -c lzw: RGB 16 bits/sample (II), 16-bit card", CARD16_EXPECT,
             kind="decode", quadrants=dict(QUAD16_AS8), centres=CARD_CENTRES, display=(160, 120))
    # gray8.tif
    write_bytes("tiff/gray8.tif", tiff_from_rows(grey_card_rows(8), 1, 8, 1))
    register("tiff/gray8.tif", "own TIFF writer: 8-bit BlackIsZero greyscale, uncompressed, grey card", GREY_EXPECT,
             kind="decode", grey=dict(GREY_LEVELS), display=(160, 120))
    # rgba.tif: unassociated alpha (ExtraSamples=2)
    rgba = [[px + ((0 if in_frame(x, y) else (128 if 52 <= y < 68 else 255)),) for x, px in enumerate(row)]
            for y, row in enumerate(card_rows)]
    with open(tmp("rgba.tif"), "wb") as f:
        f.write(tiff_from_rows(rgba, 4, 8, 2, extra_tags={338: ("SHORT", [2])}))
    run(T["tiffcp"], "-c", "lzw", tmp("rgba.tif"), out("tiff/rgba.tif"))
    register("tiff/rgba.tif", "own TIFF writer + tiffcp -c lzw: RGBA 8-bit, ExtraSamples=2 (unassociated alpha); "
             "frame alpha 0, rows 52-67 alpha 128", CARD_EXPECT + "; edges transparent", **common)
    # multipage.tif: card (LZW) + reversed quadrants 400x300 (LZW) + bilevel (G4)
    rev = make_quadrants()
    rev = Image.merge("RGB", rev.split()).transpose(Image.Transpose.ROTATE_180)  # TL yellow ... BR red
    with open(tmp("page2.tif"), "wb") as f:
        f.write(tiff_from_rows(image_rows(rev), 3, 8, 2))
    run(T["tiffcp"], "-c", "lzw", tmp("page2.tif"), tmp("page2-lzw.tif"))
    run(T["tiffcp"], out("tiff/lzw.tif"), tmp("page2-lzw.tif"), out("tiff/g4.tif"), out("tiff/multipage.tif"))
    register("tiff/multipage.tif", "tiffcp of lzw.tif + a 400x300 LZW page with the quadrants rotated 180 "
             "(TL yellow, TR blue, BL green, BR red) + g4.tif: 3 IFDs of different size and compression",
             CARD_EXPECT + " (page 1 only; page 2 would show the colours in reverse order)",
             frames=3, **common)
    # float32.tif: SampleFormat 3 (IEEE float), 32 bits, values 0..1
    fl = [[tuple(v / 65535 for v in px) for px in row] for row in card16_rgb_rows()]
    with open(tmp("float32.tif"), "wb") as f:
        f.write(tiff_from_rows(fl, 3, 32, 2, sample_format=3,
                               extra_tags={340: ("DOUBLE", [0.0] * 3), 341: ("DOUBLE", [1.0] * 3)}))
    run(T["tiffcp"], "-c", "lzw", tmp("float32.tif"), out("tiff/float32.tif"))
    register("tiff/float32.tif", "own TIFF writer + tiffcp -c lzw: RGB 3x32-bit IEEE float (SampleFormat 3, "
             "SMin 0.0 / SMax 1.0), values = 16-bit card / 65535",
             "either a thumbnail ~ TL (230,25,25), TR (25,230,25), BL (25,25,230), BR (230,230,25) or a clean "
             "unsupported_format (LibTiff's RGBA interface refuses float samples); never a crash or garbage",
             kind="either", codes=["unsupported_format"], quadrants=dict(QUAD16_AS8), centres=CARD_CENTRES,
             display=(160, 120))
    # bigendian.tif: Motorola byte order
    write_bytes("tiff/bigendian.tif", tiff_from_rows(card_rows, 3, 8, 2, order=">"))
    register("tiff/bigendian.tif", "own TIFF writer: MM (big-endian) header and IFD, RGB 8-bit, uncompressed",
             CARD_EXPECT, **common)


def make_patterns(S):
    # zoneplate.png: cos(k r^2), local frequency 0 at the centre rising to 0.5 cycles/px in the corners.
    # Quantised to 16 grey levels (multiples of 17): ~200 KB instead of ~870 KB at full 8-bit precision.
    N = 1000
    c = (N - 1) / 2
    rmax = math.hypot(c, c)
    k = math.pi * 0.5 / rmax
    rows = [[17 * round(7.5 + 7.5 * math.cos(k * ((x - c) ** 2 + (y - c) ** 2))) for x in range(N)] for y in range(N)]
    save_png("patterns/zoneplate.png", rows, bitdepth=8, colortype=0, adaptive=False)
    register("patterns/zoneplate.png",
             "own PNG writer (filter None), 1000x1000 8-bit grey zone plate 127.5+127.5*cos(k*r^2) quantised to 16 "
             "levels (multiples of 17, to keep the file ~200 KB), frequency 0 at the centre, 0.5 cycles/px at the corners",
             "a smooth thumbnail: rings only near the centre, flat grey ~128 further out; ring patterns away "
             "from the centre (moire) are aliasing. The libvips reference is not perfect either: faint ghost rings "
             "at the middle of each edge; outside a 35-px radius it stays within 116..138. Compare with "
             "reference/zoneplate-png.png",
             kind="decode", ref="reference/zoneplate-png.png", display=(1000, 1000))
    # stripes.png: 1-pixel black/white columns
    save_png("patterns/stripes.png", [[0 if x % 2 == 0 else 255 for x in range(1000)]] * 1000, bitdepth=8, colortype=0)
    register("patterns/stripes.png", "own PNG writer, 1000x1000 8-bit grey, column x is black when x is even, white when odd",
             "flat grey: ~128 when averaging sRGB values (Skia / libvips default), ~188 when averaging in linear "
             "light; the spread (max-min) must stay small - the libvips reference has 122..133, mean 128.0; "
             "visible stripes = aliasing",
             kind="decode", ref="reference/stripes-png.png", display=(1000, 1000))
    # checker-edges.png: 8x8 blocks of 100 px
    save_png("patterns/checker-edges.png",
             [[0 if (x // 100 + y // 100) % 2 == 0 else 255 for x in range(800)] for y in range(800)],
             bitdepth=8, colortype=0)
    register("patterns/checker-edges.png",
             "own PNG writer, 800x800 8-bit grey checkerboard of 100-px blocks, top-left block black",
             "8x8 blocks of 12.5 px: block interiors stay 0 / 255, transitions at most ~2 px wide, no dark or "
             "bright halos (the libvips reference rings by at most ~15 levels in the pixel next to an edge). "
             "Compare with reference/checker-edges-png.png",
             kind="decode", ref="reference/checker-edges-png.png", display=(800, 800))


def make_damaged(S):
    def cut(src, rel, frac=0.6):
        data = read_bytes(out(src))
        write_bytes(rel, data[:int(len(data) * frac)])
        return len(data), int(len(data) * frac)

    PARTIAL = ("corrupt_image, or a thumbnail of the part that decoded (grey/transparent below); "
               "never a 500 or a hang")
    total, kept = cut("photo.jpg", "damaged/truncated.jpg")
    register("damaged/truncated.jpg", f"first 60% of photo.jpg ({kept} of {total} bytes, no EOI)", PARTIAL,
             kind="either", codes=["corrupt_image"])
    total, kept = cut("alpha.png", "damaged/truncated.png")
    register("damaged/truncated.png", f"first 60% of alpha.png ({kept} of {total} bytes: inside IDAT, no IEND)",
             PARTIAL, kind="either", codes=["corrupt_image"])
    total, kept = cut("photo.gif", "damaged/truncated.gif")
    register("damaged/truncated.gif", f"first 60% of photo.gif ({kept} of {total} bytes: inside the LZW data, no trailer)",
             PARTIAL, kind="either", codes=["corrupt_image"])
    total, kept = cut("photo-progressive.jpg", "damaged/truncated-progressive.jpg")
    register("damaged/truncated-progressive.jpg", f"first 60% of photo-progressive.jpg ({kept} of {total} bytes: "
             "inside a later scan, no EOI; libjpeg fills the picture in from the scans it has)", PARTIAL, kind="either",
             codes=["corrupt_image"])
    total, kept = cut("photo.bmp", "damaged/truncated.bmp")
    register("damaged/truncated.bmp", f"first 60% of photo.bmp ({kept} of {total} bytes)", PARTIAL, kind="either",
             codes=["corrupt_image"])
    total, kept = cut("photo.webp", "damaged/truncated.webp")
    register("damaged/truncated.webp", f"first 60% of photo.webp ({kept} of {total} bytes: inside the VP8 data)", PARTIAL,
             kind="either", codes=["corrupt_image"])
    full = tiff_from_rows(S["card_rows"], 3, 8, 2, rows_per_strip=16)
    keep = int(len(full) * 0.6)
    write_bytes("damaged/truncated.tif", full[:keep])
    register("damaged/truncated.tif",
             f"uncompressed RGB TIFF of the card (IFD at offset 8, 8 strips of 16 rows) cut at {keep} of {len(full)} "
             "bytes: the IFD is intact, the last strips point past the end of the file", PARTIAL, kind="either",
             codes=["corrupt_image"])
    # bad-header.png: IHDR width 0 (CRC recomputed, so only the value is wrong)
    data = bytearray(read_bytes(out("png/palette-4bit.png")))
    assert data[12:16] == b"IHDR"
    data[16:20] = b"\0\0\0\0"
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    write_bytes("damaged/bad-header.png", bytes(data))
    register("damaged/bad-header.png", "png/palette-4bit.png with the IHDR width set to 0 (CRC recomputed, so it is valid)",
             "rejected: corrupt_image", kind="reject", codes=["corrupt_image"])
    # bad-header.bmp: BITMAPINFOHEADER says 30000x30000 24-bit BI_RGB, but only 64 bytes of pixels follow
    hdr = struct.pack("<IiiHHIIiiII", 40, 30000, 30000, 1, 24, 0, 0, 2835, 2835, 0, 0)
    body = hdr + bytes(64)
    write_bytes("damaged/bad-header.bmp", b"BM" + struct.pack("<IHHI", 14 + len(body), 0, 0, 54) + body)
    register("damaged/bad-header.bmp", "hand-made BMP: header 30000x30000 24-bit uncompressed (2.7 GB of pixels), "
             "file size field honest (118 bytes), only 64 bytes of pixel data",
             "rejected before decoding: image_too_large (header over the pixel limit) or corrupt_image; no 2.7 GB allocation",
             kind="reject", codes=["image_too_large", "corrupt_image"])
    # bomb-30000.png: valid signature and IHDR 30000x30000 RGB8, IDAT holds only 8 rows, no final block
    co = zlib.compressobj(9)
    idat = co.compress(bytes(30000 * 3 + 1) * 8) + co.flush(zlib.Z_SYNC_FLUSH)
    png = (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0))
           + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""))
    write_bytes("damaged/bomb-30000.png", png)
    BOMB = "rejected from the header alone: image_too_large (900 Mpx > 100 Mpx limit); no pixel buffer allocated"
    register("damaged/bomb-30000.png", "hand-made PNG: valid IHDR 30000x30000 8-bit RGB (2.7 GB decoded), one IDAT with "
             "the first 8 rows (zlib stream not finished), IEND", BOMB, kind="reject", codes=["image_too_large"])
    # bomb-30000.jpg: a real 16x16 JPEG whose SOF0 says 30000x30000
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (128, 128, 128)).save(buf, "JPEG", quality=90)
    j = bytearray(buf.getvalue())
    sof = j.index(b"\xff\xc0")
    j[sof + 5:sof + 9] = struct.pack(">HH", 30000, 30000)
    write_bytes("damaged/bomb-30000.jpg", bytes(j))
    register("damaged/bomb-30000.jpg", "PIL 16x16 mid-grey RGB JPEG with SOF0 height/width patched to 30000x30000 "
             "(scan data covers only the first MCUs)", BOMB, kind="reject", codes=["image_too_large"])
    # bomb-30000.gif: logical screen and image 30000x30000, LZW data = clear, one pixel, end
    gif = (b"GIF89a" + struct.pack("<HHBBB", 30000, 30000, 0x80, 0, 0) + bytes((0, 0, 0, 255, 255, 255))
           + b"," + struct.pack("<HHHHB", 0, 0, 30000, 30000, 0) + bytes((2, 2, 0x44, 0x01, 0)) + b";")
    write_bytes("damaged/bomb-30000.gif", gif)
    register("damaged/bomb-30000.gif", "hand-made GIF89a: logical screen and one image descriptor of 30000x30000, "
             "2-colour table, LZW data = CLEAR, one pixel, END", BOMB, kind="reject", codes=["image_too_large"])
    # bomb-30000.tif: IFD says 30000x30000 RGB8, one deflate strip holding only 64 KB of zero rows
    co = zlib.compressobj(9)
    strip = co.compress(bytes(65536)) + co.flush()
    tags = {258: ("SHORT", [8, 8, 8]), 259: ("SHORT", [8]), 262: ("SHORT", [2]), 277: ("SHORT", [3]),
            278: ("LONG", [30000]), 284: ("SHORT", [1])}
    write_bytes("damaged/bomb-30000.tif", tiff_bytes(30000, 30000, [strip], tags))
    register("damaged/bomb-30000.tif", "hand-made TIFF: 30000x30000 RGB 8-bit, one Adobe-Deflate strip whose data "
             "inflates to only 64 KB", BOMB, kind="reject", codes=["image_too_large"])
    # bomb-30000.bmp: RLE8 30000x30000 whose data is just end-of-bitmap (valid; pixels undefined)
    write_bytes("damaged/bomb-30000.bmp", bmp_bytes([[0]], 8, palette=[(0, 0, 0), (255, 255, 255)],
                                                     compression="rle8", rle_rows_override=b"\x00\x01",
                                                     declared=(30000, 30000)))
    register("damaged/bomb-30000.bmp", "hand-made BMP: BITMAPINFOHEADER 30000x30000 8 bpp BI_RLE8, 2-entry palette, "
             "RLE data = end-of-bitmap (a valid file whose pixels are all 'undefined')", BOMB, kind="reject",
             codes=["image_too_large"])


def make_disguised(S):
    UNS = "rejected: unsupported_format (the bytes are not an accepted image format, whatever the extension says)"
    write_bytes("disguised/text.jpg", b"This is not a JPEG.\nIt is a plain text file with a .jpg name.\n" * 4)
    register("disguised/text.jpg", "plain ASCII text", UNS, kind="reject", codes=["unsupported_format"])
    write_bytes("disguised/html.png", b"<!DOCTYPE html>\n<html><head><title>not a png</title></head>\n"
                b"<body><h1>Hello</h1><img src=\"x.png\" onerror=\"alert(1)\"></body></html>\n")
    register("disguised/html.png", "an HTML page", UNS, kind="reject", codes=["unsupported_format"])
    write_bytes("disguised/svg.png", b'<?xml version="1.0" encoding="UTF-8"?>\n'
                b'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300" viewBox="0 0 400 300">\n'
                b'  <rect x="0" y="0" width="200" height="150" fill="#f00"/>\n'
                b'  <rect x="200" y="0" width="200" height="150" fill="#0f0"/>\n'
                b'  <rect x="0" y="150" width="200" height="150" fill="#00f"/>\n'
                b'  <rect x="200" y="150" width="200" height="150" fill="#ff0"/>\n</svg>\n')
    register("disguised/svg.png", "an SVG document (draws the quadrants; ImageMagick/libvips would render it)", UNS,
             kind="reject", codes=["unsupported_format"])
    # pdf.jpg: minimal valid one-page PDF with correct xref offsets
    content = b"1 0 0 rg 20 20 160 160 re f\n"
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Resources << >> >>",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream"]
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    offs = []
    for i, o in enumerate(objs):
        offs.append(len(pdf))
        pdf += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % o for o in offs)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    write_bytes("disguised/pdf.jpg", pdf)
    register("disguised/pdf.jpg", "hand-made valid one-page PDF 1.4 (a red square), correct xref", UNS,
             kind="reject", codes=["unsupported_format"])
    # zip.gif: a zip archive with fixed timestamps
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        zi = zipfile.ZipInfo("readme.txt", date_time=(2024, 1, 1, 0, 0, 0))
        zi.external_attr = 0o644 << 16
        z.writestr(zi, "A zip archive wearing a .gif name.\n" * 8, compress_type=zipfile.ZIP_DEFLATED)
    write_bytes("disguised/zip.gif", buf.getvalue())
    register("disguised/zip.gif", "zip archive with one deflated text entry (fixed timestamp)", UNS,
             kind="reject", codes=["unsupported_format"])
    # mp4.jpg: ftyp(mp42) + free + mdat boxes
    mp4 = (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free"
           + struct.pack(">I", 8 + 256) + b"mdat" + bytes(range(256)))
    write_bytes("disguised/mp4.jpg", mp4)
    register("disguised/mp4.jpg", "ISO-BMFF boxes: ftyp (major brand mp42, compatible mp42/isom), free, 256-byte mdat "
             "(no moov: not playable)", UNS, kind="reject", codes=["unsupported_format"])
    # elf.bmp: first 4 KB of /bin/true (machine-dependent bytes!)
    write_bytes("disguised/elf.bmp", read_bytes("/bin/true")[:4096])
    register("disguised/elf.bmp", "first 4096 bytes of /bin/true (ELF executable header; content depends on the "
             "machine's coreutils build)", UNS, kind="reject", codes=["unsupported_format"])
    write_bytes("disguised/empty.tiff", b"")
    register("disguised/empty.tiff", "0 bytes", "rejected: unsupported_format (nothing to sniff) - or corrupt_image; never a 500",
             kind="reject", codes=["unsupported_format", "corrupt_image"])


REFERENCE_SOURCES = ["photo.jpg", "photo.tif", "photo.bmp", "photo.gif", "photo.webp", "alpha.png",
                     "patterns/zoneplate.png", "patterns/stripes.png", "patterns/checker-edges.png", "colour/p3.jpg"]


def ref_name(src):
    return "reference/" + os.path.basename(src).replace(".", "-") + ".png"


def make_references(S):
    for src in REFERENCE_SOURCES:
        rel = ref_name(src)
        args = [T["vipsthumbnail"], out(src), "--size", "100x100", "--smartcrop", "centre"]
        if src == "colour/p3.jpg":
            args += ["--export-profile", "srgb"]  # otherwise vips keeps the P3 pixels and profile
        run(*args, "-o", out(rel) + "[strip]")
        register(rel, f"vipsthumbnail {src} --size 100x100 --smartcrop centre"
                 + (" --export-profile srgb" if src == "colour/p3.jpg" else "") + " -o NAME.png[strip]",
                 f"reference 100x100 'cover' thumbnail of {src} (libvips 8.14: shrink + lanczos3, sRGB-value averaging)",
                 kind="reference", of=src)


# --------------------------------------------------------------------------------------------
# 4b. More variants (issue 3): header versions, bit depths, chunk types and codings that public
#     decoder test suites (PngSuite, the BMP suite, libtiff's pictures, JPEG conformance files)
#     exercise. Each expectation is what a correct, colour-managed decoder shows; `verify` names
#     the independent decoders that must (True) or may (False) agree.
# --------------------------------------------------------------------------------------------

def _ppm(im, name):
    im.save(tmp(name))
    return tmp(name)


def _bmp_file(header, palette, data):
    off = 14 + len(header) + len(palette)
    return b"BM" + struct.pack("<IHHI", off + len(data), 0, 0, off) + header + palette + data


def _bmp_rows(rows, pixel):
    """Bottom-up rows, each pixel packed by `pixel`, padded to 4 bytes."""
    data = b""
    for r in rows[::-1]:
        line = b"".join(pixel(px) for px in r)
        data += line + bytes((-len(line)) % 4)
    return data


def _info_header(w, h, bpp, compression=0, size_image=0, colours=0, size=40):
    hdr = struct.pack("<IiiHHIIiiII", size, w, h, 1, bpp, compression, size_image, 2835, 2835, colours, 0)
    return hdr + bytes(size - 40)


CARD_QUADS = dict(kind="decode", quadrants=dict(QUAD_COLOURS), centres=CARD_CENTRES, display=(160, 120))
GREY_QUADS = dict(kind="decode", grey=dict(GREY_LEVELS), display=(160, 120))
GREY_STEPS = {2: {"TL": 0, "TR": 85, "BL": 170, "BR": 255}, 4: {"TL": 34, "TR": 102, "BL": 170, "BR": 238}}


def make_more_png(S):
    grey = grey_card_rows(8)
    for bits in (2, 4):
        # gray-2bit / gray-4bit: the grey card quantised to 4 / 16 levels (top bits of the 8-bit levels)
        rows = [[v >> (8 - bits) for v in r] for r in grey]
        save_png(f"png/gray-{bits}bit.png", rows, bitdepth=bits, colortype=0)
        register(f"png/gray-{bits}bit.png", f"own PNG writer, greyscale depth {bits}, grey card quantised to its top {bits} bits",
                 "quadrant centres grey " + ", ".join(f"{v} ({k})" for k, v in GREY_STEPS[bits].items()),
                 kind="decode", grey=GREY_STEPS[bits], display=(160, 120))
    # gray-alpha16.png: 16-bit grey + 16-bit alpha (colour type 4, depth 16); frame transparent
    rows = [[(v, 0 if in_frame(x, y) else 65535) for x, v in enumerate(r)] for y, r in enumerate(grey_card_rows(16))]
    save_png("png/gray-alpha16.png", rows, bitdepth=16, colortype=4)
    register("png/gray-alpha16.png", "own PNG writer, 16-bit grey+alpha (colour type 4, depth 16), grey card, frame alpha 0",
             GREY_EXPECT + "; edges transparent", corner_alpha=0, **GREY_QUADS)
    # gray-trns.png / rgb-trns.png: tRNS colour keys (no alpha channel): the frame is the key colour
    rows = [[0 if in_frame(x, y) else v for x, v in enumerate(r)] for y, r in enumerate(grey)]
    save_png("png/gray-trns.png", rows, bitdepth=8, colortype=0, trns=struct.pack(">H", 0))
    register("png/gray-trns.png", "own PNG writer, 8-bit grey + tRNS grey key 0; the frame is all grey 0 (transparent)",
             GREY_EXPECT + "; edges transparent (tRNS key)", corner_alpha=0, **GREY_QUADS)
    rows = [[(0, 0, 0) if in_frame(x, y) else px for x, px in enumerate(r)] for y, r in enumerate(S["card_rows"])]
    save_png("png/rgb-trns.png", rows, bitdepth=8, colortype=2, trns=struct.pack(">HHH", 0, 0, 0))
    register("png/rgb-trns.png", "own PNG writer, 8-bit RGB + tRNS colour key black; the frame is all black (transparent)",
             CARD_EXPECT.split(";")[0] + "; edges transparent (tRNS key)", corner_alpha=0, **CARD_QUADS)
    # gamma-1.0.png: gAMA 1.0 (linear samples), no cHRM/sRGB/iCCP: a colour-managed decoder (Skia,
    # browsers) brightens the stored levels to their sRGB equivalents; libvips/Pillow/ImageMagick ignore gAMA
    lifted = {k: round(255 * srgb_encode(v / 255)) for k, v in GREY_LEVELS.items()}
    save_png("png/gamma-1.0.png", grey, bitdepth=8, colortype=0, extra_chunks=[(b"gAMA", struct.pack(">I", 100000))])
    register("png/gamma-1.0.png", "own PNG writer, grey card + gAMA 1.0 (stored levels are linear light)",
             "gamma applied (as browsers do): quadrant centres grey " + ", ".join(f"{v} ({k})" for k, v in lifted.items())
             + "; a decoder that ignores gAMA shows 32/96/160/224", kind="decode", grey=lifted, display=(160, 120),
             verify=[("magick", False), ("pil", False)])
    # gamma-srgb-chrm.png: gAMA 1/2.2 + the sRGB primaries in cHRM: looks like plain sRGB
    save_png("png/gamma-srgb-chrm.png", S["card"], extra_chunks=[
        (b"gAMA", struct.pack(">I", 45455)),
        (b"cHRM", struct.pack(">8I", 31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000))])
    register("png/gamma-srgb-chrm.png", "own PNG writer, 8-bit RGB card + gAMA 0.45455 + cHRM with the sRGB primaries",
             CARD_EXPECT + " (within ~3 of the stored values)", **CARD_QUADS)
    # sbit.png: sBIT 5/6/5 (informational only: the samples are full 8-bit values)
    save_png("png/sbit.png", S["card"], extra_chunks=[(b"sBIT", bytes((5, 6, 5)))])
    register("png/sbit.png", "own PNG writer, 8-bit RGB card + sBIT 5,6,5", CARD_EXPECT, **CARD_QUADS)
    # exif-6.png: quadrants stored rotated, eXIf chunk (big-endian TIFF structure) Orientation=6
    exif = Image.Exif()
    exif[0x0112] = 6
    raw = exif.tobytes()
    raw = raw[6:] if raw.startswith(b"Exif\0\0") else raw
    save_png("png/exif-6.png", orient_store(S["quad"], 6), extra_chunks=[(b"eXIf", raw)])
    register("png/exif-6.png", "own PNG writer, quadrants stored 300x400 (inverse of orientation 6) + eXIf chunk Orientation=6",
             Q_EXPECT + " (400x300 after applying the eXIf orientation, as browsers and libvips do)", kind="decode",
             quadrants=dict(QUAD_COLOURS), display=(400, 300), orientation=6,
             verify=[("vips-autorot", True), ("magick-orient", False)])
    # palette-1bit-interlaced.png: Adam7 with 1-bit palette rows (sub-byte packing per pass)
    navy, gold = (0, 0, 128), (255, 200, 0)
    save_png("png/palette-1bit-interlaced.png", S["bilevel_rows"], bitdepth=1, colortype=3, palette=[navy, gold],
             interlace=True)
    register("png/palette-1bit-interlaced.png", "own PNG writer, Adam7 interlaced palette depth 1 [navy, gold], BILEVEL",
             "centres: TL navy, TR gold, BL gold, BR navy", kind="decode", display=(320, 240),
             quadrants={"TL": navy, "TR": gold, "BL": gold, "BR": navy}, centres=BILEVEL_CENTRES)


def make_more_bmp(S):
    card, idx = S["card_rows"], card_indices(16)
    bgr = lambda px: bytes((px[2], px[1], px[0]))  # noqa: E731
    # os2v1-24.bmp / os2v1-pal8.bmp: BITMAPCOREHEADER (12 bytes, 16-bit sizes, 3-byte palette entries)
    write_bytes("bmp/os2v1-24.bmp", _bmp_file(struct.pack("<IHHHH", 12, 160, 120, 1, 24), b"", _bmp_rows(card, bgr)))
    register("bmp/os2v1-24.bmp", "own BMP writer: OS/2 1.x BITMAPCOREHEADER (12 bytes), 24 bpp, card", CARD_EXPECT, **CARD_QUADS)
    pal = b"".join(bgr(c) for c in BASE16) + bytes(3 * (256 - 16))  # a core header implies 2^bpp entries
    write_bytes("bmp/os2v1-pal8.bmp", _bmp_file(struct.pack("<IHHHH", 12, 160, 120, 1, 8), pal,
                                                _bmp_rows(idx, lambda i: bytes((i,)))))
    register("bmp/os2v1-pal8.bmp", "own BMP writer: BITMAPCOREHEADER, 8 bpp, 256 three-byte (RGBTRIPLE) palette entries (16 used), card",
             CARD_EXPECT, **CARD_QUADS)
    # os2v2-24.bmp: OS/2 2.x header (64 bytes)
    write_bytes("bmp/os2v2-24.bmp", _bmp_file(_info_header(160, 120, 24, size=64), b"", _bmp_rows(card, bgr)))
    register("bmp/os2v2-24.bmp", "own BMP writer: OS/2 2.x BITMAPINFOHEADER2 (64 bytes), 24 bpp, card", CARD_EXPECT, **CARD_QUADS)
    # rgb32-xrgb.bmp: 32 bpp BI_RGB whose fourth byte is 0: unused, so the picture is opaque
    write_bytes("bmp/rgb32-xrgb.bmp", _bmp_file(_info_header(160, 120, 32), b"", _bmp_rows(card, lambda px: bgr(px) + b"\0")))
    register("bmp/rgb32-xrgb.bmp", "own BMP writer: BITMAPINFOHEADER, 32 bpp BI_RGB, fourth byte 0 (unused, not alpha)",
             CARD_EXPECT + "; opaque (a transparent result means the unused byte was read as alpha, as ImageMagick 6 does)",
             corner_alpha=255, **CARD_QUADS, verify=[("pil", True), ("magick", False)])
    # rgba32-v4.bmp: BITMAPV4HEADER (108 bytes) with an alpha mask; frame alpha 0
    rgba = [[px + ((0 if in_frame(x, y) else 255),) for x, px in enumerate(r)] for y, r in enumerate(card)]
    hdr = (_info_header(160, 120, 32, compression=3, size=40)[:40]
           + struct.pack("<IIII", 0xFF0000, 0xFF00, 0xFF, 0xFF000000) + b"BGRs" + bytes(48))
    hdr = struct.pack("<I", 108) + hdr[4:]
    write_bytes("bmp/rgba32-v4.bmp", _bmp_file(hdr, b"", _bmp_rows(rgba, lambda px: bgr(px) + bytes((px[3],)))))
    register("bmp/rgba32-v4.bmp", "own BMP writer: BITMAPV4HEADER (108 bytes), 32 bpp BI_BITFIELDS with alpha mask FF000000; frame alpha 0",
             CARD_EXPECT + "; edges transparent", corner_alpha=0, **CARD_QUADS)
    # argb16-4444.bmp: 16 bpp BI_BITFIELDS with 4-bit masks including alpha (V5 header)
    p4444 = [[((px[3] >> 4) << 12) | ((px[0] >> 4) << 8) | ((px[1] >> 4) << 4) | (px[2] >> 4) for px in r] for r in rgba]
    write_bytes("bmp/argb16-4444.bmp", bmp_bytes(p4444, 16, compression="bitfields", header="v5",
                                                 masks=(0x0F00, 0x00F0, 0x000F, 0xF000)))
    register("bmp/argb16-4444.bmp", "own BMP writer: BITMAPV5HEADER, 16 bpp BI_BITFIELDS A4R4G4B4 (masks 0F00/00F0/000F/F000); frame alpha 0",
             CARD_EXPECT + "; edges transparent", corner_alpha=0, **CARD_QUADS, verify=[("magick", False), ("pil", False)])
    # pal2.bmp: 2 bpp (Windows CE), 4-entry palette
    write_bytes("bmp/pal2.bmp", bmp_bytes(card_indices(4), 2, palette=BASE16[:4]))
    register("bmp/pal2.bmp", "own BMP writer: 2 bpp BI_RGB, 4-entry palette, card", CARD_EXPECT, **CARD_QUADS,
             verify=[("magick", False), ("pil", False)])
    # pal8-16colours.bmp: 8 bpp with a 16-entry palette (biClrUsed = 16)
    write_bytes("bmp/pal8-16colours.bmp", bmp_bytes(idx, 8, palette=BASE16))
    register("bmp/pal8-16colours.bmp", "own BMP writer: 8 bpp BI_RGB with a short palette (biClrUsed 16), card", CARD_EXPECT,
             **CARD_QUADS)
    # rle8-delta.bmp: RLE8 with absolute runs and a delta escape that skips the two bottom rows
    data = bytearray(bytes((0, 2, 0, 2)))  # delta: 0 right, 2 up
    for y in range(2, 120):
        r = idx[119 - y]
        data += bytes((0, 8)) + bytes(r[:8])  # absolute run
        x = 8
        while x < 160:
            j = x
            while j < 160 and r[j] == r[x] and j - x < 255:
                j += 1
            data += bytes((j - x, r[x]))
            x = j
        data += b"\x00\x00" if y < 119 else b"\x00\x01"
    pal4 = b"".join(bytes((c[2], c[1], c[0], 0)) for c in BASE16)
    write_bytes("bmp/rle8-delta.bmp", _bmp_file(_info_header(160, 120, 8, compression=1, size_image=len(data), colours=16),
                                                pal4, bytes(data)))
    register("bmp/rle8-delta.bmp", "own BMP writer: 8 bpp BI_RLE8 starting with a delta escape (skips the bottom two rows, "
             "left undefined), then absolute and encoded runs", CARD_EXPECT.split(";")[0] + " (bottom two rows: undefined)",
             kind="decode", quadrants=dict(QUAD_COLOURS), centres=CARD_CENTRES, display=(160, 120))
    # Variants no decoder here reads: refused cleanly
    buf = io.BytesIO()
    S["card"].save(buf, "PNG")
    write_bytes("bmp/embedded-png.bmp", _bmp_file(_info_header(160, 120, 0, compression=5, size_image=len(buf.getvalue())),
                                                  b"", buf.getvalue()))
    register("bmp/embedded-png.bmp", "own BMP writer: BITMAPINFOHEADER with BI_PNG (5): a PNG stream as the pixel data "
             "(meant for printers)", "refused: unsupported_format (or corrupt_image)", kind="reject",
             codes=["unsupported_format", "corrupt_image"])
    write_bytes("bmp/os2-huffman.bmp", _bmp_file(_info_header(16, 16, 1, compression=3, size_image=10, colours=2, size=64),
                                                 bytes(8), bytes(10)))
    register("bmp/os2-huffman.bmp", "hand-made OS/2 2.x BMP, 1 bpp, compression 3 = Huffman 1D (no common decoder)",
             "refused: unsupported_format (or corrupt_image)", kind="reject", codes=["unsupported_format", "corrupt_image"])
    # rgba64.bmp: BITMAPV5HEADER, 64 bpp (Windows' wide-gamut variant: B, G, R, A as signed 2.13 fixed point, linear)
    one = 1 << 13
    px64 = {c: struct.pack("<4H", *(one if v else 0 for v in (c[2], c[1], c[0])), one) for c in QUAD_COLOURS.values()}
    rows64 = quadrant_rows(160, 120, list(QUAD_COLOURS.values()))[::-1]
    v5 = struct.pack("<IiiHHIIiiII", 124, 160, 120, 1, 64, 0, 160 * 120 * 8, 2835, 2835, 0, 0) + bytes(16) + b"BGRs" \
        + bytes(36) + bytes(12) + struct.pack("<IIII", 4, 0, 0, 0)
    write_bytes("bmp/rgba64.bmp", _bmp_file(v5, b"", b"".join(px64[c] for r in rows64 for c in r)))
    register("bmp/rgba64.bmp", "own BMP writer: BITMAPV5HEADER, biBitCount 64 (16-bit B, G, R, A in signed 2.13 fixed "
             "point, linear light), BI_RGB, 160x120 quadrants", "refused: unsupported_format (a valid file of a variant "
             "Skia does not read; not damage)", kind="reject", codes=["unsupported_format"])


def make_jpeg(S):
    quad = _ppm(S["quad"], "quad.ppm")
    common = dict(kind="decode", quadrants=dict(QUAD_COLOURS), display=(400, 300), tolerance=12)
    for name, opts, how in [
        ("arithmetic.jpg", ["-arithmetic"], "cjpeg -arithmetic (arithmetic-coded sequential, SOF9)"),
        ("arithmetic-progressive.jpg", ["-arithmetic", "-progressive"], "cjpeg -arithmetic -progressive (SOF10)"),
        ("restart.jpg", ["-restart", "1"], "cjpeg -restart 1 (a restart marker after every MCU row)"),
        ("restart-progressive.jpg", ["-restart", "3B", "-progressive"], "cjpeg -restart 3B -progressive"),
        ("sample-2x1.jpg", ["-sample", "2x1"], "cjpeg -sample 2x1 (4:2:2)"),
        ("sample-1x2.jpg", ["-sample", "1x2"], "cjpeg -sample 1x2 (4:4:0)"),
        ("sample-4x1.jpg", ["-sample", "4x1"], "cjpeg -sample 4x1 (4:1:1)"),
        ("rgb-components.jpg", ["-rgb"], "cjpeg -rgb (RGB components, no YCbCr transform, Adobe transform 0)"),
    ]:
        run(T["cjpeg"], "-quality", "90", *opts, "-outfile", out("jpeg/" + name), quad)
        register("jpeg/" + name, how + " of the 400x300 QUADRANTS", Q_EXPECT, **common)
    # exif-6-gray.jpg: greyscale JPEG + EXIF orientation 6
    grey = Image.merge("RGB", [S["quad"].convert("L")] * 3).convert("L")
    exif = Image.Exif()
    exif[0x0112] = 6
    orient_store(grey, 6).save(out("jpeg/exif-6-gray.jpg"), quality=95, exif=exif.tobytes())
    levels = {k: round(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]) for k, c in QUAD_COLOURS.items()}
    register("jpeg/exif-6-gray.jpg", "PIL 1-component JPEG of the quadrants in grey, stored rotated, EXIF Orientation=6",
             "grey quadrants the right way up: " + ", ".join(f"{k} {v}" for k, v in levels.items()), kind="decode",
             grey=levels, display=(400, 300), tolerance=6, orientation=6, verify=[("magick-orient", True)])
    # Variants libjpeg-turbo (8-bit) does not decode. No tool here writes them, so the frame header of a
    # baseline file is patched: the decoder refuses them from the header, as it would the real thing.
    base = bytearray(read_bytes(out("jpeg/restart.jpg")))
    sof = base.index(b"\xff\xc0")
    for name, marker, precision, what in [("precision-12.jpg", 0xC1, 12, "SOF1 with 12-bit precision"),
                                          ("lossless.jpg", 0xC3, 8, "SOF3 (lossless)")]:
        data = bytearray(base)
        data[sof + 1], data[sof + 4] = marker, precision
        write_bytes("jpeg/" + name, bytes(data))
        register("jpeg/" + name, f"jpeg/restart.jpg with its frame header changed to {what} (scan data unchanged)",
                 "refused: unsupported_format (only 8-bit sequential/progressive JPEG is decoded)", kind="reject",
                 codes=["unsupported_format"])


def make_more_tiff(S):
    card, grey = S["card_rows"], grey_card_rows(8)
    none = tmp("card-none.tif")
    for bits in (2, 4):
        rows = [[v >> (8 - bits) for v in r] for r in grey]
        tags = {258: ("SHORT", [bits]), 259: ("SHORT", [1]), 262: ("SHORT", [1]), 277: ("SHORT", [1]),
                278: ("LONG", [120]), 284: ("SHORT", [1])}
        write_bytes(f"tiff/gray{bits}.tif", tiff_bytes(160, 120, [b"".join(_pack_row(r, bits, 1) for r in rows)], tags))
        register(f"tiff/gray{bits}.tif", f"own TIFF writer: {bits}-bit BlackIsZero grey, uncompressed, grey card (top {bits} bits)",
                 "quadrant centres grey " + ", ".join(f"{v} ({k})" for k, v in GREY_STEPS[bits].items()),
                 kind="decode", grey=GREY_STEPS[bits], display=(160, 120))
    write_bytes("tiff/gray16.tif", tiff_from_rows(grey_card_rows(16), 1, 16, 1))
    register("tiff/gray16.tif", "own TIFF writer: 16-bit BlackIsZero grey (high/low bytes differ)", GREY_EXPECT, **GREY_QUADS)
    write_bytes("tiff/gray8-miniswhite.tif", tiff_from_rows([[255 - v for v in r] for r in grey], 1, 8, 0))
    register("tiff/gray8-miniswhite.tif", "own TIFF writer: 8-bit WhiteIsZero grey (stored 255 - level)", GREY_EXPECT,
             **GREY_QUADS)
    bl = S["bilevel_rows"]
    write_bytes("tiff/bilevel-minisblack.tif", tiff_from_rows(bl, 1, 1, 1))
    register("tiff/bilevel-minisblack.tif", "own TIFF writer: 1-bit BlackIsZero, uncompressed", BILEVEL_TXT, kind="decode",
             bilevel=True, display=(320, 240))
    run(T["tiffcp"], "-c", "g3:2d:fill", out("tiff/bilevel-minisblack.tif"), out("tiff/g3-2d.tif"))
    register("tiff/g3-2d.tif", "tiffcp -c g3:2d:fill (CCITT T.4 2-D, byte-aligned EOLs) of bilevel-minisblack.tif",
             BILEVEL_TXT, kind="decode", bilevel=True, display=(320, 240))
    cmap = [c[i] * 257 for i in range(3) for c in PALETTE256]
    tags = {258: ("SHORT", [8]), 259: ("SHORT", [1]), 262: ("SHORT", [3]), 277: ("SHORT", [1]), 278: ("LONG", [120]),
            284: ("SHORT", [1]), 320: ("SHORT", cmap)}
    write_bytes("tiff/palette8.tif", tiff_bytes(160, 120, [b"".join(bytes(r) for r in card_indices(256, seed=11))], tags))
    register("tiff/palette8.tif", "own TIFF writer: Photometric 3 (palette), 8 bits, 256-entry 16-bit ColorMap, card",
             CARD_EXPECT, **CARD_QUADS)
    rows16 = [[px + ((0 if in_frame(x, y) else 65535),) for x, px in enumerate(r)] for y, r in enumerate(card16_rgb_rows())]
    write_bytes("tiff/rgba16.tif", tiff_from_rows(rows16, 4, 16, 2, extra_tags={338: ("SHORT", [2])}))
    register("tiff/rgba16.tif", "own TIFF writer: RGBA 16 bits/sample, unassociated alpha; frame alpha 0",
             CARD16_EXPECT + "; edges transparent", kind="decode", quadrants=dict(QUAD16_AS8), centres=CARD_CENTRES,
             display=(160, 120), corner_alpha=0)
    assoc = [[(px if not in_frame(x, y) else (0, 0, 0)) + ((0 if in_frame(x, y) else 255),) for x, px in enumerate(r)]
             for y, r in enumerate(card)]
    write_bytes("tiff/rgba-associated.tif", tiff_from_rows(assoc, 4, 8, 2, extra_tags={338: ("SHORT", [1])}))
    register("tiff/rgba-associated.tif", "own TIFF writer: RGBA 8-bit, ExtraSamples=1 (associated = premultiplied alpha); frame alpha 0",
             CARD_EXPECT.split(";")[0] + "; edges transparent", corner_alpha=0, **CARD_QUADS)
    write_bytes("tiff/rgb16-bigendian.tif", tiff_from_rows(card16_rgb_rows(), 3, 16, 2, order=">"))
    register("tiff/rgb16-bigendian.tif", "own TIFF writer: MM (big-endian), RGB 16 bits/sample", CARD16_EXPECT, kind="decode",
             quadrants=dict(QUAD16_AS8), centres=CARD_CENTRES, display=(160, 120))
    for name, opts, how in [
        ("jpeg-rgb.tif", ["-r", "16", "-c", "jpeg:r:90"], "tiffcp -r 16 -c jpeg:r:90 (JPEG of RGB components, no YCbCr)"),
        ("jpeg-tiled.tif", ["-t", "-w", "32", "-l", "32", "-c", "jpeg:90"], "tiffcp -t -w 32 -l 32 -c jpeg:90 (tiled JPEG, YCbCr 2x2)"),
        ("tiled-planar.tif", ["-t", "-p", "separate", "-w", "64", "-l", "64", "-c", "zip"], "tiffcp -t -p separate -c zip (tiled and planar)"),
        ("bigtiff.tif", ["-8", "-c", "lzw"], "tiffcp -8 -c lzw (BigTIFF: 'II+', 64-bit offsets)"),
    ]:
        run(T["tiffcp"], *opts, none, out("tiff/" + name))
        register("tiff/" + name, how + " of none.tif", CARD_EXPECT, tolerance=12 if "jpeg" in name else 4, **CARD_QUADS)
    # ojpeg.tif: old-style JPEG (compression 6): a whole JFIF stream addressed by JPEGInterchangeFormat
    jpg = run(T["cjpeg"], "-quality", "95", "-sample", "2x2", _ppm(S["card"], "card.ppm"))
    tags = {258: ("SHORT", [8, 8, 8]), 259: ("SHORT", [6]), 262: ("SHORT", [6]), 277: ("SHORT", [3]),
            278: ("LONG", [120]), 284: ("SHORT", [1]), 512: ("SHORT", [1]), 513: ("LONG", [0]),
            514: ("LONG", [len(jpg)]), 530: ("SHORT", [2, 2])}
    data = bytearray(tiff_bytes(160, 120, [jpg], tags))
    strip = len(data) - len(jpg)
    n = struct.unpack("<H", data[8:10])[0]
    for i in range(n):  # point JPEGInterchangeFormat at the strip (the JFIF stream)
        at = 10 + 12 * i
        if struct.unpack("<H", data[at:at + 2])[0] == 513:
            data[at + 8:at + 12] = struct.pack("<I", strip)
    write_bytes("tiff/ojpeg.tif", bytes(data))
    register("tiff/ojpeg.tif", "own TIFF writer: Compression 6 (old-style JPEG), YCbCr 2x2, JPEGInterchangeFormat and "
             "the strip both address one cjpeg q95 JFIF stream", CARD_EXPECT + " (JPEG: tolerance ~12)", tolerance=12,
             **CARD_QUADS, verify=[("tiff2rgba", True), ("magick", False)])
    # lab.tif: CIELab (Photometric 8), written by ImageMagick
    save_png(tmp("card.png"), S["card"])
    run(T["convert"], tmp("card.png"), "-colorspace", "Lab", out("tiff/lab.tif"))
    register("tiff/lab.tif", "ImageMagick -colorspace Lab: Photometric 8 (CIELab), 8-bit", CARD_EXPECT + " (within ~10: "
             "8-bit Lab cannot hold the sRGB primaries exactly)", tolerance=10, **CARD_QUADS)
    # p3.tif: RGB card converted to Display P3 with the profile embedded (tag 34675)
    run(T["vips"], "icc_transform", tmp("card.png"), out("tiff/p3.tif"), "p3", "--input-profile", "srgb")
    register("tiff/p3.tif", "vips icc_transform sRGB->p3 of the card, Display P3 ICC profile embedded (tag 34675)",
             CARD_EXPECT + " once the profile is applied; ignoring it gives desaturated colours (e.g. TL ~(234,51,35))",
             tolerance=6, **CARD_QUADS, verify=[("vips-icc", True), ("magick-icc", False), ("magick", False)])
    # Variants LibTiff.NET does not decode: refused cleanly
    for name, opts, what in [("lzma.tif", ["-c", "lzma"], "LZMA2 (34925)"), ("zstd.tif", ["-c", "zstd"], "Zstandard (50000)"),
                             ("webp.tif", ["-c", "webp"], "WebP (50001)")]:
        run(T["tiffcp"], *opts, none, out("tiff/" + name))
        register("tiff/" + name, f"tiffcp {' '.join(opts)} of none.tif: compression {what}",
                 "refused: unsupported_format (a compression LibTiff.NET lacks)", kind="reject", codes=["unsupported_format"])
    run(T["tiffcp"], "-c", "jbig", out("tiff/bilevel-minisblack.tif"), out("tiff/jbig.tif"))
    register("tiff/jbig.tif", "tiffcp -c jbig of bilevel-minisblack.tif: compression JBIG (34661)",
             "refused: unsupported_format (a compression LibTiff.NET lacks)", kind="reject", codes=["unsupported_format"])
    cm16 = [[tuple((255 - v) * 257 for v in px) + (0,) for px in r] for r in card]
    write_bytes("tiff/cmyk16.tif", tiff_from_rows(cm16, 4, 16, 5, extra_tags={332: ("SHORT", [1])}))
    register("tiff/cmyk16.tif", "own TIFF writer: CMYK (Photometric 5) with 16 bits/sample",
             "refused: unsupported_format (libtiff converts CMYK to RGB at 8 bits only)", kind="reject",
             codes=["unsupported_format"])


def make_more_gif_webp(S):
    # subframe.gif: 200x150 screen, the only frame is 100x75 at (100,75) (the bottom-right quarter), yellow
    fr = Image.new("P", (100, 75))
    fr.putpalette(bytes(v for c in GIF_PAL for v in c))
    fr.paste(3, (0, 0, 100, 75))
    fr.save(tmp("sub.gif"), interlace=False, optimize=False)
    run(T["gifsicle"], "--no-warnings", "--logical-screen", "200x150", "--position", "100,75", tmp("sub.gif"),
        "-o", out("gif/subframe.gif"))
    register("gif/subframe.gif", "gifsicle: 200x150 logical screen whose only frame is 100x75 of yellow at (100,75)",
             "the frame composed onto a transparent screen: bottom-right quarter yellow, the rest transparent",
             kind="decode", quadrants={"BR": YELLOW}, display=(200, 150), corner_alpha=0,
             verify=[("magick-coalesce", True), ("pil", False)])
    # lossy-alpha.webp: VP8X + ALPH + VP8 (lossy colour, lossless alpha)
    run(T["cwebp"], "-quiet", "-q", "90", "-alpha_q", "100", "-metadata", "none", out("alpha.png"), "-o", out("webp/lossy-alpha.webp"))
    register("webp/lossy-alpha.webp", "cwebp -q 90 -alpha_q 100 of alpha.png (VP8X, ALPH, lossy VP8)",
             "like alpha.png: transparent corners, opaque shapes", kind="decode", display=(320, 240), corner_alpha=0)
    # exif-6.webp / exif-6-prefixed.webp: EXIF chunk Orientation=6, without and with the "Exif\0\0" prefix
    st = orient_store(S["quad"], 6)
    save_png(tmp("st6.png"), st)
    run(T["cwebp"], "-quiet", "-lossless", tmp("st6.png"), "-o", tmp("st6.webp"))
    exif = Image.Exif()
    exif[0x0112] = 6
    raw = exif.tobytes()
    raw = raw[6:] if raw.startswith(b"Exif\0\0") else raw
    for name, blob, how in [("exif-6.webp", raw, "EXIF chunk = TIFF structure (as the WebP spec says)"),
                            ("exif-6-prefixed.webp", b"Exif\0\0" + raw, "EXIF chunk starting with the JPEG-style 'Exif\\0\\0' prefix")]:
        with open(tmp("exif.bin"), "wb") as f:
            f.write(blob)
        run(T["webpmux"], "-set", "exif", tmp("exif.bin"), tmp("st6.webp"), "-o", out("webp/" + name))
        register("webp/" + name, f"cwebp -lossless of the quadrants stored rotated + webpmux -set exif: {how}, Orientation=6",
                 Q_EXPECT + " (400x300 after applying the orientation)", kind="decode", quadrants=dict(QUAD_COLOURS),
                 display=(400, 300), orientation=6, verify=[("magick-orient", False), ("vips-autorot", False)])


def gif_lzw(indices, min_size):
    """GIF LZW data (the code size byte, sub-blocks, terminator) for a list of palette indices, as a
    standard encoder writes it (table grows to 4096 codes, then a clear code), for ANY minimum code size:
    the width of each code follows the decoder's table, as the GIF specification describes it."""
    clear, end = 1 << min_size, (1 << min_size) + 1
    out_bits, acc, nbits = bytearray(), 0, 0
    state = {"width": min_size + 1, "dec_next": clear + 2, "n": 0}

    def emit(code):
        nonlocal acc, nbits
        acc |= code << nbits
        nbits += state["width"]
        while nbits >= 8:
            out_bits.append(acc & 255)
            acc >>= 8
            nbits -= 8
        if code == clear:
            state.update(width=min_size + 1, dec_next=clear + 2, n=0)
            return
        state["n"] += 1
        if state["n"] >= 2 and state["dec_next"] < 4096:  # the decoder adds an entry from the 2nd code on
            state["dec_next"] += 1
            if state["dec_next"] == 1 << state["width"] and state["width"] < 12:
                state["width"] += 1

    table, enc_next = {}, clear + 2
    emit(clear)
    w = indices[0]
    for k in indices[1:]:
        if (w, k) in table:
            w = table[(w, k)]
            continue
        emit(w)
        table[(w, k)] = enc_next
        enc_next += 1
        w = k
        if enc_next == 4096:
            emit(clear)
            table, enc_next = {}, clear + 2
    emit(w)
    emit(end)
    if nbits:
        out_bits.append(acc & 255)
    blocks = b"".join(bytes([len(out_bits[i:i + 255])]) + bytes(out_bits[i:i + 255]) for i in range(0, len(out_bits), 255))
    return bytes([min_size]) + blocks + b"\0"


def gif_lzw_cleared_literals(indices, min_size):
    """GIF LZW data in which every pixel is a literal code right after a clear code, so the code width
    never changes: readable whatever a decoder's rule for widening codes (they differ for code size 1)."""
    clear, width = 1 << min_size, min_size + 1
    acc = sum((((clear | (i << width)) << (2 * width * n)) for n, i in enumerate(indices)))
    acc |= (clear + 1) << (2 * width * len(indices))
    data = acc.to_bytes((2 * width * len(indices) + width + 7) // 8, "little")
    blocks = b"".join(bytes([len(data[i:i + 255])]) + data[i:i + 255] for i in range(0, len(data), 255))
    return bytes([min_size]) + blocks + b"\0"


def gif_file(width, height, palette, lzw):
    """GIF89a with a global palette (padded to a power of two) and one full-screen frame."""
    bits = max(1, (len(palette) - 1).bit_length())
    pal = b"".join(bytes(c) for c in palette) + bytes(3 * ((1 << bits) - len(palette)))
    return (b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80 | (bits - 1), 0, 0) + pal
            + b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + lzw + b"\x3b")


def gif_small_frame(width, height, palette, frame, lzw):
    """GIF89a with a global palette and ONE frame (left, top, w, h) smaller than the canvas."""
    bits = max(1, (len(palette) - 1).bit_length())
    pal = b"".join(bytes(c) for c in palette) + bytes(3 * ((1 << bits) - len(palette)))
    return (b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80 | (bits - 1), 0, 0) + pal
            + b"\x2c" + struct.pack("<HHHHB", *frame, 0) + lzw + b"\x3b")


def quadrant_rows(w, h, colours):
    """Rows of indices: TL, TR, BL, BR = colours[0..3]."""
    return [[colours[(0 if x < w // 2 else 1) + (0 if y < h // 2 else 2)] for x in range(w)] for y in range(h)]


def make_tiff_variants(S):
    """TIFF variants whose samples mean more than libtiff's RGBA interface reads from the tags:
    alpha without an ExtraSamples tag, grey with alpha (8/16-bit, interleaved or in planes), an
    empty extra plane, JPEG blocks of RGB that carry a JFIF marker, and L*a*b* greys."""
    card = S["card"]
    # rgba-no-extrasamples.tif: four samples of RGB and no ExtraSamples tag (Panotools, older writers)
    rgba = [[px + ((0 if in_frame(x, y) else 255),) for x, px in enumerate(r)] for y, r in enumerate(S["card_rows"])]
    write_bytes("tiff/rgba-no-extrasamples.tif", tiff_from_rows(rgba, 4, 8, 2))
    register("tiff/rgba-no-extrasamples.tif", "own TIFF writer: RGB with a 4th sample and NO ExtraSamples tag; "
             "4th sample 0 in the frame", CARD_EXPECT.split(";")[0] + "; edges transparent (Pillow and libvips "
             "read the 4th sample as alpha)", corner_alpha=0, verify=[("pil", True), ("vips", False)], **CARD_QUADS)
    # grey with alpha: 8-bit and 16-bit unassociated, 8-bit associated, 8-bit in separate planes
    grey8, grey16 = grey_card_rows(8), grey_card_rows(16)
    ga8 = [[(v, 0 if in_frame(x, y) else 255) for x, v in enumerate(r)] for y, r in enumerate(grey8)]
    ga16 = [[(v, 0 if in_frame(x, y) else 65535) for x, v in enumerate(r)] for y, r in enumerate(grey16)]
    gaa = [[((0, 0) if in_frame(x, y) else (v, 255)) for x, v in enumerate(r)] for y, r in enumerate(grey8)]
    for name, rows, bits, kind, how in [
        ("grey-alpha.tif", ga8, 8, 2, "8-bit grey + unassociated alpha (ExtraSamples=2), as ImageMagick writes"),
        ("grey16-alpha.tif", ga16, 16, 2, "16-bit grey + unassociated alpha"),
        ("grey-alpha-associated.tif", gaa, 8, 1, "8-bit grey + associated (premultiplied) alpha"),
    ]:
        write_bytes("tiff/" + name, tiff_from_rows(rows, 2, bits, 1, extra_tags={338: ("SHORT", [kind])}))
        register("tiff/" + name, "own TIFF writer: " + how + "; frame alpha 0", GREY_EXPECT + "; edges transparent",
                 corner_alpha=0, **GREY_QUADS)
    run(T["tiffcp"], "-p", "separate", out("tiff/grey-alpha.tif"), out("tiff/grey-alpha-planar.tif"))
    register("tiff/grey-alpha-planar.tif", "tiffcp -p separate of grey-alpha.tif: grey and alpha in separate planes",
             GREY_EXPECT + "; edges transparent", corner_alpha=0, verify=[("pil", False), ("vips", False), ("magick", False)],
             **GREY_QUADS)
    # grey-extra-planar-empty.tif: grey plane + an ExtraSamples=0 plane whose strip is empty (offset and count 0)
    plane = b"".join(bytes(r) for r in grey8)
    tags = {258: ("SHORT", [8, 8]), 259: ("SHORT", [1]), 262: ("SHORT", [1]), 277: ("SHORT", [2]),
            278: ("LONG", [CARD_H]), 284: ("SHORT", [2]), 338: ("SHORT", [0])}
    write_bytes("tiff/grey-extra-planar-empty.tif", tiff_bytes(CARD_W, CARD_H, [plane, b""], tags))
    register("tiff/grey-extra-planar-empty.tif", "own TIFF writer: grey in separate planes, the second an unspecified "
             "extra sample (ExtraSamples=0) whose strip is empty", GREY_EXPECT + "; opaque (the extra sample is not alpha)",
             corner_alpha=255, verify=[("pil", False), ("vips", False)], **GREY_QUADS)
    # jpeg-rgb-jfif.tif: Photometric RGB, JPEG strip of untransformed R, G, B samples that carries a JFIF marker
    buf = io.BytesIO()
    Image.merge("YCbCr", card.split()).save(buf, "JPEG", quality=95, subsampling=0)
    tags = {258: ("SHORT", [8, 8, 8]), 259: ("SHORT", [7]), 262: ("SHORT", [2]), 277: ("SHORT", [3]),
            278: ("LONG", [CARD_H]), 284: ("SHORT", [1])}
    write_bytes("tiff/jpeg-rgb-jfif.tif", tiff_bytes(CARD_W, CARD_H, [buf.getvalue()], tags))
    register("tiff/jpeg-rgb-jfif.tif", "own TIFF writer: Compression 7, Photometric RGB; the strip is a JFIF stream "
             "(Pillow q95, 4:4:4) of untransformed R, G, B samples, as GIMP wrote", CARD_EXPECT + " (JPEG: tolerance ~12; "
             "libtiff takes the colours from Photometric, not from the JFIF marker)", tolerance=12,
             verify=[("vips", True), ("tiff2rgba", True)], **CARD_QUADS)
    # lab-grey.tif: L*a*b* (D50, no WhitePoint tag) of the grey card: greys must stay neutral
    save_png(tmp("grey-card.png"), rows_to_image(grey8, "L"))
    run(T["convert"], tmp("grey-card.png"), "-colorspace", "Lab", out("tiff/lab-grey.tif"))
    register("tiff/lab-grey.tif", "ImageMagick -colorspace Lab of the grey card: Photometric 8 (CIELab), 8-bit, "
             "no WhitePoint tag", GREY_EXPECT + " (neutral: a D50 white shown as D65 white, not yellow)", tolerance=6,
             verify=[("vips", True)], **GREY_QUADS)


def make_irregular(S):
    """Files other decoders (libvips, Pillow, browsers) read although they bend the rules, and
    files whose data breaks the rules in a way no thumbnail can be made of."""
    card = S["card"]
    # tiled-jpeg-ycbcr-1x1.tif: tiles that are whole JFIF streams (no JPEGTables), YCbCr 4:4:4
    tiles = []
    for ty in range(0, CARD_H, 64):
        for tx in range(0, CARD_W, 64):
            tile = Image.new("RGB", (64, 64))
            tile.paste(card.crop((tx, ty, min(tx + 64, CARD_W), min(ty + 64, CARD_H))), (0, 0))
            buf = io.BytesIO()
            tile.save(buf, "JPEG", quality=90, subsampling=0)
            tiles.append(buf.getvalue())
    tags = {258: ("SHORT", [8, 8, 8]), 259: ("SHORT", [7]), 262: ("SHORT", [6]), 277: ("SHORT", [3]),
            284: ("SHORT", [1]), 530: ("SHORT", [1, 1])}
    write_bytes("tiff/tiled-jpeg-ycbcr-1x1.tif", tiff_bytes(CARD_W, CARD_H, tiles, tags, tiles=(64, 64)))
    register("tiff/tiled-jpeg-ycbcr-1x1.tif", "own TIFF writer: 64x64 tiles (edge tiles padded), Compression 7, Photometric "
             "YCbCr, YCbCrSubsampling 1,1; every tile a whole PIL JFIF stream q90 4:4:4 (no JPEGTables)",
             CARD_EXPECT + " (JPEG: tolerance ~12)", tolerance=12, **CARD_QUADS)
    # tiled JPEG tiles that LibJpeg.Net cannot read right: progressive with restart markers, arithmetic coding
    for name, opts, how in [("tiled-jpeg-progressive-restart.tif", ["-progressive", "-restart", "1", "-sample", "2x2"],
                             "progressive with a restart marker after every MCU row, 2x2 subsampling"),
                            ("tiled-jpeg-arithmetic.tif", ["-arithmetic", "-sample", "1x1"], "arithmetic-coded, 1x1 subsampling")]:
        tiles = []
        for ty in range(0, CARD_H, 64):
            for tx in range(0, CARD_W, 64):
                tile = Image.new("RGB", (64, 64))
                tile.paste(card.crop((tx, ty, min(tx + 64, CARD_W), min(ty + 64, CARD_H))), (0, 0))
                tiles.append(run(T["cjpeg"], "-quality", "90", *opts, _ppm(tile, "tile.ppm")))
        sub = [1, 1] if "1x1" in how else [2, 2]
        tags = {258: ("SHORT", [8, 8, 8]), 259: ("SHORT", [7]), 262: ("SHORT", [6]), 277: ("SHORT", [3]),
                284: ("SHORT", [1]), 530: ("SHORT", sub)}
        write_bytes("tiff/" + name, tiff_bytes(CARD_W, CARD_H, tiles, tags, tiles=(64, 64)))
        register("tiff/" + name, f"own TIFF writer: 64x64 YCbCr JPEG tiles, each a whole cjpeg -quality 90 "
                 f"{' '.join(opts)} stream ({how})", CARD_EXPECT + " (JPEG: tolerance ~12)", tolerance=12,
                 verify=[("vips", True), ("magick", False), ("pil", False)], **CARD_QUADS)
    # tiled-rgb16-deflate.tif: one 256x256 tile bigger than the 160x120 picture (as Pixelmator writes)
    run(T["tiffcp"], "-t", "-w", "256", "-l", "256", "-c", "zip", out("tiff/rgb16.tif"), out("tiff/tiled-rgb16-deflate.tif"))
    register("tiff/tiled-rgb16-deflate.tif", "tiffcp -t -w 256 -l 256 -c zip of rgb16.tif: 16-bit RGB, Deflate, one tile "
             "larger than the picture", CARD16_EXPECT, kind="decode", quadrants=dict(QUAD16_AS8), centres=CARD_CENTRES,
             display=(160, 120))
    # no-rowsperstrip*.tif: one strip and no RowsPerStrip tag (its default is 2^32-1: the whole picture)
    raw = card.tobytes()
    for name, compression, data, how in [("no-rowsperstrip.tif", 1, raw, "uncompressed"),
                                         ("no-rowsperstrip-deflate.tif", 8, zlib.compress(raw, 9), "Adobe Deflate")]:
        tags = {258: ("SHORT", [8, 8, 8]), 259: ("SHORT", [compression]), 262: ("SHORT", [2]), 277: ("SHORT", [3]),
                284: ("SHORT", [1])}
        write_bytes("tiff/" + name, tiff_bytes(CARD_W, CARD_H, [data], tags))
        register("tiff/" + name, f"own TIFF writer: RGB 8-bit, {how}, one strip, NO RowsPerStrip tag", CARD_EXPECT,
                 **CARD_QUADS)
    # rgb-extra-unspecified.tif: a 4th sample marked ExtraSamples = 0 (unspecified), all zeros
    rgbx = [[px + (0,) for px in row] for row in S["card_rows"]]
    write_bytes("tiff/rgb-extra-unspecified.tif", tiff_from_rows(rgbx, 4, 8, 2, extra_tags={338: ("SHORT", [0])}))
    register("tiff/rgb-extra-unspecified.tif", "own TIFF writer: RGB + a 4th sample, ExtraSamples = 0 (unspecified data, "
             "not alpha), that sample 0 everywhere", CARD_EXPECT + "; opaque everywhere (unspecified is not transparency: "
             "Pillow reads RGBX)", corner_alpha=255, verify=[("pil", True), ("magick", False), ("vips", False)],
             **CARD_QUADS)
    # opaque-canvas.gif / small-frame.gif: a canvas of 600x600 wholly covered by red, then the same
    # canvas with one 60x60 blue frame in its middle and nothing else: the rest is transparent
    w = 600
    write_bytes("gif/opaque-canvas.gif", gif_file(w, w, [RED, BLUE], gif_lzw_cleared_literals([0] * (w * w), 2)))
    register("gif/opaque-canvas.gif", "own GIF writer: 600x600, one frame covering the canvas, all red",
             "thumbnail red and opaque everywhere", kind="decode", quadrants={k: RED for k in QUAD_COLOURS},
             corner_alpha=255, display=(w, w))
    write_bytes("gif/small-frame.gif", gif_small_frame(w, w, [RED, BLUE], (270, 270, 60, 60), gif_lzw_cleared_literals([1] * 3600, 2)))
    register("gif/small-frame.gif", "own GIF writer: 600x600 canvas, one 60x60 blue frame in the middle (270, 270), no background colour",
             "thumbnail transparent everywhere but its middle tenth (blue): what the frame does not cover is "
             "transparent, as browsers show it", kind="decode", corner_alpha=0, display=(w, w),
             verify=[("pil", False), ("vips", False), ("magick", False)])
    # GIFs whose LZW minimum code size is outside the 2..8 of the specification (read by Pillow, libnsgif, Firefox)
    two = [RED, BLUE]
    rows = quadrant_rows(CARD_W, CARD_H, [0, 1, 1, 0])
    write_bytes("gif/lzw-code-size-1.gif", gif_file(CARD_W, CARD_H, two, gif_lzw_cleared_literals([i for r in rows for i in r], 1)))
    register("gif/lzw-code-size-1.gif", "own GIF writer: 2-colour palette (red, blue), LZW minimum code size 1 "
             "(the specification says 2..8; some encoders write 1 for two colours), each pixel a literal after a "
             "clear code (decoders differ on when 2-bit codes widen, so none is needed)",
             "TL red, TR blue, BL blue, BR red", kind="decode", quadrants={"TL": RED, "TR": BLUE, "BL": BLUE, "BR": RED},
             display=(160, 120), verify=[("pil", True), ("vips", True), ("magick", False)])
    photo = S["photo_p"]
    write_bytes("gif/lzw-code-size-9.gif", gif_file(photo.width, photo.height,
                                                    [tuple(photo.getpalette()[i:i + 3]) for i in range(0, 768, 3)],
                                                    gif_lzw(list(photo.getdata()), 9)))
    register("gif/lzw-code-size-9.gif", "own GIF writer: photo.gif's palette and pixels, LZW minimum code size 9 (one "
             "more than 8-bit indices need; standard LZW coding otherwise)", "decoded pixels identical to photo.gif",
             kind="decode", same_pixels_as="photo.gif", display=(320, 240))
    # lzw-no-terminator.gif: every pixel is in the LZW data, but the data's last sub-block is not closed by
    # the empty sub-block (the trailer follows straight away); Skia reads past it and calls the file cut short
    data = gif_lzw([i for r in quadrant_rows(CARD_W, CARD_H, [0, 1, 2, 3]) for i in r], 2)
    write_bytes("gif/lzw-no-terminator.gif", gif_file(CARD_W, CARD_H, [RED, GREEN, BLUE, YELLOW], data[:-1]))
    register("gif/lzw-no-terminator.gif", "own GIF writer: 4-colour quadrants, standard LZW (code size 2) with its end "
             "code, but without the empty sub-block that closes the image data; the trailer follows the data",
             Q_EXPECT + " (the picture is complete; only the framing after it is missing)", kind="decode",
             quadrants=dict(QUAD_COLOURS), display=(160, 120), verify=[("pil", True), ("magick", False), ("vips", False)])
    # RLE8 BMPs whose runs go past the end of a row
    pal = [RED, GREEN, BLUE, YELLOW]
    stored = quadrant_rows(CARD_W, CARD_H, [0, 1, 2, 3])[::-1]
    half = CARD_W // 2

    def rle8(rows, row_codes, end=b"\0\1"):
        data = b"".join(row_codes(r) + (b"" if i == len(rows) - 1 else b"\0\0") for i, r in enumerate(rows))
        return bmp_bytes(quadrant_rows(CARD_W, CARD_H, [0, 1, 2, 3]), 8, palette=pal, compression="rle8",
                         rle_rows_override=data + end)
    write_bytes("bmp/rle8-run-past-row.bmp", rle8(stored, lambda r: bytes((half, r[0], half + 10, r[-1]))))
    register("bmp/rle8-run-past-row.bmp", "own BMP writer: BI_RLE8, each row two encoded runs of which the second "
             "claims 10 pixels more than the row has, then end-of-line", Q_EXPECT + " (the run cut at the row's end, as "
             "browsers and Pillow do)", kind="decode", quadrants=dict(QUAD_COLOURS), display=(160, 120),
             verify=[("pil", True), ("magick", False), ("vips", False)])
    flat = bytes(b for r in stored for b in (half, r[0], half, r[-1]))
    write_bytes("damaged/rle8-runs-wrap.bmp", bmp_bytes(quadrant_rows(CARD_W, CARD_H, [0, 1, 2, 3]), 8, palette=pal,
                                                        compression="rle8", rle_rows_override=flat + b"\0\1"))
    register("damaged/rle8-runs-wrap.bmp", "own BMP writer: BI_RLE8 with no end-of-line codes; the runs of one row go on "
             "into the next (ImageMagick wraps them; browsers, Skia and Pillow drop all but the first row)",
             "refused: corrupt_image (never a mostly empty thumbnail)", kind="reject", codes=["corrupt_image"])
    write_bytes("damaged/rle8-absolute-past-row.bmp",
                rle8(stored, lambda r: bytes((half, r[0], 0, half + 3)) + bytes([r[-1]] * (half + 3)) + b"\0"))
    register("damaged/rle8-absolute-past-row.bmp", "own BMP writer: BI_RLE8, each row an encoded run and then an absolute "
             "run of 83 pixels where 80 are left (odd length, padded), then end-of-line",
             "refused: corrupt_image (Skia cuts the run and loses step: a garbled picture)", kind="reject",
             codes=["corrupt_image"])


def generate():
    for d in SUBDIRS:
        shutil.rmtree(os.path.join(OUT, d), ignore_errors=True)
    for f in ROOT_FILES:
        if os.path.exists(os.path.join(OUT, f)):
            os.remove(os.path.join(OUT, f))
    S = build_sources()
    for step in (make_core, make_orientation, make_colour, make_png, make_more_png, make_bmp, make_more_bmp,
                 make_gif, make_webp, make_more_gif_webp, make_tiff, make_more_tiff, make_tiff_variants, make_jpeg, make_irregular, make_patterns,
                 make_damaged, make_disguised, make_references):
        print(f"  {step.__name__}", file=sys.stderr)
        step(S)
    return S



# --------------------------------------------------------------------------------------------
# 5. What each file really is (own parsers + tiffinfo/webp chunk walk) and decoder checks
# --------------------------------------------------------------------------------------------

def icc_description(prof):
    try:
        n = struct.unpack(">I", prof[128:132])[0]
        for i in range(n):
            sig, off, size = struct.unpack(">4sII", prof[132 + 12 * i:144 + 12 * i])
            if sig == b"desc":
                d = prof[off:off + size]
                if d[:4] == b"desc":
                    cnt = struct.unpack(">I", d[8:12])[0]
                    return d[12:12 + cnt].rstrip(b"\0").decode("latin-1")
                if d[:4] == b"mluc":
                    ln, o = struct.unpack(">II", d[20:28])
                    return d[o:o + ln].decode("utf-16-be")
    except Exception:
        pass
    return "?"


def probe_jpeg(data):
    sof_names = {0xC0: "baseline", 0xC1: "extended sequential", 0xC2: "progressive", 0xC3: "lossless"}
    parts, i, icc = [], 2, b""
    if data[:2] != b"\xff\xd8":
        return "not a JPEG"
    while i + 4 <= len(data) and data[i] == 0xFF:
        m = data[i + 1]
        if m == 0xFF:
            i += 1
            continue
        if m == 0xD9:
            break
        ln = struct.unpack(">H", data[i + 2:i + 4])[0]
        seg = data[i + 4:i + 2 + ln]
        if m in sof_names:
            prec, h, w, nc = struct.unpack(">BHHB", seg[:6])
            samp = ",".join(f"{seg[6 + 3 * k + 1] >> 4}x{seg[6 + 3 * k + 1] & 15}" for k in range(nc))
            parts.insert(0, f"JPEG {sof_names[m]} {w}x{h}, {nc} component{'s' if nc > 1 else ''} (sampling {samp})")
        elif m == 0xE0 and seg[:5] == b"JFIF\0":
            parts.append("JFIF")
        elif m == 0xE1 and seg[:6] == b"Exif\0\0":
            t = seg[6:]
            o = "<" if t[:2] == b"II" else ">"
            ifd = struct.unpack(o + "I", t[4:8])[0]
            cnt = struct.unpack(o + "H", t[ifd:ifd + 2])[0]
            orient = None
            for k in range(cnt):
                tag, typ, c, v = struct.unpack(o + "HHI4s", t[ifd + 2 + 12 * k:ifd + 14 + 12 * k])
                if tag == 0x0112:
                    orient = struct.unpack(o + "H", v[:2])[0]
            parts.append(f"Exif ({'MM' if o == '>' else 'II'}) Orientation={orient}")
        elif m == 0xE2 and seg[:12] == b"ICC_PROFILE\0":
            icc += seg[14:]
        elif m == 0xEE and seg[:5] == b"Adobe":
            parts.append(f"Adobe APP14 transform={seg[11]}")
        elif m == 0xDA:
            break
        i += 2 + ln
    if icc:
        parts.append(f"ICC '{icc_description(icc)}' ({len(icc)} B, {icc[16:20].decode().strip()})")
    if not data.rstrip(b"\0").endswith(b"\xff\xd9"):
        parts.append("NO EOI marker")
    return ", ".join(parts)


PNG_CT = {0: "grey", 2: "RGB", 3: "palette", 4: "grey+alpha", 6: "RGBA"}


def probe_png(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return "not a PNG"
    i, chunks, desc, bad = 8, [], "", []
    while i + 8 <= len(data):
        ln, typ = struct.unpack(">I4s", data[i:i + 8])
        body = data[i + 8:i + 8 + ln]
        if len(body) < ln or i + 12 + ln > len(data):
            chunks.append(typ.decode() + "(truncated)")
            break
        if struct.unpack(">I", data[i + 8 + ln:i + 12 + ln])[0] != zlib.crc32(typ + body):
            bad.append(typ.decode())
        chunks.append(typ.decode())
        if typ == b"IHDR":
            w, h, bd, ct, _, _, il = struct.unpack(">IIBBBBB", body)
            desc = f"PNG {w}x{h}, {bd}-bit {PNG_CT.get(ct, ct)} (colour type {ct}), {'Adam7' if il else 'not'} interlaced"
        if typ == b"iCCP":
            name = body.split(b"\0")[0]
            prof = zlib.decompress(body[len(name) + 2:])
            desc += f", iCCP '{icc_description(prof)}'"
        if typ == b"tRNS":
            desc += f", tRNS {ln} B"
        if typ == b"PLTE":
            desc += f", PLTE {ln // 3} entries"
        i += 12 + ln
    cs = []
    for c in chunks:
        if not cs or cs[-1][0] != c:
            cs.append([c, 1])
        else:
            cs[-1][1] += 1
    desc += "; chunks " + " ".join(c if n == 1 else f"{c}x{n}" for c, n in cs)
    if bad:
        desc += "; BAD CRC in " + ",".join(bad)
    return desc


BMP_HDR = {12: "BITMAPCOREHEADER", 40: "BITMAPINFOHEADER", 52: "V2", 56: "V3", 108: "BITMAPV4HEADER",
           124: "BITMAPV5HEADER"}
BMP_COMP = {0: "BI_RGB", 1: "BI_RLE8", 2: "BI_RLE4", 3: "BI_BITFIELDS", 6: "BI_ALPHABITFIELDS"}


def probe_bmp(data):
    if data[:2] != b"BM" or len(data) < 54:
        return "not a BMP"
    fsize, off = struct.unpack("<I4xI", data[2:14])
    hs = struct.unpack("<I", data[14:18])[0]
    w, h, _, bpp, comp, simg, _, _, used = struct.unpack("<iiHHIIiiI", data[18:50])
    d = (f"BMP {BMP_HDR.get(hs, hs)} ({hs} B), {w}x{abs(h)} {'top-down (negative height)' if h < 0 else 'bottom-up'}, "
         f"{bpp} bpp, {BMP_COMP.get(comp, comp)}")
    if comp == 3:
        mo = 54 if hs == 40 else 54
        masks = struct.unpack("<III", data[mo:mo + 12]) if hs == 40 else struct.unpack("<IIII", data[54:70])
        d += ", masks " + "/".join(f"{m:08X}" for m in masks)
    if bpp <= 8:
        d += f", palette {used or (1 << bpp)} entries"
    d += f", pixel data {len(data) - off} B (offset {off}), bfSize {fsize} {'=' if fsize == len(data) else '!='} file"
    return d


def probe_gif(data):
    if data[:4] != b"GIF8" or len(data) < 13:
        return "not a GIF"
    w, h, flags, bg, _ = struct.unpack("<HHBBB", data[6:13])
    i = 13
    if flags & 0x80:
        i += 3 * (2 << (flags & 7))
    frames, gce, loop, trunc = [], None, None, False
    try:
        while i < len(data):
            b = data[i]
            if b == 0x3B:
                break
            if b == 0x21:
                label = data[i + 1]
                j = i + 2
                blocks = b""
                while data[j]:
                    blocks += data[j + 1:j + 1 + data[j]]
                    j += 1 + data[j]
                if label == 0xF9:
                    pf = blocks[0]
                    gce = ((pf >> 2) & 7, blocks[3] if pf & 1 else None, struct.unpack("<H", blocks[1:3])[0])
                if label == 0xFF and blocks[:11] == b"NETSCAPE2.0":
                    loop = struct.unpack("<H", blocks[12:14])[0]
                i = j + 1
            elif b == 0x2C:
                x, y, fw, fh, fl = struct.unpack("<HHHHB", data[i + 1:i + 10])
                disp = {0: "0 (unspecified)", 1: "1 (do not dispose)", 2: "2 (background)",
                        3: "3 (previous)"}.get(gce[0] if gce else 0, "?")
                fr = f"{fw}x{fh}@{x},{y}"
                if gce:
                    fr += f" disposal {disp}" + (f" transparent={gce[1]}" if gce[1] is not None else "")
                if fl & 0x40:
                    fr += " interlaced"
                if fl & 0x80:
                    fr += " local-palette"
                frames.append(fr)
                gce = None
                j = i + 10
                if fl & 0x80:
                    j += 3 * (2 << (fl & 7))
                j += 1
                while j < len(data) and data[j]:
                    j += 1 + data[j]
                if j >= len(data):
                    frames[-1] += " (image data cut)"
                    trunc = True
                    break
                i = j + 1
            else:
                break
        else:
            trunc = True
    except IndexError:
        trunc = True
    d = f"{data[:6].decode()} screen {w}x{h}, global palette {2 << (flags & 7) if flags & 0x80 else 0}, {len(frames)} frame(s)"
    if loop is not None:
        d += f", loop {loop or 'forever'}"
    d += ": " + "; ".join(frames[:6])
    if trunc or not data.endswith(b";"):
        d += " [TRUNCATED: no trailer]"
    return d


def probe_webp(data):
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return "not a WebP"
    i, top, anmf = 12, [], []
    while i + 8 <= len(data):
        fourcc, ln = data[i:i + 4].decode(), struct.unpack("<I", data[i + 4:i + 8])[0]
        body = data[i + 8:i + 8 + ln]
        top.append(fourcc)
        if fourcc == "VP8L" and len(body) >= 5:
            bits = int.from_bytes(body[1:5], "little")
            top[-1] += f"({(bits & 0x3FFF) + 1}x{((bits >> 14) & 0x3FFF) + 1}, alpha {'used' if bits >> 28 & 1 else 'unused'})"
        if fourcc == "VP8 " and len(body) >= 10:
            top[-1] += f"({struct.unpack('<H', body[6:8])[0] & 0x3FFF}x{struct.unpack('<H', body[8:10])[0] & 0x3FFF})"
        if fourcc == "VP8X":
            fl = body[0]
            top[-1] += "(" + ",".join(n for b, n in ((16, "alpha"), (2, "animation"), (32, "ICC"), (8, "EXIF")) if fl & b) + ")"
        if fourcc == "ANMF":
            x, y = (int.from_bytes(body[0:3], "little") * 2, int.from_bytes(body[3:6], "little") * 2)
            fw, fh = int.from_bytes(body[6:9], "little") + 1, int.from_bytes(body[9:12], "little") + 1
            inner = body[16:20].decode()
            anmf.append(f"{fw}x{fh}@{x},{y} {inner}")
        i += 8 + ln + (ln & 1)
    d = "RIFF/WEBP chunks " + " ".join(top)
    if any(t.startswith("VP8L") for t in top):
        d += " = lossless"
    elif any(t.startswith("VP8 ") for t in top):
        d += " = lossy"
    if anmf:
        d += "; frames: " + "; ".join(anmf)
    return d


def probe_tiff(path):
    data = read_bytes(path)
    order = {b"II": "II little-endian", b"MM": "MM big-endian"}.get(data[:2], "?")
    rc, so, se = run_rc(T["tiffinfo"], path)
    txt = so.decode(errors="replace")
    dirs = [d for d in txt.split("=== TIFF directory")[1:]] or [txt]
    keys = ["Image Width", "Tile Width", "Bits/Sample", "Sample Format", "Compression Scheme",
            "Photometric Interpretation", "Extra Samples", "Orientation", "Samples/Pixel", "Rows/Strip",
            "Planar Configuration", "InkSet", "Predictor", "YCbCr Subsampling", "Group 3 Options"]
    descs = []
    for dtext in dirs:
        items = []
        for line in dtext.splitlines():
            line = line.strip()
            for k in keys:
                if line.startswith(k):
                    items.append(line.replace("Image Width: ", "").replace(" Image Length: ", "x")
                                 .replace("Tile Width: ", "tiles ").replace(" Tile Length: ", "x"))
        descs.append(", ".join(items))
    d = f"TIFF {order}, {len(dirs)} IFD(s): " + " | ".join(descs)
    err = se.decode(errors="replace").strip().splitlines()
    if rc != 0 or err:
        d += " [tiffinfo: " + (err[0] if err else f"exit {rc}") + "]"
    return d


def probe(rel):
    path = out(rel)
    data = read_bytes(path)
    if not data:
        return "empty file (0 bytes)"
    if data[:2] == b"\xff\xd8":
        return probe_jpeg(data)
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return probe_png(data)
    if data[:2] == b"BM":
        return probe_bmp(data)
    if data[:4] == b"GIF8":
        return probe_gif(data)
    if data[:4] == b"RIFF":
        return probe_webp(data)
    if data[:4] in (b"II*\0", b"MM\0*"):
        return probe_tiff(path)
    return "not an image: " + run(T["file"], "-b", path).decode().strip()


def sniff(head):
    """Mirror of Imaging/FormatSniffer.cs: which accepted format the first 12 bytes belong to."""
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:2] == b"BM" and len(head) >= 12:
        return "bmp"
    if head[:4] in (b"II*\0", b"MM\0*"):
        return "tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


# ---- decoders used by the checks --------------------------------------------------------------

def _norm(im):
    if im.mode in ("I", "I;16", "I;16B", "I;16L"):
        im = im.point(lambda v: v * (1 / 256)).convert("L")
    return im.convert("RGBA")


def dec_magick(path, *args):
    data = run(T["convert"], f"{path}[0]", *args, "png32:-")
    return Image.open(io.BytesIO(data)).convert("RGBA")


def dec_vips(path, op="colourspace"):
    o = tmp("vipsdec.png")
    if op == "colourspace":
        run(T["vips"], "colourspace", path, o, "srgb")
    elif op == "icc":
        run(T["vips"], "icc_transform", path, o, "srgb", "--embedded", "--input-profile", "srgb")
    elif op == "autorot":
        run(T["vips"], "autorot", path, o)
    return Image.open(o).convert("RGBA")


def dec_tiff2rgba(path):
    o = tmp("t2r.tif")
    run(T["tiff2rgba"], path, o)
    return Image.open(o).convert("RGBA")


def dec_pil(path, orient=False, icc=False):
    from PIL import ImageCms
    im = Image.open(path)
    im.load()
    if orient:
        im = ImageOps.exif_transpose(im)
    if icc and im.info.get("icc_profile"):
        src = ImageCms.ImageCmsProfile(io.BytesIO(im.info["icc_profile"]))
        im = ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"), outputMode="RGB")
    return _norm(im)


DECODERS = {
    "magick": ("ImageMagick `convert F[0] png32:-`", lambda p: dec_magick(p)),
    "magick-orient": ("ImageMagick `convert F[0] -auto-orient`", lambda p: dec_magick(p, "-auto-orient")),
    "magick-coalesce": ("ImageMagick `convert F[0] -coalesce` (the frame placed on its logical screen)",
                        lambda p: dec_magick(p, "-coalesce")),
    "magick-icc": ("ImageMagick `convert F[0] -profile sRGB.icc` (applies the embedded profile)",
                   lambda p: dec_magick(p, "-profile", tmp("srgb.icc"))),
    "vips": ("libvips `vips colourspace F out srgb`", lambda p: dec_vips(p)),
    "vips-icc": ("libvips `vips icc_transform F out srgb --embedded`", lambda p: dec_vips(p, "icc")),
    "vips-autorot": ("libvips `vips autorot`", lambda p: dec_vips(p, "autorot")),
    "pil": ("Pillow `Image.open`", lambda p: dec_pil(p)),
    "pil-orient": ("Pillow + `ImageOps.exif_transpose`", lambda p: dec_pil(p, orient=True)),
    "pil-icc": ("Pillow + ImageCms (embedded profile -> sRGB)", lambda p: dec_pil(p, icc=True)),
    "tiff2rgba": ("libtiff `tiff2rgba` (its RGBA interface, as LibTiff.NET uses), read by Pillow", lambda p: dec_tiff2rgba(p)),
}

FRACS = {"TL": (0.25, 0.25), "TR": (0.75, 0.25), "BL": (0.25, 0.75), "BR": (0.75, 0.75)}


def sample(im, fx, fy, r=2):
    w, h = im.size
    cx, cy = int(fx * w), int(fy * h)
    px = [im.getpixel((x, y)) for x in range(cx - r, cx + r + 1) for y in range(cy - r, cy + r + 1)]
    return tuple(round(sum(p[c] for p in px) / len(px)) for c in range(4))


def measure(im):
    return {k: sample(im, *f) for k, f in FRACS.items()}


def compare(meas, expected, tol):
    bad = []
    for k, exp in expected.items():
        got = meas[k]
        if isinstance(exp, str):  # "black"/"white"
            ok = got[0] <= 40 and got[3] > 200 if exp == "black" else got[0] >= 215
        elif isinstance(exp, int):
            ok = all(abs(got[c] - exp) <= tol for c in range(3))
        else:
            ok = all(abs(got[c] - exp[c]) <= tol for c in range(3)) and got[3] >= 250
        if not ok:
            bad.append(f"{k} {got[:3] if got[3] == 255 else got}")
    return bad


def fmt_rgb(t):
    return "(" + ",".join(str(v) for v in t[:3]) + (f",a{t[3]}" if len(t) > 3 and t[3] != 255 else "") + ")"


CHECKS = []  # (file, decoder, required, ok, detail)


def check(rel, decoder, expected, tol, required, display=None):
    corner = FILES.get(rel, {}).get("corner_alpha")
    path = out(rel)
    try:
        im = DECODERS[decoder][1](path)
    except Exception as e:  # noqa: BLE001 - the failure itself is the finding
        msg = str(e).strip().splitlines()
        msg = [m for m in msg if m and "failed (" not in m][:1]
        CHECKS.append((rel, decoder, required, False, "error: " + (clean_msg(msg[0])[:120] if msg else "?")))
        return None
    meas = measure(im)
    problems = []
    if display and tuple(im.size) != tuple(display):
        problems.append(f"size {im.size[0]}x{im.size[1]} (want {display[0]}x{display[1]})")
    if expected:
        problems += compare(meas, expected, tol)
    if corner is not None:
        a = sample(im, 2 / im.size[0], 2 / im.size[1])[3]
        if abs(a - corner) > 2:
            problems.append(f"corner alpha {a} (want {corner})")
    detail = ("ok" if not problems else "MISMATCH " + "; ".join(problems)) + \
        " - measured " + " ".join(f"{k}{fmt_rgb(v)}" for k, v in meas.items())
    CHECKS.append((rel, decoder, required, not problems, detail))
    return im


def expected_of(info):
    if "quadrants" in info:
        return info["quadrants"]
    if "grey" in info:
        return info["grey"]
    if info.get("bilevel"):
        return dict(BILEVEL_EXPECT)
    return None


def tolerance_of(rel, info):
    if "tolerance" in info:
        return info["tolerance"]
    if rel.endswith(".jpg") or rel == "photo.webp" or rel == "tiff/jpeg.tif":
        return 12
    return 4


CORNER_ALPHA = {"alpha.png": 0, "png/rgba16.png": 0, "png/gray-alpha.png": 0, "png/palette-8bit-trns.png": 128,
                "bmp/rgba32.bmp": 0, "tiff/rgba.tif": 0, "gif/transparent.gif": 0, "webp/lossless-alpha.webp": 0}


def verify(S):
    for rel, a in CORNER_ALPHA.items():
        FILES[rel]["corner_alpha"] = a
    with open(tmp("srgb.icc"), "wb") as f:
        f.write(S["icc_srgb"])
    for rel, info in FILES.items():
        info["really"] = probe(rel)
    # --- generic decode checks
    for rel, info in FILES.items():
        if info["kind"] not in ("decode", "either"):
            continue
        exp, tol, disp = expected_of(info), tolerance_of(rel, info), info.get("display")
        required = info["kind"] == "decode"
        if rel.startswith("orientation/"):
            tif = rel.endswith(".tif")
            check(rel, "magick-orient", exp, tol, True, disp)
            check(rel, "vips-autorot", exp, tol, not tif, disp)
            check(rel, "pil-orient", exp, tol, False, disp)
            n = info["orientation"]
            if n != 1:  # the stored pixels alone must NOT look right
                im = dec_magick(out(rel))
                wrong = compare(measure(im), exp, tol) or tuple(im.size) != (400, 300)
                CHECKS.append((rel, "magick (tag ignored)", True, bool(wrong),
                               "stored pixels differ from the reference, as intended" if wrong else
                               "stored pixels already look like the reference - file is useless"))
            continue
        if rel in ("colour/cmyk-adobe.jpg", "colour/ycck.jpg"):
            check(rel, "magick", exp, tol, True, disp)
            check(rel, "pil", exp, tol, True, disp)
            check(rel, "vips", exp, tol, False, disp)
            continue
        if rel == "colour/cmyk-icc.jpg":
            check(rel, "vips-icc", exp, tol, True, disp)
            check(rel, "pil-icc", exp, tol, True, disp)
            check(rel, "magick-icc", exp, tol, False, disp)
            check(rel, "magick", info["quadrants_if_profile_ignored"], tol, False, disp)
            continue
        if rel == "colour/p3.jpg":
            check(rel, "vips-icc", exp, tol, True, disp)
            check(rel, "pil-icc", exp, tol, False, disp)
            check(rel, "magick-icc", exp, tol, False, disp)
            im = dec_magick(out(rel))
            meas = measure(im)
            S["p3_stored"] = meas
            off = max(abs(meas[k][c] - SRGB_PATCHES[k][c]) for k in ("TL", "TR", "BL") for c in range(3))
            CHECKS.append((rel, "magick (profile ignored)", True, off > 15,
                           f"{'ok' if off > 15 else 'MISMATCH'}: ignoring the profile shows "
                           + " ".join(f"{k}{fmt_rgb(v)}" for k, v in meas.items())
                           + f" (max deviation from the sRGB patches {off})"))
            continue
        if "verify" in info:
            for decoder, must in info["verify"]:
                check(rel, decoder, exp, tol, required and must, disp)
            continue
        check(rel, "magick", exp, tol, required, disp)
        if rel.endswith(("gray-icc.jpg", "srgb-iccp.png")):
            check(rel, "vips-icc", exp, tol, False, disp)
        else:
            check(rel, "vips", exp, tol, False, disp)
        check(rel, "pil", exp, tol, False, disp)
    # --- identical pixels
    for rel, info in FILES.items():
        other = info.get("same_pixels_as")
        if not other:
            continue
        a, b = dec_magick(out(rel)), dec_magick(out(other))
        if rel.endswith(".webp"):
            a, b = dec_pil(out(rel)), dec_pil(out(other))
        same = a.size == b.size and a.tobytes() == b.tobytes()
        diff = 0 if same else max(abs(x - y) for x, y in zip(a.tobytes(), b.tobytes()))
        CHECKS.append((rel, "same pixels as " + other, True, same,
                       "identical decoded RGBA" if same else f"DIFFERENT (max channel difference {diff})"))
    verify_animations()
    verify_rejects()
    verify_references()


def verify_animations():
    # animated.gif: composite frames as browsers do (disposal background -> transparent)
    data = run(T["convert"], out("gif/animated.gif"), "-coalesce", "+adjoin", "png32:" + tmp("coal-%d.png"))
    pts = [  # frame index, point, expected RGBA (None alpha = transparent)
        (0, (50, 37), RED), (0, (150, 112), YELLOW),
        (1, (22, 17), (255, 255, 255)), (1, (50, 37), RED),
        (2, (150, 112), (0, 0, 0)), (2, (50, 37), RED),
        (3, (150, 112), None), (3, (100, 75), (255, 0, 255)), (3, (22, 17), (255, 255, 255)),
        (4, (85, 65), RED), (4, (150, 112), None), (4, (5, 5), (0, 255, 255)), (4, (110, 80), YELLOW),
    ]
    for name, frames in (("magick -coalesce", [Image.open(tmp(f"coal-{i}.png")).convert("RGBA") for i in range(5)]),
                         ("pil seek()", _pil_frames(out("gif/animated.gif")))):
        bad = []
        for fi, (x, y), exp in pts:
            if fi >= len(frames):
                bad.append(f"frame {fi + 1} missing")
                continue
            got = frames[fi].getpixel((x, y))
            ok = got[3] < 128 if exp is None else (got[3] > 200 and all(abs(got[c] - exp[c]) <= 2 for c in range(3)))
            if not ok:
                bad.append(f"F{fi + 1}({x},{y})={got}")
        CHECKS.append(("gif/animated.gif", name, name.startswith("magick"), not bad,
                       f"{len(frames)} frames; composited frames " + ("match" if not bad else "MISMATCH " + ", ".join(bad))))
    frames = _pil_frames(out("webp/animated.webp"))
    bad = []
    for fi, (x, y), exp in [(0, (50, 37), RED), (1, (50, 37), (255, 255, 255)), (1, (150, 112), YELLOW),
                            (2, (50, 37), (255, 255, 255)), (2, (150, 112), (0, 0, 0)), (2, (150, 37), GREEN)]:
        got = frames[fi].getpixel((x, y)) if fi < len(frames) else None
        if got is None or any(abs(got[c] - exp[c]) > 2 for c in range(3)):
            bad.append(f"F{fi + 1}({x},{y})={got}")
    CHECKS.append(("webp/animated.webp", "pil seek()", True, not bad and len(frames) == 3,
                   f"{len(frames)} frames; composited frames " + ("match" if not bad else "MISMATCH " + ", ".join(bad))))


def _pil_frames(path):
    im = Image.open(path)
    frames = []
    try:
        for i in range(getattr(im, "n_frames", 1)):
            im.seek(i)
            frames.append(im.convert("RGBA"))
    except Exception:  # noqa: BLE001
        pass
    return frames


def clean_msg(text):
    """Tool messages without machine- or run-specific parts (paths, PIDs, clock times)."""
    import re
    text = text.replace(OUT + "/", "").replace(TMP + "/", "<tmp>/")
    text = re.sub(r"\(\w+:\d+\): VIPS-WARNING \*\*: [\d:.]+: ", "VIPS-WARNING: ", text)
    return text


def _outcome(fn):
    try:
        r = fn()
        return "decodes" + (f" ({r})" if r else "")
    except Exception as e:  # noqa: BLE001
        lines = [m for m in str(e).strip().splitlines() if m.strip() and "failed (" not in m]
        return "error: " + clean_msg(lines[0])[:110] if lines else "error: " + type(e).__name__


def verify_rejects():
    from PIL import ImageFile
    for rel, info in FILES.items():
        if not (rel.startswith("damaged/") or rel.startswith("disguised/") or rel == "tiff/float32.tif"):
            continue
        path = out(rel)
        head = read_bytes(path)[:12]
        fmt = sniff(head)
        res = {}
        rc, so, se = run_rc(T["identify"], "-ping", "-format", "%m %wx%h\\n", path)
        res["identify -ping"] = (so.decode(errors="replace").splitlines() or ["?"])[0] if rc == 0 else \
            "error: " + clean_msg((se.decode(errors="replace").strip().splitlines()
                                   or [f"exit {rc}, no message (IM policy: width/height limit 16K)"])[0])[:110]
        res["ImageMagick decode"] = _outcome(lambda: "%dx%d" % dec_magick(path).size) \
            if "bomb" not in rel and "bad-header.bmp" not in rel else "not attempted (bomb)"
        rc, so, se = run_rc(T["vipsheader"], path)
        res["vipsheader"] = so.decode(errors="replace").strip().split(": ", 1)[-1][:110] if rc == 0 else \
            "error: " + clean_msg((se.decode(errors="replace").strip().splitlines() or ["?"])[0])[:110]

        def pil_try():
            ImageFile.LOAD_TRUNCATED_IMAGES = False
            im = Image.open(path)
            if "bomb" in rel or "bad-header.bmp" in rel:
                return "header %dx%d" % im.size
            im.load()
            return "%dx%d" % im.size
        res["Pillow"] = _outcome(pil_try)
        info["outcomes"] = res
        info["sniff"] = fmt
        if rel.startswith("disguised/"):
            CHECKS.append((rel, "FormatSniffer mirror", True, fmt is None,
                           "no accepted magic bytes" if fmt is None else f"SNIFFED AS {fmt}"))
        elif rel.startswith("damaged/"):
            CHECKS.append((rel, "FormatSniffer mirror", True, fmt is not None,
                           f"sniffed as {fmt}" if fmt else "NOT SNIFFED"))
        if "bomb" in rel or rel == "damaged/bad-header.bmp":
            ok = "30000x30000" in info["really"] or ("30000" in info["really"])
            CHECKS.append((rel, "header declares 30000x30000", True, ok, info["really"][:100]))
            CHECKS.append((rel, "file is tiny", True, len(read_bytes(path)) < 4096,
                           f"{len(read_bytes(path))} bytes"))


def verify_references():
    for src in REFERENCE_SOURCES:
        rel = ref_name(src)
        im = Image.open(out(rel))
        ok = im.size == (100, 100)
        detail = f"{im.size[0]}x{im.size[1]} {im.mode}"
        if src == "alpha.png":
            ok = ok and im.mode == "RGBA" and im.getpixel((0, 0))[3] == 0
            detail += f", corner alpha {im.getpixel((0, 0))[3]}"
        if src == "patterns/stripes.png":
            g = im.convert("L")
            lo, hi = g.getextrema()
            mean = sum(g.getdata()) / 10000
            detail += f", grey min {lo} max {hi} mean {mean:.1f}"
            FILES[rel]["stats"] = detail
        if src == "patterns/zoneplate.png":
            px = im.load()
            outer = [px[x, y] for x in range(100) for y in range(100) if math.hypot(x - 49.5, y - 49.5) > 35]
            detail += f", outside r=35: min {min(outer)} max {max(outer)}"
        if src == "patterns/checker-edges.png":
            g = im.convert("L")
            detail += f", min {g.getextrema()[0]} max {g.getextrema()[1]}"
        if src == "colour/p3.jpg":
            m = measure(im.convert("RGBA"))
            detail += ", patches " + " ".join(f"{k}{fmt_rgb(v)}" for k, v in m.items())
            ok = ok and not compare(m, SRGB_PATCHES, 10)
        scores = []
        for label, flt in (("Pillow Lanczos", Image.Resampling.LANCZOS), ("nearest-neighbour", Image.Resampling.NEAREST)):
            src_im = dec_pil(out(src), icc=(src == "colour/p3.jpg"))
            mine = ImageOps.fit(src_im, (100, 100), flt)
            ref = im.convert("RGBA")
            if src == "alpha.png":  # compare premultiplied values: RGB under alpha 0 is irrelevant
                mine, ref = mine.convert("RGBa"), ref.convert("RGBa")
            else:
                mine, ref = mine.convert("RGB"), ref.convert("RGB")
            diffs = [abs(x - y) for x, y in zip(mine.tobytes(), ref.tobytes())]
            mse = sum(d * d for d in diffs) / len(diffs)
            psnr = 10 * math.log10(255 * 255 / mse) if mse else 99
            scores.append(f"{label} {psnr:.1f} dB (mean abs {sum(diffs) / len(diffs):.1f})")
        detail += "; PSNR vs this reference of a " + ", a ".join(scores) + " cover thumbnail"
        CHECKS.append((rel, "reference", True, ok, detail))


# --------------------------------------------------------------------------------------------
# 6. README.md and manifest.json
# --------------------------------------------------------------------------------------------

SECTIONS = [
    ("Core samples (root)", lambda r: "/" not in r),
    ("orientation/ - EXIF and TIFF orientation", lambda r: r.startswith("orientation/")),
    ("colour/ - CMYK, YCCK, ICC profiles, greyscale JPEG", lambda r: r.startswith("colour/")),
    ("jpeg/ - JPEG codings, sampling and variants", lambda r: r.startswith("jpeg/")),
    ("png/", lambda r: r.startswith("png/")),
    ("bmp/", lambda r: r.startswith("bmp/")),
    ("gif/", lambda r: r.startswith("gif/")),
    ("webp/", lambda r: r.startswith("webp/")),
    ("tiff/", lambda r: r.startswith("tiff/")),
    ("patterns/ - resampling fidelity", lambda r: r.startswith("patterns/")),
    ("damaged/ - truncated, inconsistent and bomb headers", lambda r: r.startswith("damaged/")),
    ("disguised/ - not images, whatever the extension says", lambda r: r.startswith("disguised/")),
    ("reference/ - libvips thumbnails for quality comparisons", lambda r: r.startswith("reference/")),
]


def md(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def tool_versions():
    v = {}
    v["ImageMagick"] = run(T["convert"], "-version").decode().splitlines()[0].split("https")[0].replace("Version: ", "").strip()
    v["libvips"] = run(T["vips"], "--version").decode().strip()
    v["libtiff"] = run_rc(T["tiffcp"])[2].decode().splitlines()[0].strip() or "?"
    v["libwebp (cwebp)"] = run(T["cwebp"], "-version").decode().strip()
    v["gifsicle"] = run(T["gifsicle"], "--version").decode().splitlines()[0].strip()
    v["exiftool"] = run(T["exiftool"], "-ver").decode().strip()
    import PIL
    v["Pillow"] = PIL.__version__
    v["Python"] = sys.version.split()[0]
    v["zlib"] = zlib.ZLIB_RUNTIME_VERSION
    return v


README_HEAD = """# ThumbnailApi test images

A committed corpus of small, synthetic images for the thumbnailer's tests. **Generated - do not edit by hand.**
Everything here (including this README and `manifest.json`) is rebuilt by

    test_images/make_test_images.sh        # from any working directory, ~30 s

which runs `make_test_images.py` next to it. All pictures are drawn by the script (gradients, shapes,
seeded noise); nothing is downloaded or copied from photos. Edit the Python file to change a picture or
an expectation, then re-run. Tests use the committed files; nothing needs to be regenerated to run them.
`manifest.json` holds the same expectations in machine-readable form (per file: kind, expected quadrant
colours or error codes, tolerance, displayed size, sha256).

Debian packages the script needs (all from the Debian 12 archive; it checks for them first):
`python3-pil imagemagick libvips-tools libjpeg-turbo-progs libtiff-tools libimage-exiftool-perl webp gifsicle file`.
It uses `/usr/bin/python3` and `/usr/bin/convert` explicitly (other `python3`/`convert` on PATH are not used).

Determinism: running the script twice gives byte-identical files with the same tool versions (checked:
two runs, identical `sha256`s, see `manifest.json`). Different zlib / libjpeg-turbo / libwebp / libtiff /
libvips versions may change bytes but not the pictures. One exception by design: `disguised/elf.bmp` is
a copy of the first 4 KB of the machine's `/bin/true`.

Tool versions used for the committed files:
"""

CONVENTIONS = """
## Source pictures and how results are measured

| Name | Size | Content |
| --- | --- | --- |
| PHOTO | 640x480 (photo.jpg), 320x240 (the others: Lanczos downscale of the same) | sky gradient, sun with glow, hills, road, red house, tree, flowers; drawn at 2x then downsampled; uniform noise +-2 per channel (seed 1234) |
| QUADRANTS | 400x300 | TL red (255,0,0), TR green (0,255,0), BL blue (0,0,255), BR yellow (255,255,0); nothing else |
| ALPHA | 320x240 RGBA | fully transparent background whose hidden RGB is cyan (0,255,255); opaque red disc (centre 80,90, radius 50), green (0,200,0) square (150-230, 40-120), blue triangle (apex 275,30; base 240-310 at y 140); magenta (255,0,255) band over the full width, rows 170-199, alpha 128; antialiased edges (drawn at 4x, downsampled premultiplied) |
| CARD | 160x120 | QUADRANTS colours in the centre, plus an 8-px frame of seeded random pixels from the file's palette (16 basic colours for true-colour files, 4/16/256 for palette files). The frame makes RLE/LZW/deflate emit literal runs; quadrant centres stay pure |
| CARD16 | 160x120, 16 bits/sample | like CARD but the quadrants are (59010,6525,6525) etc. = 8-bit (230,25,25), (25,230,25), (25,25,230), (230,230,25). High and low bytes differ (0xE682 / 0x197D), so keeping the low byte or swapping bytes gives ~(130,125,125) |
| GREY CARD | 160x120 | quadrant grey levels TL 32, TR 96, BL 160, BR 224 (16-bit: 8324, 24772, 41020, 57468 - high byte = the 8-bit level), frame of 16 random grey levels |
| BILEVEL | 320x240, 1 bit | TL filled black rectangle, TR black ring (white centre), BL black L-shape + thin lines (white centre), BR filled black disc, 1-px black border |
| PATCHES | 320x240 | four 160x120 patches, used by colour/ (values per file below) |

**Quadrant centres** are sampled at 25 % / 75 % of the *displayed* width and height (5x5 box mean), so the
same numbers apply to a thumbnail of any size. Tolerance: 4 per channel for lossless files, 12 for JPEG /
lossy WebP / JPEG-in-TIFF unless the row says otherwise. For a 100x100 "cover" thumbnail of a 4:3 picture the
quadrants are still the four quarters of the thumbnail.

**Rejection codes** are the ones in `Imaging/ImageRejectedException.cs`: `unsupported_format`,
`corrupt_image`, `image_too_large` (limit 100 Mpx / 1000 frames in `ImagingLimits`). Where a row lists two
codes, either is acceptable; in every case the API must answer with that error, not a 500, a hang or a
multi-GB allocation.
"""


def write_readme(S):
    L = [README_HEAD]
    for k, v in tool_versions().items():
        L.append(f"- {k}: {v}")
    total = sum(os.path.getsize(out(r)) for r in FILES)
    L.append(f"\n{len(FILES)} files, {total:,} bytes in total (plus the script, README and manifest).\n")
    L.append(CONVENTIONS)
    for title, pred in SECTIONS:
        rels = [r for r in FILES if pred(r)]
        if not rels:
            continue
        L.append(f"\n## {title}\n")
        L.append(SECTION_NOTES.get(title.split(" ")[0], ""))
        L.append("| File | Bytes | What it really is (parsed from the bytes) | How it is made | What the thumbnailer must do |")
        L.append("| --- | ---: | --- | --- | --- |")
        for r in rels:
            i = FILES[r]
            name = r.split("/", 1)[1] if "/" in r else r
            L.append(f"| `{name}` | {os.path.getsize(out(r)):,} | {md(i['really'])} | {md(i['made'])} | {md(i['expect'])} |")
    L.append(verification_md(S))
    L.append(CAVEATS)
    with open(out("README.md"), "w") as f:
        f.write("\n".join(L).rstrip() + "\n")


SECTION_NOTES = {
    "orientation/": "Each file *stores* the quadrants transformed by the inverse of its orientation and carries the "
                    "tag, so a viewer that honours the tag shows exactly `quadrants.png` (400x300). Without the tag "
                    "applied, files 5-8 are 300x400. Verified with ImageMagick `-auto-orient`, libvips `autorot` "
                    "and Pillow `exif_transpose` (matrix in the verification section): ImageMagick and libvips get "
                    "all 16 right; Pillow 9.4 honours the EXIF tag but ignores the TIFF tag. The TIFF files carry "
                    "Orientation (274) in the TIFF IFD, not in an EXIF block.\n",
    "colour/": "CMYK inks used by every CMYK/YCCK file (0 = no ink): TL C0 M100 Y100 K0, TR C100 M0 Y100 K0, "
               "BL C100 M100 Y0 K0, BR K60 only. The embedded CMYK profile of `cmyk-icc.jpg` is hand-made "
               "(public domain) from a simple ink model - each full ink lets 6 % of its complementary light "
               "through, K lets 3 % through, combined multiplicatively in linear light - deliberately NOT the naive "
               "formula, so applying vs ignoring the profile gives clearly different colours. The patches are grid "
               "nodes of its A2B0 table, so any CMM should agree to +-2.\n",
    "png/": "All written by the script's own PNG encoder (adaptive filters, zlib level 9) so depth, colour type, "
            "palette size, tRNS, iCCP and interlacing are exactly as listed.\n",
    "bmp/": "All written by the script's own BMP encoder, so that header version, bit depth, masks and RLE "
            "mode are exactly as listed (RLE4 in particular is rarely written by tools); every file is decoded "
            "by ImageMagick, libvips (through its ImageMagick loader) and Pillow in the verification.\n",
    "tiff/": "Uncompressed originals come from the script's own TIFF writer (IFD directly after the header); "
             "compressed, tiled and planar variants are `tiffcp` copies of `none.tif`. tiffcp adds "
             "Orientation=1 and re-chops strips to ~8 KB unless `-r` is given.\n",
    "damaged/": "'Bytes' is the whole file - the bombs are all under 1.2 KB. The observed behaviour of "
                "ImageMagick, libvips and Pillow is listed in the verification section.\n",
    "reference/": "`vipsthumbnail IN --size 100x100 --smartcrop centre -o OUT.png[strip]` (libvips 8.14 spells "
                  "the crop option `--smartcrop`/`-m`; `[strip]` drops metadata). Only `p3.jpg` needs "
                  "`--export-profile srgb`: without it libvips 8.14 keeps the P3 pixel values and profile. "
                  "libvips averages sRGB-encoded values (not linear light), like Skia's default. For scale when picking "
                  "a threshold (exact numbers under 'All checks'): against these references a Pillow Lanczos 'cover' "
                  "thumbnail scores PSNR ~29 dB on the photo-like files and 37-62 dB on the patterns, while a "
                  "nearest-neighbour one scores ~26 dB on the photos (they barely discriminate) but only 6-17 dB on "
                  "zoneplate/stripes/checker-edges - the patterns are the files that catch aliasing.\n",
}


def verification_md(S):
    L = ["\n## Verification\n",
         "The script ends by decoding every file with independent decoders and comparing quadrant centres, "
         "sizes, frame composites and headers with the expectations above. *Required* checks must pass or "
         "the script exits non-zero; the others are recorded because they show where real decoders disagree "
         "(useful when a SkiaSharp / LibTiff.NET result looks odd). Decoders:\n"]
    for k, (desc, _) in DECODERS.items():
        L.append(f"- `{k}`: {desc}")
    req = [c for c in CHECKS if c[2]]
    L.append(f"\nResult of the last run: {sum(1 for c in req if c[3])} of {len(req)} required checks passed; "
             f"{sum(1 for c in CHECKS if not c[2] and c[3])} of {sum(1 for c in CHECKS if not c[2])} informative "
             "checks matched the expectation.\n")
    # orientation matrix
    L.append("### Orientation\n")
    L.append("| N | tag meaning | stored size | exif-N.jpg: IM -auto-orient / vips autorot / Pillow | tiff-N.tif: IM -auto-orient / vips autorot / Pillow |")
    L.append("| --- | --- | --- | --- | --- |")
    res = {(c[0], c[1]): c[3] for c in CHECKS}
    for n in range(1, 9):
        cells = []
        for ext in ("jpg", "tif"):
            rel = f"orientation/{'exif' if ext == 'jpg' else 'tiff'}-{n}.{ext}"
            cells.append(" / ".join("ok" if res.get((rel, d)) else "WRONG"
                                    for d in ("magick-orient", "vips-autorot", "pil-orient")))
        size = "400x300" if n <= 4 else "300x400"
        L.append(f"| {n} | {ORIENT_NAMES[n]} | {size} | {cells[0]} | {cells[1]} |")
    L.append("")
    # colour table
    L.append("### Colour measurements (quadrant centres as decoded)\n")
    L.append("| File | Decoder | Required | Result |")
    L.append("| --- | --- | --- | --- |")
    for c in CHECKS:
        if c[0].startswith("colour/"):
            L.append(f"| `{c[0]}` | {c[1]} | {'yes' if c[2] else 'no'} | {md(c[4])} |")
    L.append("\nExpected colour-managed values for the CMYK patches (from the ink model): "
             + ", ".join(f"{k} {v}" for k, v in S["cmyk_managed"].items())
             + "; naive values (no profile): " + ", ".join(f"{k} {v}" for k, v in S["cmyk_naive"].items()) + ".")
    if "p3_stored" in S:
        L.append("`p3.jpg` stored (Display P3) values, i.e. what a decoder that ignores the profile shows: "
                 + ", ".join(f"{k} {fmt_rgb(v)}" for k, v in S["p3_stored"].items()) + ".\n")
    # damaged / disguised behaviour
    L.append("### How other decoders treat damaged/, disguised/ and float32.tif\n")
    L.append("| File | identify -ping | ImageMagick decode | vipsheader | Pillow |")
    L.append("| --- | --- | --- | --- | --- |")
    for r, i in FILES.items():
        if "outcomes" in i:
            o = i["outcomes"]
            L.append(f"| `{r}` | {md(o['identify -ping'])} | {md(o['ImageMagick decode'])} | {md(o['vipsheader'])} | {md(o['Pillow'])} |")
    # everything else
    L.append("\n### All checks\n")
    L.append("| File | Check / decoder | Required | Result |")
    L.append("| --- | --- | --- | --- |")
    for c in CHECKS:
        if c[0].startswith("colour/"):
            continue
        L.append(f"| `{c[0]}` | {c[1]} | {'yes' if c[2] else 'no'} | {'' if c[3] else '**'}{md(c[4])}{'' if c[3] else '**'} |")
    return "\n".join(L)


CAVEATS = """
## Limitations and things that could not be made as asked

- **YCCK**: no installed tool writes YCCK (cjpeg, ImageMagick, libvips and Pillow all write plain Adobe CMYK),
  so `colour/ycck.jpg` comes from the small baseline JPEG encoder inside `make_test_images.py`
  (standard Huffman tables read back from a libjpeg-written file, IJG quality-95 tables, Adobe APP14
  transform=2). libjpeg-turbo (via Pillow and ImageMagick) decodes it to the intended inks.
- **CMYK ICC profile**: the libvips built-in `cmyk` profile is 940 KB, far too big for a small test file, and
  the Ghostscript profiles under /usr/share/color have unclear licences; the profile in `cmyk-icc.jpg` is
  therefore generated by the script (14 KB, public domain). Same for the grey profile (sRGB tone curve)
  in `gray-icc.jpg`. The sRGB (iCCP) and Display P3 profiles are libvips' built-in ones (\"no copyright, use
  freely\" / CC0).
- **Adobe RGB**: not made (only Display P3): the only Adobe-RGB-compatible profile on the machine is
  Ghostscript's `a98.icc`, whose licence is unclear.
- **zoneplate.png** is quantised to 16 grey levels (multiples of 17); a full 8-bit 1000x1000 zone plate
  does not compress below ~870 KB.
- **bad-header.bmp vs bomb-30000.bmp**: a header that declares 30000x30000 is over the pixel limit, so a
  service that checks limits first reports `image_too_large` for both; `bad-header.bmp` additionally has
  almost no pixel data (uncompressed), `bomb-30000.bmp` is a *valid* RLE8 file (end-of-bitmap right away).
- **bomb-30000.png / .tif / .gif / .jpg** cannot be fully valid and tiny at the same time (deflate/LZW
  ratios are bounded), so their pixel data stops early; the point is that the header alone must be rejected.
- `disguised/elf.bmp` depends on the machine's `/bin/true` and changes between machines.
- **12-bit and lossless JPEG**: the installed cjpeg (libjpeg-turbo 2.1) writes neither, so
  `jpeg/precision-12.jpg` and `jpeg/lossless.jpg` are `jpeg/restart.jpg` with the frame header patched
  (SOF1 precision 12 / SOF3); their scan data is still 8-bit baseline. A decoder refuses them from the
  header, as it would a real one.
- **Old-style JPEG in TIFF** (`tiff/ojpeg.tif`): no tool writes compression 6, so the script wraps a
  cjpeg stream the way early scanners did. libtiff's RGBA interface (`tiff2rgba`, and LibTiff.NET)
  decodes it correctly; ImageMagick 6 reads it through another libtiff path and gets the colours wrong,
  so only `tiff2rgba` is required to agree.
- **gAMA** (`png/gamma-1.0.png`): ImageMagick, libvips and Pillow ignore gAMA, browsers and Skia apply
  it; the expectation is the gamma-applied one and no decoder here is required to match it.
- **CMYK TIFF with a CMYK profile** is not in the corpus: the service converts CMYK TIFF with libtiff's
  plain formula and ignores such a profile (see the repository README, "still not handled").
"""


def write_manifest():
    m = {}
    for r, i in FILES.items():
        data = read_bytes(out(r))
        e = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "kind": i["kind"],
             "really": i["really"], "expect": i["expect"]}
        for k in ("codes", "quadrants", "quadrants_if_profile_ignored", "grey", "tolerance", "display", "frames",
                  "orientation", "ref", "same_pixels_as", "of", "corner_alpha"):
            if k in i:
                e[k] = i[k]
        if i.get("bilevel"):
            e["bilevel"] = dict(BILEVEL_EXPECT)
        if i["kind"] in ("decode", "either") and "tolerance" not in i and ("quadrants" in i or "grey" in i):
            e["tolerance"] = tolerance_of(r, i)
        m[r] = e
    doc = {"generated_by": "make_test_images.sh", "sample_points": {k: list(v) for k, v in FRACS.items()},
           "sample_points_note": "fractions of the displayed width/height; 5x5 box mean",
           "kinds": {"decode": "must produce a thumbnail matching the expectation",
                     "either": "a matching thumbnail or one of the listed error codes",
                     "reject": "must be rejected with one of the listed error codes",
                     "reference": "reference thumbnail for quality comparisons"},
           "files": m}
    with open(out("manifest.json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=False)
        f.write("\n")


def main():
    missing = [t for t in TOOLS.values() if not os.access(t, os.X_OK)]
    if missing:
        sys.exit("missing tools: " + ", ".join(missing))
    try:
        print("generating ...", file=sys.stderr)
        S = generate()
        print("verifying ...", file=sys.stderr)
        verify(S)
        write_readme(S)
        write_manifest()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    failed = [c for c in CHECKS if c[2] and not c[3]]
    req = sum(1 for c in CHECKS if c[2])
    print(f"{len(FILES)} files; {req - len(failed)} of {req} required checks passed", file=sys.stderr)
    for c in failed:
        print(f"FAILED: {c[0]} [{c[1]}] {c[4]}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
