#!/usr/bin/env bash
# make test: every test (unit and integration) against the local Redis and ClickHouse, then the
# lint and type checks. CATALYST_KEEP_SERVICES=1 leaves the servers running afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/services.sh env)"
if [ "${CATALYST_KEEP_SERVICES:-0}" != 1 ]; then trap 'scripts/services.sh down' EXIT; fi
npx tsc -p tsconfig.json --noEmit
npx eslint src test bench
npx vitest run
