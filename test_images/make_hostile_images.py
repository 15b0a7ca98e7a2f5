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
      "HEIC container (ftyp brand 'heic') with no picture (an empty mdat, no meta), named .jpg",
      "422 corrupt_image (415 unsupported_format on a server without libheif)")
write("jpeg-magic-only.jpg", b"\xff\xd8\xff",
      "the three bytes of the JPEG signature and nothing else", "422 corrupt_image")
for extension in ("jpg", "png", "gif", "bmp"):
    write(f"empty.{extension}", b"", f"an empty file named .{extension}", "400 missing_image (the file is empty)")

# ---------------------------------------------------------------------------------------------
# Resource attacks (issue 11): small files that are legal (or nearly) but cost gigabytes of memory
# or minutes of CPU to decode. They go to hostile/resources/, apart from the files above: the test
# suite's sweeps over every sample file (fuzzing, cuts, the no-leak test) skip that folder, since
# before the fix one of these costs a whole worker for 30 s and several GB. Each kind has two or
# three variants, so that a fix is not tuned to one sample.
# ---------------------------------------------------------------------------------------------

RESOURCES = os.path.join(OUT, "resources")
RESOURCE_FILES = []  # (name, size, what it is, expected outcome)
os.makedirs(RESOURCES, exist_ok=True)


def write_resource(name, data, what, expect):
    with open(os.path.join(RESOURCES, name), "wb") as f:
        f.write(data)
    RESOURCE_FILES.append((name, len(data), what, expect))


_ZERO_CHUNK = 16 << 20
_zero_chunk_deflated = None


def zeros_zlib_fast(total):
    """A zlib stream of `total` zero bytes, at about the same ratio as zeros_zlib but without
    compressing gigabytes: one 16 MiB raw-deflate piece ended by a full flush (which makes it
    independent of what comes before) is repeated, then the rest is compressed and the Adler-32 of
    `total` zeros (a = 1, b = total mod 65521) is appended."""
    global _zero_chunk_deflated
    if _zero_chunk_deflated is None:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
        _zero_chunk_deflated = compressor.compress(bytes(_ZERO_CHUNK)) + compressor.flush(zlib.Z_FULL_FLUSH)
    whole, rest = divmod(total, _ZERO_CHUNK)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    tail = compressor.compress(bytes(rest)) + compressor.flush()
    return b"\x78\xda" + _zero_chunk_deflated * whole + tail + struct.pack(">I", ((total % 65521) << 16) | 1)


class MsbBits:
    """Codes written most significant bit first (TIFF LZW)."""

    def __init__(self):
        self.out, self.acc, self.bits = bytearray(), 0, 0

    def put(self, value, count):
        self.acc = (self.acc << count) | value
        self.bits += count
        while self.bits >= 8:
            self.bits -= 8
            self.out.append((self.acc >> self.bits) & 0xFF)
        self.acc &= (1 << self.bits) - 1

    def finish(self):
        if self.bits:
            self.out.append((self.acc << (8 - self.bits)) & 0xFF)
        return bytes(self.out)


class LsbBits:
    """Codes written least significant bit first (GIF LZW, WebP lossless)."""

    def __init__(self):
        self.out, self.acc, self.bits = bytearray(), 0, 0

    def put(self, value, count):
        self.acc |= value << self.bits
        self.bits += count
        while self.bits >= 8:
            self.out.append(self.acc & 0xFF)
            self.acc >>= 8
            self.bits -= 8

    def finish(self):
        if self.bits:
            self.out.append(self.acc & 0xFF)
        return bytes(self.out)


def tiff_lzw_zeros(total):
    """TIFF LZW (new style: MSB first, 9 to 12 bits, the width grows one code early) of `total` zero
    bytes. For zeros the codes are known without a dictionary: after a clear code, the k-th code
    stands for k zeros (0, then 258, 259, ...), each the entry the decoder is about to add. The table
    is cleared before it is full, as libtiff's encoder does. About 1:1380."""
    bits = MsbBits()
    bits.put(256, 9)
    size, free, first, last, left = 9, 258, True, 0, total
    while left:
        length = 1 if first else min(last + 1, left)
        bits.put(0 if length == 1 else 256 + length, size)
        left -= length
        if not first:
            free += 1
            if free == (1 << size) - 1 and size < 12:
                size += 1
        first, last = False, length
        if free >= 4093 and left:
            bits.put(256, size)
            size, free, first = 9, 258, True
    bits.put(257, size)
    return bits.finish()


def gif_lzw_zeros(total, min_code_size=2, clear_when_full=True):
    """GIF LZW (LSB first, up to 12 bits) of `total` pixels of colour 0, codes known as in
    tiff_lzw_zeros. With clear_when_full the table starts again when full (as encoders do: about
    1:1500); without, the longest code (4091 pixels) is repeated: a deferred clear, legal and about
    1:2700."""
    clear = 1 << min_code_size
    first_free = clear + 2
    bits = LsbBits()
    size = min_code_size + 1
    bits.put(clear, size)
    free, first, last, left = first_free, True, 0, total
    while left:
        if first:
            length = 1
        elif free < 4096:
            length = min(last + 1, left)
        else:
            length = min(last, left)
        bits.put(0 if length == 1 else first_free - 2 + length, size)
        left -= length
        if not first and free < 4096:
            free += 1
            if free == (1 << size) and size < 12:
                size += 1
        first, last = False, length
        if free == 4096 and clear_when_full and left:
            bits.put(clear, size)
            size, free, first = min_code_size + 1, first_free, True
    bits.put(clear + 1, size)
    return bits.finish()


# TIFF ----------------------------------------------------------------------------------------

SHORT, LONG, LONG8 = 3, 4, 16
TIFF_TYPE = {SHORT: ("H", 2), LONG: ("I", 4), LONG8: ("Q", 8)}


class TiffWriter:
    """A little-endian classic TIFF or BigTIFF, built in order: header, data blocks, directories."""

    def __init__(self, big=False):
        self.big = big
        self.buf = bytearray(b"II+\x00\x08\x00\x00\x00" + bytes(8) if big else b"II*\x00" + bytes(4))

    def blob(self, data):
        if len(self.buf) % 2:
            self.buf.append(0)
        at = len(self.buf)
        self.buf += data
        return at

    def point(self, field, offset):
        """Writes `offset` into the pointer field at `field` (the header's, or a directory's next)."""
        struct.pack_into("<Q" if self.big else "<I", self.buf, field, offset)

    @property
    def header_field(self):
        return 8 if self.big else 4

    def ifd(self, entries):
        """Writes one directory (entries: (tag, type, values)) and its out-of-line values after it.
        Returns (its offset, the offset of its next-directory field)."""
        if len(self.buf) % 2:
            self.buf.append(0)
        at = len(self.buf)
        entry_size, inline = (20, 8) if self.big else (12, 4)
        count_size = 8 if self.big else 2
        next_field = at + count_size + entry_size * len(entries)
        extra_at = next_field + (8 if self.big else 4)
        body, extra = bytearray(), bytearray()
        for tag, kind, values in sorted(entries):
            code, size = TIFF_TYPE[kind]
            data = struct.pack(f"<{len(values)}{code}", *values)
            body += struct.pack("<HH", tag, kind) + struct.pack("<Q" if self.big else "<I", len(values))
            if len(data) <= inline:
                body += data + bytes(inline - len(data))
            else:
                body += struct.pack("<Q" if self.big else "<I", extra_at + len(extra))
                extra += data + (b"\x00" if len(data) % 2 else b"")
        self.buf += struct.pack("<Q" if self.big else "<H", len(entries)) + body + bytes(8 if self.big else 4) + extra
        return at, next_field

    def data(self):
        return bytes(self.buf)


def tiff_image(width, height, *, samples, bits, photometric, compression, blocks, rows=None, tile=None,
               planar=1, extra_samples=None, big=False, more=()):
    """A one-page TIFF. `blocks` is a list of (count, stream): `count` strips or tiles that all point
    at the same compressed `stream` (legal, and it keeps a file of gigabytes of zeros small)."""
    tiff = TiffWriter(big)
    offsets, counts = [], []
    for count, stream in blocks:
        at = tiff.blob(stream)
        offsets += [at] * count
        counts += [len(stream)] * count
    offset_type = LONG8 if big else LONG
    entries = [(256, LONG, [width]), (257, LONG, [height]), (258, SHORT, [bits] * samples),
               (259, SHORT, [compression]), (262, SHORT, [photometric]), (277, SHORT, [samples]),
               (284, SHORT, [planar])] + list(more)
    if tile:
        entries += [(322, LONG, [tile[0]]), (323, LONG, [tile[1]]),
                    (324, offset_type, offsets), (325, offset_type, counts)]
    else:
        entries += [(273, offset_type, offsets), (278, LONG, [rows or height]), (279, offset_type, counts)]
    if extra_samples is not None:
        entries.append((338, SHORT, extra_samples))
    at, _ = tiff.ifd(entries)
    tiff.point(tiff.header_field, at)
    return tiff.data()


NONE, LZW, JPEG, DEFLATE = 1, 5, 7, 8
MINISBLACK, RGB = 1, 2
UNASSOCIATED_ALPHA = 2

# Absurd samples per pixel: the file is 2500x2500, 1536 samples of 16 bits (3 KB a pixel,
# 19 GB in all), the whole picture in one row of tiles 16 wide (123 MB each, all 157 pointing at
# one Deflate stream of zeros). The variant has 1024 samples (RGB and 1021 extra samples) in
# strips of 20 rows (102 MB each), LZW.
write_resource("tiff-spp1536-tiles.tif",
               tiff_image(2500, 2500, samples=1536, bits=16, photometric=MINISBLACK, compression=DEFLATE,
                          tile=(16, 2512), blocks=[(157, zeros_zlib_fast(16 * 2512 * 1536 * 2))]),
               "TIFF 2500x2500 grey, 1536 samples of 16 bits a pixel (19 GB decoded), one row of 157 tiles of "
               "16x2512, Deflate; every tile points at the same stream of zeros (the issue's CPU case)",
               "422 image_too_large (or 415 unsupported_format) at upload, naming the samples-per-pixel limit; "
               "never decoded")
write_resource("tiff-spp1024-rgb-strips.tif",
               tiff_image(2500, 2500, samples=1024, bits=16, photometric=RGB, compression=LZW, rows=20,
                          extra_samples=[0] * 1021, blocks=[(125, tiff_lzw_zeros(20 * 2500 * 1024 * 2))]),
               "TIFF 2500x2500 RGB with 1021 extra samples (1024 samples of 16 bits, 12.8 GB decoded), 125 strips "
               "of 20 rows, LZW, all pointing at one stream",
               "as tiff-spp1536-tiles.tif: refused at upload naming the samples-per-pixel limit")

# Absurd bits per sample, otherwise an ordinary striped layout.
write_resource("tiff-bps64-grey.tif",
               tiff_image(2000, 2000, samples=1, bits=64, photometric=MINISBLACK, compression=DEFLATE, rows=16,
                          blocks=[(125, zeros_zlib_fast(16 * 2000 * 8))]),
               "TIFF 2000x2000 grey, 64-bit unsigned samples, 125 strips of 16 rows, Deflate",
               "415 unsupported_format (or 422) at upload, naming the bit depth; never decoded")
write_resource("tiff-bps128-rgb.tif",
               tiff_image(1000, 1000, samples=3, bits=128, photometric=RGB, compression=DEFLATE, rows=8,
                          blocks=[(125, zeros_zlib_fast(8 * 1000 * 3 * 16))]),
               "TIFF 1000x1000 RGB, 128 bits per sample, 125 strips of 8 rows, Deflate",
               "415 unsupported_format (or 422) at upload, naming the bit depth; never decoded")
write_resource("tiff-bps3000-grey.tif",
               tiff_image(1000, 1000, samples=1, bits=3000, photometric=MINISBLACK, compression=LZW, rows=4,
                          blocks=[(250, tiff_lzw_zeros(4 * 1000 * 3000 // 8))]),
               "TIFF 1000x1000 grey, 3000 bits per sample (375 KB a row), 250 strips of 4 rows, LZW",
               "415 unsupported_format (or 422) at upload, naming the bit depth; never decoded")

# Memory: the whole picture in one strip or tile, so a reader that takes a strip whole holds GBs.
MEMORY_EXPECT = ("422 image_too_large at upload naming MaxDecodeMemoryBytes (what it needs is known from the "
                 "header), or decoded in pieces within the budget and the deadline; never a spike over budget + base")
write_resource("tiff-10000x10000-8x16bit-strip.tif",
               tiff_image(10000, 10000, samples=8, bits=16, photometric=RGB, compression=LZW,
                          extra_samples=[UNASSOCIATED_ALPHA, 0, 0, 0, 0],
                          blocks=[(1, tiff_lzw_zeros(10000 * 10000 * 16))]),
               "TIFF 10000x10000 RGB + 5 extra samples (8 x 16 bits: 16 bytes a pixel), one strip of 1.6 GB, LZW "
               "(the issue's 5.6 GB case)", MEMORY_EXPECT)
write_resource("tiff-10000x10000-rgba16-strip.tif",
               tiff_image(10000, 10000, samples=4, bits=16, photometric=RGB, compression=DEFLATE,
                          extra_samples=[UNASSOCIATED_ALPHA], blocks=[(1, zeros_zlib_fast(10000 * 10000 * 8))]),
               "TIFF 10000x10000 16-bit RGBA, one strip of 800 MB, Deflate (the issue's 2.76 GB case)", MEMORY_EXPECT)
write_resource("tiff-10000x10000-rgb16-one-tile.tif",
               tiff_image(10000, 10000, samples=3, bits=16, photometric=RGB, compression=LZW, tile=(10000, 10000),
                          blocks=[(1, tiff_lzw_zeros(10000 * 10000 * 6))]),
               "TIFF 10000x10000 16-bit RGB as one tile of 10000x10000 (600 MB), LZW", MEMORY_EXPECT)
write_resource("tiff-10000x10000-rgba16-planar-strips.tif",
               tiff_image(10000, 10000, samples=4, bits=16, photometric=RGB, compression=DEFLATE, planar=2,
                          extra_samples=[UNASSOCIATED_ALPHA], blocks=[(4, zeros_zlib_fast(10000 * 10000 * 2))]),
               "TIFF 10000x10000 16-bit RGBA, planar (separate) configuration: one strip of 200 MB per plane, Deflate, "
               "the four strips pointing at one stream", MEMORY_EXPECT)
write_resource("bigtiff-10000x10000-grey16-two-strips.tif",
               tiff_image(10000, 10000, samples=1, bits=16, photometric=MINISBLACK, compression=DEFLATE, rows=5000,
                          big=True, blocks=[(2, zeros_zlib_fast(5000 * 10000 * 2))]),
               "BigTIFF 10000x10000 16-bit grey, two strips of 5000 rows (100 MB each), Deflate", MEMORY_EXPECT)
write_resource("tiff-10000x10000-rgb8-strip.tif",
               tiff_image(10000, 10000, samples=3, bits=8, photometric=RGB, compression=DEFLATE,
                          blocks=[(1, zeros_zlib_fast(10000 * 10000 * 3))]),
               "TIFF 10000x10000 8-bit RGB (exactly MaxPixels), one strip of 300 MB, Deflate: legal and big",
               "SUCCESS within the deadline and the budget (the strip read in pieces), or 422 image_too_large "
               "naming MaxDecodeMemoryBytes")


def progressive_dc_only_zero_jpeg(width, height):
    """A grey progressive JPEG whose every block is flat: one DC scan (one bit a block) and one AC
    scan of end-of-band runs, as progressive_scans_jpeg(width, height, 1) but without writing the DC
    bits one by one (they are all 0)."""
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    dqt = jpeg_segment(0xDB, b"\x00" + bytes([1] * 64))
    sof = jpeg_segment(0xC2, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
    one_code = bytes([1] + [0] * 15)
    dht = jpeg_segment(0xC4, b"\x00" + one_code + b"\x00" + b"\x10" + one_code + b"\xe0")
    whole, rest = divmod(blocks, 8)
    dc = bytes(whole) + (bytes([(1 << (8 - rest)) - 1]) if rest else b"")  # pad with one-bits
    ac = BitWriter()
    for _ in range((blocks + 32766) // 32767):
        ac.put(0, 1)
        ac.put(32767 - 16384, 14)
    return (b"\xff\xd8" + dqt + sof + dht + jpeg_segment(0xDA, b"\x01\x01\x00\x00\x00\x00") + dc
            + jpeg_segment(0xDA, b"\x01\x01\x00\x01\x3f\x00") + ac.finish() + b"\xff\xd9")


write_resource("tiff-10000x10000-jpeg-strip.tif",
               tiff_image(10000, 10000, samples=1, bits=8, photometric=MINISBLACK, compression=JPEG,
                          blocks=[(1, progressive_dc_only_zero_jpeg(10000, 10000))]),
               "TIFF 10000x10000 grey, JPEG compression (new style), one strip holding a progressive JPEG of "
               "flat blocks (libjpeg buffers every coefficient: 200 MB, then a 100 MB strip and a 400 MB raster)",
               MEMORY_EXPECT)

# A progressive JPEG within Skia's 100-scan give-up but over the default MaxJpegScans: with the limit
# raised, libjpeg spends seconds absorbing its scans inside one call, which only the decoder's
# stream ending at the deadline can stop (the decode cancellation test).
write_resource("jpeg-progressive-10000x10000-90-scans.jpg", progressive_scans_jpeg(10000, 10000, 89),
               "progressive JPEG 10000x10000 grey with 1 DC scan and 89 repeated AC scans (90 scans, under "
               "Skia's give-up at 100); several seconds of libjpeg's scan pass when MaxJpegScans allows it",
               "422 image_too_large with the default MaxJpegScans (50); with a higher limit, decoded and "
               "stopped within a fraction of a second of its deadline")

# Page chains. LibTiff.NET counts directories in a signed 16-bit number, so 65 535 pages are -1,
# 65 536 are 0, 70 000 are 4 464 and 100 000 are -31 072. A page after the first is an empty directory: 2 bytes of entry count (0) and 4 of next
# offset, 6 bytes a page (the 8.7 million pages in 50 MB are made by tools/resource-attack.sh
# at run time, too big to keep here).

TINY_GREY_ENTRIES = [(256, SHORT, [16]), (257, SHORT, [16]), (258, SHORT, [8]), (259, SHORT, [NONE]),
                     (262, SHORT, [MINISBLACK]), (277, SHORT, [1]), (278, SHORT, [16]), (279, LONG, [256])]


def tiff_first_page(big=False):
    """A 16x16 grey first page; returns the writer and the next-directory field of its directory."""
    tiff = TiffWriter(big)
    pixels = tiff.blob(bytes(range(256)))
    at, next_field = tiff.ifd(TINY_GREY_ENTRIES + [(273, LONG8 if big else LONG, [pixels])])
    tiff.point(tiff.header_field, at)
    return tiff, next_field


def empty_directories(start, count):
    """`count` empty classic directories at `start`, each pointing at the next, the last at none."""
    return b"".join(struct.pack("<HI", 0, start + 6 * (i + 1) if i < count - 1 else 0) for i in range(count))


def tiff_page_chain(pages):
    tiff, next_field = tiff_first_page()
    start = len(tiff.buf)
    tiff.point(next_field, start)
    tiff.buf += empty_directories(start, pages - 1)
    return tiff.data()


def tiff_overlapping_page_chain(pages):
    """Directories that share bytes: below 64 KiB a directory is 4 bytes, its next offset's high
    half (0) being the next directory's entry count; then ordinary 6-byte empty directories."""
    tiff, next_field = tiff_first_page()
    at = len(tiff.buf)
    tiff.point(next_field, at)
    parts, made = [], 1
    while at + 10 < 0x10000 and made < pages - 1:
        parts.append(struct.pack("<HH", 0, at + 4))  # count 0; low half of the next offset
        at += 4
        made += 1
    tail = at + 6  # the last shared directory is whole and points past 64 KiB
    parts.append(struct.pack("<HI", 0, tail))
    made += 1
    tiff.buf += b"".join(parts)
    tiff.buf += empty_directories(tail, pages - made)
    return tiff.data()


def bigtiff_overlapping_page_chain(pages):
    """BigTIFF directories of 12 bytes: 8 bytes of entry count (0; its first 4 are the previous next
    offset's high half) and the next offset's low half; its high half is the next directory's count."""
    tiff, next_field = tiff_first_page(big=True)
    at = len(tiff.buf)
    tiff.point(next_field, at)
    tiff.buf += b"".join(struct.pack("<III", 0, 0, at + 12 * (i + 1) if i < pages - 2 else 0) for i in range(pages - 1))
    tiff.buf += bytes(4)  # the last next offset's high half
    return tiff.data()


def tiff_real_page_chain(pages):
    """Every page a real 1x1 picture: a 4-entry directory (width, length, strip offset and byte
    count; the rest defaulted), 54 bytes a page, all sharing the first page's pixels."""
    tiff, next_field = tiff_first_page()
    start = len(tiff.buf)
    tiff.point(next_field, start)
    pixels = struct.unpack_from("<I", tiff.buf, tiff.buf.index(struct.pack("<HHI", 273, LONG, 1)) + 8)[0]
    page = lambda at, last: (struct.pack("<H", 4) + struct.pack("<HHII", 256, SHORT, 1, 1) + struct.pack("<HHII", 257, SHORT, 1, 1)
                             + struct.pack("<HHII", 273, LONG, 1, pixels) + struct.pack("<HHII", 279, LONG, 1, 1)
                             + struct.pack("<I", 0 if last else at + 54))
    tiff.buf += b"".join(page(start + 54 * i, i == pages - 2) for i in range(pages - 1))
    return tiff.data()


PAGES_EXPECT = ("422 image_too_large at upload (more pages than MaxFrames), the directory walk stopped at the "
                "limit within milliseconds; or, if empty directories are not counted as pages, SUCCESS from the "
                "first page, as cheaply. Never a walk of the whole chain")
write_resource("tiff-pages-65535.tif", tiff_page_chain(65535),
               "TIFF of 65 535 pages: a 16x16 grey page, then 65 534 empty 6-byte directories "
               "(LibTiff.NET's 16-bit count: -1)", PAGES_EXPECT)
write_resource("tiff-pages-65536.tif", tiff_page_chain(65536),
               "TIFF of 65 536 pages, as above (the 16-bit count wraps to 0)", PAGES_EXPECT)
write_resource("tiff-pages-100000.tif", tiff_page_chain(100000),
               "TIFF of 100 000 pages, as above (the signed 16-bit count wraps to -31 072)", PAGES_EXPECT)
write_resource("tiff-pages-70000-overlapping.tif", tiff_overlapping_page_chain(70000),
               "TIFF of 70 000 pages whose first ~16 000 directories overlap (4 bytes each: a next offset's high "
               "half is the next directory's entry count), then empty 6-byte ones (the count wraps to 4 464)",
               PAGES_EXPECT)
write_resource("tiff-pages-1001-real.tif", tiff_real_page_chain(1001),
               "TIFF of 1 001 real pages (a 16x16 grey page, then 1 000 directories of a 1x1 picture, 54 bytes "
               "each), one more than MaxFrames; tools/resource-attack.sh makes the same with 65 536 and 70 000 pages",
               "422 image_too_large at upload (more pages than MaxFrames), the walk stopped at page 1 001")
write_resource("bigtiff-pages-70000.tif", bigtiff_overlapping_page_chain(70000),
               "BigTIFF of 70 000 pages: a 16x16 grey page, then 69 999 empty directories of 12 bytes that share "
               "their next offset's high half with the next directory's entry count", PAGES_EXPECT)

# PNG: Skia decodes PNG whole, at 4 bytes a pixel (8 for 16-bit), whatever the file's size.


def png_zeros(width, height, depth, colour, interlaced=False, palette=None):
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]

    def raw_bytes(w, h):
        return h * (1 + (w * channels * depth + 7) // 8) if w and h else 0

    if interlaced:
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        total = sum(raw_bytes((width - x + dx - 1) // dx, (height - y + dy - 1) // dy) for x, y, dx, dy in passes)
    else:
        total = raw_bytes(width, height)
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 1 if interlaced else 0))
    plte = png_chunk(b"PLTE", palette) if palette else b""
    return PNG_SIGNATURE + header + plte + png_chunk(b"IDAT", zeros_zlib_fast(total)) + png_chunk(b"IEND", b"")


PNG_EXPECT = ("SUCCESS within the deadline, holding its share of MaxDecodeMemoryBytes while it decodes (waiting "
              "for it if needed), or 422 image_too_large naming MaxDecodeMemoryBytes")
write_resource("png-10000x10000-rgb.png", png_zeros(10000, 10000, 8, 2),
               "PNG 10000x10000 8-bit RGB, all black (the issue's 100 MP PNG: +395 MB)", PNG_EXPECT)
write_resource("png-10000x10000-rgba16-interlaced.png", png_zeros(10000, 10000, 16, 6, interlaced=True),
               "PNG 10000x10000 16-bit RGBA, Adam7-interlaced (the issue's +1.15 GB case)", PNG_EXPECT)
write_resource("png-10000x10000-palette-1bit.png", png_zeros(10000, 10000, 1, 3, palette=b"\x00\x00\x00\xff\xff\xff"),
               "PNG 10000x10000, 1-bit palette (12 KB for 100 MP)", PNG_EXPECT)
write_resource("png-10000x10000-grey16-interlaced.png", png_zeros(10000, 10000, 16, 0, interlaced=True),
               "PNG 10000x10000 16-bit grey, Adam7-interlaced", PNG_EXPECT)

# GIF


def gif_file(screen, frames):
    """GIF89a with a 2-colour table. frames: (left, top, width, height, lzw data) with minimum code
    size 2; the data is cut into sub-blocks and ended with a terminator."""
    out = bytearray(b"GIF89a" + struct.pack("<HHBBB", screen[0], screen[1], 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff")
    for left, top, width, height, data in frames:
        out += b"\x2c" + struct.pack("<HHHHB", left, top, width, height, 0) + b"\x02"
        for i in range(0, len(data), 255):
            out += bytes([len(data[i:i + 255])]) + data[i:i + 255]
        out += b"\x00"
    out += b"\x3b"
    return bytes(out)


GIF_100MP = gif_lzw_zeros(10000 * 10000)
write_resource("gif-10000x10000.gif", gif_file((10000, 10000), [(0, 0, 10000, 10000, GIF_100MP)]),
               "GIF 10000x10000, one frame, all colour 0, LZW cleared when full (the issue's +380 MB case)", PNG_EXPECT)
write_resource("gif-10000x10000-deferred-clear.gif",
               gif_file((10000, 10000), [(0, 0, 10000, 10000, gif_lzw_zeros(10000 * 10000, clear_when_full=False))]),
               "GIF 10000x10000, one frame, LZW never cleared once the table is full (longest code repeated)",
               PNG_EXPECT)
write_resource("gif-20-frames-10000x10000-truncated.gif",
               gif_file((10000, 10000), [(0, 0, 10000, 10000, GIF_100MP[:48])] * 20),
               "GIF declaring 20 frames of 10000x10000 (2 gigapixels, exactly MaxTotalPixels); each frame's data "
               "is the first 48 bytes of a full frame's (the issue's 1.4 KB file: +376 MB, then corrupt_image)",
               "422 image_too_large at upload naming MaxDecodeMemoryBytes, or FAILED corrupt_image within the "
               "budget; never more than one frame's buffer at a time")
write_resource("gif-frame-10000x10000-on-100x100-screen.gif",
               gif_file((100, 100), [(0, 0, 10000, 10000, GIF_100MP)]),
               "GIF whose logical screen is 100x100 but whose one frame is 10000x10000 (full data)",
               "SUCCESS (the frame clipped to the screen) or 422 image_too_large, within the budget: the frame's "
               "size counts, not only the screen's")
TINY_FRAME = (0, 0, 1, 1, gif_lzw_zeros(1))
write_resource("gif-70000-frames-1x1.gif", gif_file((1, 1), [TINY_FRAME] * 70000),
               "GIF of 70 000 frames of 1x1 (15 bytes each; a 16-bit frame counter would wrap to 4 464)",
               "422 image_too_large at upload (more frames than MaxFrames), counted in well under a second")


# WebP lossless whose five prefix codes each have one symbol: a code of one symbol takes no bits, so
# every pixel costs zero bits and the whole picture is a 30-byte file.

def webp_lossless_flat(width, height):
    bits = LsbBits()
    bits.put(0x2F, 8)
    bits.put(width - 1, 14)
    bits.put(height - 1, 14)
    bits.put(0, 1)  # alpha_is_used
    bits.put(0, 3)  # version
    bits.put(0, 1)  # no transform
    bits.put(0, 1)  # no colour cache
    bits.put(0, 1)  # no meta prefix codes
    for symbol in (0, 0, 0, 255, 0):  # green, red, blue, alpha, distance
        bits.put(1, 1)  # simple code
        bits.put(0, 1)  # one symbol
        if symbol < 2:
            bits.put(0, 1)
            bits.put(symbol, 1)
        else:
            bits.put(1, 1)
            bits.put(symbol, 8)
    vp8l = bits.finish()
    chunk = b"VP8L" + struct.pack("<I", len(vp8l)) + vp8l + b"\x00" * (len(vp8l) % 2)  # chunks are padded to even
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


write_resource("webp-lossless-16383x16383-flat.webp", webp_lossless_flat(16383, 16383),
               "lossless WebP 16383x16383 (the format's maximum, 268 MP) with real pixel data: every prefix code "
               "has one symbol, so each pixel takes zero bits", "422 image_too_large at upload (over MaxPixels)")
write_resource("webp-lossless-10000x10000-flat.webp", webp_lossless_flat(10000, 10000),
               "lossless WebP 10000x10000 (100 MP), every pixel in zero bits (black, opaque)", PNG_EXPECT)
write_resource("webp-lossless-16383x6103-flat.webp", webp_lossless_flat(16383, 6103),
               "lossless WebP 16383x6103 (99.98 MP: the widest picture under MaxPixels), every pixel in zero bits",
               PNG_EXPECT)

RESOURCES_README = """# Resource attacks (issue 11)

Made by `../../make_hostile_images.py` with the files one folder up (standard-library Python,
deterministic). Each is a small upload whose decoding costs far more memory or CPU than its size:
a huge strip or tile, absurd samples per pixel or bit depths, a chain of tens of thousands of TIFF
pages, a 100 MP PNG/GIF/WebP of a few KB. Two or three variants of each kind, so that a fix is not
tuned to one sample. The files of this folder are left out of the test suite's sweeps over every
sample file (fuzzing, cuts, the no-leak test): before the fix, one of them costs a worker for 30 s
and several GB.

`tools/resource-attack.sh` uploads each to a published service and measures peak RSS, CPU used
after the deadline and the latency of a normal upload meanwhile; it also makes the files too big
to keep here (a TIFF of 8.7 million empty pages that fills the 50 MiB upload limit, its BigTIFF
twin) and runs the stalled-upload case.

Expected outcome, for every file: refused at upload with 422 `image_too_large` or 415
`unsupported_format` with a message naming the limit, or processed within the decode-memory budget
(`MaxDecodeMemoryBytes`) and the deadline; the service's peak RSS stays under the budget plus its
base, work stops within 1 s of a deadline, and a normal upload meanwhile is not held up for
seconds. Per file:

| file | bytes | what it is | what the service must do |
|---|---|---|---|
"""

with open(os.path.join(RESOURCES, "README.md"), "w") as f:
    f.write(RESOURCES_README)
    for name, size, what, expect in RESOURCE_FILES:
        f.write(f"| `{name}` | {size:,} | {what} | {expect} |\n")

# ---------------------------------------------------------------------------------------------

README = """# Hostile test files

Made by `../make_hostile_images.py` (standard-library Python, deterministic: run it again and the
bytes are the same). Each file is one attack, written byte by byte. The tests in
`ThumbnailApi.Tests/HostileInputTests.cs` check the outcome named here. The resource attacks of
issue 11 (huge strips, absurd samples per pixel, long page chains, 100 MP images of a few KB) are
in [resources/](resources/README.md), with their own table.

| file | bytes | what it is | what the service must do |
|---|---|---|---|
"""

with open(os.path.join(OUT, "README.md"), "w") as f:
    f.write(README)
    for name, size, what, expect in FILES:
        f.write(f"| `{name}` | {size:,} | {what} | {expect} |\n")
