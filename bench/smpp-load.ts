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
 * The generator is lean on purpose: pre-encoded submit_sm bodies with only the sequence number
 * patched, every PDU a window allows written in one socket write, responses read with our
 * FrameDecoder. The `smpp` npm package as a generator tops out far below what is measured here.
 */
import { connect, type Socket } from 'node:net';
import { CommandId, FrameDecoder, encodeDeliverSmResp, encodePdu, type SubmitSm } from '../src/smpp/index.js';
import { startAppliance } from './lib/harness.js';
import { cpuSeconds, environment, peakRssMiB, percentile, writeResult } from './lib/report.js';

const BINDS = Number(process.env['BENCH_BINDS'] ?? 4);
const WINDOW = Number(process.env['BENCH_WINDOW'] ?? 200);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 15);
const RECEIPTS = (process.env['BENCH_RECEIPTS'] ?? '1') === '1';
/** Ingress only: the upstream is a closed port, so accepted messages just queue in Redis. */
const INGRESS_ONLY = process.env['BENCH_INGRESS_ONLY'] === '1';

class LeanEsme {
  accepted = 0;
  refused = 0;
  receipts = 0;
  inflight = 0;
  private seq = 1;
  private readonly sentAt = new Map<number, number>();
  private readonly decoder = new FrameDecoder({ maxPduLength: 65536 });
  private running = true;
  private bound = false;
  private bindDone!: () => void;
  readonly ready = new Promise<void>((r) => (this.bindDone = r));

  constructor(
    private readonly socket: Socket,
    private readonly template: Buffer,
    private readonly latencies: number[],
  ) {
    socket.setNoDelay(true);
    socket.on('data', (c: Buffer) => { this.onData(c); });
    socket.on('error', () => undefined);
    socket.write(encodePdu({ command: 'bind_transceiver', commandStatus: 0, sequenceNumber: 0x7fff0000, systemId: 'bench', password: 'bench', systemType: '', interfaceVersion: 0x34, addrTon: 0, addrNpi: 0, addressRange: '' }));
  }

  stop(): void {
    this.running = false;
  }

  fill(): void {
    if (!this.running || !this.bound) return;
    const n = WINDOW - this.inflight;
    if (n <= 0) return;
    const out = Buffer.allocUnsafe(n * this.template.length);
    const now = performance.now();
    for (let i = 0; i < n; i++) {
      const off = i * this.template.length;
      this.template.copy(out, off);
      const seq = this.seq++;
      out.writeUInt32BE(seq, off + 12);
      this.sentAt.set(seq, now);
    }
    this.inflight += n;
    this.socket.write(out);
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    const acks: Buffer[] = [];
    for (let f = this.decoder.next(); f; f = this.decoder.next()) {
      const id = f.readUInt32BE(4);
      const status = f.readUInt32BE(8);
      const seq = f.readUInt32BE(12);
      if (id === CommandId.submit_sm_resp) {
        this.inflight--;
        const t = this.sentAt.get(seq);
        this.sentAt.delete(seq);
        if (status === 0) {
          this.accepted++;
          if (t !== undefined) this.latencies.push(performance.now() - t);
        } else this.refused++;
      } else if (id === CommandId.deliver_sm) {
        this.receipts++;
        acks.push(encodeDeliverSmResp(seq, 0));
      } else if (id === CommandId.bind_transceiver_resp) {
        if (status !== 0) throw new Error(`bench bind refused: status ${status}`);
        this.bound = true;
        this.bindDone();
      } else if (id === CommandId.enquire_link) {
        acks.push(Buffer.from([0, 0, 0, 16, 0x80, 0, 0, 0x15, 0, 0, 0, 0, (seq >>> 24) & 0xff, (seq >>> 16) & 0xff, (seq >>> 8) & 0xff, seq & 0xff]));
      }
    }
    if (acks.length > 0) this.socket.write(Buffer.concat(acks));
    this.fill();
  }
}

async function main(): Promise<void> {
  const env = environment();
  const started = await startAppliance({ smppWindow: WINDOW * 2, upstreamReachable: !INGRESS_ONLY });
  const app = started.app;
  const smppPort = started.smppPort;

  const template = encodePdu({
    command: 'submit_sm', commandStatus: 0, sequenceNumber: 1, serviceType: '', sourceAddrTon: 5, sourceAddrNpi: 0, sourceAddr: 'BENCH',
    destAddrTon: 1, destAddrNpi: 1, destinationAddr: '14155550100', esmClass: 0, protocolId: 0, priorityFlag: 0, scheduleDeliveryTime: '',
    validityPeriod: '', registeredDelivery: RECEIPTS ? 1 : 0, replaceIfPresentFlag: 0, dataCoding: 0, smDefaultMsgId: 0,
    shortMessage: Buffer.from('Your verification code is 123456'), tlvs: [],
  } satisfies SubmitSm);
  const latencies: number[] = [];
  const esmes: LeanEsme[] = [];
  for (let i = 0; i < BINDS; i++) {
    const s = connect(smppPort, '127.0.0.1');
    await new Promise<void>((r) => s.once('connect', () => { r(); }));
    esmes.push(new LeanEsme(s, template, latencies));
  }
  await Promise.all(esmes.map((e) => e.ready));
  const cpu0 = process.cpuUsage();
  const appCpu0 = cpuSeconds(app.pid ?? 0) ?? 0;
  const t0 = performance.now();
  for (const e of esmes) e.fill();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  for (const e of esmes) e.stop();
  const elapsed = (performance.now() - t0) / 1000;
  const accepted = esmes.reduce((a, e) => a + e.accepted, 0);
  const refused = esmes.reduce((a, e) => a + e.refused, 0);
  const receiptsInWindow = esmes.reduce((a, e) => a + e.receipts, 0);
  const genCpu = process.cpuUsage(cpu0);
  const appCpu = (cpuSeconds(app.pid ?? 0) ?? 0) - appCpu0;
  // Let receipts for what was accepted arrive, bounded.
  const drainEnd = Date.now() + 30_000;
  while (RECEIPTS && !INGRESS_ONLY && esmes.reduce((a, e) => a + e.receipts, 0) < accepted && Date.now() < drainEnd) await new Promise((r) => setTimeout(r, 200));
  const receiptsTotal = esmes.reduce((a, e) => a + e.receipts, 0);
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
  // Leaves nothing behind: the bench's Redis keys go; its ClickHouse rows stay in catalyst_bench.
  await started.stop();
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
