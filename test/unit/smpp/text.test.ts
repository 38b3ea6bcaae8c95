import { describe, expect, it } from 'vitest';
import { alphabetOf, canEncodeGsm, chooseDataCoding, decodeText, encodeText, gsmSeptetLength, isBinaryCoding } from '../../../src/smpp/text.js';

describe('GSM 03.38', () => {
  it('maps the default table and the extension table', () => {
    expect(encodeText('@£$¥\nΔ_ÄÖÑÜ§¿äöñüàÉ', 0).toString('hex')).toBe('000102030a10115b5c5d5e5f607b7c7d7e7f1f');
    expect(encodeText('€^{}[]~\\|', 0).toString('hex')).toBe('1b651b141b281b291b3c1b3e1b3d1b2f1b40');
  });

  it('round trips every character it can encode', () => {
    const all = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà€^{}[]~\\|\f';
    expect(canEncodeGsm(all)).toBe(true);
    const enc = encodeText(all, 0);
    expect(enc.length).toBe(gsmSeptetLength(all));
    expect(Math.max(...enc)).toBeLessThan(0x80);
    expect(decodeText(enc, 0)).toBe(all);
  });

  it('counts extension characters as two septets', () => {
    expect(gsmSeptetLength('a€b')).toBe(4);
    expect(gsmSeptetLength('')).toBe(0);
  });

  it('refuses what it cannot carry', () => {
    expect(canEncodeGsm('привет')).toBe(false);
    expect(canEncodeGsm('ç')).toBe(false);
    expect(() => encodeText('😀', 0)).toThrow(expect.objectContaining({ code: 'SMPP_FIELD_INVALID' }) as Error);
    expect(chooseDataCoding('hello €')).toBe(0);
    expect(chooseDataCoding('hello 😀')).toBe(8);
  });

  it('decodes an unknown escape as the default-table character and drops a trailing ESC', () => {
    expect(decodeText(Buffer.from([0x1b, 0x41, 0x42, 0x1b]), 0)).toBe('AB');
  });

  it('decodes every octet, every escape pair and long mixed text as the table says, on either path', () => {
    // The rule, one octet at a time (the default table, the extension table, octets past 0x7F kept).
    const basic = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
    const ext = new Map([[0x0a, '\f'], [0x14, '^'], [0x28, '{'], [0x29, '}'], [0x2f, '\\'], [0x3c, '['], [0x3d, '~'], [0x3e, ']'], [0x40, '|'], [0x65, '€']]);
    const rule = (b: Buffer): string => {
      let s = '';
      for (let i = 0; i < b.length; i++) {
        const c = b[i] as number;
        if (c === 0x1b) {
          const d = b[i + 1];
          if (d === undefined) break;
          i++;
          s += ext.get(d) ?? (d < 0x80 && d !== 0x1b ? basic.charAt(d) : ' ');
        } else s += c < 0x80 ? basic.charAt(c) : String.fromCharCode(c);
      }
      return s;
    };
    for (let a = 0; a < 256; a++) {
      for (const b of [Buffer.from([a]), Buffer.from([0x1b, a]), Buffer.from([0x41, a, 0x42]), Buffer.from([a, 0x1b])]) expect(decodeText(b, 0)).toBe(rule(b));
    }
    // Longer than one fromCharCode chunk, with a character off the fast path at the end only.
    const long = Buffer.concat([Buffer.alloc(20_000, 0x61), Buffer.from([0x00, 0x1b, 0x65])]);
    expect(decodeText(long, 0)).toBe(rule(long));
    let x = 7;
    const random = Buffer.alloc(50_000);
    for (let i = 0; i < random.length; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      random[i] = x >>> 23;
    }
    expect(decodeText(random, 0)).toBe(rule(random));
    expect(decodeText(Buffer.from('Your verification code is 123456'), 0)).toBe('Your verification code is 123456');
  });
});

describe('UCS-2 and Latin-1', () => {
  it('writes UTF-16BE with surrogate pairs', () => {
    const enc = encodeText('a😀', 8);
    expect(enc.toString('hex')).toBe('0061d83dde00');
    expect(decodeText(enc, 8)).toBe('a😀');
    expect(decodeText(Buffer.from('0041d83dde00', 'hex'), 0x08)).toBe('A😀');
  });

  it('ignores an odd trailing octet', () => {
    expect(decodeText(Buffer.from('004100', 'hex'), 8)).toBe('A');
  });

  it('Latin-1', () => {
    expect(encodeText('café ÿ', 3).toString('hex')).toBe('636166e920ff');
    expect(decodeText(Buffer.from('636166e9', 'hex'), 3)).toBe('café');
    expect(() => encodeText('€', 3)).toThrow();
  });

  it('IA5 and binary codings', () => {
    expect(decodeText(Buffer.from('hi'), 1)).toBe('hi');
    expect(isBinaryCoding(4)).toBe(true);
    expect(isBinaryCoding(2)).toBe(true);
    expect(isBinaryCoding(0xf5)).toBe(true);
    expect(isBinaryCoding(0)).toBe(false);
    expect(alphabetOf(0xf1)).toBe('gsm');
    expect(alphabetOf(0x18)).toBe('ucs2');
    expect(alphabetOf(0xe0)).toBe('ucs2');
  });

  it('decodes Cyrillic (dc 6) through TextDecoder', () => {
    expect(decodeText(Buffer.from([0xbf, 0xe0, 0xd8]), 6)).toBe('При');
  });
});
