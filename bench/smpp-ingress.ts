/**
 * SMPP ingress: N ESME binds keep their windows full of submit_sm for a fixed time against a built
 * Catalyst (child) whose upstream is unreachable, so what is measured is admission alone: every
 * accepted submit is in Redis before its submit_sm_resp leaves. Then, in the same run, the same
 * load against a plain SMSC built on the `smpp` npm package that only answers submit_sm_resp
 * (bench/lib/plain-smpp-server.ts, child, no storage). Prints accepted submits a second and p50/p99
 * response latency for both, the ratio, each server's peak RSS and CPU, and the CPU the load
 * generator (bench/lib/lean-esme.ts, in this process) used, so a generator-limited figure shows.
 *
 *   make build && npm run bench:smpp-ingress
 *   BENCH_BINDS=8 BENCH_WINDOW=1000 BENCH_SECONDS=15 npm run bench:smpp-ingress
 *   BENCH_PROCESSES=2 npm run bench:smpp-ingress   (the appliance as a cluster of 2 workers)
 *   BENCH_REFILL_AT=1 npm run bench:smpp-ingress   (top windows up after every read; see REFILL_AT)
 *   BENCH_APP_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench:smpp-ingress   (profile the appliance)
 */
import type { ChildProcess } from 'node:child_process';
import { checkBuilt, freePort, redisServerInfo, startAppliance, startScript, stopChild, PROCESSES, APPLIANCE_PREFIX } from './lib/harness.js';
import { LeanEsme, refusals, submitTemplate, total } from './lib/lean-esme.js';
import { cpuSeconds, environment, peakRssMiB, percentile, writeResult } from './lib/report.js';

/**
 * 8: with 4 binds × 1,000 the appliance's answer time, not its CPU, set the rate (4,000 submits
 * in flight over a ~270 ms round trip); with 8 both the appliance and Redis are busy.
 */
const BINDS = Number(process.env['BENCH_BINDS'] ?? 8);
const WINDOW = Number(process.env['BENCH_WINDOW'] ?? 1000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 15);
const WARMUP_SECONDS = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 2);
/**
 * Free slots a bind waits for before it tops its window up (1: after every read); by default a
 * sixteenth of the window, so windows stay at least 94% full. Topping up after every read costs
 * the generator a core against a server that answers one PDU a write (the smpp package does), and
 * that server then reads one PDU a write back: 12 s of generator CPU in 15 s, and a p99 of a second
 * beside a p50 of 12 ms as sessions starve one another.
 */
const DEFAULT_REFILL_AT = Math.max(1, Math.floor(WINDOW / 16));
const REFILL_AT = Number(process.env['BENCH_REFILL_AT'] ?? DEFAULT_REFILL_AT);

interface IngressFigures {
  readonly seconds: number;
  readonly accepted: number;
  readonly acceptedPerSecond: number;
  /** Accepted per bind: how evenly the server serves its sessions. */
  readonly acceptedPerBind: readonly number[];
  readonly refused: number;
  readonly refusedByStatus: Record<string, number>;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly serverPeakRssMiB: number | undefined;
  readonly serverCpuSeconds: number;
  readonly generatorCpuSeconds: number;
  /** Redis CPU during the measurement (Catalyst only: the plain server has no Redis). */
  readonly redisCpuSeconds?: number;
  /** Redis AOF rewrites (a fork and a rewrite of the dataset) during the measurement: noise. */
  readonly redisAofRewrites?: number;
  /** CPU of the AOF rewrites that ended in the run (Redis's count of its children's; not in redisCpuSeconds). */
  readonly redisAofRewriteCpuSeconds?: number;
  readonly serverCpuMicrosPerSubmit: number;
  readonly redisCpuMicrosPerSubmit?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (n: number, places = 1): number => Math.round(n * 10 ** places) / 10 ** places;

/** Binds, warms up, then measures SECONDS of full windows against `port`; `server` is measured too. */
async function measure(port: number, server: ChildProcess, template: Buffer, withRedis: boolean): Promise<IngressFigures> {
  const pid = server.pid ?? 0;
  const latencies: number[] = [];
  const esmes: LeanEsme[] = [];
  for (let i = 0; i < BINDS; i++) esmes.push(await LeanEsme.open(port, template, { window: WINDOW, mode: 'window', refillAt: REFILL_AT, latencies }));
  try {
    for (const e of esmes) e.fill();
    await sleep(WARMUP_SECONDS * 1000);
    latencies.length = 0;
    const perBind0 = esmes.map((e) => e.accepted);
    const accepted0 = total(esmes, 'accepted');
    const refused0 = total(esmes, 'refused');
    const cpu0 = process.cpuUsage();
    const server0 = cpuSeconds(pid) ?? 0;
    const redis0 = withRedis ? await redisServerInfo() : undefined;
    const redisCpu0 = cpuSeconds(redis0?.pid ?? 0) ?? 0;
    const t0 = performance.now();
    await sleep(SECONDS * 1000);
    const elapsed = (performance.now() - t0) / 1000;
    const accepted = total(esmes, 'accepted') - accepted0;
    const refused = total(esmes, 'refused') - refused0;
    const acceptedPerBind = esmes.map((e, i) => e.accepted - (perBind0[i] ?? 0));
    const gen = process.cpuUsage(cpu0);
    const serverCpu = (cpuSeconds(pid) ?? 0) - server0;
    const redisCpu = (cpuSeconds(redis0?.pid ?? 0) ?? 0) - redisCpu0;
    const redis1 = withRedis ? await redisServerInfo() : undefined;
    for (const e of esmes) e.stop();
    const sorted = Float64Array.from(latencies).sort();
    return {
      seconds: round(elapsed),
      accepted,
      acceptedPerSecond: Math.round(accepted / elapsed),
      acceptedPerBind,
      refused,
      refusedByStatus: refusals(esmes),
      p50Ms: round(percentile(sorted, 50), 2),
      p99Ms: round(percentile(sorted, 99), 2),
      maxMs: round(sorted[sorted.length - 1] ?? 0, 2),
      serverPeakRssMiB: peakRssMiB(pid),
      serverCpuSeconds: round(serverCpu),
      generatorCpuSeconds: round((gen.user + gen.system) / 1e6, 2),
      ...(redis0 && redis1 ? { redisCpuSeconds: round(redisCpu), redisAofRewrites: (redis1.aofRewrites ?? 0) - (redis0.aofRewrites ?? 0), redisAofRewriteCpuSeconds: round((redis1.childCpuSeconds ?? 0) - (redis0.childCpuSeconds ?? 0)) } : {}),
      // CPU per accepted submit: what the figure costs, which a busy machine lowers less than the rate.
      serverCpuMicrosPerSubmit: round((serverCpu * 1e6) / Math.max(1, accepted)),
      ...(redis0 && redis1 ? { redisCpuMicrosPerSubmit: round((redisCpu * 1e6) / Math.max(1, accepted)) } : {}),
    };
  } finally {
    for (const e of esmes) e.close();
  }
}

function line(name: string, f: IngressFigures): string {
  return (
    `${name}: ${f.acceptedPerSecond} submits/s accepted, p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, per bind ${f.acceptedPerBind.join('/')}, refused ${f.refused} ${JSON.stringify(f.refusedByStatus)}, ` +
    `server peak RSS ${f.serverPeakRssMiB ?? '?'} MiB, server CPU ${f.serverCpuSeconds}s (${f.serverCpuMicrosPerSubmit} µs/submit), ` +
    (f.redisCpuSeconds === undefined ? '' : `redis CPU ${f.redisCpuSeconds}s (${f.redisCpuMicrosPerSubmit ?? '?'} µs/submit, ${f.redisAofRewrites ?? '?'} AOF rewrites, ${f.redisAofRewriteCpuSeconds ?? '?'} s of CPU), `) +
    `generator CPU ${f.generatorCpuSeconds}s of ${f.seconds}s`
  );
}

async function main(): Promise<void> {
  const env = environment();
  const { distOlderThanSrc } = checkBuilt();
  const template = submitTemplate(0);

  // Upstream unreachable: accepted messages queue in Redis, so admission alone is measured.
  const catalyst = await startAppliance({ smppWindow: WINDOW * 2, upstreamReachable: false });
  let catalystFigures: IngressFigures;
  try {
    catalystFigures = await measure(catalyst.smppPort, catalyst.app, template, true);
  } finally {
    await catalyst.stop();
  }

  // The plain server runs after the appliance stopped, so it has the machine to itself.
  const plainPort = await freePort();
  const plain = await startScript('bench/lib/plain-smpp-server.ts', [String(plainPort)], plainPort);
  let plainFigures: IngressFigures;
  try {
    plainFigures = await measure(plainPort, plain, template, false);
  } finally {
    await stopChild(plain);
  }

  const ratio = round(catalystFigures.acceptedPerSecond / Math.max(1, plainFigures.acceptedPerSecond), 3);
  const result = {
    bench: 'smpp-ingress',
    processes: PROCESSES,
    ...env,
    binds: BINDS,
    window: WINDOW,
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    refillAt: REFILL_AT,
    distOlderThanSrc,
    catalyst: catalystFigures,
    plainSmppPackage: plainFigures,
    ratio,
    command: `${APPLIANCE_PREFIX}BENCH_BINDS=${BINDS} BENCH_WINDOW=${WINDOW} BENCH_SECONDS=${SECONDS}${REFILL_AT === DEFAULT_REFILL_AT ? '' : ` BENCH_REFILL_AT=${REFILL_AT}`} npm run bench:smpp-ingress`,
  };
  const path = writeResult('smpp-ingress', result);
  console.log(JSON.stringify(result, null, 2));
  console.log(line('catalyst', catalystFigures));
  console.log(line('plain smpp package', plainFigures));
  console.log(
    `smpp-ingress: Catalyst accepts ${catalystFigures.acceptedPerSecond} submits/s (p99 ${catalystFigures.p99Ms} ms), ${(ratio * 100).toFixed(1)}% of a plain smpp-package server's ` +
      `${plainFigures.acceptedPerSecond}/s (${env.sha}, ${env.node}, ${env.cpu}, ${env.cores} cores) → ${path}`,
  );
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
