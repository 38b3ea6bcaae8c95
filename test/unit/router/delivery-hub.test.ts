import { describe, expect, it } from 'vitest';
import { parseEntry } from '../../../src/router/delivery-hub.js';

const ra = JSON.stringify({ s: { addr: 'ACME', ton: 5, npi: 0 }, d: { addr: '14155550100', ton: 1, npi: 1 }, tx: 'hi\tthere' });

describe('parseEntry', () => {
  it('reads a k=rb entry as one receipt per line, keeping the lines to write back', () => {
    const lines = [`A\tDELIVRD\t000\t1000\t${ra}`, `B\tUNDELIV\t001\t1500\t${ra}`];
    const p = parseEntry({ id: '1-0', fields: { k: 'rb', dd: '2000', b: lines.join('\n') } });
    expect(p?.lines).toEqual(lines);
    const addressing = JSON.parse(ra) as unknown;
    expect(p?.deliveries).toEqual([
      { kind: 'receipt', messageId: 'A', addressing, stat: 'DELIVRD', err: '000', submittedAt: 1000, doneAt: 2000 },
      { kind: 'receipt', messageId: 'B', addressing, stat: 'UNDELIV', err: '001', submittedAt: 1500, doneAt: 2000 },
    ]);
  });

  it('marks a line it cannot read, and goes on with the others', () => {
    const p = parseEntry({ id: '1-0', fields: { k: 'rb', dd: '1', b: ['A\tDELIVRD\t000\t1\t{bad', 'short\tline', `C\tDELIVRD\t000\t1\t${ra}`].join('\n') } });
    expect(p?.deliveries.map((d) => (d?.kind === 'receipt' ? d.messageId : d))).toEqual([undefined, undefined, 'C']);
  });

  it('reads the one-delivery entries written before k=rb (k=r receipts, k=m MO)', () => {
    const r = parseEntry({ id: '1-0', fields: { k: 'r', i: 'A', ra, st: 'DELIVRD', er: '000', sd: '5', dd: '6' } });
    expect(r?.deliveries).toHaveLength(1);
    expect(r?.deliveries[0]).toMatchObject({ kind: 'receipt', messageId: 'A', submittedAt: 5, doneAt: 6 });
    expect(r?.lines).toBeUndefined();
    const m = parseEntry({ id: '1-0', fields: { k: 'm', i: 'M', j: JSON.stringify({ id: 'M' }) } });
    expect(m?.deliveries[0]).toEqual({ kind: 'mo', message: { id: 'M' } });
  });

  it('gives up on an entry it cannot read at all', () => {
    expect(parseEntry({ id: '1-0', fields: { k: 'rb', dd: '1' } })).toBeUndefined();
    expect(parseEntry({ id: '1-0', fields: { k: 'rb', dd: '1', b: '' } })).toBeUndefined();
    expect(parseEntry({ id: '1-0', fields: { k: 'r', i: 'A', ra: '{' } })).toBeUndefined();
    expect(parseEntry({ id: '1-0', fields: { k: 'x' } })).toBeUndefined();
  });
});
