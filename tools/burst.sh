#!/usr/bin/env bash
# Publishes the service, starts it as a real process on a free port with its own data folder, and
# uploads 4x the queue capacity (default 500, so 2 000 uploads) at the same moment. Checks that
# every answer is 202 or 503 queue_full with Retry-After and that every 202 reaches SUCCESS; prints
# the counts, the time to drain and the service's peak memory.
#
#     tools/burst.sh [--queue 500] [--multiple 4]
exec "$(dirname "$0")/with-published-service.sh" burst "$@"
