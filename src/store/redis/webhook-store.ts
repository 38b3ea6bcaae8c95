/**
 * The webhook side of Redis (keys.ts: wh, whq:{id}, whs:{id}, whn, whdead). Every pending webhook
 * event is a JSON record in its message's list, oldest first; only the list's head is in flight.
 * A head is due when a ticket `i=<id>` is in the `wh` stream (read through the consumer group
 * "webhook", so a ticket a dead process held is claimed by another) or, between attempts, when its
 * timer `w|<id>` in the timer set is (timers.lua turns it back into a ticket). Each change is one
 * Lua script: webhook_enqueue appends an event, webhook_settle records attempts' outcomes.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import { defineScripts, run as runScript, type ScriptName } from './scripts.js';

/** Most dead-lettered webhooks kept (XADD MAXLEN ~). */
export const DEAD_LETTER_MAX = 100_000;

/** An event a channel connector reports for a message, delivered to its webhook in order. */
export interface WebhookEventInput {
  /** read: a read receipt; mo: a mobile-originated message, to its account's webhook. */
  readonly eventType: 'read' | 'mo';
  /** When it happened (epoch ms); default now. */
  readonly timestamp?: number;
  /** The channel it happened on; default the message's. */
  readonly channel?: string;
  /** An MO's sender, our address it came to, and its text (record fields fr, to, tx). */
  readonly mo?: { readonly from: string; readonly to: string; readonly text: string };
  /** Where to post when the message has no URL of its own (an MO: the account's). */
  readonly url?: string;
  /** A compatible API's webhook shape and references for an event whose message names none (an MO to that API's number). */
  readonly format?: { readonly name: string; readonly ref: Readonly<Record<string, string>> };
}

export type EnqueueResult = 'queued' | 'no_webhook' | 'unknown_message';

export interface WebhookHead {
  readonly messageId: string;
  /** The head record exactly as stored, or undefined when the list is empty (a leftover ticket). */
  readonly raw: string | undefined;
  /** Attempts already made on this head, and when the first was. */
  readonly attempts: number;
  readonly firstAttemptAt: number | undefined;
}

export type WebhookOutcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'retry'; readonly dueAt: number; readonly reason: string }
  | { readonly kind: 'dead'; readonly reason: string }
  /** Nothing was attempted (empty list): only the ticket goes. */
  | { readonly kind: 'drop' };

export interface Settlement {
  readonly ticketId: string;
  readonly messageId: string;
  readonly head: string | undefined;
  readonly outcome: WebhookOutcome;
  /** Attempts made on this head, this one included. */
  readonly attempts: number;
  readonly firstAttemptAt: number;
}

export interface DeadLetter {
  readonly entryId: string;
  readonly messageId: string;
  readonly reason: string;
  readonly attempts: number;
  readonly firstAttemptAt: number;
  readonly deadAt: number;
  /** The record as it was pending (JSON). */
  readonly record: string;
}

export class WebhookStore {
  constructor(
    readonly redis: Redis,
    readonly keys: Keys,
    private readonly observe?: (script: ScriptName, seconds: number) => void,
  ) {
    defineScripts(redis);
  }

  private async run(name: ScriptName, now: number, args: readonly (string | number)[]): Promise<unknown> {
    const started = performance.now();
    try {
      // Common header: prefix, now, final retention (unused by the webhook scripts).
      return await runScript(this.redis, name, [this.keys.prefix, now, 0, ...args]);
    } finally {
      this.observe?.(name, (performance.now() - started) / 1000);
    }
  }

  /**
   * Appends an event to the message's webhook list, behind any event still pending for it. A
   * message without a webhook URL gets none; one whose hot state has expired is unknown.
   */
  async enqueue(messageId: string, event: WebhookEventInput, now = Date.now()): Promise<EnqueueResult> {
    const deliveryId = `${messageId}:${event.eventType}:${randomBytes(6).toString('hex')}`;
    const fields = { ...(event.mo ? { fr: event.mo.from, to: event.mo.to, tx: event.mo.text } : {}), ...(event.format ? { fmt: event.format.name, ref: event.format.ref } : {}) };
    const more = Object.keys(fields).length > 0 ? JSON.stringify(fields) : '';
    const r = (await this.run('webhook_enqueue', now, [messageId, event.eventType, deliveryId, event.timestamp ?? now, event.channel ?? '', more, event.url ?? ''])) as number;
    return r === 1 ? 'queued' : r === 0 ? 'no_webhook' : 'unknown_message';
  }

  /** The head of each message's list and the attempts made on it, in one round trip. */
  async heads(messageIds: readonly string[]): Promise<WebhookHead[]> {
    if (messageIds.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of messageIds) {
      pipe.lindex(this.keys.webhookQueue(id), 0);
      pipe.hmget(this.keys.webhookState(id), 'n', 'f');
    }
    const res = (await pipe.exec()) ?? [];
    return messageIds.map((messageId, i) => {
      const [e1, raw] = res[2 * i] ?? [null, null];
      const [e2, state] = res[2 * i + 1] ?? [null, [null, null]];
      if (e1) throw e1;
      if (e2) throw e2;
      const [n, f] = (state as (string | null)[] | null) ?? [null, null];
      return { messageId, raw: typeof raw === 'string' ? raw : undefined, attempts: Number(n ?? 0), firstAttemptAt: f ? Number(f) : undefined };
    });
  }

  /** Records outcomes, each against its ticket; a ticket another process settled first changes nothing. */
  async settle(items: readonly Settlement[], now = Date.now()): Promise<{ settled: number; stale: number }> {
    if (items.length === 0) return { settled: 0, stale: 0 };
    const args: (string | number)[] = [DEAD_LETTER_MAX, items.length];
    for (const it of items) {
      const o = it.outcome;
      args.push(
        it.ticketId,
        it.messageId,
        it.head ?? '',
        o.kind,
        o.kind === 'retry' ? o.dueAt : 0,
        it.attempts,
        it.firstAttemptAt,
        o.kind === 'retry' || o.kind === 'dead' ? o.reason.slice(0, 500) : '',
      );
    }
    const [settled, stale] = (await this.run('webhook_settle', now, args)) as [number, number];
    return { settled, stale };
  }

  /** Pending webhook events in every list (kept by the scripts, so it costs one GET). */
  async backlog(): Promise<number> {
    return Number((await this.redis.get(this.keys.webhookBacklog())) ?? 0);
  }

  /** The records still pending for one message, oldest first. */
  async pending(messageId: string): Promise<string[]> {
    return this.redis.lrange(this.keys.webhookQueue(messageId), 0, -1);
  }

  /** The newest dead letters first. */
  async deadLetters(count = 100): Promise<DeadLetter[]> {
    const rows = (await this.redis.xrevrange(this.keys.webhookDeadLetters(), '+', '-', 'COUNT', count)) as [string, string[]][];
    return rows.map(([entryId, flat]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i] as string] = flat[i + 1] as string;
      return {
        entryId,
        messageId: f['i'] ?? '',
        reason: f['r'] ?? '',
        attempts: Number(f['n'] ?? 0),
        firstAttemptAt: Number(f['f'] ?? 0),
        deadAt: Number(f['t'] ?? 0),
        record: f['b'] ?? '',
      };
    });
  }
}
