#!/usr/bin/env bash
# Publishes the service, starts it as a real process on a free port with its own data folder,
# uploads a few hundred images, kills it with SIGKILL when half are accepted, restarts it on the
# same folder, and repeats. Then checks that every upload that got a 202 is SUCCESS or FAILED
# (zero lost, none pending) and that every thumbnail served is whole.
#
#     tools/kill9.sh [--uploads 300] [--rounds 3]
exec "$(dirname "$0")/with-published-service.sh" kill9 "$@"
