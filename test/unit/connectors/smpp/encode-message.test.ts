import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../../../../src/connectors/smpp/encode-message.js';
import { parseConfig, type UpstreamConfig } from '../../../../src/core/config.js';
import type { Message } from '../../../../src/core/message.js';
import { decodePdu, decodeText, encodePdu, getTlv, readConcatInfo, Reassembler, Tag, tlvUint16, tlvUint8, type SubmitSm } from '../../../../src/smpp/index.js';

function cfg(over: Record<string, unknown> = {}): UpstreamConfig {
  const u = parseConfig({ upstreams: [{ id: 'u', type: 'smpp', host: 'h', port: 1, systemId: 's', password: 'p', ...over }] }).upstreams[0];
  if (u === undefined) throw new Error('no upstream');
  return u;
}

function msg(body: Message['body'], over: Partial<Message> = {}): Message {
  return {
    id: 'm1',
    accountId: 'a',
    channel: 'sms',
    direction: 'mt',
    ingress: 'http',
    source: { addr: 'Catalyst', ton: 5, npi: 0 },
    destination: { addr: '4915112345678', ton: 1, npi: 1 },
    body,
    receipt: false,
    createdAt: 0,
    ...over,
  };
}

function pdus(m: Message, c = cfg(), ref = 7): SubmitSm[] {
  const e = encodeMessage(m, c, ref);
  if (!e.ok) throw new Error(e.reason);
  // Every PDU survives our own codec.
  for (const p of e.pdus) {
    const back = decodePdu(encodePdu(p));
    expect(back.ok).toBe(true);
  }
  return e.pdus;
}

/** Reassembles parts as a receiving SMSC would and decodes the text. */
function reassemble(parts: SubmitSm[]): string {
  const r = new Reassembler();
  let whole: Buffer | null = null;
  for (const p of parts) {
    const info = readConcatInfo(p);
    if (info === null) return decodeText(getTlv(p.tlvs, Tag.message_payload) ?? p.shortMessage, p.dataCoding);
    whole = r.add('k', info, 0);
  }
  if (whole === null) throw new Error('incomplete');
  return decodeText(whole, (parts[0] as SubmitSm).dataCoding);
}

const GSM_400 = 'Hello {world} with €uro signs and plain text. '.repeat(10).slice(0, 400);

describe('encodeMessage', () => {
  it('sends short GSM text as one data_coding 0 part, registered_delivery 1, fields from the message', () => {
    const [p, ...rest] = pdus(msg({ kind: 'text', text: 'Hi @ there' }, { priority: 2, protocolId: 0x40, serviceType: 'CMT', esmClass: 0 }));
    expect(rest).toHaveLength(0);
    expect(p).toMatchObject({
      sourceAddr: 'Catalyst',
      sourceAddrTon: 5,
      destinationAddr: '4915112345678',
      destAddrTon: 1,
      destAddrNpi: 1,
      dataCoding: 0,
      esmClass: 0,
      registeredDelivery: 1,
      priorityFlag: 2,
      protocolId: 0x40,
      serviceType: 'CMT',
      scheduleDeliveryTime: '',
      validityPeriod: '',
    });
    expect(p?.shortMessage[3]).toBe(0x00); // '@' is septet 0
  });

  it('uses UCS-2 when the text does not fit GSM, without cutting a surrogate pair', () => {
    const text = `${'a'.repeat(66)}😀${'b'.repeat(10)}`;
    const parts = pdus(msg({ kind: 'text', text }));
    expect(parts).toHaveLength(2);
    expect(parts.every((p) => p.dataCoding === 8 && (p.esmClass & 0x40) !== 0)).toBe(true);
    expect(reassemble(parts)).toBe(text);
  });

  it('honours Latin-1 (3) and UCS-2 (8) when the body asks', () => {
    expect(pdus(msg({ kind: 'text', text: 'café', dataCoding: 3 }))[0]?.shortMessage).toEqual(Buffer.from('café', 'latin1'));
    expect(pdus(msg({ kind: 'text', text: 'abc', dataCoding: 8 }))[0]?.dataCoding).toBe(8);
  });

  it('splits long GSM text with a UDH and esm_class 0x40 (udh)', () => {
    const parts = pdus(msg({ kind: 'text', text: GSM_400 }), cfg(), 0x1a7);
    expect(parts).toHaveLength(3);
    for (const [i, p] of parts.entries()) {
      expect(p.esmClass & 0x40).toBe(0x40);
      expect([...p.shortMessage.subarray(0, 6)]).toEqual([5, 0, 3, 0xa7, 3, i + 1]); // 8-bit ref
    }
    expect(reassemble(parts)).toBe(GSM_400);
  });

  it('splits long text with SAR TLVs and no UDH (sar)', () => {
    const parts = pdus(msg({ kind: 'text', text: GSM_400 }), cfg({ longMessages: 'sar' }), 0x1234);
    expect(parts).toHaveLength(3);
    for (const [i, p] of parts.entries()) {
      expect(p.esmClass & 0x40).toBe(0);
      expect(tlvUint16(p.tlvs, Tag.sar_msg_ref_num)).toBe(0x1234);
      expect(tlvUint8(p.tlvs, Tag.sar_total_segments)).toBe(3);
      expect(tlvUint8(p.tlvs, Tag.sar_segment_seqnum)).toBe(i + 1);
    }
    expect(reassemble(parts)).toBe(GSM_400);
  });

  it('sends one message_payload with an empty short_message (payload)', () => {
    const parts = pdus(msg({ kind: 'text', text: GSM_400 }), cfg({ longMessages: 'payload' }));
    expect(parts).toHaveLength(1);
    expect(parts[0]?.shortMessage.length).toBe(0);
    expect(reassemble(parts)).toBe(GSM_400);
  });

  it('refuses more parts than maxParts', () => {
    expect(encodeMessage(msg({ kind: 'text', text: GSM_400 }), cfg({ maxParts: 2 }), 1)).toMatchObject({ ok: false, status: 0x01 });
    expect(encodeMessage(msg({ kind: 'text', text: GSM_400 }), cfg({ maxParts: 2, longMessages: 'payload' }), 1)).toMatchObject({ ok: false });
  });

  it('refuses Latin-1 asked for text that is not Latin-1', () => {
    expect(encodeMessage(msg({ kind: 'text', text: 'Привет', dataCoding: 3 }), cfg(), 1)).toMatchObject({ ok: false });
  });

  it('sends binary bodies by their data_coding, split when long', () => {
    const bin = Buffer.alloc(200, 0xab);
    const parts = pdus(msg({ kind: 'binary', base64: bin.toString('base64'), dataCoding: 4 }));
    expect(parts).toHaveLength(2);
    expect(parts.every((p) => p.dataCoding === 4)).toBe(true);
    const own = pdus(msg({ kind: 'binary', base64: Buffer.from([6, 5, 4, 0x0b, 0x84, 0x23, 0xf0, 1, 2]).toString('base64'), dataCoding: 4 }, { esmClass: 0x40 }));
    expect(own[0]?.esmClass).toBe(0x40);
  });

  it('sets validity_period from expireAt as SMPP absolute time', () => {
    const p = pdus(msg({ kind: 'text', text: 'x' }, { expireAt: Date.UTC(2026, 0, 2, 3, 4, 5) }))[0];
    expect(p?.validityPeriod).toBe('260102030405000+');
  });

  it('labels printable ASCII as IA5 when gsmDataCoding is 1', () => {
    expect(pdus(msg({ kind: 'text', text: 'plain text' }), cfg({ gsmDataCoding: 1 }))[0]).toMatchObject({ dataCoding: 1, shortMessage: Buffer.from('plain text') });
    expect(pdus(msg({ kind: 'text', text: 'Über ñ ok' }), cfg({ gsmDataCoding: 1 }))[0]?.dataCoding).toBe(0);
  });
});
