/**
 * A bulk campaign of BENCH_RECIPIENTS (1,000,000) recipients: the body is streamed to a built
 * Catalyst (child) at once, then the campaign sends at BENCH_RATE for BENCH_SEND_SECONDS to the SMSC
 * simulator (child) and is cancelled. Reports:
 *   acceptedPerSecond  recipients stored per second of upload (request start → 201)
 *   sentPerSecond      messages admitted per second while sending (progress `sent`)
 *   deliveredPerSecond receipts back per second over the same time
 *   peakRssMiB         the appliance's peak resident memory over the whole run: an upload is never
 *                      held in memory, so it stays flat whatever BENCH_RECIPIENTS
 *
 *   make build && npm run bench:campaign
 *   BENCH_RECIPIENTS=200000 BENCH_RATE=50000 BENCH_SEND_SECONDS=20 npm run bench:campaign
 */
import { randomBytes } from 'node:crypto';
import { BENCH_API_KEY, checkBuilt, dropDatabase, startAppliance } from './lib/harness.js';
import { environment, peakRssMiB, writeResult } from './lib/report.js';

const N = Number(process.env['BENCH_RECIPIENTS'] ?? 1_000_000);
const RATE = Number(process.env['BENCH_RATE'] ?? 20_000);
const SEND_SECONDS = Number(process.env['BENCH_SEND_SECONDS'] ?? 10);
/** Recipients per chunk of the streamed body. */
const CHUNK = 2000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (n: number): number => Math.round(n * 10) / 10;

function body(id: string): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  const head = `{"campaignId":"${id}","template":{"channels":{"sms":{"body":"Hi {{name}}, {{discount}}% off with {{code}}","from":"BENCH"}}},"scheduling":{"rateLimit":${RATE}},"recipients":[`;
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (i >= N) {
        c.enqueue(enc.encode(']}'));
        c.close();
        return;
      }
      const part: string[] = [];
      for (let k = 0; k < CHUNK && i < N; k++, i++) {
        part.push(`{"phoneOrId":"+1415${2_000_000 + (i % 7_000_000)}","channel":"sms","parameters":{"name":"n${i}","discount":"25","code":"C${i}"}}`);
      }
      c.enqueue(enc.encode((i <= CHUNK ? head : ',') + part.join(',')));
    },
  });
}

async function main(): Promise<void> {
  const built = checkBuilt();
  const database = `catalyst_bench_${randomBytes(4).toString('hex')}`;
  const s = await startAppliance({ uncappedQueue: true, clickhouseDatabase: database });
  const base = `http://127.0.0.1:${s.httpPort}/api/v2`;
  const headers = { Authorization: `Bearer ${BENCH_API_KEY}`, 'Content-Type': 'application/json' };
  const id = 'bench';
  const progress = async (): Promise<{ sent: number; delivered: number; total: number }> => {
    const r = await fetch(`${base}/messages/campaign/${id}`, { headers });
    return (await r.json()) as { sent: number; delivered: number; total: number };
  };
  try {
    const t0 = performance.now();
    const r = await fetch(`${base}/messages/campaign`, { method: 'POST', headers, body: body(id), duplex: 'half' });
    const created = (await r.json()) as { accepted?: number };
    const uploadSeconds = (performance.now() - t0) / 1000;
    if (r.status !== 201) throw new Error(`upload answered ${r.status}: ${JSON.stringify(created)}`);
    const rssAfterUpload = s.app.pid !== undefined ? peakRssMiB(s.app.pid) : undefined;
    // Sending began as the upload finished: measure from now, over SEND_SECONDS.
    const p0 = await progress();
    const t1 = performance.now();
    await sleep(SEND_SECONDS * 1000);
    const p1 = await progress();
    const sendSeconds = (performance.now() - t1) / 1000;
    await fetch(`${base}/messages/campaign/${id}/cancel`, { method: 'POST', headers });
    const result = {
      bench: 'campaign',
      ...environment(),
      distOlderThanSrc: built.distOlderThanSrc,
      recipients: N,
      accepted: created.accepted,
      uploadSeconds: round(uploadSeconds),
      acceptedPerSecond: Math.round((created.accepted ?? 0) / uploadSeconds),
      rateLimit: RATE,
      sendSeconds: round(sendSeconds),
      sentPerSecond: Math.round((p1.sent - p0.sent) / sendSeconds),
      deliveredPerSecond: Math.round((p1.delivered - p0.delivered) / sendSeconds),
      peakRssMiBAfterUpload: rssAfterUpload,
      peakRssMiB: s.app.pid !== undefined ? peakRssMiB(s.app.pid) : undefined,
      reproduce: `make build && BENCH_RECIPIENTS=${N} BENCH_RATE=${RATE} BENCH_SEND_SECONDS=${SEND_SECONDS} npm run bench:campaign`,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`written to ${writeResult('campaign', result)}\n`);
  } finally {
    await s.stop();
    await dropDatabase(database);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err instanceof Error ? (err.stack ?? err.message) : err)}\n`);
  process.exit(1);
});
