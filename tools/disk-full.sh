#!/usr/bin/env bash
# A real full disk (needs root, for mount): puts the service's data folder on an 8 MB tmpfs, uploads
# until it is full, then grows the tmpfs to 256 MB. Checks: only 202 or 503 answers (never 500),
# the process stays up, every 202 ends SUCCESS or FAILED, the database passes integrity_check, and
# no half-written thumbnail is left.
#
#     sudo tools/disk-full.sh [--uploads 300]
set -euo pipefail
mountpoint="$(mktemp -d)"
mount -t tmpfs -o size=8m thumbnailapi-diskfull "$mountpoint"
trap 'umount "$mountpoint"; rmdir "$mountpoint"' EXIT
"$(dirname "$0")/with-published-service.sh" diskfull \
    --data "$mountpoint/data" --grow "mount -o remount,size=256m $mountpoint" "$@"
