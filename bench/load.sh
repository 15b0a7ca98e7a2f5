#!/usr/bin/env bash
# Service load benchmark: publish the service (Release), start it as a real process on a free
# port with an empty data folder, measure start-up to the first 202, then run the load tool.
#
#   bench/load.sh FILE [-n 50] [-c 4] [more load options, e.g. --rss-every 1000 --fields width=200 --identical]
#   ENV: PUBLISH_DIR (default /tmp/thumbnailapi-bench/publish), SERVICE_ENV="K=V K=V" extra environment
#
# Prints: start-up to first 202, uploads/s, wall from first upload to last finished task,
# p50/p95/p99 upload→finished latency, outcomes, tasks not finished, service peak RSS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
file=${1:?usage: bench/load.sh FILE [load options]}
shift

work=${WORK_DIR:-/tmp/thumbnailapi-bench}
publish=${PUBLISH_DIR:-$work/publish}
mkdir -p "$work"
if [ -z "${SKIP_PUBLISH:-}" ]; then
  dotnet publish "$root/ThumbnailApi.csproj" -c Release -o "$publish" -v quiet -nologo >/dev/null
  dotnet build "$here/ThumbnailApi.Bench" -c Release -v quiet -nologo >/dev/null
fi
bench="$here/ThumbnailApi.Bench/bin/Release/net10.0/ThumbnailApi.Bench.dll"

data=$(mktemp -d "$work/data.XXXXXX")
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"

started_ms=$(date +%s%3N)
# shellcheck disable=SC2086
# One load client is one "client": its uploads are not rate-limited (SERVICE_ENV can turn the limit back on).
env ThumbnailApi__UploadsPerMinutePerClient=0 ${SERVICE_ENV:-} ThumbnailApi__DataPath="$data" ASPNETCORE_URLS="$url" Logging__LogLevel__Default=${LOG_LEVEL:-Warning} \
  dotnet "$publish/ThumbnailApi.dll" >"$work/service.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT

# Start-up: time from launching the process to the first 202 for a small image.
until code=$(curl -s -o /dev/null -w '%{http_code}' -F "image=@$root/test_images/photo.jpg" "$url/api/v1/thumbnail_generator/") && [ "$code" = 202 ]; do
  kill -0 $pid 2>/dev/null || { echo "service died:"; cat "$work/service.log"; exit 1; }
  sleep 0.02
done
echo "start-up to first 202   $(( $(date +%s%3N) - started_ms )) ms (process launch → 202, warm disk)"

dotnet "$bench" load --url "$url" --file "$file" --pid "$pid" "$@"
