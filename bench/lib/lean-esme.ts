/**
 * The SMPP load generator the benches share: one bound transceiver on a plain socket, lean on
 * purpose so that it is not what limits a figure. submit_sm bodies are pre-encoded once (only the
 * sequence number is patched), every PDU a window or a pacer allows goes out in one socket write,
 * and responses are read with our FrameDecoder, decoding nothing a bench did not ask for. The
 * `smpp` npm package as a generator tops out far below what the benches measure.
 *
 * Two ways to drive it:
 *   - window: `fill()` once; every read tops the window up again (keeps it full);
 *   - paced:  the bench calls `send(n)` on its own clock; the window only caps what is in flight.
 *
 * Times are performance.now() milliseconds.
 */
import { connect, type Socket } from 'node:net';
import { CommandId, FrameDecoder, Tag, decodePdu, encodeDeliverSmResp, encodeEnquireLinkResp, encodePdu, tlvCString, type SubmitSm } from '../../src/smpp/index.js';

export interface LeanEsmeEvents {
  /** A submit_sm_resp with ESME_ROK: the message id it carries, when the submit left and now. */
  readonly onAccepted?: (messageId: string, sentAt: number, now: number) => void;
  /** A deliver_sm: the receipted message id (TLV, else the text's `id:`), '' when it has none. */
  readonly onReceipt?: (messageId: string, now: number) => void;
}

export interface LeanEsmeOptions {
  /** Most submits in flight (sent, not answered) on this bind. */
  readonly window: number;
  /** 'window': every read tops the window up; 'paced': only `send(n)` sends. */
  readonly mode: 'window' | 'paced';
  /**
   * Window mode: top the window up only once this many slots are free (1: after every read). A
   * server that answers one PDU a write would otherwise get one PDU a write back.
   */
  readonly refillAt?: number;
  readonly systemId?: string;
  readonly password?: string;
  /** Response latencies (ms) of accepted submits are pushed here when given. */
  readonly latencies?: number[];
  readonly events?: LeanEsmeEvents;
}

/** A one-part GSM submit_sm, encoded once; `registeredDelivery` 1 asks for a receipt. */
export function submitTemplate(registeredDelivery: 0 | 1, destination = '14155550100'): Buffer {
  return encodePdu({
    command: 'submit_sm', commandStatus: 0, sequenceNumber: 1, serviceType: '', sourceAddrTon: 5, sourceAddrNpi: 0, sourceAddr: 'BENCH',
    destAddrTon: 1, destAddrNpi: 1, destinationAddr: destination, esmClass: 0, protocolId: 0, priorityFlag: 0, scheduleDeliveryTime: '',
    validityPeriod: '', registeredDelivery, replaceIfPresentFlag: 0, dataCoding: 0, smDefaultMsgId: 0,
    shortMessage: Buffer.from('Your verification code is 123456'), tlvs: [],
  } satisfies SubmitSm);
}

const BIND_SEQ = 0x7fff0000;

/** The receipted message id of a deliver_sm frame: the TLV, else `id:` in the text; '' if neither. */
export function receiptedId(frame: Buffer): string {
  const r = decodePdu(frame);
  if (!r.ok || r.pdu.command !== 'deliver_sm') return '';
  const tlv = tlvCString(r.pdu.tlvs, Tag.receipted_message_id, true);
  if (tlv !== undefined && tlv !== '') return tlv;
  return /(?:^|\s)id:(\S+)/.exec(r.pdu.shortMessage.toString('latin1'))?.[1] ?? '';
}

export class LeanEsme {
  /** Submits written to the socket. */
  sent = 0;
  accepted = 0;
  /** Answered with a status other than ESME_ROK, by status. */
  refused = 0;
  readonly refusedBy = new Map<number, number>();
  /** deliver_sm received (each acknowledged at once). */
  receipts = 0;
  inflight = 0;
  private seq = 1;
  private readonly sentAt = new Map<number, number>();
  private readonly decoder = new FrameDecoder({ maxPduLength: 65536 });
  private running = true;
  private bound = false;
  private bindDone!: (status: number) => void;
  private readonly bindAnswer = new Promise<number>((r) => (this.bindDone = r));

  private constructor(
    readonly socket: Socket,
    private readonly template: Buffer,
    private readonly opts: LeanEsmeOptions,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (c: Buffer) => {
      this.onData(c);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.running = false;
      this.bindDone(-1);
    });
  }

  /** Connects, binds as a transceiver, and resolves once bound (rejects when refused). */
  static async open(port: number, template: Buffer, opts: LeanEsmeOptions): Promise<LeanEsme> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => {
        resolve();
      });
      socket.once('error', reject);
    });
    const esme = new LeanEsme(socket, template, opts);
    socket.write(
      encodePdu({
        command: 'bind_transceiver', commandStatus: 0, sequenceNumber: BIND_SEQ, systemId: opts.systemId ?? 'bench', password: opts.password ?? 'bench',
        systemType: '', interfaceVersion: 0x34, addrTon: 0, addrNpi: 0, addressRange: '',
      }),
    );
    const status = await esme.bindAnswer;
    if (status !== 0) {
      socket.destroy();
      throw new Error(`bench bind refused: status ${status}`);
    }
    return esme;
  }

  /** Stops sending; responses and receipts are still read and acknowledged. */
  stop(): void {
    this.running = false;
  }

  close(): void {
    this.running = false;
    this.socket.destroy();
  }

  /** Tops the window up. */
  fill(): void {
    this.send(this.opts.window);
  }

  /** Sends up to n submits in one write, as many as the window has room for; returns how many. */
  send(n: number): number {
    if (!this.running || !this.bound) return 0;
    const k = Math.min(n, this.opts.window - this.inflight);
    if (k <= 0) return 0;
    const len = this.template.length;
    const out = Buffer.allocUnsafe(k * len);
    const now = performance.now();
    for (let i = 0; i < k; i++) {
      const off = i * len;
      this.template.copy(out, off);
      const seq = this.seq++;
      out.writeUInt32BE(seq, off + 12);
      this.sentAt.set(seq, now);
    }
    this.inflight += k;
    this.sent += k;
    this.socket.write(out);
    return k;
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    const acks: Buffer[] = [];
    const events = this.opts.events;
    const latencies = this.opts.latencies;
    let now = 0;
    for (let f = this.decoder.next(); f; f = this.decoder.next()) {
      const id = f.readUInt32BE(4);
      const status = f.readUInt32BE(8);
      const seq = f.readUInt32BE(12);
      if (id === CommandId.submit_sm_resp) {
        this.inflight--;
        const t = this.sentAt.get(seq);
        this.sentAt.delete(seq);
        if (status === 0) {
          this.accepted++;
          if (t !== undefined && (latencies !== undefined || events?.onAccepted !== undefined)) {
            now ||= performance.now();
            latencies?.push(now - t);
            if (events?.onAccepted) {
              const nul = f.indexOf(0, 16);
              events.onAccepted(f.toString('latin1', 16, nul < 0 ? f.length : nul), t, now);
            }
          }
        } else {
          this.refused++;
          this.refusedBy.set(status, (this.refusedBy.get(status) ?? 0) + 1);
        }
      } else if (id === CommandId.deliver_sm) {
        this.receipts++;
        acks.push(encodeDeliverSmResp(seq, 0));
        if (events?.onReceipt) {
          now ||= performance.now();
          events.onReceipt(receiptedId(f), now);
        }
      } else if (id === CommandId.bind_transceiver_resp && seq === BIND_SEQ) {
        this.bound = status === 0;
        this.bindDone(status);
      } else if (id === CommandId.enquire_link) {
        acks.push(encodeEnquireLinkResp(seq));
      }
    }
    if (acks.length > 0) this.socket.write(acks.length === 1 ? (acks[0] ?? Buffer.alloc(0)) : Buffer.concat(acks));
    if (this.opts.mode === 'window' && this.opts.window - this.inflight >= (this.opts.refillAt ?? 1)) this.fill();
  }
}

/** Sums a counter over the binds. */
export function total(esmes: readonly LeanEsme[], key: 'sent' | 'accepted' | 'refused' | 'receipts' | 'inflight'): number {
  let n = 0;
  for (const e of esmes) n += e[key];
  return n;
}

/** Refusals by command_status (hex) over the binds. */
export function refusals(esmes: readonly LeanEsme[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of esmes) for (const [s, n] of e.refusedBy) out[`0x${s.toString(16).padStart(8, '0')}`] = (out[`0x${s.toString(16).padStart(8, '0')}`] ?? 0) + n;
  return out;
}
