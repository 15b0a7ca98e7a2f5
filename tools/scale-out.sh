#!/usr/bin/env bash
# Publishes the service (Release) and measures it scaled out on this machine: a throwaway PostgreSQL
# server (Debian's, /usr/lib/postgresql/*/bin, run as the postgres user when root, loopback only,
# stopped by its PID), published instances on it, and nginx with the committed nginx.conf
# (apt-get install postgresql nginx). Prints, with the CPU model and date: idle pick-up latency and
# long-poll wake-up latency across instances (p50/p99), time from SIGKILL to a dead instance's tasks
# finishing elsewhere (with --lease and --short-lease), CPU per task in PostgreSQL vs SQLite mode, and
# the counts of the chaos run (ChaosTests' scenario with bigger numbers). About 8 minutes; --quick 2.
# --sections latency,kill,cpu,chaos runs only those.
#
#     tools/scale-out.sh [--instances 3] [--uploads 1000] [--concurrency 16] [--lease 15] [--short-lease 4]
#                        [--samples 50] [--rounds 3] [--cpu-uploads 300] [--cpu-rounds 3] [--sections …] [--quick]
exec "$(dirname "$0")/with-published-service.sh" scale-out "$@"
