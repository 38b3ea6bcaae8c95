import { describe, expect, it } from 'vitest';
import { RoutingTable } from '../../../src/router/routing-table.js';
import { countSmsParts } from '../../../src/router/sms-parts.js';
import { messageIdTime, newMessageId } from '../../../src/core/ids.js';

describe('RoutingTable', () => {
  const t = new RoutingTable([
    { channel: 'sms', prefix: '', upstream: 'default', price: 0.01 },
    { channel: 'sms', prefix: '44', upstream: 'uk', price: 0.03 },
    { channel: 'sms', prefix: '447', upstream: 'uk-mobile', price: 0.025 },
  ]);
  it('picks the longest matching prefix', () => {
    expect(t.lookup('sms', '447700900123')?.upstream).toBe('uk-mobile');
    expect(t.lookup('sms', '+441632960000')?.upstream).toBe('uk');
    expect(t.lookup('sms', '14155550100')?.upstream).toBe('default');
    expect(t.lookup('sms', '447700900123')?.partPriceMicros).toBe(25_000);
  });
  it('has no route for a channel without routes', () => {
    expect(t.lookup('whatsapp', '14155550100')).toBeUndefined();
    expect(new RoutingTable([{ channel: 'sms', prefix: '1', upstream: 'us', price: 0 }]).lookup('sms', '447700900123')).toBeUndefined();
  });
});

describe('countSmsParts', () => {
  it('counts GSM, UCS-2, Latin-1 and binary parts', () => {
    expect(countSmsParts({ kind: 'text', text: 'a'.repeat(160) })).toBe(1);
    expect(countSmsParts({ kind: 'text', text: 'a'.repeat(161) })).toBe(2);
    expect(countSmsParts({ kind: 'text', text: '€'.repeat(80) })).toBe(1); // extension chars count two septets
    expect(countSmsParts({ kind: 'text', text: '€'.repeat(81) })).toBe(2);
    expect(countSmsParts({ kind: 'text', text: 'я'.repeat(70) })).toBe(1);
    expect(countSmsParts({ kind: 'text', text: 'я'.repeat(71) })).toBe(2);
    expect(countSmsParts({ kind: 'text', text: '😀'.repeat(35) })).toBe(1);
    expect(countSmsParts({ kind: 'text', text: 'é'.repeat(141), dataCoding: 3 })).toBe(2);
    expect(countSmsParts({ kind: 'binary', base64: Buffer.alloc(140).toString('base64'), dataCoding: 4 })).toBe(1);
  });
});

describe('message ids', () => {
  it('sort by time and are unique within a millisecond', () => {
    const ids = Array.from({ length: 1000 }, () => newMessageId(1_700_000_000_000));
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toEqual(ids);
    const later = newMessageId(1_700_000_000_001);
    expect(later > ids[999]!).toBe(true);
    expect(messageIdTime(later)).toBe(1_700_000_000_001);
    expect(later).toHaveLength(26);
  });

  it('draws fresh randomness each millisecond, past the end of its pool', () => {
    // 1,000 milliseconds take 10,000 random bytes: the 4 KiB pool is refilled twice.
    const ids = Array.from({ length: 1000 }, (_, i) => newMessageId(1_800_000_000_000 + i));
    expect([...ids].sort()).toEqual(ids);
    const randomParts = new Set(ids.map((id) => id.slice(10)));
    expect(randomParts.size).toBe(1000);
  });
});
