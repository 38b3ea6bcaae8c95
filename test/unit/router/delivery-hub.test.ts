import { describe, expect, it } from 'vitest';
import { parseEntry } from '../../../src/router/delivery-hub.js';

const ra = JSON.stringify({ s: { addr: 'ACME', ton: 5, npi: 0 }, d: { addr: '14155550100', ton: 1, npi: 1 }, tx: 'hi' });

describe('parseEntry', () => {
  it('reads a k=rb entry as one delivery per record, keeping the records to write back', () => {
    const records = [
      { i: 'A', ra, st: 'DELIVRD', er: '000', sd: '1000', dd: '2000' },
      { i: 'B', ra, st: 'UNDELIV', er: '001', sd: '1000', dd: '3000' },
    ];
    const p = parseEntry({ id: '1-0', fields: { k: 'rb', b: JSON.stringify(records) } });
    expect(p?.records).toEqual(records);
    expect(p?.deliveries).toEqual([
      { kind: 'receipt', messageId: 'A', addressing: JSON.parse(ra) as unknown, stat: 'DELIVRD', err: '000', submittedAt: 1000, doneAt: 2000 },
      { kind: 'receipt', messageId: 'B', addressing: JSON.parse(ra) as unknown, stat: 'UNDELIV', err: '001', submittedAt: 1000, doneAt: 3000 },
    ]);
  });

  it('marks a record it cannot read, and goes on with the others', () => {
    const p = parseEntry({ id: '1-0', fields: { k: 'rb', b: JSON.stringify([{ i: 'A', ra: '{bad' }, 7, { i: 'C', ra }]) } });
    expect(p?.deliveries.map((d) => (d?.kind === 'receipt' ? d.messageId : d))).toEqual([undefined, undefined, 'C']);
  });

  it('reads the one-delivery entries written before k=rb (k=r receipts, k=m MO)', () => {
    const r = parseEntry({ id: '1-0', fields: { k: 'r', i: 'A', ra, st: 'DELIVRD', er: '000', sd: '5', dd: '6' } });
    expect(r?.deliveries).toHaveLength(1);
    expect(r?.deliveries[0]).toMatchObject({ kind: 'receipt', messageId: 'A', submittedAt: 5, doneAt: 6 });
    expect(r?.records).toBeUndefined();
    const m = parseEntry({ id: '1-0', fields: { k: 'm', i: 'M', j: JSON.stringify({ id: 'M' }) } });
    expect(m?.deliveries[0]).toEqual({ kind: 'mo', message: { id: 'M' } });
  });

  it('gives up on an entry it cannot read at all', () => {
    expect(parseEntry({ id: '1-0', fields: { k: 'rb', b: 'not json' } })).toBeUndefined();
    expect(parseEntry({ id: '1-0', fields: { k: 'rb', b: '[]' } })).toBeUndefined();
    expect(parseEntry({ id: '1-0', fields: { k: 'r', i: 'A', ra: '{' } })).toBeUndefined();
    expect(parseEntry({ id: '1-0', fields: { k: 'x' } })).toBeUndefined();
  });
});
