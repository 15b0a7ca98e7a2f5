#!/usr/bin/env bash
# Regenerates every sample in test_images/heif/ (HEIC and AVIF input for the thumbnailer) and the
# README.md next to this script. Run from any working directory:
#
#     bash test_images/heif/make_heif_images.sh
#
# Debian 12 packages it needs (apt-get install ...):
#   libheif-examples (heif-enc, heif-convert, heif-info 1.15.1), libavif-bin (avifenc 0.11.1),
#   libvips-tools, python3-pil; libheif1 itself (/lib/x86_64-linux-gnu/libheif.so.1) is read through
#   ctypes for the "what the service will see" check.
# It calls /usr/bin/python3 explicitly (a python3 earlier on PATH may lack the apt modules).
#
# Pictures are synthesised by the Python part below (no downloads). Encoders: heif-enc (x265 for HEVC,
# libaom for AV1) for the plain files, avifenc where heif-enc 1.15 cannot do it (10-bit 4:2:0 AV1,
# irot/imir in AVIF, image sequences). Things no tool here writes (irot/imir in HEIC, grid images) are
# made by editing / assembling the boxes in Python. Every file is then decoded with heif-convert,
# libvips and libheif (ctypes) and checked; the script exits non-zero if a check fails.
# The run is deterministic (a second run gives identical bytes; checked, see README.md).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY=/usr/bin/python3

missing=()
for tool in "$PY" /usr/bin/heif-enc /usr/bin/heif-convert /usr/bin/heif-info /usr/bin/avifenc \
            /usr/bin/vips /usr/bin/vipsheader; do
    [[ -x "$tool" ]] || missing+=("$tool")
done
if ((${#missing[@]})); then
    echo "make_heif_images.sh: missing ${missing[*]}" >&2
    echo "  apt-get install libheif-examples libavif-bin libvips-tools python3-pil" >&2
    exit 1
fi
"$PY" -c 'import PIL' 2>/dev/null || { echo "make_heif_images.sh: $PY lacks PIL (apt-get install python3-pil)" >&2; exit 1; }

# Stable, locale- and time-zone-independent tool behaviour.
export LC_ALL=C TZ=UTC PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1
export VIPS_CONCURRENCY=1 OMP_NUM_THREADS=1

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
OUT="$HERE"
S="$TMP/src"     # synthesised source pictures
W="$TMP/work"    # intermediate encodes
mkdir -p "$S" "$W"

# ---------------------------------------------------------------------------------------------------
# The Python half: picture synthesis, ISOBMFF box reading / editing / assembling, verification, README.
# ---------------------------------------------------------------------------------------------------
cat >"$TMP/heiftool.py" <<'PYTHON'
import ctypes, hashlib, json, os, struct, subprocess, sys, zlib
from PIL import Image, ImageOps

RED, GREEN, BLUE, YELLOW = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)
QUAD = [RED, GREEN, BLUE, YELLOW]            # TL, TR, BL, BR
MAGENTA = (255, 0, 255)
CARD_W, CARD_H = 160, 120
FRAME = 16                                   # transparent frame of the alpha pictures

# ------------------------------------------------------------------------------------ pictures
def card(w=CARD_W, h=CARD_H):
    im = Image.new("RGB", (w, h))
    for i, colour in enumerate(QUAD):
        x0, y0 = (i % 2) * (w // 2), (i // 2) * (h // 2)
        im.paste(colour, (x0, y0, x0 + w // 2, y0 + h // 2))
    return im

def alpha_card():
    im = card().convert("RGBA")
    px = im.load()
    for y in range(CARD_H):
        for x in range(CARD_W):
            if x < FRAME or y < FRAME or x >= CARD_W - FRAME or y >= CARD_H - FRAME:
                px[x, y] = (0, 0, 0, 0)
    return im

def save_png(im, path):
    assert im.mode in ("RGB", "RGBA"), im.mode          # heif-enc 1.15 mis-encodes palette PNGs
    im.save(path, "PNG", optimize=False, compress_level=6)

def save_png16(path, w, h, pixel):
    """16-bit RGB PNG (Pillow cannot write one): heif-enc / avifenc read it as high-bit-depth input."""
    raw = bytearray()
    for y in range(h):
        raw.append(0)
        for x in range(w):
            raw += struct.pack(">HHH", *pixel(x, y))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b""))

def y4m_444(path, frames, fps):
    """8-bit full-range BT.601 4:4:4 y4m (avifenc keeps it as it is; no alpha plane, unlike its PNG path
    for sequences, which adds an opaque alpha plane to every frame)."""
    def clip(v):
        return max(0, min(255, int(round(v))))
    out = bytearray(b"YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C444 XCOLORRANGE=FULL\n" % (frames[0].width, frames[0].height, fps))
    for im in frames:
        ys, us, vs = bytearray(), bytearray(), bytearray()
        for r, g, b in im.convert("RGB").getdata():
            y = 0.299 * r + 0.587 * g + 0.114 * b
            ys.append(clip(y)); us.append(clip((b - y) / 1.772 + 128)); vs.append(clip((r - y) / 1.402 + 128))
        out += b"FRAME\n" + ys + us + vs
    with open(path, "wb") as f:
        f.write(out)

GRID_COLS, GRID_ROWS, TILE = 3, 2, 64        # 192x128 of tiles, output cropped to 160x120

def synth(src):
    c = card()
    save_png(c, f"{src}/card.png")
    save_png(alpha_card(), f"{src}/alpha.png")
    save_png(card(1024, 768), f"{src}/big.png")
    full = 65535
    q16 = [(full, 0, 0), (0, full, 0), (0, 0, full), (full, full, 0)]
    save_png16(f"{src}/card16.png", CARD_W, CARD_H,
               lambda x, y: q16[(x >= CARD_W // 2) + 2 * (y >= CARD_H // 2)])
    # Stored (coded) pictures of the transformed files: the decoder's transform must give the card back.
    save_png(c.transpose(Image.Transpose.ROTATE_270), f"{src}/card-cw.png")    # turned 90 deg clockwise -> irot 1
    save_png(c.transpose(Image.Transpose.ROTATE_90), f"{src}/card-ccw.png")    # turned 90 deg anticlockwise -> irot 3
    save_png(ImageOps.mirror(c), f"{src}/card-lr.png")                         # left/right exchanged -> imir axis 1
    save_png(ImageOps.flip(c), f"{src}/card-tb.png")                           # top/bottom exchanged -> imir axis 0
    # imir axis 0 then irot 1 (in ipma order) must give the card: stored = flip(rotate_cw(card))
    save_png(ImageOps.flip(c.transpose(Image.Transpose.ROTATE_270)), f"{src}/card-cw-tb.png")
    # Grid tiles: the card on a 192x128 magenta canvas; a decoder that ignores the grid's output size
    # (160x120) shows magenta bands at the right and bottom.
    canvas = Image.new("RGB", (GRID_COLS * TILE, GRID_ROWS * TILE), MAGENTA)
    canvas.paste(c, (0, 0))
    for r in range(GRID_ROWS):
        for col in range(GRID_COLS):
            save_png(canvas.crop((col * TILE, r * TILE, (col + 1) * TILE, (r + 1) * TILE)), f"{src}/tile-{r}-{col}.png")
    # Sequence: the card, then the card mirrored left/right, then upside down (flipped top/bottom).
    y4m_444(f"{src}/sequence.y4m", [c, ImageOps.mirror(c), ImageOps.flip(c)], 2)

# ------------------------------------------------------------------------------------ ISOBMFF
CONTAINERS = {"moov", "trak", "mdia", "minf", "stbl", "dinf", "edts", "iprp", "ipco", "mvex", "udta"}

def box(t, payload):
    return struct.pack(">I4s", 8 + len(payload), t.encode("latin1")) + payload

def fullbox(t, version, flags, payload):
    return box(t, struct.pack(">I", (version << 24) | flags) + payload)

def boxes(data, off=0, end=None):
    """(type, start, end, header length) of the boxes in data[off:end]."""
    end = len(data) if end is None else end
    while off < end:
        if end - off < 8:
            raise ValueError(f"{end - off} stray bytes at {off}")
        size, t = struct.unpack_from(">I4s", data, off)
        hl = 8
        if size == 1:
            size, hl = struct.unpack_from(">Q", data, off + 8)[0], 16
        elif size == 0:
            size = end - off
        if size < hl or off + size > end:
            raise ValueError(f"box {t!r} at {off}: size {size} runs past {end}")
        yield t.decode("latin1"), off, off + size, hl
        off += size

def top_level(data):
    """The complete top-level boxes, and a note on the first one that runs past the end of the data
    (damaged files: their meta box is still readable)."""
    found, off = [], 0
    while off < len(data):
        try:
            b = next(boxes(data, off))
        except ValueError as e:
            return found, str(e)
        found.append(b)
        off = b[2]
    return found, None

def child(data, start, end, t):
    for bt, s, e, hl in boxes(data, start, end):
        if bt == t:
            return s, e, hl
    return None

def readn(b, p, n):
    return (int.from_bytes(b[p:p + n], "big") if n else 0), p + n

def parse_iloc(p):
    v = p[0]
    pos = 4
    off_size, len_size = p[pos] >> 4, p[pos] & 15
    base_size, idx_size = p[pos + 1] >> 4, (p[pos + 1] & 15) if v in (1, 2) else 0
    pos += 2
    n, pos = readn(p, pos, 2 if v < 2 else 4)
    items = []
    for _ in range(n):
        iid, pos = readn(p, pos, 2 if v < 2 else 4)
        cm = 0
        if v in (1, 2):
            cm, pos = readn(p, pos, 2)
            cm &= 15
        dri, pos = readn(p, pos, 2)
        base, pos = readn(p, pos, base_size)
        ne, pos = readn(p, pos, 2)
        exts = []
        for _ in range(ne):
            idx, pos = readn(p, pos, idx_size)
            o, pos = readn(p, pos, off_size)
            ln, pos = readn(p, pos, len_size)
            exts.append([idx, o, ln])
        items.append(dict(id=iid, cm=cm, dri=dri, base=base, exts=exts))
    return dict(version=v, flags=int.from_bytes(p[1:4], "big"), off_size=off_size, len_size=len_size,
                base_size=base_size, idx_size=idx_size, items=items)

def build_iloc(il):
    v = il["version"]
    out = bytearray(((il["off_size"] << 4) | il["len_size"], (il["base_size"] << 4) | il["idx_size"]))
    out += len(il["items"]).to_bytes(2 if v < 2 else 4, "big")
    for it in il["items"]:
        out += it["id"].to_bytes(2 if v < 2 else 4, "big")
        if v in (1, 2):
            out += it["cm"].to_bytes(2, "big")
        out += it["dri"].to_bytes(2, "big") + it["base"].to_bytes(il["base_size"], "big")
        out += len(it["exts"]).to_bytes(2, "big")
        for idx, o, ln in it["exts"]:
            out += idx.to_bytes(il["idx_size"], "big") + o.to_bytes(il["off_size"], "big") + ln.to_bytes(il["len_size"], "big")
    return fullbox("iloc", v, il["flags"], bytes(out))

def parse_ipma(p):
    v, flags = p[0], int.from_bytes(p[1:4], "big")
    n = int.from_bytes(p[4:8], "big")
    pos, entries = 8, []
    for _ in range(n):
        iid, pos = readn(p, pos, 2 if v < 1 else 4)
        cnt = p[pos]; pos += 1
        assoc = []
        for _ in range(cnt):
            if flags & 1:
                a, pos = readn(p, pos, 2)
                assoc.append((bool(a >> 15), a & 0x7FFF))
            else:
                a = p[pos]; pos += 1
                assoc.append((bool(a >> 7), a & 0x7F))
        entries.append([iid, assoc])
    return dict(version=v, flags=flags, entries=entries)

def build_ipma(m):
    v, flags = m["version"], m["flags"]
    out = bytearray(len(m["entries"]).to_bytes(4, "big"))
    for iid, assoc in m["entries"]:
        out += iid.to_bytes(2 if v < 1 else 4, "big") + bytes([len(assoc)])
        for ess, idx in assoc:
            out += (((ess << 15) | idx).to_bytes(2, "big") if flags & 1 else bytes([(ess << 7) | idx]))
    return fullbox("ipma", v, flags, bytes(out))

class Heif:
    """Just enough of a HEIF file to read items and properties and to rewrite its 'meta' box."""
    def __init__(self, data):
        self.data = data
        self.top, self.damage = top_level(data)
        ft = [b for b in self.top if b[0] == "ftyp"]
        mt = [b for b in self.top if b[0] == "meta"]
        if not ft or not mt:
            raise ValueError("no ftyp or no meta box")
        _, s, e, hl = ft[0]
        self.ftyp = data[s:e]
        self.major = data[s + hl:s + hl + 4].decode("latin1")
        self.compatible = [data[i:i + 4].decode("latin1") for i in range(s + hl + 8, e, 4)]
        _, self.meta_s, self.meta_e, hl = mt[0]
        self.meta_children = list(boxes(data, self.meta_s + hl + 4, self.meta_e))
        self.meta_vf = data[self.meta_s + hl:self.meta_s + hl + 4]
        self.raw = {t: data[s:e] for t, s, e, _ in self.meta_children}
        self.pitm = int.from_bytes(self.raw["pitm"][12:14 if self.raw["pitm"][8] == 0 else 16], "big")
        il = self.raw["iloc"]
        self.iloc = parse_iloc(il[8:])
        _, s, e, _ = [b for b in self.meta_children if b[0] == "iprp"][0]
        ipco = child(data, s + 8, e, "ipco")
        self.props = [data[ps:pe] for _, ps, pe, _ in boxes(data, ipco[0] + 8, ipco[1])]
        ipma = child(data, s + 8, e, "ipma")
        self.ipma = parse_ipma(data[ipma[0] + 8:ipma[1]])
        self.items = {}
        ii = self.raw["iinf"]
        start = 14 if ii[8] == 0 else 16
        for t, s2, e2, _ in boxes(ii, start, len(ii)):
            v = ii[s2 + 8]
            iid = int.from_bytes(ii[s2 + 12:s2 + (14 if v == 2 else 16)], "big")
            p = s2 + (16 if v == 2 else 18)
            self.items[iid] = dict(type=ii[p:p + 4].decode("latin1"), flags=int.from_bytes(ii[s2 + 9:s2 + 12], "big"))

    def props_of(self, iid):
        for eid, assoc in self.ipma["entries"]:
            if eid == iid:
                return [(ess, self.props[idx - 1]) for ess, idx in assoc if idx]
        return []

    def prop(self, iid, t):
        for _, p in self.props_of(iid):
            if p[4:8].decode("latin1") == t:
                return p
        return None

    def item_data(self, iid):
        idat = self.raw.get("idat", b"")[8:]
        for it in self.iloc["items"]:
            if it["id"] == iid:
                src = self.data if it["cm"] == 0 else idat
                return b"".join(src[it["base"] + o:it["base"] + o + ln] for _, o, ln in it["exts"])
        raise KeyError(iid)

    def with_meta(self, replace):
        """The file with meta children replaced (dict type -> new box bytes), all box sizes recomputed and
        every file offset in iloc that points behind the meta box shifted by the size change."""
        kids = [replace.get(t, self.data[s:e]) for t, s, e, _ in self.meta_children]
        new_meta = box("meta", self.meta_vf + b"".join(kids))
        delta = len(new_meta) - (self.meta_e - self.meta_s)
        if delta:
            il = json.loads(json.dumps(self.iloc))
            for it in il["items"]:
                if it["cm"] != 0:
                    continue
                if it["base"]:
                    if it["base"] >= self.meta_e:
                        it["base"] += delta
                else:
                    for ext in it["exts"]:
                        if ext[1] >= self.meta_e:
                            ext[1] += delta
            kids = [build_iloc(il) if t == "iloc" else k for (t, _, _, _), k in zip(self.meta_children, kids)]
            new_meta = box("meta", self.meta_vf + b"".join(kids))
            assert len(new_meta) - (self.meta_e - self.meta_s) == delta
        return self.data[:self.meta_s] + new_meta + self.data[self.meta_e:]

def add_properties(src, dst, new_props):
    """Append transformative properties to ipco and associate them, essential, with the primary item
    after its existing associations (so they are applied last, in the order given)."""
    h = Heif(open(src, "rb").read())
    props = list(h.props)
    ipma = json.loads(json.dumps(h.ipma))
    for entry in ipma["entries"]:
        if entry[0] == h.pitm:
            for p in new_props:
                props.append(p)
                entry[1].append((True, len(props)))       # ipma property indices are 1-based
    if len(props) > 127 and not ipma["flags"] & 1:
        raise ValueError("too many properties for 7-bit ipma indices")
    _, s, e, _ = [b for b in h.meta_children if b[0] == "iprp"][0]
    rest = [h.data[cs:ce] for t, cs, ce, _ in boxes(h.data, s + 8, e) if t not in ("ipco", "ipma")]
    iprp = box("iprp", box("ipco", b"".join(props)) + build_ipma(ipma) + b"".join(rest))
    out = h.with_meta({"iprp": iprp})
    with open(dst, "wb") as f:
        f.write(out)

def irot(angle_ccw):
    return box("irot", bytes([(angle_ccw // 90) & 3]))

def imir(axis):
    return box("imir", bytes([axis & 1]))

def make_transform(src, dst, *specs):
    props = []
    for spec in specs:
        kind, value = spec.split("=")
        props.append(irot(int(value)) if kind == "irot" else imir(int(value)))
    add_properties(src, dst, props)

def make_grid(dst, tiles, cols, rows, out_w, out_h):
    """A grid image assembled from single-image files (one per tile, all made with the same encoder
    settings): ftyp copied from the first tile file; meta = hdlr 'pict', pitm = the grid item (id 1),
    iloc v1 (tiles in mdat, grid descriptor in idat as iPhones write it), iinf (grid + hidden tile
    items), iref 'dimg' grid -> tiles in row-major order, iprp (one shared decoder configuration if all
    tiles have the same one, ispe per tile size, ispe of the grid, pixi)."""
    hs = [Heif(open(t, "rb").read()) for t in tiles]
    first = hs[0]
    codec = first.items[first.pitm]["type"]                 # hvc1 or av01
    cfg_type = {"hvc1": "hvcC", "av01": "av1C"}[codec]
    cfgs, tile_props, datas = [], [], []
    for h in hs:
        cfg, ispe = h.prop(h.pitm, cfg_type), h.prop(h.pitm, "ispe")
        if cfg not in cfgs:
            cfgs.append(cfg)
        tile_props.append((cfgs.index(cfg), ispe, h.prop(h.pitm, "pixi"), h.prop(h.pitm, "colr")))
        datas.append(h.item_data(h.pitm))
    ispes = []
    for _, ispe, _, _ in tile_props:
        if ispe not in ispes:
            ispes.append(ispe)
    grid_ispe = fullbox("ispe", 0, 0, struct.pack(">II", out_w, out_h))
    props = list(cfgs) + ispes + [grid_ispe]
    extra = []
    for _, _, pixi, colr in tile_props:
        for p in (pixi, colr):
            if p is not None and p not in extra:
                extra.append(p)
    props += extra
    pidx = lambda p: props.index(p) + 1
    n = len(hs)
    grid_id, tile_ids = 1, list(range(2, 2 + n))
    hdlr = first.raw["hdlr"]
    pitm = fullbox("pitm", 0, 0, struct.pack(">H", grid_id))
    infe = [fullbox("infe", 2, 0, struct.pack(">HH4s", grid_id, 0, b"grid") + b"\0")]
    infe += [fullbox("infe", 2, 1, struct.pack(">HH4s", tid, 0, codec.encode()) + b"\0") for tid in tile_ids]   # flags 1 = hidden
    iinf = fullbox("iinf", 0, 0, struct.pack(">H", len(infe)) + b"".join(infe))
    iref = fullbox("iref", 0, 0, box("dimg", struct.pack(">HH", grid_id, n) + b"".join(struct.pack(">H", t) for t in tile_ids)))
    entries = []
    grid_assoc = [(False, pidx(grid_ispe))]
    if tile_props[0][2] is not None:
        grid_assoc.append((False, pidx(tile_props[0][2])))
    if tile_props[0][3] is not None:
        grid_assoc.append((False, pidx(tile_props[0][3])))
    entries.append([grid_id, grid_assoc])
    for tid, (ci, ispe, pixi, colr) in zip(tile_ids, tile_props):
        assoc = [(True, ci + 1), (False, pidx(ispe))]
        if pixi is not None:
            assoc.append((False, pidx(pixi)))
        if colr is not None:
            assoc.append((False, pidx(colr)))
        entries.append([tid, assoc])
    iprp = box("iprp", box("ipco", b"".join(props)) + build_ipma(dict(version=0, flags=0, entries=entries)))
    grid_desc = struct.pack(">BBBBHH", 0, 0, rows - 1, cols - 1, out_w, out_h)   # flags 0: 16-bit sizes
    idat = box("idat", grid_desc)

    def assemble(offsets):
        items = [dict(id=grid_id, cm=1, dri=0, base=0, exts=[[0, 0, len(grid_desc)]])]
        items += [dict(id=tid, cm=0, dri=0, base=0, exts=[[0, o, len(d)]]) for tid, o, d in zip(tile_ids, offsets, datas)]
        iloc = build_iloc(dict(version=1, flags=0, off_size=4, len_size=4, base_size=0, idx_size=0, items=items))
        meta = fullbox("meta", 0, 0, hdlr + pitm + iloc + iinf + iref + iprp + idat)
        return first.ftyp + meta
    head = assemble([0] * n)
    pos, offsets = len(head) + 8, []
    for d in datas:
        offsets.append(pos)
        pos += len(d)
    head = assemble(offsets)
    assert len(head) + 8 == offsets[0]
    with open(dst, "wb") as f:
        f.write(head + box("mdat", b"".join(datas)))

def truncate_in_image_data(src, dst):
    """Cut the file in the middle of the primary item's coded data."""
    data = open(src, "rb").read()
    h = Heif(data)
    it = [i for i in h.iloc["items"] if i["id"] == h.pitm][0]
    assert it["cm"] == 0
    _, o, ln = it["exts"][0]
    cut = it["base"] + o + ln // 2
    with open(dst, "wb") as f:
        f.write(data[:cut])

def _leb128(b, p):
    v = i = 0
    while True:
        x = b[p]; p += 1
        v |= (x & 0x7F) << (7 * i); i += 1
        if not x & 0x80:
            return v, p

def _leb128_bytes(v):
    out = bytearray()
    while True:
        x, v = v & 0x7F, v >> 7
        out.append(x | (0x80 if v else 0))
        if not v:
            return bytes(out)

def cut_coded(src, dst):
    """Halve the last NAL unit (HEVC) / OBU (AV1) of the primary item and make every length agree with
    the cut: NAL length prefix or obu_size, the iloc extent and the mdat size. The container is then
    intact; only the coded picture stops in the middle of its slice / tile data."""
    data = open(src, "rb").read()
    h = Heif(data)
    d = h.item_data(h.pitm)
    units = []                                     # (header bytes, payload)
    p = 0
    if h.items[h.pitm]["type"] == "hvc1":
        while p < len(d):
            n = int.from_bytes(d[p:p + 4], "big")
            units.append((None, d[p + 4:p + 4 + n])); p += 4 + n
        last = units[-1][1][:len(units[-1][1]) // 2]
        nd = b"".join(struct.pack(">I", len(u)) + u for _, u in units[:-1]) + struct.pack(">I", len(last)) + last
    else:
        while p < len(d):
            hdr = d[p]
            assert hdr & 2, "OBU without obu_size"
            q = p + 1 + ((hdr >> 2) & 1)
            n, q2 = _leb128(d, q)
            units.append((d[p:q], d[q2:q2 + n])); p = q2 + n
        head, payload = units[-1]
        last = payload[:len(payload) // 2]
        nd = b"".join(hd + _leb128_bytes(len(u)) + u for hd, u in units[:-1]) + head + _leb128_bytes(len(last)) + last
    il = json.loads(json.dumps(h.iloc))
    it = [i for i in il["items"] if i["id"] == h.pitm][0]
    assert it["cm"] == 0 and len(it["exts"]) == 1
    start = it["base"] + it["exts"][0][1]
    it["exts"][0][2] = len(nd)
    out = h.with_meta({"iloc": build_iloc(il)})
    t, s, e, hl = top_level(out)[0][-1]
    assert t == "mdat" and e == len(out) and s + hl <= start and start + len(d) == e, "expects the item at the end of mdat"
    with open(dst, "wb") as f:
        f.write(out[:s] + box("mdat", out[s + hl:start] + nd))

def ftyp_only(src, dst):
    data = open(src, "rb").read()
    t, s, e, _ = next(boxes(data))
    assert t == "ftyp"
    with open(dst, "wb") as f:
        f.write(data[s:e])

def zero_times(path):
    """Set creation_time / modification_time of mvhd, tkhd and mdhd to 0 (avifenc writes the clock)."""
    data = bytearray(open(path, "rb").read())
    def walk(off, end):
        for t, s, e, hl in boxes(data, off, end):
            if t in CONTAINERS:
                walk(s + hl, e)
            elif t in ("mvhd", "tkhd", "mdhd"):
                n = 8 if data[s + hl] == 1 else 4
                data[s + hl + 4:s + hl + 4 + 2 * n] = bytes(2 * n)
    walk(0, len(data))
    with open(path, "wb") as f:
        f.write(data)

# ------------------------------------------------------------------------------------ description
def describe(path):
    """Brands, primary item, ispe, codec configuration, transforms, grid, thumbnails, alpha - from the boxes."""
    data = open(path, "rb").read()
    d = dict(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    top, damage = top_level(data)
    if top and top[0][0] == "ftyp":
        s, hl = top[0][1], top[0][3]
        d["major"] = data[s + hl:s + hl + 4].decode("latin1")
        d["compatible"] = [data[i:i + 4].decode("latin1") for i in range(s + hl + 8, top[0][2], 4)]
    d["top"] = [t for t, *_ in top]
    if damage:
        d["top_error"] = damage
    try:
        h = Heif(data)
    except Exception as e:                                   # noqa: BLE001 - damaged on purpose
        d["heif_error"] = f"{type(e).__name__}: {e}"
        return d
    p = h.pitm
    d["primary"] = dict(id=p, type=h.items[p]["type"])
    ispe = h.prop(p, "ispe")
    if ispe:
        d["ispe"] = list(struct.unpack(">II", ispe[12:20]))
    order = []
    for ess, pr in h.props_of(p):
        t = pr[4:8].decode("latin1")
        if t == "irot":
            order.append(f"irot {pr[8] & 3} ({(pr[8] & 3) * 90} deg anticlockwise){' essential' if ess else ''}")
        elif t == "imir":
            order.append(f"imir axis {pr[8] & 1}{' essential' if ess else ''}")
    if order:
        d["transforms"] = order
    def cfg_info(iid):
        hv, av = h.prop(iid, "hvcC"), h.prop(iid, "av1C")
        if hv:
            c = hv[8:]
            return f"HEVC profile {c[1] & 31}, {['4:0:0', '4:2:0', '4:2:2', '4:4:4'][c[16] & 3]}, {8 + (c[17] & 7)}-bit"
        if av:
            c = av[8:]
            hb, tw, mono, sx, sy = (c[2] >> 6) & 1, (c[2] >> 5) & 1, (c[2] >> 4) & 1, (c[2] >> 3) & 1, (c[2] >> 2) & 1
            chroma = "4:0:0" if mono else "4:2:0" if sx and sy else "4:2:2" if sx else "4:4:4"
            return f"AV1 profile {c[1] >> 5}, {chroma}, {12 if hb and tw else 10 if hb else 8}-bit"
        return None
    refs = []
    if "iref" in h.raw:
        ir = h.raw["iref"]
        v = ir[8]
        w = 2 if v == 0 else 4
        for t, s, e, hl in boxes(ir, 12, len(ir)):
            frm = int.from_bytes(ir[s + hl:s + hl + w], "big")
            cnt = int.from_bytes(ir[s + hl + w:s + hl + w + 2], "big")
            to = [int.from_bytes(ir[s + hl + w + 2 + k * w:s + hl + w + 2 + (k + 1) * w], "big") for k in range(cnt)]
            refs.append((t, frm, to))
    if h.items[p]["type"] == "grid":
        g = h.item_data(p)
        big = g[1] & 1
        ow, oh = struct.unpack(">II" if big else ">HH", g[4:12] if big else g[4:8])
        tiles = [to for t, frm, to in refs if t == "dimg" and frm == p][0]
        ts = h.prop(tiles[0], "ispe")
        cfgs = {h.prop(t, "hvcC") or h.prop(t, "av1C") for t in tiles}
        hidden = sum(1 for t in tiles if h.items[t]["flags"] & 1)
        d["grid"] = (f"{g[3] + 1}x{g[2] + 1} tiles ({g[3] + 1} columns, {g[2] + 1} rows) of {struct.unpack('>II', ts[12:20])[0]}x"
                     f"{struct.unpack('>II', ts[12:20])[1]}, output {ow}x{oh}; tiles = items {tiles[0]}-{tiles[-1]} "
                     f"`{h.items[tiles[0]]['type']}`, {hidden} of {len(tiles)} hidden, {len(cfgs)} decoder configuration "
                     f"propert{'y' if len(cfgs) == 1 else 'ies'} for all tiles; grid descriptor in "
                     f"{'idat' if [i for i in h.iloc['items'] if i['id'] == p][0]['cm'] == 1 else 'mdat'}")
        d["codec"] = cfg_info(tiles[0])
    else:
        d["codec"] = cfg_info(p)
    for t, frm, to in refs:
        if t == "thmb" and p in to:
            i = h.prop(frm, "ispe")
            d.setdefault("thumbnails", []).append(f"item {frm} {struct.unpack('>II', i[12:20])[0]}x{struct.unpack('>II', i[12:20])[1]}, {cfg_info(frm)}")
        if t == "auxl" and p in to:
            c = h.prop(frm, "auxC")
            urn = c[12:].split(b"\0")[0].decode() if c else "?"
            d["alpha_item"] = f"item {frm} ({urn}), {cfg_info(frm)}"
    return d

# ------------------------------------------------------------------------------------ decoding
class HeifError(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("subcode", ctypes.c_int), ("message", ctypes.c_char_p)]

_lib = None
def libheif():
    global _lib
    if _lib is None:
        lib = ctypes.CDLL("/lib/x86_64-linux-gnu/libheif.so.1")
        lib.heif_get_version.restype = ctypes.c_char_p
        lib.heif_context_alloc.restype = ctypes.c_void_p
        lib.heif_context_free.argtypes = [ctypes.c_void_p]
        lib.heif_context_read_from_file.restype = HeifError
        lib.heif_context_read_from_file.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
        lib.heif_context_get_number_of_top_level_images.argtypes = [ctypes.c_void_p]
        lib.heif_context_get_primary_image_handle.restype = HeifError
        lib.heif_context_get_primary_image_handle.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
        for f in ("heif_image_handle_get_width", "heif_image_handle_get_height", "heif_image_handle_has_alpha_channel",
                  "heif_image_handle_get_luma_bits_per_pixel", "heif_image_handle_get_number_of_thumbnails"):
            getattr(lib, f).argtypes = [ctypes.c_void_p]
        lib.heif_image_handle_release.argtypes = [ctypes.c_void_p]
        lib.heif_decode_image.restype = HeifError
        lib.heif_decode_image.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
        lib.heif_image_get_plane_readonly.restype = ctypes.POINTER(ctypes.c_uint8)
        lib.heif_image_get_plane_readonly.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
        lib.heif_image_get_width.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.heif_image_get_height.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.heif_image_release.argtypes = [ctypes.c_void_p]
        _lib = lib
    return _lib

HEIF_COLORSPACE_RGB, HEIF_CHROMA_RGBA, HEIF_CHANNEL_INTERLEAVED = 1, 11, 10

def libheif_decode(path, strict=False):
    """The primary image through libheif's API as the service will call it (transformations applied),
    as 8-bit RGBA. strict: heif_decoding_options.strict_decoding = 1 (version 3 field; offset 41 in the
    x86-64 layout of libheif 1.15). Returns (info dict, PIL image or None)."""
    lib = libheif()
    ctx = lib.heif_context_alloc()
    info = {}
    options = None
    if strict:
        lib.heif_decoding_options_alloc.restype = ctypes.c_void_p
        lib.heif_decoding_options_free.argtypes = [ctypes.c_void_p]
        options = lib.heif_decoding_options_alloc()
        fields = (ctypes.c_uint8 * 42).from_address(options)
        assert fields[0] >= 3, "libheif without strict_decoding"
        fields[41] = 1
    try:
        err = lib.heif_context_read_from_file(ctx, path.encode(), None)
        if err.code:
            info["error"] = f"read: {err.message.decode().strip()}"
            return info, None
        info["top_level_images"] = lib.heif_context_get_number_of_top_level_images(ctx)
        handle = ctypes.c_void_p()
        err = lib.heif_context_get_primary_image_handle(ctx, ctypes.byref(handle))
        if err.code:
            info["error"] = f"primary: {err.message.decode().strip()}"
            return info, None
        try:
            info["size"] = [lib.heif_image_handle_get_width(handle), lib.heif_image_handle_get_height(handle)]
            info["alpha"] = bool(lib.heif_image_handle_has_alpha_channel(handle))
            info["luma_bits"] = lib.heif_image_handle_get_luma_bits_per_pixel(handle)
            info["thumbnails"] = lib.heif_image_handle_get_number_of_thumbnails(handle)
            img = ctypes.c_void_p()
            err = lib.heif_decode_image(handle, ctypes.byref(img), HEIF_COLORSPACE_RGB, HEIF_CHROMA_RGBA, options)
            if err.code:
                info["error"] = f"decode: {err.message.decode().strip()}"
                return info, None
            try:
                w = lib.heif_image_get_width(img, HEIF_CHANNEL_INTERLEAVED)
                h = lib.heif_image_get_height(img, HEIF_CHANNEL_INTERLEAVED)
                stride = ctypes.c_int()
                plane = lib.heif_image_get_plane_readonly(img, HEIF_CHANNEL_INTERLEAVED, ctypes.byref(stride))
                raw = ctypes.string_at(plane, stride.value * h)
                lib.heif_image_get_decoding_warnings.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(HeifError), ctypes.c_int]
                warnings = (HeifError * 16)()
                info["warnings"] = lib.heif_image_get_decoding_warnings(img, 0, warnings, 16)
                pic = Image.frombytes("RGBA", (w, h), raw, "raw", "RGBA", stride.value)
                return info, pic
            finally:
                lib.heif_image_release(img)
        finally:
            lib.heif_image_handle_release(handle)
    finally:
        lib.heif_context_free(ctx)
        if options:
            lib.heif_decoding_options_free(options)

def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    text = r.stdout + r.stderr
    for arg in cmd[1:]:                     # no machine paths in README.md: file names only
        if os.sep in arg:
            text = text.replace(arg, os.path.basename(arg))
    noise = ("VIPS-WARNING", "ignoring nclx profile", "unable to write to target", "File contains", "Written to")
    lines = [l.strip() for l in text.splitlines() if l.strip() and not any(n in l for n in noise)]
    return r.returncode, " / ".join(dict.fromkeys(lines))

def decode_all(path, tmp):
    """heif-convert, vips (full decode and a 100x100 centre-crop thumbnail) and libheif ctypes."""
    name = os.path.basename(path)
    res = {}
    out = f"{tmp}/{name}.heif-convert.png"
    if os.path.exists(out):
        os.remove(out)
    rc, msg = run(["/usr/bin/heif-convert", path, out])
    res["heif-convert"] = (Image.open(out), None) if rc == 0 and os.path.exists(out) else (None, msg or f"exit {rc}")
    out = f"{tmp}/{name}.vips.png"
    rc, msg = run(["/usr/bin/vips", "copy", path, out])
    res["vips"] = (Image.open(out), None) if rc == 0 else (None, msg or f"exit {rc}")
    out = f"{tmp}/{name}.vips-thumb.png"
    rc, msg = run(["/usr/bin/vips", "thumbnail", path, out, "100", "--height", "100", "--crop", "centre"])
    res["vips-thumb"] = (Image.open(out), None) if rc == 0 else (None, msg or f"exit {rc}")
    info, pic = libheif_decode(path)
    res["libheif"] = (pic, info.get("error"))
    sinfo, spic = libheif_decode(path, strict=True)
    res["libheif strict"] = (spic, sinfo.get("error"))
    info["strict_warnings"] = sinfo.get("warnings", 0)
    return res, info

def quadrant_errors(im):
    """Max channel error of the 5x5 mean at 25 %/75 % of width and height against the card's colours,
    per quadrant TL, TR, BL, BR (Pillow reads 16-bit PNGs as 8-bit: the high byte)."""
    rgba = im.convert("RGBA")
    w, h = rgba.size
    px = rgba.load()
    errs = []
    for i, (fx, fy) in enumerate(((.25, .25), (.75, .25), (.25, .75), (.75, .75))):
        cx, cy = int(fx * w), int(fy * h)
        s = [0, 0, 0]
        for y in range(cy - 2, cy + 3):
            for x in range(cx - 2, cx + 3):
                for k in range(3):
                    s[k] += px[x, y][k]
        errs.append(max(abs(round(v / 25) - QUAD[i][k]) for k, v in enumerate(s)))
    return errs

def alpha_check(im):
    """(max alpha in the frame that must be transparent, min alpha inside it) - full-size decodes only."""
    if im.mode not in ("RGBA", "LA"):
        return None
    a = im.getchannel("A").load()
    w, h = im.size
    frame, inside = 0, 255
    for y in range(h):
        for x in range(w):
            if x < FRAME or y < FRAME or x >= w - FRAME or y >= h - FRAME:
                frame = max(frame, a[x, y])
            elif FRAME + 4 <= x < w - FRAME - 4 and FRAME + 4 <= y < h - FRAME - 4:
                inside = min(inside, a[x, y])
    return frame, inside

def magenta_check(im):
    """Largest share of magenta-ish pixels in any column/row band: > 0 means the grid was not cropped."""
    rgb = im.convert("RGB")
    return sum(1 for r, g, b in rgb.getdata() if r > 180 and g < 80 and b > 180)

# ------------------------------------------------------------------------------------ expectations
CARD_TEXT = "the card: TL red, TR green, BL blue, BR yellow"
REFUSE = "refused: `corrupt_image` (never a partial or grey thumbnail)"
TOL = 8

SAMPLES = [
    # file, how it was made, what a correct thumbnail shows, kind
    ("card.heic", "`heif-enc -q 90 card.png` (x265, 4:2:0, 8-bit)", CARD_TEXT, "card"),
    ("card.avif", "`heif-enc -A -q 90 card.png` (libaom, 4:2:0, 8-bit)", CARD_TEXT, "card"),
    ("card-10bit.heic", "`heif-enc -b 10 -q 90 card16.png` (16-bit RGB PNG input; x265 Main 10)", CARD_TEXT, "card"),
    ("card-10bit.avif", "`avifenc -d 10 -y 420 --min 0 --max 10 -s 6 -j 1 card16.png` (AV1 profile 0 = Main, 10-bit 4:2:0). "
     "`heif-enc -A -b 10` aborts in libaom (`write_color_config` assertion) for 4:2:0 and 4:4:4: libheif 1.15.1 evidently asks "
     "for AV1 profile 2 (the assertion is libaom's profile-2 rule: 10 bits only as 4:2:2)", CARD_TEXT, "card"),
    ("alpha.heic", "`heif-enc -q 90 alpha.png` (RGBA PNG; alpha as an auxiliary HEVC image, `auxl` reference)",
     CARD_TEXT + " inside a fully transparent 16-px frame (alpha kept)", "alpha"),
    ("alpha.avif", "`heif-enc -A -q 90 alpha.png` (alpha as an auxiliary AV1 image)",
     CARD_TEXT + " inside a fully transparent 16-px frame (alpha kept)", "alpha"),
    ("rotated-irot.heic", "`heif-enc -q 90` of the card turned 90 deg clockwise (stored 120x160), then an `irot` "
     "property (angle 1 = 90 deg anticlockwise, essential) added to `ipco` and associated with the primary item in `ipma` "
     "by this script (box sizes and `iloc` offsets fixed up)", CARD_TEXT + " (upright, 160x120)", "card"),
    ("mirrored-imir.heic", "`heif-enc -q 90` of the card mirrored left/right, then `imir` axis 1 (essential) added by this "
     "script. ISO/IEC 23008-12:2022: axis 1 = left and right exchanged (the 2017 wording was ambiguous; libheif and "
     "libavif >= 0.9.2 use this reading)", CARD_TEXT + " (not mirrored)", "card"),
    ("rotated-mirrored.heic", "`heif-enc -q 90` of the card turned 90 deg clockwise then flipped top/bottom (stored "
     "120x160); `imir` axis 0 then `irot` 1 added by this script, in that `ipma` order (transforms apply in "
     "association order)", CARD_TEXT + " (160x120)", "card"),
    ("rotated-irot.avif", "`avifenc --irot 3 --min 0 --max 10 -s 6 -j 1` of the card turned 90 deg anticlockwise "
     "(stored 120x160; angle 3 = 270 deg anticlockwise)", CARD_TEXT + " (upright, 160x120)", "card"),
    ("mirrored-imir.avif", "`avifenc --imir 0 --min 0 --max 10 -s 6 -j 1` of the card flipped top/bottom (axis 0 = "
     "top and bottom exchanged)", CARD_TEXT + " (not flipped)", "card"),
    ("grid.heic", "assembled by this script from 6 tiles, each `heif-enc -q 90` of a 64x64 piece of the card on a "
     "192x128 magenta canvas: primary item `grid` (3 columns x 2 rows, output 160x120, descriptor in `idat`), "
     "tiles hidden `hvc1` items referenced by `iref dimg`, one shared `hvcC`",
     CARD_TEXT + "; no magenta (a decoder that ignores the output size shows magenta bands right and bottom)", "grid"),
    ("grid.avif", "the same grid assembly with `heif-enc -A -q 90` tiles (`av01` items, shared `av1C`)",
     CARD_TEXT + "; no magenta", "grid"),
    ("thumb.heic", "`heif-enc -q 90 -t 320 big.png`: 1024x768 card, plus a 320x240 stored thumbnail item (`thmb` "
     "reference). heif-enc 1.15 lists the compatible brands twice", CARD_TEXT + " (main image and thumbnail show the same card)", "card"),
    ("sequence.avif", "`avifenc --min 0 --max 10 -s 6 -j 1 --cicp 1/13/6 sequence.y4m` (3 frames at 2 fps: the card, "
     "the card mirrored left/right, the card flipped top/bottom; 8-bit 4:4:4 y4m, because avifenc 0.11 adds an opaque "
     "alpha plane to PNG sequences), then the `mvhd`/`tkhd`/`mdhd` times set to 0 (avifenc writes the clock). Brand "
     "`avis`: a `moov` track plus a primary still item = the first frame",
     CARD_TEXT + " (the first frame); or `unsupported_format` if sequences are refused", "sequence"),
    ("truncated.heic", "card.heic cut in the middle of the coded image data (the `iloc` extent runs past the end)", REFUSE, "reject"),
    ("truncated.avif", "card.avif cut in the middle of the coded image data (the `iloc` extent runs past the end)", REFUSE, "reject"),
    ("truncated-slice.heic", "card.heic with its coded picture cut in half *inside a consistent container*: the HEVC "
     "NAL unit halved and its 4-byte length prefix, the `iloc` extent length and the `mdat` size all set to the cut",
     REFUSE + ". **libheif 1.15.1 does not detect this one**: it returns a 160x120 picture with no error and no "
     "decoding warning, also with `strict_decoding`; the missing area is uninitialised memory; see Notes",
     "undetected"),
    ("truncated-obu.avif", "card.avif treated the same way: the frame OBU halved, its `obu_size`, the `iloc` extent and "
     "the `mdat` size set to the cut", REFUSE, "reject"),
    ("ftyp-only.heic", "only the `ftyp` box of card.heic (28 bytes), no `meta`", REFUSE + "; `unsupported_format` also acceptable", "reject"),
]

def fmt_errs(e):
    return "/".join(str(v) for v in e)

MEASURED = []

def verify_and_report(out_dir, tmp):
    failures = []
    rows, details = [], []
    total = 0
    for name, how, expect, kind in SAMPLES:
        path = f"{out_dir}/{name}"
        d = describe(path)
        total += d["bytes"]
        res, info = decode_all(path, tmp)
        checks = []
        def need(cond, what):
            if not cond:
                failures.append(f"{name}: {what}")
        if kind == "reject":
            for tool in ("heif-convert", "vips", "libheif", "libheif strict"):
                pic, err = res[tool]
                need(pic is None, f"{tool} decoded a damaged file")
                checks.append(f"{tool}: fails ({err})")
        elif kind == "undetected":
            for tool in ("heif-convert", "vips", "libheif", "libheif strict"):
                pic, err = res[tool]
                if pic is None:
                    checks.append(f"{tool}: fails ({err})")
                    need(False, f"{tool} now refuses it - update the README text of this file")
                    continue
                colours = set(pic.convert("RGB").getdata())
                size = "x".join(map(str, pic.size))
                if tool.startswith("libheif"):
                    # In this long-running process the concealed area is whatever the decoder's reused
                    # buffers held (earlier pictures): it changes from run to run, so only the facts go here.
                    warn = info.get("warnings" if tool == "libheif" else "strict_warnings", 0)
                    need(warn == 0, f"{tool} now reports {warn} decoding warning(s) - update the README text")
                    need(max(quadrant_errors(pic)) > 64, f"{tool} gave the card")
                    checks.append(f"{tool}: decodes WITHOUT ERROR to {size}, {warn} decoding warnings; the picture is "
                                  "not the card: the CTUs that were not decoded keep what the decoder's reused buffers held (see Notes)")
                else:
                    need(colours == {(0, 135, 0)}, f"{tool} gave {len(colours)} colours, expected flat (0,135,0)")
                    checks.append(f"{tool}: decodes WITHOUT ERROR to {size}, one flat colour {next(iter(colours))} "
                                  "(fresh process)")
        else:
            for tool in ("heif-convert", "vips", "vips-thumb", "libheif", "libheif strict"):
                pic, err = res[tool]
                if pic is None:
                    if kind == "sequence" and tool in ("heif-convert", "vips", "vips-thumb"):
                        checks.append(f"{tool}: refuses ({err})")
                        continue
                    need(False, f"{tool} failed: {err}")
                    checks.append(f"{tool}: FAILED ({err})")
                    continue
                e = quadrant_errors(pic)
                MEASURED.append(max(e))
                need(max(e) <= TOL, f"{tool} quadrant errors {e}")
                size = "x".join(map(str, pic.size))
                expected_size = "100x100" if tool == "vips-thumb" else ("1024x768" if name == "thumb.heic" else "160x120")
                need(size == expected_size, f"{tool} size {size}, expected {expected_size}")
                note = f"{tool}: {size}{' ' + pic.mode if pic.mode != 'RGB' else ''}, centre error TL/TR/BL/BR {fmt_errs(e)}"
                if kind == "alpha" and tool != "vips-thumb":
                    a = alpha_check(pic)
                    need(a is not None and a[0] == 0 and a[1] == 255, f"{tool} alpha {a}")
                    note += f", alpha kept: frame max {a[0]}, inside min {a[1]}" if a else ", NO ALPHA"
                if kind == "grid":
                    m = magenta_check(pic)
                    need(m == 0, f"{tool} {m} magenta pixels")
                    note += f", magenta pixels {m}"
                checks.append(note)
        brand = d.get("major", "-")
        compat = ", ".join(d.get("compatible", [])) or "-"
        ispe = "x".join(map(str, d["ispe"])) if "ispe" in d else "-"
        rows.append((name, d["bytes"], brand, compat, ispe, how, expect))
        det = [f"### {name}", "", f"- {d['bytes']:,} bytes, sha256 `{d['sha256']}`",
               f"- ftyp: major `{brand}`, compatible {', '.join('`' + b + '`' for b in d.get('compatible', [])) or '-'}"]
        det.append(f"- top-level boxes: {' '.join(d['top'])}" + (f"; then {d['top_error']}" if "top_error" in d else ""))
        if "heif_error" in d:
            det.append(f"- box reader: {d['heif_error']}")
        if "primary" in d:
            det.append(f"- primary item {d['primary']['id']} `{d['primary']['type']}`" +
                       (f", `ispe` {ispe}" if "ispe" in d else "") + (f", {d['codec']}" if d.get("codec") else ""))
        for k in ("grid", "alpha_item"):
            if k in d:
                det.append(f"- {k.replace('_', ' ')}: {d[k]}")
        if "transforms" in d:
            det.append(f"- transforms on the primary item, in `ipma` order: {'; '.join(d['transforms'])}")
        if "thumbnails" in d:
            det.append(f"- stored thumbnails: {'; '.join(d['thumbnails'])}")
        if "size" in info:
            det.append(f"- libheif: displayed size {info['size'][0]}x{info['size'][1]}, alpha {'yes' if info['alpha'] else 'no'}, "
                       f"luma {info['luma_bits']} bits, {info['thumbnails']} thumbnail(s), {info['top_level_images']} top-level image(s)")
        det += [f"- {c}" for c in checks]
        details.append("\n".join(det))
    return rows, details, failures, total

def write_readme(out_dir, rows, details, total, versions, determinism):
    md = []
    md.append("# HEIC / AVIF samples (issue 16)\n")
    md.append("Small synthetic HEIF files for the thumbnailer's HEIC and AVIF input, which will be decoded through "
              "libheif 1.15.1 (Debian 12 `libheif1`). **Generated - do not edit by hand.** Everything here, this README "
              "included, is rebuilt by\n\n    test_images/heif/make_heif_images.sh        # from any working directory, ~10 s\n")
    md.append("Debian packages it needs: `libheif-examples libavif-bin libvips-tools python3-pil` (the script checks). "
              "It uses `/usr/bin/python3` explicitly.\n")
    md.append("## Pictures\n")
    md.append("- **card**: 160x120, TL red (255,0,0), TR green (0,255,0), BL blue (0,0,255), BR yellow (255,255,0); nothing "
              "else. `card16.png` is the same at 16 bits per sample (65535/0) for the 10-bit files; `big.png` is the card at 1024x768.\n"
              "- **alpha**: the card with its outer 16 px fully transparent (RGBA 0,0,0,0).\n"
              "- All source PNGs are written by Pillow as 8-bit RGB or RGBA (heif-enc 1.15 shifts the colours of palette PNGs).\n")
    md.append("**Quadrant centres** are the 5x5 means at 25 %/75 % of the displayed width and height, as in "
              f"`test_images/README.md`; the error is the largest channel difference from the card colour. Tolerance used by the "
              f"script's checks: {TOL} per channel (largest error measured over all decodable files and decoders: "
              f"{max(MEASURED)}, see below). For a 100x100 centre-crop "
              "(\"cover\") thumbnail of the 4:3 card the quadrants are still the four quarters of the thumbnail.\n")
    md.append("Decoders used for the checks: `heif-convert` (libheif 1.15.1 example tool, applies `irot`/`imir`), "
              "`vips copy` and `vips thumbnail FILE OUT 100 --height 100 --crop centre` (libvips 8.14 over the same libheif), "
              "and libheif's C API through Python ctypes (`heif_decode_image`, RGB colourspace, interleaved RGBA, "
              "transformations applied - the way the service is expected to call it; `libheif strict` = the same with "
              "`heif_decoding_options.strict_decoding = 1`). 10-bit files decode to 16-bit PNGs with "
              "heif-convert and vips; the errors are taken on the high byte.\n")
    md.append("## Files\n")
    md.append("| File | Bytes | ftyp major | compatible brands | primary `ispe` | How it was made | A correct thumbnail shows |")
    md.append("| --- | ---: | --- | --- | --- | --- | --- |")
    for name, b, major, compat, ispe, how, expect in rows:
        md.append(f"| `{name}` | {b:,} | `{major}` | {compat} | {ispe} | {how} | {expect} |")
    md.append(f"\n{len(rows)} files, {total:,} bytes in total. `ispe` is the coded (stored) size of the primary item, "
              "before `irot`/`imir`; for `grid.*` the `ispe` of the grid item (= its output size).\n")
    md.append("## Verification (per file)\n")
    md.append("Centre errors are TL/TR/BL/BR. `libheif` is the ctypes call of the C API.\n")
    md.append("\n\n".join(details) + "\n")
    md.append("## Notes\n")
    md.append("- **Sequences**: `heif-convert` 1.15 refuses `sequence.avif` (\"unsupported HEIF/AVIF file type\": its brand "
              "check does not know `avis`), and libvips 8.14's HEIF loader does not claim the file either (it falls "
              "through to ImageMagick, which fails). libheif's API reads it and decodes the primary still item (the "
              "first frame). A service that sniffs brands must decide whether `avis` (with `avif` among the compatible "
              "brands) is accepted.\n"
              "- **`truncated-slice.heic` is not refused by libheif 1.15.1.** When the container is consistent and only "
              "the HEVC slice data stops early, `heif_decode_image` succeeds (also with `strict_decoding`) and reports no "
              "decoding warning, and the CTUs that were not decoded are left as they were in the decoder's picture buffer: "
              "one flat green (0,135,0) = YCbCr (0,0,0) in a fresh process (heif-convert, vips), but in a process that "
              "decoded other pictures before (the ctypes check here; a long-running service) they hold leftovers of those "
              "earlier pictures, different on every decode - pixels of one upload could leak into another's thumbnail. Cut at the "
              "byte level instead (`truncated.heic`), libheif refuses the file while reading the boxes. The AV1 "
              "equivalent (`truncated-obu.avif`) is refused by the AV1 decoder. A service that must refuse every "
              "damaged upload needs its own check for this case (or accepts a flat thumbnail for it).\n"
              "- **No HEIC sequence** (`hevc`/`msf1` brand): no tool here writes one.\n"
              "- **10-bit AVIF with heif-enc**: `heif-enc -A -b 10` (libheif 1.15.1 + libaom 3.6.0) aborts with an "
              "assertion in libaom for 4:2:0 and 4:4:4; only `-p chroma=422` works (AV1 profile 2). `card-10bit.avif` is "
              "therefore made with avifenc (profile 0, 4:2:0, as cameras and browsers write it).\n"
              "- heif-enc 1.15 writes `heic` as the major brand for the 10-bit HEVC file too (not `heix`).\n"
              "- heif-enc writes no `colr` box for HEVC (the colour description is in the HEVC VUI); AV1 files carry `colr nclx`.\n"
              "- `irot`/`imir` in HEIC and the grid files are made by this script's box code, not by an encoder; they were "
              "checked with all three decoders above.\n")
    md.append("## Determinism\n")
    md.append(determinism + "\n")
    md.append("## Tool versions used for the committed files\n")
    md.append("\n".join(f"- {k}: {v}" for k, v in versions) + "\n")
    with open(f"{out_dir}/README.md", "w") as f:
        f.write("\n".join(md))

def versions():
    def out(cmd):
        return subprocess.run(cmd, capture_output=True, text=True).stdout
    v = []
    v.append(("libheif (heif-enc / heif-convert / libheif.so.1)", libheif().heif_get_version().decode()))
    for line in out(["/usr/bin/heif-enc", "--list-encoders"]).splitlines():
        if line.startswith("- x265") or line.startswith("- aom"):
            v.append((f"heif-enc encoder {line[2:].split(' = ')[0]}", line.split(" = ")[1]))
    v.append(("avifenc", out(["/usr/bin/avifenc", "--version"]).splitlines()[0].replace("Version: ", "")))
    v.append(("libvips", out(["/usr/bin/vips", "--version"]).strip()))
    for pkg in ("libheif1", "libde265-0", "libx265-199", "libaom3", "libdav1d6", "libavif15"):
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg], capture_output=True, text=True)
        if r.returncode == 0:
            v.append((f"Debian package {pkg}", r.stdout.strip()))
    import PIL
    v.append(("Pillow", PIL.__version__))
    v.append(("Python", sys.version.split()[0]))
    v.append(("zlib", zlib.ZLIB_VERSION))
    return v

def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "synth":
        synth(args[0])
    elif cmd == "transform":
        make_transform(args[0], args[1], *args[2:])
    elif cmd == "grid":
        dst, cols, rows, w, h, *tiles = args
        make_grid(dst, tiles, int(cols), int(rows), int(w), int(h))
    elif cmd == "truncate":
        truncate_in_image_data(args[0], args[1])
    elif cmd == "cut-coded":
        cut_coded(args[0], args[1])
    elif cmd == "ftyp-only":
        ftyp_only(args[0], args[1])
    elif cmd == "zero-times":
        zero_times(args[0])
    elif cmd == "verify":
        out_dir, tmp, determinism = args[0], args[1], args[2]
        rows, details, failures, total = verify_and_report(out_dir, tmp)
        write_readme(out_dir, rows, details, total, versions(), determinism)
        for name, b, major, compat, ispe, how, expect in rows:
            print(f"  {name:24} {b:7,} bytes  {major:5} [{compat}]  ispe {ispe}")
        if failures:
            print("make_heif_images.sh: CHECKS FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
            sys.exit(1)
        print(f"  all checks passed; README.md written", file=sys.stderr)
    else:
        raise SystemExit(f"unknown command {cmd}")

if __name__ == "__main__":
    main()
PYTHON

tool() { "$PY" "$TMP/heiftool.py" "$@"; }

echo "make_heif_images.sh: synthesising pictures" >&2
tool synth "$S"

# Old outputs go first (only the files this script makes).
for f in card.heic card.avif card-10bit.heic card-10bit.avif alpha.heic alpha.avif rotated-irot.heic \
         mirrored-imir.heic rotated-mirrored.heic rotated-irot.avif mirrored-imir.avif grid.heic grid.avif \
         thumb.heic sequence.avif truncated.heic truncated.avif truncated-slice.heic truncated-obu.avif \
         ftyp-only.heic README.md; do
    rm -f "$OUT/$f"
done

echo "make_heif_images.sh: encoding" >&2
heif_enc() { /usr/bin/heif-enc "$@" >/dev/null; }
avif_enc() { /usr/bin/avifenc -s 6 -j 1 --min 0 --max 10 "$@" >/dev/null; }

heif_enc -q 90 -o "$OUT/card.heic" "$S/card.png"
heif_enc -A -q 90 -o "$OUT/card.avif" "$S/card.png"
heif_enc -b 10 -q 90 -o "$OUT/card-10bit.heic" "$S/card16.png"
avif_enc -d 10 -y 420 "$S/card16.png" "$OUT/card-10bit.avif"
heif_enc -q 90 -o "$OUT/alpha.heic" "$S/alpha.png"
heif_enc -A -q 90 -o "$OUT/alpha.avif" "$S/alpha.png"

# irot / imir in HEIC: heif-enc cannot write them -> encode the stored picture, add the boxes.
heif_enc -q 90 -o "$W/card-cw.heic" "$S/card-cw.png"
tool transform "$W/card-cw.heic" "$OUT/rotated-irot.heic" irot=90
heif_enc -q 90 -o "$W/card-lr.heic" "$S/card-lr.png"
tool transform "$W/card-lr.heic" "$OUT/mirrored-imir.heic" imir=1
heif_enc -q 90 -o "$W/card-cw-tb.heic" "$S/card-cw-tb.png"
tool transform "$W/card-cw-tb.heic" "$OUT/rotated-mirrored.heic" imir=0 irot=90
# irot / imir in AVIF: avifenc writes them.
avif_enc -y 420 --irot 3 "$S/card-ccw.png" "$OUT/rotated-irot.avif"
avif_enc -y 420 --imir 0 "$S/card-tb.png" "$OUT/mirrored-imir.avif"

# Grids: one file per tile, then assembled.
tiles_heic=() tiles_avif=()
for r in 0 1; do
    for c in 0 1 2; do
        heif_enc -q 90 -o "$W/tile-$r-$c.heic" "$S/tile-$r-$c.png"
        heif_enc -A -q 90 -o "$W/tile-$r-$c.avif" "$S/tile-$r-$c.png"
        tiles_heic+=("$W/tile-$r-$c.heic")
        tiles_avif+=("$W/tile-$r-$c.avif")
    done
done
tool grid "$OUT/grid.heic" 3 2 160 120 "${tiles_heic[@]}"
tool grid "$OUT/grid.avif" 3 2 160 120 "${tiles_avif[@]}"

heif_enc -q 90 -t 320 -o "$OUT/thumb.heic" "$S/big.png"

avif_enc --cicp 1/13/6 "$S/sequence.y4m" "$OUT/sequence.avif"
tool zero-times "$OUT/sequence.avif"

tool truncate "$OUT/card.heic" "$OUT/truncated.heic"
tool truncate "$OUT/card.avif" "$OUT/truncated.avif"
tool cut-coded "$OUT/card.heic" "$OUT/truncated-slice.heic"
tool cut-coded "$OUT/card.avif" "$OUT/truncated-obu.avif"
tool ftyp-only "$OUT/card.heic" "$OUT/ftyp-only.heic"

echo "make_heif_images.sh: verifying (heif-convert, vips, libheif)" >&2
DET="Checked: two runs of the script gave byte-identical files, this README included (sha256 above). heif-enc's encoders (x265, libaom) run with their default thread counts; checked once by hand that heif-enc under \`taskset -c 0\` (1 CPU) writes the same bytes as with 2 CPUs (card.heic, thumb.heic, card.avif). avifenc runs with one job (\`-j 1\`). The only clock-dependent bytes, the \`mvhd\`/\`tkhd\`/\`mdhd\` times of sequence.avif, are set to 0. Other x265 / libaom / libavif versions may change the bytes, not the pictures."
mkdir -p "$W/decoded"
tool verify "$OUT" "$W/decoded" "$DET"
