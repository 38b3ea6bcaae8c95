#!/usr/bin/env bash
# Redis's main thread ahead of its own rewrite child (scripts/services.sh and bench/redis-profile.sh
# run it on the Redis they start):   scripts/redis-priority.sh <redis-server pid>
#
# An AOF rewrite forks Redis, and the child spends a second or more of CPU writing the dataset out.
# Linux shares the CPU out by session (autogroup) before it does by process, so the child and the
# main thread split Redis's share between them, and under load the main thread fell behind the
# appliance for the rewrite's length: bench:e2e at 16,000/s had a p99 of 1.8 s in those seconds
# (docs/scaling.md). The main thread runs at nice CATALYST_LOCAL_REDIS_NICE (-10; 0 leaves Redis
# alone) with SCHED_RESET_ON_FORK, so the children it forks start at nice 0: a rewrite takes what
# the main thread leaves, and takes longer. Redis's other threads (fsync, lazy free) keep nice 0.
# Needs root (CAP_SYS_NICE); without it Redis runs as it was started, and this says so.
set -euo pipefail
pid=${1:?usage: scripts/redis-priority.sh <redis-server pid>}
nice=${CATALYST_LOCAL_REDIS_NICE:--10}
[ "$nice" = 0 ] && exit 0
# The flag first: a main thread reniced without it would hand its nice to the child.
if chrt --reset-on-fork --other -p 0 "$pid" >/dev/null 2>&1 && renice -n "$nice" -p "$pid" >/dev/null 2>&1; then
  printf '[services] redis-server main thread at nice %s, its rewrite child at 0\n' "$nice" >&2
else
  printf '[services] redis-server left at its own priority (chrt or renice refused: not root, or CATALYST_LOCAL_REDIS_NICE not a number?)\n' >&2
fi
