/**
 * Multi-channel orchestration with failover (000_efc21bb1ba94fac5.txt, "Multi-Channel
 * Orchestration"; the seed's best practices 1, 2 and 8): one message tried on an ordered list of
 * channels until one delivers. A router-level service: any door (Catalyst v2's
 * `POST /messages/orchestrate`, SMSBAT's cascade) hands it a plan and reads the chain back.
 *
 * Semantics:
 * - Each attempt is an ordinary message admitted by Admission (limits, balance, queue, connectors,
 *   receipts, ClickHouse rows, webhooks) that carries `orchestrationId`.
 * - A step is skipped, with the reason recorded, when it has no sender, the contact is blocked or
 *   has no address on its channel, no route prices it, or its quoted price exceeds what is left of
 *   the budget.
 * - A failure moves to the next channel after `retryDelay`: refused at admission, a failed /
 *   rejected / expired / cancelled outcome (an error receipt among them), or no final outcome within
 *   the receipt window (the attempt is abandoned; its message is cancelled if it has not left).
 * - Retryable errors of the seed's table that mean "try again" (RATE_LIMIT_EXCEEDED, NETWORK_ERROR,
 *   TIMEOUT, MEDIA_DOWNLOAD_FAILED, when not reported by a receipt) retry the same channel up to
 *   `maxRetries` times with exponential backoff (5 s, 10 s, 20 s … from backoffBase) first.
 *   CHANNEL_UNAVAILABLE is retryable in the seed but its action is "use failover channel": it fails over.
 * - `sequentialFallback: false`: after the preferred channel fails, the chain goes straight to the
 *   last channel of the list (the last resort, usually SMS) instead of walking the ones between.
 * - `failover.enabled: false`: only the preferred channel is tried (with its retries).
 * - An abandoned attempt's late outcome is recorded in it and never sends anything; a late
 *   `delivered` that arrives while the next channel has not been sent yet ends the chain delivered.
 * - The chain ends at the first delivery (`delivered`), when the list is exhausted (`failed`), or
 *   when its give-up time passes (`expired`); its reason is recorded.
 *
 * Where the truth lives: every chain is a Redis hash moved only by Lua scripts
 * (store/redis/lua/orch_*.lua). The engine is woken by notices on the stream {p}orn: finalize()
 * writes one when a message of a chain is final, timers.lua one when a chain's timer (next send,
 * receipt window, give-up time) is due. Every process reads them in the consumer group "orch"
 * (at-least-once; a notice left by a dead process is claimed after router.claimIdleMs), and each
 * script checks the chain's current step and transition count, so a duplicate changes nothing.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { OrchestrationConfig } from '../core/config.js';
import type { ChannelContent } from '../core/channel-content.js';
import { contactAddress, type Contact } from '../core/contact.js';
import { newMessageId } from '../core/ids.js';
import { smsSourceAddress, type Channel, type Ingress, type Message, type XmppMeta } from '../core/message.js';
import type { Metrics } from '../core/metrics.js';
import type { ContactStore } from '../store/redis/contact-store.js';
import { FINAL_CHAIN, type ClaimResult, type Notice, type OrchestrationStore, type SentResult, type Skipped, type StoredAttempt, type StoredChain } from '../store/redis/orchestration-store.js';
import type { Admission, AdmissionRefusal, AdmissionRequest } from './admission.js';
import { sleep } from './dispatcher.js';
import { webhookError } from './webhook-events.js';

/** One channel of a plan, in order of preference. */
export interface OrchestrationStep {
  readonly channel: Channel;
  /** The account's sender on that channel (SMS sender id, WhatsApp number, bot…); absent → skipped. */
  readonly from?: string;
  /** What to send: plain text (each channel's text message), or a channel's own content. */
  readonly text?: string;
  readonly content?: ChannelContent;
  /** The destination on this channel when the door knows it; else resolved from the plan's phone/contact. */
  readonly to?: string;
}

export interface FailoverOptions {
  /** false: only the first channel is tried. Default true. */
  readonly enabled?: boolean;
  /** Wait before the next channel, ms (default orchestration.retryDelayMs). */
  readonly retryDelayMs?: number;
  /** Retries of the same channel on a retryable error (default orchestration.maxRetries). */
  readonly maxRetries?: number;
  /** false: after the first channel fails go straight to the last one. Default true. */
  readonly sequentialFallback?: boolean;
  /** How long an attempt waits for its final outcome, ms (default orchestration.receiptWindowSeconds). */
  readonly receiptWindowMs?: number;
  /** First backoff of a retry, ms, doubled each time (default orchestration.backoffBaseMs). */
  readonly backoffBaseMs?: number;
}

/** What a door hands the engine. */
export interface OrchestrationPlan {
  readonly accountId: string;
  /** The destination's phone, E.164 digits without '+' (core/msisdn.ts); SMS, WhatsApp and RCS use it. */
  readonly to?: string;
  /** A contact of the account: its phone and channel ids (contactAddress) reach the other channels. */
  readonly contactId?: string;
  readonly steps: readonly OrchestrationStep[];
  readonly failover?: FailoverOptions;
  /** Epoch ms: the first send not before. */
  readonly startAt?: number;
  /** Epoch ms: give up (retryWindow, SMSBAT ttl); attempts' validity ends there too. */
  readonly deadline?: number;
  /** Most the chain may spend, micro-units of the account's currency. */
  readonly budgetMicros?: number;
  readonly costCenter?: string;
  readonly webhookUrl?: string;
  readonly rateCardId?: string;
  /** A compatible API's webhook shape and references (Message.webhookFormat / clientRef). */
  readonly webhookFormat?: string;
  readonly clientRef?: Readonly<Record<string, string>>;
  /** Whether final-state webhooks are wanted (Message.receipt). Default true. */
  readonly receipt?: boolean;
  readonly ingress?: Ingress;
}

/** The plan as stored with the chain (what a send of any process needs). */
interface StoredPlan {
  readonly p: OrchestrationPlan;
  readonly cur: string;
}

export interface AttemptView {
  readonly channel: string;
  readonly messageId: string | undefined;
  /** sent (waiting for its outcome), delivered, failed, rejected, expired, cancelled, refused, skipped, timeout. */
  readonly outcome: string;
  readonly error: string | undefined;
  /** Why a step was skipped. */
  readonly reason: string | undefined;
  readonly costMicros: number;
  readonly at: number;
  /** The outcome that arrived after the attempt was abandoned (recorded, never acted on). */
  readonly lateOutcome: string | undefined;
}

export type ChainState = 'scheduled' | 'in_progress' | 'delivered' | 'failed' | 'expired';

export interface OrchestrationStatus {
  readonly id: string;
  readonly accountId: string;
  readonly status: ChainState;
  /** Why it ended (or '' while it runs). */
  readonly reason: string;
  readonly finalChannel: Channel | undefined;
  readonly attempts: readonly AttemptView[];
  readonly spentMicros: number;
  readonly currency: string;
  readonly createdAt: number;
  readonly doneAt: number | undefined;
  readonly plan: OrchestrationPlan;
}

/** What begin() answers for a chain it stored. */
export interface Started {
  readonly kind: 'started';
  readonly id: string;
  /** The id the first attempt's message will have (the seed's `messages[0].message_id`). */
  readonly firstMessageId: string;
  /** The most the chain can spend (each usable channel priced once, within the budget), micros. */
  readonly estimatedMicros: number;
  readonly currency: string;
}

export interface StartOptions {
  /**
   * A door's Idempotency-Key (its Redis key, keys.ts idempotency) and the record to keep under it,
   * made from the chain's answer: written in the same script as the chain, so a repeat stores nothing.
   */
  readonly idempotency?: { readonly key: string; readonly ttlSeconds: number; readonly record: (s: Started) => string };
}

export type StartResult =
  | Started
  | { readonly kind: 'duplicate'; readonly record: string }
  | { readonly kind: 'invalid'; readonly field: string; readonly message: string };

export interface OrchestratorDeps {
  readonly admission: Admission;
  readonly contacts: ContactStore;
  readonly store: OrchestrationStore;
  /** Opens a fresh Redis connection (the blocking notice reader). */
  readonly connect: () => Redis;
  readonly consumer: string;
  readonly config: OrchestrationConfig;
  /** A notice left by a dead process is taken over after this long (router.claimIdleMs). */
  readonly claimIdleMs: number;
  readonly log: Logger;
  readonly metrics?: Metrics;
}

/** The seed's codes whose action is to try the same thing again (see the file header). */
const RETRY_SAME = new Set(['RATE_LIMIT_EXCEEDED', 'NETWORK_ERROR', 'TIMEOUT', 'MEDIA_DOWNLOAD_FAILED']);

/** Whether a final outcome of an attempt retries its channel (true) or fails over (false). */
export function retriesSameChannel(status: string, error: string): boolean {
  if (status === 'delivered' || error.startsWith('DLR_') || status === 'cancelled') return false;
  return RETRY_SAME.has(webhookError(error, status).code);
}

/** Notices handled at once per process; the reader waits past it (each is a few Redis round trips). */
const MAX_INFLIGHT = 256;

/** How long an attempt's admission key is kept: longer than any claim of its send can come late. */
const ADMIT_KEY_TTL_SECONDS = 24 * 3600;

const REFUSAL_CODE: Readonly<Record<AdmissionRefusal, string>> = {
  throttled: 'RATE_LIMIT_EXCEEDED',
  platform_throttled: 'RATE_LIMIT_EXCEEDED',
  insufficient_balance: 'INSUFFICIENT_BALANCE',
  no_route: 'INVALID_DESTINATION',
  unknown_account: 'INVALID_API_KEY',
  unknown_rate_card: 'VALIDATION_ERROR',
  channel_unavailable: 'CHANNEL_UNAVAILABLE',
  overloaded: 'NETWORK_ERROR',
  store_error: 'NETWORK_ERROR',
};

/** Each channel's plain text message, for a step that gives only `text`. */
export function textContent(channel: Channel, text: string): ChannelContent | undefined {
  switch (channel) {
    case 'whatsapp':
      return { kind: 'whatsapp.text', text };
    case 'telegram':
      return { kind: 'telegram.text', text };
    case 'viber':
      return { kind: 'viber.text', text };
    case 'messenger':
    case 'instagram':
      return { kind: 'meta.text', text };
    case 'rcs':
      return { kind: 'rcs.text', text };
    case 'sms':
    case 'xmpp':
      return undefined;
  }
}

/** A plain-text summary of a content (the Message body of a channel message). */
function summary(step: OrchestrationStep): string {
  if (step.text !== undefined) return step.text;
  const c = step.content as Record<string, unknown> | undefined;
  for (const f of ['text', 'body', 'caption', 'altText', 'title', 'name']) {
    const v = c?.[f];
    if (typeof v === 'string' && v !== '') return v;
  }
  return step.content?.kind ?? '';
}

type Finished = (s: OrchestrationStatus) => void;

export class Orchestrator {
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private reader: Redis | undefined;
  private readonly abort = new AbortController();
  private readonly listeners: Finished[] = [];
  private readonly inflight = new Set<Promise<void>>();
  /** Notice entry ids being handled here. */
  private readonly handling = new Set<string>();
  /** Handled notices whose ack is not written yet, and the ack that will write them (ackSoon). */
  private acks: string[] = [];
  private acking: Promise<void> | undefined;

  constructor(private readonly deps: OrchestratorDeps) {}

  async start(): Promise<void> {
    await this.deps.store.ensureGroup();
    this.reader = this.deps.connect();
    this.running = true;
    this.loopDone = this.loop();
  }

  async close(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await this.loopDone;
    await Promise.all([...this.inflight]);
    this.reader?.disconnect();
  }

  /** Called in the process that moved a chain to its final state (a door's own follow-up, metrics). */
  onFinished(listener: Finished): void {
    this.listeners.push(listener);
  }

  /** Validates the plan, prices it, and stores the chain; its first send happens at startAt (or now). */
  async begin(plan: OrchestrationPlan, opts: StartOptions = {}, now = Date.now()): Promise<StartResult> {
    const account = this.deps.admission.account(plan.accountId);
    if (!account) return { kind: 'invalid', field: 'accountId', message: 'unknown account' };
    if (plan.steps.length === 0) return { kind: 'invalid', field: 'steps', message: 'at least one channel is needed' };
    if (plan.to === undefined && plan.contactId === undefined) return { kind: 'invalid', field: 'to', message: 'a phone number or a contact id is needed' };
    if (plan.deadline !== undefined && plan.deadline <= Math.max(now, plan.startAt ?? now)) return { kind: 'invalid', field: 'deadline', message: 'the give-up time is not after the start' };
    const cfg = this.deps.config;
    const f = plan.failover ?? {};
    const id = `ORCH-${newMessageId(now)}`;
    const firstMessageId = newMessageId(now);
    const stored: StoredPlan = { p: plan, cur: account.currency };
    const usable = f.enabled === false ? 1 : plan.steps.length;
    const started: Started = { kind: 'started', id, firstMessageId, estimatedMicros: this.estimate(id, plan, usable, now), currency: account.currency };
    const idem = opts.idempotency;
    const res = await this.deps.store.create(
      {
        id,
        accountId: account.id,
        plan: JSON.stringify(stored),
        startAt: plan.startAt ?? now,
        deadline: plan.deadline ?? 0,
        maxRetries: f.maxRetries ?? cfg.maxRetries,
        retryDelayMs: f.retryDelayMs ?? cfg.retryDelayMs,
        backoffBaseMs: f.backoffBaseMs ?? cfg.backoffBaseMs,
        sequential: f.sequentialFallback ?? true,
        receiptWindowMs: f.receiptWindowMs ?? Math.round(cfg.receiptWindowSeconds * 1000),
        steps: usable,
        firstMessageId,
        ...(idem ? { idempotency: { key: idem.key, ttlSeconds: idem.ttlSeconds, record: idem.record(started) } } : {}),
      },
      now,
    );
    if (res.kind === 'duplicate') return res;
    this.count('started');
    return started;
  }

  /**
   * The most the chain can spend: each channel it may try priced once (Admission.quote, with the
   * plan's phone as the destination), within the budget.
   */
  private estimate(chain: string, plan: OrchestrationPlan, usable: number, now: number): number {
    let total = 0;
    for (const step of plan.steps.slice(0, usable)) {
      const q = this.deps.admission.quote(this.request(chain, plan, step, step.to ?? plan.to ?? '', 'estimate', now));
      if (q) total += q.priceMicros;
    }
    return plan.budgetMicros !== undefined ? Math.min(total, plan.budgetMicros) : total;
  }

  private count(event: string, n = 1): void {
    if (n > 0) this.deps.metrics?.orchestrations.inc({ event }, n);
  }

  /** The chain as it stands, for its account only. */
  async get(accountId: string, id: string, now = Date.now()): Promise<OrchestrationStatus | undefined> {
    const c = await this.deps.store.get(id);
    if (!c || c.accountId !== accountId) return undefined;
    return this.view(c, now);
  }

  private view(c: StoredChain, now: number): OrchestrationStatus {
    const stored = JSON.parse(c.plan) as StoredPlan;
    const state: ChainState = FINAL_CHAIN.has(c.status)
      ? (c.status as ChainState)
      : c.attempts.length === 0 && (stored.p.startAt ?? 0) > now
        ? 'scheduled'
        : 'in_progress';
    return {
      id: c.id,
      accountId: c.accountId,
      status: state,
      reason: c.reason,
      finalChannel: c.finalChannel !== '' ? (c.finalChannel as Channel) : undefined,
      attempts: c.attempts.map((a: StoredAttempt) => ({
        channel: a.ch,
        messageId: a.mid,
        outcome: a.st,
        error: a.err !== undefined && a.err !== '' ? a.err : undefined,
        reason: a.why,
        costMicros: a.cost ?? 0,
        at: a.t,
        lateOutcome: a.late,
      })),
      spentMicros: c.spentMicros,
      currency: stored.cur,
      createdAt: c.createdAt,
      doneAt: c.doneAt,
      plan: stored.p,
    };
  }

  // The notice loop.

  private async loop(): Promise<void> {
    const reader = this.reader;
    if (!reader) return;
    // First what this consumer had read before it was restarted (same consumer name), then, every
    // few seconds, what another process left unacknowledged for longer than claimIdleMs.
    let own = true;
    let lastClaim = Date.now();
    while (this.running) {
      try {
        while (this.inflight.size >= MAX_INFLIGHT) await Promise.race(this.inflight);
        if (own) {
          this.handleAll(await this.deps.store.pending(this.deps.consumer, 200));
          own = false;
        }
        if (Date.now() - lastClaim >= Math.min(this.deps.claimIdleMs, 5000)) {
          lastClaim = Date.now();
          this.handleAll(await this.deps.store.claimIdle(this.deps.consumer, this.deps.claimIdleMs, 200));
        }
        this.handleAll(await this.deps.store.read(reader, this.deps.consumer, 200, 500));
      } catch (err) {
        if (!this.running) break;
        this.deps.log.error({ err }, 'orchestration notice loop error');
        await sleep(500, this.abort.signal);
      }
    }
  }

  private handleAll(notices: readonly Notice[]): void {
    for (const n of notices) {
      // Claimed back while this process still works on it: once is enough.
      if (this.handling.has(n.entryId)) continue;
      this.handling.add(n.entryId);
      const p = this.handle(n)
        .then(() => this.ackSoon(n.entryId))
        .catch((err: unknown) => {
          // Not acknowledged: claimed again after claimIdleMs, by this process or another.
          this.deps.log.warn({ err, chain: n.chain, kind: n.kind }, 'orchestration notice not handled; it will be retried');
        })
        .finally(() => {
          this.inflight.delete(p);
          this.handling.delete(n.entryId);
        });
      this.inflight.add(p);
    }
  }

  /**
   * Acknowledges a handled notice together with the others handled in the same turn of the event
   * loop: one XACK and XDEL for them all instead of a MULTI/EXEC each (bench:orchestration: four
   * notices a chain). Resolves when that ack is written.
   */
  private ackSoon(entryId: string): Promise<void> {
    this.acks.push(entryId);
    this.acking ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      const ids = this.acks;
      this.acks = [];
      this.acking = undefined;
      return this.deps.store.ack(ids);
    });
    return this.acking;
  }

  private async handle(n: Notice): Promise<void> {
    if (n.kind === 'final') {
      const r = await this.deps.store.outcome(n, retriesSameChannel(n.status, n.error));
      if (r === 'late') this.count('late');
      if (FINAL_CHAIN.has(r as never)) await this.finished(n.chain, r);
      return;
    }
    const c = await this.deps.store.claim(n.chain, n.token, newMessageId());
    if (c.kind === 'send') {
      const r = await this.send(n.chain, n.token, c);
      if (FINAL_CHAIN.has(r as never)) await this.finished(n.chain, r);
    } else if (c.kind === 'moved' && FINAL_CHAIN.has(c.status as never)) {
      await this.finished(n.chain, c.status);
    }
  }

  /** Counts a chain's final status; the chain is read back only for onFinished listeners. */
  private async finished(chain: string, status: string): Promise<void> {
    this.count(status);
    if (this.listeners.length === 0) return;
    const c = await this.deps.store.get(chain);
    if (!c || !FINAL_CHAIN.has(c.status)) return;
    const s = this.view(c, Date.now());
    for (const l of this.listeners) {
      try {
        l(s);
      } catch (err) {
        this.deps.log.warn({ err, chain }, 'orchestration listener failed');
      }
    }
  }

  /** What a send came to, recorded in the chain (orch_sent.lua), and counted. */
  private async record(chain: string, token: string, skipped: readonly Skipped[], res: SentResult): Promise<string> {
    const r = await this.deps.store.sent(chain, token, skipped, res);
    if (r !== 'stale') {
      this.count('skipped', skipped.length);
      this.count(res.kind === 'admitted' ? 'attempt' : res.kind === 'refused' ? 'refused' : 'exhausted');
    }
    return r;
  }

  /** The next send of a chain: the first usable step from the current one, admitted as a message. */
  private async send(chain: string, token: string, c: Extract<ClaimResult, { kind: 'send' }>): Promise<string> {
    let plan: OrchestrationPlan;
    try {
      plan = (JSON.parse(c.plan) as StoredPlan).p;
    } catch {
      // Only a hand-edited key gets here; ending the chain beats retrying it forever.
      return this.record(chain, token, [], { kind: 'none', why: 'the stored plan is unreadable' });
    }
    const now = Date.now();
    const skipped: Skipped[] = [];
    const contact = await this.contactOf(plan);
    const budget = plan.budgetMicros;
    const lastStep = plan.failover?.enabled === false ? 0 : plan.steps.length - 1;
    for (let idx = c.step; idx <= lastStep; idx++) {
      const step = plan.steps[idx];
      if (!step) break;
      const skip = (why: string): void => {
        skipped.push({ ch: step.channel, st: 'skipped', why });
      };
      // An SMS may go without a sender id (the upstream's default), as /messages/sms allows.
      if (step.from === undefined || (step.from === '' && step.channel !== 'sms')) {
        skip('no_sender: the account has no sender on this channel');
        continue;
      }
      const to = this.destination(plan, step, contact);
      if (!to.ok) {
        skip(to.why);
        continue;
      }
      const req = this.request(chain, plan, step, to.to, c.messageId, now);
      const quote = this.deps.admission.quote(req);
      if (!quote) {
        skip('no_route: no route or rate card prices this channel for the destination');
        continue;
      }
      if (budget !== undefined && c.spentMicros + quote.priceMicros > budget) {
        skip(`budget: costs ${quote.priceMicros} micros, ${Math.max(0, budget - c.spentMicros)} left of the budget`);
        continue;
      }
      // Admitted under a key of its own message id: a send claimed again (its process died, or
      // was slower than router.claimIdleMs) finds the message stored and admits nothing twice.
      const many = await this.deps.admission.submitMany([req], {
        idempotency: { key: this.deps.store.keys.idempotency(plan.accountId, `orch:${c.messageId}`), record: `${step.channel}|${quote.priceMicros}`, ttlSeconds: ADMIT_KEY_TTL_SECONDS },
      });
      if (many.kind === 'duplicate') {
        const [ch, price] = many.record.split('|');
        return this.record(chain, token, skipped, { kind: 'admitted', step: idx, channel: ch ?? step.channel, messageId: c.messageId, priceMicros: Number(price ?? 0) });
      }
      const res = many.results[0] ?? { ok: false as const, reason: 'store_error' as const };
      if (res.ok) return this.record(chain, token, skipped, { kind: 'admitted', step: idx, channel: step.channel, messageId: res.id, priceMicros: res.priceMicros });
      const code = REFUSAL_CODE[res.reason];
      return this.record(chain, token, skipped, { kind: 'refused', step: idx, channel: step.channel, error: code, retryable: RETRY_SAME.has(code) });
    }
    const last = skipped.at(-1);
    return this.record(chain, token, skipped, { kind: 'none', why: last ? `no channel left (last: ${last.ch} ${last.why.split(':')[0] ?? ''})` : 'no channel left' });
  }

  private async contactOf(plan: OrchestrationPlan): Promise<Contact | undefined> {
    if (plan.contactId !== undefined) return this.deps.contacts.get(plan.accountId, plan.contactId);
    if (plan.to !== undefined) return this.deps.contacts.findByPhone(plan.accountId, plan.to);
    return undefined;
  }

  /** Where a step's channel reaches the destination (core/contact.ts contactAddress), or why not. */
  private destination(plan: OrchestrationPlan, step: OrchestrationStep, contact: Contact | undefined): { ok: true; to: string } | { ok: false; why: string } {
    if (contact?.blocked === true) return { ok: false, why: 'blocked: the contact is blocked' };
    if (step.to !== undefined) return { ok: true, to: step.to };
    // The phone the door gave wins on the phone channels; the contact gives the other channels' ids.
    const phoneChannel = step.channel === 'sms' || step.channel === 'whatsapp' || step.channel === 'rcs';
    if (phoneChannel && plan.to !== undefined) return { ok: true, to: plan.to };
    if (contact) {
      const a = contactAddress(contact, step.channel);
      if (a.ok) return a;
    }
    if (!contact) return { ok: false, why: `no_contact: ${step.channel} needs a contact with a ${step.channel} id` };
    return { ok: false, why: `no_address: the contact has no ${step.channel} id` };
  }

  private request(chain: string, plan: OrchestrationPlan, step: OrchestrationStep, to: string, id: string, now: number): AdmissionRequest {
    const channel = step.channel;
    const text = summary(step);
    const content = step.content ?? textContent(channel, text);
    const xmpp: XmppMeta | undefined = channel === 'xmpp' ? { type: 'chat', readReceipt: false } : undefined;
    const message: Message = {
      id,
      accountId: plan.accountId,
      channel,
      direction: 'mt',
      ingress: plan.ingress ?? 'http',
      source: channel === 'sms' ? smsSourceAddress(step.from ?? '') : { addr: step.from ?? '', ton: 0, npi: 0 },
      destination: channel === 'sms' ? { addr: to, ton: 1, npi: 1 } : { addr: to, ton: 0, npi: 0 },
      body: { kind: 'text', text },
      ...(content !== undefined && channel !== 'sms' ? { content } : {}),
      ...(xmpp ? { xmpp } : {}),
      receipt: plan.receipt ?? true,
      ...(plan.webhookUrl !== undefined ? { webhookUrl: plan.webhookUrl } : {}),
      ...(plan.costCenter !== undefined ? { costCenter: plan.costCenter } : {}),
      ...(plan.deadline !== undefined ? { expireAt: plan.deadline } : {}),
      orchestrationId: chain,
      ...(plan.webhookFormat !== undefined ? { webhookFormat: plan.webhookFormat } : {}),
      ...(plan.clientRef !== undefined ? { clientRef: plan.clientRef } : {}),
      createdAt: now,
    };
    return { message, registeredDelivery: 0, requireAvailable: true, ...(plan.rateCardId !== undefined ? { rateCardId: plan.rateCardId } : {}) };
  }
}
