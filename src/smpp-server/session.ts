/**
 * One ESME's session on our SMSC. States (SMPP 3.4 §2.3): open → bound_tx | bound_rx | bound_trx
 * → unbinding → closed; a command the state does not allow is answered ESME_RINVBNDSTS.
 *
 * Inbound requests are windowed: at most `window` may wait for our answer; one more is refused
 * with ESME_RTHROTTLED at once, never queued. When the ESME does not read our responses (the
 * socket's buffer is full) we stop reading its requests until it drains.
 *
 * A receiver or transceiver session is a DeliverySink: receipts and mobile-originated messages
 * owed to its account come to it through the DeliveryHub, windowed by `deliverWindow`.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { AccountConfig, SmppServerConfig } from '../core/config.js';
import { newMessageId } from '../core/ids.js';
import type { Metrics } from '../core/metrics.js';
import type { Admission, AdmissionResult } from '../router/admission.js';
import type { Delivery, DeliveryHub, DeliverySink } from '../router/delivery-hub.js';
import {
  Status,
  Tag,
  encodeReceiptDeliverSm,
  encodeSubmitSmResp,
  formatSmppAbsolute,
  responseFor,
  tlvU8,
  type BindPdu,
  type CancelSm,
  type DataSm,
  type QuerySm,
  type ReplaceSm,
  type RequestPdu,
  type SubmitMulti,
  type SubmitSm,
  parseSmppTime,
  decodeText,
} from '../smpp/index.js';
import { SmppConnection } from '../smpp-net/connection.js';
import type { MessageStore } from '../store/redis/message-store.js';
import type { SmppAuth } from './auth.js';
import { moPdus, receiptDeliverSm } from './outbound-pdus.js';
import { messageFrom, messageStateOf, parseSchedule, parseSubmission, statusForRefusal, type Submission } from './translate.js';
import { IdleWaiters } from '../core/idle.js';
import { rejected } from '../core/errors.js';
import type { Message } from '../core/message.js';

export type SessionState = 'open' | 'bound_tx' | 'bound_rx' | 'bound_trx' | 'unbinding' | 'closed';
export type BindType = 'transmitter' | 'receiver' | 'transceiver';

export interface SessionDeps {
  readonly cfg: SmppServerConfig;
  readonly auth: SmppAuth;
  readonly admission: Admission;
  readonly store: MessageStore;
  readonly deliveries: DeliveryHub;
  readonly log: Logger;
  readonly metrics?: Metrics;
  /** Asks the server whether this account may open one more session. */
  readonly claimSlot: (account: AccountConfig) => boolean;
  readonly releaseSlot: (account: AccountConfig) => void;
}

const SERVER_SYSTEM_ID = 'Catalyst';
const ASSEMBLY_TTL_SECONDS = 3600;

type WindowGauge = { inc: () => void; dec: () => void };

/** What a submit is answered with. */
type Admitted = { readonly ok: true; readonly id: string } | { readonly ok: false; readonly status: number };

function admittedOf(r: AdmissionResult): Admitted {
  return r.ok ? { ok: true, id: r.id } : { ok: false, status: statusForRefusal(r.reason) };
}

export class SmppSession implements DeliverySink {
  readonly conn: SmppConnection;
  private state: SessionState = 'open';
  private account: AccountConfig | undefined;
  private systemId = '';
  private bindType: BindType | undefined;
  private pendingIn = 0;
  private log: Logger;
  private readonly openedAt = Date.now();
  private readonly timer: NodeJS.Timeout;
  private enquiring = false;
  private mref = Math.floor(Math.random() * 256);
  private closing: Promise<void> | undefined;
  private readonly idle = new IdleWaiters();
  /** smpp_window_inflight of this session's system_id, resolved once (it changes only at bind). */
  private windowGauge: WindowGauge | undefined;

  constructor(
    socket: Socket,
    private readonly deps: SessionDeps,
  ) {
    this.conn = new SmppConnection(socket, { maxPduLength: deps.cfg.maxPduLength, window: deps.cfg.deliverWindow, responseTimeoutMs: deps.cfg.responseTimeoutSeconds * 1000 });
    this.log = deps.log.child({ remote: this.conn.remote });
    this.conn.on('request', (pdu) => {
      this.onRequest(pdu);
    });
    this.conn.on('decodeError', (err) => {
      this.deps.metrics?.smppErrors.inc({ status: String(err.status) });
      this.log.warn({ code: err.code, field: err.field, status: err.status }, 'malformed PDU answered with an error');
    });
    this.conn.on('framingError', (err) => {
      this.log.warn({ commandLength: err.commandLength }, 'framing lost; session closed');
    });
    this.conn.on('drain', () => {
      this.conn.resume();
    });
    this.conn.on('close', (reason) => {
      this.onClosed(reason);
    });
    this.timer = setInterval(() => {
      this.tick(Date.now());
    }, 1000);
    this.timer.unref();
  }

  get accountId(): string {
    return this.account?.id ?? '';
  }
  get currentState(): SessionState {
    return this.state;
  }

  // DeliverySink

  available(): number {
    if (this.state !== 'bound_rx' && this.state !== 'bound_trx') return 0;
    return Math.max(0, this.deps.cfg.deliverWindow - this.conn.inflight);
  }

  async deliver(d: Delivery): Promise<boolean> {
    // A receipt is one deliver_sm, written by its own encoder: a PDU object, TLV objects and a
    // Promise.all for each receipt were ~15% of the bytes the appliance allocated end to end.
    let sent: Promise<boolean>;
    if (d.kind === 'receipt') {
      const receipt = receiptDeliverSm(d);
      sent = this.conn.requestFrame('deliver_sm', (seq) => encodeReceiptDeliverSm(seq, receipt)).then((r) => r.commandStatus === Status.ESME_ROK);
    } else {
      this.mref = (this.mref + 1) & 0xff;
      sent = Promise.all(moPdus(d, this.mref).map((p) => this.conn.request(p))).then((rs) => rs.every((r) => r.commandStatus === Status.ESME_ROK));
    }
    try {
      const ok = await sent;
      this.deps.metrics?.smppDelivered.inc({ kind: d.kind, result: ok ? 'acked' : 'refused' });
      return ok;
    } catch (err) {
      this.deps.metrics?.smppDelivered.inc({ kind: d.kind, result: 'failed' });
      this.log.debug({ err }, 'deliver_sm not acknowledged; it will be re-sent');
      return false;
    }
  }

  // Requests

  private onRequest(pdu: RequestPdu): void {
    this.deps.metrics?.smppPdusIn.inc({ command: pdu.command });
    if (this.state === 'closed') return;
    switch (pdu.command) {
      case 'bind_transmitter':
      case 'bind_receiver':
      case 'bind_transceiver':
        this.onBind(pdu);
        return;
      case 'enquire_link':
        this.conn.send(responseFor(pdu, Status.ESME_ROK));
        return;
      case 'unbind':
        this.onUnbind(pdu);
        return;
      case 'submit_sm':
      case 'data_sm':
        if (this.refuse(pdu)) return;
        this.onSubmit(pdu);
        return;
      case 'submit_multi':
        if (this.refuse(pdu)) return;
        this.track(this.onSubmitMulti(pdu), pdu.command, () => {
          this.answer(pdu, Status.ESME_RSYSERR);
        });
        return;
      case 'query_sm':
        if (this.refuse(pdu)) return;
        this.track(this.onQuery(pdu), pdu.command, () => {
          this.answer(pdu, Status.ESME_RSYSERR);
        });
        return;
      case 'cancel_sm':
        if (this.refuse(pdu)) return;
        this.track(this.onCancel(pdu), pdu.command, () => {
          this.answer(pdu, Status.ESME_RSYSERR);
        });
        return;
      case 'replace_sm':
        if (this.refuse(pdu)) return;
        this.track(this.onReplace(pdu), pdu.command, () => {
          this.answer(pdu, Status.ESME_RSYSERR);
        });
        return;
      case 'deliver_sm':
        // An SMSC-to-ESME command: an ESME may not send it (SMPP 3.4 §4.6).
        this.conn.send(responseFor(pdu, Status.ESME_RINVBNDSTS));
        return;
      case 'outbind':
        this.conn.send(responseFor(pdu, Status.ESME_RINVCMDID));
        return;
      case 'alert_notification':
        return; // has no response (SMPP 3.4 §4.12)
      default: {
        const never: never = pdu;
        return never;
      }
    }
  }

  /**
   * Bind state and window checks shared by every ESME-to-SMSC command (SMPP 3.4 §2.3: they need a
   * transmitter or transceiver bind); true when the request was answered here.
   */
  private refuse(pdu: SubmitSm | DataSm | SubmitMulti | QuerySm | CancelSm | ReplaceSm): boolean {
    if (this.state !== 'bound_tx' && this.state !== 'bound_trx') {
      this.answer(pdu, Status.ESME_RINVBNDSTS);
      return true;
    }
    if (this.pendingIn >= this.deps.cfg.window) {
      this.answer(pdu, Status.ESME_RTHROTTLED);
      return true;
    }
    return false;
  }

  private answer(pdu: RequestPdu, status: number, body?: Record<string, unknown>): void {
    if (pdu.command === 'submit_sm' && status !== Status.ESME_ROK) {
      this.answerSubmitSm(pdu.sequenceNumber, status);
      return;
    }
    if (status !== Status.ESME_ROK) this.deps.metrics?.smppErrors.inc({ status: String(status) });
    this.conn.send(responseFor(pdu, status, body as never));
    if (!this.conn.writable) this.conn.pause();
  }

  /** A submit_sm refused (no message_id: SMPP 3.4 §4.4.2 leaves it empty on error). */
  private answerSubmitSm(sequenceNumber: number, status: number): void {
    this.deps.metrics?.smppErrors.inc({ status: String(status) });
    this.conn.write(encodeSubmitSmResp(sequenceNumber, status, ''));
    if (!this.conn.writable) this.conn.pause();
  }

  /** A request in the window until `work` settles; `failed` answers it when `work` throws. */
  private track(work: Promise<void>, command: RequestPdu['command'], failed: () => void): void {
    const gauge = this.enterWindow();
    work
      .catch((err: unknown) => {
        this.log.error({ err, command }, 'request failed');
        failed();
      })
      .finally(() => {
        this.leaveWindow(gauge);
      });
  }

  /** A request is in the window (answered by leaveWindow with the gauge this returns). */
  private enterWindow(): WindowGauge | undefined {
    this.pendingIn++;
    const gauge = this.windowGauge;
    gauge?.inc();
    return gauge;
  }

  private leaveWindow(gauge: WindowGauge | undefined): void {
    this.pendingIn--;
    gauge?.dec();
    if (this.pendingIn === 0) this.idle.release();
  }

  private onBind(pdu: BindPdu): void {
    if (this.state !== 'open') {
      this.deps.metrics?.smppBinds.inc({ result: 'already_bound' });
      this.conn.send(responseFor(pdu, Status.ESME_RALYBND, { systemId: SERVER_SYSTEM_ID }));
      return;
    }
    const check = this.deps.auth.check(pdu.systemId, pdu.password);
    if (!check.ok) {
      this.deps.metrics?.smppBinds.inc({ result: 'refused' });
      this.log.warn({ systemId: pdu.systemId, status: check.status }, 'bind refused');
      this.conn.send(responseFor(pdu, check.status));
      return;
    }
    if (!this.deps.claimSlot(check.account)) {
      this.deps.metrics?.smppBinds.inc({ result: 'too_many_sessions' });
      this.log.warn({ systemId: pdu.systemId }, 'bind refused: account has its most sessions');
      this.conn.send(responseFor(pdu, Status.ESME_RBINDFAIL));
      return;
    }
    this.account = check.account;
    this.systemId = pdu.systemId;
    this.windowGauge = this.deps.metrics?.smppWindow.labels({ system_id: this.systemId });
    this.bindType = pdu.command === 'bind_transmitter' ? 'transmitter' : pdu.command === 'bind_receiver' ? 'receiver' : 'transceiver';
    this.state = this.bindType === 'transmitter' ? 'bound_tx' : this.bindType === 'receiver' ? 'bound_rx' : 'bound_trx';
    this.log = this.log.child({ systemId: this.systemId, account: this.account.id, bindType: this.bindType });
    // SMPP 3.4 §5.3.2.25: we speak 3.4, and say so to 3.4 and 5.0 ESMEs alike.
    const tlvs = pdu.interfaceVersion >= 0x34 ? [tlvU8(Tag.sc_interface_version, 0x34)] : [];
    this.conn.send(responseFor(pdu, Status.ESME_ROK, { systemId: SERVER_SYSTEM_ID, tlvs }));
    this.deps.metrics?.smppBinds.inc({ result: 'ok' });
    this.deps.metrics?.smppSessions.inc({ system_id: this.systemId, bind_type: this.bindType });
    this.log.info({ interfaceVersion: pdu.interfaceVersion }, 'bound');
    if (this.bindType !== 'transmitter') this.deps.deliveries.attach(this);
  }

  private onUnbind(pdu: RequestPdu): void {
    if (this.state === 'open') {
      this.conn.send(responseFor(pdu, Status.ESME_RINVBNDSTS));
      return;
    }
    this.leaveBound();
    this.conn.send(responseFor(pdu, Status.ESME_ROK));
    // Answer what is still in flight, then let the socket go.
    void this.whenIdle(5000).then(() => {
      this.conn.end();
    });
  }

  /**
   * Not async, and neither is the admission of a whole message (admit): V8 keeps a suspended async
   * function's locals and parameters, so each submit in flight kept its PDU, submission and
   * message alive until its answer, and under load (a window of thousands in flight for ~100 ms)
   * every scavenge copied them. What waits for the answer (submitWhole's callback,
   * answerSubmitSmWhen, answerDataSmWhen) holds only what the answer needs.
   */
  private onSubmit(pdu: SubmitSm | DataSm): void {
    const started = performance.now();
    const now = Date.now();
    const parsed = parseSubmission(pdu, now, this.deps.admission.retentionMs);
    if (!parsed.ok) {
      this.log.debug({ reason: parsed.reason }, 'submit refused');
      this.answer(pdu, parsed.status);
      return;
    }
    const s = parsed.value;
    if (pdu.command === 'submit_sm' && s.concat === undefined) {
      this.submitWhole(s, pdu.sequenceNumber, now, started);
      return;
    }
    const admitted = this.admit(s, now);
    if (pdu.command === 'submit_sm') this.answerSubmitSmWhen(admitted, pdu.sequenceNumber, started);
    else this.answerDataSmWhen(admitted, pdu, started);
  }

  /**
   * The hot path, a submit_sm that is a whole message: admitted with a callback (Admission.submitThen),
   * not a chain of promises, and answered straight from the id without a response PDU object.
   */
  private submitWhole(s: Submission, seq: number, now: number, started: number): void {
    const gauge = this.enterWindow();
    let answered = false;
    const answer = (r: AdmissionResult): void => {
      answered = true;
      try {
        if (r.ok) this.answerSubmitSmWith(seq, r.id, Status.ESME_ROK, started);
        else this.answerSubmitSmWith(seq, '', statusForRefusal(r.reason), started);
      } finally {
        this.leaveWindow(gauge);
      }
    };
    try {
      const message = this.messageOf(s, s.payload, s.registeredDelivery, newMessageId(now), now);
      this.deps.admission.submitThen({ message, registeredDelivery: s.registeredDelivery }, answer);
    } catch (err) {
      this.log.error({ err, command: 'submit_sm' }, 'request failed');
      if (answered) return;
      this.answerSubmitSm(seq, Status.ESME_RSYSERR);
      this.leaveWindow(gauge);
    }
  }

  /** A part of a long submit_sm, answered once Redis has it. */
  private answerSubmitSmWhen(admitted: Promise<Admitted>, seq: number, started: number): void {
    const work = admitted.then((a) => {
      if (a.ok) this.answerSubmitSmWith(seq, a.id, Status.ESME_ROK, started);
      else this.answerSubmitSmWith(seq, '', a.status, started);
    });
    this.track(work, 'submit_sm', () => {
      this.answerSubmitSm(seq, Status.ESME_RSYSERR);
    });
  }

  /**
   * A submit_sm's answer, encoded straight from the id without a response PDU object (id '' when
   * refused). Takes the parts, not an Admitted, so the callback path makes no object a submit.
   */
  private answerSubmitSmWith(seq: number, id: string, status: number, started: number): void {
    if (status === Status.ESME_ROK) {
      this.conn.write(encodeSubmitSmResp(seq, Status.ESME_ROK, id));
      if (!this.conn.writable) this.conn.pause();
    } else this.answerSubmitSm(seq, status);
    this.deps.metrics?.smppSubmitSeconds.observe((performance.now() - started) / 1000);
  }

  private answerDataSmWhen(admitted: Promise<Admitted>, pdu: DataSm, started: number): void {
    const work = admitted.then((a) => {
      if (a.ok) this.answer(pdu, Status.ESME_ROK, { messageId: a.id });
      else this.answer(pdu, a.status);
      this.deps.metrics?.smppSubmitSeconds.observe((performance.now() - started) / 1000);
    });
    this.track(work, 'data_sm', () => {
      this.answer(pdu, Status.ESME_RSYSERR);
    });
  }

  /** One short message (or the last part of a long one) into the router. */
  private admit(s: Submission, now: number): Promise<Admitted> {
    try {
      if (s.concat) return this.admitPart(s, s.concat, now);
      return this.admitWhole(s, s.payload, s.registeredDelivery, newMessageId(now), now);
    } catch (err) {
      // Answered as a failed request (track), as when this was async.
      return rejected(err);
    }
  }

  /** A part of a long message: stored until every part is in, then the whole message admitted. */
  private async admitPart(s: Submission, concat: NonNullable<Submission['concat']>, now: number): Promise<Admitted> {
    const account = this.account as AccountConfig;
    const key = this.deps.store.keys.assembly(account.id, s.source.addr, s.destination.addr, concat.ref);
    const asm = await this.deps.store.assemble(key, { seq: concat.seq, total: concat.total, payload: s.payload, candidateId: newMessageId(now), registeredDelivery: s.registeredDelivery, ttlSeconds: ASSEMBLY_TTL_SECONDS }, now);
    // An earlier part is stored in Redis and answered with the id the whole message will have.
    if (!asm.complete) return { ok: true, id: asm.id };
    return this.admitWhole(s, asm.complete.payload, asm.complete.registeredDelivery, asm.id, now);
  }

  private admitWhole(s: Submission, payload: Buffer, rd: Submission['registeredDelivery'], id: string, now: number): Promise<Admitted> {
    return this.deps.admission.submit({ message: this.messageOf(s, payload, rd, id, now), registeredDelivery: rd }).then(admittedOf);
  }

  /** The Message of a whole submission from this session's account. */
  private messageOf(s: Submission, payload: Buffer, rd: Submission['registeredDelivery'], id: string, now: number): Message {
    return messageFrom(s, payload, { id, accountId: (this.account as AccountConfig).id, systemId: this.systemId, now }, rd);
  }

  private async onSubmitMulti(pdu: SubmitMulti): Promise<void> {
    const now = Date.now();
    const base = newMessageId(now);
    const unsuccess: { ton: number; npi: number; addr: string; status: number }[] = [];
    const work: Promise<void>[] = [];
    let accepted = 0;
    let firstStatus: number = Status.ESME_RSUBMITFAIL;
    pdu.destinations.forEach((d, i) => {
      if (d.kind === 'dl') {
        // No distribution lists are defined on this SMSC.
        unsuccess.push({ ton: 0, npi: 0, addr: d.name.slice(0, 20), status: Status.ESME_RINVDLNAME });
        return;
      }
      const one = { ...pdu, destAddrTon: d.ton, destAddrNpi: d.npi, destinationAddr: d.addr };
      const parsed = parseSubmission(one, now, this.deps.admission.retentionMs);
      if (!parsed.ok || parsed.value.concat) {
        const status = parsed.ok ? Status.ESME_RINVESMCLASS : parsed.status;
        unsuccess.push({ ton: d.ton, npi: d.npi, addr: d.addr, status });
        return;
      }
      const s = parsed.value;
      // Every destination is its own message, with the id "<base>-<n>" its receipt will carry.
      const message = messageFrom(s, s.payload, { id: `${base}-${i + 1}`, accountId: this.accountId, systemId: this.systemId, now });
      work.push(
        this.deps.admission.submit({ message, registeredDelivery: s.registeredDelivery }).then((r) => {
          if (r.ok) accepted++;
          else {
            const status = statusForRefusal(r.reason);
            if (accepted === 0) firstStatus = status;
            unsuccess.push({ ton: d.ton, npi: d.npi, addr: d.addr, status });
          }
        }),
      );
    });
    await Promise.all(work);
    if (accepted === 0) this.answer(pdu, unsuccess[0]?.status ?? firstStatus);
    else this.answer(pdu, Status.ESME_ROK, { messageId: base, unsuccess });
  }

  private async onQuery(pdu: QuerySm): Promise<void> {
    const s = await this.deps.store.get(pdu.messageId);
    if (!s || s.accountId !== this.accountId) {
      this.answer(pdu, Status.ESME_RQUERYFAIL);
      return;
    }
    const errorCode = /^[0-9]{3}$/.test(s.dlrErr ?? '') ? Number(s.dlrErr) & 0xff : 0;
    this.answer(pdu, Status.ESME_ROK, {
      messageId: pdu.messageId,
      finalDate: s.doneAt !== undefined ? formatSmppAbsolute(s.doneAt) : '',
      messageState: messageStateOf(s.status),
      errorCode,
    });
  }

  private async onCancel(pdu: CancelSm): Promise<void> {
    // Cancelling by service_type/source/destination alone (no message_id) is not offered.
    if (pdu.messageId === '') {
      this.answer(pdu, Status.ESME_RCANCELFAIL);
      return;
    }
    const r = await this.deps.store.cancel(this.accountId, pdu.messageId);
    this.answer(pdu, r === 'cancelled' ? Status.ESME_ROK : r === 'unknown' ? Status.ESME_RINVMSGID : Status.ESME_RCANCELFAIL);
  }

  private async onReplace(pdu: ReplaceSm): Promise<void> {
    const now = Date.now();
    const s = await this.deps.store.get(pdu.messageId);
    if (!s?.message || s.accountId !== this.accountId) {
      this.answer(pdu, Status.ESME_RINVMSGID);
      return;
    }
    const old = s.message;
    // The message's retention runs from when it was accepted, not from this replace_sm.
    const parsedSched = parseSchedule(pdu.scheduleDeliveryTime, now, old.createdAt + this.deps.admission.retentionMs);
    if (!parsedSched.ok) { this.answer(pdu, parsedSched.status); return; }
    const sched = parsedSched.value;
    const validity = parseSmppTime(pdu.validityPeriod, now);
    if (validity === 'invalid' || (validity !== null && validity <= now)) { this.answer(pdu, Status.ESME_RINVEXPIRY); return; }
    // SMPP 3.4 §4.10.1: the new short_message keeps the original's data_coding.
    const body =
      old.body.kind === 'text'
        ? { kind: 'text' as const, text: decodeText(pdu.shortMessage, old.body.dataCoding ?? 0), ...(old.body.dataCoding !== undefined ? { dataCoding: old.body.dataCoding } : {}) }
        : { kind: 'binary' as const, base64: pdu.shortMessage.toString('base64'), dataCoding: old.body.dataCoding };
    const message = { ...old, body, ...(sched !== undefined ? { scheduleAt: sched } : {}), ...(validity !== null ? { expireAt: validity } : {}) };
    // The validity end admission would give the message as it now reads (a later one is brought
    // forward to retention); a send time at or after it would only expire unsent.
    const expireAt = this.deps.admission.expireAtOf(message);
    if (message.scheduleAt !== undefined && message.scheduleAt >= expireAt) {
      this.answer(pdu, sched !== undefined ? Status.ESME_RINVSCHED : Status.ESME_RINVEXPIRY);
      return;
    }
    const change: { scheduleAt?: number; expireAt?: number; registeredDelivery?: 0 | 1 | 2 } = {};
    if (sched !== undefined) change.scheduleAt = sched;
    if (sched !== undefined || validity !== null) change.expireAt = expireAt;
    if (pdu.registeredDelivery !== 0) change.registeredDelivery = pdu.registeredDelivery === 2 ? 2 : 1;
    const r = await this.deps.store.replace(this.accountId, message, change, now);
    this.answer(pdu, r === 'replaced' ? Status.ESME_ROK : r === 'unknown' ? Status.ESME_RINVMSGID : Status.ESME_RREPLACEFAIL);
  }

  // Lifecycle

  private tick(now: number): void {
    if (this.state === 'open' && now - this.openedAt > this.deps.cfg.bindTimeoutSeconds * 1000) {
      this.log.info('no bind in time; closing');
      this.conn.destroy('bind timeout');
      return;
    }
    if (this.state === 'closed' || this.state === 'open' || this.enquiring) return;
    if (now - this.conn.lastReceivedAt > this.deps.cfg.inactivitySeconds * 1000 && this.conn.canRequest) {
      this.enquiring = true;
      this.conn.request({ command: 'enquire_link', commandStatus: 0, sequenceNumber: 0 }).then(
        () => {
          this.enquiring = false;
        },
        () => {
          this.log.info('no answer to enquire_link; closing');
          this.conn.destroy('enquire_link timeout');
        },
      );
    }
  }

  private whenIdle(maxMs: number): Promise<void> {
    return this.idle.wait(this.pendingIn === 0, maxMs);
  }

  private leaveBound(): void {
    if (this.state === 'bound_tx' || this.state === 'bound_rx' || this.state === 'bound_trx') {
      this.deps.deliveries.detach(this);
      this.deps.metrics?.smppSessions.dec({ system_id: this.systemId, bind_type: this.bindType ?? '' });
      if (this.account) this.deps.releaseSlot(this.account);
      this.state = 'unbinding';
    }
  }

  /** Graceful end (SMPP 3.4 §4.2): answer what is in flight, unbind, wait for unbind_resp, close. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.state === 'closed') return;
      const wasBound = this.state !== 'open' && this.state !== 'unbinding';
      this.conn.pause();
      await this.whenIdle(5000);
      this.leaveBound();
      if (wasBound && !this.conn.isClosed) {
        try {
          await Promise.race([this.conn.request({ command: 'unbind', commandStatus: 0, sequenceNumber: 0 }), new Promise((r) => setTimeout(r, 2000))]);
        } catch {
          // The peer went away first: nothing left to say.
        }
      }
      this.conn.end();
      setTimeout(() => {
        this.conn.destroy('closed by server');
      }, 1000).unref();
    })();
    return this.closing;
  }

  destroy(): void {
    this.conn.destroy('destroyed');
  }

  private onClosed(reason: string): void {
    this.leaveBound();
    this.state = 'closed';
    clearInterval(this.timer);
    this.idle.release();
    this.log.info({ reason }, 'session closed');
  }

}
