/**
 * One transceiver bind toward an upstream SMSC: connect, bind_transceiver, keep alive with
 * enquire_link, answer the SMSC's own requests, and reconnect with exponential backoff and
 * jitter when anything breaks. The SmppConnection underneath does the framing, the window and
 * the response timeouts.
 */
import { connect, type Socket } from 'node:net';
import type { UpstreamConfig } from '../../core/config.js';
import type { Logger } from '../../core/logger.js';
import {
  encodeDataSmResp,
  encodeDeliverSmResp,
  responseFor,
  Status,
  statusName,
  type DataSm,
  type DeliverSm,
  type RequestPdu,
} from '../../smpp/index.js';
import { SmppConnection } from '../../smpp-net/connection.js';
import type { Ack } from './inbound-batcher.js';
import { SessionStateMachine, type SessionState } from './session-state.js';

/** SMPP 3.4 §4.1.5: interface_version 0x34 says "SMPP 3.4". */
const INTERFACE_VERSION = 0x34;
const MAX_PDU_LENGTH = 65_536;
const UNBIND_WAIT_MS = 2000;

export interface SessionHooks {
  onBound(session: EsmeSession): void;
  onDown(session: EsmeSession, wasBound: boolean): void;
  /** A request slot freed up or the socket drained: capacity may have grown. */
  onCapacity(session: EsmeSession): void;
  /** A deliver_sm or data_sm on a bound session; the hook must answer it, once, through `ack`. */
  onDeliver(session: EsmeSession, pdu: DeliverSm | DataSm, ack: Ack): void;
}

/** Delay before reconnect attempt `n` (0-based): min·2^n capped at max, "equal jitter" (half fixed, half random). */
export function backoffDelay(n: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(n, 30));
  return Math.max(minMs, Math.round(ceiling / 2 + (random() * ceiling) / 2));
}

/**
 * The answer to one deliver_sm / data_sm, tied to the connection it came on: after a reconnect
 * the sequence number means nothing, so a late answer is dropped (the SMSC re-sends).
 * Keeps only the sequence number, not the PDU (whose buffers are views of the frame).
 */
function ackFor(conn: SmppConnection, pdu: DeliverSm | DataSm): Ack {
  const seq = pdu.sequenceNumber;
  const isDeliver = pdu.command === 'deliver_sm';
  let done = false;
  return (status) => {
    if (done || conn.isClosed) return;
    done = true;
    conn.write(isDeliver ? encodeDeliverSmResp(seq, status) : encodeDataSmResp(seq, status, ''));
  };
}

export class EsmeSession {
  readonly sm: SessionStateMachine;
  private conn: SmppConnection | undefined;
  private socket: Socket | undefined;
  private log: Logger;
  private failures = 0;
  private stopping = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private enquireOutstanding = false;
  private waiters: (() => void)[] = [];
  private closedWaiters: (() => void)[] = [];

  constructor(
    readonly index: number,
    private readonly cfg: UpstreamConfig,
    private readonly baseLog: Logger,
    private readonly hooks: SessionHooks,
  ) {
    this.log = baseLog.child({ upstream: cfg.id, session: index });
    this.sm = new SessionStateMachine((from, to) => {
      this.log.debug({ from, to }, 'upstream session state');
    });
  }

  get state(): SessionState {
    return this.sm.state;
  }

  get bound(): boolean {
    return this.sm.state === 'bound';
  }

  get inflight(): number {
    return this.conn?.inflight ?? 0;
  }

  /** Request slots free now; 0 unless bound and the socket is taking writes. */
  get free(): number {
    const c = this.conn;
    if (!this.bound || c === undefined || !c.writable) return 0;
    return Math.max(0, this.cfg.window - c.inflight);
  }

  /** The connection while bound (for sends), else undefined. */
  get connection(): SmppConnection | undefined {
    return this.bound ? this.conn : undefined;
  }

  start(): void {
    this.stopping = false;
    if (this.sm.state === 'closed' && this.reconnectTimer === undefined) this.open();
  }

  /** Resolves on the next change that may free capacity here (response, drain, bind, close). */
  waitForChange(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Graceful: unbind (SMPP 3.4 §4.2), wait for unbind_resp up to 2 s, close; no reconnect. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.clearReconnect();
    const conn = this.conn;
    if (this.sm.state === 'closed') return;
    if (conn === undefined) {
      this.socket?.destroy(); // still connecting: its close handler moves us to closed
      return;
    }
    if (this.sm.state === 'bound') {
      this.sm.to('unbinding');
      this.notify();
      const resp = conn.request({ command: 'unbind', commandStatus: 0, sequenceNumber: 0 }).catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([resp, new Promise<void>((r) => (timer = setTimeout(r, UNBIND_WAIT_MS)))]);
      clearTimeout(timer);
    }
    const closed = new Promise<void>((resolve) => this.closedWaiters.push(resolve));
    conn.end();
    const t = setTimeout(() => {
      conn.destroy('unbind done');
    }, UNBIND_WAIT_MS);
    await closed;
    clearTimeout(t);
  }

  /** Now: no goodbye, no reconnect. */
  destroy(): void {
    this.stopping = true;
    this.clearReconnect();
    this.conn?.destroy('destroyed');
    this.socket?.destroy();
  }

  /** Drops the connection (it comes back by reconnecting, unless stopping). */
  drop(reason: string): void {
    this.log.warn({ reason }, 'dropping upstream session');
    this.conn?.destroy(reason);
  }

  private open(): void {
    this.sm.to('connecting');
    const socket = connect({ host: this.cfg.host, port: this.cfg.port });
    this.socket = socket;
    const timeoutMs = this.cfg.responseTimeoutSeconds * 1000;
    socket.setTimeout(timeoutMs);
    let settled = false;
    const early = (err?: Error): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      this.log.warn({ err: err?.message ?? 'connect timeout or abort' }, 'upstream connect failed');
      this.onClosed(false);
    };
    const onTimeout = (): void => {
      early();
    };
    const onClose = (): void => {
      early();
    };
    socket.once('error', early);
    socket.once('timeout', onTimeout);
    socket.once('close', onClose);
    socket.once('connect', () => {
      if (settled) return;
      settled = true;
      socket.off('error', early);
      socket.off('timeout', onTimeout);
      socket.off('close', onClose);
      socket.setTimeout(0);
      this.onConnected(socket);
    });
  }

  private onConnected(socket: Socket): void {
    if (this.stopping) {
      socket.destroy();
      this.onClosed(false);
      return;
    }
    const conn = new SmppConnection(socket, {
      maxPduLength: MAX_PDU_LENGTH,
      window: this.cfg.window,
      responseTimeoutMs: this.cfg.responseTimeoutSeconds * 1000,
    });
    this.conn = conn;
    this.log = this.baseLog.child({ upstream: this.cfg.id, session: this.index, remote: conn.remote });
    conn.on('request', (pdu) => {
      this.onRequest(pdu);
    });
    conn.on('windowOpen', () => {
      this.onCapacityEvent();
    });
    conn.on('drain', () => {
      this.onCapacityEvent();
    });
    conn.on('framingError', (err) => {
      this.log.error({ err: err.message }, 'upstream framing lost');
    });
    conn.on('close', (reason) => {
      this.log.info({ reason }, 'upstream session closed');
      if (this.conn === conn) this.conn = undefined;
      this.onClosed(true);
    });
    this.sm.to('binding');
    conn
      .request({
        command: 'bind_transceiver',
        commandStatus: 0,
        sequenceNumber: 0,
        systemId: this.cfg.systemId,
        password: this.cfg.password,
        systemType: this.cfg.systemType,
        interfaceVersion: INTERFACE_VERSION,
        addrTon: 0,
        addrNpi: 0,
        addressRange: '',
      })
      .then(
        (resp) => {
          if (this.sm.state !== 'binding') return;
          if (resp.commandStatus !== Status.ESME_ROK) {
            const status = statusName(resp.commandStatus) ?? `0x${resp.commandStatus.toString(16)}`;
            this.log.error({ status, systemId: this.cfg.systemId }, 'upstream refused the bind');
            this.failures = -1; // retried at the max backoff
            conn.destroy(`bind refused: ${status}`);
            return;
          }
          this.sm.to('bound');
          this.failures = 0;
          this.log.info('upstream session bound');
          this.startKeepAlive(conn);
          this.hooks.onBound(this);
          this.notify();
        },
        (err: unknown) => {
          this.log.warn({ err: (err as Error).message }, 'upstream bind failed');
          conn.destroy('bind failed');
        },
      );
  }

  private onRequest(pdu: RequestPdu): void {
    const conn = this.conn;
    if (conn === undefined) return;
    switch (pdu.command) {
      case 'enquire_link':
        conn.send(responseFor(pdu, Status.ESME_ROK));
        return;
      case 'unbind':
        // SMPP 3.4 §4.2: the SMSC ends the session; answer, close, and come back by reconnecting.
        conn.send(responseFor(pdu, Status.ESME_ROK));
        if (this.sm.state === 'bound' || this.sm.state === 'binding') {
          if (this.sm.state === 'bound') this.sm.to('unbinding');
          this.notify();
        }
        conn.end();
        setTimeout(() => {
          conn.destroy('unbound by the SMSC');
        }, UNBIND_WAIT_MS).unref();
        return;
      case 'deliver_sm':
      case 'data_sm':
        if (this.sm.state !== 'bound') {
          conn.send(responseFor(pdu, Status.ESME_RINVBNDSTS));
          return;
        }
        this.hooks.onDeliver(this, pdu, ackFor(conn, pdu));
        return;
      case 'alert_notification':
        return; // SMPP 3.4 §4.12: no response
      case 'bind_transmitter':
      case 'bind_receiver':
      case 'bind_transceiver':
      case 'submit_sm':
      case 'submit_multi':
      case 'query_sm':
      case 'cancel_sm':
      case 'replace_sm':
      case 'outbind':
        // An SMSC sends none of these to an ESME (SMPP 3.4 §2.3).
        conn.send(responseFor(pdu, Status.ESME_RINVCMDID));
        return;
    }
  }

  private startKeepAlive(conn: SmppConnection): void {
    const idleMs = this.cfg.enquireLinkSeconds * 1000;
    const every = Math.max(50, Math.min(1000, Math.floor(idleMs / 2)));
    this.stopKeepAlive();
    this.enquireOutstanding = false;
    this.keepAliveTimer = setInterval(() => {
      if (this.sm.state !== 'bound' || this.enquireOutstanding || !conn.canRequest) return;
      if (Date.now() - conn.lastReceivedAt < idleMs) return;
      this.enquireOutstanding = true;
      conn.request({ command: 'enquire_link', commandStatus: 0, sequenceNumber: 0 }).then(
        () => {
          this.enquireOutstanding = false;
        },
        (err: unknown) => {
          this.enquireOutstanding = false;
          // No enquire_link_resp within the response timeout: the link is dead, start over.
          if (!conn.isClosed) {
            this.log.warn({ err: (err as Error).message }, 'enquire_link unanswered');
            conn.destroy('enquire_link timeout');
          }
        },
      );
    }, every);
    this.keepAliveTimer.unref();
  }

  private stopKeepAlive(): void {
    if (this.keepAliveTimer !== undefined) clearInterval(this.keepAliveTimer);
    this.keepAliveTimer = undefined;
  }

  private onCapacityEvent(): void {
    this.notify();
    this.hooks.onCapacity(this);
  }

  private notify(): void {
    const ws = this.waiters;
    if (ws.length === 0) return;
    this.waiters = [];
    for (const w of ws) w();
  }

  private onClosed(connected: boolean): void {
    this.stopKeepAlive();
    const wasBound = this.sm.state === 'bound' || this.sm.state === 'unbinding';
    if (this.sm.state !== 'closed') this.sm.to('closed');
    this.socket = undefined;
    this.notify();
    const cws = this.closedWaiters;
    this.closedWaiters = [];
    for (const w of cws) w();
    if (connected || wasBound) this.hooks.onDown(this, wasBound);
    if (!this.stopping) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer !== undefined) return;
    const { reconnectMinMs: min, reconnectMaxMs: max } = this.cfg;
    const delay = this.failures < 0 ? max : backoffDelay(this.failures, min, max);
    this.failures = this.failures < 0 ? -1 : this.failures + 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.stopping && this.sm.state === 'closed') this.open();
    }, delay);
  }

  private clearReconnect(): void {
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }
}
