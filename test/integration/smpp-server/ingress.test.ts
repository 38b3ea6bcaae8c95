import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandId, Status, encodePdu, encodeText, formatSmppAbsolute, type SubmitSm } from '../../../src/smpp/index.js';
import { RawPeer, SmppPeer, header, receiptText } from '../../helpers/esme.js';
import { until } from '../../helpers/env.js';
import { ACCOUNT, Ingress, testConfig } from '../../helpers/ingress.js';

let ingress: Ingress;

beforeAll(async () => {
  ingress = await new Ingress(testConfig()).start();
});
afterAll(async () => {
  await ingress.stop();
});

function submit(over: Partial<SubmitSm> = {}): SubmitSm {
  return {
    command: 'submit_sm', commandStatus: 0, sequenceNumber: 1, serviceType: '', sourceAddrTon: 5, sourceAddrNpi: 0, sourceAddr: 'ACME',
    destAddrTon: 1, destAddrNpi: 1, destinationAddr: '14155550100', esmClass: 0, protocolId: 0, priorityFlag: 0, scheduleDeliveryTime: '',
    validityPeriod: '', registeredDelivery: 1, replaceIfPresentFlag: 0, dataCoding: 0, smDefaultMsgId: 0, shortMessage: Buffer.from('hello'), tlvs: [],
    ...over,
  };
}

async function rawBound(): Promise<RawPeer> {
  const raw = await RawPeer.open(ingress.port);
  raw.write(encodePdu({ command: 'bind_transceiver', commandStatus: 0, sequenceNumber: 1, systemId: ACCOUNT.systemId, password: ACCOUNT.password, systemType: '', interfaceVersion: 0x34, addrTon: 0, addrNpi: 0, addressRange: '' }));
  await until('bind_resp', () => raw.pdus.find((p) => p.command === 'bind_transceiver_resp'));
  return raw;
}

describe('SMPP server: binds', () => {
  it('refuses an unknown system_id and a wrong password, and a second bind on a bound session', async () => {
    const a = await SmppPeer.open(ingress.port);
    expect(await a.bind('transceiver', 'nobody', 'x')).toBe(Status.ESME_RINVSYSID);
    const b = await SmppPeer.open(ingress.port);
    expect(await b.bind('transceiver', ACCOUNT.systemId, 'wrong')).toBe(Status.ESME_RINVPASWD);
    const c = await SmppPeer.open(ingress.port);
    expect(await c.bind('transmitter', ACCOUNT.systemId, ACCOUNT.password)).toBe(Status.ESME_ROK);
    expect(await c.bind('transmitter', ACCOUNT.systemId, ACCOUNT.password)).toBe(Status.ESME_RALYBND);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('accepts an SMPP 5.0 interface_version and answers with sc_interface_version 0x34', async () => {
    const raw = await RawPeer.open(ingress.port);
    raw.write(encodePdu({ command: 'bind_transmitter', commandStatus: 0, sequenceNumber: 7, systemId: ACCOUNT.systemId, password: ACCOUNT.password, systemType: '', interfaceVersion: 0x50, addrTon: 0, addrNpi: 0, addressRange: '' }));
    const resp = await until('bind resp', () => raw.pdus.find((p) => p.command === 'bind_transmitter_resp'));
    expect(resp.commandStatus).toBe(Status.ESME_ROK);
    expect(resp.command === 'bind_transmitter_resp' && resp.tlvs.some((t) => t.tag === 0x0210 && t.value[0] === 0x34)).toBe(true);
    raw.destroy();
  });

  it('refuses submit_sm before bind and from a receiver', async () => {
    const raw = await RawPeer.open(ingress.port);
    raw.write(encodePdu(submit({ sequenceNumber: 3 })));
    const r = await until('resp', () => raw.pdus.find((p) => p.command === 'submit_sm_resp'));
    expect(r.commandStatus).toBe(Status.ESME_RINVBNDSTS);
    raw.destroy();
    const rx = await SmppPeer.open(ingress.port);
    expect(await rx.bind('receiver', ACCOUNT.systemId, ACCOUNT.password)).toBe(0);
    expect((await rx.call('submit_sm', { destination_addr: '14155550100', short_message: 'x' })).command_status).toBe(Status.ESME_RINVBNDSTS);
    await rx.close();
  });
});

describe('SMPP server: submits', () => {
  it('stores a submit_sm before answering it, with a time-sortable id', async () => {
    const peer = await SmppPeer.open(ingress.port);
    await peer.bind('transceiver', ACCOUNT.systemId, ACCOUNT.password);
    // The smpp package transliterates string bodies on its own: hand it GSM 03.38 bytes.
    const r = await peer.call('submit_sm', { source_addr: 'ACME', destination_addr: '14155550100', data_coding: 0, short_message: encodeText('Hello €uro [world]', 0), registered_delivery: 1 });
    expect(r.command_status).toBe(0);
    const stored = await ingress.store.get(r.message_id ?? '');
    expect(stored?.status).toBe('queued');
    expect(stored?.message?.body).toEqual({ kind: 'text', text: 'Hello €uro [world]', dataCoding: 0 });
    expect(stored?.message?.receipt).toBe(true);
    await peer.close();
  });

  it('reassembles a long message sent as UDH parts into one message with one id', async () => {
    const peer = await SmppPeer.open(ingress.port);
    await peer.bind('transceiver', ACCOUNT.systemId, ACCOUNT.password);
    const parts = ['Part one of a long message, ', 'part two goes on, ', 'and part three ends it.'];
    const ids: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      const udh = Buffer.from([0x05, 0x00, 0x03, 0x42, parts.length, i + 1]);
      const r = await peer.call('submit_sm', { destination_addr: '14155550100', esm_class: 0x40, short_message: Buffer.concat([udh, Buffer.from(parts[i]!, 'latin1')]) });
      expect(r.command_status).toBe(0);
      ids.push(r.message_id ?? '');
    }
    expect(new Set(ids).size).toBe(1);
    const stored = await ingress.store.get(ids[0]!);
    expect(stored?.message?.body.kind === 'text' && stored.message.body.text).toBe(parts.join(''));
    await peer.close();
  });

  it('reads SAR parts, message_payload and UCS-2', async () => {
    const raw = await rawBound();
    const text = 'Привет 😀 — UCS-2 survives';
    const payload = Buffer.from(text, 'utf16le').swap16();
    raw.write(encodePdu(submit({ sequenceNumber: 10, dataCoding: 8, shortMessage: Buffer.alloc(0), tlvs: [{ tag: 0x0424, value: payload }] })));
    const sar = (seq: number, s: string): SubmitSm =>
      submit({ sequenceNumber: 10 + seq, shortMessage: Buffer.from(s), tlvs: [{ tag: 0x020c, value: Buffer.from([0x01, 0x07]) }, { tag: 0x020e, value: Buffer.from([2]) }, { tag: 0x020f, value: Buffer.from([seq]) }] });
    raw.write(Buffer.concat([encodePdu(sar(1, 'SAR first ')), encodePdu(sar(2, 'SAR second'))]));
    const resps = await until('3 resps', () => {
      const r = raw.pdus.filter((p) => p.command === 'submit_sm_resp');
      return r.length === 3 ? r : undefined;
    });
    const byId = new Map(resps.map((r) => [r.sequenceNumber, r.command === 'submit_sm_resp' ? r.messageId : '']));
    const ucs = await ingress.store.get(byId.get(10)!);
    expect(ucs?.message?.body).toEqual({ kind: 'text', text, dataCoding: 8 });
    expect(byId.get(11)).toBe(byId.get(12));
    const sarMsg = await ingress.store.get(byId.get(12)!);
    expect(sarMsg?.message?.body.kind === 'text' && sarMsg.message.body.text).toBe('SAR first SAR second');
    raw.destroy();
  });

  it('refuses bad destinations, schedule and validity with their statuses', async () => {
    const raw = await rawBound();
    raw.write(
      Buffer.concat([
        encodePdu(submit({ sequenceNumber: 21, destinationAddr: '' })),
        encodePdu(submit({ sequenceNumber: 22, destinationAddr: 'not-a-number' })),
        encodePdu(submit({ sequenceNumber: 23, scheduleDeliveryTime: 'garbage' })),
        encodePdu(submit({ sequenceNumber: 24, validityPeriod: '000000000000000X' })),
        encodePdu(submit({ sequenceNumber: 25, shortMessage: Buffer.from('x'), tlvs: [{ tag: 0x0424, value: Buffer.from('y') }] })),
      ]),
    );
    const resps = await until('5 resps', () => {
      const r = raw.pdus.filter((p) => p.command === 'submit_sm_resp');
      return r.length === 5 ? r : undefined;
    });
    const status = new Map(resps.map((r) => [r.sequenceNumber, r.commandStatus]));
    expect(status.get(21)).toBe(Status.ESME_RINVDSTADR);
    expect(status.get(22)).toBe(Status.ESME_RINVDSTADR);
    expect(status.get(23)).toBe(Status.ESME_RINVSCHED);
    expect(status.get(24)).toBe(Status.ESME_RINVEXPIRY);
    expect(status.get(25)).toBe(Status.ESME_RINVPARLEN);
    raw.destroy();
  });

  it('refuses a schedule_delivery_time past router.retentionSeconds with ESME_RINVSCHED and stores nothing', async () => {
    const day = 86_400_000;
    // Everything the refused requests could have written: a key, a timer, an event row.
    const stored = async (): Promise<{ keys: string[]; timers: number; events: number }> => {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, found] = await ingress.redis.scan(cursor, 'MATCH', `${ingress.store.keys.prefix}*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...found);
      } while (cursor !== '0');
      return { keys: keys.sort(), timers: await ingress.redis.zcard(ingress.store.keys.timers()), events: await ingress.redis.xlen(ingress.store.keys.events()) };
    };
    const peer = await SmppPeer.open(ingress.port);
    await peer.bind('transceiver', ACCOUNT.systemId, ACCOUNT.password);
    const before = await stored();
    // 8 days ahead against the default 7 days, in the absolute and the relative (§7.1.1.2) form.
    for (const at of [formatSmppAbsolute(Date.now() + 8 * day), '000008000000000R']) {
      const r = await peer.call('submit_sm', { destination_addr: '14155550100', short_message: 'too late', schedule_delivery_time: at });
      expect(r.command_status, at).toBe(Status.ESME_RINVSCHED);
    }
    const multi = await peer.call('submit_multi', { dest_address: [{ dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '14155550100' }], short_message: 'too late', schedule_delivery_time: '000008000000000R' });
    expect(multi.command_status).toBe(Status.ESME_RINVSCHED);
    expect(await stored()).toEqual(before);

    const ids: string[] = [];
    for (const [at, due] of [[formatSmppAbsolute(Date.now() + 6 * day), Date.now() + 6 * day], ['000006000000000R', Date.now() + 6 * day]] as const) {
      const r = await peer.call('submit_sm', { destination_addr: '14155550100', short_message: 'in time', schedule_delivery_time: at });
      expect(r.command_status, at).toBe(0);
      const s = await ingress.store.get(r.message_id ?? '');
      expect(s?.status).toBe('scheduled');
      expect(Math.abs((s?.message?.scheduleAt ?? 0) - due)).toBeLessThan(5000);
      ids.push(r.message_id ?? '');
    }

    // replace_sm: the same limit, counted from when the message was accepted.
    const id = ids[0] ?? '';
    const original = (await ingress.store.get(id))?.message;
    expect((await peer.call('replace_sm', { message_id: id, short_message: 'later still', schedule_delivery_time: '000008000000000R' })).command_status).toBe(Status.ESME_RINVSCHED);
    expect((await ingress.store.get(id))?.message).toEqual(original);
    expect((await peer.call('replace_sm', { message_id: id, short_message: 'a day sooner', schedule_delivery_time: '000005000000000R' })).command_status).toBe(0);
    const replaced = (await ingress.store.get(id))?.message;
    expect(replaced?.body.kind === 'text' && replaced.body.text).toBe('a day sooner');
    expect(Math.abs((replaced?.scheduleAt ?? 0) - (Date.now() + 5 * day))).toBeLessThan(5000);
    await peer.close();
  });

  it('replace_sm gives the message the validity admission would: capped at retention, the default counted from the new send time, never before it', async () => {
    const day = 86_400_000;
    const hour = 3_600_000;
    const peer = await SmppPeer.open(ingress.port);
    await peer.bind('transceiver', ACCOUNT.systemId, ACCOUNT.password);
    const submitted = async (fields: Record<string, string>): Promise<string> => {
      const r = await peer.call('submit_sm', { destination_addr: '14155550100', short_message: 'later', ...fields });
      expect(r.command_status).toBe(0);
      return r.message_id ?? '';
    };
    // How far a stored time is from the one expected (the test's clock and the server's differ by the round trips).
    const off = (a: number | undefined, b: number): number => Math.abs((a ?? 0) - b);

    // A new validity_period past retention (7 days by default) is brought forward to it, as at admission.
    const a = await submitted({ schedule_delivery_time: '000000010000000R' });
    const createdA = (await ingress.store.get(a))?.createdAt ?? 0;
    expect((await peer.call('replace_sm', { message_id: a, short_message: 'x', validity_period: '000009000000000R' })).command_status).toBe(0);
    expect(off((await ingress.store.get(a))?.expireAt, createdA + 7 * day)).toBeLessThan(5000);

    // No validity of its own: moving the send time three days out moves the default 48 h with it,
    // where before the message kept its first expiry and would have expired unsent.
    const b = await submitted({ schedule_delivery_time: '000000010000000R' });
    expect((await peer.call('replace_sm', { message_id: b, short_message: 'x', schedule_delivery_time: '000003000000000R' })).command_status).toBe(0);
    const movedB = await ingress.store.get(b);
    expect(off(movedB?.message?.scheduleAt, Date.now() + 3 * day)).toBeLessThan(5000);
    expect(off(movedB?.expireAt, Date.now() + 5 * day)).toBeLessThan(5000);

    // Its own validity of a day: a send time two days out is after it (ESME_RINVSCHED), and so is
    // a validity that ends before the send time already set (ESME_RINVEXPIRY). Nothing changes.
    const c = await submitted({ schedule_delivery_time: '000000020000000R', validity_period: '000001000000000R' });
    const before = await ingress.store.get(c);
    expect((await peer.call('replace_sm', { message_id: c, short_message: 'x', schedule_delivery_time: '000002000000000R' })).command_status).toBe(Status.ESME_RINVSCHED);
    expect((await peer.call('replace_sm', { message_id: c, short_message: 'x', validity_period: '000000010000000R' })).command_status).toBe(Status.ESME_RINVEXPIRY);
    const after = await ingress.store.get(c);
    expect(after?.message).toEqual(before?.message);
    expect(after?.expireAt).toBe(before?.expireAt);
    expect(off(after?.expireAt, Date.now() + day)).toBeLessThan(5000);
    expect(off(after?.message?.scheduleAt, Date.now() + 2 * hour)).toBeLessThan(5000);
    await peer.close();
  });

  it('answers a window overflow with ESME_RTHROTTLED instead of queueing it', async () => {
    const raw = await rawBound();
    // 200 submits in one write: more than the window of 50 arrive before any is answered.
    raw.write(Buffer.concat(Array.from({ length: 200 }, (_, i) => encodePdu(submit({ sequenceNumber: 100 + i })))));
    const resps = await until('200 resps', () => {
      const r = raw.pdus.filter((p) => p.command === 'submit_sm_resp');
      return r.length === 200 ? r : undefined;
    });
    const throttled = resps.filter((r) => r.commandStatus === Status.ESME_RTHROTTLED).length;
    const ok = resps.filter((r) => r.commandStatus === Status.ESME_ROK).length;
    expect(ok).toBeGreaterThanOrEqual(50);
    expect(throttled).toBeGreaterThan(0);
    expect(ok + throttled).toBe(200);
    raw.destroy();
  });

  it('handles query_sm, replace_sm and cancel_sm of a queued message', async () => {
    const peer = await SmppPeer.open(ingress.port);
    await peer.bind('transceiver', ACCOUNT.systemId, ACCOUNT.password);
    const r = await peer.call('submit_sm', { destination_addr: '14155550100', short_message: 'original', schedule_delivery_time: '000001000000000R' });
    const id = r.message_id ?? '';
    const q = await peer.call('query_sm', { message_id: id });
    expect(q.command_status).toBe(0);
    expect(q.message_state).toBe(1); // ENROUTE
    expect((await peer.call('replace_sm', { message_id: id, short_message: 'replaced' })).command_status).toBe(0);
    const s = await ingress.store.get(id);
    expect(s?.message?.body.kind === 'text' && s.message.body.text).toBe('replaced');
    expect((await peer.call('cancel_sm', { message_id: id })).command_status).toBe(0);
    expect((await ingress.store.get(id))?.status).toBe('cancelled');
    expect((await peer.call('cancel_sm', { message_id: id })).command_status).toBe(Status.ESME_RCANCELFAIL);
    expect((await peer.call('query_sm', { message_id: 'NOPE' })).command_status).toBe(Status.ESME_RQUERYFAIL);
    await peer.close();
  });

  it('splits submit_multi into one message per destination and lists the refused ones', async () => {
    const peer = await SmppPeer.open(ingress.port);
    await peer.bind('transceiver', ACCOUNT.systemId, ACCOUNT.password);
    const r = await peer.call('submit_multi', {
      dest_address: [{ dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '14155550100' }, { dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: 'bad!' }, { dl_name: 'friends' }],
      short_message: 'to many',
    });
    expect(r.command_status).toBe(0);
    const unsuccess = r['unsuccess_sme'] as { destination_addr: string; error_status_code: number }[];
    expect(unsuccess.map((u) => u.error_status_code).sort()).toEqual([Status.ESME_RINVDSTADR, Status.ESME_RINVDLNAME].sort());
    expect((await ingress.store.get(`${r.message_id ?? ''}-1`))?.status).toBe('queued');
    await peer.close();
  });
});

describe('SMPP server: malformed input', () => {
  it('answers an unknown command id with generic_nack and goes on', async () => {
    const raw = await rawBound();
    raw.write(header(16, 0x00000077, 0, 5));
    const nack = await until('nack', () => raw.pdus.find((p) => p.command === 'generic_nack'));
    expect(nack.commandStatus).toBe(Status.ESME_RINVCMDID);
    expect(nack.sequenceNumber).toBe(5);
    raw.write(header(16, CommandId.enquire_link, 0, 6));
    await until('enquire_link_resp', () => raw.pdus.find((p) => p.command === 'enquire_link_resp'));
    raw.destroy();
  });

  it('answers a C-string without its NUL and a TLV overrun with an error status, and goes on', async () => {
    const raw = await rawBound();
    // submit_sm whose service_type runs to the end of the PDU without a NUL.
    const body = Buffer.from('ABCDEFGHIJKLMNOP');
    raw.write(Buffer.concat([header(16 + body.length, CommandId.submit_sm, 0, 31), body]));
    const good = encodePdu(submit({ sequenceNumber: 32 }));
    // A TLV header promising 200 bytes with 2 present.
    const tlv = Buffer.from([0x04, 0x24, 0x00, 0xc8, 0x41, 0x42]);
    const overrun = Buffer.concat([good, tlv]);
    overrun.writeUInt32BE(overrun.length, 0);
    overrun.writeUInt32BE(33, 12);
    raw.write(overrun);
    raw.write(encodePdu(submit({ sequenceNumber: 34 })));
    const resps = await until('3 answers', () => {
      const r = raw.pdus.filter((p) => p.sequenceNumber >= 31 && p.sequenceNumber <= 34);
      return r.length === 3 ? r : undefined;
    });
    const byseq = new Map(resps.map((p) => [p.sequenceNumber, p]));
    expect(byseq.get(31)?.commandStatus).not.toBe(0);
    expect(byseq.get(33)?.commandStatus).not.toBe(0);
    expect(byseq.get(34)?.commandStatus).toBe(0);
    expect(raw.closed).toBe(false);
    raw.destroy();
  });

  it('closes a session whose command_length is too small or too large, and other sessions never notice', async () => {
    const bystander = await SmppPeer.open(ingress.port);
    await bystander.bind('transceiver', ACCOUNT.systemId, ACCOUNT.password);
    const small = await rawBound();
    small.write(header(8, CommandId.submit_sm, 0, 41));
    await until('closed (small)', () => small.closed);
    expect(small.pdus.some((p) => p.command === 'generic_nack' && p.commandStatus === Status.ESME_RINVCMDLEN)).toBe(true);
    const large = await rawBound();
    large.write(header(10_000_000, CommandId.submit_sm, 0, 42));
    await until('closed (large)', () => large.closed);
    expect((await bystander.call('submit_sm', { destination_addr: '14155550100', short_message: 'still fine' })).command_status).toBe(0);
    await bystander.close();
  });
});

describe('SMPP server: receipts', () => {
  // Its own server: a receipt goes to any receiver bind of the account, so no other test's session may be bound.
  let ingress: Ingress;
  beforeAll(async () => {
    ingress = await new Ingress(testConfig()).start();
  });
  afterAll(async () => {
    await ingress.stop();
  });

  it('holds a receipt while no receiver is bound and delivers it, with TLVs, once one binds', async () => {
    const tx = await SmppPeer.open(ingress.port);
    await tx.bind('transmitter', ACCOUNT.systemId, ACCOUNT.password);
    const r = await tx.call('submit_sm', { source_addr: 'ACME', destination_addr: '14155550100', short_message: 'receipt please', registered_delivery: 1 });
    const id = r.message_id ?? '';
    // Play the dispatcher's and the upstream's part directly against the store.
    await ingress.store.submitted('up1', [{ messageId: id, upstreamIds: ['SMSC-77'] }]);
    await ingress.store.receipts('up1', [{ upstreamMessageId: 'SMSC-77', stat: 'DELIVRD', err: '000' }]);
    expect(await ingress.redis.xlen(ingress.store.keys.deliveries(ACCOUNT.id))).toBe(1);
    const rx = await SmppPeer.open(ingress.port);
    rx.autoAck = true;
    await rx.bind('receiver', ACCOUNT.systemId, ACCOUNT.password);
    const receipt = await until('receipt', () => rx.delivered.find((p) => p.receipted_message_id === id));
    expect(receipt.esm_class).toBe(0x04);
    expect(receipt.message_state).toBe(2);
    expect(receipt.source_addr).toBe('14155550100');
    expect(receipt.destination_addr).toBe('ACME');
    const text = receiptText(receipt);
    expect(text).toMatch(new RegExp(`^id:${id} sub:001 dlvrd:001 submit date:\\d{10} done date:\\d{10} stat:DELIVRD err:000 text:receipt please`));
    await until('acked and removed', async () => (await ingress.redis.xlen(ingress.store.keys.deliveries(ACCOUNT.id))) === 0);
    await Promise.all([tx.close(), rx.close()]);
  });

  it('re-sends a receipt the ESME refuses until it is acknowledged', async () => {
    const tx = await SmppPeer.open(ingress.port);
    await tx.bind('transceiver', ACCOUNT.systemId, ACCOUNT.password);
    tx.ackStatus = Status.ESME_RX_T_APPN; // "try again later"
    const r = await tx.call('submit_sm', { destination_addr: '14155550100', short_message: 'again', registered_delivery: 1 });
    const id = r.message_id ?? '';
    await ingress.store.submitted('up1', [{ messageId: id, upstreamIds: ['SMSC-88'] }]);
    await ingress.store.receipts('up1', [{ upstreamMessageId: 'SMSC-88', stat: 'DELIVRD', err: '000' }]);
    await until('first delivery, refused', () => tx.delivered.some((p) => p.receipted_message_id === id));
    tx.ackStatus = Status.ESME_ROK;
    // Claimed again after redeliverAfterMs (twice the 2 s response timeout here) and sent again.
    await until('sent again', () => tx.delivered.filter((p) => p.receipted_message_id === id).length >= 2, 15_000, 100);
    await until('acknowledged and removed', async () => (await ingress.redis.xlen(ingress.store.keys.deliveries(ACCOUNT.id))) === 0, 5000);
    await tx.close();
  }, 30_000);
});
