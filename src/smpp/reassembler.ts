/**
 * Reassembly of concatenated messages, pure: the caller supplies the key (e.g. session + source +
 * destination), the part (from readConcatInfo) and the time. No timers: call sweep() from the
 * session's own periodic sweep. Bounded by `maxOpen`; the oldest open message is evicted first.
 */
import type { ConcatInfo } from './segments.js';

export interface DroppedMessage {
  key: string;
  ref: number;
  total: number;
  received: number;
  firstMs: number;
  reason: 'expired' | 'evicted';
}

interface Open {
  key: string;
  ref: number;
  total: number;
  received: number;
  firstMs: number;
  parts: (Buffer | undefined)[];
}

export interface ReassemblerOptions {
  /** Open (incomplete) messages kept at most; default 10000. */
  maxOpen?: number;
}

export class Reassembler {
  private readonly open = new Map<string, Open>();
  private evicted: DroppedMessage[] = [];
  readonly maxOpen: number;

  constructor(opts: ReassemblerOptions = {}) {
    this.maxOpen = opts.maxOpen ?? 10_000;
  }

  /** Incomplete messages held. */
  get size(): number {
    return this.open.size;
  }

  /**
   * Adds one part. Returns the whole payload (parts concatenated in order) when this part
   * completes the message, else null. A part already held is ignored. Parts are copied, so
   * the caller's frame buffers are not kept alive.
   */
  add(key: string, part: ConcatInfo, nowMs: number): Buffer | null {
    const { ref, total, seq } = part;
    if (total <= 1) return Buffer.from(part.payload);
    const id = `${key}\u0000${ref}\u0000${total}`;
    let m = this.open.get(id);
    if (m === undefined) {
      if (this.open.size >= this.maxOpen) this.evictOldest();
      m = { key, ref, total, received: 0, firstMs: nowMs, parts: new Array<Buffer | undefined>(total) };
      this.open.set(id, m);
    }
    if (seq < 1 || seq > total || m.parts[seq - 1] !== undefined) return null;
    m.parts[seq - 1] = Buffer.from(part.payload);
    m.received++;
    if (m.received < total) return null;
    this.open.delete(id);
    return Buffer.concat(m.parts as Buffer[]);
  }

  /**
   * Drops messages whose first part arrived more than `maxAgeMs` before `nowMs`, and returns
   * them together with any evicted for room since the last sweep.
   */
  sweep(nowMs: number, maxAgeMs: number): DroppedMessage[] {
    const dropped = this.evicted;
    this.evicted = [];
    for (const [id, m] of this.open) {
      if (nowMs - m.firstMs > maxAgeMs) {
        this.open.delete(id);
        dropped.push(describe(m, 'expired'));
      }
    }
    return dropped;
  }

  private evictOldest(): void {
    // Map iteration is insertion order: the first entry is the oldest open message.
    for (const [id, m] of this.open) {
      this.open.delete(id);
      if (this.evicted.length < this.maxOpen) this.evicted.push(describe(m, 'evicted'));
      return;
    }
  }
}

function describe(m: Open, reason: DroppedMessage['reason']): DroppedMessage {
  return { key: m.key, ref: m.ref, total: m.total, received: m.received, firstMs: m.firstMs, reason };
}
