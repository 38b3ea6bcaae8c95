#!/usr/bin/env bash
# make test: every test (unit and integration) against the local Redis, ClickHouse and Prosody, then the
# lint and type checks. CATALYST_KEEP_SERVICES=1 leaves the servers running afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
# `down` leaves alone a server the user pointed us at: tell it what the user set, not what `env` adds.
user_redis=${REDIS_URL:-}
user_clickhouse=${CLICKHOUSE_URL:-}
user_xmpp=${XMPP_SERVICE:-}
eval "$(scripts/services.sh env)"
if [ "${CATALYST_KEEP_SERVICES:-0}" != 1 ]; then
  trap 'REDIS_URL=$user_redis CLICKHOUSE_URL=$user_clickhouse XMPP_SERVICE=$user_xmpp scripts/services.sh down' EXIT
fi
npx tsc -p tsconfig.json --noEmit
npx eslint src test bench
npx vitest run
