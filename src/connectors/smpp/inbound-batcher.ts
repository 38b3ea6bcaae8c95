/**
 * Receipts and MOs arriving in the same tick go to the sink in one call each (flushed on
 * setImmediate, or at once at `maxBatch`), and each deliver_sm is answered only once its item is
 * stored: ESME_ROK when the sink resolved, ESME_RX_T_APPN when it rejected (the SMSC retries).
 */
import type { Logger } from '../../core/logger.js';
import type { InboundMessage, UpstreamReceipt, UpstreamSink } from '../../router/upstream.js';
import { Status } from '../../smpp/index.js';
import { rejected } from '../../core/errors.js';

/** Answers one deliver_sm / data_sm with a command_status. */
export type Ack = (status: number) => void;

const DEFAULT_MAX_BATCH = 500;

export class InboundBatcher {
  private receipts: UpstreamReceipt[] = [];
  private receiptAcks: Ack[] = [];
  private mos: InboundMessage[] = [];
  private moAcks: Ack[][] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly upstream: string,
    private readonly sink: UpstreamSink,
    private readonly log: Logger,
    private readonly maxBatch = DEFAULT_MAX_BATCH,
  ) {}

  addReceipt(r: UpstreamReceipt, ack: Ack): void {
    this.receipts.push(r);
    this.receiptAcks.push(ack);
    this.kick(this.receipts.length);
  }

  /** One MO; `acks` answers every deliver_sm that carried a part of it. */
  addMo(m: InboundMessage, acks: Ack[]): void {
    this.mos.push(m);
    this.moAcks.push(acks);
    this.kick(this.mos.length);
  }

  /** Sends what is queued now and waits for every sink call under way. */
  async drain(): Promise<void> {
    this.flush();
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  flush(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.receipts.length > 0) {
      const items = this.receipts;
      const acks = this.receiptAcks;
      this.receipts = [];
      this.receiptAcks = [];
      this.track(() => this.sink.receipts(this.upstream, items), 'receipts', items.length, (status) => {
        for (const a of acks) a(status);
      });
    }
    if (this.mos.length > 0) {
      const items = this.mos;
      const acks = this.moAcks;
      this.mos = [];
      this.moAcks = [];
      this.track(() => this.sink.inbound(this.upstream, items), 'inbound', items.length, (status) => {
        for (const group of acks) for (const a of group) a(status);
      });
    }
  }

  private kick(n: number): void {
    if (n >= this.maxBatch) {
      this.flush();
      return;
    }
    this.scheduled ??= setImmediate(() => {
      this.scheduled = undefined;
      this.flush();
    });
  }

  private track(call: () => Promise<void>, what: string, count: number, answer: (status: number) => void): void {
    let p: Promise<void>;
    try {
      p = call();
    } catch (err) {
      p = rejected(err);
    }
    const safeAnswer = (status: number): void => {
      try {
        answer(status);
      } catch (err) {
        this.log.error({ err: (err as Error).message, what }, 'answering deliver_sm failed');
      }
    };
    const done = p.then(
      () => {
        safeAnswer(Status.ESME_ROK);
      },
      (err: unknown) => {
        this.log.warn({ err: (err as Error).message, what, count }, 'sink refused a batch; the SMSC will retry');
        safeAnswer(Status.ESME_RX_T_APPN);
      },
    );
    const tracked = done.finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
  }
}
