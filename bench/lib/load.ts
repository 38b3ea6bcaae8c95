/**
 * One autocannon run, in this process, against a server in another: the server's CPU (in user
 * mode and in the kernel) and peak RSS from /proc, autocannon's own CPU beside them, the CPU of
 * the Redis and ClickHouse servers it uses when given, each also in µs a 2xx answer (where a
 * request's CPU goes: docs/scaling.md), and the non-2xx answers counted apart from the latency
 * figures (autocannon's excludeErrorStats).
 */
import autocannon from 'autocannon';
import { cpuSeconds, cpuTimes, peakRssMiB } from './report.js';

/** Servers beside the one under load whose CPU the run counts too (pids; undefined: not counted). */
export interface Beside {
  readonly redis?: number | undefined;
  readonly clickhouse?: number | undefined;
}

/**
 * CPU by process over the run: the server in user mode and in the kernel, Redis and ClickHouse
 * when counted, the generator. In seconds (LoadFigures.cpu), or in µs a 2xx answer or a message
 * (cpuPer).
 */
export interface CpuSplit {
  readonly serverUser: number;
  readonly serverKernel: number;
  readonly redis?: number;
  readonly clickhouse?: number;
  readonly generator: number;
}

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
  /** CPU seconds by process. */
  readonly cpu: CpuSplit;
  /** The same in µs a 2xx answer. */
  readonly cpuMicrosPerAnswer: CpuSplit;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;
const round2 = (n: number): number => Math.round(n * 100) / 100;

/** One autocannon run against `url`, measuring the server process `pid` and this one. */
export async function load(url: string, pid: number, opts: Partial<autocannon.Options>, seconds: number, beside: Beside = {}): Promise<LoadFigures> {
  const cpu0 = process.cpuUsage();
  const server0 = cpuTimes(pid) ?? { user: 0, system: 0 };
  const redis0 = beside.redis === undefined ? undefined : cpuSeconds(beside.redis);
  const clickhouse0 = beside.clickhouse === undefined ? undefined : cpuSeconds(beside.clickhouse);
  const r = await autocannon({
    url,
    duration: seconds,
    // Latency and throughput of 2xx answers only; the others are counted below.
    excludeErrorStats: true,
    ...opts,
  });
  const gen = process.cpuUsage(cpu0);
  const server1 = cpuTimes(pid) ?? server0;
  const redis = beside.redis === undefined || redis0 === undefined ? undefined : (cpuSeconds(beside.redis) ?? redis0) - redis0;
  const clickhouse = beside.clickhouse === undefined || clickhouse0 === undefined ? undefined : (cpuSeconds(beside.clickhouse) ?? clickhouse0) - clickhouse0;
  const generator = (gen.user + gen.system) / 1e6;
  const cpu: CpuSplit = {
    serverUser: round2(server1.user - server0.user),
    serverKernel: round2(server1.system - server0.system),
    ...(redis === undefined ? {} : { redis: round2(redis) }),
    ...(clickhouse === undefined ? {} : { clickhouse: round2(clickhouse) }),
    generator: round2(generator),
  };
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
    serverCpuSeconds: round1(server1.user + server1.system - server0.user - server0.system),
    generatorCpuSeconds: round1(generator),
    cpu,
    cpuMicrosPerAnswer: cpuPer(cpu, r['2xx']),
  };
}

/** CPU seconds by process as µs for each of `count` (2xx answers, or the messages they carried). */
export function cpuPer(cpu: CpuSplit, count: number): CpuSplit {
  const f = (seconds: number): number => round2((seconds * 1e6) / Math.max(1, count));
  return {
    serverUser: f(cpu.serverUser),
    serverKernel: f(cpu.serverKernel),
    ...(cpu.redis === undefined ? {} : { redis: f(cpu.redis) }),
    ...(cpu.clickhouse === undefined ? {} : { clickhouse: f(cpu.clickhouse) }),
    generator: f(cpu.generator),
  };
}

/** "server 19.4 user + 5.4 kernel, Redis 12.9, ClickHouse 1.6, generator 12.5" (µs). */
export function microsLine(m: CpuSplit): string {
  return (
    `server ${m.serverUser} user + ${m.serverKernel} kernel` +
    (m.redis === undefined ? '' : `, Redis ${m.redis}`) +
    (m.clickhouse === undefined ? '' : `, ClickHouse ${m.clickhouse}`) +
    `, generator ${m.generator}`
  );
}

export function summary(name: string, f: LoadFigures): string {
  return (
    `${name}: ${f.acceptedPerSecond} 2xx/s, p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, non-2xx ${f.non2xx} ${JSON.stringify(f.statuses)}, ` +
    `errors ${f.connectionErrors}, server peak RSS ${f.serverPeakRssMiB ?? '?'} MiB, server CPU ${f.serverCpuSeconds}s, generator CPU ${f.generatorCpuSeconds}s of ${f.seconds}s; ` +
    `CPU µs a 2xx answer: ${microsLine(f.cpuMicrosPerAnswer)}`
  );
}
