/**
 * End to end, with zero-loss verification: N ESME binds submit at a fixed offered rate, receipts
 * asked, into a built Catalyst (child) that routes to the SMSC simulator (child); receipts come back
 * to the ESMEs and every event lands in ClickHouse (a database of this run's own, dropped after).
 * After BENCH_SECONDS of sending, the bench waits (bounded) until every accepted submit has its
 * receipt at an ESME and its final row in ClickHouse, then reports:
 *   lost      = accepted − distinct receipts matched to an accepted message id
 *   lostRows  = accepted − distinct message ids with a final row (delivered/failed/expired/rejected)
 *   end-to-end latency (submit written → its receipt read, matched on receipted_message_id or the
 *   text's id:) over the whole run and in its steady state (submits written after the first
 *   BENCH_STEADY_AFTER_SECONDS, 5: the appliance's JIT warm-up is past), and per second in the
 *   JSON's samples with whether Redis was rewriting its AOF then (a fork and a rewrite of the
 *   dataset, which on two shared cores takes one of them for seconds), the sustained rate, how
 *   long receipts and rows took to catch up after the last submit, peak RSS and CPU of the
 *   appliance, the simulator and Redis, and the generator's CPU.
 * First a warm-up (BENCH_WARMUP_SECONDS, 5, at BENCH_WARMUP_RATE, a tenth of the rate): the
 * appliance, the simulator and the generator start cold, and their first thousands of messages run
 * before V8 has compiled the hot paths (at 8,000/s with no warm-up, the first three seconds' p99 was
 * 740-960 ms; after a warm-up at 800/s, 240 ms). The bench waits for the warm-up's receipts, then
 * measures: rates, latencies, samples and CPU are of the measured part alone, and the loss checks
 * cover every message, the warm-up's too. BENCH_WARMUP_SECONDS=0 measures a cold start.
 * Passed = nothing lost, and the send queue empty (no entry left, none counted). Kept up = the offered rate was accepted, nothing refused, receipts owed at
 * the last submit were at most BENCH_MAX_LAG_SECONDS (5) of traffic, and receipts and rows caught
 * up within as long after it: the rate is sustainable, not just survived.
 *
 *   make build && npm run bench:e2e
 *   BENCH_RATE=5000 BENCH_SECONDS=60 BENCH_BINDS=4 npm run bench:e2e
 *   BENCH_KEEP_DB=1 npm run bench:e2e          (keep the run's ClickHouse database to look into)
 *   BENCH_METRICS_DUMP=/tmp/m.txt npm run bench:e2e   (the appliance's /metrics at the last submit:
 *                                               queue depth, script round trips, windows in flight)
 */
import { Redis } from 'ioredis';
import { BENCH_UPSTREAM, CLICKHOUSE_URL, REDIS_URL, checkBuilt, clickhousePid, dropDatabase, queueLeft, redisServerInfo, startAppliance, PROCESSES, APPLIANCE_PREFIX } from './lib/harness.js';
import { LeanEsme, refusals, submitTemplate, total } from './lib/lean-esme.js';
import { cpuSeconds, environment, peakRssMiB, percentile, writeResult } from './lib/report.js';
import { createClickHouse } from '../src/store/clickhouse/index.js';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const RATE = Number(process.env['BENCH_RATE'] ?? 5000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 60);
const BINDS = Number(process.env['BENCH_BINDS'] ?? 4);
/** Most submits in flight per bind: a cap only; the pacer decides what is sent. */
const WINDOW = Number(process.env['BENCH_WINDOW'] ?? 2000);
const DRAIN_SECONDS = Number(process.env['BENCH_DRAIN_SECONDS'] ?? 180);
const WARMUP_SECONDS = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 5);
const WARMUP_RATE = Number(process.env['BENCH_WARMUP_RATE'] ?? Math.max(100, Math.round(RATE / 10)));
/** Submits written from this second of the run on make the steady-state latency figures. */
const STEADY_AFTER_SECONDS = Number(process.env['BENCH_STEADY_AFTER_SECONDS'] ?? 5);
/** The end-to-end p99 target: the seconds whose p99 passed it are counted. */
const P99_TARGET_MS = 250;
/**
 * Kept up: at the last submit, receipts owed were at most this many seconds of the offered rate,
 * and receipts and rows caught up within it. Both, because once submits stop the appliance's CPU
 * goes to receipts and even a backlog of many seconds clears fast.
 */
const MAX_LAG_SECONDS = Number(process.env['BENCH_MAX_LAG_SECONDS'] ?? 5);
const KEEP_DB = process.env['BENCH_KEEP_DB'] === '1';
/** The pacer's tick: at 5,000/s that is 25 submits a tick, a few per bind in one write each. */
const TICK_MS = 5;

const FINAL = "('delivered','failed','expired','rejected')";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (n: number, places = 1): number => Math.round(n * 10 ** places) / 10 ** places;

/**
 * Paces the binds at `rate` for `seconds`: each owes rate / binds × elapsed submits since the
 * call, and a window-capped shortfall carries over. Resolves with the ticks a window capped.
 */
function pace(esmes: readonly LeanEsme[], rate: number, seconds: number): Promise<number> {
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const from = esmes.map((e) => e.sent);
  const perBind = rate / esmes.length;
  let windowLimited = 0;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      const elapsed = (Math.min(now, end) - t0) / 1000;
      esmes.forEach((e, i) => {
        const owed = Math.floor(perBind * elapsed) - (e.sent - (from[i] ?? 0));
        if (owed > 0 && e.send(owed) < owed) windowLimited++;
      });
      if (now >= end) {
        clearInterval(timer);
        resolve(windowLimited);
      }
    }, TICK_MS);
  });
}

/** Matches receipts to accepted submits by message id, whichever of the two is read first. */
class Tracker {
  matched = 0;
  duplicateReceipts = 0;
  receiptsWithoutId = 0;
  readonly latencies: number[] = [];
  /** Latencies of submits written at or after steadyFrom (performance.now()). */
  readonly steadyLatencies: number[] = [];
  steadyFrom = Infinity;
  /** Submits written before this (the warm-up's) are matched, but their latencies are not kept. */
  measuredFrom = Infinity;
  /** Latencies of the receipts read since the last sample (takeWindow). */
  private window: number[] = [];
  /** Accepted, receipt not yet read: message id → when the submit was written. */
  private readonly waiting = new Map<string, number>();
  /** Receipt read before its submit_sm_resp: message id → when the receipt was read. */
  private readonly early = new Map<string, number>();
  private readonly done = new Set<string>();

  accepted(id: string, sentAt: number): void {
    const got = this.early.get(id);
    if (got === undefined) {
      this.waiting.set(id, sentAt);
      return;
    }
    this.early.delete(id);
    this.finish(id, sentAt, got - sentAt);
  }

  receipt(id: string, now: number): void {
    if (id === '') {
      this.receiptsWithoutId++;
      return;
    }
    const sentAt = this.waiting.get(id);
    if (sentAt !== undefined) {
      this.waiting.delete(id);
      this.finish(id, sentAt, now - sentAt);
    } else if (this.done.has(id)) this.duplicateReceipts++;
    else this.early.set(id, now);
  }

  /** Receipts whose message id no submit_sm_resp carried. */
  get unmatchedReceipts(): number {
    return this.early.size;
  }

  /** p50, p99 and max of the latencies read since the last call: where in the run the tail was. */
  takeWindow(): { p50Ms: number; p99Ms: number; maxMs: number } {
    const w = Float64Array.from(this.window).sort();
    this.window = [];
    return { p50Ms: round(percentile(w, 50)), p99Ms: round(percentile(w, 99)), maxMs: round(w[w.length - 1] ?? 0) };
  }

  private finish(id: string, sentAt: number, latency: number): void {
    this.done.add(id);
    this.matched++;
    if (sentAt < this.measuredFrom) return;
    this.latencies.push(latency);
    if (sentAt >= this.steadyFrom) this.steadyLatencies.push(latency);
    this.window.push(latency);
  }
}

/**
 * Whether Redis rewrote its AOF, polled four times a second on a connection of its own: take()
 * answers for the time since the last take().
 */
class AofWatch {
  private readonly redis = new Redis(REDIS_URL);
  private readonly timer: NodeJS.Timeout;
  private rewrites: number | undefined;
  private seen = false;

  constructor() {
    this.timer = setInterval(() => {
      this.redis.info('persistence').then(
        (info) => {
          const count = Number(/aof_rewrites:(\d+)/.exec(info)?.[1] ?? 0);
          if (/aof_rewrite_in_progress:1/.test(info) || (this.rewrites !== undefined && count !== this.rewrites)) this.seen = true;
          this.rewrites = count;
        },
        () => undefined,
      );
    }, 250);
  }

  take(): boolean {
    const seen = this.seen;
    this.seen = false;
    return seen;
  }

  stop(): void {
    clearInterval(this.timer);
    this.redis.disconnect();
  }
}

interface Sample {
  readonly t: number;
  readonly sent: number;
  readonly accepted: number;
  readonly receipts: number;
  /** Accepted, receipt not yet back. */
  readonly backlog: number;
  /** End-to-end latency of the receipts read in this second. */
  readonly e2e: { p50Ms: number; p99Ms: number; maxMs: number };
  /** Redis rewrote its AOF in this second: seen in progress at one of AofWatch's polls, or one finished since the last. */
  readonly aofRewrite: boolean;
}

/**
 * CPU a measured message cost each process, and all of them (the machine's budget: two cores give
 * at most 2,000,000 ÷ all messages a second), per message accepted after the warm-up.
 */
function perMessage(cpu: Readonly<Record<'app' | 'sim' | 'redis' | 'clickhouse' | 'generator', number>>, messages: number): Record<keyof typeof cpu | 'all', number> {
  const each = (s: number): number => round((s * 1e6) / Math.max(1, messages));
  return { app: each(cpu.app), redis: each(cpu.redis), sim: each(cpu.sim), clickhouse: each(cpu.clickhouse), generator: each(cpu.generator), all: each(cpu.app + cpu.redis + cpu.sim + cpu.clickhouse + cpu.generator) };
}

async function main(): Promise<void> {
  const env = environment();
  const { distOlderThanSrc } = checkBuilt();
  const database = `catalyst_bench_e2e_${randomBytes(4).toString('hex')}`;
  const started = await startAppliance({ smppWindow: WINDOW * 2, upstreamReachable: true, clickhouseDatabase: database });
  const ch = createClickHouse(CLICKHOUSE_URL);
  const finalRows = async (): Promise<number> => {
    const rs = await ch.query({
      query: `SELECT uniqExact(message_id) AS n FROM ${database}.message_events WHERE account_id = 'bench' AND status IN ${FINAL}`,
      format: 'JSONEachRow',
    });
    const rows = await rs.json<{ n: number | string }>();
    return Number(rows[0]?.n ?? 0);
  };
  const redis0 = await redisServerInfo();
  // ClickHouse's server shares the cores too (its inserts and merges; the drain's count queries are the bench's own).
  const pids = { app: started.app.pid ?? 0, sim: started.sim.pid ?? 0, redis: redis0.pid ?? 0, clickhouse: clickhousePid() ?? 0 };
  const esmes: LeanEsme[] = [];
  try {
    const tracker = new Tracker();
    const events = {
      onAccepted: (id: string, sentAt: number): void => {
        tracker.accepted(id, sentAt);
      },
      onReceipt: (id: string, now: number): void => {
        tracker.receipt(id, now);
      },
    };
    const submitLatencies: number[] = [];
    const template = submitTemplate(1);
    for (let i = 0; i < BINDS; i++) esmes.push(await LeanEsme.open(started.smppPort, template, { window: WINDOW, mode: 'paced', latencies: submitLatencies, events }));

    // The warm-up: paced like the run at its own rate, then its receipts awaited (bounded).
    await pace(esmes, WARMUP_RATE, WARMUP_SECONDS);
    const warmUntil = performance.now() + 15_000;
    while (performance.now() < warmUntil && (total(esmes, 'inflight') > 0 || tracker.matched < total(esmes, 'accepted'))) await sleep(50);
    const warm = { sent: total(esmes, 'sent'), accepted: total(esmes, 'accepted'), receipts: tracker.matched };

    const cpu0 = process.cpuUsage();
    // Each process's CPU so far (0 for one not found).
    const processCpu = (): Record<keyof typeof pids, number> => ({ app: cpuSeconds(pids.app) ?? 0, sim: cpuSeconds(pids.sim) ?? 0, redis: cpuSeconds(pids.redis) ?? 0, clickhouse: cpuSeconds(pids.clickhouse) ?? 0 });
    const cpuStart = processCpu();
    const t0 = performance.now();
    tracker.measuredFrom = t0;
    tracker.steadyFrom = t0 + STEADY_AFTER_SECONDS * 1000;
    const aof = new AofWatch();
    const samples: Sample[] = [];
    const sample = (): void => {
      const accepted = total(esmes, 'accepted') - warm.accepted;
      const receipts = tracker.matched - warm.receipts;
      samples.push({ t: round((performance.now() - t0) / 1000), sent: total(esmes, 'sent') - warm.sent, accepted, receipts, backlog: accepted - receipts, e2e: tracker.takeWindow(), aofRewrite: aof.take() });
    };
    const sampler = setInterval(sample, 1000);
    const windowLimitedTicks = await pace(esmes, RATE, SECONDS);
    clearInterval(sampler);
    for (const e of esmes) e.stop();
    const sendElapsed = (performance.now() - t0) / 1000;
    sample();
    aof.stop();
    const atStop = { accepted: total(esmes, 'accepted') - warm.accepted, receipts: tracker.matched - warm.receipts };
    if (process.env['BENCH_METRICS_DUMP']) writeFileSync(process.env['BENCH_METRICS_DUMP'], await (await fetch(`http://127.0.0.1:${started.httpPort}/metrics`)).text());

    // Bounded wait: the last responses, then every receipt at the ESMEs and every final row.
    const drainStart = performance.now();
    const drainEnd = drainStart + DRAIN_SECONDS * 1000;
    let rows = 0;
    let receiptsCaughtUpAfter: number | undefined;
    let rowsCaughtUpAfter: number | undefined;
    let lastRowsCheck = 0;
    while (performance.now() < drainEnd) {
      const inflight = total(esmes, 'inflight');
      const accepted = total(esmes, 'accepted');
      if (inflight === 0 && receiptsCaughtUpAfter === undefined && tracker.matched >= accepted) receiptsCaughtUpAfter = (performance.now() - drainStart) / 1000;
      if (inflight === 0 && rowsCaughtUpAfter === undefined && performance.now() - lastRowsCheck >= 1000) {
        lastRowsCheck = performance.now();
        rows = await finalRows();
        if (rows >= accepted) rowsCaughtUpAfter = (performance.now() - drainStart) / 1000;
      }
      if (receiptsCaughtUpAfter !== undefined && rowsCaughtUpAfter !== undefined) break;
      await sleep(100);
    }
    const gen = process.cpuUsage(cpu0);
    const cpuEnd = processCpu();
    const cpu = {
      app: round(cpuEnd.app - cpuStart.app),
      sim: round(cpuEnd.sim - cpuStart.sim),
      redis: round(cpuEnd.redis - cpuStart.redis),
      clickhouse: round(cpuEnd.clickhouse - cpuStart.clickhouse),
      generator: round((gen.user + gen.system) / 1e6),
    };
    const redis1 = await redisServerInfo();
    const totalSeconds = sendElapsed + (performance.now() - drainStart) / 1000;
    rows = await finalRows();
    // Every message had its outcome: the send queue must be empty, and count none.
    const queue = await queueLeft(started.prefix, BENCH_UPSTREAM);
    // The loss checks count every message, the warm-up's too; the rates only the measured part.
    const sent = total(esmes, 'sent');
    const accepted = total(esmes, 'accepted');
    const refused = total(esmes, 'refused');
    const lost = accepted - tracker.matched;
    const lostRows = accepted - rows;
    const e2e = Float64Array.from(tracker.latencies).sort();
    const steady = Float64Array.from(tracker.steadyLatencies).sort();
    const secondsOverTarget = samples.filter((x) => x.e2e.p99Ms > P99_TARGET_MS);
    const submit = Float64Array.from(submitLatencies).sort();
    const acceptedPerSecond = Math.round(atStop.accepted / sendElapsed);
    const passed = lost === 0 && lostRows === 0 && accepted > 0 && queue.entries === 0 && queue.counted === 0;
    const caughtUp = Math.max(receiptsCaughtUpAfter ?? Infinity, rowsCaughtUpAfter ?? Infinity);
    const lagAtStopSeconds = (atStop.accepted - atStop.receipts) / RATE;
    const keptUp = passed && acceptedPerSecond >= 0.99 * RATE && refused === 0 && lagAtStopSeconds <= MAX_LAG_SECONDS && caughtUp <= MAX_LAG_SECONDS;
    const result = {
      bench: 'e2e',
    processes: PROCESSES,
      ...env,
      offeredRate: RATE,
      binds: BINDS,
      window: WINDOW,
      seconds: round(sendElapsed),
      /** Before the measured part: its messages are in the loss checks (sent, accepted, lost), not in the rates or latencies. */
      warmup: { seconds: WARMUP_SECONDS, rate: WARMUP_RATE, accepted: warm.accepted, receiptsBeforeStart: warm.receipts },
      distOlderThanSrc,
      sent,
      accepted,
      refused,
      refusedByStatus: refusals(esmes),
      sentPerSecond: Math.round((sent - warm.sent) / sendElapsed),
      acceptedPerSecond,
      receiptsPerSecondDuringRun: Math.round(atStop.receipts / sendElapsed),
      backlogAtStop: atStop.accepted - atStop.receipts,
      /** The backlog at the last submit in seconds of the offered rate. */
      lagAtStopSeconds: round(lagAtStopSeconds),
      maxBacklog: Math.max(0, ...samples.map((s) => s.backlog)),
      receiptsCaughtUpAfterSeconds: receiptsCaughtUpAfter === undefined ? null : round(receiptsCaughtUpAfter),
      rowsCaughtUpAfterSeconds: rowsCaughtUpAfter === undefined ? null : round(rowsCaughtUpAfter),
      /** Messages through the whole path a second: receipts matched over send time plus catch-up. */
      endToEndPerSecond: Math.round((tracker.matched - warm.receipts) / totalSeconds),
      receiptsMatched: tracker.matched,
      finalRows: rows,
      lost,
      lostRows,
      /** The send queue after the drain (entries, messages counted): 0 and 0 when every message has its outcome. */
      queueLeft: queue,
      duplicateReceipts: tracker.duplicateReceipts,
      unmatchedReceipts: tracker.unmatchedReceipts,
      receiptsWithoutId: tracker.receiptsWithoutId,
      passed,
      keptUp,
      maxLagSeconds: MAX_LAG_SECONDS,
      windowLimitedTicks,
      submitP50Ms: round(percentile(submit, 50), 2),
      submitP99Ms: round(percentile(submit, 99), 2),
      e2eP50Ms: round(percentile(e2e, 50), 2),
      e2eP99Ms: round(percentile(e2e, 99), 2),
      e2eMaxMs: round(e2e[e2e.length - 1] ?? 0, 2),
      /** The same for submits written from STEADY_AFTER_SECONDS on. */
      steadyAfterSeconds: STEADY_AFTER_SECONDS,
      steadyP50Ms: round(percentile(steady, 50), 2),
      steadyP99Ms: round(percentile(steady, 99), 2),
      /** Seconds (samples) whose receipts' p99 was over the target, and how many of them saw an AOF rewrite. */
      secondsOverP99Target: secondsOverTarget.length,
      secondsOverP99TargetWithAofRewrite: secondsOverTarget.filter((x) => x.aofRewrite).length,
      appPeakRssMiB: peakRssMiB(pids.app),
      simPeakRssMiB: peakRssMiB(pids.sim),
      cpuSeconds: cpu,
      /** CPU a measured message cost each process over the run and the drain (perMessage): what compares across days better than rates. */
      microsPerMessage: perMessage(cpu, accepted - warm.accepted),
      /** Redis AOF rewrites (a fork and a rewrite of the whole dataset) during the run: noise. */
      redisAofRewrites: (redis1.aofRewrites ?? 0) - (redis0.aofRewrites ?? 0),
      /** CPU of the rewrites that ended in the run (Redis's count of its children's, not in cpuSeconds.redis). */
      redisAofRewriteCpuSeconds: round((redis1.childCpuSeconds ?? 0) - (redis0.childCpuSeconds ?? 0), 2),
      samples,
      database: KEEP_DB ? database : `${database} (dropped)`,
      command: `${APPLIANCE_PREFIX}BENCH_RATE=${RATE} BENCH_SECONDS=${SECONDS} BENCH_WARMUP_SECONDS=${WARMUP_SECONDS} BENCH_WARMUP_RATE=${WARMUP_RATE} BENCH_BINDS=${BINDS} BENCH_WINDOW=${WINDOW} npm run bench:e2e`,
    };
    const path = writeResult('e2e', result);
    console.log(JSON.stringify({ ...result, samples: `${samples.length} (in the JSON file)` }, null, 2));
    console.log(
      `e2e: offered ${RATE}/s for ${result.seconds}s after ${WARMUP_SECONDS} s of warm-up at ${WARMUP_RATE}/s: ${acceptedPerSecond} submits/s accepted (refused ${refused}), ${result.receiptsPerSecondDuringRun} receipts/s during the run, ` +
        `${result.backlogAtStop} receipts owed at the last submit (${result.lagAtStopSeconds} s), caught up ${result.receiptsCaughtUpAfterSeconds ?? 'never'} s and rows ${result.rowsCaughtUpAfterSeconds ?? 'never'} s after the last submit; ` +
        `e2e p50 ${result.e2eP50Ms} ms, p99 ${result.e2eP99Ms} ms (from ${STEADY_AFTER_SECONDS} s: p50 ${result.steadyP50Ms} ms, p99 ${result.steadyP99Ms} ms; ` +
        `${result.secondsOverP99Target} of ${samples.length} seconds over a p99 of ${P99_TARGET_MS} ms, ${result.secondsOverP99TargetWithAofRewrite} of them during an AOF rewrite; ${result.redisAofRewrites} rewrites, ${result.redisAofRewriteCpuSeconds} s of CPU); app peak RSS ${result.appPeakRssMiB ?? '?'} MiB; ` +
        `CPU s app ${cpu.app}, sim ${cpu.sim}, redis ${cpu.redis}, clickhouse ${cpu.clickhouse}, generator ${cpu.generator}; a message ${result.microsPerMessage.app} µs of appliance CPU and ${result.microsPerMessage.redis} µs of Redis, ${result.microsPerMessage.all} µs in all (${env.sha}, ${env.node}, ${env.cpu}, ${env.cores} cores) → ${path}`,
    );
    console.log(
      passed
        ? `e2e: PASSED: nothing lost (${accepted} accepted, ${tracker.matched} receipts, ${rows} final rows); ${keptUp ? 'kept up with' : 'did NOT keep up with'} ${RATE}/s`
        : `e2e: FAILED: lost ${lost} receipts and ${lostRows} final rows of ${accepted} accepted; the send queue holds ${queue.entries} entries counting ${queue.counted} messages`,
    );
  } finally {
    for (const e of esmes) e.close();
    await ch.close();
    await started.stop();
    if (!KEEP_DB) await dropDatabase(database);
  }
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
