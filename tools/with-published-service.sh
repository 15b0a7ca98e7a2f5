#!/usr/bin/env bash
# Publishes the service (Release) into a temporary folder, builds tools/Robustness, and runs one of
# its commands against the published ThumbnailApi.dll:
#
#     tools/with-published-service.sh burst|kill9|diskfull|resources [--name value ...]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
command="$1"
shift
publish="$(mktemp -d)"
trap 'rm -rf "$publish"' EXIT
dotnet publish "$repo/ThumbnailApi.csproj" -c Release -o "$publish" -v quiet -nologo >/dev/null
dotnet build "$repo/tools/Robustness" -c Release -v quiet -nologo >/dev/null
dotnet "$repo/tools/Robustness/bin/Release/net10.0/Robustness.dll" "$command" \
    --service "$publish/ThumbnailApi.dll" --images "$repo/test_images" "$@"
