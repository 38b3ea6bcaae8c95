/**
 * Event writer throughput: how fast rows appended to the Redis stream land in ClickHouse.
 *   eval "$(scripts/services.sh env)"; node --import tsx bench/clickhouse-writer.ts [rows=200000] [batchRows=5000]
 * Uses a scratch database and stream key, both removed at the end. Prints git SHA, Node and CPU
 * beside the figures so runs on different machines and commits can be compared.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { EventRow } from '../src/core/events.js';
import { createClickHouse, EventWriter, migrate, STORE_METRICS } from '../src/store/clickhouse/index.js';

const rows = Number(process.argv[2] ?? 200_000);
const batchRows = Number(process.argv[3] ?? 5000);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6390';
const clickhouseUrl = process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8124';

const run = randomBytes(4).toString('hex');
const database = `catalyst_bench_${run}`;
const streamKey = `bench:${run}:ev`;

function sha(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function event(i: number, now: number): EventRow {
  const id = `M${String(i).padStart(10, '0')}`;
  return {
    event_id: `${id}:1`,
    message_id: id,
    account_id: `acc${i % 50}`,
    channel: 'sms',
    direction: 'mt',
    source: 'Catalyst',
    destination: `+4179${String(i % 10_000_000).padStart(7, '0')}`,
    status: 'delivered',
    error_code: '',
    upstream_id: 'smsc1',
    upstream_message_id: `u${i}`,
    parts: 1 + (i % 3),
    price_micros: 7500,
    currency: 'EUR',
    cost_center: 'cc1',
    ingress: 'smpp',
    event_time: now + i,
    created_at: now,
  };
}

const redis = new Redis(redisUrl);
const ch = createClickHouse(clickhouseUrl);
const registry = new Registry();
await migrate(ch, database);
const writer = new EventWriter({ redis, clickhouse: ch, database, streamKey, consumer: `bench-${process.pid}`, batchRows, logger: pino({ level: 'warn' }), metrics: { registry } });
await writer.start();

const t0 = performance.now();
const now = Date.now();
for (let from = 0; from < rows; from += 10_000) {
  const p = redis.pipeline();
  for (let i = from; i < Math.min(rows, from + 10_000); i++) p.xadd(streamKey, '*', 'e', JSON.stringify(event(i, now)));
  await p.exec();
}
const appended = performance.now() - t0;

for (;;) {
  const rs = await ch.query({ query: `SELECT uniqExact(event_id) AS n FROM ${database}.message_events`, format: 'JSONEachRow' });
  const [r] = await rs.json<{ n: string | number }>();
  if (Number(r?.n ?? 0) >= rows) break;
  await new Promise((res) => setTimeout(res, 20));
}
const landed = performance.now() - t0;

const hist = (await registry.getSingleMetric(STORE_METRICS.insertSeconds)?.get())?.values ?? [];
const okValue = (suffix: string): number =>
  hist.find((v) => 'metricName' in v && v.metricName === `${STORE_METRICS.insertSeconds}_${suffix}` && v.labels.result === 'ok')?.value ?? 0;
const count = okValue('count');
const sum = okValue('sum');

await writer.close();
await ch.command({ query: `DROP DATABASE IF EXISTS ${database}` });
await redis.del(streamKey);
await redis.quit();
await ch.close();

console.log(`git ${sha()}  node ${process.version}  cpu ${cpus()[0]?.model ?? '?'} x${cpus().length}`);
console.log(`rows ${rows}  batchRows ${batchRows}`);
console.log(`appended in ${appended.toFixed(0)} ms; all in ClickHouse after ${landed.toFixed(0)} ms (${((rows / landed) * 1000).toFixed(0)} rows/s)`);
console.log(`inserts ${count}, mean ${count > 0 ? ((sum / count) * 1000).toFixed(1) : '-'} ms each`);
