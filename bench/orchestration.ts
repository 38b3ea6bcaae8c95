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
 *   acceptedPerSecond   202s a second while posting
 *   chainsPerSecond     chains final / (last chain's end − first request)
 *   chain p50/p99/max   request written → the engine's end of the chain (its doneAt)
 *   lost                accepted − chains that ended delivered on SMS (must be 0); otherPath: of
 *                       those, the ones not delivered after exactly one failed WhatsApp attempt
 *   CPU seconds of the appliance, both simulators, Redis and the generator over the run, and per
 *   chain; peak RSS of the appliance; the engine's event counters from /metrics.
 * A sample of chains is also read through GET /api/v2/messages/orchestrate/{id} and must agree.
 * Passed = every chain accepted and delivered by that path; the exit code is 1 otherwise.
 *
 *   make build && npm run bench:orchestration
 *   BENCH_CHAINS=20000 BENCH_CONCURRENCY=64 npm run bench:orchestration
 *   BENCH_RETRY_DELAY_MS=0 BENCH_PROVIDER_DELAY_MS=50 npm run bench:orchestration
 *                              (failover.retryDelay of each chain; the WhatsApp simulator's delay
 *                               before its `failed` status; the SMSC simulator answers after 50 ms)
 *   BENCH_KEEP_DB=1 npm run bench:orchestration   (keep the run's ClickHouse database)
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { Redis } from 'ioredis';
import { BENCH_API_KEY, REDIS_URL, checkBuilt, dropDatabase, freePort, redisServerInfo, startAppliance, startScript, stopChild, PROCESSES, PROCESSES_PREFIX } from './lib/harness.js';
import { cpuSeconds, environment, peakRssMiB, percentile, writeResult } from './lib/report.js';
import { Keys } from '../src/store/redis/keys.js';
import { FINAL_CHAIN, type ChainStatus } from '../src/store/redis/orchestration-store.js';

const CHAINS = Number(process.env['BENCH_CHAINS'] ?? 2000);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 32);
/** failover.retryDelay of every chain: 0 measures the engine, not the wait it is told to make. */
const RETRY_DELAY_MS = Number(process.env['BENCH_RETRY_DELAY_MS'] ?? 0);
/** How long after a send the WhatsApp simulator posts its `failed` status (the SMSC simulator's receipts: 50 ms, the harness's). */
const PROVIDER_DELAY_MS = Number(process.env['BENCH_PROVIDER_DELAY_MS'] ?? 50);
const DRAIN_SECONDS = Number(process.env['BENCH_DRAIN_SECONDS'] ?? 60);
const KEEP_DB = process.env['BENCH_KEEP_DB'] === '1';
/** A request unanswered this long counts as an error (the bench must end by itself). */
const REQUEST_TIMEOUT_MS = 10_000;
/** The reader of final states: every POLL_MS, the POLL_BATCH oldest unfinished chains in one pipeline. */
const POLL_MS = 250;
const POLL_BATCH = 500;
/** Chains read back through the GET as well, spread over the run. */
const API_SAMPLE = 20;

const WA = { appSecret: 'bench-app-secret', verifyToken: 'bench', phoneNumberId: '100000000000001', accessToken: 'EAAGbench' };
const HIGH = { tps: 10_000_000, burst: 10_000_000 };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (n: number, places = 1): number => Math.round(n * 10 ** places) / 10 ** places;

/**
 * Chain i's destination: a possible North American number ending in 9991 (WhatsApp fails it, the
 * SMSC simulator delivers it: only destinations starting 999 fail there), 640,000 distinct ones.
 */
function destination(i: number): string {
  return `+1${200 + (Math.floor(i / 800) % 800)}${200 + (i % 800)}9991`;
}

function body(i: number): string {
  return JSON.stringify({
    to: destination(i),
    from: 'BENCH',
    message: { body: `Your code is ${String(100000 + (i % 900000))}` },
    channels: ['whatsapp', 'sms'],
    failover: { retryDelay: RETRY_DELAY_MS, maxRetries: 0 },
  });
}

interface Chain {
  readonly id: string;
  /** Epoch ms the request was written: the engine's doneAt is epoch ms of the same clock. */
  readonly sentAt: number;
}

/** A chain as read back from its hash (keys.ts orchestration; orch_common.lua names the fields). */
interface Read {
  readonly status: string;
  readonly doneAt: number;
  readonly finalChannel: string;
  /** "channel:outcome" of each attempt. */
  readonly attempts: string[];
}

const EXPECTED = 'whatsapp:failed,sms:delivered';

async function readChains(redis: Redis, keys: Keys, ids: readonly string[], withAttempts: boolean): Promise<Map<string, Read>> {
  const out = new Map<string, Read>();
  for (let k = 0; k < ids.length; k += 1000) {
    const part = ids.slice(k, k + 1000);
    const p = redis.pipeline();
    for (const id of part) p.hmget(keys.orchestration(id), ...(withAttempts ? ['st', 'td', 'fc', 'n', 'a1', 'a2', 'a3'] : ['st', 'td']));
    const res = (await p.exec()) ?? [];
    part.forEach((id, j) => {
      const [err, v] = res[j] ?? [null, []];
      const f = err ? [] : (v as (string | null)[]);
      const attempts: string[] = [];
      for (const raw of f.slice(4)) {
        if (raw === null || raw === undefined) continue;
        try {
          const a = JSON.parse(raw) as { ch?: string; st?: string };
          attempts.push(`${a.ch ?? '?'}:${a.st ?? '?'}`);
        } catch {
          attempts.push('unreadable');
        }
      }
      if (Number(f[3] ?? 0) > 3) attempts.push(`+${Number(f[3]) - 3} more`);
      out.set(id, { status: f[0] ?? 'missing', doneAt: Number(f[1] ?? 0), finalChannel: f[2] ?? '', attempts });
    });
  }
  return out;
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
  const callbackUrl = `http://127.0.0.1:${started.httpPort}/api/v2/callbacks/whatsapp`;
  const wa = await startScript('bench/lib/whatsapp-sim.ts', [String(waPort), callbackUrl, WA.appSecret, WA.phoneNumberId, WA.accessToken, String(PROVIDER_DELAY_MS)], waPort);
  const redis = new Redis(REDIS_URL);
  const keys = new Keys(started.prefix);
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const http = (method: 'GET' | 'POST', path: string, payload?: string): Promise<{ status: number; text: string }> =>
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
  const pids = { app: started.app.pid ?? 0, sim: started.sim.pid ?? 0, wa: wa.pid ?? 0, redis: redis0.pid ?? 0 };
  let passed = false;
  try {
    const chains: Chain[] = [];
    /** Accepted and not yet seen final, oldest first (a Map keeps insertion order). */
    const pending = new Map<string, number>();
    const doneAt = new Map<string, number>();
    const statuses: Record<string, number> = {};
    const postLatencies: number[] = [];
    let errors = 0;
    let firstError = '';
    let pollCommands = 0;

    const cpu0 = process.cpuUsage();
    const cpuStart = { app: cpuSeconds(pids.app) ?? 0, sim: cpuSeconds(pids.sim) ?? 0, wa: cpuSeconds(pids.wa) ?? 0, redis: cpuSeconds(pids.redis) ?? 0 };
    const t0 = performance.now();
    const epoch0 = Date.now();
    const samples: { t: number; accepted: number; finished: number }[] = [];
    const sampler = setInterval(() => {
      samples.push({ t: round((performance.now() - t0) / 1000), accepted: chains.length, finished: doneAt.size });
    }, 1000);

    // The reader of final states, running beside the posting and after it.
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const oldest: string[] = [];
        for (const id of pending.keys()) {
          oldest.push(id);
          if (oldest.length >= POLL_BATCH) break;
        }
        if (oldest.length > 0) {
          pollCommands += oldest.length;
          for (const [id, r] of await readChains(redis, keys, oldest, false)) {
            if (FINAL_CHAIN.has(r.status as ChainStatus)) {
              pending.delete(id);
              doneAt.set(id, r.doneAt);
            }
          }
        }
        await sleep(POLL_MS);
      }
    })();

    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < CHAINS) {
        const i = next++;
        const sentAt = Date.now();
        const t = performance.now();
        try {
          const res = await http('POST', '/api/v2/messages/orchestrate', body(i));
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          if (res.status !== 202) {
            if (firstError === '') firstError = `${res.status} ${res.text.slice(0, 300)}`;
            continue;
          }
          postLatencies.push(performance.now() - t);
          const id = (JSON.parse(res.text) as { orchestration_id: string }).orchestration_id;
          chains.push({ id, sentAt });
          pending.set(id, sentAt);
        } catch (err) {
          errors++;
          if (firstError === '') firstError = String(err);
          // An appliance that stopped answering: stop posting rather than wait out every request.
          if (errors >= CONCURRENCY) next = CHAINS;
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const postSeconds = (performance.now() - t0) / 1000;
    const lastPostAt = Date.now();

    // Bounded wait for every accepted chain to end.
    const drainEnd = performance.now() + DRAIN_SECONDS * 1000;
    while (pending.size > 0 && performance.now() < drainEnd) await sleep(POLL_MS);
    reading = false;
    await reader;
    clearInterval(sampler);
    const gen = process.cpuUsage(cpu0);
    const cpu = {
      app: round((cpuSeconds(pids.app) ?? 0) - cpuStart.app),
      sim: round((cpuSeconds(pids.sim) ?? 0) - cpuStart.sim),
      whatsappSim: round((cpuSeconds(pids.wa) ?? 0) - cpuStart.wa),
      redis: round((cpuSeconds(pids.redis) ?? 0) - cpuStart.redis),
      generator: round((gen.user + gen.system) / 1e6),
    };
    const redis1 = await redisServerInfo();
    const drainedAfterSeconds = (Date.now() - lastPostAt) / 1000;

    // Every accepted chain, read whole: delivered on SMS (lost otherwise), and by the path asked for.
    const all = await readChains(redis, keys, chains.map((c) => c.id), true);
    const outcomes: Record<string, number> = {};
    let delivered = 0;
    let otherPath = 0;
    let lastEnd = 0;
    for (const r of all.values()) {
      const shape = `${r.status}:${r.finalChannel || '-'}:${r.attempts.join(',')}`;
      outcomes[shape] = (outcomes[shape] ?? 0) + 1;
      if (r.status === 'delivered' && r.finalChannel === 'sms') {
        delivered++;
        if (r.attempts.join(',') !== EXPECTED) otherPath++;
      }
      lastEnd = Math.max(lastEnd, r.doneAt);
    }
    const accepted = chains.length;
    const lost = accepted - delivered;
    const latencies = chains.flatMap((c) => {
      const r = all.get(c.id);
      return r && FINAL_CHAIN.has(r.status as ChainStatus) && r.doneAt > 0 ? [r.doneAt - c.sentAt] : [];
    });
    const runSeconds = lastEnd > 0 ? (lastEnd - epoch0) / 1000 : 0;

    // The API's view of a sample: the same chain as the hash says.
    let apiMismatches = 0;
    const step = Math.max(1, Math.floor(accepted / API_SAMPLE));
    for (let k = 0; k < accepted; k += step) {
      const c = chains[k];
      if (!c) continue;
      const res = await http('GET', `/api/v2/messages/orchestrate/${c.id}`);
      const s = res.status === 200 ? (JSON.parse(res.text) as { status: string; final_channel: string | null; channels_attempted: { channel: string; outcome: string }[] }) : undefined;
      const shape = s ? `${s.status}:${s.final_channel ?? '-'}:${s.channels_attempted.map((a) => `${a.channel}:${a.outcome}`).join(',')}` : `http ${res.status}`;
      if (shape !== `delivered:sms:${EXPECTED}`) apiMismatches++;
    }

    const metrics = await http('GET', '/metrics');
    const events: Record<string, number> = {};
    for (const m of metrics.text.matchAll(/^router_orchestration_events_total\{event="(\w+)"\} (\d+)/gm)) events[m[1] ?? ''] = Number(m[2]);

    const sorted = Float64Array.from(latencies).sort();
    const post = Float64Array.from(postLatencies).sort();
    const finished = latencies.length;
    const perChainUs = (s: number): number => (finished > 0 ? Math.round((s * 1e6) / finished) : 0);
    passed = lost === 0 && otherPath === 0 && accepted === CHAINS && apiMismatches === 0;
    const result = {
      bench: 'orchestration',
      processes: PROCESSES,
      ...env,
      chains: CHAINS,
      concurrency: CONCURRENCY,
      retryDelayMs: RETRY_DELAY_MS,
      providerDelayMs: PROVIDER_DELAY_MS,
      distOlderThanSrc,
      accepted,
      statuses,
      errors,
      firstError: firstError === '' ? null : firstError,
      postSeconds: round(postSeconds, 2),
      acceptedPerSecond: Math.round(accepted / postSeconds),
      postP50Ms: round(percentile(post, 50), 2),
      postP99Ms: round(percentile(post, 99), 2),
      finished,
      /** First request → the last chain's end. */
      runSeconds: round(runSeconds, 2),
      chainsPerSecond: runSeconds > 0 ? Math.round(finished / runSeconds) : 0,
      /** How long after the last request the bench saw the last chain end (its reader's delay included). */
      drainedAfterSeconds: round(drainedAfterSeconds, 2),
      chainP50Ms: round(percentile(sorted, 50)),
      chainP99Ms: round(percentile(sorted, 99)),
      chainMaxMs: round(sorted[sorted.length - 1] ?? 0),
      delivered,
      lost,
      /** Delivered on SMS, but not after exactly one failed WhatsApp attempt (refused at admission, a retry…). */
      otherPath,
      /** status:final channel:attempts → chains. */
      outcomes,
      apiSample: Math.ceil(accepted / step),
      apiMismatches,
      engineEvents: events,
      passed,
      appPeakRssMiB: peakRssMiB(pids.app),
      whatsappSimPeakRssMiB: peakRssMiB(pids.wa),
      cpuSeconds: cpu,
      cpuMicrosPerChain: { app: perChainUs(cpu.app), redis: perChainUs(cpu.redis), sim: perChainUs(cpu.sim), whatsappSim: perChainUs(cpu.whatsappSim) },
      /** HMGETs the reader of final states sent (in Redis's CPU figure, a small part of it). */
      pollCommands,
      redisAofRewrites: (redis1.aofRewrites ?? 0) - (redis0.aofRewrites ?? 0),
      samples,
      database: KEEP_DB ? database : `${database} (dropped)`,
      command: `make build && ${PROCESSES_PREFIX}BENCH_CHAINS=${CHAINS} BENCH_CONCURRENCY=${CONCURRENCY} BENCH_RETRY_DELAY_MS=${RETRY_DELAY_MS} BENCH_PROVIDER_DELAY_MS=${PROVIDER_DELAY_MS} npm run bench:orchestration`,
    };
    const path = writeResult('orchestration', result);
    console.log(JSON.stringify({ ...result, samples: `${samples.length} (in the JSON file)` }, null, 2));
    console.log(
      `orchestration: ${accepted} of ${CHAINS} chains accepted at ${result.acceptedPerSecond}/s (POST p50 ${result.postP50Ms} ms, p99 ${result.postP99Ms} ms, ${CONCURRENCY} in flight), ` +
        `${finished} ended in ${result.runSeconds} s: ${result.chainsPerSecond} chains/s (WhatsApp failed → SMS delivered); request → chain end p50 ${result.chainP50Ms} ms, p99 ${result.chainP99Ms} ms; ` +
        `lost ${lost}; app peak RSS ${result.appPeakRssMiB ?? '?'} MiB; CPU s app ${cpu.app}, redis ${cpu.redis}, smsc sim ${cpu.sim}, whatsapp sim ${cpu.whatsappSim}, generator ${cpu.generator} ` +
        `(${result.cpuMicrosPerChain.app} µs app, ${result.cpuMicrosPerChain.redis} µs redis a chain) (${env.sha}, ${env.node}, ${env.cpu}, ${env.cores} cores) → ${path}`,
    );
    console.log(`reproduce: ${result.command}`);
    console.log(
      passed
        ? `orchestration: PASSED: every chain (${accepted}) delivered on SMS after WhatsApp failed; ${result.apiSample} read back through the GET agree`
        : `orchestration: FAILED: ${lost} of ${accepted} accepted chains not delivered on SMS, ${otherPath} delivered by another path, ${CHAINS - accepted} not accepted (${errors} errors, statuses ${JSON.stringify(statuses)}), ${apiMismatches} GET mismatches; outcomes ${JSON.stringify(outcomes)}`,
    );
  } finally {
    agent.destroy();
    redis.disconnect();
    await stopChild(wa);
    await started.stop();
    if (!KEEP_DB) await dropDatabase(database);
  }
  process.exit(passed ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
