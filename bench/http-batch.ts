/**
 * HTTP batch sends: autocannon (in this process) keeps C connections busy with
 * POST /api/v2/messages/sms/batch, 1,000 messages a request (000_efc21bb1ba94fac5.txt, "Batch
 * SMS"), against a built Catalyst (child) routing to the SMSC simulator (child). Prints accepted
 * messages a second (the sum of each answer's `submitted`), p50/p99 request latency of the 2xx
 * answers, messages a batch reported `failed` and non-2xx answers apart, the appliance's peak RSS
 * and CPU, the CPU autocannon itself used, and CPU µs a message of each process (the appliance in
 * user mode and in the kernel, Redis, ClickHouse, autocannon).
 *
 *   make build && npm run bench:http-batch
 *   BENCH_SECONDS=15 BENCH_CONNECTIONS=8 BENCH_BATCH=1000 npm run bench:http-batch
 */
import { BENCH_API_KEY, checkBuilt, clickhousePid, redisServerInfo, startAppliance, PROCESSES, APPLIANCE_PREFIX, SEND_BESIDE } from './lib/harness.js';
import { cpuPer, load, microsLine, summary } from './lib/load.js';
import { environment, writeResult } from './lib/report.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 15);
const WARMUP_SECONDS = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 3);
/**
 * Requests in flight, one a connection. With 4, the rate was what 4,000 messages in flight over a
 * ~130 ms answer allow (28,000-29,000/s, both cores not yet busy); 8 reached 34,500/s with p99
 * 0.5 s, and 16 gave 37,200/s only at p99 1.2 s (2026-11-21, commit 71f0635).
 */
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 8);
const BATCH = Number(process.env['BENCH_BATCH'] ?? 1000);

const BODY = JSON.stringify({
  messages: Array.from({ length: BATCH }, (_, i) => ({ to: `+1415555${String(i % 10_000).padStart(4, '0')}`, from: 'BENCH', message: { body: `Your verification code is ${String(100_000 + i)}` } })),
});

async function main(): Promise<void> {
  const env = environment();
  const { distOlderThanSrc } = checkBuilt();
  // The simulator is bound (HTTP refuses a send with no bind up) but answers no submit, so what is
  // measured is admission alone (holdSubmits); BENCH_SEND=1 sends beside it.
  const catalyst = await startAppliance({ uncappedQueue: true, holdSubmits: !SEND_BESIDE });
  const counted = { on: false, submitted: 0, failed: 0, unparsable: 0 };
  const options = {
    connections: CONNECTIONS,
    pipelining: 1,
    // A 1,000-message answer can take a while when Redis is saturated: don't call it a timeout.
    timeout: 60,
    requests: [
      {
        method: 'POST' as const,
        body: BODY,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` },
        onResponse: (status: number, body: string): void => {
          if (!counted.on || status < 200 || status >= 300) return;
          try {
            const r = JSON.parse(body) as { submitted?: unknown; failed?: unknown };
            counted.submitted += typeof r.submitted === 'number' ? r.submitted : 0;
            counted.failed += typeof r.failed === 'number' ? r.failed : 0;
          } catch {
            counted.unparsable++;
          }
        },
      },
    ],
  };
  let figures;
  try {
    const url = `http://127.0.0.1:${catalyst.httpPort}/api/v2/messages/sms/batch`;
    if (WARMUP_SECONDS > 0) await load(url, catalyst.app.pid ?? 0, options, WARMUP_SECONDS);
    counted.on = true;
    // Redis and ClickHouse share the cores: their CPU a message is part of what admission costs.
    figures = await load(url, catalyst.app.pid ?? 0, options, SECONDS, { redis: (await redisServerInfo()).pid, clickhouse: clickhousePid() });
    counted.on = false;
  } finally {
    await catalyst.stop();
  }
  const result = {
    bench: 'http-batch',
    processes: PROCESSES,
    sendingBeside: SEND_BESIDE,
    ...env,
    connections: CONNECTIONS,
    batch: BATCH,
    seconds: SECONDS,
    distOlderThanSrc,
    messagesAcceptedPerSecond: Math.round(counted.submitted / figures.seconds),
    messagesSubmitted: counted.submitted,
    messagesFailed: counted.failed,
    unparsableAnswers: counted.unparsable,
    requestsPerSecond: Math.round((figures.accepted / figures.seconds) * 10) / 10,
    requests: figures,
    cpuMicrosPerMessage: cpuPer(figures.cpu, counted.submitted),
    command: `${APPLIANCE_PREFIX}${SEND_BESIDE ? 'BENCH_SEND=1 ' : ''}BENCH_SECONDS=${SECONDS} BENCH_CONNECTIONS=${CONNECTIONS} BENCH_BATCH=${BATCH} npm run bench:http-batch`,
  };
  const path = writeResult('http-batch', result);
  console.log(JSON.stringify(result, null, 2));
  console.log(summary('batch requests', figures));
  console.log(
    `http-batch: ${result.messagesAcceptedPerSecond} messages/s accepted in batches of ${BATCH} (${result.requestsPerSecond} requests/s), ` +
      `request p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms, ${counted.failed} messages failed in 2xx answers; CPU µs a message: ${microsLine(result.cpuMicrosPerMessage)} (${env.sha}, ${env.node}, ${env.cpu}, ${env.cores} cores) → ${path}`,
  );
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
