/**
 * What the benches share: the SMSC simulator and a built appliance (dist/main.js) as child
 * processes with a temp config and a random Redis prefix, the appliance's limits raised so the
 * bench measures throughput rather than the rate limiter, and removal of the bench's Redis keys.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createClickHouse } from '../../src/store/clickhouse/index.js';
import { quoteIdent } from '../../src/store/clickhouse/schema.js';
import { Keys } from '../../src/store/redis/keys.js';
import { pidListeningOn } from './report.js';

/** The appliance's one upstream: the SMSC simulator. */
export const BENCH_UPSTREAM = 'sim';

export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6390';
export const CLICKHOUSE_URL = process.env['CLICKHOUSE_URL'] ?? 'http://127.0.0.1:8124';
export const BENCH_API_KEY = 'sk_bench_0123456789abcdef';

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const p = typeof a === 'object' && a ? a.port : 0;
      s.close(() => { resolve(p); });
    });
  });
}

export function waitPort(port: number, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve();
      });
      s.on('error', () => {
        s.destroy();
        if (Date.now() > end) reject(new Error(`port ${port} never opened`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** The benches run dist/: refuse to start without it, and say so when src/ changed since the build. */
export function checkBuilt(): { distOlderThanSrc: boolean } {
  let built: number;
  try {
    built = statSync('dist/main.js').mtimeMs;
  } catch {
    throw new Error('dist/main.js is missing: run `make build` first');
  }
  const distOlderThanSrc = newestMtime('src') > built;
  if (distOlderThanSrc) process.stderr.write('warning: src/ changed after dist/ was built; run `make build` to bench the current code\n');
  return { distOlderThanSrc };
}

export interface Started {
  readonly app: ChildProcess;
  readonly sim: ChildProcess;
  readonly httpPort: number;
  readonly smppPort: number;
  readonly prefix: string;
  /** Stops both children (idempotent) and removes the bench's Redis keys. */
  readonly stop: () => Promise<void>;
}

/**
 * The simulator and the appliance, one account with the bench key whose limits (account, per
 * channel, platform) are far above what two cores reach, so no request is refused as throttled.
 */
export interface StartOptions {
  /** Unanswered requests an ESME may have outstanding per session (config smpp.window). */
  readonly smppWindow?: number;
  /** false: the upstream is a closed port, so accepted messages only queue (ingress-only benches). */
  readonly upstreamReachable?: boolean;
  /**
   * No router.maxQueueDepth (always so when the upstream is unreachable): an admission bench offers
   * more than the simulator takes, and would otherwise measure the backpressure instead.
   */
  readonly uncappedQueue?: boolean;
  /**
   * The simulator binds but answers no submit (CATALYST_SIM_HOLD_SUBMITS): the upstream's windows
   * fill and nothing more is sent. For the HTTP admission benches, which need a bind up (an HTTP
   * send is refused without one) but measure admission alone, as smpp-ingress does with its
   * unreachable upstream: with sending beside it, Redis's one core was shared with the sends, and a
   * cheaper appliance, sending more, was answered with fewer messages accepted (docs/scaling.md).
   */
  readonly holdSubmits?: boolean;
  /**
   * ClickHouse database for the appliance's events, which the bench then drops itself
   * (dropDatabase). Unless given, one of the run's own, dropped by stop(): rows left by every run
   * in one database made ClickHouse's merges, and so the next runs, slower.
   */
  readonly clickhouseDatabase?: string;
  /** More config (channels, channelSims …), merged over the bench's own. */
  readonly extraConfig?: Record<string, unknown>;
}

/**
 * BENCH_PROCESSES=2: the appliance runs as a cluster primary with that many workers (config
 * `processes`); its CPU and peak RSS are then the sum over the primary and its workers.
 */
export const PROCESSES = Number(process.env['BENCH_PROCESSES'] ?? 1);
/**
 * BENCH_SEND=1: the HTTP admission benches let the simulator answer, so accepted messages are sent
 * (and receipted) beside the load, as they were until 2026-11-22 (holdSubmits).
 */
export const SEND_BESIDE = process.env['BENCH_SEND'] === '1';
const APP_NODE_ARGS = process.env['BENCH_APP_NODE_ARGS'] ?? '';
/**
 * BENCH_CONFIG: a JSON object merged, object by object, over the config the bench gives the
 * appliance, to measure a setting with the same bench:
 * BENCH_CONFIG='{"clickhouse":{"batchRows":50000}}' npm run bench:e2e. Bad JSON or a non-object
 * stops the bench before it starts anything.
 */
const CONFIG_OVERRIDE: Record<string, unknown> = (() => {
  const raw = process.env['BENCH_CONFIG'];
  if (raw === undefined || raw.trim() === '') return {};
  const parsed: unknown = JSON.parse(raw);
  if (!isRecord(parsed)) throw new Error('BENCH_CONFIG must be a JSON object');
  return parsed;
})();

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `over` merged into `base`: objects merged key by key, anything else (arrays too) replaced. */
function merged(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isRecord(b) && isRecord(v) ? merged(b, v) : v;
  }
  return out;
}
/** BENCH_SIM_NODE_ARGS: Node options for the SMSC simulator ("--cpu-prof --cpu-prof-dir=/tmp/simprof" profiles it). */
const SIM_NODE_ARGS = (process.env['BENCH_SIM_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
/**
 * What a bench's reproduce command starts with when the appliance was run otherwise than make
 * start runs it: BENCH_PROCESSES, BENCH_APP_NODE_ARGS, BENCH_CONFIG (so a figure measured with extra Node
 * options or settings says so in its JSON).
 */
export const APPLIANCE_PREFIX =
  (PROCESSES === 1 ? '' : `BENCH_PROCESSES=${PROCESSES} `) +
  (APP_NODE_ARGS.trim() === '' ? '' : `BENCH_APP_NODE_ARGS='${APP_NODE_ARGS.trim()}' `) +
  (Object.keys(CONFIG_OVERRIDE).length === 0 ? '' : `BENCH_CONFIG='${JSON.stringify(CONFIG_OVERRIDE)}' `);

/** scripts/node-args: the Node options the appliance runs with, one a word, # comments left out. */
export function applianceNodeArgs(): string[] {
  return readFileSync('scripts/node-args', 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join(' ')
    .split(/\s+/)
    .filter((a) => a !== '');
}

export async function startAppliance(opts: StartOptions = {}): Promise<Started> {
  // The Node options make start runs the appliance with (scripts/node-args), then
  // BENCH_APP_NODE_ARGS: "--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the appliance.
  const appNodeArgs = [...applianceNodeArgs(), ...APP_NODE_ARGS.split(' ').filter((a) => a !== '')];
  const [simPort, smppPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  const run = randomBytes(4).toString('hex');
  const prefix = `bench${run}:`;
  const ownDatabase = `catalyst_bench_${run}`;
  const high = { tps: 10_000_000, burst: 10_000_000 };
  const config = {
    log: { level: 'warn' },
    processes: PROCESSES,
    http: { host: '127.0.0.1', port: httpPort },
    smpp: { host: '127.0.0.1', port: smppPort, ...(opts.smppWindow !== undefined ? { window: opts.smppWindow } : {}) },
    redis: { url: REDIS_URL, keyPrefix: prefix },
    clickhouse: { url: CLICKHOUSE_URL, database: opts.clickhouseDatabase ?? ownDatabase },
    accounts: [{ id: 'bench', apiKeys: [BENCH_API_KEY], smpp: [{ systemId: 'bench', password: 'bench' }], balance: 1e9, ...high, rateLimits: { sms: high } }],
    upstreams: [{ id: BENCH_UPSTREAM, type: 'smpp', host: '127.0.0.1', port: opts.upstreamReachable === false ? await freePort() : simPort, systemId: 'catalyst', password: 'sandbox', binds: 4, window: 500 }],
    routes: [{ prefix: '', upstream: 'sim', price: 0.0001 }],
    // Admission benches: no queue cap, or admission would start refusing as throttled (see uncappedQueue).
    router: { platformTps: high.tps, platformBurst: high.burst, ...(opts.upstreamReachable === false || opts.uncappedQueue === true ? { maxQueueDepth: 0 } : {}) },
    platformRateLimits: { sms: high },
    sim: { enabled: false },
    ...(opts.extraConfig ?? {}),
  };
  const dir = mkdtempSync(join(tmpdir(), 'catalyst-bench-'));
  const cfgPath = join(dir, 'config.json');
  writeFileSync(cfgPath, JSON.stringify(merged(config, CONFIG_OVERRIDE)));
  const sim = spawn(process.execPath, [...SIM_NODE_ARGS, '--import', 'tsx', 'src/sim/smsc-main.ts'], {
    env: { ...process.env, CATALYST_SIM_PORT: String(simPort), CATALYST_SIM_RECEIPT_DELAY_MS: '50', CATALYST_LOG_LEVEL: 'warn', ...(opts.holdSubmits === true ? { CATALYST_SIM_HOLD_SUBMITS: '1' } : {}) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const children: ChildProcess[] = [sim];
  const kill = (): void => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  };
  process.on('exit', kill);
  await waitPort(simPort);
  const app = spawn(process.execPath, [...appNodeArgs, 'dist/main.js'], { env: { ...process.env, CATALYST_CONFIG: cfgPath }, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(app);
  await waitPort(httpPort);
  await waitPort(smppPort);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      // The appliance first, so it does not spend its shutdown reconnecting to a gone simulator.
      await stopChild(app);
      await stopChild(sim);
      await dropPrefix(prefix);
      if (opts.clickhouseDatabase === undefined) await dropDatabase(ownDatabase);
    })();
    return stopped;
  };
  return { app, sim, httpPort, smppPort, prefix, stop };
}

export async function dropPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 10_000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** CPU seconds of the children a Redis has reaped (its AOF rewrites'), from the text of INFO (or INFO cpu). */
export function childCpuSeconds(info: string): number | undefined {
  const user = /used_cpu_user_children:([\d.]+)/.exec(info)?.[1];
  const sys = /used_cpu_sys_children:([\d.]+)/.exec(info)?.[1];
  return user === undefined || sys === undefined ? undefined : Number(user) + Number(sys);
}

/**
 * The Redis server's pid (to read its CPU from /proc), how many AOF rewrites it has done, and the
 * CPU of its children it has reaped (childCpuSeconds: the rewrites', which /proc counts only while one runs).
 */
export async function redisServerInfo(): Promise<{ pid: number | undefined; aofRewrites: number | undefined; childCpuSeconds: number | undefined }> {
  const r = new Redis(REDIS_URL);
  try {
    const info = await r.info();
    const num = (re: RegExp): number | undefined => {
      const m = re.exec(info);
      return m ? Number(m[1]) : undefined;
    };
    return { pid: num(/process_id:(\d+)/), aofRewrites: num(/aof_rewrites:(\d+)/), childCpuSeconds: childCpuSeconds(info) };
  } catch {
    return { pid: undefined, aofRewrites: undefined, childCpuSeconds: undefined };
  } finally {
    r.disconnect();
  }
}

/**
 * The local ClickHouse server's pid (to read its CPU from /proc: its inserts and merges share the
 * cores), or undefined when CLICKHOUSE_URL is another machine's or its process is not visible.
 */
export function clickhousePid(): number | undefined {
  const url = new URL(CLICKHOUSE_URL);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) return undefined;
  return pidListeningOn(Number(url.port || 8123));
}

/**
 * What an upstream's send queue still holds: its entries (XLEN) and the messages it counts
 * (keys.ts qn:). Both are 0 once every message has its outcome; waits up to waitMs for the last acks.
 */
export async function queueLeft(prefix: string, upstream: string, waitMs = 3000): Promise<{ entries: number; counted: number }> {
  const r = new Redis(REDIS_URL);
  const keys = new Keys(prefix);
  try {
    const end = Date.now() + waitMs;
    for (;;) {
      const [entries, counted] = await Promise.all([r.xlen(keys.queue(upstream)), r.get(keys.queueDepth(upstream))]);
      const left = { entries, counted: Number(counted ?? 0) };
      if ((left.entries === 0 && left.counted === 0) || Date.now() > end) return left;
      await new Promise((res) => setTimeout(res, 100));
    }
  } finally {
    r.disconnect();
  }
}

/** Drops a per-run ClickHouse database (one a bench named in StartOptions.clickhouseDatabase). */
export async function dropDatabase(database: string): Promise<void> {
  if (!/^catalyst_bench_\w+$/.test(database)) throw new Error(`refusing to drop ${database}: not a per-run bench database`);
  const ch = createClickHouse(CLICKHOUSE_URL);
  try {
    await ch.command({ query: `DROP DATABASE IF EXISTS ${quoteIdent(database)}` });
  } finally {
    await ch.close();
  }
}

/** A child process running `node --import tsx <file> <args>`, waited for on `port`. */
export async function startScript(file: string, args: readonly string[], port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  process.on('exit', () => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });
  await waitPort(port);
  return child;
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((r) => {
    child.once('exit', () => { r(); });
    child.kill('SIGTERM');
  });
}
