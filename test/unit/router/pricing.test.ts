/**
 * Rate cards: the price in force at admission by channel and longest prefix, the networks' prices
 * kept for settling, and the start-up errors that name the rate that is wrong.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/config.js';
import { Pricing } from '../../../src/router/pricing.js';

const JAN = Date.parse('2025-01-15T00:00:00Z');
const MAR = Date.parse('2025-03-15T00:00:00Z');

function config(rates: Record<string, unknown>[], billing?: Record<string, unknown>): ReturnType<typeof parseConfig> {
  return parseConfig({
    rateCards: [{ id: 'RC', currency: 'USD', rates }],
    accounts: [{ id: 'acme', balance: 1, tps: 10, rateCardId: 'RC', rateCards: [] }],
    ...(billing ? { billing } : {}),
  });
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

describe('Pricing', () => {
  const cfg = config([
    { channel: 'sms', prefix: '', price: 0.01, validTo: '2025-02-01T00:00:00Z' },
    { channel: 'sms', prefix: '', price: 0.02, validFrom: '2025-02-01T00:00:00Z' },
    { channel: 'sms', prefix: '44', price: 0.03 },
    { channel: 'sms', prefix: '1', price: 0.004, mccMnc: '310410' },
    { channel: 'sms', prefix: '1415', price: 0.0035, mccMnc: '310410' },
    { channel: 'sms', prefix: '1', price: 0.006, mccMnc: '310260', validFrom: '2025-03-01T00:00:00+01:00' },
    { channel: 'whatsapp', prefix: '', price: 0.035 },
  ]);
  const pricing = new Pricing(cfg.rateCards);
  const acme = cfg.accounts[0]!;

  it('prices by the rate in force at admission, the longest prefix, and the channel', () => {
    expect(pricing.partPrice(acme, 'sms', '+14155550100', 99, undefined, JAN)).toEqual({ ok: true, partPriceMicros: 10_000, rateCardId: 'RC' });
    expect(pricing.partPrice(acme, 'sms', '+14155550100', 99, undefined, MAR)).toEqual({ ok: true, partPriceMicros: 20_000, rateCardId: 'RC' });
    // validTo is exclusive, validFrom inclusive.
    expect(pricing.partPrice(acme, 'sms', '14155550100', 99, undefined, Date.parse('2025-02-01T00:00:00Z'))).toMatchObject({ partPriceMicros: 20_000 });
    expect(pricing.partPrice(acme, 'sms', '447700900123', 99, undefined, JAN)).toMatchObject({ partPriceMicros: 30_000 });
    expect(pricing.partPrice(acme, 'whatsapp', '447700900123', 99, undefined, JAN)).toMatchObject({ partPriceMicros: 35_000 });
    // No rate for the channel on the card: the route's price.
    expect(pricing.partPrice(acme, 'viber', '447700900123', 99, undefined, JAN)).toMatchObject({ partPriceMicros: 99 });
    expect(pricing.partPrice(acme, 'sms', '1', 99, 'RC-OTHER', JAN)).toEqual({ ok: false, reason: 'unknown_rate_card' });
  });

  it('keeps each network’s price in force for the destination, longest prefix first', () => {
    expect(pricing.networkPrices('RC', 'sms', '+14155550100', JAN)).toBe('310410:3500');
    expect(pricing.networkPrices('RC', 'sms', '+12125550100', MAR)).toBe('310410:4000,310260:6000');
    expect(pricing.networkPrices('RC', 'sms', '447700900123', MAR)).toBe('');
    expect(pricing.networkPrices(undefined, 'sms', '14155550100', MAR)).toBe('');
  });
});

describe('rate card and billing config', () => {
  it('refuses periods of one channel, prefix and network that overlap, naming the rate', () => {
    const msg = errorOf(() =>
      config([
        { channel: 'sms', prefix: '44', price: 0.01, validFrom: '2025-01-01T00:00:00Z', validTo: '2025-03-01T00:00:00Z' },
        { channel: 'sms', prefix: '44', price: 0.02, validFrom: '2025-02-01T00:00:00Z' },
      ]),
    );
    expect(msg).toContain('rateCards[0].rates[1].validFrom: its period overlaps rates[0] (sms, prefix "44")');
    // Back to back, or for another network, is fine.
    expect(() =>
      config([
        { channel: 'sms', prefix: '44', price: 0.01, validTo: '2025-02-01T00:00:00Z' },
        { channel: 'sms', prefix: '44', price: 0.02, validFrom: '2025-02-01T00:00:00Z' },
        { channel: 'sms', prefix: '44', price: 0.02, mccMnc: '23415' },
      ]),
    ).not.toThrow();
    expect(errorOf(() => config([{ channel: 'sms', prefix: '', price: 0.01 }, { channel: 'sms', prefix: '', price: 0.02 }]))).toContain('rateCards[0].rates[1].validFrom');
  });

  it('names a bad date, an empty period and a bad network', () => {
    expect(errorOf(() => config([{ channel: 'sms', prefix: '', price: 0.01, validFrom: '2025-13-01' }]))).toContain('rateCards[0].rates[0].validFrom');
    expect(errorOf(() => config([{ channel: 'sms', prefix: '', price: 0.01, validFrom: '2025-02-01T00:00:00Z', validTo: '2025-01-01T00:00:00Z' }]))).toContain('rateCards[0].rates[0].validTo: not after validFrom');
    expect(errorOf(() => config([{ channel: 'sms', prefix: '', price: 0.01, mccMnc: '3104' }]))).toContain('rateCards[0].rates[0].mccMnc');
  });

  it('has a refund policy: what never left is refunded by default; an unknown outcome is refused', () => {
    expect(config([{ channel: 'sms', prefix: '', price: 0.01 }]).billing.refund).toEqual({ notSent: ['failed', 'expired', 'rejected', 'cancelled'], sent: [] });
    expect(config([{ channel: 'sms', prefix: '', price: 0.01 }], { refund: { sent: ['failed', 'expired'] } }).billing.refund.sent).toEqual(['failed', 'expired']);
    expect(errorOf(() => config([{ channel: 'sms', prefix: '', price: 0.01 }], { refund: { sent: ['delivered'] } }))).toContain('billing.refund.sent[0]');
  });
});
