#!/usr/bin/env bash
# Makes wwwroot/favicon.ico (16, 32 and 48 px): a small landscape picture, blue sky, green hill and a
# sun, inside a frame with rounded corners. Needs ImageMagick (apt-get install imagemagick).
set -euo pipefail
cd "$(dirname "$0")/../.."
convert=/usr/bin/convert
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$convert" -size 48x48 xc:none \
  -fill '#1f4e79' -draw 'roundrectangle 2,6 45,41 6,6' \
  -fill '#9fd3ff' -draw 'roundrectangle 5,9 42,38 4,4' \
  -fill '#ffd23f' -draw 'circle 33,17 33,21' \
  -fill '#3c9d4e' -draw 'polygon 5,38 17,22 27,33 33,28 42,38' \
  "$tmp/icon.png"
"$convert" "$tmp/icon.png" -define icon:auto-resize=48,32,16 wwwroot/favicon.ico
