/**
 * The piscina worker pool, on and off: the dispatcher's per-message CPU work (parse the stored
 * payload, segment and encode the submit_sm PDUs; bench/lib/encode-task.ts) over 200,000 messages
 * (80% short GSM text, 15% long GSM, 5% UCS-2 with emoji), run inline on the main thread and in a
 * piscina pool of 1 and 2 threads, in batches of 100, 1,000 and 10,000. Prints messages a second,
 * how busy the main thread's event loop was (what the pool is meant to free), and the process's
 * CPU per message, so the messaging cost is seen beside what it saves.
 *
 *   npm run bench:workers
 *   BENCH_MESSAGES=500000 npm run bench:workers
 */
import { performance } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import { encodeBatch, type EncodeBatch, type EncodedBatch } from './lib/encode-task.js';
import { environment, writeResult } from './lib/report.js';

const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 200_000);
const BATCHES = [100, 1000, 10_000];

function payloads(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = i % 20;
    const text = r < 16 ? `Your verification code is ${String(100_000 + (i % 900_000))}` : r < 19 ? `Dear customer, ${'your parcel is on its way and will arrive tomorrow between 9 and 12. '.repeat(3)}#${i}` : `Café ☕ order ${i} is ready 🎉`;
    out.push(JSON.stringify({ id: `01K${String(i).padStart(23, '0')}`, accountId: 'bench', channel: 'sms', direction: 'mt', ingress: 'smpp', source: { addr: 'BENCH', ton: 5, npi: 0 }, destination: { addr: `1415${String(5_550_000 + (i % 1_000_000)).padStart(7, '0')}`, ton: 1, npi: 1 }, body: { kind: 'text', text }, receipt: true, createdAt: Date.now() }));
  }
  return out;
}

interface Figures {
  readonly mode: string;
  readonly batch: number;
  readonly messagesPerSecond: number;
  /** Share of the run the main thread's event loop was busy (eventLoopUtilization). */
  readonly mainThreadBusy: number;
  /** Process CPU (every thread) per message, µs. */
  readonly cpuMicrosPerMessage: number;
}

async function run(mode: string, batch: number, all: readonly string[], exec: (b: EncodeBatch) => Promise<EncodedBatch> | EncodedBatch, inflight: number): Promise<Figures> {
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  let pdus = 0;
  const lane = async (): Promise<void> => {
    while (next < all.length) {
      const slice = all.slice(next, next + batch);
      next += batch;
      const out = await exec({ payloads: slice });
      pdus += out.ends.length;
    }
  };
  await Promise.all(Array.from({ length: inflight }, () => lane()));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  if (pdus < all.length) throw new Error(`${mode}: only ${pdus} PDUs for ${all.length} messages`);
  return {
    mode,
    batch,
    messagesPerSecond: Math.round(all.length / seconds),
    mainThreadBusy: Math.round(elu.utilization * 1000) / 1000,
    cpuMicrosPerMessage: Math.round(((cpu.user + cpu.system) / all.length) * 10) / 10,
  };
}

async function main(): Promise<void> {
  const all = payloads(MESSAGES);
  // Warm both paths up (JIT, worker start) before anything is measured.
  encodeBatch({ payloads: all.slice(0, 20_000) });
  const results: Figures[] = [];
  for (const batch of BATCHES) results.push(await run('inline', batch, all, (b) => encodeBatch(b), 1));
  for (const threads of [1, 2]) {
    const pool = new Piscina({ filename: new URL('./lib/encode-task.ts', import.meta.url).href, minThreads: threads, maxThreads: threads });
    await Promise.all(Array.from({ length: threads * 4 }, () => pool.run({ payloads: all.slice(0, 5000) }) as Promise<EncodedBatch>));
    for (const batch of BATCHES) results.push(await run(`piscina ${threads} thread${threads > 1 ? 's' : ''}`, batch, all, (b) => pool.run(b) as Promise<EncodedBatch>, threads * 2));
    await pool.destroy();
  }
  const env = environment();
  const path = writeResult('workers', { bench: 'workers', ...env, messages: MESSAGES, results, command: `BENCH_MESSAGES=${MESSAGES} npm run bench:workers` });
  for (const r of results) console.log(`${r.mode.padEnd(18)} batch ${String(r.batch).padStart(6)}: ${String(r.messagesPerSecond).padStart(8)} msg/s, main thread busy ${(r.mainThreadBusy * 100).toFixed(0).padStart(3)}%, CPU ${r.cpuMicrosPerMessage} µs/msg`);
  const inline = results.filter((r) => r.mode === 'inline');
  const best = [...results].sort((a, b) => b.messagesPerSecond - a.messagesPerSecond)[0];
  console.log(
    `workers: inline ${Math.max(...inline.map((r) => r.messagesPerSecond))} msg/s at ${Math.min(...inline.map((r) => r.cpuMicrosPerMessage))} µs CPU/msg; best ${best?.mode} batch ${best?.batch} ${best?.messagesPerSecond} msg/s (${env.sha}, ${env.node}, ${env.cpu}, ${env.cores} cores) → ${path}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
