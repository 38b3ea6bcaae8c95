/**
 * FrameDecoder: a TCP byte stream to whole PDUs.
 *
 *   stream = *pdu ;  pdu = command_length:u32 (command_length - 4) octets      ; SMPP 3.4 §3.2
 *
 * command_length is checked against 16..maxPduLength as soon as its 4 octets are in, before any
 * more of that frame is kept, so a hostile length costs nothing. Input chunks are queued as they
 * come (no copy on push); a frame that lies inside one chunk is returned as a view of it, and
 * only a frame that straddles chunks is copied, once, into its own buffer. Consumed chunks are
 * dropped by advancing an index and compacting now and then, so one-byte pushes stay O(n).
 *
 * The caller pushes what the socket gave and calls next() until it returns null; after that at
 * most one incomplete frame (< maxPduLength octets) is buffered.
 */
import { SmppFramingError } from './errors.js';

export interface FrameDecoderOptions {
  /** Largest command_length accepted; default 65536. */
  maxPduLength?: number;
}

export const DEFAULT_MAX_PDU_LENGTH = 65536;

export class FrameDecoder {
  readonly maxPduLength: number;
  private chunks: Buffer[] = [];
  /** Index of the first live chunk in `chunks`. */
  private first = 0;
  /** Offset of the first unread octet within chunks[first]. */
  private offset = 0;
  private size = 0;

  constructor(opts: FrameDecoderOptions = {}) {
    const max = opts.maxPduLength ?? DEFAULT_MAX_PDU_LENGTH;
    if (!Number.isInteger(max) || max < 16 || max > 0xffffffff) throw new RangeError(`maxPduLength ${max} outside 16..2^32-1`);
    this.maxPduLength = max;
  }

  /** Octets received and not yet returned as frames. */
  get buffered(): number {
    return this.size;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /**
   * The next whole frame, or null when it has not all arrived. Throws SmppFramingError when
   * command_length is below 16 (a header is 16 octets, §3.2) or above maxPduLength: the stream
   * cannot be resynchronised and the session must close (after a generic_nack, if it likes,
   * with `sequenceNumber`). It keeps throwing until reset().
   */
  next(): Buffer | null {
    if (this.size < 4) return null;
    const length = this.peekUInt32(0);
    if (length < 16 || length > this.maxPduLength) {
      const seq = this.size >= 16 ? this.peekUInt32(12) : undefined;
      throw new SmppFramingError(length, seq, this.maxPduLength);
    }
    if (this.size < length) return null;
    return this.take(length);
  }

  /** Drops everything buffered (e.g. after a framing error, before closing). */
  reset(): void {
    this.chunks = [];
    this.first = 0;
    this.offset = 0;
    this.size = 0;
  }

  private peekUInt32(at: number): number {
    const head = this.chunks[this.first] as Buffer;
    const pos = this.offset + at;
    if (pos + 4 <= head.length) return head.readUInt32BE(pos);
    let v = 0;
    for (let i = 0; i < 4; i++) v = v * 256 + this.peekByte(at + i);
    return v;
  }

  private peekByte(at: number): number {
    let pos = this.offset + at;
    for (let i = this.first; i < this.chunks.length; i++) {
      const c = this.chunks[i] as Buffer;
      if (pos < c.length) return c[pos] as number;
      pos -= c.length;
    }
    return 0; // unreachable: callers check `size` first
  }

  private take(n: number): Buffer {
    this.size -= n;
    const head = this.chunks[this.first] as Buffer;
    const avail = head.length - this.offset;
    if (n <= avail) {
      const frame = head.subarray(this.offset, this.offset + n);
      if (n === avail) this.dropHead();
      else this.offset += n;
      return frame;
    }
    const frame = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[this.first] as Buffer;
      const want = n - filled;
      const have = c.length - this.offset;
      if (have <= want) {
        c.copy(frame, filled, this.offset);
        filled += have;
        this.dropHead();
      } else {
        c.copy(frame, filled, this.offset, this.offset + want);
        filled += want;
        this.offset += want;
      }
    }
    return frame;
  }

  private dropHead(): void {
    this.offset = 0;
    this.first++;
    if (this.first === this.chunks.length) {
      this.chunks.length = 0;
      this.first = 0;
    } else if (this.first >= 1024 && this.first * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }
}
