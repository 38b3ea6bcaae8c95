/**
 * What an AOF rewrite costs Redis, with its RDB preamble compressed (Redis's default,
 * `rdbcompression yes`) and not: a Redis of its own (the flags scripts/services.sh gives the
 * development Redis, on a free port, data in var/aof-rewrite/) is filled with BENCH_MESSAGES
 * messages admitted through admit.lua (their hashes, queue entries and event rows, as a gateway
 * holds them while ClickHouse's writer and the upstream lag), then rewritten BENCH_REPEATS times
 * each way, alternating. A rewrite forks Redis and the child writes the whole dataset; under load
 * it takes one of this machine's two cores for seconds (docs/scaling.md), so its CPU is CPU the
 * appliance and Redis do not get. The child's CPU is Redis's own count (INFO cpu, *_children).
 *
 *   npm run bench:aof-rewrite
 *   BENCH_MESSAGES=500000 BENCH_REPEATS=3 npm run bench:aof-rewrite
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { admitItems, benchStore } from './lib/admit-items.js';
import { childCpuSeconds, freePort, waitPort } from './lib/harness.js';
import { environment, writeResult } from './lib/report.js';

const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 300_000);
const REPEATS = Number(process.env['BENCH_REPEATS'] ?? 3);
const BATCH = 1000;
const DIR = resolve('var/aof-rewrite');

type Compression = 'yes' | 'no';

interface Rewrite {
  readonly rdbcompression: Compression;
  readonly childCpuSeconds: number;
  readonly seconds: number;
  readonly baseMiB: number;
}

function startRedis(port: number): ChildProcess {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  // As scripts/services.sh starts the development Redis, but for rdbcompression, which each rewrite sets.
  return spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--dir', DIR, '--appendonly', 'yes', '--appendfsync', 'everysec',
      '--auto-aof-rewrite-min-size', '64gb', '--save', '', '--hash-max-listpack-value', '1024', '--logfile', join(DIR, 'redis.log')],
    { stdio: 'ignore' },
  );
}

/** A field of an INFO section's text, as a number. */
function field(info: string, name: string): number {
  return Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
}

async function childCpu(redis: Redis): Promise<number> {
  return childCpuSeconds(await redis.info('cpu')) ?? NaN;
}

/** The AOF's base file (the rewrite's output), MiB. */
function baseMiB(): number {
  const dir = join(DIR, 'appendonlydir');
  const base = readdirSync(dir).find((f) => f.endsWith('.base.rdb'));
  return base ? Math.round((statSync(join(dir, base)).size / 1048576) * 10) / 10 : NaN;
}

async function rewrite(redis: Redis, rdbcompression: Compression): Promise<Rewrite> {
  await redis.config('SET', 'rdbcompression', rdbcompression);
  const cpu0 = await childCpu(redis);
  const t0 = performance.now();
  await redis.bgrewriteaof();
  // The child's CPU is counted once Redis has reaped it, which is when the rewrite is no longer in progress.
  for (;;) {
    const persistence = await redis.info('persistence');
    if (field(persistence, 'aof_rewrite_in_progress') !== 1 && field(persistence, 'aof_rewrite_scheduled') !== 1) break;
    await sleep(50);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { rdbcompression, childCpuSeconds: Math.round(((await childCpu(redis)) - cpu0) * 1000) / 1000, seconds: Math.round(seconds * 100) / 100, baseMiB: baseMiB() };
}

async function main(): Promise<void> {
  const port = await freePort();
  const server = startRedis(port);
  await waitPort(port, 10_000);
  const redis = new Redis({ port, host: '127.0.0.1' });
  try {
    const store = benchStore(redis, 'aofrw:');
    await store.seedBalance('a', 1e15);
    for (let n = 0; n < MESSAGES; n += BATCH) await store.admit(admitItems(Math.min(BATCH, MESSAGES - n)));
    const usedMiB = Math.round(field(await redis.info('memory'), 'used_memory') / 1048576);
    const runs: Rewrite[] = [];
    for (let r = 0; r < REPEATS; r++) for (const c of ['yes', 'no'] as const) runs.push(await rewrite(redis, c));
    const median = (c: Compression, k: 'childCpuSeconds' | 'seconds' | 'baseMiB'): number => {
      const xs = runs.filter((x) => x.rdbcompression === c).map((x) => x[k]).sort((a, b) => a - b);
      return xs[Math.floor(xs.length / 2)] ?? NaN;
    };
    const summary = Object.fromEntries((['yes', 'no'] as const).map((c) => [c, { childCpuSeconds: median(c, 'childCpuSeconds'), seconds: median(c, 'seconds'), baseMiB: median(c, 'baseMiB') }]));
    const command = `BENCH_MESSAGES=${MESSAGES} BENCH_REPEATS=${REPEATS} npm run bench:aof-rewrite`;
    const result = { bench: 'aof-rewrite', ...environment(), messages: MESSAGES, redisUsedMemoryMiB: usedMiB, runs, medians: summary, command };
    const path = writeResult('aof-rewrite', result);
    console.log(JSON.stringify(result, null, 2));
    const { yes, no } = summary as Record<Compression, { childCpuSeconds: number; seconds: number; baseMiB: number }>;
    const less = Math.round((1 - no.childCpuSeconds / yes.childCpuSeconds) * 100);
    console.log(
      `aof-rewrite: ${MESSAGES} admitted messages (${usedMiB} MiB in Redis), medians of ${REPEATS}: rdbcompression yes ${yes.childCpuSeconds} s of child CPU (${yes.seconds} s, base ${yes.baseMiB} MiB), ` +
        `no ${no.childCpuSeconds} s (${no.seconds} s, base ${no.baseMiB} MiB): ${less}% less CPU a rewrite → ${path}`,
    );
    console.log(command);
  } finally {
    await redis.shutdown('NOSAVE').catch(() => undefined);
    redis.disconnect();
    server.kill('SIGTERM');
    rmSync(DIR, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
