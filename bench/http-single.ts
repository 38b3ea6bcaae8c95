/**
 * HTTP single sends: autocannon (in this process) keeps C connections × P pipelined requests busy
 * on POST /api/v2/messages/sms against a built Catalyst (child) routing to the SMSC simulator
 * (child), then, in the same run, against a bare uWebSockets.js server (bench/lib/bare-uws.ts,
 * child) that parses the same body and answers a 202 of the same shape. Prints accepted
 * messages a second, p50/p99 latency of the 2xx answers and the ratio of the two, every non-2xx
 * status counted apart (never inside the latency figures), the servers' peak RSS and CPU, and the
 * CPU autocannon itself used, so a figure limited by the generator is seen to be; and CPU µs a
 * request of each process (the server in user mode and in the kernel, Redis and ClickHouse for
 * Catalyst, autocannon): the budget docs/scaling.md sets against the 0.6× target.
 *
 *   make build && npm run bench:http-single
 *   BENCH_SECONDS=15 BENCH_CONNECTIONS=128 npm run bench:http-single
 *   BENCH_APP_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench:http-single   (profile the appliance)
 */
import { BENCH_API_KEY, checkBuilt, clickhousePid, freePort, redisServerInfo, startAppliance, startScript, stopChild, PROCESSES, APPLIANCE_PREFIX, SEND_BESIDE } from './lib/harness.js';
import { load, microsLine, summary, type LoadFigures } from './lib/load.js';
import { environment, writeResult } from './lib/report.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 15);
const WARMUP_SECONDS = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 3);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 128);
/**
 * 1: uWebSockets.js closes a connection on which a request arrives while an earlier one is still
 * being answered asynchronously (it does not support async pipelining), and Catalyst answers
 * after a Redis round trip. Concurrency comes from connections instead, as with real clients.
 */
const PIPELINING = Number(process.env['BENCH_PIPELINING'] ?? 1);

const BODY = JSON.stringify({ to: '+14155550100', from: 'BENCH', message: { body: 'Your verification code is 123456' } });

async function main(): Promise<void> {
  const env = environment();
  const { distOlderThanSrc } = checkBuilt();
  const shape = { connections: CONNECTIONS, pipelining: PIPELINING };
  const request = { method: 'POST' as const, body: BODY, headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` } };

  // The simulator is bound (HTTP refuses a send with no bind up) but answers no submit, so what is
  // measured is admission alone (holdSubmits); BENCH_SEND=1 sends beside it.
  const catalyst = await startAppliance({ uncappedQueue: true, holdSubmits: !SEND_BESIDE });
  let catalystFigures: LoadFigures;
  try {
    const url = `http://127.0.0.1:${catalyst.httpPort}/api/v2/messages/sms`;
    if (WARMUP_SECONDS > 0) await load(url, catalyst.app.pid ?? 0, { ...shape, ...request }, WARMUP_SECONDS);
    // Redis and ClickHouse share the cores: their CPU a request is part of what a send costs.
    const beside = { redis: (await redisServerInfo()).pid, clickhouse: clickhousePid() };
    catalystFigures = await load(url, catalyst.app.pid ?? 0, { ...shape, ...request }, SECONDS, beside);
  } finally {
    await catalyst.stop();
  }

  // The bare server runs after the appliance stopped, so it has the machine to itself.
  const barePort = await freePort();
  const bare = await startScript('bench/lib/bare-uws.ts', [String(barePort)], barePort);
  let bareFigures: LoadFigures;
  try {
    const url = `http://127.0.0.1:${barePort}/api/v2/messages/sms`;
    if (WARMUP_SECONDS > 0) await load(url, bare.pid ?? 0, { ...shape, ...request }, WARMUP_SECONDS);
    bareFigures = await load(url, bare.pid ?? 0, { ...shape, ...request }, SECONDS);
  } finally {
    await stopChild(bare);
  }

  const result = {
    bench: 'http-single',
    processes: PROCESSES,
    sendingBeside: SEND_BESIDE,
    ...env,
    connections: CONNECTIONS,
    pipelining: PIPELINING,
    seconds: SECONDS,
    distOlderThanSrc,
    catalyst: catalystFigures,
    bareUws: bareFigures,
    ratio: Math.round((catalystFigures.acceptedPerSecond / Math.max(1, bareFigures.acceptedPerSecond)) * 1000) / 1000,
    command: `${APPLIANCE_PREFIX}${SEND_BESIDE ? 'BENCH_SEND=1 ' : ''}BENCH_SECONDS=${SECONDS} BENCH_CONNECTIONS=${CONNECTIONS} BENCH_PIPELINING=${PIPELINING} npm run bench:http-single`,
  };
  const path = writeResult('http-single', result);
  console.log(JSON.stringify(result, null, 2));
  console.log(summary('catalyst', catalystFigures));
  console.log(summary('bare uWS', bareFigures));
  console.log(`CPU µs a request: Catalyst ${microsLine(catalystFigures.cpuMicrosPerAnswer)}; bare uWS ${microsLine(bareFigures.cpuMicrosPerAnswer)}`);
  console.log(`http-single: Catalyst accepts ${(result.ratio * 100).toFixed(1)}% of what a bare uWS server answers (${env.sha}, ${env.node}, ${env.cpu}, ${env.cores} cores) → ${path}`);
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
