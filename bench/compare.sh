#!/usr/bin/env bash
# One command: our pipeline beside libvips, ImageMagick, Pillow and the djpeg floor, on the
# deterministic corpus, from a clone of this repository (needs the .NET SDK and Debian 12's apt).
#
#     bench/compare.sh                 # every file; extra arguments go to bench_peers.sh / bench.py
#     FILES=jpg_24mp,bmp bench/compare.sh
#
# Publishes bench/ThumbnailApi.Bench (Release, ReadyToRun, like the service) into a temporary
# folder, then runs bench/peers/bench_peers.sh with it as the tool "ours". The table goes to stdout
# and to $BENCH_OUT/RESULTS.md (default /tmp/thumbbench). Write the CPU model beside any figure you
# copy from it: the table's header names it.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
publish="$(mktemp -d)"
trap 'rm -rf "$publish"' EXIT
dotnet publish "$repo/bench/ThumbnailApi.Bench" -c Release -o "$publish" -v quiet -nologo >/dev/null
bench="$publish/ThumbnailApi.Bench.dll"
"$repo/bench/peers/bench_peers.sh" \
  --tool "ours=dotnet $bench single {in} {out}" \
  --batch-tool "ours=dotnet $bench --batch {outdir} {ext} {inputs}" \
  --tool 'djpeg_floor=djpeg -scale 1/8 -outfile {out} {in}' \
  "$@"
