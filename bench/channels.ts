/**
 * Channel sends, full path: autocannon keeps C connections busy on POST /api/v2/messages/whatsapp
 * (the seed's text body) against a built Catalyst (child) whose WhatsApp connector talks to the
 * WhatsApp simulator (started by the appliance, channelSims) over real HTTP: admission, Redis
 * queue, dispatch, the Cloud API request validated against Meta's OpenAPI document, the signed
 * status webhooks back. Each answer waits for the wamid (channels.answerWaitMs), so latency is
 * the whole round trip to the provider. Prints accepted sends a second, p50/p99, non-2xx apart,
 * and the appliance's CPU and peak RSS.
 *
 *   make build && npm run bench:channels
 *   BENCH_SECONDS=15 BENCH_CONNECTIONS=64 npm run bench:channels
 */
import { BENCH_API_KEY, checkBuilt, startAppliance, PROCESSES, APPLIANCE_PREFIX } from './lib/harness.js';
import { load, summary } from './lib/load.js';
import { environment, writeResult } from './lib/report.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 15);
const WARMUP_SECONDS = Number(process.env['BENCH_WARMUP_SECONDS'] ?? 3);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 64);

const BODY = JSON.stringify({ to: '11234567890', from: '+1234567890', message: { type: 'text', body: 'Hello from Catalyst VAS!' } });
const HIGH = { tps: 10_000_000, burst: 10_000_000 };

async function main(): Promise<void> {
  const env = environment();
  const { distOlderThanSrc } = checkBuilt();
  const catalyst = await startAppliance({
    extraConfig: {
      channelSims: { enabled: true, deliveredDelayMs: 50, readDelayMs: 50 },
      channels: {
        whatsapp: {
          price: 0.0001,
          appSecret: 'bench-app-secret',
          verifyToken: 'bench',
          maxInflight: 500,
          senderRateLimit: HIGH,
          senders: [{ account: 'bench', from: '+1234567890', phoneNumberId: '100000000000001', accessToken: 'EAAGbench' }],
        },
      },
      platformRateLimits: { sms: HIGH, whatsapp: HIGH },
      webhooks: { allowLoopback: true },
    },
  });
  let figures;
  try {
    const url = `http://127.0.0.1:${catalyst.httpPort}/api/v2/messages/whatsapp`;
    const request = { method: 'POST' as const, body: BODY, headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` }, connections: CONNECTIONS, pipelining: 1 };
    if (WARMUP_SECONDS > 0) await load(url, catalyst.app.pid ?? 0, request, WARMUP_SECONDS);
    figures = await load(url, catalyst.app.pid ?? 0, request, SECONDS);
  } finally {
    await catalyst.stop();
  }
  const result = {
    bench: 'channels-whatsapp',
    processes: PROCESSES,
    ...env,
    connections: CONNECTIONS,
    seconds: SECONDS,
    distOlderThanSrc,
    catalyst: figures,
    command: `${APPLIANCE_PREFIX}BENCH_SECONDS=${SECONDS} BENCH_CONNECTIONS=${CONNECTIONS} npm run bench:channels`,
  };
  const path = writeResult('channels', result);
  console.log(JSON.stringify(result, null, 2));
  console.log(summary('whatsapp', figures));
  console.log(`channels: WhatsApp sends through the simulator (${env.sha}, ${env.node}, ${env.cpu}, ${env.cores} cores) → ${path}`);
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
