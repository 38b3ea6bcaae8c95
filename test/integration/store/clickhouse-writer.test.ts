import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { ClickHouseClient } from '@clickhouse/client';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventRow } from '../../../src/core/events.js';
import { appliedVersions, createClickHouse, EventWriter, migrate, MIGRATIONS, queryEvents, STORE_METRICS } from '../../../src/store/clickhouse/index.js';
import type { EventWriterOptions } from '../../../src/store/clickhouse/index.js';
import { eventRowBase, toInsertRow, toStreamRow } from '../../../src/store/clickhouse/rows.js';

// Real Redis and ClickHouse (scripts/services.sh up; `make test` sets both URLs). One random database
// and one random key prefix for this file; every test writes its own stream and its own account_id.
function env(name: string): string {
  const v = process.env[name];
  if (v === undefined || v === '') throw new Error(`${name} is not set: run eval "$(scripts/services.sh env)"`);
  return v;
}
const REDIS_URL = env('REDIS_URL');
const CLICKHOUSE_URL = env('CLICKHOUSE_URL');

const run = randomBytes(4).toString('hex');
const DB = `catalyst_test_${run}`;
const LATE_DB = `catalyst_test_${run}_late`;
const PREFIX = `test:${run}:`;
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

let redis: Redis;
let ch: ClickHouseClient;
const writers: EventWriter[] = [];
let seq = 0;

function writer(opts: Partial<EventWriterOptions> & Pick<EventWriterOptions, 'streamKey'>): { w: EventWriter; registry: Registry } {
  const registry = new Registry();
  const w = new EventWriter({ redis, clickhouse: ch, database: DB, consumer: `c${++seq}`, logger, metrics: { registry }, ...opts });
  writers.push(w);
  return { w, registry };
}

function event(account: string, i: number, over: Partial<EventRow> = {}): EventRow {
  return {
    event_id: `${account}-m${i}:1`,
    message_id: `${account}-m${i}`,
    account_id: account,
    channel: 'sms',
    direction: 'mt',
    source: 'Catalyst',
    destination: `+4179${String(i).padStart(7, '0')}`,
    status: 'accepted',
    error_code: '',
    upstream_id: 'up1',
    upstream_message_id: '',
    parts: 1,
    price_micros: 7500 + i,
    currency: 'EUR',
    cost_center: '',
    ingress: 'smpp',
    event_time: 1_700_000_000_000 + i,
    created_at: 1_700_000_000_000,
    ...over,
  };
}

async function append(key: string, values: readonly string[]): Promise<void> {
  const p = redis.pipeline();
  for (const v of values) p.xadd(key, '*', 'e', v);
  const results = await p.exec();
  for (const [err] of results ?? []) if (err) throw err;
}

async function counts(account: string, database = DB): Promise<{ rows: number; distinct: number }> {
  const rs = await ch.query({
    query: `SELECT count() AS rows, uniqExact(event_id) AS distinct FROM ${database}.message_events WHERE account_id = '${account}'`,
    format: 'JSONEachRow',
  });
  const [r] = await rs.json<{ rows: string | number; distinct: string | number }>();
  return { rows: Number(r?.rows ?? 0), distinct: Number(r?.distinct ?? 0) };
}

async function pending(key: string): Promise<number> {
  const reply = await redis.xpending(key, 'clickhouse');
  return Number(reply[0]);
}

async function metric(registry: Registry, name: string): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (m === undefined) return 0;
  return (await m.get()).values.reduce((sum, v) => sum + v.value, 0);
}

/** Polls until `ok` holds (every 20 ms), failing with the last value after `timeoutMs`. */
async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address();
  await new Promise((r) => srv.close(r));
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

let handlesBefore: string[] = [];

beforeAll(async () => {
  handlesBefore = process.getActiveResourcesInfo();
  redis = new Redis(REDIS_URL);
  ch = createClickHouse(CLICKHOUSE_URL);
  expect((await migrate(ch, DB)).applied).toEqual(MIGRATIONS.map((m) => m.version));
});

afterAll(async () => {
  await Promise.all(writers.map((w) => w.close()));
  await ch.command({ query: `DROP DATABASE IF EXISTS ${DB}` });
  await ch.command({ query: `DROP DATABASE IF EXISTS ${LATE_DB}` });
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await ch.close();
  // Nothing the writers opened (sockets, backoff timers) outlives them; a socket may take a tick to close.
  const left = await until('no leaked handles', () => Promise.resolve(leaked(handlesBefore)), (l) => l.length === 0, 2000);
  expect(left).toEqual([]);
});

/** Active handles now that were not there before (as a multiset of resource names). */
function leaked(before: readonly string[]): string[] {
  const rest = [...before];
  return process.getActiveResourcesInfo().filter((h) => {
    const i = rest.indexOf(h);
    if (i === -1) return true;
    rest.splice(i, 1);
    return false;
  });
}

describe('migrate', () => {
  it('is a no-op the second time', async () => {
    expect((await migrate(ch, DB)).applied).toEqual([]);
    const rs = await ch.query({ query: `SELECT version, count() AS n FROM ${DB}.schema_migrations GROUP BY version ORDER BY version`, format: 'JSONEachRow' });
    expect((await rs.json<{ version: number; n: string }>()).map((r) => [r.version, Number(r.n)])).toEqual(MIGRATIONS.map((m) => [m.version, 1]));
    const t = await ch.query({ query: `SELECT engine FROM system.tables WHERE database = '${DB}' AND name = 'message_events'`, format: 'JSONEachRow' });
    expect(await t.json()).toEqual([{ engine: 'ReplacingMergeTree' }]);
  });

  it('lets processes migrate a new database at once: a column another added after the check is not an error', async () => {
    const db = `${DB}_race`;
    try {
      // The race made certain: the other process's ALTER lands between this one's check of
      // system.columns (which answers "missing") and its own ALTER, which ClickHouse then refuses.
      let raced = false;
      const racing = new Proxy(ch, {
        get(target, prop, receiver) {
          if (prop === 'query') {
            return async (params: Parameters<ClickHouseClient['query']>[0]) => {
              if (!raced && params.query.includes('system.columns')) {
                raced = true;
                await target.command({ query: `ALTER TABLE ${db}.message_events ADD COLUMN campaign_id String DEFAULT '' AFTER created_at_ms` });
                return target.query({ query: 'SELECT 0 AS n', format: 'JSONEachRow' });
              }
              return target.query(params);
            };
          }
          const v: unknown = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
      expect((await migrate(racing, db)).applied).toEqual(MIGRATIONS.map((m) => m.version));
      expect(raced).toBe(true);
      // And as a cluster's workers start: four at once on a database none has migrated.
      const again = `${DB}_race4`;
      try {
        const results = await Promise.all([1, 2, 3, 4].map(() => migrate(ch, again)));
        expect(results.every((r) => r.applied.every((v) => MIGRATIONS.some((m) => m.version === v)))).toBe(true);
        expect(await appliedVersions(ch, again)).toEqual(new Set(MIGRATIONS.map((m) => m.version)));
        const cols = await ch.query({ query: `SELECT name FROM system.columns WHERE database = '${again}' AND table = 'message_events' AND name = 'campaign_id'`, format: 'JSONEachRow' });
        expect(await cols.json()).toEqual([{ name: 'campaign_id' }]);
      } finally {
        await ch.command({ query: `DROP DATABASE IF EXISTS ${again}` });
      }
    } finally {
      await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    }
  });

  it('refuses a database name that would need escaping', async () => {
    await expect(migrate(ch, 'x`; DROP DATABASE y')).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});

describe('EventWriter', () => {
  it('writes 20,000 rows exactly once and empties the stream', async () => {
    const key = `${PREFIX}bulk`;
    const { w, registry } = writer({ streamKey: key });
    await w.start();
    await append(key, Array.from({ length: 20_000 }, (_, i) => JSON.stringify(event('bulk', i))));
    const c = await until('20,000 rows', () => counts('bulk'), (v) => v.distinct >= 20_000);
    expect(c).toEqual({ rows: 20_000, distinct: 20_000 });
    await until('empty stream', () => redis.xlen(key), (n) => n === 0);
    expect(await pending(key)).toBe(0);
    expect(await metric(registry, STORE_METRICS.rows)).toBe(20_000);
    expect(await metric(registry, STORE_METRICS.insertErrors)).toBe(0);
    await w.close();
  });

  it('writes entries of many rows each, as the router scripts append them, in inserts of about batchRows', async () => {
    const key = `${PREFIX}multi`;
    const entries = Array.from({ length: 50 }, (_, e) =>
      Array.from({ length: 200 }, (_, i) => JSON.stringify(event('multi', e * 200 + i))).join('\n'),
    );
    await append(key, entries);
    const { w, registry } = writer({ streamKey: key, batchRows: 1000 });
    await w.start();
    expect(await until('10,000 rows', () => counts('multi'), (v) => v.distinct >= 10_000)).toEqual({ rows: 10_000, distinct: 10_000 });
    const inserts = (await registry.getSingleMetric(STORE_METRICS.insertSeconds)?.get())?.values.find(
      (v) => 'metricName' in v && v.metricName === `${STORE_METRICS.insertSeconds}_count`,
    )?.value;
    expect(inserts).toBeGreaterThanOrEqual(8); // ~1000 rows each, after a first probe of 16 entries
    await w.close();
  });

  it('round-trips every field through queryEvents', async () => {
    const key = `${PREFIX}roundtrip`;
    const { w } = writer({ streamKey: key, maxWaitMs: 20 });
    await w.start();
    const rows = [
      event('rt', 1, { price_micros: -1, source: "O'Brien \\ \"q\" é 😀", error_code: '0x45', parts: 4_294_967_295 }),
      event('rt', 1, { event_id: 'rt-m1:2', status: 'delivered', price_micros: 999_999_999_999_999, event_time: 1_700_000_000_999 }),
      event('rt', 1, { event_id: 'rt-m1:0', price_micros: 0, event_time: 1_600_000_000_000 }),
    ];
    await append(key, rows.map((r) => JSON.stringify(r)));
    await append(key, [JSON.stringify(rows[0])]); // a replay
    await until('rows', () => counts('rt'), (v) => v.rows >= 4);
    const got = await queryEvents(ch, DB, 'rt-m1', { accountId: 'rt' });
    expect(got).toEqual([rows[2], rows[0], rows[1]]);
    expect(await queryEvents(ch, DB, "no'such")).toEqual([]);
    // A lone surrogate would make ClickHouse refuse the whole batch; it arrives as U+FFFD instead.
    await append(key, [JSON.stringify(event('rt', 2, { destination: '+41\ud800' }))]);
    await until('surrogate row', () => counts('rt'), (v) => v.rows >= 5);
    expect((await queryEvents(ch, DB, 'rt-m2'))[0]?.destination).toBe('+41\ufffd');
    await w.close();
  });

  it('inserts rows the router wrote (TabSeparated) as they are, and parses a batch ClickHouse refuses', async () => {
    const key = `${PREFIX}shaped`;
    const rows = Array.from({ length: 300 }, (_, i) => event('shaped', i, { source: i === 7 ? "O'Brien \\ \"q\" é 😀" : 'Catalyst' }));
    // An entry of lines under `e`, and two as the scripts write them: each row's message columns a
    // field, its event columns the value (lua/common.lua add_event).
    await append(key, [rows.slice(0, 100).map((r) => toStreamRow(r)).join('\n')]);
    for (const o of [100, 200]) {
      const pairs = rows.slice(o, o + 100).flatMap((r) => {
        const base = eventRowBase(r);
        return [base, toStreamRow(r).slice(base.length)];
      });
      await redis.xadd(key, '*', ...pairs);
    }
    const { w, registry } = writer({ streamKey: key, maxWaitMs: 20 });
    await w.start();
    await until('300 rows', () => counts('shaped'), (v) => v.rows >= 300);
    expect(await queryEvents(ch, DB, 'shaped-m7')).toEqual([rows[7]]);
    // One line ClickHouse cannot take: the batch is parsed, the line dropped and counted, the rest written.
    await append(key, [[toStreamRow(event('shaped', 300)), 'not json', JSON.stringify(toInsertRow(event('shaped', 301)))].join('\n')]);
    await until('302 rows', () => counts('shaped'), (v) => v.rows >= 302);
    expect(await counts('shaped')).toEqual({ rows: 302, distinct: 302 });
    expect(await metric(registry, STORE_METRICS.malformed)).toBe(1);
    await w.close();
  });

  it('acks malformed entries once, counts them and writes the rest', async () => {
    const key = `${PREFIX}malformed`;
    await redis.xadd(key, '*', 'other', 'x');
    await append(key, [
      'not json',
      JSON.stringify({ ...event('bad', 0), parts: '1' }),
      JSON.stringify(event('bad', 1)),
      [JSON.stringify(event('bad', 2)), '{"truncated', JSON.stringify(event('bad', 3))].join('\n'),
    ]);
    const { w, registry } = writer({ streamKey: key });
    await w.start();
    await until('stream empty', () => redis.xlen(key), (n) => n === 0);
    expect(await counts('bad')).toEqual({ rows: 3, distinct: 3 });
    expect(await metric(registry, STORE_METRICS.malformed)).toBe(4);
    await w.close();
  });

  it('close() flushes rows already read without waiting out maxWaitMs', async () => {
    const key = `${PREFIX}close`;
    await append(key, Array.from({ length: 1000 }, (_, i) => JSON.stringify(event('close', i))));
    // A long linger: the batch would sit in memory for 5 s unless close() flushes it.
    const { w } = writer({ streamKey: key, maxWaitMs: 5000, batchRows: 100_000 });
    await w.start();
    await until('1000 read, none inserted', () => pending(key), (n) => n === 1000);
    expect(await counts('close')).toEqual({ rows: 0, distinct: 0 });
    const t0 = Date.now();
    await w.close();
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(await counts('close')).toEqual({ rows: 1000, distinct: 1000 });
    expect(await redis.xlen(key)).toBe(0);
    expect(await pending(key)).toBe(0);
    await w.close(); // idempotent
    expect(w.currentState).toBe('closed');
  });

  it('retries a failing insert until ClickHouse accepts it', async () => {
    const key = `${PREFIX}retry`;
    // The database does not exist yet: every insert fails until migrate creates it.
    const { w, registry } = writer({ streamKey: key, database: LATE_DB });
    await w.start();
    await append(key, Array.from({ length: 50 }, (_, i) => JSON.stringify(event('retry', i))));
    await until('two failed attempts', () => metric(registry, STORE_METRICS.insertErrors), (n) => n >= 2);
    expect(await pending(key)).toBe(50); // read, not acked
    await migrate(ch, LATE_DB);
    expect(await until('rows after recovery', () => counts('retry', LATE_DB), (v) => v.rows >= 50)).toEqual({ rows: 50, distinct: 50 });
    await until('stream empty', () => redis.xlen(key), (n) => n === 0);
    await w.close();
  });

  it('leaves rows pending when closed during an outage, and resumes them under the same consumer name', async () => {
    const key = `${PREFIX}outage`;
    const down = createClickHouse(`http://127.0.0.1:${await closedPort()}`);
    const { w, registry } = writer({ streamKey: key, clickhouse: down, consumer: 'steady' });
    await w.start();
    await append(key, Array.from({ length: 20 }, (_, i) => JSON.stringify(event('outage', i))));
    await until('a failed attempt', () => metric(registry, STORE_METRICS.insertErrors), (n) => n >= 1);
    await w.close();
    await down.close();
    expect(await pending(key)).toBe(20);
    expect(await redis.xlen(key)).toBe(20);

    const { w: again } = writer({ streamKey: key, consumer: 'steady' });
    await again.start();
    expect(await until('rows resumed', () => counts('outage'), (v) => v.rows >= 20)).toEqual({ rows: 20, distinct: 20 });
    await until('stream empty', () => redis.xlen(key), (n) => n === 0);
    await again.close();
  });

  it('destroy() stops at once, mid-retry, leaving the batch pending', async () => {
    const key = `${PREFIX}destroy`;
    const down = createClickHouse(`http://127.0.0.1:${await closedPort()}`);
    const { w, registry } = writer({ streamKey: key, clickhouse: down });
    await w.start();
    await append(key, Array.from({ length: 5 }, (_, i) => JSON.stringify(event('destroy', i))));
    await until('a failed attempt', () => metric(registry, STORE_METRICS.insertErrors), (n) => n >= 1);
    w.destroy(new Error('test'));
    await w.close(); // resolves once the loop has unwound
    await down.close();
    expect(w.currentState).toBe('destroyed');
    expect(await pending(key)).toBe(5);
  });

  it('claims entries a dead consumer read and never acked', async () => {
    const key = `${PREFIX}claim`;
    await redis.xgroup('CREATE', key, 'clickhouse', '0', 'MKSTREAM');
    await append(key, Array.from({ length: 100 }, (_, i) => JSON.stringify(event('claim', i))));
    const read = await redis.xreadgroup('GROUP', 'clickhouse', 'dead-A', 'COUNT', 1000, 'STREAMS', key, '>');
    expect(read).not.toBeNull();
    expect(await pending(key)).toBe(100);

    const { w, registry } = writer({ streamKey: key, claimIdleMs: 200 });
    await w.start();
    expect(await until('claimed rows', () => counts('claim'), (v) => v.rows >= 100)).toEqual({ rows: 100, distinct: 100 });
    await until('stream empty', () => redis.xlen(key), (n) => n === 0);
    expect(await pending(key)).toBe(0);
    expect(await metric(registry, STORE_METRICS.claimed)).toBe(100);
    await w.close();
  });

  it('reads rows the router wrote before the group existed', async () => {
    const key = `${PREFIX}early`;
    await append(key, [JSON.stringify(event('early', 0))]);
    const { w } = writer({ streamKey: key });
    await w.start();
    await expect(w.start()).rejects.toMatchObject({ code: 'INTERNAL' }); // twice is a bug
    expect(await until('row', () => counts('early'), (v) => v.rows >= 1)).toEqual({ rows: 1, distinct: 1 });
    await w.close();
  });
});
