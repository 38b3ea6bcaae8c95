/**
 * One autocannon run, in this process, against a server in another: the server's CPU and peak RSS
 * from /proc, autocannon's own CPU beside them, and the non-2xx answers counted apart from the
 * latency figures (autocannon's excludeErrorStats).
 */
import autocannon from 'autocannon';
import { cpuSeconds, peakRssMiB } from './report.js';

export interface LoadFigures {
  readonly seconds: number;
  /** 2xx answers a second: messages accepted. */
  readonly acceptedPerSecond: number;
  readonly accepted: number;
  /** Answers that were not 2xx, by status; none of them is in the latency figures. */
  readonly non2xx: number;
  readonly statuses: Record<string, number>;
  readonly connectionErrors: number;
  readonly timeouts: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly serverPeakRssMiB: number | undefined;
  readonly serverCpuSeconds: number;
  readonly generatorCpuSeconds: number;
}

/** One autocannon run against `url`, measuring the server process `pid` and this one. */
export async function load(url: string, pid: number, opts: Partial<autocannon.Options>, seconds: number): Promise<LoadFigures> {
  const cpu0 = process.cpuUsage();
  const server0 = cpuSeconds(pid) ?? 0;
  const r = await autocannon({
    url,
    duration: seconds,
    // Latency and throughput of 2xx answers only; the others are counted below.
    excludeErrorStats: true,
    ...opts,
  });
  const gen = process.cpuUsage(cpu0);
  const statuses: Record<string, number> = {};
  for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) statuses[code] = s.count ?? 0;
  return {
    seconds: r.duration,
    acceptedPerSecond: Math.round(r['2xx'] / r.duration),
    accepted: r['2xx'],
    non2xx: r.non2xx,
    statuses,
    connectionErrors: r.errors,
    timeouts: r.timeouts,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    serverPeakRssMiB: peakRssMiB(pid),
    serverCpuSeconds: Math.round(((cpuSeconds(pid) ?? 0) - server0) * 10) / 10,
    generatorCpuSeconds: Math.round(((gen.user + gen.system) / 1e6) * 10) / 10,
  };
}

export function summary(name: string, f: LoadFigures): string {
  return (
    `${name}: ${f.acceptedPerSecond} 2xx/s, p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, non-2xx ${f.non2xx} ${JSON.stringify(f.statuses)}, ` +
    `errors ${f.connectionErrors}, server peak RSS ${f.serverPeakRssMiB ?? '?'} MiB, server CPU ${f.serverCpuSeconds}s, generator CPU ${f.generatorCpuSeconds}s of ${f.seconds}s`
  );
}
