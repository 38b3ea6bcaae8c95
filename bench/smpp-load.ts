/**
 * SMPP load: N ESME binds keep their windows full for a fixed time against a Catalyst process
 * (child) routing to the SMSC simulator (child), with receipts asked. Prints accepted submits a
 * second, receipts a second, p50/p99 submit latency, the appliance's peak RSS, and the CPU the
 * load generator itself used, so a figure limited by the generator is seen to be.
 *
 *   npm run bench:smpp                      (or: make bench)
 *   BENCH_BINDS=4 BENCH_WINDOW=200 BENCH_SECONDS=20 npm run bench:smpp
 *   BENCH_INGRESS_ONLY=1 npm run bench:smpp   (no upstream: what admission alone sustains)
 *   BENCH_APP_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench:smpp   (profile the appliance)
 *
 * The generator is bench/lib/lean-esme.ts (pre-encoded submit_sm bodies, every PDU a window allows
 * in one socket write), shared with bench:smpp-ingress and bench:e2e. For admission alone beside a
 * plain smpp-package server see bench:smpp-ingress; for zero-loss end to end see bench:e2e.
 */
import { startAppliance } from './lib/harness.js';
import { LeanEsme, submitTemplate, total } from './lib/lean-esme.js';
import { cpuSeconds, environment, peakRssMiB, percentile, writeResult } from './lib/report.js';

const BINDS = Number(process.env['BENCH_BINDS'] ?? 4);
const WINDOW = Number(process.env['BENCH_WINDOW'] ?? 200);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 15);
const RECEIPTS = (process.env['BENCH_RECEIPTS'] ?? '1') === '1';
/** Ingress only: the upstream is a closed port, so accepted messages just queue in Redis. */
const INGRESS_ONLY = process.env['BENCH_INGRESS_ONLY'] === '1';

async function main(): Promise<void> {
  const env = environment();
  const started = await startAppliance({ smppWindow: WINDOW * 2, upstreamReachable: !INGRESS_ONLY });
  const app = started.app;
  const smppPort = started.smppPort;

  const template = submitTemplate(RECEIPTS ? 1 : 0);
  const latencies: number[] = [];
  const esmes: LeanEsme[] = [];
  for (let i = 0; i < BINDS; i++) esmes.push(await LeanEsme.open(smppPort, template, { window: WINDOW, mode: 'window', latencies }));
  const cpu0 = process.cpuUsage();
  const appCpu0 = cpuSeconds(app.pid ?? 0) ?? 0;
  const t0 = performance.now();
  for (const e of esmes) e.fill();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  for (const e of esmes) e.stop();
  const elapsed = (performance.now() - t0) / 1000;
  const accepted = total(esmes, 'accepted');
  const refused = total(esmes, 'refused');
  const receiptsInWindow = total(esmes, 'receipts');
  const genCpu = process.cpuUsage(cpu0);
  const appCpu = (cpuSeconds(app.pid ?? 0) ?? 0) - appCpu0;
  // Let receipts for what was accepted arrive, bounded.
  const drainEnd = Date.now() + 30_000;
  while (RECEIPTS && !INGRESS_ONLY && total(esmes, 'receipts') < accepted && Date.now() < drainEnd) await new Promise((r) => setTimeout(r, 200));
  const receiptsTotal = total(esmes, 'receipts');
  const sorted = Float64Array.from(latencies).sort();
  const result = {
    bench: 'smpp-load',
    ...env,
    binds: BINDS,
    window: WINDOW,
    seconds: Math.round(elapsed * 10) / 10,
    submitsPerSecond: Math.round(accepted / elapsed),
    refused,
    receiptsPerSecond: Math.round(receiptsInWindow / elapsed),
    receiptsReceived: receiptsTotal,
    receiptsExpected: RECEIPTS && !INGRESS_ONLY ? accepted : 0,
    ingressOnly: INGRESS_ONLY,
    p50Ms: Math.round(percentile(sorted, 50) * 100) / 100,
    p99Ms: Math.round(percentile(sorted, 99) * 100) / 100,
    appPeakRssMiB: peakRssMiB(app.pid ?? 0),
    appCpuSeconds: Math.round(appCpu * 10) / 10,
    generatorCpuSeconds: Math.round(((genCpu.user + genCpu.system) / 1e6) * 10) / 10,
    command: `${INGRESS_ONLY ? 'BENCH_INGRESS_ONLY=1 ' : ''}BENCH_BINDS=${BINDS} BENCH_WINDOW=${WINDOW} BENCH_SECONDS=${SECONDS} npm run bench:smpp`,
  };
  const path = writeResult('smpp-load', result);
  console.log(JSON.stringify(result, null, 2));
  console.log(
    `smpp-load: ${result.submitsPerSecond} submits/s accepted, ${result.receiptsPerSecond} receipts/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ` +
      `app peak RSS ${result.appPeakRssMiB} MiB, generator CPU ${result.generatorCpuSeconds}s of ${result.seconds}s (${env.sha}, ${env.node}, ${env.cpu}) → ${path}`,
  );
  // Leaves nothing behind: the bench's Redis keys and its ClickHouse database go.
  for (const e of esmes) e.close();
  await started.stop();
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
