/**
 * Test ESMEs. `SmppPeer` wraps the independent `smpp` npm package (a peer we did not write);
 * `RawPeer` writes raw bytes for the malformed-PDU tests and reads frames back with our codec.
 */
import { connect, type Socket } from 'node:net';
import smpp from 'smpp';
import { FrameDecoder, decodePdu, type Pdu } from '../../src/smpp/index.js';

export interface PackagePdu {
  command: string;
  command_status: number;
  sequence_number: number;
  message_id?: string;
  short_message?: { message?: string | Buffer; udh?: Buffer[] } | string | Buffer;
  esm_class?: number;
  receipted_message_id?: string;
  message_state?: number;
  source_addr?: string;
  destination_addr?: string;
  data_coding?: number;
  message_payload?: unknown;
  [k: string]: unknown;
  response: (opts?: Record<string, unknown>) => unknown;
}

interface PackageSession {
  on(ev: string, fn: (pdu: PackagePdu) => void): void;
  send(pdu: unknown): void;
  close(cb?: () => void): void;
  destroy(): void;
  [cmd: string]: unknown;
}

export class SmppPeer {
  readonly delivered: PackagePdu[] = [];
  autoAck = true;
  ackStatus = 0;
  private constructor(readonly session: PackageSession) {
    session.on('deliver_sm', (pdu) => {
      this.delivered.push(pdu);
      if (this.autoAck) session.send(pdu.response({ command_status: this.ackStatus }));
    });
    session.on('error', () => undefined);
  }

  static async open(port: number): Promise<SmppPeer> {
    return new Promise((resolve, reject) => {
      const s = (smpp as { connect: (o: object, cb: () => void) => PackageSession }).connect({ url: `smpp://127.0.0.1:${port}`, auto_enquire_link_period: 0 }, () => {
        resolve(new SmppPeer(s));
      });
      s.on('error', () => {
        reject(new Error(`smpp package: cannot connect to port ${port}`));
      });
    });
  }

  call(command: string, fields: Record<string, unknown> = {}): Promise<PackagePdu> {
    return new Promise((resolve) => {
      (this.session[command] as (f: object, cb: (p: PackagePdu) => void) => void).call(this.session, fields, resolve);
    });
  }

  async bind(kind: 'transceiver' | 'transmitter' | 'receiver', systemId: string, password: string): Promise<number> {
    const r = await this.call(`bind_${kind}`, { system_id: systemId, password });
    return r.command_status;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.session.close(() => {
          resolve();
        });
      } catch {
        resolve();
      }
      setTimeout(resolve, 500);
    });
  }
}

export class RawPeer {
  readonly pdus: Pdu[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder({ maxPduLength: 1 << 20 });
  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.decoder.push(chunk);
      for (let f = this.decoder.next(); f; f = this.decoder.next()) {
        const r = decodePdu(f);
        if (r.ok) this.pdus.push(r.pdu);
      }
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => {
        resolve(new RawPeer(s));
      });
      s.on('error', reject);
    });
  }

  write(buf: Buffer): void {
    this.socket.write(buf);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A header for hand-built PDUs: command_length, command_id, command_status, sequence_number. */
export function header(length: number, commandId: number, status: number, seq: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(length, 0);
  b.writeUInt32BE(commandId, 4);
  b.writeUInt32BE(status, 8);
  b.writeUInt32BE(seq, 12);
  return b;
}

/** Sends n submits with at most `window` unanswered; returns every response in order of i. */
export async function sendMany(peer: SmppPeer, n: number, make: (i: number) => Record<string, unknown>, window = 100): Promise<PackagePdu[]> {
  const out: PackagePdu[] = new Array<PackagePdu>(n);
  let next = 0;
  async function lane(): Promise<void> {
    while (next < n) {
      const i = next++;
      out[i] = await peer.call('submit_sm', make(i));
    }
  }
  await Promise.all(Array.from({ length: Math.min(window, n) }, lane));
  return out;
}

/** The text of a receipt deliver_sm as the smpp package hands it over. */
export function receiptText(p: PackagePdu): string {
  const sm = p.short_message;
  const text = (v: string | Buffer | undefined): string => (v === undefined ? '' : Buffer.isBuffer(v) ? v.toString('latin1') : v);
  if (sm === undefined || typeof sm === 'string' || Buffer.isBuffer(sm)) return text(sm);
  return text(sm.message);
}
