#!/usr/bin/env bash
# Builds the corpus that checks the decoding-memory estimate (Imaging/*Layout, SourceImage.MemoryBytes)
# against what decoding really costs: one 4000x4000 noise picture (16 MP) saved in every layout whose
# decoder holds something different (PNG plain / interlaced / 16-bit / palette, GIF, BMP plain and
# RLE, JPEG baseline and progressive at 4:2:0, 4:4:4 and grey, WebP lossy and lossless, TIFF
# uncompressed, LZW, one strip, tiles, planar, 16-bit, JPEG). Then compare, one process per file:
#
#     bench/memory-corpus.sh /tmp/memcorpus
#     dotnet $B pipeline --runs 1 /tmp/memcorpus/*      # "estimated MB" beside "peak RSS MB" - "RSS before MB"
#
# Needs /usr/bin/python3 with PIL, ImageMagick's /usr/bin/convert and libtiff-tools (tiffcp), from Debian.
set -euo pipefail
out="${1:-/tmp/memcorpus}"
mkdir -p "$out"
cd "$out"
/usr/bin/python3 - <<'PY'
from PIL import Image
W, H = 4000, 4000
base = Image.merge('RGB', [Image.effect_noise((W, H), 40 + i * 10) for i in range(3)])
base.save('png-rgb.png')
base.convert('RGBA').save('png-rgba.png')
base.convert('L').save('png-grey.png')
base.convert('P', palette=Image.ADAPTIVE).save('png-pal.png')
base.convert('P', palette=Image.ADAPTIVE).save('gif.gif')
base.save('bmp24.bmp')
base.convert('P', palette=Image.ADAPTIVE).save('bmp8.bmp')
base.save('jpeg420.jpg', quality=90)
base.save('jpeg444.jpg', quality=90, subsampling=0)
base.convert('L').save('jpeggrey.jpg', quality=90)
base.save('webp-lossy.webp', quality=80)
base.save('webp-ll.webp', lossless=True, method=0)
base.save('tiff-none.tif')
PY
convert=/usr/bin/convert
$convert png-rgb.png -interlace PNG PNG24:png-rgb-i.png
$convert png-rgb.png -depth 16 PNG48:png-rgb16.png
$convert png-rgb.png -depth 16 -interlace PNG PNG48:png-rgb16-i.png
$convert png-rgba.png -depth 16 -interlace PNG PNG64:png-rgba16-i.png
$convert png-pal.png -interlace PNG PNG8:png-pal-i.png
$convert bmp8.bmp -compress RLE BMP3:bmp8-rle.bmp
$convert jpeg420.jpg -interlace JPEG -quality 90 jpeg420p.jpg
$convert jpeg444.jpg -interlace JPEG -sampling-factor 1x1 -quality 90 jpeg444p.jpg
$convert jpeggrey.jpg -interlace JPEG -quality 90 jpeggreyp.jpg
$convert png-rgb.png -depth 16 -compress lzw tiff16.tif
tiffcp -c lzw tiff-none.tif tiff-lzw.tif
tiffcp -s -r 4000 tiff-none.tif tiff-onestrip.tif
tiffcp -c lzw -r 4000 tiff-none.tif tiff-onestrip-lzw.tif
tiffcp -t -w 512 -l 512 -c lzw tiff-none.tif tiff-tiled.tif
tiffcp -p separate -c lzw tiff-none.tif tiff-planar.tif
tiffcp -c jpeg -r 16 tiff-none.tif tiff-jpeg.tif
tiffcp -c jpeg -r 4000 tiff-none.tif tiff-jpeg-onestrip.tif
tiffcp -c lzw -r 4000 tiff16.tif tiff16-onestrip.tif
ls -l "$out"
