/**
 * short_message text by data_coding (SMPP 3.4 §5.2.19, GSM 03.38 §4 and §6.2.1):
 *
 *   dc 0  GSM 03.38 default alphabet, unpacked: one septet per octet (SMPP's norm; SMSCs pack
 *         for the air interface). ESC (0x1B) + code selects the extension table (§6.2.1.1).
 *   dc 1  IA5 / ASCII            dc 3  Latin-1 (ISO-8859-1)
 *   dc 8  UCS-2 big-endian; we write UTF-16BE, so astral characters travel as surrogate pairs
 *   dc 2, 4 and the GSM 8-bit groups: binary
 *   dc 0xF0..0xFF, 0x10..0x3F, 0xC0..0xEF: the GSM 03.38 §4 coding groups
 */
import { SmppEncodeError } from './errors.js';

/** GSM 03.38 §6.2.1 default alphabet; index = septet. 0x1B is the escape, never a character. */
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** GSM 03.38 §6.2.1.1 extension table: septet after ESC → character. */
const GSM_EXT: readonly (readonly [number, string])[] = [
  [0x0a, '\f'],
  [0x14, '^'],
  [0x28, '{'],
  [0x29, '}'],
  [0x2f, '\\'],
  [0x3c, '['],
  [0x3d, '~'],
  [0x3e, ']'],
  [0x40, '|'],
  [0x65, '€'],
];

const ESC = 0x1b;
/** char code → septet, or ESC<<8 | septet for the extension table. */
const GSM_ENCODE = new Map<number, number>();
const GSM_DECODE_EXT = new Map<number, string>();
for (let i = 0; i < 128; i++) if (i !== ESC) GSM_ENCODE.set(GSM_BASIC.charCodeAt(i), i);
for (const [septet, ch] of GSM_EXT) {
  GSM_ENCODE.set(ch.charCodeAt(0), (ESC << 8) | septet);
  GSM_DECODE_EXT.set(septet, ch);
}

export type TextCoding = 0 | 3 | 8;
export type Alphabet = 'gsm' | 'ascii' | 'latin1' | 'ucs2' | 'binary' | 'other';

/** The alphabet a data_coding value selects (SMPP 3.4 §5.2.19, then GSM 03.38 §4 coding groups). */
export function alphabetOf(dc: number): Alphabet {
  switch (dc) {
    case 0:
      return 'gsm';
    case 1:
      return 'ascii';
    case 2:
    case 4:
      return 'binary';
    case 3:
      return 'latin1';
    case 8:
      return 'ucs2';
    default:
      break;
  }
  if (dc >= 0xf0) return dc & 0x04 ? 'binary' : 'gsm'; // data coding / message class group
  if (dc >= 0xe0) return 'ucs2'; // message waiting, store, UCS-2
  if (dc >= 0xc0) return 'gsm'; // message waiting, discard or store, default alphabet
  if (dc >= 0x10 && dc < 0x80) {
    if (dc & 0x20) return 'other'; // compressed
    const a = (dc >> 2) & 0x03; // general data coding: bits 3..2 are the alphabet
    return a === 0 ? 'gsm' : a === 1 ? 'binary' : a === 2 ? 'ucs2' : 'other';
  }
  return 'other';
}

export function isBinaryCoding(dc: number): boolean {
  return alphabetOf(dc) === 'binary';
}

export function canEncodeGsm(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (!GSM_ENCODE.has(text.charCodeAt(i))) return false;
  return true;
}

/** Septets `text` takes in the default alphabet: extension characters count 2, others 1. */
export function gsmSeptetLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const s = GSM_ENCODE.get(text.charCodeAt(i));
    n += s !== undefined && s > 0xff ? 2 : 1;
  }
  return n;
}

/** GSM default alphabet when it can carry the text, else UCS-2. */
export function chooseDataCoding(text: string): 0 | 8 {
  return canEncodeGsm(text) ? 0 : 8;
}

function encodeGsm(text: string): Buffer {
  const out = Buffer.allocUnsafe(gsmSeptetLength(text));
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const s = GSM_ENCODE.get(text.charCodeAt(i));
    if (s === undefined) {
      throw new SmppEncodeError('SMPP_FIELD_INVALID', 'short_message', `U+${text.charCodeAt(i).toString(16).padStart(4, '0')} is not in the GSM 03.38 alphabet`);
    }
    if (s > 0xff) {
      out[o++] = ESC;
      out[o++] = s & 0x7f;
    } else {
      out[o++] = s;
    }
  }
  return out;
}

function encodeLatin1(text: string): Buffer {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new SmppEncodeError('SMPP_FIELD_INVALID', 'short_message', `U+${c.toString(16).padStart(4, '0')} is not Latin-1`);
  }
  return Buffer.from(text, 'latin1');
}

function encodeUcs2(text: string): Buffer {
  // JS strings are UTF-16 already: astral characters are surrogate pairs, as UTF-16BE wants.
  return Buffer.from(text, 'utf16le').swap16();
}

export function encodeText(text: string, dataCoding: TextCoding): Buffer {
  switch (dataCoding) {
    case 0:
      return encodeGsm(text);
    case 3:
      return encodeLatin1(text);
    case 8:
      return encodeUcs2(text);
  }
}

/** Septets whose GSM character is the same byte in ASCII: text made of only these decodes as Latin-1. */
const GSM_SAME_AS_ASCII = new Uint8Array(256);
for (let i = 0; i < 128; i++) if (i !== ESC && GSM_BASIC.charCodeAt(i) === i) GSM_SAME_AS_ASCII[i] = 1;

/** Code units decoded at most at once by String.fromCharCode (its arguments go on the stack). */
const DECODE_CHUNK = 8192;

function decodeGsm(buf: Buffer): string {
  // Most traffic is letters, digits and common punctuation: one flat string, as Latin-1 would give.
  let i = 0;
  while (i < buf.length && GSM_SAME_AS_ASCII[buf[i] as number] === 1) i++;
  if (i === buf.length) return buf.toString('latin1');
  // Otherwise code units into an array, then one string (not a character appended at a time,
  // which builds a chain of as many partial strings).
  const units = new Uint16Array(buf.length);
  let n = 0;
  for (i = 0; i < buf.length; i++) {
    const b = buf[i] as number;
    if (b === ESC) {
      const next = buf[i + 1];
      if (next === undefined) break; // a lone trailing escape carries nothing
      i++;
      // GSM 03.38 §6.2.1.1: an unknown extension code shows the default-table character.
      const ext = GSM_DECODE_EXT.get(next);
      units[n++] = ext !== undefined ? ext.charCodeAt(0) : next < 0x80 && next !== ESC ? GSM_BASIC.charCodeAt(next) : 0x20;
    } else if (b < 0x80) {
      units[n++] = GSM_BASIC.charCodeAt(b);
    } else {
      // Not a septet: some SMSCs mean Latin-1 by "SMSC default"; keep the octet rather than lose it.
      units[n++] = b;
    }
  }
  let s = '';
  for (let at = 0; at < n; at += DECODE_CHUNK) s += String.fromCharCode(...units.subarray(at, Math.min(n, at + DECODE_CHUNK)));
  return s;
}

function decodeUcs2(buf: Buffer): string {
  const even = buf.length & ~1;
  const copy = Buffer.allocUnsafe(even);
  buf.copy(copy, 0, 0, even);
  return copy.swap16().toString('utf16le');
}

const OTHER: ReadonlyMap<number, string> = new Map([
  [5, 'shift_jis'], // §5.2.19 JIS (X 0208-1990)
  [6, 'iso-8859-5'], // Cyrillic
  [7, 'iso-8859-8'], // Latin/Hebrew
  [10, 'iso-2022-jp'],
  [13, 'shift_jis'], // Extended Kanji JIS (X 0212-1990), best effort
  [14, 'euc-kr'], // KS C 5601
]);

/**
 * Text of a short_message. Binary codings come back as Latin-1 (one char per octet, lossless):
 * check isBinaryCoding first when that matters.
 */
export function decodeText(buf: Buffer, dataCoding: number): string {
  switch (alphabetOf(dataCoding)) {
    case 'gsm':
      return decodeGsm(buf);
    case 'ucs2':
      return decodeUcs2(buf);
    case 'ascii':
    case 'latin1':
    case 'binary':
      return buf.toString('latin1');
    case 'other': {
      const label = OTHER.get(dataCoding);
      if (label !== undefined) {
        try {
          return new TextDecoder(label).decode(buf);
        } catch {
          // a Node built without full ICU lacks these decoders
        }
      }
      return buf.toString('latin1');
    }
  }
}
