#!/usr/bin/python3
"""Writes test_images/hostile/: decompression bombs and disguised files that no ordinary tool
makes, built byte by byte so each one is exactly the attack it names.

    /usr/bin/python3 test_images/make_hostile_images.py

Standard library only; deterministic (same bytes on every run). Kept apart from
make_test_images.py, which rebuilds the rest of test_images/ and removes its own folders.
What each file is and what the service must do with it: hostile/README.md (written here too).
"""

import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "hostile")
FILES = []  # (name, size, what it is, expected outcome)
os.makedirs(OUT, exist_ok=True)


def write(name, data, what, expect):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    FILES.append((name, len(data), what, expect))


# ---------------------------------------------------------------------------------------------
# PNG
# ---------------------------------------------------------------------------------------------

def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_ihdr(width, height, depth=8, colour=0):
    return png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0))


def zeros_zlib(total, limit=None):
    """A zlib stream of `total` zero bytes, compressed at the maximum ratio (about 1:1030).
    With `limit`, only the first `limit` compressed bytes (the stream is cut there)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 15, 9)
    block = bytes(1 << 20)
    parts, size, left = [], 0, total
    while left > 0:
        piece = compressor.compress(block[:min(left, len(block))])
        parts.append(piece)
        size += len(piece)
        left -= min(left, len(block))
        if limit is not None and size >= limit:
            return b"".join(parts)[:limit]
    parts.append(compressor.flush())
    return b"".join(parts)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GIB = 1 << 30

# The header says 256x256 grey; the one zlib stream in IDAT inflates to 2 GiB. The header check
# cannot see this: the decoder must stop inflating once it has the rows it needs.
write("png-zlib-2gib.png",
      PNG_SIGNATURE + png_ihdr(256, 256) + png_chunk(b"IDAT", zeros_zlib(2 * GIB)) + png_chunk(b"IEND", b""),
      "PNG, header 256x256 8-bit grey; its IDAT zlib stream inflates to 2 GiB (2 147 483 648 zero bytes)",
      "cheap: SUCCESS (the decoder stops after 256 rows) or corrupt_image; never inflates the 2 GiB")

# The header declares 65535 x 32768 grey (2 GiB of pixels): refused from the header. The stream is
# the start of those 2 GiB, cut after 64 KiB, so the file stays small.
write("png-zlib-bomb-header.png",
      PNG_SIGNATURE + png_ihdr(65535, 32768) + png_chunk(b"IDAT", zeros_zlib(2 * GIB, limit=64 * 1024))
      + png_chunk(b"IEND", b""),
      "PNG, header 65535x32768 8-bit grey (2 GiB inflated); IDAT is the first 64 KiB of that stream",
      "422 image_too_large at upload, from the header")

# A 16x16 picture whose iCCP (colour profile) chunk inflates to 256 MiB: the profile is read
# before any pixel, so a reader without a chunk limit inflates all of it.
write("png-iccp-bomb.png",
      PNG_SIGNATURE + png_ihdr(16, 16)
      + png_chunk(b"iCCP", b"bomb\x00\x00" + zeros_zlib(256 << 20))
      + png_chunk(b"IDAT", zlib.compress(bytes(17 * 16), 9)) + png_chunk(b"IEND", b""),
      "PNG 16x16 grey with an iCCP chunk whose profile inflates to 256 MiB",
      "cheap: SUCCESS (profile ignored or refused by libpng's chunk limit) or corrupt_image")

# ---------------------------------------------------------------------------------------------
# GIF
# ---------------------------------------------------------------------------------------------

def gif_many_frames(width, height, frames):
    """Logical screen and every frame width x height; each frame holds only a clear code and the
    end code (min code size 2: codes 4 and 5 in 3 bits = one byte 0x2C)."""
    out = bytearray(b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff")
    out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"  # loop forever
    for _ in range(frames):
        out += b"\x21\xf9\x04\x00\x0a\x00\x00\x00"  # graphic control: 0.1 s
        out += b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0)
        out += b"\x02\x01\x2c\x00"
    out += b"\x3b"
    return bytes(out)


write("gif-500-frames-5000x5000.gif", gif_many_frames(5000, 5000, 500),
      "GIF89a, 500 frames of 5000x5000 (12.5 gigapixels in all); each frame is a clear code and an end code",
      "422 image_too_large at upload (frames x pixels over MaxTotalPixels)")

write("gif-5000-frames.gif", gif_many_frames(64, 64, 5000),
      "GIF89a, 5000 frames of 64x64",
      "422 image_too_large at upload (more frames than MaxFrames)")

# ---------------------------------------------------------------------------------------------
# JPEG: a progressive file with thousands of scans
# ---------------------------------------------------------------------------------------------

def jpeg_segment(marker, payload):
    return b"\xff" + bytes([marker]) + struct.pack(">H", len(payload) + 2) + payload


class BitWriter:
    def __init__(self):
        self.out, self.acc, self.bits = bytearray(), 0, 0

    def put(self, value, count):
        for i in range(count - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> i) & 1)
            self.bits += 1
            if self.bits == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0x00)  # byte stuffing
                self.acc, self.bits = 0, 0

    def finish(self):
        if self.bits:
            self.put((1 << (8 - self.bits)) - 1, 8 - self.bits)  # pad with one-bits
        return bytes(self.out)


def progressive_scans_jpeg(width, height, scans):
    """A grey progressive JPEG: one DC scan, then `scans` identical AC scans (1..63, approximation
    0). libjpeg accepts a repeated first AC scan without even a warning, and each one makes it walk
    every block again. Each AC scan is a few end-of-band runs of 32767 blocks (about 20 bytes), so a
    small file costs scans x blocks of work."""
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    dqt = jpeg_segment(0xDB, b"\x00" + bytes([1] * 64))
    sof = jpeg_segment(0xC2, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
    one_code = bytes([1] + [0] * 15)  # one Huffman code, of length 1 ("0")
    dht = jpeg_segment(0xC4, b"\x00" + one_code + b"\x00" + b"\x10" + one_code + b"\xe0")
    dc = BitWriter()
    for _ in range(blocks):
        dc.put(0, 1)  # DC difference category 0
    dc_scan = jpeg_segment(0xDA, b"\x01\x01\x00\x00\x00\x00") + dc.finish()
    ac = BitWriter()
    for _ in range((blocks + 32766) // 32767):
        ac.put(0, 1)  # symbol 0xE0: end-of-band run of 2^14 + the next 14 bits
        ac.put(32767 - 16384, 14)
    ac_scan = jpeg_segment(0xDA, b"\x01\x01\x00\x01\x3f\x00") + ac.finish()
    return b"\xff\xd8" + dqt + sof + dht + dc_scan + ac_scan * scans + b"\xff\xd9"


write("jpeg-progressive-5000-scans.jpg", progressive_scans_jpeg(4096, 4096, 5000),
      "progressive JPEG 4096x4096 grey (262 144 blocks) with 1 DC scan and 5000 repeated AC scans",
      "422 image_too_large at upload (more scans than MaxJpegScans), before any decoder runs")

write("jpeg-progressive-120-scans.jpg", progressive_scans_jpeg(1024, 768, 120),
      "progressive JPEG 1024x768 grey with 1 DC scan and 120 repeated AC scans (121 scans)",
      "422 image_too_large with the default MaxJpegScans (50)")

# ---------------------------------------------------------------------------------------------
# TIFF: directories that loop
# ---------------------------------------------------------------------------------------------

def tiff_ifd_loop():
    """A 16x16 grey TIFF whose first directory names itself as the next one."""
    pixels = bytes(range(256))
    entries = [(256, 3, 1, 16), (257, 3, 1, 16), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 0), (277, 3, 1, 1), (278, 3, 1, 16), (279, 4, 1, 256)]
    ifd_offset = 8
    data_offset = ifd_offset + 2 + 12 * len(entries) + 4
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        value = data_offset if tag == 273 else value
        ifd += struct.pack("<HHI", tag, kind, count) + (struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value))
    ifd += struct.pack("<I", ifd_offset)  # next directory: this one again
    return b"II*\x00" + struct.pack("<I", ifd_offset) + ifd + pixels


write("tiff-ifd-loop.tif", tiff_ifd_loop(),
      "TIFF 16x16 grey whose directory points to itself as the next directory",
      "no hang: SUCCESS (first page) or corrupt_image")

# ---------------------------------------------------------------------------------------------
# WebP
# ---------------------------------------------------------------------------------------------

def webp_vp8l_header(width, height):
    bits = (width - 1) | ((height - 1) << 14)  # alpha 0, version 0
    vp8l = b"\x2f" + struct.pack("<I", bits) + bytes(63)  # even length: RIFF chunks are padded
    chunk = b"VP8L" + struct.pack("<I", len(vp8l)) + vp8l
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


write("webp-16383x16383.webp", webp_vp8l_header(16383, 16383),
      "lossless WebP header declaring 16383x16383 (268 megapixels, the format's maximum); no pixel data",
      "422 image_too_large at upload, from the header")

# ---------------------------------------------------------------------------------------------
# Disguised and empty files the other folders do not have
# ---------------------------------------------------------------------------------------------

write("mov.png", struct.pack(">I", 20) + b"ftypqt  \x00\x00\x02\x00qt  " + struct.pack(">I", 8) + b"mdat",
      "QuickTime MOV: an ftyp box with brand 'qt  ', named .png", "415 unsupported_format")
write("heic.jpg", struct.pack(">I", 24) + b"ftypheic\x00\x00\x00\x00mif1heic" + struct.pack(">I", 8) + b"mdat",
      "HEIC (ftyp brand 'heic'), named .jpg", "415 unsupported_format")
write("jpeg-magic-only.jpg", b"\xff\xd8\xff",
      "the three bytes of the JPEG signature and nothing else", "422 corrupt_image")
for extension in ("jpg", "png", "gif", "bmp"):
    write(f"empty.{extension}", b"", f"an empty file named .{extension}", "400 missing_image (the file is empty)")

# ---------------------------------------------------------------------------------------------

README = """# Hostile test files

Made by `../make_hostile_images.py` (standard-library Python, deterministic: run it again and the
bytes are the same). Each file is one attack, written byte by byte. The tests in
`ThumbnailApi.Tests/HostileInputTests.cs` check the outcome named here.

| file | bytes | what it is | what the service must do |
|---|---|---|---|
"""

with open(os.path.join(OUT, "README.md"), "w") as f:
    f.write(README)
    for name, size, what, expect in FILES:
        f.write(f"| `{name}` | {size:,} | {what} | {expect} |\n")
