/**
 * The shared half of every channel connector: an UpstreamConnector of the router (so channel
 * messages are admitted, limited, billed, queued, dispatched and tracked exactly like SMS) that
 * sends one HTTP request per message to its provider. Per sender (the request's `from`, which
 * selects the account's credentials): a circuit breaker (its rate limit is the HTTP door's,
 * sender-limit.ts). Per send:
 * retries with backoff for the provider's retryable errors, then the outcome for the router
 * (submitted with the provider's id, retry later, or failed with the mapped error code).
 */
import type { Logger } from 'pino';
import type { BreakerConfig, RetryConfig } from '../../core/config.js';
import type { Message } from '../../core/message.js';
import type { Metrics } from '../../core/metrics.js';
import type { SendResult, UpstreamConnector, UpstreamSink } from '../../router/upstream.js';
import { backoffMs, delay } from './backoff.js';
import { BREAKER_STATE_VALUE, CircuitBreaker } from './circuit-breaker.js';
import { httpSend, type HttpAnswer } from './http-client.js';
import type { Conversations } from './conversations.js';
import { eventErrorCode, transportFailure, type ProviderAdapter, type ProviderFailure, type SenderRef } from './provider.js';

export interface ChannelConnectorOptions<S extends SenderRef> {
  readonly baseUrl: string;
  readonly senders: readonly S[];
  readonly maxInflight: number;
  readonly timeoutMs: number;
  readonly breaker: BreakerConfig;
  readonly retry: RetryConfig;
  /** Where a provider without receipts reports its acceptance as the delivery (deliveredOnAccept). */
  readonly sink?: Pick<UpstreamSink, 'receipts'>;
  /** Where accepted messages are recorded for watermark read receipts (readByWatermark). */
  readonly conversations?: Conversations;
}

/** The send the HTTP answer may wait for: the provider's id once the provider took the message. */
export function senderKey(account: string, from: string): string {
  return `${account}|${from}`;
}

export class ChannelConnector<S extends SenderRef> implements UpstreamConnector {
  readonly id: string;
  private inflight = 0;
  private readonly senders = new Map<string, S>();
  private readonly breakers = new Map<string, CircuitBreaker>();
  private waiters: (() => void)[] = [];
  private closed = false;

  constructor(
    readonly adapter: ProviderAdapter<S>,
    private readonly opts: ChannelConnectorOptions<S>,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
  ) {
    this.id = adapter.name;
    for (const s of opts.senders) {
      const key = senderKey(s.account, s.from);
      this.senders.set(key, s);
      this.breakers.set(
        key,
        new CircuitBreaker(opts.breaker, (state) => {
          this.metrics?.channelBreakerState.set({ upstream: this.id, sender: s.from }, BREAKER_STATE_VALUE[state]);
          this.metrics?.channelBreakerTransitions.inc({ upstream: this.id, state });
          this.log.warn({ upstream: this.id, sender: s.from, state }, 'circuit breaker changed state');
        }),
      );
      this.metrics?.channelBreakerState.set({ upstream: this.id, sender: s.from }, 0);
    }
  }

  start(): void {
    // Nothing to connect: every send is its own HTTP request (undici keeps the connections alive).
  }

  /** The configured sender of an account for a request's `from`, if any. */
  sender(account: string, from: string): S | undefined {
    return this.senders.get(senderKey(account, from));
  }

  hasSender(account: string, from: string): boolean {
    return this.senders.has(senderKey(account, from));
  }

  /** Whether a send for this sender would go now (its breaker is not open): HTTP answers 503 at once otherwise. */
  senderAvailable(account: string, from: string): boolean {
    const b = this.breakers.get(senderKey(account, from));
    return b !== undefined && (b.state !== 'open' || b.retryInMs() === 0);
  }

  breakerState(account: string, from: string): string | undefined {
    return this.breakers.get(senderKey(account, from))?.state;
  }

  available(): number {
    return this.closed ? 0 : this.opts.maxInflight - this.inflight;
  }

  waitForCapacity(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted || this.available() > 0) {
        resolve();
        return;
      }
      const done = (): void => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  async send(message: Message, attempt: number): Promise<SendResult> {
    this.inflight++;
    try {
      return await this.sendOnce(message, attempt);
    } catch (err) {
      this.log.error({ err, upstream: this.id }, 'channel send failed unexpectedly');
      return { kind: 'retry', errorCode: 'INTERNAL', delayMs: 5000 };
    } finally {
      this.inflight--;
      const w = this.waiters;
      this.waiters = [];
      for (const r of w) r();
    }
  }

  private async sendOnce(message: Message, attempt: number): Promise<SendResult> {
    const key = senderKey(message.accountId, message.source.addr);
    const sender = this.senders.get(key);
    const breaker = this.breakers.get(key);
    if (!sender || !breaker) {
      // The HTTP door checks `from`; this is a sender removed from the config since admission.
      return { kind: 'failed', status: 'rejected', errorCode: `VALIDATION_ERROR|${this.id}:unknown_sender`, dlrErr: '000' };
    }
    const retry = this.opts.retry;
    let last: ProviderFailure | undefined;
    for (let n = 1; n <= retry.attempts; n++) {
      if (!breaker.allow()) {
        return { kind: 'retry', errorCode: `CHANNEL_UNAVAILABLE|${this.id}:breaker_open`, delayMs: Math.max(breaker.retryInMs(), 1000) };
      }
      const outcome = await this.attemptOnce(message, sender);
      if (outcome.ok) {
        breaker.success();
        this.metrics?.channelRequests.inc({ upstream: this.id, result: 'ok' });
        if (this.adapter.readByWatermark === true && this.opts.conversations) {
          await this.opts.conversations.record(this.id, sender.from, message.destination.addr, outcome.externalId, Date.now()).catch((err: unknown) => {
            this.log.warn({ err, upstream: this.id }, 'could not record a sent message for read receipts');
          });
        }
        if (this.adapter.deliveredOnAccept === true && this.opts.sink) {
          // Held as an early receipt until the dispatcher records the send (as an SMSC's fast receipt is).
          await this.opts.sink.receipts(this.id, [{ upstreamMessageId: outcome.externalId, stat: 'DELIVRD', err: '000' }]).catch((err: unknown) => {
            this.log.warn({ err, upstream: this.id }, 'could not record the delivery of an accepted message');
          });
        }
        return { kind: 'submitted', upstreamIds: [outcome.externalId] };
      }
      const f = outcome.failure;
      last = f;
      this.metrics?.channelRequests.inc({ upstream: this.id, result: f.code });
      if (f.unhealthy) breaker.failure();
      else breaker.neutral();
      this.log.debug({ upstream: this.id, sender: sender.from, code: f.code, providerCode: f.providerCode, attempt, n }, 'provider refused a send');
      if (!f.retryable) {
        return { kind: 'failed', status: f.code === 'VALIDATION_ERROR' || f.code === 'INVALID_TEMPLATE' ? 'rejected' : 'failed', errorCode: eventErrorCode(this.id, f), dlrErr: '000' };
      }
      const wait = f.retryAfterMs ?? backoffMs(retry, n + 1);
      // A wait longer than the in-send budget goes back to the router's queue instead of holding a slot.
      if (n === retry.attempts || wait > retry.maxDelayMs || this.closed) break;
      await delay(wait);
    }
    const f = last as ProviderFailure;
    return { kind: 'retry', errorCode: eventErrorCode(this.id, f), delayMs: Math.max(f.retryAfterMs ?? backoffMs(retry, attempt + 1), 100) };
  }

  private async attemptOnce(message: Message, sender: S): Promise<{ ok: true; externalId: string } | { ok: false; failure: ProviderFailure }> {
    let auth: string | undefined;
    if (this.adapter.authorize) {
      const a = await this.adapter.authorize(sender);
      if (!a.ok) return a;
      auth = a.token;
    }
    const built = this.adapter.build(message, sender, this.opts.baseUrl, auth);
    if (!built.ok) return built;
    const started = performance.now();
    const answer: HttpAnswer = await httpSend(built.request, this.opts.timeoutMs);
    this.metrics?.channelRequestSeconds.observe({ upstream: this.id }, (performance.now() - started) / 1000);
    if (answer.kind !== 'answer') return { ok: false, failure: transportFailure(answer) };
    return this.adapter.parse(answer, message);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  destroy(): void {
    this.closed = true;
  }

  status(): { readonly bound: number; readonly configured: number; readonly inflight: number } {
    let up = 0;
    for (const b of this.breakers.values()) if (b.state !== 'open' || b.retryInMs() === 0) up++;
    return { bound: this.closed ? 0 : up, configured: this.senders.size, inflight: this.inflight };
  }
}
