#!/usr/bin/env bash
# Fuzzes the imaging pipeline in-process: N deterministic mutations of every file in test_images/
# (the in-suite test runs 5 000). Every case must end in a thumbnail or the pipeline's typed
# rejection; the run prints the counts, the slowest case, and any other exception or hang.
#
#     tools/fuzz.sh [--cases 100000] [--seed 1]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dotnet build "$repo/tools/Robustness" -c Release -v quiet -nologo >/dev/null
exec dotnet "$repo/tools/Robustness/bin/Release/net10.0/Robustness.dll" fuzz --images "$repo/test_images" --cases 100000 "$@"
