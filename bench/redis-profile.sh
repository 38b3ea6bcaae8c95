#!/usr/bin/env bash
# Where Redis's own CPU goes under one of the benches: a Redis of the installed version, built from
# its source with symbols (Debian's binary is stripped, and Lua's internals are static functions
# in it), runs with the flags scripts/services.sh gives the development Redis, on a port of its own;
# the bench runs against it while `perf record` samples it; the samples are summed by what Redis
# was doing (scripts, the commands they ran, Lua's strings and garbage collector, the AOF, ...).
#
#   npm run bench:redis-profile                        e2e at 8,000/s for 25 s, sampled 15 s from the 8th
#   BENCH_PROFILE_OF=bench:smpp-ingress BENCH_SECONDS=15 npm run bench:redis-profile
#   BENCH_PROFILE_DELAY=8 BENCH_PROFILE_SECONDS=15     when the sampling starts and how long it lasts
#
# Needs perf (Debian: linux-perf) and a C compiler (build-essential); installs them when missing, as
# scripts/services.sh installs Redis. The build is kept in var/redis-profile/. Prints a summary line
# and writes bench/results/redis-profile-<time>.json; `perf report -i <its perf.data>` shows the rest.
set -euo pipefail
cd "$(dirname "$0")/.."

of=${BENCH_PROFILE_OF:-bench:e2e}
delay=${BENCH_PROFILE_DELAY:-8}
secs=${BENCH_PROFILE_SECONDS:-15}
port=${BENCH_PROFILE_PORT:-6396}
export BENCH_RATE=${BENCH_RATE:-8000} BENCH_SECONDS=${BENCH_SECONDS:-25}
# bench:e2e without its warm-up, so the sampling window (from the delay on) is at the full rate.
export BENCH_WARMUP_SECONDS=${BENCH_WARMUP_SECONDS:-0}

need() { # command, Debian package
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "redis-profile: installing $2" >&2
  apt-get install -y -qq "$2" >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq "$2" >/dev/null; }
}
need perf linux-perf
need cc build-essential
need redis-server redis-server

version=$(redis-server --version | sed -E 's/.* v=([0-9.]+) .*/\1/')
root=$PWD/var/redis-profile
src=$root/redis-$version
if [ ! -x "$src/src/redis-server" ]; then
  mkdir -p "$root"
  echo "redis-profile: building Redis $version with symbols in $src (a minute or two)" >&2
  curl -fsSL "http://deb.debian.org/debian/pool/main/r/redis/redis_$version.orig.tar.gz" | tar xz -C "$root"
  make -C "$src" -j"$(nproc)" CFLAGS=-fno-omit-frame-pointer BUILD_TLS=no >"$root/build.log" 2>&1 ||
    { echo "redis-profile: the build failed; see $root/build.log" >&2; exit 1; }
fi

data=$root/data
rm -rf "$data" && mkdir -p "$data"
"$src/src/redis-server" --bind 127.0.0.1 --port "$port" --dir "$data" --maxmemory 4gb \
  --appendonly yes --appendfsync everysec --auto-aof-rewrite-min-size 512mb --save '' --daemonize yes \
  --hash-max-listpack-value 1024 --rdbcompression no --pidfile "$data/redis.pid" --logfile "$data/redis.log"
stop() { redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; }
trap stop EXIT
for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
pid=$(cat "$data/redis.pid")
# Its main thread ahead of its rewrite child, as scripts/services.sh starts the development Redis.
scripts/redis-priority.sh "$pid"

perfdata=$root/perf.data
hz=999
# Messages a second during the sampling, when the bench offers a fixed rate; else per message is not printed.
rate=0
[ "$of" = bench:e2e ] && rate=$BENCH_RATE
( sleep "$delay"; exec perf record -F "$hz" -g -p "$pid" -o "$perfdata" -- sleep "$secs" ) >"$root/perf.log" 2>&1 &
sampler=$!
REDIS_URL=redis://127.0.0.1:$port npm run -s "$of" | tail -n 1
wait "$sampler" || { echo "redis-profile: perf record failed; see $root/perf.log" >&2; exit 1; }

# Each sample counted in every part its stack is in (a stack holds a part's function somewhere;
# "self" parts only where it is the leaf): shares of all of Redis's samples.
perf script -i "$perfdata" 2>/dev/null |
  awk '
  function part(name, yes) { if (yes) hit[name]++ }
  function flush() {
    if (nf == 0) return
    total++
    s = stack
    part("scripts (FCALL or EVALSHA, all of it)", s ~ / (evalGenericCommand|fcallCommandGeneric|fcallCommand) /)
    part("  the commands scripts ran", s ~ / scriptCall /)
    part("  arguments into those commands", s ~ / luaArgsToRedisArgv /)
    part("  their replies into Lua", s ~ / redisProtocolToLuaType_Array /)
    part("  ARGV into Lua", s ~ / luaCreateArray /)
    part("  Lua interning strings (hashing every byte)", leaf == "luaS_newlstr")
    part("  Lua garbage collector", s ~ / luaC_step /)
    part("  number formatting (printf)", s ~ / __vfprintf_internal / || s ~ / __printf_fp/)
    part("commands sent directly", s ~ / processCommand / && s !~ / (evalGenericCommand|fcallCommandGeneric|fcallCommand) / && s !~ / propagatePendingCommands / && s !~ / redisOpArrayFree /)
    part("key lookups (all commands)", s ~ / lookupKey /)
    part("  of which TTL checks", s ~ / expireIfNeeded /)
    part("AOF, formatting and freeing what was written", s ~ / propagatePendingCommands / || s ~ / redisOpArrayFree /)
    part("AOF, writing", s ~ / beforeSleep / && s !~ / handleClientsWithPendingWrites / && (s ~ / (__GI___)?__libc_write / || s ~ / ksys_write /))
    part("replies to clients", s ~ / handleClientsWithPendingWrites / || s ~ / writeToClient /)
    part("reading requests", s ~ / readQueryFromClient / && s !~ / processCommand /)
    part("timers (serverCron)", s ~ / serverCron / && s !~ / rewriteAppendOnlyFileBackground /)
    # perf follows the child an AOF rewrite forks (from serverCron), which runs on the other core.
    part("AOF rewrite (its forked child)", s ~ / rewriteAppendOnlyFileBackground /)
    stack = " "; nf = 0; leaf = ""
  }
  BEGIN { stack = " "; n = split("scripts (FCALL or EVALSHA, all of it)|  the commands scripts ran|  arguments into those commands|  their replies into Lua|  ARGV into Lua|  Lua interning strings (hashing every byte)|  Lua garbage collector|  number formatting (printf)|commands sent directly|key lookups (all commands)|  of which TTL checks|AOF, formatting and freeing what was written|AOF, writing|replies to clients|reading requests|timers (serverCron)|AOF rewrite (its forked child)", order, "|") }
  /^[ \t]*$/ { flush(); next }
  /^[^ \t]/ { next }
  { sym = $2; sub(/\+0x[0-9a-f]+$/, "", sym); if (nf == 0) leaf = sym; stack = stack sym " "; nf++ }
  END {
    flush()
    # At a fixed offered rate (bench:e2e), the CPU of each part per message: samples / Hz / messages.
    msgs = rate * secs
    printf "Redis CPU sampled: %.2f s in %d s", total / hz, secs
    if (msgs > 0) printf ", %.1f µs a message at %d/s", 1e6 * total / hz / msgs, rate
    printf "\n"
    for (i = 1; i <= n; i++) {
      if (msgs > 0) printf "%6.1f%% %6.1f µs  %s\n", (total ? 100 * hit[order[i]] / total : 0), 1e6 * hit[order[i]] / hz / msgs, order[i]
      else printf "%6.1f%%  %s\n", (total ? 100 * hit[order[i]] / total : 0), order[i]
    }
  }
  ' hz="$hz" secs="$secs" rate="$rate" >"$root/parts.txt"
cat "$root/parts.txt"

stamp=$(date -u +%Y-%m-%dT%H-%M-%SZ)
mkdir -p bench/results
out=bench/results/redis-profile-$stamp.json
command="BENCH_PROFILE_OF=$of BENCH_RATE=$BENCH_RATE BENCH_SECONDS=$BENCH_SECONDS BENCH_PROFILE_DELAY=$delay BENCH_PROFILE_SECONDS=$secs npm run bench:redis-profile"
node -e '
  const fs = require("node:fs");
  const [file, out, version, of, sha, command, perfData] = process.argv.slice(1);
  const [head, ...lines] = fs.readFileSync(file, "utf8").trim().split("\n");
  const parts = lines.map((l) => {
    const m = /^\s*([\d.]+)%\s+(?:([\d.]+) µs\s+)?(.*)$/.exec(l);
    return { part: m[3].trim(), percentOfRedisSamples: Number(m[1]), microsPerMessage: m[2] === undefined ? undefined : Number(m[2]) };
  });
  fs.writeFileSync(out, JSON.stringify({ bench: "redis-profile", of, redisVersion: version, sha, sampled: head, parts, perfData, command }, null, 2) + "\n");
' "$root/parts.txt" "$out" "$version" "$of" "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo +dirty)" "$command" "$perfdata"
echo "redis-profile: $of against Redis $version: $(head -n 1 "$root/parts.txt"); scripts $(sed -n 2p "$root/parts.txt" | awk '{ print $1 }') of it; the parts above → $out"
echo "$command"
