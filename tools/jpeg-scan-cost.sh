#!/usr/bin/env bash
# What a hostile progressive JPEG (one DC scan, then the same AC scan repeated) costs the imaging
# pipeline, with the scan pre-check (MaxJpegScans 50, the default) and without it (limit raised, so
# only Skia's own give-up at 100 scans applies). One process per line, so each peak RSS is its own.
#
#     tools/jpeg-scan-cost.sh
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dotnet build "$repo/tools/Robustness" -c Release -v quiet -nologo >/dev/null
run() { dotnet "$repo/tools/Robustness/bin/Release/net10.0/Robustness.dll" scancost "$@"; }
run --width 4096 --height 4096 --scans 5000
run --width 4096 --height 4096 --scans 5000 --max-scans 100000
run --width 10000 --height 10000 --scans 5000
run --width 10000 --height 10000 --scans 5000 --max-scans 100000
run --width 10000 --height 10000 --scans 48
run --width 10000 --height 10000 --scans 98 --max-scans 100000
