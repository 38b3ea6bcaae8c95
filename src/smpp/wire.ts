/**
 * Hand-written readers and writers for the SMPP 3.4 §3.1 field types, over one Buffer, with the
 * per-field limits of §4 enforced as they go:
 *
 *   Integer          = 1 | 2 | 4 octets, unsigned, big-endian                  ; §3.1
 *   C-Octet String   = *(octet except NUL) NUL, max size counts the NUL         ; §3.1
 *   Octet String     = length octets, length given by a preceding field (sm_length)
 *
 * Strings are latin1 (one octet per char): SMPP C-strings are ASCII in practice and latin1 keeps
 * any stray high octet lossless both ways.
 */
import { SmppDecodeError, SmppEncodeError } from './errors.js';
import type { SmppDecodeErrorCode } from './errors.js';
import { Status } from './status.js';
import { TLV_FIXED_SIZE } from './tlv.js';
import type { Tlv } from './tlv.js';

/** A reader over body octets [off, end) of one frame. Throws SmppDecodeError, caught by decodePdu. */
export class Reader {
  off = 16;

  constructor(
    readonly buf: Buffer,
    readonly end: number,
    readonly commandId: number,
    readonly sequenceNumber: number,
    /** A malformed response is answered, if at all, by generic_nack. */
    readonly response: boolean,
  ) {}

  fail(code: SmppDecodeErrorCode, status: number, field: string, message: string, nack = false): SmppDecodeError {
    return new SmppDecodeError(code, message, {
      status,
      commandId: this.commandId,
      sequenceNumber: this.sequenceNumber,
      answerWithGenericNack: nack || this.response,
      field,
    });
  }

  get remaining(): number {
    return this.end - this.off;
  }

  u8(field: string): number {
    const off = this.off;
    // SMPP 3.4 §3.3: a body shorter than its mandatory fields is an invalid command_length.
    if (off >= this.end) throw this.fail('SMPP_BODY_SHORT', Status.ESME_RINVCMDLEN, field, `${field}: body ends early`, true);
    this.off = off + 1;
    return this.buf[off] as number;
  }

  u32(field: string): number {
    const off = this.off;
    if (off + 4 > this.end) throw this.fail('SMPP_BODY_SHORT', Status.ESME_RINVCMDLEN, field, `${field}: body ends early`, true);
    this.off = off + 4;
    return this.buf.readUInt32BE(off);
  }

  /**
   * A C-Octet String of at most `max` chars before its NUL (the spec's size minus one). A NUL
   * not found within max+1 octets is a field too long (answer with `status`); the body ending
   * first means command_length is short (generic_nack, ESME_RINVCMDLEN, §3.3).
   */
  cstr(max: number, field: string, status: number): string {
    const buf = this.buf;
    const start = this.off;
    const end = this.end;
    const limit = start + max + 1 < end ? start + max + 1 : end;
    for (let i = start; i < limit; i++) {
      if (buf[i] === 0) {
        this.off = i + 1;
        return i === start ? '' : buf.toString('latin1', start, i);
      }
    }
    if (limit === end && end - start <= max) {
      throw this.fail('SMPP_CSTRING_UNTERMINATED', Status.ESME_RINVCMDLEN, field, `${field}: no NUL before end of body`, true);
    }
    throw this.fail('SMPP_FIELD_TOO_LONG', status, field, `${field}: longer than ${max} octets`);
  }

  /** sm_length then short_message (§4.4.1: sm_length 0..254). */
  shortMessage(): Buffer {
    const len = this.u8('sm_length');
    if (len > 254) throw this.fail('SMPP_FIELD_TOO_LONG', Status.ESME_RINVMSGLEN, 'sm_length', `sm_length ${len} > 254`);
    const off = this.off;
    if (off + len > this.end) {
      throw this.fail('SMPP_SM_LENGTH', Status.ESME_RINVMSGLEN, 'sm_length', `sm_length ${len} runs past the PDU`);
    }
    this.off = off + len;
    return this.buf.subarray(off, off + len);
  }

  /** Everything after the mandatory body: tag:u16 length:u16 value (§5.3.1). */
  tlvs(): Tlv[] {
    const out: Tlv[] = [];
    const buf = this.buf;
    const end = this.end;
    let off = this.off;
    while (off < end) {
      if (off + 4 > end) {
        throw this.fail('SMPP_TLV_TRUNCATED', Status.ESME_RINVOPTPARSTREAM, 'tlv', `${end - off} stray octets after the last TLV`);
      }
      const tag = buf.readUInt16BE(off);
      const len = buf.readUInt16BE(off + 2);
      off += 4;
      if (off + len > end) {
        throw this.fail('SMPP_TLV_OVERRUN', Status.ESME_RINVOPTPARSTREAM, tlvField(tag), `TLV ${tlvField(tag)} length ${len} runs past the PDU`);
      }
      const fixed = TLV_FIXED_SIZE.get(tag);
      if (fixed !== undefined && fixed !== len) {
        // SMPP 3.4 §5.3.2 gives these tags one size; another is ESME_RINVPARLEN (§5.1.3).
        throw this.fail('SMPP_TLV_LENGTH', Status.ESME_RINVPARLEN, tlvField(tag), `TLV ${tlvField(tag)} length ${len}, expected ${fixed}`);
      }
      out.push({ tag, value: buf.subarray(off, off + len) });
      off += len;
    }
    this.off = off;
    return out;
  }

  /** For PDUs with no body at all: extra octets mean command_length is wrong (§3.3). */
  noBody(): void {
    if (this.off !== this.end) {
      throw this.fail('SMPP_BODY_LONG', Status.ESME_RINVCMDLEN, 'body', `${this.end - this.off} octets after a header-only PDU`, true);
    }
  }
}

function tlvField(tag: number): string {
  return `tlv 0x${tag.toString(16).padStart(4, '0')}`;
}

/** A writer into an exactly-sized buffer whose header the caller fills in. */
export class Writer {
  off = 16;

  constructor(readonly buf: Buffer) {}

  u8(v: number, field: string): void {
    if ((v & 0xff) !== v) throw new SmppEncodeError('SMPP_FIELD_INVALID', field, `${field}: ${v} is not an octet`);
    this.buf[this.off++] = v;
  }

  u32(v: number, field: string): void {
    if (v >>> 0 !== v) throw new SmppEncodeError('SMPP_FIELD_INVALID', field, `${field}: ${v} is not a u32`);
    this.buf.writeUInt32BE(v, this.off);
    this.off += 4;
  }

  /** `max` is the spec's size minus the NUL. */
  cstr(s: string, max: number, field: string): void {
    if (s.length > max) throw new SmppEncodeError('SMPP_FIELD_TOO_LONG', field, `${field}: ${s.length} chars > ${max}`);
    this.latin1(s, field, false);
    this.buf[this.off++] = 0;
  }

  /** sm_length + short_message; §4.4.1 caps it at 254 (longer text goes in message_payload). */
  shortMessage(b: Buffer): void {
    if (b.length > 254) throw new SmppEncodeError('SMPP_FIELD_TOO_LONG', 'short_message', `short_message ${b.length} octets > 254; use message_payload`);
    this.buf[this.off++] = b.length;
    this.off += b.copy(this.buf, this.off);
  }

  /** sm_length + short_message from a latin1 string (one octet a char), checked as shortMessage is. */
  shortMessageLatin1(s: string): void {
    const n = s.length;
    if (n > 254) throw new SmppEncodeError('SMPP_FIELD_TOO_LONG', 'short_message', `short_message ${n} octets > 254; use message_payload`);
    this.buf[this.off++] = n;
    this.latin1(s, 'short_message', true);
  }

  /** A C-Octet String TLV (§5.3.1: tag, length with the NUL, value). */
  tlvCStr(tag: number, s: string): void {
    this.buf.writeUInt16BE(tag, this.off);
    this.buf.writeUInt16BE(s.length + 1, this.off + 2);
    this.off += 4;
    this.latin1(s, tlvField(tag), false);
    this.buf[this.off++] = 0;
  }

  /** A one-octet TLV. */
  tlvU8(tag: number, v: number): void {
    this.buf.writeUInt16BE(tag, this.off);
    this.buf.writeUInt16BE(1, this.off + 2);
    this.off += 4;
    this.u8(v, tlvField(tag));
  }

  /** The chars of `s` as octets; a C-Octet String's (nul false) may not hold a NUL. */
  private latin1(s: string, field: string, nul: boolean): void {
    const buf = this.buf;
    const off = this.off;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 0xff || (c === 0 && !nul)) throw new SmppEncodeError('SMPP_FIELD_INVALID', field, `${field}: char ${c} is not a latin1${nul ? '' : ' non-NUL'} octet`);
      buf[off + i] = c;
    }
    this.off = off + s.length;
  }

  tlvs(list: readonly Tlv[]): void {
    const buf = this.buf;
    for (const t of list) {
      const len = t.value.length;
      if ((t.tag & 0xffff) !== t.tag) throw new SmppEncodeError('SMPP_FIELD_INVALID', 'tlv', `TLV tag ${t.tag} is not a u16`);
      if (len > 0xffff) throw new SmppEncodeError('SMPP_FIELD_TOO_LONG', tlvField(t.tag), `TLV ${tlvField(t.tag)} ${len} octets > 65535`);
      buf.writeUInt16BE(t.tag, this.off);
      buf.writeUInt16BE(len, this.off + 2);
      this.off += 4 + t.value.copy(buf, this.off + 4);
    }
  }
}

/** Allocates a PDU of `length` octets with its header written. */
export function headerBuffer(length: number, commandId: number, status: number, seq: number): Buffer {
  if (status >>> 0 !== status) throw new SmppEncodeError('SMPP_FIELD_INVALID', 'command_status', `command_status ${status} is not a u32`);
  if (seq >>> 0 !== seq) throw new SmppEncodeError('SMPP_FIELD_INVALID', 'sequence_number', `sequence_number ${seq} is not a u32`);
  const b = Buffer.allocUnsafe(length);
  b.writeUInt32BE(length, 0);
  b.writeUInt32BE(commandId, 4);
  b.writeUInt32BE(status, 8);
  b.writeUInt32BE(seq, 12);
  return b;
}

/** C-Octet String limits of SMPP 3.4 §4, in chars before the NUL (the spec's size minus one). */
export const Max = {
  systemId: 15, // §4.1.1 system_id Var. max 16
  password: 8, // §4.1.1 password Var. max 9
  systemType: 12, // §4.1.1 system_type Var. max 13
  addressRange: 40, // §4.1.1 address_range Var. max 41
  serviceType: 5, // §4.4.1 service_type Var. max 6
  addr: 20, // §4.4.1 source_addr / destination_addr Var. max 21
  addr64: 64, // §4.7.1 data_sm and §4.12.1 alert_notification addresses Var. max 65
  messageId: 64, // §4.4.2 message_id Var. max 65
  time: 16, // §4.4.1 schedule_delivery_time / validity_period 1 or 17
  dlName: 20, // §4.5.1 dl_name Var. max 21
} as const;
