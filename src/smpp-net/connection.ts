/**
 * One SMPP peer over one socket, for both sides (our SMSC's sessions, our ESME's binds, the
 * simulator): frames in, PDUs out, requests correlated to responses by sequence number.
 *
 * - Outbound requests are windowed: `request()` refuses when `window` are outstanding (callers
 *   check `canRequest`), and every pending one expires after `responseTimeoutMs` by one sweep timer
 *   per connection, not one timer per PDU.
 * - Writes made in one tick go out in one socket write (cork/uncork). When the socket's buffer is
 *   full `writable` turns false and 'drain' follows; producers stop while it is false.
 * - A decode error is answered (generic_nack or the command's _resp with the error status) and the
 *   session goes on; a framing error (command_length out of range) closes it: no boundary is left.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import {
  CommandId,
  encodeHeaderOnly,
  FrameDecoder,
  SmppFramingError,
  commandName,
  decodePdu,
  encodePdu,
  isResponse,
  responseIdFor,
  Status,
  type Pdu,
  type RequestPdu,
  type ResponsePdu,
  type SmppDecodeError,
} from '../smpp/index.js';

export interface ConnectionOptions {
  readonly maxPduLength: number;
  /** Most outbound requests awaiting their response. */
  readonly window: number;
  readonly responseTimeoutMs: number;
}

export class SmppTimeoutError extends Error {
  readonly code = 'TIMEOUT';
  readonly retriable = true;
  constructor(readonly command: string) {
    super(`no response to ${command} within the response timeout`);
    this.name = 'SmppTimeoutError';
  }
}

export class SmppClosedError extends Error {
  readonly code = 'NETWORK_ERROR';
  readonly retriable = true;
  constructor(reason: string) {
    super(`connection closed: ${reason}`);
    this.name = 'SmppClosedError';
  }
}

interface Pending {
  readonly command: string;
  readonly deadline: number;
  readonly resolve: (pdu: ResponsePdu) => void;
  readonly reject: (err: Error) => void;
}

export interface ConnectionEvents {
  request: [pdu: RequestPdu];
  /** A response nobody waited for (late, after its timeout, or a bogus sequence). */
  stray: [pdu: ResponsePdu];
  decodeError: [err: SmppDecodeError];
  framingError: [err: SmppFramingError];
  drain: [];
  /** A request slot freed up (a response arrived or a request expired). */
  windowOpen: [];
  close: [reason: string];
}

export class SmppConnection extends EventEmitter<ConnectionEvents> {
  readonly remote: string;
  private readonly decoder: FrameDecoder;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private corked = false;
  private closed = false;
  private sweepTimer: NodeJS.Timeout;
  /** Epoch ms of the last byte received: sessions use it for their inactivity timer. */
  lastReceivedAt = Date.now();
  writable = true;

  constructor(
    readonly socket: Socket,
    private readonly opts: ConnectionOptions,
  ) {
    super();
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.decoder = new FrameDecoder({ maxPduLength: opts.maxPduLength });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.onData(chunk);
    });
    socket.on('drain', () => {
      this.writable = true;
      this.emit('drain');
    });
    socket.on('error', (err) => {
      this.teardown(`socket error: ${err.message}`);
    });
    socket.on('close', () => {
      this.teardown('socket closed');
    });
    const every = Math.max(50, Math.min(1000, Math.floor(opts.responseTimeoutMs / 4)));
    this.sweepTimer = setInterval(() => {
      this.sweep(Date.now());
    }, every);
    this.sweepTimer.unref();
  }

  get isClosed(): boolean {
    return this.closed;
  }
  get inflight(): number {
    return this.pending.size;
  }
  get canRequest(): boolean {
    return !this.closed && this.pending.size < this.opts.window;
  }

  nextSequence(): number {
    // SMPP 3.4 §3.2: sequence_number 0x00000001 to 0x7FFFFFFF, then wraps.
    this.seq = this.seq >= 0x7fffffff ? 1 : this.seq + 1;
    return this.seq;
  }

  /** Sends a request and resolves with its response (any command_status: callers check it). */
  request(pdu: RequestPdu): Promise<ResponsePdu> {
    return this.requestFrame(pdu.command, (seq) => {
      pdu.sequenceNumber = seq;
      return encodePdu(pdu);
    });
  }

  /**
   * Sends a request encoded by `frame` with the sequence number given to it (a hot path's own
   * encoder, smpp/encode.ts), and resolves with its response as request() does.
   */
  requestFrame(command: RequestPdu['command'], frame: (seq: number) => Buffer): Promise<ResponsePdu> {
    if (this.closed) return Promise.reject(new SmppClosedError('already closed'));
    if (this.pending.size >= this.opts.window) return Promise.reject(new Error('window full'));
    const seq = this.nextSequence();
    return new Promise<ResponsePdu>((resolve, reject) => {
      this.pending.set(seq, { command, deadline: Date.now() + this.opts.responseTimeoutMs, resolve, reject });
      try {
        this.write(frame(seq));
      } catch (err) {
        this.pending.delete(seq);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** Sends a PDU that expects no correlation here (a response, or generic_nack). */
  send(pdu: Pdu): void {
    this.write(encodePdu(pdu));
  }

  write(buf: Buffer): void {
    if (this.closed) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        if (!this.socket.destroyed) this.socket.uncork();
      });
    }
    if (!this.socket.write(buf)) this.writable = false;
  }

  /** Stops reading from the peer (backpressure toward the router). */
  pause(): void {
    this.socket.pause();
  }
  resume(): void {
    if (!this.closed) this.socket.resume();
  }

  /** Ends the socket once what was written has gone. */
  end(): void {
    if (this.closed) return;
    this.socket.end();
  }

  destroy(reason = 'destroyed'): void {
    this.socket.destroy();
    this.teardown(reason);
  }

  private onData(chunk: Buffer): void {
    this.lastReceivedAt = Date.now();
    this.decoder.push(chunk);
    for (;;) {
      let frame: Buffer | null;
      try {
        frame = this.decoder.next();
      } catch (err) {
        if (err instanceof SmppFramingError) {
          // SMPP 3.4 §3.3: answer what we can, then close: the stream has no boundary left.
          this.write(encodeHeaderOnly(CommandId.generic_nack, Status.ESME_RINVCMDLEN, err.sequenceNumber ?? 0));
          this.emit('framingError', err);
          this.socket.end();
          this.teardown(`framing lost: ${err.message}`);
          return;
        }
        throw err;
      }
      if (frame === null) return;
      const res = decodePdu(frame);
      if (!res.ok) {
        this.answerDecodeError(res.error);
        continue;
      }
      const pdu = res.pdu;
      if (isResponse(CommandId[pdu.command])) {
        const p = this.pending.get(pdu.sequenceNumber);
        if (p) {
          this.pending.delete(pdu.sequenceNumber);
          p.resolve(pdu as ResponsePdu);
          this.emit('windowOpen');
        } else {
          this.emit('stray', pdu as ResponsePdu);
        }
      } else {
        this.emit('request', pdu as RequestPdu);
      }
      if (this.closed) return;
    }
  }

  private answerDecodeError(err: SmppDecodeError): void {
    this.emit('decodeError', err);
    const p = isResponse(err.commandId) ? this.pending.get(err.sequenceNumber) : undefined;
    if (p) {
      // A response we cannot read still ends its request: fail it rather than let it time out.
      this.pending.delete(err.sequenceNumber);
      p.reject(err);
      this.emit('windowOpen');
      return;
    }
    if (isResponse(err.commandId)) return; // never answer a response with a response
    const known = commandName(err.commandId) !== undefined;
    const id = err.answerWithGenericNack || !known ? CommandId.generic_nack : responseIdFor(err.commandId);
    this.write(encodeHeaderOnly(id, err.status, err.sequenceNumber));
  }

  private sweep(now: number): void {
    let freed = false;
    for (const [seq, p] of this.pending) {
      if (p.deadline <= now) {
        this.pending.delete(seq);
        p.reject(new SmppTimeoutError(p.command));
        freed = true;
      }
    }
    if (freed) this.emit('windowOpen');
  }

  private teardown(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweepTimer);
    const err = new SmppClosedError(reason);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.emit('close', reason);
  }
}
