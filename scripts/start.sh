#!/usr/bin/env bash
# make start: the appliance in the foreground, in sandbox mode unless CATALYST_CONFIG names a
# config. Ctrl-C (SIGINT) or SIGTERM shuts it down gracefully, then the local servers stop.
set -euo pipefail
cd "$(dirname "$0")/.."
# `down` leaves alone a server the user pointed us at: tell it what the user set, not what `env` adds.
user_redis=${REDIS_URL:-}
user_clickhouse=${CLICKHOUSE_URL:-}
user_xmpp=${XMPP_SERVICE:-}
eval "$(scripts/services.sh env)"
stop_services() { REDIS_URL=$user_redis CLICKHOUSE_URL=$user_clickhouse XMPP_SERVICE=$user_xmpp scripts/services.sh down || true; }
trap stop_services EXIT
# shellcheck disable=SC2046 # one option a word
node $(grep -v '^#' scripts/node-args) dist/main.js &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' INT TERM
# A signal interrupts `wait`, and Ctrl-C under make sends several (make, this script and node
# each get one): wait until the appliance has really exited, so the servers stop after it has
# finished shutting down, never under it.
while kill -0 "$pid" 2>/dev/null; do wait "$pid" || true; done
