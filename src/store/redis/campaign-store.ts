/**
 * Campaigns in Redis (keys.ts: cp, cpr, cpl, cpd, cpe, cpa, cpx). The campaign's state, its cursor
 * and its recipients live here, so any process may carry on a campaign another began, and a restart
 * loses nothing. Uploads are plain pipelined writes; every step that must be atomic across
 * processes (claim, settle, state transitions) is one Lua script.
 */
import type { Redis } from 'ioredis';
import type { CampaignDefinition, CampaignStatus } from '../../core/campaign.js';
import type { Keys } from './keys.js';
import { campaignRef } from './message-store.js';
import { defineScripts, run as runScript, type ScriptName } from './scripts.js';

export type ClaimResult =
  | { readonly kind: 'claim'; readonly lease: string; readonly reclaimed: boolean; readonly recipients: readonly { readonly index: number; readonly json: string }[] }
  | { readonly kind: 'wait'; readonly ms: number }
  | { readonly kind: 'idle'; readonly status: string };

/** tidy: drop the recipients of a finished campaign (campaign_control.lua), for an upload cancelled while it ran. */
export type ControlAction = 'start' | 'pause' | 'resume' | 'cancel' | 'abort' | 'tidy';
export type ControlResult = { readonly ok: true; readonly status: CampaignStatus } | { readonly ok: false; readonly reason: 'illegal'; readonly status: CampaignStatus } | { readonly ok: false; readonly reason: 'unknown' };

export interface Settlement {
  readonly lease: string;
  /** Recipients the lease held. */
  readonly size: number;
  readonly sent: number;
  readonly failed: number;
  readonly skipped: number;
  readonly deferred: readonly { readonly index: number; readonly dueAt: number }[];
  /** Per-recipient error records (JSON), kept up to keepErrors. */
  readonly errors: readonly string[];
}

/** What Redis holds of a campaign, counts as numbers. */
export interface CampaignState {
  readonly campaignId: string;
  /** Undefined while the upload runs, and for an upload that was aborted (the body is read to its end first). */
  readonly definition: CampaignDefinition | undefined;
  readonly status: CampaignStatus;
  /** Recipients stored (valid ones). */
  readonly total: number;
  /** Recipients refused at upload (invalid). */
  readonly rejected: number;
  /** Recipients handed out so far (the cursor). */
  readonly handed: number;
  /** Messages admitted. */
  readonly sent: number;
  /** Messages final, and by final status. */
  readonly final: number;
  readonly finals: Readonly<Record<string, number>>;
  /** Recipients that got no message: failed (with a reason) or skipped (blocked, opted out…). */
  readonly failed: number;
  readonly skipped: number;
  /** Recipients waiting for their local window now. */
  readonly deferred: number;
  /** Recipients in claims not yet settled. */
  readonly leased: number;
  /** Recipients never sent because the campaign was cancelled. */
  readonly cancelled: number;
  readonly createdAt: number;
  readonly finishedAt: number | undefined;
}

export class CampaignStore {
  constructor(
    readonly redis: Redis,
    readonly keys: Keys,
    private readonly keepErrors = 10_000,
  ) {
    defineScripts(redis);
  }

  private run(name: ScriptName, args: readonly (string | number)[], now: number): Promise<unknown> {
    return runScript(this.redis, name, [this.keys.prefix, now, 0, ...args]);
  }

  /**
   * Records a new campaign in state `ingesting`. 'exists' when the account has a campaign of that id
   * (one whose upload was aborted, or stalled for staleMs, is replaced).
   */
  async create(ref: string, accountId: string, now: number, staleMs = 60_000): Promise<'created' | 'exists'> {
    const k = this.keys.campaign(ref);
    if ((await this.redis.hsetnx(k, 'st', 'ingesting')) === 0) {
      const [st, hb] = await this.redis.hmget(k, 'st', 'hb');
      if (st !== 'aborted' && !(st === 'ingesting' && Number(hb ?? 0) < now - staleMs)) return 'exists';
      await this.redis.del(k, this.keys.campaignRecipients(ref), this.keys.campaignLeases(ref), this.keys.campaignDeferred(ref), this.keys.campaignErrors(ref));
      if ((await this.redis.hsetnx(k, 'st', 'ingesting')) === 0) return 'exists';
    }
    await this.redis.multi().hset(k, 'a', accountId, 'id', ref.slice(accountId.length + 1), 'ing', 1, 'n', 0, 'cur', 0, 't0', now, 'hb', now).zadd(this.keys.campaignsActive(), now, ref).exec();
    return 'created';
  }

  /** Gives an uploaded campaign its definition (known once the whole body was read). */
  async define(ref: string, def: CampaignDefinition, now: number): Promise<void> {
    await this.redis
      .multi()
      .hset(this.keys.campaign(ref), 'j', JSON.stringify(def), 'rate', def.rateLimit, 'mc', def.maxConcurrent, 'sa', def.startAt ?? 0)
      .zadd(this.keys.campaignList(def.accountId), now, def.id)
      .exec();
  }

  /**
   * An upload that began before its campaignId was read (the body named it after the recipients)
   * takes its name: false when that name is taken.
   */
  async rename(from: string, to: string, campaignId: string, now: number): Promise<boolean> {
    if ((await this.redis.hsetnx(this.keys.campaign(to), 'st', 'ingesting')) === 0) return false;
    const pipe = this.redis.multi();
    pipe.del(this.keys.campaign(to));
    pipe.rename(this.keys.campaign(from), this.keys.campaign(to));
    pipe.hset(this.keys.campaign(to), 'id', campaignId);
    if ((await this.redis.exists(this.keys.campaignRecipients(from))) === 1) pipe.rename(this.keys.campaignRecipients(from), this.keys.campaignRecipients(to));
    if ((await this.redis.exists(this.keys.campaignErrors(from))) === 1) pipe.rename(this.keys.campaignErrors(from), this.keys.campaignErrors(to));
    pipe.zrem(this.keys.campaignsActive(), from).zadd(this.keys.campaignsActive(), now, to);
    await pipe.exec();
    return true;
  }

  /** One upload batch: valid recipients from index `first` on, and the errors of invalid ones. */
  async append(ref: string, first: number, recipients: readonly string[], rejected: readonly string[], now: number): Promise<void> {
    const m = this.redis.multi();
    if (recipients.length > 0) {
      const fields: (string | number)[] = [];
      recipients.forEach((r, i) => fields.push(first + i, r));
      m.hset(this.keys.campaignRecipients(ref), ...fields);
      m.hset(this.keys.campaign(ref), 'n', first + recipients.length);
    }
    if (rejected.length > 0) {
      m.hincrby(this.keys.campaign(ref), 'rej', rejected.length);
      m.rpush(this.keys.campaignErrors(ref), ...rejected);
      m.ltrim(this.keys.campaignErrors(ref), 0, this.keepErrors - 1);
    }
    m.hset(this.keys.campaign(ref), 'hb', now);
    await m.exec();
  }

  async control(ref: string, action: ControlAction, now: number): Promise<ControlResult> {
    const [code, st] = (await this.run('campaign_control', [ref, action], now)) as [string, string];
    if (code === 'ok') return { ok: true, status: st as CampaignStatus };
    if (code === 'illegal') return { ok: false, reason: 'illegal', status: st as CampaignStatus };
    return { ok: false, reason: 'unknown' };
  }

  async claim(ref: string, want: number, leaseMs: number, now: number): Promise<ClaimResult> {
    const r = (await this.run('campaign_claim', [ref, want, leaseMs], now)) as (string | number)[];
    if (r[0] === 'wait') return { kind: 'wait', ms: Number(r[1]) };
    if (r[0] === 'idle') return { kind: 'idle', status: String(r[1]) };
    const recipients: { index: number; json: string }[] = [];
    for (let i = 3; i < r.length; i += 2) recipients.push({ index: Number(r[i]), json: String(r[i + 1] ?? '') });
    return { kind: 'claim', lease: String(r[1]), reclaimed: Number(r[2]) === 1, recipients };
  }

  /** Settles a lease once; false when it had been settled already. */
  async settle(ref: string, s: Settlement, now: number): Promise<boolean> {
    const args: (string | number)[] = [ref, s.lease, s.size, s.sent, s.failed, s.skipped, s.deferred.length, s.errors.length, this.keepErrors];
    for (const d of s.deferred) args.push(d.index, d.dueAt);
    args.push(...s.errors);
    return ((await this.run('campaign_done', args, now)) as number) === 1;
  }

  async get(ref: string): Promise<CampaignState | undefined> {
    const k = this.keys.campaign(ref);
    const [h, deferred] = await Promise.all([this.redis.hgetall(k), this.redis.zcard(this.keys.campaignDeferred(ref))]);
    if (h['st'] === undefined || h['id'] === undefined) return undefined;
    const n = (f: string): number => Number(h[f] ?? 0) || 0;
    const finals: Record<string, number> = {};
    for (const [f, v] of Object.entries(h)) if (f.startsWith('f_')) finals[f.slice(2)] = Number(v);
    return {
      campaignId: h['id'],
      definition: h['j'] !== undefined ? (JSON.parse(h['j']) as CampaignDefinition) : undefined,
      status: h['st'] as CampaignStatus,
      total: n('n'),
      rejected: n('rej'),
      handed: n('cur'),
      sent: n('sent'),
      final: n('fin'),
      finals,
      failed: n('fail'),
      skipped: n('skip'),
      deferred,
      leased: n('lsd'),
      cancelled: n('cnl'),
      createdAt: n('t0'),
      finishedAt: h['tdone'] !== undefined ? Number(h['tdone']) : undefined,
    };
  }

  /** Per-recipient errors (JSON records), oldest first. */
  async errors(ref: string, offset: number, count: number): Promise<string[]> {
    return this.redis.lrange(this.keys.campaignErrors(ref), offset, offset + count - 1);
  }

  /** Campaigns being uploaded or running, oldest first (every engine polls these; scheduled and paused ones are not among them). */
  async active(limit = 1000): Promise<string[]> {
    return this.redis.zrange(this.keys.campaignsActive(), 0, limit - 1);
  }

  /**
   * Recipients left by campaigns that ended before a campaign's end deleted them: each of the
   * accounts' campaigns that still has recipients gets campaign_control's tidy, which decides in one
   * script whether the campaign has ended (a running one is refused and keeps them; an aborted
   * campaign's id may be taken by a new upload meanwhile). Returns how many had theirs dropped.
   */
  async dropEndedRecipients(accounts: readonly string[], now: number): Promise<number> {
    let dropped = 0;
    for (const account of accounts) {
      const ids = await this.redis.zrange(this.keys.campaignList(account), 0, -1);
      for (let i = 0; i < ids.length; i += 500) {
        const refs = ids.slice(i, i + 500).map((id) => campaignRef(account, id));
        const pipe = this.redis.pipeline();
        for (const ref of refs) pipe.exists(this.keys.campaignRecipients(ref));
        const res = (await pipe.exec()) ?? [];
        for (const [k, ref] of refs.entries()) {
          if (res[k]?.[1] === 1 && (await this.control(ref, 'tidy', now)).ok) dropped++;
        }
      }
    }
    return dropped;
  }

  /** The account's campaign ids, newest first. */
  async list(account: string, limit: number): Promise<string[]> {
    return this.redis.zrevrange(this.keys.campaignList(account), 0, limit - 1);
  }
}
