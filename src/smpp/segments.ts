/**
 * Long messages: concatenation by UDH (3GPP TS 23.040 §9.2.3.24.1 IEI 0x00, 8-bit reference;
 * §9.2.3.24.8 IEI 0x08, 16-bit reference) signalled by esm_class UDHI 0x40 (SMPP 3.4 §5.2.12),
 * or by the SAR TLVs (SMPP 3.4 §5.3.2, sar_msg_ref_num / sar_total_segments / sar_segment_seqnum).
 *
 *   udh      = udhl:u8 *( iei:u8 iel:u8 data(iel) )                 ; udhl octets in all
 *   concat8  = 00 03 ref:u8  total:u8 seq:u8
 *   concat16 = 08 04 ref:u16 total:u8 seq:u8
 */
import { SmppEncodeError } from './errors.js';
import { encodeText } from './text.js';
import type { TextCoding } from './text.js';
import { Tag, getTlv, tlvUint16, tlvUint8 } from './tlv.js';
import type { Tlv } from './tlv.js';

export { Reassembler } from './reassembler.js';
export type { DroppedMessage, ReassemblerOptions } from './reassembler.js';

export const ESM_UDHI = 0x40;
export const MAX_PARTS = 255;

export interface ConcatInfo {
  ref: number;
  total: number;
  seq: number;
  /** The part's text octets, UDH removed. */
  payload: Buffer;
}

export interface UdhElement {
  iei: number;
  data: Buffer;
}

/** The body of a message: message_payload when present (SMPP 3.4 §5.3.2), else short_message. */
export function messageBody(pdu: { shortMessage: Buffer; tlvs: readonly Tlv[] }): Buffer {
  return getTlv(pdu.tlvs, Tag.message_payload) ?? pdu.shortMessage;
}

/** Parses a UDH; null when its declared length runs past the buffer or an element overruns it. */
export function parseUdh(buf: Buffer): { elements: UdhElement[]; payload: Buffer } | null {
  const udhl = buf[0];
  if (udhl === undefined || 1 + udhl > buf.length) return null;
  const end = 1 + udhl;
  const elements: UdhElement[] = [];
  let off = 1;
  while (off < end) {
    if (off + 2 > end) return null;
    const iei = buf[off] as number;
    const iel = buf[off + 1] as number;
    if (off + 2 + iel > end) return null;
    elements.push({ iei, data: buf.subarray(off + 2, off + 2 + iel) });
    off += 2 + iel;
  }
  return { elements, payload: buf.subarray(end) };
}

/** The octets after the UDH (clipped when the UDH length is bogus). */
export function stripUdh(buf: Buffer): Buffer {
  const udhl = buf[0];
  return udhl === undefined ? buf : buf.subarray(Math.min(buf.length, 1 + udhl));
}

function valid(total: number, seq: number): boolean {
  return total >= 1 && seq >= 1 && seq <= total;
}

/**
 * Which part of which long message this PDU is, or null for a message that stands alone (or
 * whose concatenation data is inconsistent: total 0, seq 0 or seq > total).
 */
export function readConcatInfo(pdu: { esmClass: number; shortMessage: Buffer; tlvs: readonly Tlv[] }): ConcatInfo | null {
  let body = messageBody(pdu);
  if (pdu.esmClass & ESM_UDHI) {
    const udh = parseUdh(body);
    if (udh === null) return null;
    for (const { iei, data } of udh.elements) {
      if (iei === 0x00 && data.length === 3) {
        const ref = data[0] as number;
        const total = data[1] as number;
        const seq = data[2] as number;
        return valid(total, seq) ? { ref, total, seq, payload: udh.payload } : null;
      }
      if (iei === 0x08 && data.length === 4) {
        const ref = data.readUInt16BE(0);
        const total = data[2] as number;
        const seq = data[3] as number;
        return valid(total, seq) ? { ref, total, seq, payload: udh.payload } : null;
      }
    }
    body = udh.payload;
  }
  const ref = tlvUint16(pdu.tlvs, Tag.sar_msg_ref_num);
  const total = tlvUint8(pdu.tlvs, Tag.sar_total_segments);
  const seq = tlvUint8(pdu.tlvs, Tag.sar_segment_seqnum);
  if (ref === undefined || total === undefined || seq === undefined || !valid(total, seq)) return null;
  return { ref, total, seq, payload: body };
}

export interface SplitResult {
  dataCoding: TextCoding;
  /** short_message values; each begins with a concatenation UDH when there is more than one. */
  parts: Buffer[];
  /** Set esm_class |= 0x40 on every part when true. */
  esmClassUdhi: boolean;
}

export interface SplitOptions {
  dataCoding: TextCoding;
  /** Concatenation reference; above 255 (or with ref16) the 16-bit IEI 0x08 is used. */
  ref: number;
  ref16?: boolean;
  /** Octets of user data per SMS; 140 on GSM networks. */
  maxOctets?: number;
}

function udhFor(ref: number, wide: boolean, total: number, seq: number): Buffer {
  return wide
    ? Buffer.from([0x06, 0x08, 0x04, (ref >> 8) & 0xff, ref & 0xff, total, seq])
    : Buffer.from([0x05, 0x00, 0x03, ref & 0xff, total, seq]);
}

/**
 * Cuts `units` (octets, or UTF-16 code units as octet pairs for UCS-2) into chunks of at most
 * `cap` units, moving a cut back by one where it would separate a GSM escape pair or a UTF-16
 * surrogate pair.
 */
function cut(bytes: Buffer, unit: 1 | 2, cap: number, keepWithNext: (b: Buffer, at: number) => boolean): Buffer[] {
  const out: Buffer[] = [];
  const n = bytes.length / unit;
  let pos = 0;
  while (pos < n) {
    let end = Math.min(pos + cap, n);
    if (end < n && end - 1 > pos && keepWithNext(bytes, end - 1)) end--;
    out.push(bytes.subarray(pos * unit, end * unit));
    pos = end;
  }
  return out;
}

function assemble(chunks: Buffer[], ref: number, wide: boolean): Buffer[] {
  if (chunks.length > MAX_PARTS) {
    throw new SmppEncodeError('SMPP_FIELD_TOO_LONG', 'short_message', `${chunks.length} parts; concatenation allows ${MAX_PARTS}`);
  }
  return chunks.map((c, i) => Buffer.concat([udhFor(ref, wide, chunks.length, i + 1), c]));
}

function checkRef(ref: number): void {
  if (!Number.isInteger(ref) || ref < 0 || ref > 0xffff) throw new SmppEncodeError('SMPP_FIELD_INVALID', 'sar_msg_ref_num', `concatenation ref ${ref} outside 0..65535`);
}

/**
 * Encodes and splits text for short_message. Single-part limits for 140 octets: GSM 160 septets,
 * UCS-2 70 code units, Latin-1 140 octets; with a 6-octet UDH: 153, 67, 134 (7-octet: 152, 66, 133).
 * GSM is unpacked (one septet per octet), so a GSM part is UDH + up to 153 septet octets.
 */
export function splitText(text: string, opts: SplitOptions): SplitResult {
  checkRef(opts.ref);
  const { dataCoding } = opts;
  const maxOctets = opts.maxOctets ?? 140;
  const wide = opts.ref16 === true || opts.ref > 0xff;
  const udhLen = wide ? 7 : 6;
  const bytes = encodeText(text, dataCoding);
  let single: number;
  let multi: number;
  let chunks: () => Buffer[];
  switch (dataCoding) {
    case 0:
      single = Math.floor((maxOctets * 8) / 7);
      multi = Math.floor(((maxOctets - udhLen) * 8) / 7);
      // GSM 03.38 §6.2.1.1: ESC and its code are one character; keep them in one part.
      chunks = () => cut(bytes, 1, multi, (b, at) => b[at] === 0x1b);
      if (bytes.length <= single) return { dataCoding, parts: [bytes], esmClassUdhi: false };
      break;
    case 8:
      single = Math.floor(maxOctets / 2);
      multi = Math.floor((maxOctets - udhLen) / 2);
      chunks = () =>
        cut(bytes, 2, multi, (b, at) => {
          const hi = b[at * 2] as number;
          return hi >= 0xd8 && hi <= 0xdb; // a high surrogate wants its low one
        });
      if (bytes.length / 2 <= single) return { dataCoding, parts: [bytes], esmClassUdhi: false };
      break;
    case 3:
      single = maxOctets;
      multi = maxOctets - udhLen;
      chunks = () => cut(bytes, 1, multi, () => false);
      if (bytes.length <= single) return { dataCoding, parts: [bytes], esmClassUdhi: false };
      break;
  }
  return { dataCoding, parts: assemble(chunks(), opts.ref, wide), esmClassUdhi: true };
}

/** Splits 8-bit data: 140 octets whole, else 134 per part (133 with a 16-bit reference). */
export function splitBinary(buf: Buffer, ref: number, opts: { ref16?: boolean; maxOctets?: number } = {}): { parts: Buffer[]; esmClassUdhi: boolean } {
  checkRef(ref);
  const maxOctets = opts.maxOctets ?? 140;
  if (buf.length <= maxOctets) return { parts: [buf], esmClassUdhi: false };
  const wide = opts.ref16 === true || ref > 0xff;
  return { parts: assemble(cut(buf, 1, maxOctets - (wide ? 7 : 6), () => false), ref, wide), esmClassUdhi: true };
}
