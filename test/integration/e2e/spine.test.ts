/**
 * The spine end to end: an ESME bound with the smpp package → our SMSC → Redis router → our ESME
 * → the SMSC simulator → receipts back through Redis → the ESME, and every event in ClickHouse.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Status, encodeText } from '../../../src/smpp/index.js';
import type { SmscSimulator } from '../../../src/sim/index.js';
import type { Appliance } from '../../../src/appliance.js';
import { SmppPeer, receiptText, sendMany, type PackagePdu } from '../../helpers/esme.js';
import { until } from '../../helpers/env.js';
import { E2E_ACCOUNT, clickhouseQuery, dropDatabase, e2eConfig, startAppliance, startSim } from '../../helpers/appliance.js';

let sim: SmscSimulator;
let app: Appliance;
let smppPort = 0;
let database = '';

beforeAll(async () => {
  const s = await startSim();
  sim = s.sim;
  const raw = await e2eConfig(s.port);
  const started = await startAppliance(raw);
  app = started.app;
  smppPort = started.smppPort;
  database = started.config.clickhouse.database;
  await until('upstream bound', () => sim.boundSessions >= 2);
});

afterAll(async () => {
  await app.close();
  await sim.close();
  await dropDatabase(database);
});

const LONG = 'This long message goes past one SMS part, so it travels as a concatenated message of several parts and must come back as a single delivery receipt. '.repeat(3);
const UCS2 = 'Привет, мир! 😀 Ünïcødé survives the trip 👍';

describe('spine end to end', () => {
  it('carries 10,000 messages (long, UCS-2, some with receipts) to final states, receipts and ClickHouse rows', async () => {
    const peer = await SmppPeer.open(smppPort);
    expect(await peer.bind('transceiver', E2E_ACCOUNT.systemId, E2E_ACCOUNT.password)).toBe(0);
    const N = 10_000;
    const wantsReceipt = (i: number): boolean => i % 3 === 0;
    const undeliverable = (i: number): boolean => i % 97 === 0;
    const resps = await sendMany(
      peer,
      N,
      (i) => {
        const destination_addr = undeliverable(i) ? `9991${String(i).padStart(7, '0')}` : `1415555${String(i).padStart(4, '0')}`;
        const base = { source_addr: 'ACME', destination_addr, registered_delivery: wantsReceipt(i) ? 1 : 0 };
        if (i % 10 === 1) return { ...base, data_coding: 8, short_message: encodeText(UCS2, 8) };
        if (i % 10 === 2) return { ...base, data_coding: 0, message_payload: encodeText(LONG, 0) };
        return { ...base, data_coding: 0, short_message: encodeText(`message ${i}`, 0) };
      },
      200,
    );
    expect(resps.filter((r) => r.command_status === Status.ESME_ROK)).toHaveLength(N);
    const ids = resps.map((r) => r.message_id ?? '');
    expect(new Set(ids).size).toBe(N);

    // Every asked-for receipt comes back, with the right state.
    const asked = ids.filter((_, i) => wantsReceipt(i));
    await until(
      'receipts',
      () => new Set(peer.delivered.filter((p) => p.esm_class === 0x04).map((p) => p.receipted_message_id)).size >= asked.length,
      60_000,
      100,
    );
    const byId = new Map(peer.delivered.map((p) => [p.receipted_message_id, p]));
    ids.forEach((id, i) => {
      const r = byId.get(id);
      if (!wantsReceipt(i)) {
        expect(r).toBeUndefined();
        return;
      }
      expect(r?.message_state).toBe(undeliverable(i) ? 5 : 2);
      expect(receiptText(r!)).toContain(`id:${id} `);
      expect(receiptText(r!)).toContain(undeliverable(i) ? 'stat:UNDELIV' : 'stat:DELIVRD');
    });

    // Every message is final in Redis, long ones sent as three parts with one receipt each.
    const store = app.store!;
    const states = await store.getMany(ids);
    expect(states.filter((s) => s?.status === 'delivered')).toHaveLength(ids.filter((_, i) => !undeliverable(i)).length);
    expect(states.filter((s) => s?.status === 'failed')).toHaveLength(ids.filter((_, i) => undeliverable(i)).length);
    expect(states[2]?.parts).toBe(3);
    expect(states[1]?.message?.body).toEqual({ kind: 'text', text: UCS2, dataCoding: 8 });

    // ClickHouse holds every event: queued, submitted and the final one, for every message.
    await until(
      'ClickHouse rows',
      async () => {
        const [row] = await clickhouseQuery<{ n: string }>(`SELECT uniqExact(message_id) AS n FROM ${database}.message_events WHERE status IN ('delivered','failed')`);
        return Number(row?.n) === N;
      },
      60_000,
      250,
    );
    const perStatus = await clickhouseQuery<{ status: string; n: string }>(`SELECT status, uniqExact(message_id) AS n FROM ${database}.message_events GROUP BY status`);
    const counts = Object.fromEntries(perStatus.map((r) => [r.status, Number(r.n)]));
    expect(counts['queued']).toBe(N);
    expect(counts['submitted']).toBe(N);
    const [sample] = await clickhouseQuery<{ price: number; parts: number; upstream_id: string; account_id: string }>(
      `SELECT price, parts, upstream_id, account_id FROM ${database}.message_events WHERE message_id = '${ids[2] ?? ''}' AND status = 'delivered'`,
    );
    expect(sample).toMatchObject({ parts: 3, upstream_id: 'sim', account_id: 'acme' });
    expect(Number(sample?.price)).toBeCloseTo(0.015, 6);
    await peer.close();
  }, 180_000);

  it('finishes every message when the upstream drops its connections mid-run', async () => {
    const peer = await SmppPeer.open(smppPort);
    await peer.bind('transceiver', E2E_ACCOUNT.systemId, E2E_ACCOUNT.password);
    const base = sim.stats().submits;
    const first = sendMany(peer, 1000, (i) => ({ destination_addr: `1415556${String(i).padStart(4, '0')}`, short_message: `drop ${i}`, registered_delivery: 1 }), 50);
    await until('some submitted', () => sim.stats().submits > base + 200, 20_000, 5);
    sim.dropConnections();
    expect(sim.stats().submits - base).toBeLessThan(1000);
    const resps = await first;
    const ids = resps.map((r) => r.message_id ?? '');
    expect(resps.every((r) => r.command_status === 0)).toBe(true);
    await until('all delivered', async () => (await app.store!.getMany(ids)).every((s) => s?.status === 'delivered'), 60_000, 200);
    await until('all receipts', () => ids.every((id) => peer.delivered.some((p) => p.receipted_message_id === id)), 30_000, 100);
    await peer.close();
  }, 120_000);

  it('correlates receipts that arrive before their submit_sm_resp', async () => {
    sim.earlyReceipts(true);
    try {
      const peer = await SmppPeer.open(smppPort);
      await peer.bind('transceiver', E2E_ACCOUNT.systemId, E2E_ACCOUNT.password);
      const resps = await sendMany(peer, 300, (i) => ({ destination_addr: `1415557${String(i).padStart(4, '0')}`, short_message: `early ${i}`, registered_delivery: 1 }), 30);
      const ids = resps.map((r) => r.message_id ?? '');
      await until('all delivered', async () => (await app.store!.getMany(ids)).every((s) => s?.status === 'delivered'), 30_000, 100);
      await peer.close();
    } finally {
      sim.earlyReceipts(false);
    }
  }, 60_000);

  it('delivers mobile-originated messages, long and Unicode ones whole, to the receiver binds of the number\'s account', async () => {
    const rx = await SmppPeer.open(smppPort);
    expect(await rx.bind('receiver', E2E_ACCOUNT.systemId, E2E_ACCOUNT.password)).toBe(0);
    const text = 'Réponse du client 😀 — '.repeat(8);
    await sim.sendMo({ from: '14155550123', to: '15550001111', text });
    await sim.sendMo({ from: '14155550124', to: '15550001111', text: 'short reply' });
    // Reassemble as an ESME would: the smpp package decodes UCS-2 and hands the UDH over apart.
    const seqOf = (p: PackagePdu): number => {
      const udh = (p.short_message as { udh?: Buffer[] }).udh?.[0];
      return udh ? (udh[udh.length - 1] ?? 0) : 0;
    };
    const from = (addr: string): PackagePdu[] => rx.delivered.filter((p) => p.esm_class !== 0x04 && p.source_addr === addr);
    const whole = (): string => [...from('14155550123')].sort((a, b) => seqOf(a) - seqOf(b)).map((p) => receiptText(p)).join('');
    await until('both MOs, the long one whole', () => from('14155550124').length >= 1 && whole() === text, 20_000, 50);
    expect(receiptText(from('14155550124')[0]!)).toBe('short reply');
    const parts = from('14155550123');
    expect(parts.length).toBeGreaterThanOrEqual(2);
    expect(parts.every((p) => p.data_coding === 8)).toBe(true);
    await rx.close();
  }, 30_000);

  it('ends a message the upstream refuses for good, with an UNDELIV receipt and its money back', async () => {
    const peer = await SmppPeer.open(smppPort);
    await peer.bind('transceiver', E2E_ACCOUNT.systemId, E2E_ACCOUNT.password);
    const before = await app.store!.balance(E2E_ACCOUNT.id);
    // The simulator answers ESME_RINVDSTADR to 9990… numbers.
    const r = await peer.call('submit_sm', { destination_addr: '99901234567', short_message: 'nobody home', registered_delivery: 1 });
    expect(r.command_status).toBe(0);
    const id = r.message_id ?? '';
    const receipt = await until('receipt', () => peer.delivered.find((p) => p.receipted_message_id === id), 20_000, 50);
    expect(receiptText(receipt)).toContain('stat:UNDELIV');
    const s = await app.store!.get(id);
    expect(s?.status).toBe('rejected');
    expect(s?.errorCode).toBe('ESME_RINVDSTADR');
    expect(await app.store!.balance(E2E_ACCOUNT.id)).toBe(before);
    await peer.close();
  }, 30_000);
});
