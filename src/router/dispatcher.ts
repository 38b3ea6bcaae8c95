/**
 * One dispatcher per upstream per process: reads its Redis queue through the consumer group
 * (so processes share the work and a message goes to one of them), takes as many messages as the
 * connector has window for, sends them, and writes the outcomes back in batches: submitted,
 * failed, or retry later. Entries a dead process had taken are claimed after `claimIdleMs`.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Metrics } from '../core/metrics.js';
import { GROUP_DISPATCH } from '../store/redis/keys.js';
import type { MessageStore, QueueEntry } from '../store/redis/message-store.js';
import { claimIdle, ensureGroup, readGroup } from '../store/redis/streams.js';
import type { SendResult, UpstreamConnector } from './upstream.js';

export interface DispatcherOptions {
  readonly consumer: string;
  readonly batch: number;
  readonly claimIdleMs: number;
  /** How long a read blocks waiting for new messages. */
  readonly blockMs: number;
}

interface Outcome {
  readonly entryId: string;
  readonly messageId: string;
  readonly result: SendResult;
}

export class Dispatcher {
  private running = false;
  private readonly abort = new AbortController();
  private loopDone: Promise<void> = Promise.resolve();
  private inflight = 0;
  private outcomes: Outcome[] = [];
  private flushScheduled = false;
  private flushing: Promise<void> = Promise.resolve();
  private lastClaim = 0;
  private readonly idle = new Set<() => void>();

  constructor(
    private readonly upstream: UpstreamConnector,
    private readonly store: MessageStore,
    /** A connection of its own: the read blocks. */
    private readonly reader: Redis,
    private readonly opts: DispatcherOptions,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
  ) {}

  private get queueKey(): string {
    return this.store.keys.queue(this.upstream.id);
  }

  async start(): Promise<void> {
    await ensureGroup(this.store.redis, this.queueKey, GROUP_DISPATCH);
    this.running = true;
    this.loopDone = this.loop();
  }

  /** Graceful: take nothing more, let what was taken finish, write its outcomes. */
  async close(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort.abort();
    await this.loopDone;
    while (this.inflight > 0) await new Promise<void>((r) => this.idle.add(r));
    await this.flushNow();
  }

  private async loop(): Promise<void> {
    let backoff = 100;
    while (this.running) {
      try {
        const free = this.upstream.available();
        if (free <= 0) {
          await this.upstream.waitForCapacity(this.abort.signal);
          continue;
        }
        const entries = await this.nextEntries(Math.min(free, this.opts.batch));
        if (entries.length === 0) continue;
        const taken = await this.store.take(this.upstream.id, entries);
        for (const t of taken) {
          this.inflight++;
          this.metrics?.dispatchInflight.inc({ upstream: this.upstream.id });
          void this.upstream.send(t.message, t.attempt).then(
            (result) => {
              this.done({ entryId: t.entryId, messageId: t.message.id, result });
            },
            (err: unknown) => {
              // Connectors never reject; if one does, the message is retried, not lost.
              this.log.error({ err }, 'connector send rejected');
              this.done({ entryId: t.entryId, messageId: t.message.id, result: { kind: 'retry', errorCode: 'INTERNAL', delayMs: 5000 } });
            },
          );
        }
        backoff = 100;
      } catch (err) {
        if (!this.running) break;
        this.log.error({ err, upstream: this.upstream.id }, 'dispatch loop error; backing off');
        await sleep(backoff, this.abort.signal);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  private async nextEntries(count: number): Promise<QueueEntry[]> {
    const now = Date.now();
    if (now - this.lastClaim > this.opts.claimIdleMs / 2) {
      this.lastClaim = now;
      const claimed = await claimIdle(this.store.redis, this.queueKey, GROUP_DISPATCH, this.opts.consumer, this.opts.claimIdleMs, count);
      if (claimed.length > 0) {
        this.log.info({ upstream: this.upstream.id, count: claimed.length }, 'claimed queue entries left by a stopped consumer');
        return claimed.map((e) => ({ entryId: e.id, messageId: e.fields['i'] ?? '', redelivered: true }));
      }
    }
    const entries = await readGroup(this.reader, this.queueKey, GROUP_DISPATCH, this.opts.consumer, count, this.opts.blockMs);
    return entries.map((e) => ({ entryId: e.id, messageId: e.fields['i'] ?? '', redelivered: false }));
  }

  private done(o: Outcome): void {
    this.inflight--;
    this.metrics?.dispatchInflight.dec({ upstream: this.upstream.id });
    this.metrics?.sendResults.inc({ upstream: this.upstream.id, result: o.result.kind });
    this.metrics?.messagesState.inc({ state: o.result.kind === 'failed' ? o.result.status : o.result.kind === 'retry' ? 'queued' : 'submitted' });
    this.outcomes.push(o);
    if (this.outcomes.length >= this.opts.batch) void this.flushNow();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        void this.flushNow();
      });
    }
    if (this.inflight === 0) {
      for (const r of this.idle) r();
      this.idle.clear();
    }
  }

  /** Writes collected outcomes, one script per kind; on a Redis error they stay pending (claimed later). */
  private flushNow(): Promise<void> {
    const batch = this.outcomes;
    if (batch.length === 0) return this.flushing;
    this.outcomes = [];
    const up = this.upstream.id;
    const now = Date.now();
    const submitted: { entryId: string; messageId: string; upstreamIds: readonly string[] }[] = [];
    const failed: { entryId: string; messageId: string; status: 'failed' | 'rejected'; errorCode: string; dlrErr: string }[] = [];
    const retry: { entryId: string; messageId: string; dueAt: number; errorCode: string }[] = [];
    for (const o of batch) {
      const r = o.result;
      switch (r.kind) {
        case 'submitted':
          submitted.push({ entryId: o.entryId, messageId: o.messageId, upstreamIds: r.upstreamIds });
          break;
        case 'failed':
          failed.push({ entryId: o.entryId, messageId: o.messageId, status: r.status, errorCode: r.errorCode, dlrErr: r.dlrErr });
          break;
        case 'retry':
          retry.push({ entryId: o.entryId, messageId: o.messageId, dueAt: now + r.delayMs, errorCode: r.errorCode });
          break;
      }
    }
    this.flushing = this.flushing.then(async () => {
      try {
        await Promise.all([this.store.submitted(up, submitted), this.store.fail(up, failed), this.store.retry(up, retry)]);
      } catch (err) {
        // The queue entries stay pending and are claimed again after claimIdleMs: at-least-once.
        this.log.error({ err, upstream: up, count: batch.length }, 'could not record send outcomes');
      }
    });
    return this.flushing;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
