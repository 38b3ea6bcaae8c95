/**
 * normaliseMsisdn's fast path against libphonenumber-js's parse, which is the rule: over every
 * calling code, every two leading digits of the national number and every length up to E.164's
 * longest and past it, written with and without '+', the answer must be the parser's. Also: the
 * fast path does answer for the numbers most traffic carries, and leaves to the parser what it
 * must (a national prefix written after the calling code, formatting, non-geographic codes).
 */
import { describe, expect, it } from 'vitest';
import metadata from 'libphonenumber-js/max/metadata';
import { fastMsisdn, normaliseMsisdn, parsedMsisdn } from '../../../src/core/msisdn.js';

/** A fixed sequence of digits (xorshift), so a failure names the same number on every run. */
function digitSource(seed: number): (n: number) => string {
  let x = seed;
  return (n) => {
    let s = '';
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      s += String((x >>> 0) % 10);
    }
    return s;
  };
}

const CALLING_CODES = [...Object.keys(metadata.country_calling_codes), ...Object.keys(metadata.nonGeographic ?? {})];

describe('normaliseMsisdn', () => {
  it('answers as the parser does for every calling code, leading digits and length', () => {
    const digits = digitSource(0x2545f491);
    const differ: string[] = [];
    let fast = 0;
    let checked = 0;
    for (const code of CALLING_CODES) {
      for (let lead = 0; lead < 100; lead++) {
        for (let len = 2; len <= 17 - code.length + 1; len++) {
          const national = String(lead).padStart(2, '0') + digits(len - 2);
          const to = (lead % 2 === 0 ? '+' : '') + code + national;
          const want = parsedMsisdn(to);
          const got = fastMsisdn(to);
          if (got !== undefined) fast++;
          if ((got ?? want) !== want) differ.push(`${to}: fast ${String(got)}, parser ${String(want)}`);
          checked++;
        }
      }
    }
    expect(differ.slice(0, 20)).toEqual([]);
    // Most of them went the fast way: the test compared it, not only the parser with itself.
    expect(fast).toBeGreaterThan(checked / 10);
  }, 60_000);

  it('takes the fast path for the numbers most traffic carries', () => {
    for (const to of ['+14155238886', '14155550100', '+447911123456', '+919812345678', '+4915112345678', '+5511912345678', '+33612345678']) {
      expect(fastMsisdn(to)).toBe(to.replace('+', ''));
      expect(normaliseMsisdn(to)).toBe(to.replace('+', ''));
    }
  });

  it('leaves to the parser what only it can answer', () => {
    // A national prefix after the calling code: the parser drops it.
    expect(fastMsisdn('+4407911123456')).toBeUndefined();
    expect(normaliseMsisdn('+4407911123456')).toBe('447911123456');
    // Formatting.
    expect(fastMsisdn('+1 (415) 555-0100')).toBeUndefined();
    expect(normaliseMsisdn('+1 (415) 555-0100')).toBe('14155550100');
    // A non-geographic calling code.
    expect(fastMsisdn('+88212345678')).toBeUndefined();
    expect(normaliseMsisdn('+88212345678')).toBe(parsedMsisdn('+88212345678'));
    // No such number.
    expect(normaliseMsisdn('+1415')).toBeUndefined();
    expect(normaliseMsisdn('+999123456789')).toBeUndefined();
  });
});
