#!/usr/bin/env bash
# make start: the appliance in the foreground, in sandbox mode unless CATALYST_CONFIG names a
# config. Ctrl-C (SIGINT) or SIGTERM shuts it down gracefully, then the local servers stop.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/services.sh env)"
stop_services() { scripts/services.sh down || true; }
trap stop_services EXIT
node dist/main.js &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' INT TERM
wait $pid || true
wait $pid 2>/dev/null || true
