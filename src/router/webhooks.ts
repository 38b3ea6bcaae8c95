/**
 * The webhook sender: posts the Catalyst v2 webhooks (delivery, error, read; webhook-events.ts) of
 * every message that has a webhook URL, in the order its events happened, at least once, across
 * restarts and process deaths.
 *
 * Durable and ordered: every pending event is a record in its message's Redis list (whq:{id}),
 * appended by Lua in the same script as the state change (finalize() for the final state,
 * webhook_enqueue for read receipts). Only the head of a list is in flight: a ticket in the `wh`
 * stream says "attempt the head of this list now"; the next event's ticket is written by the same
 * script that records the head as delivered or dead-lettered (webhook_settle). Tickets go through
 * the consumer group "webhook", so processes share the work, and a ticket a killed process held
 * is claimed (XAUTOCLAIM) by a live one after claimIdleMs; a restarted process with the same
 * consumer name takes its own pending tickets back at once.
 *
 * Retries: exponential backoff from backoffBaseSeconds (5 s, 10 s, 20 s …, the seed's best practice
 * 2) capped at backoffCapSeconds, through the Redis timer set (so they survive a restart), until
 * maxAgeHours after the event's first attempt; then the event is dead-lettered into the bounded
 * stream whdead with the last status or error, counted and logged once at warn. 2xx = delivered;
 * 410 Gone = the receiver says "stop": dead-lettered at once; any other status, a timeout or a
 * connection error = retry.
 *
 * Every attempt re-checks the URL against the SSRF guard (ssrf.ts) and connects only to the
 * addresses it checked (webhook-transport.ts). Signing: see webhook-transport.ts and the README.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AccountConfig, RouterConfig, WebhookConfig } from '../core/config.js';
import type { Metrics } from '../core/metrics.js';
import { GROUP_WEBHOOK, type Keys } from '../store/redis/keys.js';
import { ensureGroup, readGroup, claimIdle, toEntries, type StreamEntry } from '../store/redis/streams.js';
import { WebhookStore, type EnqueueResult, type Settlement, type WebhookEventInput, type WebhookHead } from '../store/redis/webhook-store.js';
import { sleep } from './dispatcher.js';
import { resolveWebhookTarget, type ResolveOptions, type WebhookPolicy } from './ssrf.js';
import { parseRecord, webhookBody, type WebhookFormat } from './webhook-events.js';
import { WebhookTransport, signWebhook } from './webhook-transport.js';

export interface WebhookSenderOptions {
  readonly consumer: string;
  /** Bound of one attempt's DNS answer and of its POST (each). */
  readonly timeoutMs: number;
  /** Webhooks in flight at once in this process. */
  readonly concurrency: number;
  /** Give up this long after an event's first attempt. */
  readonly maxAgeMs: number;
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
  /** A ticket held this long by a consumer is claimed by another (it died or hung). */
  readonly claimIdleMs: number;
  readonly policy: WebhookPolicy;
  /** How long a read waits for new tickets. */
  readonly blockMs?: number;
  /** The compatible APIs' webhook shapes by name (a record's `fmt`); absent or unknown → Catalyst v2's. */
  readonly formats?: ReadonlyMap<string, WebhookFormat>;
}

/** The sender's options from the frozen config. */
export function webhookOptions(cfg: WebhookConfig, router: Pick<RouterConfig, 'claimIdleMs'>, consumer: string): WebhookSenderOptions {
  return {
    consumer,
    timeoutMs: cfg.timeoutMs,
    concurrency: cfg.concurrency,
    maxAgeMs: cfg.maxAgeHours * 3_600_000,
    backoffBaseMs: cfg.backoffBaseSeconds * 1000,
    backoffCapMs: cfg.backoffCapSeconds * 1000,
    // Never claim a ticket whose attempt may still be running: a DNS answer and a POST, each bounded.
    claimIdleMs: Math.max(router.claimIdleMs, 2 * cfg.timeoutMs + 1000),
    policy: { allowPrivateTargets: cfg.allowPrivateTargets, allowLoopback: cfg.allowLoopback ?? false },
  };
}

/** The wait after `attempts` failed attempts: base, 2×base, 4×base … capped. */
export function backoffMs(attempts: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, Math.min(40, attempts - 1)));
}

/** Why a webhook was given up (the label of router_webhook_dead_letters_total). */
export type DeadLetterReason = 'expired' | 'gone' | 'refused' | 'invalid';

interface Attempted {
  readonly settlement: Settlement;
  readonly deadReason?: DeadLetterReason;
  readonly deliveryId?: string;
}

interface Ticket {
  readonly id: string;
  readonly messageId: string;
}

export class WebhookSender {
  readonly store: WebhookStore;
  private readonly accounts: ReadonlyMap<string, AccountConfig>;
  private readonly transport: WebhookTransport;
  private running = false;
  private readonly abort = new AbortController();
  private loopDone: Promise<void> = Promise.resolve();
  /** Messages whose head is being attempted or settled here. */
  private readonly inflight = new Set<string>();
  private readonly slotWaiters = new Set<() => void>();
  /** Tickets of messages that were in flight here when they came: started when those settle. */
  private readonly deferred = new Map<string, Ticket[]>();
  private settling: Attempted[] = [];
  private flushScheduled = false;
  private flushing: Promise<void> = Promise.resolve();
  private ownPendingCursor: string | undefined = '0';
  private lastClaim = 0;
  private gaugeTimer: NodeJS.Timeout | undefined;

  constructor(
    store: { readonly redis: Redis; readonly keys: Keys },
    /** A connection of its own: the read blocks. */
    private readonly reader: Redis,
    private readonly accountList: readonly AccountConfig[],
    private readonly opts: WebhookSenderOptions,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
    /** For tests: the resolver the SSRF guard uses. */
    private readonly resolve?: ResolveOptions['resolve'],
  ) {
    this.store = new WebhookStore(store.redis, store.keys, (script, seconds) => {
      metrics?.redisSeconds.observe({ script }, seconds);
    });
    this.accounts = new Map(accountList.map((a) => [a.id, a]));
    this.transport = new WebhookTransport(opts.concurrency);
  }

  async start(): Promise<void> {
    await ensureGroup(this.store.redis, this.store.keys.webhooks(), GROUP_WEBHOOK);
    await this.checkAccountUrls();
    this.running = true;
    this.loopDone = this.loop();
    if (this.metrics) {
      this.gaugeTimer = setInterval(() => {
        void this.updateBacklog();
      }, 1000);
      this.gaugeTimer.unref();
      await this.updateBacklog();
    }
  }

  /** Graceful: read nothing more, let the attempts in flight finish, record their outcomes. */
  async close(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort.abort();
    clearInterval(this.gaugeTimer);
    await this.loopDone;
    while (this.inflight.size > 0) await new Promise<void>((r) => this.slotWaiters.add(r));
    await this.flushing;
    this.transport.close();
  }

  /**
   * Queues an event (a read receipt) for the message's webhook, behind its events still pending:
   * what channel connectors call. 'no_webhook' when the message has no URL; 'unknown_message' when
   * it is unknown or its hot state expired (router.finalRetentionSeconds after its final state).
   */
  enqueue(messageId: string, event: WebhookEventInput): Promise<EnqueueResult> {
    return this.store.enqueue(messageId, event);
  }

  /** accounts[i].webhookUrl against the SSRF guard: a refused one is logged naming the field (not fatal). */
  private async checkAccountUrls(): Promise<void> {
    await Promise.all(
      this.accountList.map(async (a, i) => {
        if (a.webhookUrl === undefined) return;
        const field = `accounts[${i}].webhookUrl`;
        const t = await resolveWebhookTarget(a.webhookUrl, this.opts.policy, { timeoutMs: this.opts.timeoutMs, ...(this.resolve ? { resolve: this.resolve } : {}) });
        if (t.ok) return;
        if (t.transient) this.log.warn({ field, account: a.id, reason: t.reason }, `${field}: ${t.reason} (webhooks to it are retried)`);
        else this.log.error({ field, account: a.id, reason: t.reason }, `${field} is refused by the webhook SSRF guard: ${t.reason}`);
      }),
    );
  }

  private async updateBacklog(): Promise<void> {
    try {
      this.metrics?.webhookBacklog.set(await this.store.backlog());
    } catch (err) {
      this.log.debug({ err }, 'could not read the webhook backlog');
    }
  }

  private async loop(): Promise<void> {
    let backoff = 100;
    while (this.running) {
      try {
        const free = this.opts.concurrency - this.inflight.size;
        if (free <= 0) {
          await this.slotFreed();
          continue;
        }
        const tickets = await this.nextTickets(free);
        if (tickets.length > 0) await this.launch(tickets);
        backoff = 100;
      } catch (err) {
        if (!this.running) break;
        this.log.error({ err }, 'webhook loop error; backing off');
        await sleep(backoff, this.abort.signal);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  private slotFreed(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.abort.signal.removeEventListener('abort', done);
        this.slotWaiters.delete(done);
        resolve();
      };
      this.slotWaiters.add(done);
      this.abort.signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Own tickets left pending by a previous life first, then tickets of dead consumers, then new ones. */
  private async nextTickets(count: number): Promise<Ticket[]> {
    const key = this.store.keys.webhooks();
    if (this.ownPendingCursor !== undefined) {
      const res = (await this.store.redis.xreadgroup('GROUP', GROUP_WEBHOOK, this.opts.consumer, 'COUNT', count, 'STREAMS', key, this.ownPendingCursor)) as [string, [string, string[] | null][]][] | null;
      const raw = res?.[0]?.[1] ?? [];
      const last = raw[raw.length - 1];
      if (!last) {
        this.ownPendingCursor = undefined;
      } else {
        this.ownPendingCursor = last[0];
        // An entry deleted meanwhile (settled by another process after a claim) comes back without fields.
        const gone = raw.filter((e) => e[1] === null).map((e) => e[0]);
        if (gone.length > 0) await this.store.redis.xack(key, GROUP_WEBHOOK, ...gone);
        const entries = toEntries(raw);
        if (entries.length > 0) this.log.info({ count: entries.length }, 'resuming webhooks this consumer had in flight');
        return tickets(entries);
      }
    }
    const now = Date.now();
    if (now - this.lastClaim >= this.opts.claimIdleMs / 2) {
      this.lastClaim = now;
      const claimed = await claimIdle(this.store.redis, key, GROUP_WEBHOOK, this.opts.consumer, this.opts.claimIdleMs, count);
      if (claimed.length > 0) {
        this.log.info({ count: claimed.length }, 'claimed webhooks left by a stopped consumer');
        return tickets(claimed);
      }
    }
    return tickets(await readGroup(this.reader, key, GROUP_WEBHOOK, this.opts.consumer, count, this.opts.blockMs ?? 1000));
  }

  private async launch(list: readonly Ticket[]): Promise<void> {
    const go: Ticket[] = [];
    for (const t of list) {
      // A message in flight here waits: its settle script may have written this ticket for its next
      // event before this process saw the settle's answer, or a claim handed us back our own ticket.
      if (this.inflight.has(t.messageId)) {
        this.deferred.set(t.messageId, [...(this.deferred.get(t.messageId) ?? []), t]);
        continue;
      }
      this.inflight.add(t.messageId);
      go.push(t);
    }
    if (go.length === 0) return;
    let heads: WebhookHead[];
    try {
      heads = await this.store.heads(go.map((t) => t.messageId));
    } catch (err) {
      // The tickets stay pending in Redis and come back through a claim.
      this.release(go.map((t) => t.messageId));
      throw err;
    }
    go.forEach((t, i) => {
      const head = heads[i] ?? { messageId: t.messageId, raw: undefined, attempts: 0, firstAttemptAt: undefined };
      void this.attempt(t, head).then(
        (a) => {
          this.done(a);
        },
        (err: unknown) => {
          // attempt() does not reject; if it does, the ticket stays pending and is claimed later.
          this.log.error({ err, messageId: t.messageId }, 'webhook attempt failed unexpectedly');
          this.release([t.messageId]);
        },
      );
    });
  }

  /** One attempt on a message's head: its outcome, not yet recorded. */
  private async attempt(t: Ticket, head: WebhookHead): Promise<Attempted> {
    const now = Date.now();
    const first = head.firstAttemptAt ?? now;
    const base = { ticketId: t.id, messageId: t.messageId, head: head.raw, attempts: head.attempts + 1, firstAttemptAt: first };
    if (head.raw === undefined) return { settlement: { ...base, outcome: { kind: 'drop' } } };
    const rec = parseRecord(head.raw);
    if (!rec) return { settlement: { ...base, outcome: { kind: 'dead', reason: 'invalid record' } }, deadReason: 'invalid' };
    const dead = (deadReason: DeadLetterReason, reason: string): Attempted => ({ settlement: { ...base, outcome: { kind: 'dead', reason } }, deadReason, deliveryId: rec.d });
    const account = this.accounts.get(rec.a);
    if (!account) return dead('invalid', `account ${rec.a} is not configured any more`);

    const failed = (reason: string): Attempted => {
      const at = Date.now();
      const end = first + this.opts.maxAgeMs;
      if (at >= end) return dead('expired', `gave up after ${base.attempts} attempts in ${formatAge(at - first)}; last: ${reason}`);
      const dueAt = Math.min(at + backoffMs(base.attempts, this.opts.backoffBaseMs, this.opts.backoffCapMs), end);
      return { settlement: { ...base, outcome: { kind: 'retry', dueAt, reason } }, deliveryId: rec.d };
    };

    // Checked again at every attempt: the host may resolve elsewhere now (DNS rebinding).
    const target = await resolveWebhookTarget(rec.u, this.opts.policy, { timeoutMs: this.opts.timeoutMs, ...(this.resolve ? { resolve: this.resolve } : {}) });
    if (!target.ok) return target.transient ? failed(target.reason) : dead('refused', `refused: ${target.reason}`);

    const body = webhookBody(t.messageId, rec);
    const format = rec.fmt !== undefined ? this.opts.formats?.get(rec.fmt) : undefined;
    const shaped = format ? format(t.messageId, rec, body) : { body };
    // That API has no webhook for this event: done, nothing to post.
    if (!shaped) return { settlement: { ...base, outcome: { kind: 'ok' } }, deliveryId: rec.d };
    const json = JSON.stringify(shaped.body);
    const ts = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'Catalyst-Webhooks/2.0',
      ...shaped.headers,
      'x-catalyst-event': body.eventType,
      'x-catalyst-delivery': rec.d,
      'x-catalyst-timestamp': String(ts),
    };
    if (account.webhookSecret !== undefined) headers['x-catalyst-signature'] = signWebhook(account.webhookSecret, ts, json);
    const started = performance.now();
    const res = await this.transport.post(target.url, target.addresses, headers, json, this.opts.timeoutMs);
    const outcome = res.kind === 'error' ? 'error' : `${Math.floor(res.status / 100)}xx`;
    this.metrics?.webhookSeconds.observe({ outcome }, (performance.now() - started) / 1000);
    if (res.kind === 'response' && res.status >= 200 && res.status < 300) return { settlement: { ...base, outcome: { kind: 'ok' } }, deliveryId: rec.d };
    // 410 Gone: the receiver says this endpoint is gone for good; retrying would only add load.
    if (res.kind === 'response' && res.status === 410) return dead('gone', 'gone: HTTP 410');
    return failed(res.kind === 'response' ? `HTTP ${res.status}` : res.reason);
  }

  private done(a: Attempted): void {
    this.settling.push(a);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Outcomes of one tick are recorded in one script run.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const batch = this.settling;
    if (batch.length === 0) return;
    this.settling = [];
    this.flushing = this.flushing.then(async () => {
      try {
        await this.store.settle(batch.map((a) => a.settlement));
        for (const a of batch) this.report(a);
      } catch (err) {
        // The tickets stay pending and are claimed again after claimIdleMs: at least once.
        this.log.error({ err, count: batch.length }, 'could not record webhook outcomes');
      } finally {
        this.release(batch.map((a) => a.settlement.messageId));
      }
    });
  }

  private release(messageIds: readonly string[]): void {
    const again: Ticket[] = [];
    for (const id of messageIds) {
      this.inflight.delete(id);
      again.push(...(this.deferred.get(id) ?? []));
      this.deferred.delete(id);
    }
    if (again.length > 0 && this.running) {
      this.launch(again).catch((err: unknown) => {
        this.log.error({ err }, 'could not start deferred webhooks; they are claimed later');
      });
    }
    const waiters = [...this.slotWaiters];
    this.slotWaiters.clear();
    for (const w of waiters) w();
  }

  private report(a: Attempted): void {
    const s = a.settlement;
    const o = s.outcome;
    switch (o.kind) {
      case 'ok':
        this.metrics?.webhooks.inc({ result: 'delivered' });
        break;
      case 'retry':
        this.metrics?.webhooks.inc({ result: 'retry' });
        this.log.debug({ messageId: s.messageId, deliveryId: a.deliveryId, attempts: s.attempts, reason: o.reason, dueAt: new Date(o.dueAt).toISOString() }, 'webhook attempt failed; retry scheduled');
        break;
      case 'dead':
        this.metrics?.webhooks.inc({ result: 'dead_letter' });
        this.metrics?.webhookDeadLetters.inc({ reason: a.deadReason ?? 'invalid' });
        this.log.warn({ messageId: s.messageId, deliveryId: a.deliveryId, attempts: s.attempts, reason: o.reason }, 'webhook dead-lettered');
        break;
      case 'drop':
        break;
    }
  }
}

function tickets(entries: readonly StreamEntry[]): Ticket[] {
  return entries.map((e) => ({ id: e.id, messageId: e.fields['i'] ?? '' }));
}

function formatAge(ms: number): string {
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 1000).toFixed(1)} s`;
}
