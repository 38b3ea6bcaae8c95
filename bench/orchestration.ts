/**
 * The orchestration engine (router/orchestrator.ts, store/redis/orchestration-store.ts and the
 * orch_*.lua scripts) under load, through its door POST /api/v2/messages/orchestrate over real
 * HTTP into a built Catalyst (child). Every chain fails over once: its first step is WhatsApp to a
 * number ending in 9991, which the WhatsApp simulator (child, bench/lib/whatsapp-sim.ts) accepts
 * and then reports `failed` (131026) in a signed status callback, the provider's receipt; its
 * second step is an SMS through the SMSC simulator (child), delivered by receipt. A chain is two
 * ordinary messages (admission, queue, connector, receipt, rows) and the engine's own work:
 * orch_create, then for each step a timer, its notice, orch_claim, orch_sent, the final notice and
 * orch_outcome.
 * (The API keeps one step per channel, so "an SMS failing by receipt, then an SMS" is not a chain
 * a client can ask for: WhatsApp → SMS is the pair test/integration/orchestration/http.test.ts
 * fails over with.)
 *
 * BENCH_CHAINS requests are posted with BENCH_CONCURRENCY in flight (one a connection: uWS takes no
 * pipelining), then the bench waits (bounded, BENCH_DRAIN_SECONDS) until every accepted chain is
 * final. Final states are read in bulk from Redis (the chain hash the GET answers from: its status
 * and the time the engine ended it), the oldest unfinished chains first, so the reading costs
 * little and its timing does not enter the latencies. Reports:
 *   acceptedPerSecond   202s a second while posting (postP50Ms/postP99Ms: the 202's latency)
 *   perSecond           chains / (the last chain's end − the first request)
 *   p50Ms/p99Ms/maxMs   request written → the engine's end of the chain (its doneAt)
 *   lost                accepted − chains that ended delivered on SMS (must be 0); otherPath: of
 *                       those, the ones not delivered after exactly one failed WhatsApp attempt
 *   CPU seconds of the appliance, both simulators, Redis and the generator over the run, and per
 *   chain; peak RSS of the appliance; the engine's event counters from /metrics.
 * A sample of chains is also read through GET /api/v2/messages/orchestrate/{id} and must agree.
 * Passed = every chain accepted and delivered by that path; the exit code is 1 otherwise.
 *
 * BENCH_BASELINE=1 then sends the same two messages per chain without the engine (POST
 * /messages/whatsapp to the same number, failed by the simulator, and POST /messages/sms, both at
 * once) and reports their CPU a pair beside the chain's: the difference is what the engine itself
 * costs a chain (it runs second, on a warm appliance, which favours it a little).
 *
 *   make build && npm run bench:orchestration
 *   BENCH_CHAINS=20000 BENCH_CONCURRENCY=64 npm run bench:orchestration
 *   BENCH_RETRY_DELAY_MS=0 BENCH_PROVIDER_DELAY_MS=50 npm run bench:orchestration
 *                              (failover.retryDelay of each chain; the WhatsApp simulator's delay
 *                               before its `failed` status; the SMSC simulator answers after 50 ms)
 *   BENCH_BASELINE=1 npm run bench:orchestration  (and the same messages without the engine)
 *   BENCH_KEEP_DB=1 npm run bench:orchestration   (keep the run's ClickHouse database)
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { Redis } from 'ioredis';
import { BENCH_API_KEY, REDIS_URL, checkBuilt, dropDatabase, freePort, redisServerInfo, startAppliance, startScript, stopChild, PROCESSES, APPLIANCE_PREFIX } from './lib/harness.js';
import { cpuSeconds, environment, peakRssMiB, percentile, writeResult } from './lib/report.js';
import { FINAL_STATUSES, type MessageStatus } from '../src/core/message.js';
import { Keys } from '../src/store/redis/keys.js';
import { FINAL_CHAIN, type ChainStatus } from '../src/store/redis/orchestration-store.js';

const CHAINS = Number(process.env['BENCH_CHAINS'] ?? 2000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 32);
/** failover.retryDelay of every chain: 0 measures the engine, not the wait it is told to make. */
const RETRY_DELAY_MS = Number(process.env['BENCH_RETRY_DELAY_MS'] ?? 0);
/** How long after a send the WhatsApp simulator posts its `failed` status (the SMSC simulator's receipts: 50 ms, the harness's). */
const PROVIDER_DELAY_MS = Number(process.env['BENCH_PROVIDER_DELAY_MS'] ?? 50);
const DRAIN_SECONDS = Number(process.env['BENCH_DRAIN_SECONDS'] ?? 60);
const BASELINE = process.env['BENCH_BASELINE'] === '1';
const KEEP_DB = process.env['BENCH_KEEP_DB'] === '1';
/** A request unanswered this long counts as an error (the bench must end by itself). */
const REQUEST_TIMEOUT_MS = 10_000;
/** The reader of final states: every POLL_MS, the POLL_BATCH oldest unfinished ones in one pipeline. */
const POLL_MS = 250;
const POLL_BATCH = 500;
/** Chains read back through the GET as well, spread over the run. */
const API_SAMPLE = 20;

const WA = { appSecret: 'bench-app-secret', verifyToken: 'bench', phoneNumberId: '100000000000001', accessToken: 'EAAGbench' };
const HIGH = { tps: 10_000_000, burst: 10_000_000 };
const EXPECTED = 'whatsapp:failed,sms:delivered';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (n: number, places = 1): number => Math.round(n * 10 ** places) / 10 ** places;

/** US area codes in use: a `to` the numbering plan calls valid costs libphonenumber half what an unassigned one does. */
const AREAS = ['212', '213', '310', '312', '415', '617', '646', '702', '718', '202', '305', '404', '503', '206', '512', '615'];

/**
 * Chain i's destination: a valid US number ending in 9991 (WhatsApp fails it, the SMSC simulator
 * delivers it: only destinations starting 999 fail there), 12,800 distinct ones.
 */
function destination(i: number): string {
  return `+1${AREAS[i % AREAS.length] ?? '415'}${200 + (Math.floor(i / AREAS.length) % 800)}9991`;
}

const text = (i: number): string => `Your code is ${String(100000 + (i % 900000))}`;

function chainBody(i: number): string {
  return JSON.stringify({ to: destination(i), from: 'BENCH', message: { body: text(i) }, channels: ['whatsapp', 'sms'], failover: { retryDelay: RETRY_DELAY_MS, maxRetries: 0 } });
}

type Http = (method: 'GET' | 'POST', path: string, payload?: string) => Promise<{ status: number; text: string }>;

interface Pids {
  readonly app: number;
  readonly sim: number;
  readonly wa: number;
  readonly redis: number;
}

type Cpu = Record<'app' | 'sim' | 'whatsappSim' | 'redis' | 'generator', number>;

/** One phase: `sends` requests posted with CONCURRENCY in flight, then a bounded wait until every accepted one is final. */
interface PhaseSpec {
  readonly sends: number;
  readonly request: (j: number) => { readonly path: string; readonly body: string };
  /** The id in a 202's body. */
  readonly idOf: (answer: Record<string, unknown>) => unknown;
  /** The Redis hash of an id, whose `st` is its status and `td` the epoch ms it ended. */
  readonly key: (id: string) => string;
  readonly isFinal: (status: string) => boolean;
}

interface Phase {
  /** Accepted ids, in the order they were accepted. */
  readonly ids: string[];
  /** Epoch ms each accepted request was written: the engine's `td` is epoch ms of the same clock. */
  readonly sentAt: Map<string, number>;
  readonly epoch0: number;
  readonly statuses: Record<string, number>;
  readonly errors: number;
  readonly firstError: string | null;
  readonly postSeconds: number;
  readonly postLatencies: number[];
  /** Accepted but never seen final within BENCH_DRAIN_SECONDS. */
  readonly unfinished: number;
  readonly cpu: Cpu;
  readonly samples: { t: number; accepted: number; finished: number }[];
  readonly pollCommands: number;
}

/** HMGET of `fields` of each id's hash, pipelined 1,000 at a time. */
async function readHashes(redis: Redis, key: (id: string) => string, ids: readonly string[], fields: readonly string[]): Promise<Map<string, (string | null)[]>> {
  const out = new Map<string, (string | null)[]>();
  for (let k = 0; k < ids.length; k += 1000) {
    const part = ids.slice(k, k + 1000);
    const p = redis.pipeline();
    for (const id of part) p.hmget(key(id), ...fields);
    const res = (await p.exec()) ?? [];
    part.forEach((id, j) => {
      const [err, v] = res[j] ?? [null, []];
      out.set(id, err ? [] : (v as (string | null)[]));
    });
  }
  return out;
}

async function runPhase(spec: PhaseSpec, http: Http, redis: Redis, pids: Pids): Promise<Phase> {
  const ids: string[] = [];
  const sentAt = new Map<string, number>();
  /** Accepted and not yet seen final, oldest first (a Set keeps insertion order). */
  const pending = new Set<string>();
  let finished = 0;
  const statuses: Record<string, number> = {};
  const postLatencies: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  let pollCommands = 0;

  const cpu0 = process.cpuUsage();
  const cpuStart = { app: cpuSeconds(pids.app) ?? 0, sim: cpuSeconds(pids.sim) ?? 0, wa: cpuSeconds(pids.wa) ?? 0, redis: cpuSeconds(pids.redis) ?? 0 };
  const t0 = performance.now();
  const epoch0 = Date.now();
  const samples: Phase['samples'] = [];
  const sampler = setInterval(() => {
    samples.push({ t: round((performance.now() - t0) / 1000), accepted: ids.length, finished });
  }, 1000);

  // The reader of final states, beside the posting and after it. Its timing does not enter the
  // latencies (they end at `td`, written by the appliance), only when the bench stops waiting.
  let reading = true;
  const reader = (async () => {
    while (reading) {
      const oldest: string[] = [];
      for (const id of pending) {
        oldest.push(id);
        if (oldest.length >= POLL_BATCH) break;
      }
      pollCommands += oldest.length;
      for (const [id, f] of await readHashes(redis, spec.key, oldest, ['st'])) {
        if (spec.isFinal(f[0] ?? '')) {
          pending.delete(id);
          finished++;
        }
      }
      await sleep(POLL_MS);
    }
  })();

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < spec.sends) {
      const { path, body } = spec.request(next++);
      const at = Date.now();
      const t = performance.now();
      try {
        const res = await http('POST', path, body);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        const id = res.status === 202 || res.status === 200 ? spec.idOf(JSON.parse(res.text) as Record<string, unknown>) : undefined;
        if (typeof id !== 'string') {
          firstError ??= `${res.status} ${res.text.slice(0, 300)}`;
          continue;
        }
        postLatencies.push(performance.now() - t);
        ids.push(id);
        sentAt.set(id, at);
        pending.add(id);
      } catch (err) {
        errors++;
        firstError ??= String(err);
        // An appliance that stopped answering: stop posting rather than wait out every request.
        if (errors >= CONCURRENCY) next = spec.sends;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const postSeconds = (performance.now() - t0) / 1000;

  const drainEnd = performance.now() + DRAIN_SECONDS * 1000;
  while (pending.size > 0 && performance.now() < drainEnd) await sleep(POLL_MS);
  reading = false;
  await reader;
  clearInterval(sampler);
  const gen = process.cpuUsage(cpu0);
  // To /proc's clock tick (10 ms): the figures a chain are divided from these.
  const cpu: Cpu = {
    app: round((cpuSeconds(pids.app) ?? 0) - cpuStart.app, 2),
    sim: round((cpuSeconds(pids.sim) ?? 0) - cpuStart.sim, 2),
    whatsappSim: round((cpuSeconds(pids.wa) ?? 0) - cpuStart.wa, 2),
    redis: round((cpuSeconds(pids.redis) ?? 0) - cpuStart.redis, 2),
    generator: round((gen.user + gen.system) / 1e6, 2),
  };
  return { ids, sentAt, epoch0, statuses, errors, firstError, postSeconds, postLatencies, unfinished: pending.size, cpu, samples, pollCommands };
}

/** Figures common to both phases; `units` is what a figure is per (chains, or pairs of messages). */
function figures(p: Phase, units: number, doneAt: (id: string) => number | undefined) {
  const latencies: number[] = [];
  let lastEnd = 0;
  for (const id of p.ids) {
    const td = doneAt(id);
    const at = p.sentAt.get(id);
    if (td === undefined || td <= 0 || at === undefined) continue;
    latencies.push(td - at);
    lastEnd = Math.max(lastEnd, td);
  }
  const sorted = Float64Array.from(latencies).sort();
  const post = Float64Array.from(p.postLatencies).sort();
  const runSeconds = lastEnd > 0 ? (lastEnd - p.epoch0) / 1000 : 0;
  const perUnitUs = (s: number): number => (units > 0 ? Math.round((s * 1e6) / units) : 0);
  return {
    accepted: p.ids.length,
    statuses: p.statuses,
    errors: p.errors,
    firstError: p.firstError,
    postSeconds: round(p.postSeconds, 2),
    acceptedPerSecond: Math.round(p.ids.length / p.postSeconds),
    postP50Ms: round(percentile(post, 50), 2),
    postP99Ms: round(percentile(post, 99), 2),
    finished: latencies.length,
    /** First request → the last end. */
    runSeconds: round(runSeconds, 2),
    perSecond: runSeconds > 0 ? Math.round(units / runSeconds) : 0,
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted[sorted.length - 1] ?? 0),
    cpuSeconds: p.cpu,
    cpuMicrosPer: { app: perUnitUs(p.cpu.app), redis: perUnitUs(p.cpu.redis), sim: perUnitUs(p.cpu.sim), whatsappSim: perUnitUs(p.cpu.whatsappSim) },
    /** HMGETs the reader of final states sent (counted in Redis's CPU, a small part of it). */
    pollCommands: p.pollCommands,
    samples: p.samples,
  };
}

/** "channel:outcome" of a chain's attempts, from their records (orch_common.lua's short keys). */
function attempts(n: string | null | undefined, records: readonly (string | null | undefined)[]): string {
  const out: string[] = [];
  for (const raw of records) {
    if (raw === null || raw === undefined) continue;
    try {
      const a = JSON.parse(raw) as { ch?: string; st?: string };
      out.push(`${a.ch ?? '?'}:${a.st ?? '?'}`);
    } catch {
      out.push('unreadable');
    }
  }
  if (Number(n ?? 0) > records.length) out.push(`+${Number(n) - records.length} more`);
  return out.join(',');
}

async function main(): Promise<void> {
  const env = environment();
  const { distOlderThanSrc } = checkBuilt();
  const database = `catalyst_bench_orch_${randomBytes(4).toString('hex')}`;
  const waPort = await freePort();
  const started = await startAppliance({
    clickhouseDatabase: database,
    extraConfig: {
      channels: {
        // The baseline's WhatsApp sends answer at once, as an orchestration attempt is sent.
        answerWaitMs: 0,
        whatsapp: {
          baseUrl: `http://127.0.0.1:${waPort}`,
          price: 0.0001,
          appSecret: WA.appSecret,
          verifyToken: WA.verifyToken,
          maxInflight: 500,
          senderRateLimit: HIGH,
          senders: [{ account: 'bench', from: '+1234567890', phoneNumberId: WA.phoneNumberId, accessToken: WA.accessToken }],
        },
      },
      platformRateLimits: { sms: HIGH, whatsapp: HIGH },
    },
  });
  // Everything after the appliance started is inside the try: a failure starting the WhatsApp
  // simulator still stops the appliance and drops the run's keys and database.
  let wa: ChildProcess | undefined;
  let passed = false;
  const redis = new Redis(REDIS_URL);
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    const callbackUrl = `http://127.0.0.1:${started.httpPort}/api/v2/callbacks/whatsapp`;
    wa = await startScript('bench/lib/whatsapp-sim.ts', [String(waPort), callbackUrl, WA.appSecret, WA.phoneNumberId, WA.accessToken, String(PROVIDER_DELAY_MS)], waPort);
    const keys = new Keys(started.prefix);
    const http: Http = (method, path, payload) =>
      new Promise((resolve, reject) => {
        const headers: Record<string, string | number> = { authorization: `Bearer ${BENCH_API_KEY}` };
        if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
        const req = request({ host: '127.0.0.1', port: started.httpPort, path, method, agent, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
          });
          res.on('error', reject);
        });
        req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)));
        req.on('error', reject);
        req.end(payload);
      });
    const redis0 = await redisServerInfo();
    const pids: Pids = { app: started.app.pid ?? 0, sim: started.sim.pid ?? 0, wa: wa.pid ?? 0, redis: redis0.pid ?? 0 };
    // The chains.
    const phase = await runPhase(
      {
        sends: CHAINS,
        request: (i) => ({ path: '/api/v2/messages/orchestrate', body: chainBody(i) }),
        idOf: (a) => a['orchestration_id'],
        key: (id) => keys.orchestration(id),
        isFinal: (st) => FINAL_CHAIN.has(st as ChainStatus),
      },
      http,
      redis,
      pids,
    );
    // Every accepted chain, read whole: delivered on SMS (lost otherwise), and by the path asked for.
    const all = await readHashes(redis, (id) => keys.orchestration(id), phase.ids, ['st', 'td', 'fc', 'n', 'a1', 'a2', 'a3']);
    const outcomes: Record<string, number> = {};
    let delivered = 0;
    let otherPath = 0;
    for (const f of all.values()) {
      const path = attempts(f[3], f.slice(4));
      const shape = `${f[0] ?? 'missing'}:${f[2] || '-'}:${path}`;
      outcomes[shape] = (outcomes[shape] ?? 0) + 1;
      if (f[0] === 'delivered' && f[2] === 'sms') {
        delivered++;
        if (path !== EXPECTED) otherPath++;
      }
    }
    const ended = (id: string): number | undefined => {
      const f = all.get(id);
      return f && FINAL_CHAIN.has(f[0] as ChainStatus) ? Number(f[1] ?? 0) : undefined;
    };
    const chains = figures(phase, phase.ids.length, ended);
    const lost = phase.ids.length - delivered;

    // The API's view of a sample: the same chain as the hash says.
    let apiMismatches = 0;
    const step = Math.max(1, Math.floor(phase.ids.length / API_SAMPLE));
    for (let k = 0; k < phase.ids.length; k += step) {
      const id = phase.ids[k] ?? '';
      const res = await http('GET', `/api/v2/messages/orchestrate/${id}`);
      const s = res.status === 200 ? (JSON.parse(res.text) as { status: string; final_channel: string | null; channels_attempted: { channel: string; outcome: string }[] }) : undefined;
      const shape = s ? `${s.status}:${s.final_channel ?? '-'}:${s.channels_attempted.map((a) => `${a.channel}:${a.outcome}`).join(',')}` : `http ${res.status}`;
      if (shape !== `delivered:sms:${EXPECTED}`) apiMismatches++;
    }
    const metrics = await http('GET', '/metrics');
    const engineEvents: Record<string, number> = {};
    for (const m of metrics.text.matchAll(/^router_orchestration_events_total\{event="(\w+)"\} (\d+)/gm)) engineEvents[m[1] ?? ''] = Number(m[2]);
    const appPeakRssMiB = peakRssMiB(pids.app);

    // The same two messages a chain sends, without the engine: WhatsApp (failed) and SMS at once.
    let baseline: (ReturnType<typeof figures> & { outcomes: Record<string, number>; engineExtraMicrosPerChain: { app: number; redis: number } }) | undefined;
    if (BASELINE) {
      const b = await runPhase(
        {
          sends: 2 * CHAINS,
          request: (j) => {
            const i = Math.floor(j / 2);
            return j % 2 === 0
              ? { path: '/api/v2/messages/whatsapp', body: JSON.stringify({ to: destination(i), from: '+1234567890', message: { type: 'text', body: text(i) } }) }
              : { path: '/api/v2/messages/sms', body: JSON.stringify({ to: destination(i), from: 'BENCH', message: { body: text(i) } }) };
          },
          idOf: (a) => a['message_id'],
          key: (id) => keys.message(id),
          isFinal: (st) => FINAL_STATUSES.has(st as MessageStatus),
        },
        http,
        redis,
        pids,
      );
      const msgs = await readHashes(redis, (id) => keys.message(id), b.ids, ['st', 'td']);
      const outcomes: Record<string, number> = {};
      for (const f of msgs.values()) outcomes[f[0] ?? 'missing'] = (outcomes[f[0] ?? 'missing'] ?? 0) + 1;
      const fig = figures(b, b.ids.length / 2, (id) => {
        const f = msgs.get(id);
        return f && FINAL_STATUSES.has(f[0] as MessageStatus) ? Number(f[1] ?? 0) : undefined;
      });
      baseline = { ...fig, outcomes, engineExtraMicrosPerChain: { app: chains.cpuMicrosPer.app - fig.cpuMicrosPer.app, redis: chains.cpuMicrosPer.redis - fig.cpuMicrosPer.redis } };
    }
    const redis1 = await redisServerInfo();

    const baselineOk = baseline === undefined || (baseline.accepted === 2 * CHAINS && baseline.finished === baseline.accepted && (baseline.outcomes['failed'] ?? 0) === CHAINS && (baseline.outcomes['delivered'] ?? 0) === CHAINS);
    passed = lost === 0 && otherPath === 0 && phase.ids.length === CHAINS && apiMismatches === 0 && baselineOk;
    const result = {
      bench: 'orchestration',
      processes: PROCESSES,
      ...env,
      chains: CHAINS,
      concurrency: CONCURRENCY,
      retryDelayMs: RETRY_DELAY_MS,
      providerDelayMs: PROVIDER_DELAY_MS,
      distOlderThanSrc,
      ...chains,
      delivered,
      lost,
      /** Delivered on SMS, but not after exactly one failed WhatsApp attempt (refused at admission, a retry…). */
      otherPath,
      /** status:final channel:attempts → chains. */
      outcomes,
      apiSample: Math.ceil(phase.ids.length / step),
      apiMismatches,
      engineEvents,
      /** The same two messages per chain without the engine (BENCH_BASELINE=1); per pair. */
      baseline: baseline ?? null,
      passed,
      appPeakRssMiB,
      whatsappSimPeakRssMiB: peakRssMiB(pids.wa),
      redisAofRewrites: (redis1.aofRewrites ?? 0) - (redis0.aofRewrites ?? 0),
      database: KEEP_DB ? database : `${database} (dropped)`,
      command: `make build && ${APPLIANCE_PREFIX}BENCH_CHAINS=${CHAINS} BENCH_CONCURRENCY=${CONCURRENCY} BENCH_RETRY_DELAY_MS=${RETRY_DELAY_MS} BENCH_PROVIDER_DELAY_MS=${PROVIDER_DELAY_MS}${BASELINE ? ' BENCH_BASELINE=1' : ''} npm run bench:orchestration`,
    };
    const path = writeResult('orchestration', result);
    const short = (f: { samples: unknown[] }): Record<string, unknown> => ({ ...f, samples: `${f.samples.length} (in the JSON file)` });
    console.log(JSON.stringify({ ...short(result), baseline: baseline ? short(baseline) : null }, null, 2));
    const cpu = chains.cpuSeconds;
    console.log(
      `orchestration: ${chains.accepted} of ${CHAINS} chains accepted at ${chains.acceptedPerSecond}/s (POST p50 ${chains.postP50Ms} ms, p99 ${chains.postP99Ms} ms, ${CONCURRENCY} in flight), ` +
        `${chains.finished} ended in ${chains.runSeconds} s: ${chains.perSecond} chains/s (WhatsApp failed → SMS delivered); request → chain end p50 ${chains.p50Ms} ms, p99 ${chains.p99Ms} ms; ` +
        `lost ${lost}; app peak RSS ${appPeakRssMiB ?? '?'} MiB; CPU s app ${cpu.app}, redis ${cpu.redis}, smsc sim ${cpu.sim}, whatsapp sim ${cpu.whatsappSim}, generator ${cpu.generator} ` +
        `(${chains.cpuMicrosPer.app} µs app, ${chains.cpuMicrosPer.redis} µs redis a chain) (${env.sha}, ${env.node}, ${env.cpu}, ${env.cores} cores) → ${path}`,
    );
    if (baseline) {
      console.log(
        `orchestration: baseline, the same messages without the engine: ${baseline.perSecond} pairs/s, app ${baseline.cpuMicrosPer.app} µs and redis ${baseline.cpuMicrosPer.redis} µs a pair; ` +
          `the engine adds ${baseline.engineExtraMicrosPerChain.app} µs app and ${baseline.engineExtraMicrosPerChain.redis} µs redis a chain`,
      );
    }
    console.log(`reproduce: ${result.command}`);
    console.log(
      passed
        ? `orchestration: PASSED: every chain (${chains.accepted}) delivered on SMS after WhatsApp failed; ${result.apiSample} read back through the GET agree`
        : `orchestration: FAILED: ${lost} of ${chains.accepted} accepted chains not delivered on SMS, ${otherPath} delivered by another path, ${CHAINS - chains.accepted} not accepted (${chains.errors} errors, statuses ${JSON.stringify(chains.statuses)}), ${apiMismatches} GET mismatches${baselineOk ? '' : `, baseline ${JSON.stringify(baseline?.outcomes)}`}; outcomes ${JSON.stringify(outcomes)}`,
    );
  } finally {
    agent.destroy();
    redis.disconnect();
    if (wa) await stopChild(wa);
    await started.stop();
    if (!KEEP_DB) await dropDatabase(database);
  }
  process.exit(passed ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
