/**
 * RCS with SMS fallback (the seed's `fallback`: enabled, channel "sms", body): an RCS message the
 * phone cannot take (RBM 404 NOT_FOUND), or that RBM refused for good, or that has been failing
 * for a second attempt, goes out as an SMS through the SMS upstream of its destination, inside the
 * same send: the router sees one message, submitted with the SMSC's id written `sms:<id>` (so the
 * status says `fallbackChannel: "sms"`), and the SMSC's receipt closes it.
 *
 * Receipt correlation: the SMSC's receipt arrives on the SMS upstream, so the SMSC id is mapped to
 * the message under that upstream too (the key submitted.lua writes for its own upstream), once
 * the send is recorded (see mapForReceipts).
 */
import type { Logger } from 'pino';
import type { Keys } from '../../store/redis/keys.js';
import { smsSourceAddress, type Message } from '../../core/message.js';
import type { Redis } from 'ioredis';
import type { SendResult, UpstreamConnector, UpstreamSink } from '../../router/upstream.js';
import type { ChannelConnector } from '../shared/channel-connector.js';
import type { RcsSender } from './rbm.js';

export const FALLBACK_PREFIX = 'sms:';

export interface FallbackDeps {
  /** The SMS upstream for a destination (channels.rcs.fallbackUpstream, else the SMS route). */
  readonly smsUpstream: (destination: string) => UpstreamConnector | undefined;
  readonly redis: Redis;
  /** Where a receipt that came before the mapping is applied. */
  readonly sink: Pick<UpstreamSink, 'receipts'>;
  readonly keys: Keys;
  /** Seconds the SMSC id mapping is kept (as long as the message may wait for its receipt). */
  readonly mappingTtlSeconds: number;
}

/** The SMS a fallback sends: the fallback body, from the agent's SMS sender id, to the same number. */
export function fallbackSms(message: Message, sender: RcsSender | undefined): Message {
  const from = sender?.smsFrom ?? message.source.addr;
  return {
    ...message,
    channel: 'sms',
    // An alphanumeric sender id has at most 11 characters on SMS.
    source: smsSourceAddress(/^\+?[0-9]{1,15}$/.test(from) ? from : from.slice(0, 11)),
    destination: { addr: message.destination.addr.replace(/^\+/, ''), ton: 1, npi: 1 },
    body: { kind: 'text', text: message.fallback?.body ?? (message.body.kind === 'text' ? message.body.text : '') },
  };
}

export class RcsConnector implements UpstreamConnector {
  readonly id: string;
  private closed = false;

  constructor(
    private readonly inner: ChannelConnector<RcsSender>,
    private readonly deps: FallbackDeps,
    private readonly log: Logger,
  ) {
    this.id = inner.id;
  }

  async send(message: Message, attempt: number): Promise<SendResult> {
    const r = await this.inner.send(message, attempt);
    if (message.fallback === undefined || r.kind === 'submitted') return r;
    // Permanent refusal (404: not RCS-capable) or an open breaker at once; a transient failure once it has lasted a retry.
    if (r.kind === 'retry' && attempt < 2 && !r.errorCode.endsWith(':breaker_open')) return r;
    const sms = this.deps.smsUpstream(message.destination.addr);
    if (!sms) {
      this.log.warn({ upstream: this.id }, 'RCS fallback wanted but no SMS upstream serves the destination');
      return r;
    }
    const sent = await sms.send(fallbackSms(message, this.inner.sender(message.accountId, message.source.addr)), attempt);
    if (sent.kind !== 'submitted') return sent.kind === 'failed' ? { ...sent, errorCode: `${sent.errorCode}|sms_fallback` } : sent;
    void this.mapForReceipts(sms.id, message.id, sent.upstreamIds);
    return { kind: 'submitted', upstreamIds: sent.upstreamIds.map((u) => `${FALLBACK_PREFIX}${u}`) };
  }

  /**
   * Once the dispatcher has recorded the send (the message's state has its `sms:` id), the SMSC
   * id is mapped under the SMS upstream, so its receipt finds the message; a receipt that came
   * before the mapping was held by receipts.lua as early under the SMS upstream and is applied
   * now. Mapping only after the record keeps a fast receipt from closing the message before its
   * send is recorded.
   */
  private async mapForReceipts(smsUpstream: string, messageId: string, ids: readonly string[]): Promise<void> {
    const { redis, keys } = this.deps;
    try {
      const until = Date.now() + 30_000;
      // submitted.lua's record: field sb (or umid, from a release before it was packed).
      const recorded = async (): Promise<boolean> => (await redis.hmget(keys.message(messageId), 'sb', 'umid')).some((v) => v !== null);
      while (!(await recorded())) {
        if (Date.now() > until || this.closed) {
          this.log.warn({ upstream: this.id }, 'the SMS fallback was not recorded in time; its receipt may not be matched');
          return;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      // One transaction: a receipt held between our read and our delete would be lost otherwise.
      const tx = redis.multi();
      // The value submitted.lua writes: id|part|parts.
      ids.forEach((u, i) => tx.set(keys.upstreamId(smsUpstream, u), `${messageId}|${i + 1}|${ids.length}`, 'EX', this.deps.mappingTtlSeconds));
      // Where receipts.lua holds them: this hour's and the last hour's buckets, and (held by a
      // release before the buckets) a key each.
      const hour = Math.floor(Date.now() / 3_600_000);
      const buckets = [keys.earlyHeld(smsUpstream, hour), keys.earlyHeld(smsUpstream, hour - 1)];
      for (const b of buckets) tx.hmget(b, ...ids).hdel(b, ...ids);
      for (const u of ids) tx.getdel(keys.early(smsUpstream, u));
      const res = (await tx.exec()) ?? [];
      const held = (at: number): unknown[] => {
        const v = res[at]?.[1];
        return Array.isArray(v) ? v : [];
      };
      const thisHour = held(ids.length);
      const lastHour = held(ids.length + 2);
      const early: { upstreamMessageId: string; stat: string; err: string }[] = [];
      ids.forEach((u, i) => {
        const v = thisHour[i] ?? lastHour[i] ?? res[ids.length + 4 + i]?.[1];
        if (typeof v === 'string') {
          // "stat|err|network"
          const [stat = 'UNKNOWN', err = '000'] = v.split('|');
          early.push({ upstreamMessageId: u, stat, err });
        }
      });
      if (early.length > 0) await this.deps.sink.receipts(smsUpstream, early);
    } catch (err) {
      this.log.error({ err, upstream: this.id }, 'could not map the SMS fallback for its receipt');
    }
  }

  // Everything else is the RBM connector's.
  start(): void {
    this.inner.start();
  }
  available(): number {
    return this.inner.available();
  }
  waitForCapacity(signal: AbortSignal): Promise<void> {
    return this.inner.waitForCapacity(signal);
  }
  close(): Promise<void> {
    this.closed = true;
    return this.inner.close();
  }
  destroy(): void {
    this.closed = true;
    this.inner.destroy();
  }
  status(): { readonly bound: number; readonly configured: number; readonly inflight: number } {
    return this.inner.status();
  }
  hasSender(account: string, from: string): boolean {
    return this.inner.hasSender(account, from);
  }
  senderAvailable(account: string, from: string): boolean {
    // With a fallback the message can still go: the HTTP door only refuses when the RBM breaker is open and nothing else could carry it.
    return this.inner.senderAvailable(account, from);
  }
}
