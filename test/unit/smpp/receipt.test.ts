import { describe, expect, it } from 'vitest';
import { formatReceipt, messageStateFor, parseReceipt, sameMessageId, statForMessageState } from '../../../src/smpp/receipt.js';
import type { ReceiptStat } from '../../../src/smpp/receipt.js';
import { formatSmppAbsolute, formatSmppRelative, parseSmppTime } from '../../../src/smpp/time.js';
import { Tag, decodePdu, deliverSm, encodePdu, encodeReceiptDeliverSm, tlvBuf, tlvCStr, tlvU8, type ReceiptDeliverSm } from '../../../src/smpp/index.js';

describe('formatReceipt', () => {
  it('writes the Appendix B layout in UTC', () => {
    expect(
      formatReceipt({
        id: 'a1b2', sub: 1, dlvrd: 1, submitDate: new Date(Date.UTC(2024, 0, 2, 3, 4, 59)), doneDate: new Date(Date.UTC(2024, 11, 31, 23, 59)),
        stat: 'DELIVRD', err: '0', text: 'Hello there, this is longer than twenty',
      }),
    ).toBe('id:a1b2 sub:001 dlvrd:001 submit date:2401020304 done date:2412312359 stat:DELIVRD err:000 text:Hello there, this is');
  });

  it('round trips through parseReceipt', () => {
    const r = { id: '12345', sub: 1, dlvrd: 0, submitDate: new Date(Date.UTC(2024, 4, 5, 6, 7)), doneDate: new Date(Date.UTC(2024, 4, 5, 6, 9)), stat: 'UNDELIV' as const, err: '034', text: 'hi' };
    expect(parseReceipt(formatReceipt(r))).toEqual({ ...r, rawStat: 'UNDELIV' });
  });
});

describe('parseReceipt', () => {
  it('tolerates case, underscores, seconds, missing fields and a capital Text', () => {
    const p = parseReceipt('ID:0A1B sub:001 DLVRD:001 submit_date:240102030405 done_date:2401020306 STAT:delivrd Text:x y: z');
    expect(p).toMatchObject({ id: '0A1B', sub: 1, dlvrd: 1, stat: 'DELIVRD', err: undefined, text: 'x y: z' });
    expect(p?.submitDate?.toISOString()).toBe('2024-01-02T03:04:05.000Z');
    expect(p?.doneDate?.toISOString()).toBe('2024-01-02T03:06:00.000Z');
  });

  it('reads a bare minimum and spelled-out stats', () => {
    expect(parseReceipt('id:42 stat:DELIVERED')).toMatchObject({ id: '42', stat: 'DELIVRD', sub: undefined, submitDate: undefined });
    expect(parseReceipt('id:42 stat:WEIRD')).toMatchObject({ stat: undefined, rawStat: 'WEIRD' });
    expect(parseReceipt('id:42 submit date:9999999999')).toMatchObject({ submitDate: undefined });
  });

  it('is null for text that is not a receipt', () => {
    expect(parseReceipt('hello, how are you')).toBeNull();
    expect(parseReceipt('paid: yes')).toBeNull();
  });

  it('matches hex and decimal ids', () => {
    expect(sameMessageId('abc', 'ABC')).toBe(true);
    expect(sameMessageId('2748', 'abc')).toBe(true); // 0xabc = 2748
    expect(sameMessageId('abc', '2748')).toBe(true);
    expect(sameMessageId('291', '123')).toBe(false); // all digits: ambiguous, not converted in auto
    expect(sameMessageId('291', '123', 'hex-to-dec')).toBe(true);
    expect(sameMessageId('2748', 'abc', 'same')).toBe(false);
  });

  it('maps stats to message_state and back', () => {
    const all: ReceiptStat[] = ['ENROUTE', 'DELIVRD', 'EXPIRED', 'DELETED', 'UNDELIV', 'ACCEPTD', 'UNKNOWN', 'REJECTD'];
    expect(all.map(messageStateFor)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const s of all) expect(statForMessageState(messageStateFor(s))).toBe(s);
    expect(statForMessageState(0)).toBeUndefined();
  });
});

describe('SMPP time', () => {
  const now = Date.UTC(2024, 0, 31, 12, 0, 0);

  it('parses absolute times with offsets', () => {
    expect(parseSmppTime('240131120000000+', now)).toBe(now);
    expect(parseSmppTime('240131140000008+', now)).toBe(now); // local 14:00 at UTC+2 (8 quarters)
    expect(parseSmppTime('240131070000020-', now)).toBe(now); // local 07:00 at UTC-5
    expect(parseSmppTime('240131120000500+', now)).toBe(now + 500);
  });

  it('parses relative times on the calendar', () => {
    expect(parseSmppTime('000001000000000R', now)).toBe(now + 86_400_000);
    expect(parseSmppTime('000000013000000R', now)).toBe(now + 90 * 60_000);
    expect(parseSmppTime('000100000000000R', now)).toBe(Date.UTC(2024, 2, 2, 12)); // 31 Jan + 1 month overflows to 2 Mar
  });

  it('empty is null; junk is invalid', () => {
    expect(parseSmppTime('', now)).toBeNull();
    for (const bad of ['2401311200', '240131120000000', '240131120000000X', '241331120000000+', '240231120000000+', '240131250000000+', '240131120000049+', 'abcdefghijklmnop']) {
      expect(parseSmppTime(bad, now), bad).toBe('invalid');
    }
  });

  it('formats absolute and relative', () => {
    expect(formatSmppAbsolute(Date.UTC(2024, 6, 4, 5, 6, 7, 890))).toBe('240704050607000+');
    expect(parseSmppTime(formatSmppAbsolute(now), 0)).toBe(now);
    expect(formatSmppRelative(3600)).toBe('000000010000000R');
    expect(formatSmppRelative(2 * 86_400 + 61)).toBe('000002000101000R');
    expect(parseSmppTime(formatSmppRelative(90_061), now)).toBe(now + 90_061_000);
    expect(() => formatSmppRelative(-1)).toThrow(RangeError);
  });
});

describe('encodeReceiptDeliverSm', () => {
  const receipts: ReceiptDeliverSm[] = [
    { sourceAddr: '14155550100', sourceAddrTon: 1, sourceAddrNpi: 1, destinationAddr: 'BENCH', destAddrTon: 5, destAddrNpi: 0, text: 'id:01JD sub:001 dlvrd:001 submit date:2411210930 done date:2411210930 stat:DELIVRD err:000 text:Hello', receiptedMessageId: '01JDABCDEFGHJKMNPQRSTVWXYZ', messageState: 2 },
    { sourceAddr: '', sourceAddrTon: 0, sourceAddrNpi: 0, destinationAddr: '12345678901234567890', destAddrTon: 1, destAddrNpi: 1, text: '', receiptedMessageId: '', messageState: 5 },
    { sourceAddr: '12345678901234567890', sourceAddrTon: 2, sourceAddrNpi: 9, destinationAddr: 'x', destAddrTon: 0, destAddrNpi: 0, text: 'é'.repeat(254), receiptedMessageId: 'x'.repeat(64), messageState: 8 },
    // As the simulator sends a failure: network_error_code and a network id after the two.
    { sourceAddr: '1', sourceAddrTon: 1, sourceAddrNpi: 1, destinationAddr: '2', destAddrTon: 1, destAddrNpi: 1, text: 'stat:UNDELIV', receiptedMessageId: 'abc', messageState: 5, moreTlvs: [tlvBuf(Tag.network_error_code, Buffer.from([3, 0, 1])), tlvCStr(0x1400, '310410')] },
  ];

  it('writes the bytes encodePdu writes for the same receipt, and they decode back', () => {
    for (const r of receipts) {
      const generic = encodePdu(
        deliverSm({
          sequenceNumber: 77,
          sourceAddr: r.sourceAddr,
          sourceAddrTon: r.sourceAddrTon,
          sourceAddrNpi: r.sourceAddrNpi,
          destinationAddr: r.destinationAddr,
          destAddrTon: r.destAddrTon,
          destAddrNpi: r.destAddrNpi,
          esmClass: 0x04,
          dataCoding: 0,
          shortMessage: Buffer.from(r.text, 'latin1'),
          tlvs: [tlvCStr(Tag.receipted_message_id, r.receiptedMessageId), tlvU8(Tag.message_state, r.messageState), ...(r.moreTlvs ?? [])],
        }),
      );
      const fast = encodeReceiptDeliverSm(77, r);
      expect(fast.equals(generic)).toBe(true);
      const back = decodePdu(fast);
      expect(back.ok && back.pdu.command === 'deliver_sm' && back.pdu.shortMessage.toString('latin1')).toBe(r.text);
    }
  });

  it('refuses what encodePdu refuses: an address too long, a text too long, a char beyond latin1, a NUL in the id', () => {
    const r = receipts[0] as ReceiptDeliverSm;
    expect(() => encodeReceiptDeliverSm(1, { ...r, sourceAddr: '1'.repeat(21) })).toThrow(/source_addr/);
    expect(() => encodeReceiptDeliverSm(1, { ...r, text: 'x'.repeat(255) })).toThrow(/short_message/);
    expect(() => encodeReceiptDeliverSm(1, { ...r, text: 'x€' })).toThrow(/short_message/);
    expect(() => encodeReceiptDeliverSm(1, { ...r, receiptedMessageId: 'a\u0000b' })).toThrow(/tlv 0x001e/);
    expect(() => encodeReceiptDeliverSm(1, { ...r, messageState: 256 })).toThrow(/0x0427/);
  });
});
