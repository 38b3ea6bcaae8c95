/**
 * SmscSimulator: a real SMPP 3.4 server that behaves like a carrier SMSC, for sandbox mode,
 * tests and benches. It binds ESMEs (checking system_id / password), validates and accepts
 * submits with its own message ids, and sends delivery receipts after a delay with a
 * configurable mix of outcomes, re-sending those whose deliver_sm_resp does not come.
 *
 * Receipts wait in one due-time queue drained by one timer (DueQueue), not a timer each; a
 * receipt with no receiver bound, or no window free, is parked per system_id and goes out when
 * a receiver binds or a window slot frees up.
 */
import { createServer, type Server } from 'node:net';
import type { SimConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { chooseDataCoding, deliverSm, encodeReceiptDeliverSm, splitText, Status, statusName, type DataSm, type SubmitSm, type TextCoding } from '../smpp/index.js';
import { SmppConnection } from '../smpp-net/connection.js';
import { DueQueue, Fifo } from './due-queue.js';
import { errFor, MessageIds, networkFor, pickStat, receiptFields, receiptText, validateSubmit, wantsReceipt, type Outcomes, type PendingReceipt } from './sim-receipts.js';
import { SimSession, type SimHost } from './sim-session.js';

export interface SmscSimulatorDeps {
  readonly logger: Logger;
  /** Outstanding deliver_sm per session; default 1000. */
  readonly window?: number;
  /** How long a deliver_sm waits for its response before it is re-sent; default 10 s. */
  readonly responseTimeoutMs?: number;
  /** Sends of one receipt at most; default 5. */
  readonly maxReceiptAttempts?: number;
  readonly random?: () => number;
  /** Sees every submit the simulator accepted (tests check what reached the SMSC). */
  readonly onSubmit?: (pdu: SubmitSm | DataSm) => void;
}

export interface SimStats {
  binds: number;
  /** submit_sm / data_sm accepted. */
  submits: number;
  /** Refused by validation (ESME_RINVDSTADR and the like). */
  rejected: number;
  throttled: number;
  /** Left unanswered while holding submits (setHoldSubmits). */
  held: number;
  /** Distinct receipts sent at least once. */
  receiptsSent: number;
  receiptsAcked: number;
  receiptsResent: number;
  receiptsDropped: number;
  /** MOs sent by sendMo and acknowledged. */
  mo: number;
}

export interface SendMoOptions {
  from: string;
  to: string;
  text: string;
  dataCoding?: TextCoding;
}

export class SmscSimulator implements SimHost {
  private server: Server | undefined;
  private readonly sessions = new Map<number, SimSession>();
  private readonly receivers = new Map<string, SimSession[]>();
  private readonly parked = new Map<string, Fifo<PendingReceipt>>();
  private readonly queue: DueQueue<PendingReceipt>;
  private readonly ids = new MessageIds();
  private readonly log: Logger;
  private readonly window: number;
  private readonly responseTimeoutMs: number;
  private readonly maxAttempts: number;
  private readonly random: () => number;
  private readonly onSubmit: ((pdu: SubmitSm | DataSm) => void) | undefined;
  private outcomes: Outcomes;
  private receiptDelayMs: number;
  private throttleTps: number;
  private early = false;
  private holding = false;
  private throttleSecond = 0;
  private throttleCount = 0;
  private rr = 0;
  private moRef = 0;
  private closing: Promise<void> | undefined;
  private readonly counters: SimStats = {
    binds: 0,
    submits: 0,
    rejected: 0,
    throttled: 0,
    held: 0,
    receiptsSent: 0,
    receiptsAcked: 0,
    receiptsResent: 0,
    receiptsDropped: 0,
    mo: 0,
  };

  constructor(
    private readonly cfg: SimConfig,
    deps: SmscSimulatorDeps,
  ) {
    this.log = deps.logger.child({ component: 'smsc-sim' });
    this.window = deps.window ?? 1000;
    this.responseTimeoutMs = deps.responseTimeoutMs ?? 10_000;
    this.maxAttempts = deps.maxReceiptAttempts ?? 5;
    this.random = deps.random ?? Math.random;
    this.onSubmit = deps.onSubmit;
    this.outcomes = { ...cfg.outcomes };
    this.receiptDelayMs = cfg.receiptDelayMs;
    this.throttleTps = cfg.throttleTps;
    this.queue = new DueQueue((items) => {
      for (const r of items) this.route(r);
    });
  }

  listen(): Promise<{ port: number }> {
    if (this.server !== undefined) throw new Error('simulator already listening');
    const server = createServer((socket) => {
      if (this.closing !== undefined) {
        socket.destroy();
        return;
      }
      const conn = new SmppConnection(socket, { maxPduLength: 65_536, window: this.window, responseTimeoutMs: this.responseTimeoutMs });
      const session = new SimSession(conn, this, this.log);
      this.sessions.set(session.id, session);
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.cfg.port, this.cfg.host, () => {
        server.off('error', reject);
        const addr = server.address();
        const port = typeof addr === 'object' && addr !== null ? addr.port : this.cfg.port;
        this.log.info({ host: this.cfg.host, port }, 'SMSC simulator listening');
        resolve({ port });
      });
    });
  }

  /** Unbinds every session politely (SMPP 3.4 §4.2), then stops listening. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const server = this.server;
      const closed = new Promise<void>((resolve) => {
        if (server === undefined) resolve();
        else
          server.close(() => {
            resolve();
          });
      });
      this.queue.stop();
      await Promise.all([...this.sessions.values()].map((s) => s.unbind()));
      await closed;
      this.log.info('SMSC simulator closed');
    })();
    return this.closing;
  }

  /** Now: every socket destroyed, no goodbye, pending receipts dropped. */
  destroy(): void {
    this.closing ??= Promise.resolve();
    this.queue.stop();
    this.parked.clear();
    this.server?.close();
    for (const s of this.sessions.values()) s.conn.destroy('simulator destroyed');
  }

  // Test and bench controls.

  setOutcomes(outcomes: Partial<Outcomes>): void {
    this.outcomes = { ...this.outcomes, ...outcomes };
  }
  setReceiptDelayMs(ms: number): void {
    this.receiptDelayMs = Math.max(0, ms);
  }
  setThrottleTps(tps: number): void {
    this.throttleTps = Math.max(0, tps);
  }
  /**
   * When on, submit_sm and data_sm get no response at all (binds and enquire_link are still
   * answered): an SMSC that stopped answering, whose ESMEs' windows fill. The admission benches
   * run with it, so that what they measure is admission, with nothing sent meanwhile.
   */
  setHoldSubmits(on: boolean): void {
    this.holding = on;
  }
  /** When on, a receipt goes out before its submit_sm_resp (on the same transceiver). */
  earlyReceipts(on: boolean): void {
    this.early = on;
  }
  /** Destroys every socket at once: "the upstream dropped the connection". */
  dropConnections(): void {
    for (const s of this.sessions.values()) s.conn.destroy('dropped by the simulator');
  }
  stats(): SimStats {
    return { ...this.counters };
  }
  /** Receipts scheduled or parked, not yet acknowledged or dropped. */
  get pendingReceipts(): number {
    let n = this.queue.size;
    for (const f of this.parked.values()) n += f.size;
    return n;
  }
  get boundSessions(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.state === 'bound') n++;
    return n;
  }

  /** Sends an MO (split with UDH when long) to a bound receiver; resolves when every part is acknowledged. */
  async sendMo(opts: SendMoOptions): Promise<void> {
    const targets = [...this.sessions.values()].filter((s) => s.canReceive);
    const session = targets[this.rr++ % Math.max(1, targets.length)];
    if (session === undefined) throw new Error('no receiver or transceiver bound');
    const dataCoding = opts.dataCoding ?? chooseDataCoding(opts.text);
    this.moRef = (this.moRef + 1) & 0xff;
    const split = splitText(opts.text, { dataCoding, ref: this.moRef });
    const answers: Promise<number>[] = [];
    for (const part of split.parts) {
      while (!session.conn.canRequest) {
        if (session.conn.isClosed) throw new Error('receiver went away');
        await new Promise<void>((resolve) => {
          const done = (): void => {
            session.conn.off('windowOpen', done);
            session.conn.off('close', done);
            resolve();
          };
          session.conn.on('windowOpen', done);
          session.conn.on('close', done);
        });
      }
      const pdu = deliverSm({
        sourceAddrTon: 1,
        sourceAddrNpi: 1,
        sourceAddr: opts.from,
        destAddrTon: 1,
        destAddrNpi: 1,
        destinationAddr: opts.to,
        esmClass: split.esmClassUdhi ? 0x40 : 0,
        dataCoding,
        shortMessage: part,
      });
      answers.push(session.conn.request(pdu).then((r) => r.commandStatus));
    }
    const statuses = await Promise.all(answers);
    const bad = statuses.find((s) => s !== Status.ESME_ROK);
    if (bad !== undefined) throw new Error(`MO refused: ${statusName(bad) ?? bad}`);
    this.counters.mo++;
  }

  // SimHost: called by the sessions.

  authenticate(systemId: string, password: string): number {
    if (systemId !== this.cfg.systemId) return Status.ESME_RINVSYSID;
    if (password !== this.cfg.password) return Status.ESME_RINVPASWD;
    return Status.ESME_ROK;
  }

  onBound(session: SimSession): void {
    this.counters.binds++;
    if (!session.canReceive) return;
    const list = this.receivers.get(session.systemId) ?? [];
    list.push(session);
    this.receivers.set(session.systemId, list);
    this.drainParked(session);
  }

  onClosed(session: SimSession): void {
    this.sessions.delete(session.id);
    const list = this.receivers.get(session.systemId);
    if (list === undefined) return;
    const i = list.indexOf(session);
    if (i >= 0) list.splice(i, 1);
  }

  onWindowOpen(session: SimSession): void {
    this.drainParked(session);
  }

  submit(session: SimSession, pdu: SubmitSm | DataSm): { status: number; messageId: string } | undefined {
    if (this.holding) {
      this.counters.held++;
      return undefined;
    }
    if (this.throttleTps > 0) {
      const second = Math.floor(Date.now() / 1000);
      if (second !== this.throttleSecond) {
        this.throttleSecond = second;
        this.throttleCount = 0;
      }
      if (++this.throttleCount > this.throttleTps) {
        this.counters.throttled++;
        return { status: Status.ESME_RTHROTTLED, messageId: '' };
      }
    }
    const status = validateSubmit(pdu);
    if (status !== Status.ESME_ROK) {
      this.counters.rejected++;
      return { status, messageId: '' };
    }
    this.counters.submits++;
    this.onSubmit?.(pdu);
    const messageId = this.ids.next();
    const stat = pickStat(pdu.destinationAddr, this.outcomes, this.random);
    if (wantsReceipt(pdu.registeredDelivery, stat)) {
      const now = Date.now();
      const mccMnc = networkFor(this.cfg.networks, pdu.destinationAddr);
      const r: PendingReceipt = {
        dueAt: now + this.receiptDelayMs,
        messageId,
        systemId: session.systemId,
        sessionId: session.id,
        from: { addr: pdu.destinationAddr, ton: pdu.destAddrTon, npi: pdu.destAddrNpi },
        to: { addr: pdu.sourceAddr, ton: pdu.sourceAddrTon, npi: pdu.sourceAddrNpi },
        stat,
        err: errFor(stat),
        submitAt: now,
        text: receiptText(pdu),
        ...(mccMnc !== undefined ? { network: { tag: this.cfg.networkIdTlv, mccMnc } } : {}),
        attempts: 0,
      };
      // Early: written now, so it leaves ahead of the submit_sm_resp written after we return.
      if (this.early) this.route(r);
      else this.queue.push(r);
    }
    return { status: Status.ESME_ROK, messageId };
  }

  // Receipts.

  private route(r: PendingReceipt): void {
    const target = this.targetFor(r);
    if (target === undefined) {
      this.park(r);
      return;
    }
    this.sendReceipt(target, r);
  }

  /** The submitting session if it can take it now, else any receiver of the same system_id with room. */
  private targetFor(r: PendingReceipt): SimSession | undefined {
    const own = this.sessions.get(r.sessionId);
    if (own?.canReceive === true && own.conn.canRequest) return own;
    const list = this.receivers.get(r.systemId);
    if (list === undefined || list.length === 0) return undefined;
    for (let k = 0; k < list.length; k++) {
      const s = list[(this.rr + k) % list.length] as SimSession;
      if (s.canReceive && s.conn.canRequest) {
        this.rr++;
        return s;
      }
    }
    return undefined;
  }

  private park(r: PendingReceipt): void {
    let f = this.parked.get(r.systemId);
    if (f === undefined) {
      f = new Fifo();
      this.parked.set(r.systemId, f);
    }
    f.push(r);
  }

  private drainParked(session: SimSession): void {
    const f = this.parked.get(session.systemId);
    if (f === undefined) return;
    while (f.size > 0 && session.canReceive && session.conn.canRequest) this.sendReceipt(session, f.shift() as PendingReceipt);
  }

  private sendReceipt(session: SimSession, r: PendingReceipt): void {
    if (r.attempts === 0) this.counters.receiptsSent++;
    else this.counters.receiptsResent++;
    r.attempts++;
    // Encoded here, so a receipt that cannot be is dropped, not retried; its sequence number is
    // written into the frame when it is sent.
    let frame: Buffer;
    try {
      frame = encodeReceiptDeliverSm(0, receiptFields(r, Date.now()));
    } catch (err) {
      this.counters.receiptsDropped++;
      this.log.warn({ err: (err as Error).message, messageId: r.messageId }, 'receipt not encodable; dropped');
      return;
    }
    session.conn.requestFrame('deliver_sm', (seq) => {
      frame.writeUInt32BE(seq, 12);
      return frame;
    }).then(
      (resp) => {
        if (resp.commandStatus === Status.ESME_ROK) this.counters.receiptsAcked++;
        else this.retryLater(r, false);
      },
      (err: unknown) => {
        const closed = typeof err === 'object' && err !== null && 'code' in err && (err).code === 'NETWORK_ERROR';
        this.retryLater(r, closed);
      },
    );
  }

  /** Re-sends later, with backoff; a closed session is not the receipt's fault and costs no attempt. */
  private retryLater(r: PendingReceipt, closed: boolean): void {
    if (this.closing !== undefined) return;
    if (closed) {
      r.attempts--;
      r.dueAt = Date.now();
    } else if (r.attempts >= this.maxAttempts) {
      this.counters.receiptsDropped++;
      this.log.warn({ messageId: r.messageId, attempts: r.attempts }, 'receipt never acknowledged; dropped');
      return;
    } else {
      r.dueAt = Date.now() + Math.min(10_000, 250 * 2 ** (r.attempts - 1));
    }
    this.queue.push(r);
  }
}
