/**
 * One ESME connected to the SMSC simulator: the bind state and one handler per command. The
 * dispatcher is a switch over the request union, so a command left unhandled fails to compile.
 *
 *   open ──bind_*──► bound ──unbind──► closed        (SMPP 3.4 §2.2 session states)
 *     └── submit_sm / data_sm before a bind: ESME_RINVBNDSTS (§2.3 operation matrix)
 */
import type { Logger } from '../core/logger.js';
import {
  CommandId,
  encodeDataSmResp,
  encodeHeaderOnly,
  encodeSubmitSmResp,
  responseFor,
  Status,
  type BindPdu,
  type DataSm,
  type RequestPdu,
  type SubmitSm,
} from '../smpp/index.js';
import type { SmppConnection } from '../smpp-net/connection.js';

export type BindType = 'transmitter' | 'receiver' | 'transceiver';
export type SimSessionState = 'open' | 'bound' | 'unbinding' | 'closed';

/** What a session asks of the simulator it belongs to. */
export interface SimHost {
  /** ESME_ROK, or the status refusing the bind. */
  authenticate(systemId: string, password: string): number;
  onBound(session: SimSession): void;
  onClosed(session: SimSession): void;
  /**
   * Validates and takes one submit; returns the status and, when ESME_ROK, the message id. Runs
   * before the response is written, so a receipt sent from here goes out ahead of it. Undefined:
   * the submit is held, and no response is written (an SMSC that stopped answering).
   */
  submit(session: SimSession, pdu: SubmitSm | DataSm): { status: number; messageId: string } | undefined;
  /** A request slot of this session freed up: parked receipts may go. */
  onWindowOpen(session: SimSession): void;
}

const BIND_TYPE: Readonly<Record<BindPdu['command'], BindType>> = {
  bind_transmitter: 'transmitter',
  bind_receiver: 'receiver',
  bind_transceiver: 'transceiver',
};

let nextSessionId = 1;

export class SimSession {
  readonly id = nextSessionId++;
  state: SimSessionState = 'open';
  bindType: BindType | undefined;
  systemId = '';
  private readonly log: Logger;

  constructor(
    readonly conn: SmppConnection,
    private readonly host: SimHost,
    logger: Logger,
  ) {
    this.log = logger.child({ session: this.id, remote: conn.remote });
    conn.on('request', (pdu) => {
      this.onRequest(pdu);
    });
    conn.on('windowOpen', () => {
      if (this.canReceive) this.host.onWindowOpen(this);
    });
    conn.on('close', (reason) => {
      this.state = 'closed';
      this.log.debug({ reason }, 'sim session closed');
      this.host.onClosed(this);
    });
  }

  /** Bound as receiver or transceiver: receipts and MO may go here. */
  get canReceive(): boolean {
    return this.state === 'bound' && this.bindType !== 'transmitter';
  }

  get canSubmit(): boolean {
    return this.state === 'bound' && this.bindType !== 'receiver';
  }

  /** Polite goodbye (SMPP 3.4 §4.2): unbind, wait for unbind_resp (bounded), then close. */
  async unbind(timeoutMs = 2000): Promise<void> {
    if (this.state === 'closed') return;
    if (this.state === 'bound') {
      this.state = 'unbinding';
      const resp = this.conn.request({ command: 'unbind', commandStatus: 0, sequenceNumber: 0 }).catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([resp, timeout]);
      clearTimeout(timer);
    }
    this.conn.end();
    this.conn.destroy('sim closing');
  }

  private onRequest(pdu: RequestPdu): void {
    switch (pdu.command) {
      case 'bind_transmitter':
      case 'bind_receiver':
      case 'bind_transceiver':
        this.onBind(pdu);
        return;
      case 'submit_sm':
      case 'data_sm':
        this.onSubmit(pdu);
        return;
      case 'enquire_link':
        this.conn.send(responseFor(pdu, Status.ESME_ROK));
        return;
      case 'unbind':
        // SMPP 3.4 §4.2.2: answer, then the ESME closes; we close too so nothing lingers.
        this.conn.send(responseFor(pdu, Status.ESME_ROK));
        this.state = 'unbinding';
        this.conn.end();
        return;
      case 'deliver_sm':
      case 'outbind':
        // An ESME never sends these to an SMSC (SMPP 3.4 §2.3).
        this.conn.send(responseFor(pdu, Status.ESME_RINVCMDID));
        return;
      case 'alert_notification':
        return; // §4.12: no response
      case 'submit_multi':
      case 'query_sm':
      case 'cancel_sm':
      case 'replace_sm':
        this.conn.send(responseFor(pdu, this.state === 'bound' ? Status.ESME_RINVCMDID : Status.ESME_RINVBNDSTS));
        return;
    }
  }

  private onBind(pdu: BindPdu): void {
    const respId = CommandId[`${pdu.command}_resp`];
    if (this.state !== 'open') {
      // SMPP 3.4 §5.1.3: ESME_RALYBND, already in bound state.
      this.conn.write(encodeHeaderOnly(respId, Status.ESME_RALYBND, pdu.sequenceNumber));
      return;
    }
    const status = this.host.authenticate(pdu.systemId, pdu.password);
    if (status !== Status.ESME_ROK) {
      this.log.info({ systemId: pdu.systemId, status }, 'sim bind refused');
      this.conn.write(encodeHeaderOnly(respId, status, pdu.sequenceNumber));
      return;
    }
    this.state = 'bound';
    this.bindType = BIND_TYPE[pdu.command];
    this.systemId = pdu.systemId;
    this.conn.send(responseFor(pdu, Status.ESME_ROK, { systemId: 'catalystsim' }));
    this.log.debug({ systemId: pdu.systemId, bindType: this.bindType }, 'sim session bound');
    this.host.onBound(this);
  }

  private onSubmit(pdu: SubmitSm | DataSm): void {
    const encode = pdu.command === 'submit_sm' ? encodeSubmitSmResp : encodeDataSmResp;
    if (!this.canSubmit) {
      this.conn.write(encode(pdu.sequenceNumber, Status.ESME_RINVBNDSTS, ''));
      return;
    }
    const answer = this.host.submit(this, pdu);
    if (answer === undefined) return;
    this.conn.write(encode(pdu.sequenceNumber, answer.status, answer.status === Status.ESME_ROK ? answer.messageId : ''));
  }
}
