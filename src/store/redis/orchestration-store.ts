/**
 * The orchestration engine's view of Redis: each move of a chain is one Lua script (lua/orch_*.lua,
 * sharing lua/orch_common.lua) that checks where the chain is before it changes anything, so a
 * notice read twice, or by two processes, moves a chain once. Chains live in {p}oc:{id}; the
 * notices that wake the engine (a message of a chain is final, a chain's timer is due) in the
 * stream {p}orn, read by the consumer group "orch" of every process.
 */
import type { Redis } from 'ioredis';
import { Keys, GROUP_ORCH } from './keys.js';
import { defineScripts, run } from './scripts.js';
import { claimIdle, ensureGroup, readGroup, readOwnPending, type StreamEntry } from './streams.js';

export type ChainStatus = 'waiting' | 'sending' | 'inflight' | 'delivered' | 'failed' | 'expired';
export const FINAL_CHAIN: ReadonlySet<ChainStatus> = new Set(['delivered', 'failed', 'expired']);

/** One attempt of a chain as the scripts record it (short keys: Lua writes them). */
export interface StoredAttempt {
  readonly ch: string;
  /** The message of the attempt (none for a step skipped or refused before a message existed). */
  readonly mid?: string;
  /** sent (in flight), a message's final status, refused (at admission), skipped, timeout or expired (abandoned). */
  readonly st: string;
  readonly err?: string;
  /** Micros: reserved while in flight, then what was billed. */
  readonly cost?: number;
  readonly t: number;
  /** The final status that arrived after the attempt was abandoned, and its error. */
  readonly late?: string;
  readonly lateErr?: string;
  /** Why a step was skipped. */
  readonly why?: string;
}

export interface StoredChain {
  readonly id: string;
  readonly accountId: string;
  readonly plan: string;
  readonly status: ChainStatus;
  readonly step: number;
  readonly spentMicros: number;
  readonly attempts: readonly StoredAttempt[];
  readonly createdAt: number;
  readonly doneAt: number | undefined;
  readonly reason: string;
  readonly finalChannel: string;
  readonly deadline: number;
}

export interface CreateChain {
  readonly id: string;
  readonly accountId: string;
  readonly plan: string;
  readonly startAt: number;
  /** 0: none. */
  readonly deadline: number;
  readonly maxRetries: number;
  readonly retryDelayMs: number;
  readonly backoffBaseMs: number;
  readonly sequential: boolean;
  readonly receiptWindowMs: number;
  readonly steps: number;
  readonly firstMessageId: string;
  readonly idempotency?: { readonly key: string; readonly record: string; readonly ttlSeconds: number };
}

export type ClaimResult =
  | { readonly kind: 'send'; readonly plan: string; readonly step: number; readonly retries: number; readonly spentMicros: number; readonly messageId: string; readonly accountId: string }
  | { readonly kind: 'moved'; readonly status: string }
  | { readonly kind: 'stale' };

export type SentResult =
  | { readonly kind: 'admitted'; readonly step: number; readonly channel: string; readonly messageId: string; readonly priceMicros: number }
  | { readonly kind: 'refused'; readonly step: number; readonly channel: string; readonly error: string; readonly retryable: boolean }
  | { readonly kind: 'none'; readonly why: string };

/** A skipped step as recorded. */
export interface Skipped {
  readonly ch: string;
  readonly st: 'skipped';
  readonly why: string;
}

export type Notice =
  | { readonly kind: 'final'; readonly entryId: string; readonly chain: string; readonly attempt: number; readonly messageId: string; readonly status: string; readonly error: string; readonly billedMicros: number }
  | { readonly kind: 'timer'; readonly entryId: string; readonly chain: string; readonly token: string };

export interface OrchestrationStoreOptions {
  readonly prefix: string;
  readonly finalRetentionSeconds: number;
  readonly retentionSeconds: number;
}

function notice(e: StreamEntry): Notice | undefined {
  const f = e.fields;
  const chain = f['c'];
  if (chain === undefined || chain === '') return undefined;
  if (f['k'] === 't') return { kind: 'timer', entryId: e.id, chain, token: f['t'] ?? '' };
  if (f['k'] === 'f') {
    return { kind: 'final', entryId: e.id, chain, attempt: Number(f['n'] ?? 0), messageId: f['i'] ?? '', status: f['s'] ?? '', error: f['e'] ?? '', billedMicros: Number(f['p'] ?? 0) };
  }
  return undefined;
}

export class OrchestrationStore {
  readonly keys: Keys;

  constructor(
    readonly redis: Redis,
    private readonly opts: OrchestrationStoreOptions,
  ) {
    this.keys = new Keys(opts.prefix);
    defineScripts(redis);
  }

  private head(now: number): [string, number, number] {
    return [this.opts.prefix, now, this.opts.finalRetentionSeconds];
  }

  /** Stores a chain and its first timer; a repeated idempotency key answers the first request's record. */
  async create(c: CreateChain, now = Date.now()): Promise<{ kind: 'created' } | { kind: 'duplicate'; record: string }> {
    const idem = c.idempotency;
    const res = (await run(this.redis, 'orch_create', [
      ...this.head(now),
      c.id,
      c.accountId,
      c.plan,
      c.startAt,
      c.deadline,
      c.maxRetries,
      c.retryDelayMs,
      c.backoffBaseMs,
      c.sequential ? 1 : 0,
      c.receiptWindowMs,
      c.steps,
      c.firstMessageId,
      idem?.key ?? '',
      idem?.record ?? '',
      idem?.ttlSeconds ?? 0,
      this.opts.retentionSeconds,
    ])) as string[];
    return res[0] === 'dup' ? { kind: 'duplicate', record: res[1] ?? '' } : { kind: 'created' };
  }

  async claim(chain: string, token: string, freshMessageId: string, now = Date.now()): Promise<ClaimResult> {
    const r = (await run(this.redis, 'orch_claim', [...this.head(now), chain, token, freshMessageId])) as string[];
    if (r[0] === 'send') {
      return { kind: 'send', plan: r[1] ?? '{}', step: Number(r[2]), retries: Number(r[3]), spentMicros: Number(r[4]), messageId: r[5] ?? '', accountId: r[6] ?? '' };
    }
    if (r[0] === 'moved') return { kind: 'moved', status: r[1] ?? '' };
    return { kind: 'stale' };
  }

  async sent(chain: string, token: string, skipped: readonly Skipped[], res: SentResult, now = Date.now()): Promise<string> {
    const args: (string | number)[] = [...this.head(now), chain, token, JSON.stringify(skipped), res.kind];
    if (res.kind === 'admitted') args.push(res.step, res.channel, res.messageId, res.priceMicros, '', 0, '');
    else if (res.kind === 'refused') args.push(res.step, res.channel, '', 0, res.error, res.retryable ? 1 : 0, '');
    else args.push(-1, '', '', 0, '', 0, res.why);
    return (await run(this.redis, 'orch_sent', args)) as string;
  }

  async outcome(n: Extract<Notice, { kind: 'final' }>, retryable: boolean, now = Date.now()): Promise<string> {
    return (await run(this.redis, 'orch_outcome', [...this.head(now), n.chain, n.attempt, n.messageId, n.status, n.error, n.billedMicros, retryable ? 1 : 0])) as string;
  }

  async get(id: string): Promise<StoredChain | undefined> {
    if (!/^[\x21-\x7e]{1,80}$/.test(id) || id.includes('|')) return undefined;
    const h = await this.redis.hgetall(this.keys.orchestration(id));
    if (h['st'] === undefined) return undefined;
    const n = Number(h['n'] ?? 0);
    const attempts: StoredAttempt[] = [];
    for (let k = 1; k <= n; k++) {
      const raw = h[`a${k}`];
      if (raw === undefined) continue;
      try {
        attempts.push(JSON.parse(raw) as StoredAttempt);
      } catch {
        // a record we cannot read is left out rather than failing the whole answer
      }
    }
    const td = Number(h['td'] ?? 0);
    return {
      id,
      accountId: h['a'] ?? '',
      plan: h['j'] ?? '{}',
      status: h['st'] as ChainStatus,
      step: Number(h['i'] ?? 0),
      spentMicros: Number(h['sp'] ?? 0),
      attempts,
      createdAt: Number(h['t0'] ?? 0),
      doneAt: td > 0 ? td : undefined,
      reason: h['fr'] ?? '',
      finalChannel: h['fc'] ?? '',
      deadline: Number(h['dl'] ?? 0),
    };
  }

  // The notice stream (consumer group "orch").

  ensureGroup(): Promise<void> {
    return ensureGroup(this.redis, this.keys.orchestrationNotices(), GROUP_ORCH);
  }

  async read(reader: Redis, consumer: string, count: number, blockMs: number): Promise<Notice[]> {
    return this.toNotices(await readGroup(reader, this.keys.orchestrationNotices(), GROUP_ORCH, consumer, count, blockMs));
  }

  /** Notices this consumer read before it was restarted (a stable consumer name) and never acknowledged. */
  async pending(consumer: string, count: number): Promise<Notice[]> {
    return this.toNotices(await readOwnPending(this.redis, this.keys.orchestrationNotices(), GROUP_ORCH, consumer, count));
  }

  /** Notices another consumer left unacknowledged longer than minIdleMs (it died or hung). */
  async claimIdle(consumer: string, minIdleMs: number, count: number): Promise<Notice[]> {
    return this.toNotices(await claimIdle(this.redis, this.keys.orchestrationNotices(), GROUP_ORCH, consumer, minIdleMs, count));
  }

  /** Done with these notices: acknowledged and deleted (the stream holds only work not yet done). */
  async ack(entryIds: readonly string[]): Promise<void> {
    if (entryIds.length === 0) return;
    const key = this.keys.orchestrationNotices();
    await this.redis.multi().xack(key, GROUP_ORCH, ...entryIds).xdel(key, ...entryIds).exec();
  }

  private toNotices(entries: readonly StreamEntry[]): Notice[] {
    const out: Notice[] = [];
    const bad: string[] = [];
    for (const e of entries) {
      const n = notice(e);
      if (n) out.push(n);
      else bad.push(e.id);
    }
    if (bad.length > 0) void this.ack(bad).catch(() => undefined);
    return out;
  }
}
