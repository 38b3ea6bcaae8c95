import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SmppUpstream } from '../../../src/connectors/smpp/index.js';
import type { Message } from '../../../src/core/message.js';
import type { SendResult } from '../../../src/router/upstream.js';
import { SmscSimulator } from '../../../src/sim/index.js';
import { logger, message, RecordingSink, sendAll, simConfig, tcpHandles, until, upstreamConfig } from './upstream-harness.js';

const GSM_LONG = 'The quick brown fox jumps over the lazy dog; {braces} and €uro count double. '.repeat(5).slice(0, 400); // 3 parts
const UCS2 = 'Привет 😀 мир! '.repeat(6); // 90 code units: 2 parts
const SHORT = 'Your code is 1234';

function mix(i: number): Message['body'] {
  switch (i % 4) {
    case 0:
      return { kind: 'text', text: GSM_LONG };
    case 1:
      return { kind: 'text', text: UCS2 };
    case 2:
      return { kind: 'text', text: `${SHORT} #${i}` };
    default:
      return { kind: 'text', text: `Latin-1 café ñ ${i}`, dataCoding: 3 };
  }
}

function partsOf(i: number, mode: string): number {
  if (mode === 'payload') return 1;
  return [3, 2, 1, 1][i % 4] as number;
}

function ids(r: SendResult | undefined): readonly string[] {
  return r?.kind === 'submitted' ? r.upstreamIds : [];
}

describe('SmppUpstream against the SMSC simulator', () => {
  let sim: SmscSimulator;
  let port: number;
  let sink: RecordingSink;
  const ups: SmppUpstream[] = [];
  let baseline = 0;

  const upstream = (over: Record<string, unknown> = {}): SmppUpstream => {
    const u = new SmppUpstream(upstreamConfig(port, over), sink, { logger });
    ups.push(u);
    u.start();
    return u;
  };
  const bound = async (over: Record<string, unknown> = {}): Promise<SmppUpstream> => {
    const u = upstream(over);
    await until('bound', () => u.status().bound === u.status().configured);
    return u;
  };

  beforeEach(async () => {
    baseline = tcpHandles();
    sim = new SmscSimulator(simConfig(), { logger });
    port = (await sim.listen()).port;
    sink = new RecordingSink();
  });

  afterEach(async () => {
    await Promise.all(ups.splice(0).map((u) => u.close()));
    await sim.close();
    await until('sockets closed', () => tcpHandles() <= baseline);
  });

  it('binds every configured session', async () => {
    const u = await bound({ binds: 4 });
    expect(u.status()).toEqual({ bound: 4, configured: 4, inflight: 0 });
    expect(sim.boundSessions).toBe(4);
    expect(u.available()).toBe(200);
  });

  it.each(['udh', 'sar', 'payload'] as const)('sends long GSM, UCS-2 and Latin-1 with longMessages=%s, and every receipt comes back', async (mode) => {
    const u = await bound({ longMessages: mode });
    const count = mode === 'udh' ? 668 : 666; // 2,000 across the three modes
    const msgs = Array.from({ length: count }, (_, i) => message(`49151${String(i).padStart(7, '0')}`, mix(i)));
    const results = await sendAll(u, msgs);
    results.forEach((r, i) => {
      expect(r, `message ${i}`).toMatchObject({ kind: 'submitted' });
      expect(ids(r)).toHaveLength(partsOf(i, mode));
    });
    const all = results.flatMap(ids);
    expect(new Set(all).size).toBe(all.length);
    await until('all receipts', () => all.every((id) => sink.got.has(id)));
    expect(sink.got.get(all[0] as string)).toEqual({ upstreamMessageId: all[0], stat: 'DELIVRD', err: '000' });
    expect(sink.receiptCalls).toBeLessThan(all.length); // batched
    expect(sim.stats().submits).toBe(all.length);
  });

  it('reports a permanent error as failed/rejected, and undeliverable through the receipt', async () => {
    const u = await bound();
    expect(await u.send(message('9990001', { kind: 'text', text: 'x' }), 1)).toEqual({ kind: 'failed', status: 'rejected', errorCode: 'ESME_RINVDSTADR', dlrErr: '00B' });
    const r = await u.send(message('9991001', { kind: 'text', text: 'x' }), 1);
    const id = ids(r)[0] as string;
    await until('receipt', () => sink.got.get(id));
    expect(sink.got.get(id)).toEqual({ upstreamMessageId: id, stat: 'UNDELIV', err: '001' });
  });

  it('refuses a message of more parts than maxParts', async () => {
    const u = await bound({ maxParts: 2 });
    expect(await u.send(message('4915112345678', { kind: 'text', text: GSM_LONG }), 1)).toEqual({
      kind: 'failed',
      status: 'rejected',
      errorCode: 'ESME_RINVMSGLEN',
      dlrErr: '001',
    });
  });

  it('turns ESME_RTHROTTLED into a retry with a delay', async () => {
    const u = await bound();
    sim.setThrottleTps(2);
    const results = await Promise.all(Array.from({ length: 10 }, () => u.send(message('4915112345678', { kind: 'text', text: 'x' }), 2)));
    const retries = results.filter((r) => r.kind === 'retry');
    expect(retries.length).toBeGreaterThanOrEqual(7);
    expect(retries[0]).toMatchObject({ kind: 'retry', errorCode: 'ESME_RTHROTTLED' });
    expect((retries[0] as { delayMs: number }).delayMs).toBeGreaterThan(0);
  });

  it('paces sends to tps', async () => {
    const u = await bound({ tps: 50 });
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: 30 }, () => u.send(message('4915112345678', { kind: 'text', text: 'x' }), 1)));
    expect(results.every((r) => r.kind === 'submitted')).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400); // 30 at 50/s with a 5-token burst
  });

  it('says retry NO_BIND when nothing is bound, and keeps retrying a refused bind', async () => {
    const u = upstream({ password: 'wrong' });
    await new Promise((r) => setTimeout(r, 100));
    expect(u.status().bound).toBe(0);
    expect(u.available()).toBe(0);
    expect(await u.send(message('4915112345678', { kind: 'text', text: 'x' }), 3)).toEqual({ kind: 'retry', errorCode: 'NO_BIND', delayMs: 4000 });
  });

  it('survives the SMSC dropping every connection mid-run: in-flight sends retry, it reconnects and goes on', async () => {
    const u = await bound();
    sim.setReceiptDelayMs(50);
    let dropped = false;
    const msgs = Array.from({ length: 600 }, (_, i) => message(`49160${String(i).padStart(7, '0')}`, { kind: 'text', text: `m ${i}` }));
    const results = await sendAll(u, msgs, (i) => {
      if (i === 150 && !dropped) {
        dropped = true;
        sim.dropConnections();
      }
    });
    const retries = results.filter((r) => r.kind === 'retry');
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.every((r) => r.kind === 'retry' && (r.errorCode === 'NO_BIND' || r.errorCode === 'TIMEOUT'))).toBe(true);
    expect(results.every((r) => r.kind === 'submitted' || r.kind === 'retry')).toBe(true);
    await until('rebound', () => u.status().bound === 3);
    // It goes on: the retried ones go through now.
    const again = await sendAll(u, msgs.filter((_, i) => results[i]?.kind === 'retry'));
    expect(again.every((r) => r.kind === 'submitted')).toBe(true);
    const all = [...results, ...again].flatMap(ids);
    await until('receipts for everything submitted', () => all.every((id) => sink.got.has(id)));
  });

  it('takes receipts that arrive before the submit_sm_resp', async () => {
    const u = await bound();
    sim.earlyReceipts(true);
    const results = await sendAll(
      u,
      Array.from({ length: 100 }, (_, i) => message('4915112345678', { kind: 'text', text: i % 2 ? GSM_LONG : SHORT })),
    );
    const all = results.flatMap(ids);
    expect(all.length).toBe(200);
    await until('receipts', () => all.every((id) => sink.got.has(id)));
  });

  it('does not acknowledge receipts the sink refused: the SMSC re-sends them', async () => {
    const u = await bound();
    sink.failReceipts = true;
    const r = await u.send(message('4915112345678', { kind: 'text', text: 'x' }), 1);
    await until('a refused batch', () => sink.receiptCalls >= 1);
    expect(sim.stats().receiptsAcked).toBe(0);
    sink.failReceipts = false;
    await until('re-sent and taken', () => sink.got.has(ids(r)[0] as string), 5000);
    await until('acked', () => sim.stats().receiptsAcked === 1);
  });

  it('reassembles a long MO and hands it over in one piece', async () => {
    await bound({ binds: 1 });
    const text = 'Ответ: да, пожалуйста 👍 '.repeat(8);
    await sim.sendMo({ from: '4915112345678', to: '15550000000', text });
    await sim.sendMo({ from: '4915112345678', to: '15550000000', text: 'STOP' });
    expect(sink.inboundItems).toHaveLength(2);
    expect(sink.inboundItems[0]).toMatchObject({
      source: { addr: '4915112345678', ton: 1, npi: 1 },
      destination: { addr: '15550000000', ton: 1, npi: 1 },
      body: { kind: 'text', text, dataCoding: 8 },
    });
    expect(sink.inboundItems[1]?.body).toEqual({ kind: 'text', text: 'STOP', dataCoding: 0 });
  });

  it('refuses an MO the sink could not store (ESME_RX_T_APPN)', async () => {
    await bound({ binds: 1 });
    sink.failInbound = true;
    await expect(sim.sendMo({ from: '4915112345678', to: '15550000000', text: 'hello' })).rejects.toThrow(/ESME_RX_T_APPN/);
  });

  it('keeps the link alive with enquire_link', async () => {
    const u = await bound({ enquireLinkSeconds: 0.05 });
    await new Promise((r) => setTimeout(r, 300));
    expect(u.status().bound).toBe(3);
    expect(sim.boundSessions).toBe(3);
  });

  it('close() unbinds cleanly, is idempotent, and leaves no socket behind', async () => {
    const u = await bound();
    const sends = Array.from({ length: 20 }, () => u.send(message('4915112345678', { kind: 'text', text: 'bye' }), 1));
    await Promise.all([u.close(), u.close()]);
    expect((await Promise.all(sends)).every((r) => r.kind === 'submitted')).toBe(true);
    expect(u.status().bound).toBe(0);
    await until('sim sees them gone', () => sim.boundSessions === 0);
    expect(await u.send(message('4915112345678', { kind: 'text', text: 'late' }), 1)).toMatchObject({ kind: 'retry', errorCode: 'NO_BIND' });
    await sim.close();
    await until('no sockets', () => tcpHandles() <= baseline);
  });
});
