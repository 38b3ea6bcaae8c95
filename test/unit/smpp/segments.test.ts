import { describe, expect, it } from 'vitest';
import { Reassembler, readConcatInfo, splitBinary, splitText, stripUdh, messageBody } from '../../../src/smpp/segments.js';
import { decodeText } from '../../../src/smpp/text.js';
import { Tag, tlvBuf, tlvU16, tlvU8 } from '../../../src/smpp/tlv.js';

function joined(parts: Buffer[]): Buffer {
  return Buffer.concat(parts.map((p) => (parts.length > 1 ? stripUdh(p) : p)));
}

describe('splitText', () => {
  it('GSM: 160 septets is one part, 161 is two of at most 153', () => {
    expect(splitText('a'.repeat(160), { dataCoding: 0, ref: 1 })).toMatchObject({ esmClassUdhi: false });
    expect(splitText('a'.repeat(160), { dataCoding: 0, ref: 1 }).parts).toHaveLength(1);
    const two = splitText('a'.repeat(161), { dataCoding: 0, ref: 7 });
    expect(two.esmClassUdhi).toBe(true);
    expect(two.parts.map((p) => p.length)).toEqual([6 + 153, 6 + 8]);
    expect(two.parts[0]?.subarray(0, 6).toString('hex')).toBe('050003070201');
    expect(two.parts[1]?.subarray(0, 6).toString('hex')).toBe('050003070202');
  });

  it('GSM: extension characters count two toward 160', () => {
    expect(splitText('€'.repeat(80), { dataCoding: 0, ref: 1 }).parts).toHaveLength(1);
    expect(splitText('€'.repeat(80) + 'a', { dataCoding: 0, ref: 1 }).parts).toHaveLength(2);
  });

  it('GSM: never splits an escape pair', () => {
    const text = 'a'.repeat(152) + '€' + 'b'.repeat(10);
    const r = splitText(text, { dataCoding: 0, ref: 1 });
    const first = stripUdh(r.parts[0] as Buffer);
    expect(first.length).toBe(152);
    expect(first[first.length - 1]).not.toBe(0x1b);
    expect(decodeText(joined(r.parts), 0)).toBe(text);
  });

  it('UCS-2: 70 units is one part, 71 is two of at most 67', () => {
    expect(splitText('ж'.repeat(70), { dataCoding: 8, ref: 1 }).parts).toHaveLength(1);
    const two = splitText('ж'.repeat(71), { dataCoding: 8, ref: 1 });
    expect(two.parts.map((p) => p.length)).toEqual([6 + 134, 6 + 8]);
  });

  it('UCS-2: never splits a surrogate pair', () => {
    const text = 'ж'.repeat(66) + '😀' + 'ж'.repeat(5);
    const r = splitText(text, { dataCoding: 8, ref: 1 });
    expect(stripUdh(r.parts[0] as Buffer).length).toBe(66 * 2);
    expect(decodeText(joined(r.parts), 8)).toBe(text);
  });

  it('Latin-1: 140 / 134', () => {
    expect(splitText('é'.repeat(140), { dataCoding: 3, ref: 1 }).parts).toHaveLength(1);
    expect(splitText('é'.repeat(141), { dataCoding: 3, ref: 1 }).parts.map((p) => p.length)).toEqual([140, 13]);
  });

  it('uses the 16-bit reference above 255', () => {
    const r = splitText('a'.repeat(200), { dataCoding: 0, ref: 0x1234 });
    expect(r.parts[0]?.subarray(0, 7).toString('hex')).toBe('06080412340201');
    expect(stripUdh(r.parts[0] as Buffer).length).toBe(152);
  });

  it('refuses more than 255 parts', () => {
    expect(() => splitText('a'.repeat(153 * 255 + 1), { dataCoding: 0, ref: 1 })).toThrow();
    expect(splitText('a'.repeat(153 * 255), { dataCoding: 0, ref: 1 }).parts).toHaveLength(255);
  });

  it('splitBinary', () => {
    expect(splitBinary(Buffer.alloc(140), 1).parts).toHaveLength(1);
    expect(splitBinary(Buffer.alloc(141), 1).parts.map((p) => p.length)).toEqual([140, 13]);
  });
});

describe('readConcatInfo', () => {
  it('reads an 8-bit reference UDH', () => {
    const sm = Buffer.from('050003aa0302' + '6869', 'hex');
    expect(readConcatInfo({ esmClass: 0x40, shortMessage: sm, tlvs: [] })).toEqual({ ref: 0xaa, total: 3, seq: 2, payload: Buffer.from('hi') });
  });

  it('reads a 16-bit reference UDH, after another element', () => {
    // udhl 12: port addressing (IEI 05) then concat16 (IEI 08)
    const sm = Buffer.from('0c' + '05040b840000' + '0804beef0201' + '6869', 'hex');
    expect(readConcatInfo({ esmClass: 0x43, shortMessage: sm, tlvs: [] })).toEqual({ ref: 0xbeef, total: 2, seq: 1, payload: Buffer.from('hi') });
  });

  it('ignores a UDH when UDHI is clear, and rejects a bogus UDH', () => {
    expect(readConcatInfo({ esmClass: 0, shortMessage: Buffer.from('050003aa0302', 'hex'), tlvs: [] })).toBeNull();
    expect(readConcatInfo({ esmClass: 0x40, shortMessage: Buffer.from('090003aa0302', 'hex'), tlvs: [] })).toBeNull();
    expect(readConcatInfo({ esmClass: 0x40, shortMessage: Buffer.from('050003aa0304', 'hex'), tlvs: [] })).toBeNull();
  });

  it('reads SAR TLVs, with the body in message_payload', () => {
    const tlvs = [tlvU16(Tag.sar_msg_ref_num, 300), tlvU8(Tag.sar_total_segments, 2), tlvU8(Tag.sar_segment_seqnum, 2), tlvBuf(Tag.message_payload, Buffer.from('yo'))];
    const pdu = { esmClass: 0, shortMessage: Buffer.alloc(0), tlvs };
    expect(messageBody(pdu).toString()).toBe('yo');
    expect(readConcatInfo(pdu)).toEqual({ ref: 300, total: 2, seq: 2, payload: Buffer.from('yo') });
  });
});

describe('Reassembler', () => {
  const part = (ref: number, total: number, seq: number, s: string) => ({ ref, total, seq, payload: Buffer.from(s) });

  it('returns the whole payload when the last part arrives, in any order, ignoring duplicates', () => {
    const r = new Reassembler();
    expect(r.add('k', part(1, 3, 3, 'c'), 0)).toBeNull();
    expect(r.add('k', part(1, 3, 1, 'a'), 1)).toBeNull();
    expect(r.add('k', part(1, 3, 1, 'X'), 2)).toBeNull();
    expect(r.size).toBe(1);
    expect(r.add('k', part(1, 3, 2, 'b'), 3)?.toString()).toBe('abc');
    expect(r.size).toBe(0);
  });

  it('keeps keys and references apart', () => {
    const r = new Reassembler();
    r.add('a', part(1, 2, 1, 'a1'), 0);
    r.add('b', part(1, 2, 1, 'b1'), 0);
    r.add('a', part(2, 2, 1, 'x'), 0);
    expect(r.add('b', part(1, 2, 2, 'b2'), 0)?.toString()).toBe('b1b2');
    expect(r.size).toBe(2);
  });

  it('sweeps expired messages and reports evictions', () => {
    const r = new Reassembler({ maxOpen: 2 });
    r.add('a', part(1, 2, 1, 'a'), 0);
    r.add('b', part(1, 2, 1, 'b'), 10);
    r.add('c', part(1, 2, 1, 'c'), 20);
    expect(r.size).toBe(2);
    const dropped = r.sweep(1015, 1000);
    expect(dropped.map((d) => [d.key, d.reason])).toEqual([['a', 'evicted'], ['b', 'expired']]);
    expect(r.size).toBe(1);
    expect(r.sweep(1015, 1000)).toEqual([]);
  });

  it('copies parts so frames are not retained', () => {
    const r = new Reassembler();
    const buf = Buffer.from('ab');
    r.add('k', { ref: 1, total: 2, seq: 1, payload: buf }, 0);
    buf.write('XY');
    expect(r.add('k', part(1, 2, 2, 'c'), 0)?.toString()).toBe('abc');
  });
});
