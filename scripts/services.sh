#!/usr/bin/env bash
# Local Redis and ClickHouse for `make start` and `make test`: installed from Debian's packages
# when missing, started on loopback with their data under ./var, stopped cleanly.
#   scripts/services.sh up     install if needed, start, wait until both answer
#   scripts/services.sh down   stop both (SHUTDOWN for Redis so the AOF is fsynced)
#   scripts/services.sh env    print the REDIS_URL / CLICKHOUSE_URL exports for the local servers
# REDIS_URL or CLICKHOUSE_URL set in the environment means "use that server": the local one is skipped.
# Prosody (XMPP) is started too unless CATALYST_XMPP=0 or XMPP_SERVICE names a server of your own:
# users on host `localhost` (c2s on CATALYST_LOCAL_PROSODY_C2S_PORT, 5222), Catalyst's component
# `sms.localhost` (CATALYST_LOCAL_PROSODY_COMPONENT_PORT, 5347, secret CATALYST_XMPP_SECRET), rooms on
# `conference.localhost`, and a demo user demo@localhost (password "demo"), all under var/prosody.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
var="$root/var"
redis_port=${CATALYST_LOCAL_REDIS_PORT:-6390}
ch_http_port=${CATALYST_LOCAL_CLICKHOUSE_PORT:-8124}
ch_tcp_port=${CATALYST_LOCAL_CLICKHOUSE_TCP_PORT:-9010}
prosody_c2s_port=${CATALYST_LOCAL_PROSODY_C2S_PORT:-5222}
prosody_component_port=${CATALYST_LOCAL_PROSODY_COMPONENT_PORT:-5347}
xmpp_secret=${CATALYST_XMPP_SECRET:-sandbox-component-secret}
xmpp_wanted() { [ "${CATALYST_XMPP:-1}" != 0 ] && [ -z "${XMPP_SERVICE:-}" ]; }

log() { printf '[services] %s\n' "$*" >&2; }

apt_updated=0
need_pkg() { # need_pkg <command> <debian package>
  command -v "$1" >/dev/null 2>&1 && return 0
  [ -x "/usr/sbin/$1" ] && return 0
  if [ "$(id -u)" != 0 ]; then log "$1 is missing and only root can install $2"; exit 1; fi
  if [ $apt_updated = 0 ]; then log "apt-get update"; apt-get update -qq; apt_updated=1; fi
  log "installing $2 from Debian's packages"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}

redis_up() {
  need_pkg redis-server redis-server
  mkdir -p "$var/redis"
  if redis-cli -p "$redis_port" ping >/dev/null 2>&1; then return 0; fi
  log "starting redis-server on 127.0.0.1:$redis_port (AOF on, data in var/redis)"
  # appendfsync everysec: an acknowledged message is in the AOF within a second even if Redis dies;
  # a killed appliance process loses nothing because the write reached Redis before the ack left.
  # A rewrite forks Redis and rewrites the dataset: under load the default 64 MB floor made one
  # every few seconds (docs/scaling.md), so the floor is 512 MB.
  # hash-max-listpack-value 1024: a message hash (its payload JSON and event row base are longer
  # than the default 64 bytes) stays one listpack instead of a hash table: 728 bytes a message
  # instead of 1,001, and 5-15% less Redis CPU over its life (bench:redis-scripts).
  # rdbcompression no: a rewrite's RDB preamble uncompressed. The rewrite's child spends a quarter
  # to two fifths less CPU (lzf was ~40% of it), on a core the appliance and Redis share, for a
  # base file 30-70% larger (bench:aof-rewrite); a larger base also makes rewrites rarer, since
  # the next one is due when the AOF has grown by the base's size.
  # maxmemory half the machine's memory (noeviction, Redis's default policy): past it Redis
  # refuses writes instead of being killed, and the appliance refuses new messages before that,
  # at 90% of it (router.redisMemoryLimitMb, router/store-headroom.ts).
  local maxmemory=$(( $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 1024 / 2 ))
  redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$var/redis" \
    --maxmemory "$maxmemory" \
    --appendonly yes --appendfsync everysec --auto-aof-rewrite-min-size 512mb --save '' --daemonize yes \
    --hash-max-listpack-value 1024 --rdbcompression no \
    --pidfile "$var/redis/redis.pid" --logfile "$var/redis/redis.log" >/dev/null
  for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && { redis_priority; return 0; }; sleep 0.1; done
  log "redis-server did not answer; see var/redis/redis.log"; exit 1
}

# Redis's main thread ahead of its own rewrite child: scripts/redis-priority.sh says why.
redis_priority() {
  local pid
  pid=$(cat "$var/redis/redis.pid" 2>/dev/null) || return 0
  "$root/scripts/redis-priority.sh" "$pid" || true
}

clickhouse_up() {
  need_pkg clickhouse-server clickhouse-server
  local dir="$var/clickhouse"
  mkdir -p "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/log"
  if curl -sf "http://127.0.0.1:$ch_http_port/ping" >/dev/null 2>&1; then return 0; fi
  cat > "$dir/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$dir/log/server.log</log><errorlog>$dir/log/error.log</errorlog><size>100M</size><count>2</count></logger>
  <http_port>$ch_http_port</http_port>
  <tcp_port>$ch_tcp_port</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <max_connections>1024</max_connections>
  <keep_alive_timeout>10</keep_alive_timeout>
  <max_concurrent_queries>100</max_concurrent_queries>
  <uncompressed_cache_size>1073741824</uncompressed_cache_size>
  <mark_cache_size>1073741824</mark_cache_size>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
</yandex>
XML
  cat > "$dir/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage><load_balancing>random</load_balancing></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
  log "starting clickhouse-server on 127.0.0.1:$ch_http_port (data in var/clickhouse)"
  local bin=clickhouse-server; [ -x /usr/sbin/clickhouse-server ] && bin=/usr/sbin/clickhouse-server
  # Its own session: a Ctrl-C meant for Catalyst must not kill the database under it.
  setsid nohup "$bin" --config-file="$dir/config.xml" >"$dir/log/stdout.log" 2>&1 < /dev/null &
  # Recorded here: 18.16 does not write a --pid-file of its own, and `down` needs the pid.
  echo $! > "$dir/clickhouse.pid"
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$ch_http_port/ping" >/dev/null 2>&1 && return 0; sleep 0.1; done
  log "clickhouse-server did not answer; see var/clickhouse/log/"; exit 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

prosody_up() {
  if ! command -v prosody >/dev/null 2>&1; then
    need_pkg prosody prosody
    # The package starts a system-wide Prosody where it can (systemd): ours runs under ./var instead.
    if command -v systemctl >/dev/null 2>&1; then systemctl disable --now prosody >/dev/null 2>&1 || true; fi
    service prosody stop >/dev/null 2>&1 || true
  fi
  local dir="$var/prosody"
  mkdir -p "$dir/data" "$dir/certs"
  local pid=""; [ -f "$dir/prosody.run.pid" ] && pid=$(cat "$dir/prosody.run.pid")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && port_open "$prosody_component_port" && port_open "$prosody_c2s_port"; then return 0; fi
  for p in "$prosody_c2s_port" "$prosody_component_port"; do
    if port_open "$p"; then
      log "port $p is taken by another server; set CATALYST_LOCAL_PROSODY_C2S_PORT / CATALYST_LOCAL_PROSODY_COMPONENT_PORT, or XMPP_SERVICE to use that server"
      exit 1
    fi
  done
  # Plain-text c2s on loopback only: the sandbox's clients and the tests log in without TLS.
  cat > "$dir/prosody.cfg.lua" <<LUA
-- Written by scripts/services.sh: a sandbox Prosody on loopback. Not for production.
pidfile = "$dir/prosody.pid"
data_path = "$dir/data"
certificates = "$dir/certs"
run_as_root = true
log = { info = "$dir/prosody.log"; error = "$dir/prosody.err" }
interfaces = { "127.0.0.1" }
c2s_ports = { $prosody_c2s_port }
c2s_direct_tls_ports = {}
component_ports = { $prosody_component_port }
component_interfaces = { "127.0.0.1" }
s2s_ports = {}
http_ports = {}
https_ports = {}
modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "posix"; "carbons"; "offline" }
modules_disabled = { "s2s"; "tls" }
authentication = "internal_plain"
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
limits = { c2s = { rate = "10mb/s" }; component = { rate = "100mb/s" } }
VirtualHost "localhost"
Component "sms.localhost"
  component_secret = "$xmpp_secret"
Component "conference.localhost" "muc"
  restrict_room_creation = false
LUA
  # The demo user (internal_plain keeps one Lua file per account).
  mkdir -p "$dir/data/localhost/accounts"
  printf 'return {\n\t["password"] = "demo";\n};\n' > "$dir/data/localhost/accounts/demo.dat"
  log "starting prosody (c2s 127.0.0.1:$prosody_c2s_port, component 127.0.0.1:$prosody_component_port, data in var/prosody)"
  setsid nohup prosody --config "$dir/prosody.cfg.lua" -F >"$dir/stdout.log" 2>&1 < /dev/null &
  echo $! > "$dir/prosody.run.pid"
  for _ in $(seq 1 100); do
    port_open "$prosody_component_port" && port_open "$prosody_c2s_port" && return 0
    sleep 0.1
  done
  log "prosody did not answer; see var/prosody/"; exit 1
}

prosody_down() {
  local pidf="$var/prosody/prosody.run.pid"
  [ -f "$pidf" ] || return 0
  local pid; pid=$(cat "$pidf")
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping prosody"; kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$pidf"
}

down() {
  if [ -z "${REDIS_URL:-}" ] && redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
    log "stopping redis-server"; redis-cli -p "$redis_port" shutdown >/dev/null 2>&1 || true
  fi
  local pidf="$var/clickhouse/clickhouse.pid"
  if [ -z "${CLICKHOUSE_URL:-}" ] && [ -f "$pidf" ]; then
    local pid; pid=$(cat "$pidf")
    if kill -0 "$pid" 2>/dev/null; then
      log "stopping clickhouse-server"; kill -TERM "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  fi
  xmpp_wanted && prosody_down
  return 0
}

command -v curl >/dev/null 2>&1 || need_pkg curl curl

case "${1:-up}" in
  up)
    [ -n "${REDIS_URL:-}" ] && log "REDIS_URL is set: using $REDIS_URL" || redis_up
    [ -n "${CLICKHOUSE_URL:-}" ] && log "CLICKHOUSE_URL is set: using $CLICKHOUSE_URL" || clickhouse_up
    if xmpp_wanted; then prosody_up; elif [ -n "${XMPP_SERVICE:-}" ]; then log "XMPP_SERVICE is set: using $XMPP_SERVICE"; fi
    ;;
  down) down ;;
  prosody-restart) prosody_down; prosody_up ;;
  env)
    echo "export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:$redis_port}"
    echo "export CLICKHOUSE_URL=${CLICKHOUSE_URL:-http://127.0.0.1:$ch_http_port}"
    if xmpp_wanted; then
      echo "export XMPP_SERVICE=xmpp://127.0.0.1:$prosody_component_port"
      echo "export XMPP_C2S_SERVICE=xmpp://127.0.0.1:$prosody_c2s_port"
      echo "export CATALYST_XMPP_SECRET=$xmpp_secret"
      echo "export CATALYST_PROSODY_DATA=$var/prosody/data"
      echo "export CATALYST_PROSODY_PIDFILE=$var/prosody/prosody.run.pid"
      echo "export CATALYST_PROSODY_CONFIG=$var/prosody/prosody.cfg.lua"
    fi
    ;;
  *) echo "usage: $0 up|down|env|prosody-restart" >&2; exit 2 ;;
esac
