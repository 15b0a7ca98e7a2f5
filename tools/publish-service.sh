#!/usr/bin/env bash
# Publishes the service (Release) into the folder given, for the scripts that start it as a real process.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dotnet publish "$repo/ThumbnailApi.csproj" -c Release -o "$1" -v quiet -nologo >/dev/null
dotnet build "$repo/tools/Robustness" -c Release -v quiet -nologo >/dev/null
