#!/usr/bin/env bash
# Regenerates the ThumbnailApi test-image corpus in this folder (test_images/): every image, the
# reference thumbnails, README.md and manifest.json. Run from any working directory:
#
#     bash test_images/make_test_images.sh
#
# Debian 12 packages it needs (apt-get install ...):
#   python3-pil imagemagick libvips-tools libjpeg-turbo-progs libtiff-tools
#   libimage-exiftool-perl webp gifsicle file
# It calls /usr/bin/python3 and /usr/bin/convert explicitly: a python3 or convert earlier on PATH
# (pyenv shims, the file-viewer stand-in) is not used.
#
# All pictures are synthesised (gradients, shapes, noise from fixed seeds) by make_test_images.py;
# the run is deterministic for a given set of tool versions (second run = identical bytes), except
# disguised/elf.bmp, which copies the first 4 KB of this machine's /bin/true.
# The script finishes by verifying every file with ImageMagick, libvips and Pillow and exits non-zero
# if a required check fails (details in README.md, section "Verification").
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

missing=()
for tool in /usr/bin/python3 /usr/bin/convert /usr/bin/identify /usr/bin/vips /usr/bin/vipsheader \
            /usr/bin/vipsthumbnail /usr/bin/cjpeg /usr/bin/jpegtran /usr/bin/tiffcp /usr/bin/tiffinfo /usr/bin/tiff2rgba \
            /usr/bin/exiftool /usr/bin/cwebp /usr/bin/img2webp /usr/bin/webpmux /usr/bin/gifsicle /usr/bin/file; do
    [[ -x "$tool" ]] || missing+=("$tool")
done
if ((${#missing[@]})); then
    echo "make_test_images.sh: missing ${missing[*]}" >&2
    echo "  apt-get install python3-pil imagemagick libvips-tools libjpeg-turbo-progs libtiff-tools libimage-exiftool-perl webp gifsicle file" >&2
    exit 1
fi
/usr/bin/python3 -c 'import PIL' 2>/dev/null || { echo "make_test_images.sh: /usr/bin/python3 lacks PIL (apt-get install python3-pil)" >&2; exit 1; }

# Stable, single-threaded, locale- and time-zone-independent tool behaviour.
export LC_ALL=C TZ=UTC PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1
export VIPS_CONCURRENCY=1 MAGICK_THREAD_LIMIT=1 OMP_NUM_THREADS=1

exec /usr/bin/python3 "$HERE/make_test_images.py" "$@"
