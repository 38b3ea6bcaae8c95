import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { createLogger } from '../../../src/core/logger.js';
import { parseConfig, type SimConfig } from '../../../src/core/config.js';
import { SmscSimulator } from '../../../src/sim/index.js';
import { CommandId, Status, decodePdu, encodeHeaderOnly, FrameDecoder } from '../../../src/smpp/index.js';
import { PkgPeer, type PkgPdu } from './smpp-package.js';

const logger = createLogger('silent');

function simConfig(over: Partial<SimConfig> = {}): SimConfig {
  const base = parseConfig({ sim: { enabled: true, port: 0, receiptDelayMs: 20 } }).sim;
  return { ...base, ...over };
}

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function text(pdu: PkgPdu): string {
  const m = pdu.short_message?.message;
  return typeof m === 'string' ? m : (m?.toString('latin1') ?? '');
}

describe('SmscSimulator with the smpp package as the ESME', () => {
  let sim: SmscSimulator;
  let port: number;
  const peers: PkgPeer[] = [];

  const peer = async (): Promise<PkgPeer> => {
    const p = await PkgPeer.open(port);
    peers.push(p);
    return p;
  };
  const bound = async (kind = 'transceiver'): Promise<PkgPeer> => {
    const p = await peer();
    const r = await p.call(`bind_${kind}`, { system_id: 'catalyst', password: 'sandbox' });
    expect(r.command_status).toBe(Status.ESME_ROK);
    return p;
  };

  beforeEach(async () => {
    sim = new SmscSimulator(simConfig(), { logger });
    port = (await sim.listen()).port;
  });

  afterEach(async () => {
    for (const p of peers.splice(0)) p.close();
    await sim.close();
  });

  it('listens on an ephemeral port', () => {
    expect(port).toBeGreaterThan(0);
  });

  it('refuses a wrong password and a wrong system_id', async () => {
    const p = await peer();
    expect((await p.call('bind_transceiver', { system_id: 'catalyst', password: 'nope' })).command_status).toBe(Status.ESME_RINVPASWD);
    expect((await p.call('bind_transceiver', { system_id: 'someone', password: 'sandbox' })).command_status).toBe(Status.ESME_RINVSYSID);
    expect((await p.call('bind_transceiver', { system_id: 'catalyst', password: 'sandbox' })).command_status).toBe(Status.ESME_ROK);
    expect((await p.call('bind_transceiver', { system_id: 'catalyst', password: 'sandbox' })).command_status).toBe(Status.ESME_RALYBND);
  });

  it('refuses submit_sm before bind', async () => {
    const p = await peer();
    const r = await p.call('submit_sm', { destination_addr: '4915112345678', short_message: 'hi' });
    expect(r.command_status).toBe(Status.ESME_RINVBNDSTS);
  });

  it('answers a submit with an id, then sends a receipt carrying it (text and TLVs)', async () => {
    const p = await bound();
    const r = await p.call('submit_sm', { source_addr: 'Catalyst', destination_addr: '4915112345678', short_message: 'Hello there', registered_delivery: 1 });
    expect(r.command_status).toBe(Status.ESME_ROK);
    const id = r.message_id ?? '';
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    const dr = await until('receipt', () => p.delivered[0]);
    expect(dr.esm_class).toBe(0x04);
    expect(dr.receipted_message_id).toBe(id);
    expect(dr.message_state).toBe(2);
    expect(dr.source_addr).toBe('4915112345678');
    expect(dr.destination_addr).toBe('Catalyst');
    expect(text(dr)).toContain(`id:${id} `);
    expect(text(dr)).toContain('stat:DELIVRD err:000 text:Hello there');
    await until('ack counted', () => sim.stats().receiptsAcked === 1);
    expect(sim.stats()).toMatchObject({ binds: 1, submits: 1, receiptsSent: 1, receiptsAcked: 1 });
  });

  it('sends no receipt when registered_delivery does not ask', async () => {
    const p = await bound();
    expect((await p.call('submit_sm', { destination_addr: '4915112345678', short_message: 'x', registered_delivery: 0 })).command_status).toBe(0);
    await new Promise((r) => setTimeout(r, 80));
    expect(p.delivered).toHaveLength(0);
  });

  it('takes UCS-2 text', async () => {
    const p = await bound();
    const r = await p.call('submit_sm', { destination_addr: '4915112345678', short_message: 'Привет 😀 你好', data_coding: 8, registered_delivery: 1 });
    expect(r.command_status).toBe(Status.ESME_ROK);
    const dr = await until('receipt', () => p.delivered[0]);
    expect(dr.receipted_message_id).toBe(r.message_id);
    expect(text(dr)).toContain('stat:DELIVRD');
  });

  it('validates like an SMSC: 999… and bad destinations are refused, 9991… undeliverable', async () => {
    const p = await bound();
    expect((await p.call('submit_sm', { destination_addr: '9990001', short_message: 'x' })).command_status).toBe(Status.ESME_RINVDSTADR);
    expect((await p.call('submit_sm', { destination_addr: '', short_message: 'x' })).command_status).toBe(Status.ESME_RINVDSTADR);
    expect((await p.call('submit_sm', { destination_addr: '49abc', short_message: 'x' })).command_status).toBe(Status.ESME_RINVDSTADR);
    const both = await p.call('submit_sm', { destination_addr: '4915112345678', short_message: 'x', message_payload: 'y' });
    expect(both.command_status).toBe(Status.ESME_RINVPARLEN);
    const r = await p.call('submit_sm', { destination_addr: '9991000', short_message: 'x', registered_delivery: 1 });
    expect(r.command_status).toBe(Status.ESME_ROK);
    const dr = await until('receipt', () => p.delivered[0]);
    expect(dr.message_state).toBe(5);
    expect(text(dr)).toContain('stat:UNDELIV err:001');
    expect(sim.stats().rejected).toBe(4);
  });

  it('mixes outcomes by the configured shares', async () => {
    sim.setOutcomes({ REJECTD: 1 });
    const p = await bound();
    await p.call('submit_sm', { destination_addr: '4915112345678', short_message: 'x', registered_delivery: 1 });
    const dr = await until('receipt', () => p.delivered[0]);
    expect(dr.message_state).toBe(8);
  });

  it('delivers an MO, long ones split with UDH', async () => {
    const p = await bound('receiver');
    await sim.sendMo({ from: '4915112345678', to: '15550000000', text: 'short one' });
    expect(text(p.delivered[0] as PkgPdu)).toBe('short one');
    const long = 'abcdefghij'.repeat(20);
    await sim.sendMo({ from: '4915112345678', to: '15550000000', text: long });
    const parts = p.delivered.slice(1);
    expect(parts).toHaveLength(2);
    expect(parts.every((d) => ((d.esm_class ?? 0) & 0x40) !== 0)).toBe(true);
    expect(parts.map(text).join('')).toBe(long);
    expect(sim.stats().mo).toBe(2);
  });

  it('rejects an MO when nobody can receive it, or when the ESME refuses it', async () => {
    await expect(sim.sendMo({ from: '1', to: '2', text: 'x' })).rejects.toThrow(/no receiver/);
    const p = await bound();
    p.ackStatus = Status.ESME_RX_T_APPN;
    await expect(sim.sendMo({ from: '1', to: '2', text: 'x' })).rejects.toThrow(/ESME_RX_T_APPN/);
  });

  it('throttles above throttleTps', async () => {
    sim.setThrottleTps(5);
    const p = await bound();
    const rs = await Promise.all(Array.from({ length: 20 }, () => p.call('submit_sm', { destination_addr: '4915112345678', short_message: 'x' })));
    const throttled = rs.filter((r) => r.command_status === Status.ESME_RTHROTTLED).length;
    expect(throttled).toBeGreaterThanOrEqual(10);
    expect(rs.filter((r) => r.command_status === Status.ESME_ROK).length).toBeGreaterThanOrEqual(5);
    expect(sim.stats().throttled).toBe(throttled);
  });

  it('holds submits unanswered while told to, and still answers enquire_link', async () => {
    const p = await bound();
    sim.setHoldSubmits(true);
    let answered = false;
    void p.call('submit_sm', { destination_addr: '4915112345678', short_message: 'held', registered_delivery: 1 }).then(() => {
      answered = true;
    });
    const link = await p.call('enquire_link');
    expect(link.command).toBe('enquire_link_resp');
    await until('held', () => sim.stats().held === 1);
    await new Promise((res) => setTimeout(res, 100));
    expect(answered).toBe(false);
    expect(sim.stats().submits).toBe(0);
    expect(sim.pendingReceipts).toBe(0);
    sim.setHoldSubmits(false);
    const r = await p.call('submit_sm', { destination_addr: '4915112345678', short_message: 'sent' });
    expect(r.command_status).toBe(Status.ESME_ROK);
    expect(sim.stats()).toMatchObject({ held: 1, submits: 1 });
  });

  it('keeps receipts for a transmitter until a receiver of the same system_id binds', async () => {
    const tx = await bound('transmitter');
    const r = await tx.call('submit_sm', { destination_addr: '4915112345678', short_message: 'x', registered_delivery: 1 });
    await new Promise((res) => setTimeout(res, 60));
    expect(sim.pendingReceipts).toBe(1);
    const rx = await bound('receiver');
    const dr = await until('receipt', () => rx.delivered[0]);
    expect(dr.receipted_message_id).toBe(r.message_id);
    expect(tx.delivered).toHaveLength(0);
  });

  it('re-sends a receipt that was not acknowledged', async () => {
    const p = await bound();
    p.ackStatus = Status.ESME_RX_T_APPN;
    await p.call('submit_sm', { destination_addr: '4915112345678', short_message: 'x', registered_delivery: 1 });
    await until('first try', () => p.delivered.length >= 1);
    p.ackStatus = 0;
    await until('acked on a later try', () => sim.stats().receiptsAcked === 1);
    expect(p.delivered.length).toBe(2);
    expect(sim.stats().receiptsResent).toBe(1);
  });

  it('answers enquire_link and an unknown command (generic_nack)', async () => {
    const sock = connect(port, '127.0.0.1');
    const dec = new FrameDecoder();
    const got: number[] = [];
    sock.on('data', (c: Buffer) => {
      dec.push(c);
      for (let f = dec.next(); f; f = dec.next()) {
        const r = decodePdu(f);
        if (r.ok) got.push(CommandId[r.pdu.command]);
      }
    });
    await new Promise((r) => sock.once('connect', r));
    sock.write(encodeHeaderOnly(CommandId.enquire_link, 0, 1));
    sock.write(encodeHeaderOnly(0x0000_0999, 0, 2));
    await until('answers', () => got.length >= 2);
    expect(got).toEqual([CommandId.enquire_link_resp, CommandId.generic_nack]);
    sock.destroy();
  });

  it('takes data_sm like submit_sm', async () => {
    const p = await bound();
    const r = await p.call('data_sm', { destination_addr: '4915112345678', message_payload: 'payload text', registered_delivery: 1 });
    expect(r.command).toBe('data_sm_resp');
    expect(r.command_status).toBe(Status.ESME_ROK);
    const dr = await until('receipt', () => p.delivered[0]);
    expect(dr.receipted_message_id).toBe(r.message_id);
  });

  it('destroy() drops every socket at once', async () => {
    const p = await bound();
    sim.destroy();
    await until('peer closed', () => p.closed);
    expect(p.unbound).toBe(false);
  });

  it('close() unbinds bound sessions', async () => {
    const p = await bound();
    await sim.close();
    expect(p.unbound).toBe(true);
    await until('peer closed', () => p.closed);
  });
});
