/**
 * The campaign engine: a router-level service that any door (Catalyst v2's /messages/campaign, the
 * compatible APIs' campaign endpoints) drives through this TypeScript API.
 *
 * - `upload(def)` → a CampaignUpload: recipients are added one by one as they are parsed, checked,
 *   and written to Redis in batches (never all held in memory); `finish()` starts the campaign (now,
 *   or at its start time through the one scheduler, timers.lua "c|").
 * - Every process runs `start()`: it polls the active campaigns and claims recipients (campaign_claim.lua)
 *   at the campaign's rate (a token bucket in Redis, so across processes) and within maxConcurrent
 *   (messages admitted and not final; finalize() counts them down), with up to campaigns.concurrency
 *   workers a campaign and campaigns.maxWorkers in all, the campaigns taking turns (fill()). Each claim is a lease: the
 *   recipients are resolved (contact, channel, template, local window), admitted through Admission
 *   like any message, under an idempotency key named after the lease, then settled
 *   (campaign_done.lua). A lease whose process died is handed out again and admitted under the same
 *   key, so no recipient is sent twice and none is lost.
 * - `pause`/`resume`/`cancel` are state transitions in Redis (campaign_control.lua), seen by every
 *   process at its next claim; `progress` reads the counts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import {
  decodeRecipient,
  encodeRecipient,
  recipientZone,
  resolveRecipient,
  rewriteUrls,
  RecipientSchema,
  windowDelayMs,
  type CampaignChannel,
  type CampaignDefinition,
  type CampaignStatus,
  type Recipient,
  type Resolution,
} from '../core/campaign.js';
import type { ChannelContent } from '../core/channel-content.js';
import type { AccountConfig, CampaignsConfig, ChannelsConfig } from '../core/config.js';
import type { Contact } from '../core/contact.js';
import { newMessageId } from '../core/ids.js';
import { smsSourceAddress, type Message } from '../core/message.js';
import { normaliseMsisdn } from '../core/msisdn.js';
import type { CampaignState, CampaignStore, ControlAction, ControlResult } from '../store/redis/campaign-store.js';
import type { ContactStore } from '../store/redis/contact-store.js';
import { campaignRef } from '../store/redis/message-store.js';
import type { Admission, AdmissionRequest } from './admission.js';
import { sleep } from './dispatcher.js';

/** How long an admitted lease's idempotency record is kept (a lease re-run later than this could send again). */
const LEASE_RECORD_TTL_SECONDS = 7 * 24 * 3600;
/** Admission attempts of a lease's throttled recipients before they go back to wait (deferred). */
const MAX_ATTEMPTS = 5;
/** Recipients written to Redis per upload round trip. */
const UPLOAD_BATCH = 1000;

export interface CampaignEngineDeps {
  readonly store: CampaignStore;
  readonly contacts: ContactStore;
  readonly admission: Admission;
  readonly accounts: readonly AccountConfig[];
  readonly channels: ChannelsConfig;
  readonly options: CampaignsConfig;
  readonly log: Logger;
  /** The clock (tests fix it for time windows). */
  readonly now?: () => number;
  /** The base of tracked links when campaigns.publicBaseUrl is unset (set once the HTTP port is known). */
  readonly linkBase?: () => string | undefined;
}

/** A tracked link's target and the message it was sent in. */
export interface TrackedLink {
  readonly accountId: string;
  readonly campaignId: string;
  readonly messageId: string;
  readonly url: string;
  readonly sentAt: number;
}

/** A recipient error as recorded and reported (GET …/campaign/{id}). */
export interface RecipientError {
  /** Position in the uploaded list, from 0. */
  readonly index: number;
  readonly phoneOrId: string;
  readonly code: string;
  readonly reason: string;
}

export interface CampaignProgress {
  readonly campaignId: string;
  readonly name: string | undefined;
  readonly status: CampaignStatus;
  /** Recipients accepted at upload. */
  readonly total: number;
  readonly rejected: number;
  /** Recipients not yet handed to admission (not reached, or waiting for their local window). */
  readonly pending: number;
  readonly deferred: number;
  /** Messages admitted and not yet final. */
  readonly queued: number;
  /** Messages admitted. */
  readonly sent: number;
  readonly delivered: number;
  /** Recipients that got no message for a reason, plus messages that ended undelivered. */
  readonly failed: number;
  readonly skipped: number;
  readonly cancelled: number;
  readonly createdAt: number;
  readonly startAt: number | undefined;
  readonly finishedAt: number | undefined;
}

export type UploadResult =
  | { readonly ok: true; readonly accepted: number; readonly rejected: number; readonly status: CampaignStatus; readonly errors: readonly RecipientError[] }
  | { readonly ok: false; readonly reason: 'too_many'; readonly limit: number };

/** One campaign's upload in progress: add recipients as they arrive, then finish or abort. */
export class CampaignUpload {
  private batch: string[] = [];
  private rejectedBatch: string[] = [];
  private accepted = 0;
  private rejected = 0;
  private readonly firstErrors: RecipientError[] = [];
  private index = 0;

  constructor(
    private readonly engine: CampaignEngine,
    private ref: string,
    readonly accountId: string,
    /** The campaign id the upload was begun under (the definition may name another: see finish). */
    readonly campaignId: string,
  ) {}

  get count(): number {
    return this.index;
  }

  /** Checks one recipient and buffers it; resolves once it is safe to add more (a batch was written). */
  async add(raw: unknown): Promise<void> {
    const at = this.index++;
    const r = RecipientSchema.safeParse(raw);
    if (r.success) {
      this.batch.push(encodeRecipient(r.data, at));
    } else {
      const phoneOrId = typeof raw === 'object' && raw !== null && typeof (raw as { phoneOrId?: unknown }).phoneOrId === 'string' ? (raw as { phoneOrId: string }).phoneOrId : '';
      const e: RecipientError = { index: at, phoneOrId, code: 'INVALID_RECIPIENT', reason: r.error.issues.map((i) => `${i.path.join('.') || '(recipient)'}: ${i.message}`).join('; ') };
      if (this.firstErrors.length < 100) this.firstErrors.push(e);
      this.rejectedBatch.push(JSON.stringify(e));
      this.rejected++;
    }
    if (this.batch.length + this.rejectedBatch.length >= UPLOAD_BATCH) await this.flush();
  }

  private async flush(): Promise<void> {
    const batch = this.batch;
    const rejected = this.rejectedBatch;
    this.batch = [];
    this.rejectedBatch = [];
    await this.engine.deps.store.append(this.ref, this.accepted, batch, rejected, this.engine.now());
    this.accepted += batch.length;
  }

  /** Writes what is left, gives the campaign its definition and starts it (or schedules it). */
  async finish(def: CampaignDefinition): Promise<UploadResult | 'exists'> {
    await this.flush();
    const store = this.engine.deps.store;
    if (def.id !== this.campaignId) {
      const to = campaignRef(this.accountId, def.id);
      if (!(await store.rename(this.ref, to, def.id, this.engine.now()))) {
        await this.abort();
        return 'exists';
      }
      this.ref = to;
    }
    await store.define(this.ref, def, this.engine.now());
    const r = await store.control(this.ref, 'start', this.engine.now());
    // Cancelled while the upload ran: the recipients written after the cancel go as well.
    if (!r.ok && r.reason === 'illegal') await store.control(this.ref, 'tidy', this.engine.now());
    const status: CampaignStatus = r.ok ? r.status : r.reason === 'illegal' ? r.status : 'aborted';
    return { ok: true, accepted: this.accepted, rejected: this.rejected, status, errors: this.firstErrors };
  }

  /** The upload failed (bad body, client gone): nothing of it is sent. */
  async abort(): Promise<void> {
    await this.engine.deps.store.control(this.ref, 'abort', this.engine.now());
  }
}

interface Prepared {
  readonly index: number;
  readonly recipient: Recipient & { readonly position: number };
  readonly request: AdmissionRequest;
}

export class CampaignEngine {
  readonly now: () => number;
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  /** start()'s one pass over campaigns that ended still holding their recipients. */
  private tidied: Promise<void> = Promise.resolve();
  private readonly abort = new AbortController();
  /** Workers of each campaign in this process (an entry goes with its last worker). */
  private readonly workers = new Map<string, number>();
  private readonly work = new Set<Promise<void>>();
  /** The active campaigns as last polled, and where fill() takes up its round. */
  private active: readonly string[] = [];
  private nextActive = 0;
  private readonly definitions = new Map<string, CampaignDefinition>();
  private readonly accounts: ReadonlyMap<string, AccountConfig>;
  private lastPollWarning = 0;

  constructor(readonly deps: CampaignEngineDeps) {
    this.now = deps.now ?? Date.now;
    // Every sleeping worker listens on it, and the poll loop.
    setMaxListeners(deps.options.maxWorkers + 1, this.abort.signal);
    this.accounts = new Map(deps.accounts.map((a) => [a.id, a]));
  }

  /** The account's channel preference and sender defaults, for building a definition. */
  channelPreference(accountId: string): readonly CampaignChannel[] {
    return this.accounts.get(accountId)?.channelPreference ?? ['whatsapp', 'sms'];
  }

  /**
   * Starts an upload under a campaign id ('exists' when the account has a campaign of that id); with
   * none, under a new id (`CAMP-…`) that finish() may still change to the one the body names.
   */
  async upload(accountId: string, campaignId: string = newCampaignId(this.now())): Promise<CampaignUpload | 'exists'> {
    const ref = campaignRef(accountId, campaignId);
    const r = await this.deps.store.create(ref, accountId, this.now());
    return r === 'exists' ? 'exists' : new CampaignUpload(this, ref, accountId, campaignId);
  }

  /** A whole campaign from a stream of recipients (what upload/add/finish do, for callers that have an iterable). */
  async create(def: CampaignDefinition, recipients: AsyncIterable<unknown> | Iterable<unknown>): Promise<UploadResult | 'exists'> {
    const up = await this.upload(def.accountId, def.id);
    if (up === 'exists') return 'exists';
    try {
      for await (const r of recipients) {
        if (up.count >= this.deps.options.maxRecipients) {
          await up.abort();
          return { ok: false, reason: 'too_many', limit: this.deps.options.maxRecipients };
        }
        await up.add(r);
      }
    } catch (err) {
      await up.abort();
      throw err;
    }
    return up.finish(def);
  }

  control(accountId: string, campaignId: string, action: Exclude<ControlAction, 'start' | 'abort' | 'tidy'>): Promise<ControlResult> {
    return this.deps.store.control(campaignRef(accountId, campaignId), action, this.now());
  }

  async state(accountId: string, campaignId: string): Promise<CampaignState | undefined> {
    return this.deps.store.get(campaignRef(accountId, campaignId));
  }

  async progress(accountId: string, campaignId: string): Promise<CampaignProgress | undefined> {
    const s = await this.state(accountId, campaignId);
    return s ? progressOf(s) : undefined;
  }

  /** Per-recipient errors, oldest first. */
  async errors(accountId: string, campaignId: string, offset = 0, count = 100): Promise<RecipientError[]> {
    const raw = await this.deps.store.errors(campaignRef(accountId, campaignId), offset, count);
    return raw.map((j) => JSON.parse(j) as RecipientError);
  }

  list(accountId: string, limit = 100): Promise<string[]> {
    return this.deps.store.list(accountId, limit);
  }

  /** What a tracked link (GET /t/{code}) stands for, while its attribution window lasts. */
  async trackedLink(code: string): Promise<TrackedLink | undefined> {
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(code)) return undefined;
    const j = await this.deps.store.redis.get(this.deps.store.keys.trackedLink(code));
    if (j === null) return undefined;
    const v = JSON.parse(j) as { a: string; c: string; m: string; u: string; t: number };
    return { accountId: v.a, campaignId: v.c, messageId: v.m, url: v.u, sentAt: v.t };
  }

  // ---- sending ----

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
    // Campaigns that ended before a campaign's end deleted its recipients (campaign_control.lua)
    // still hold them: dropped once, beside the loop.
    this.tidied = this.deps.store.dropEndedRecipients([...this.accounts.keys()], this.now()).then(
      (n) => {
        if (n > 0) this.deps.log.info({ campaigns: n }, 'recipients of campaigns that had ended dropped');
      },
      (err: unknown) => {
        this.deps.log.warn({ err }, 'could not drop the recipients of campaigns that had ended');
      },
    );
  }

  async close(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await this.loopDone;
    await this.tidied;
    await Promise.allSettled([...this.work]);
  }

  private async loop(): Promise<void> {
    const o = this.deps.options;
    while (this.running) {
      try {
        this.active = await this.deps.store.active();
        // Definitions are a cache of running campaigns: one cancelled, or finished in another
        // process, goes with its entry here.
        const running = new Set(this.active);
        for (const ref of this.definitions.keys()) if (!running.has(ref)) this.definitions.delete(ref);
        this.fill();
      } catch (err) {
        // Redis down: one line per 5 s, not one per poll.
        if (Date.now() - this.lastPollWarning >= 5000) {
          this.lastPollWarning = Date.now();
          this.deps.log.warn({ err }, 'campaign poll failed');
        }
      }
      await sleep(o.pollMs, this.abort.signal);
    }
  }

  /**
   * Starts workers up to campaigns.maxWorkers, one campaign at a time round the active list from
   * where the last round stopped, skipping those at campaigns.concurrency; so when the cap binds, every
   * campaign gets a worker before any gets a second, and the oldest campaigns do not take every turn.
   */
  private fill(): void {
    const o = this.deps.options;
    const refs = this.active;
    let passed = 0;
    while (this.running && this.work.size < o.maxWorkers && passed < refs.length) {
      const at = this.nextActive % refs.length;
      this.nextActive = at + 1;
      const ref = refs[at];
      if (ref === undefined || (this.workers.get(ref) ?? 0) >= o.concurrency) {
        passed++;
        continue;
      }
      passed = 0;
      this.spawn(ref);
    }
  }

  private spawn(ref: string): void {
    this.workers.set(ref, (this.workers.get(ref) ?? 0) + 1);
    const p: Promise<void> = this.worker(ref)
      .finally(() => {
        const n = (this.workers.get(ref) ?? 1) - 1;
        if (n > 0) this.workers.set(ref, n);
        else this.workers.delete(ref);
        this.work.delete(p);
      })
      .then((yielded) => {
        // Its campaign has more: the freed place goes to the next campaign's turn now, not at the next poll.
        if (yielded) this.fill();
      });
    this.work.add(p);
  }

  /**
   * Claims and sends until the campaign has nothing for this worker now; or, when the process is at
   * campaigns.maxWorkers, after one lease, so that the place goes round (true: yielded).
   */
  private async worker(ref: string): Promise<boolean> {
    const o = this.deps.options;
    while (this.running) {
      let claim;
      try {
        claim = await this.deps.store.claim(ref, o.claimBatch, o.leaseMs, this.now());
      } catch (err) {
        this.deps.log.warn({ err, campaign: ref }, 'campaign claim failed');
        return false;
      }
      if (claim.kind === 'idle') {
        if (claim.status !== 'scheduled' && claim.status !== 'paused') this.definitions.delete(ref);
        return false;
      }
      if (claim.kind === 'wait') {
        await sleep(Math.min(claim.ms, o.pollMs * 2), this.abort.signal);
        return false;
      }
      try {
        await this.send(ref, claim.lease, claim.recipients);
      } catch (err) {
        // The lease stays: after leaseMs any process takes it again, under the same idempotency keys.
        this.deps.log.error({ err, campaign: ref, lease: claim.lease }, 'campaign lease failed; it will be retried');
        return false;
      }
      // Settled: handing the place on here loses nothing and sends nothing twice.
      if (this.work.size >= o.maxWorkers) return true;
    }
    return false;
  }

  private async definition(ref: string): Promise<CampaignDefinition | undefined> {
    let d = this.definitions.get(ref);
    if (!d) {
      const j = await this.deps.store.redis.hget(this.deps.store.keys.campaign(ref), 'j');
      if (j === null) return undefined;
      d = JSON.parse(j) as CampaignDefinition;
      this.definitions.set(ref, d);
    }
    return d;
  }

  private defaultSender(accountId: string, channel: CampaignChannel): string | undefined {
    if (channel === 'sms') return '';
    const senders = (this.deps.channels[channel]?.senders ?? []) as readonly { account: string; from: string }[];
    return senders.find((s) => s.account === accountId)?.from;
  }

  /** One lease: resolve, defer, admit (retrying throttled ones), settle. */
  private async send(ref: string, lease: string, items: readonly { index: number; json: string }[]): Promise<void> {
    const def = await this.definition(ref);
    if (!def) return;
    const now = this.now();
    const account = this.accounts.get(def.accountId);
    const errors: RecipientError[] = [];
    const deferred: { index: number; dueAt: number }[] = [];
    let skipped = 0;
    const recipients = items.map((it) => ({ index: it.index, r: decodeRecipient(it.json) }));
    const phones = recipients.map(({ r }) => (r ? normaliseMsisdn(r.phoneOrId) : undefined));
    const contacts = await this.lookupContacts(def.accountId, recipients.map(({ r }) => r), phones);
    const prepared: Prepared[] = [];
    const links: [string, string][] = [];
    recipients.forEach(({ index: slot, r }, i) => {
      if (!r) {
        errors.push({ index: slot, phoneOrId: '', code: 'INVALID_RECIPIENT', reason: 'unreadable recipient' });
        return;
      }
      // Errors name the position in the upload; leases, deferrals and records the stored slot.
      const index = r.position;
      const contact = contacts[i];
      const phone = phones[i] ?? contact?.phone;
      const res = resolveRecipient(def, r, { contact, phone: phones[i], defaultSender: (ch) => this.defaultSender(def.accountId, ch) });
      if (res.kind === 'skip') {
        skipped++;
        errors.push({ index, phoneOrId: r.phoneOrId, code: res.reason, reason: res.detail });
        return;
      }
      if (res.kind === 'fail') {
        errors.push({ index, phoneOrId: r.phoneOrId, code: res.reason, reason: res.detail });
        return;
      }
      if (def.timeZoneOptimization) {
        const wait = windowDelayMs(recipientZone(contact, phone), now, def.window);
        if (wait > 0) {
          deferred.push({ index: slot, dueAt: now + wait });
          return;
        }
      }
      const message = this.message(def, res, now, links);
      const request: AdmissionRequest = { message, registeredDelivery: 0 };
      // A recipient without a route or price is refused by admission itself (admit() below).
      if (!account) {
        errors.push({ index, phoneOrId: r.phoneOrId, code: 'NO_ROUTE', reason: 'unknown account' });
        return;
      }
      prepared.push({ index: slot, recipient: r, request });
    });
    if (links.length > 0) {
      const ttl = Math.max(1, def.attributionWindowDays) * 86_400;
      const pipe = this.deps.store.redis.pipeline();
      for (const [k, v] of links) pipe.set(k, v, 'EX', ttl);
      await pipe.exec();
    }
    const admitted = await this.admit(ref, lease, prepared, errors, deferred);
    const failed = errors.length - skipped;
    await this.deps.store.settle(
      ref,
      { lease, size: items.length, sent: admitted, failed, skipped, deferred, errors: errors.map((e) => JSON.stringify(e)) },
      this.now(),
    );
  }

  /** Admits the prepared messages under the lease's idempotency keys; returns how many were admitted. */
  private async admit(ref: string, lease: string, prepared: readonly Prepared[], errors: RecipientError[], deferred: { index: number; dueAt: number }[]): Promise<number> {
    let pending = prepared;
    let admitted = 0;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= MAX_ATTEMPTS) {
        // Still throttled: back to wait, claimed again later under a new lease.
        const due = this.now() + 1000;
        for (const p of pending) deferred.push({ index: p.index, dueAt: due });
        break;
      }
      const accountId = pending[0]?.request.message.accountId ?? '';
      const key = this.deps.store.keys.idempotency(accountId, createHash('sha256').update(`campaign\n${ref}\n${lease}\n${attempt}`).digest('hex'));
      const record = JSON.stringify({ i: pending.map((p) => p.index) });
      const many = await this.deps.admission.submitMany(
        pending.map((p) => p.request),
        { idempotency: { key, record, ttlSeconds: LEASE_RECORD_TTL_SECONDS } },
      );
      const retry: Prepared[] = [];
      let waitMs = 0;
      if (many.kind === 'duplicate') {
        // This lease was admitted before (its holder died before settling): the codes say what happened.
        const byIndex = new Map(pending.map((p) => [p.index, p]));
        const indices = (JSON.parse(many.record) as { i: number[] }).i;
        indices.forEach((index, k) => {
          const p = byIndex.get(index);
          const code = many.codes[k] ?? 'throttled';
          if (code === 'accepted') admitted++;
          else if (code === 'insufficient_balance') errors.push({ index: p?.recipient.position ?? index, phoneOrId: p?.recipient.phoneOrId ?? '', code: 'INSUFFICIENT_BALANCE', reason: 'account balance too low' });
          else if (p) retry.push(p);
        });
        waitMs = 200;
      } else {
        many.results.forEach((res, k) => {
          const p = pending[k];
          if (!p) return;
          if (res.ok) {
            admitted++;
            return;
          }
          switch (res.reason) {
            case 'throttled':
            case 'platform_throttled':
            case 'overloaded':
            case 'store_error':
            case 'channel_unavailable':
              retry.push(p);
              waitMs = Math.max(waitMs, res.retryAfterMs ?? 200);
              return;
            case 'insufficient_balance':
              errors.push({ index: p.recipient.position, phoneOrId: p.recipient.phoneOrId, code: 'INSUFFICIENT_BALANCE', reason: 'account balance too low' });
              return;
            case 'no_route':
            case 'unknown_rate_card':
            case 'unknown_account':
              errors.push({ index: p.recipient.position, phoneOrId: p.recipient.phoneOrId, code: 'NO_ROUTE', reason: `${res.reason}: no route or price for ${p.request.message.channel} to this recipient` });
              return;
          }
        });
      }
      pending = retry;
      if (pending.length > 0) await sleep(Math.min(Math.max(waitMs, 20), 2000), this.abort.signal);
    }
    return admitted;
  }

  private message(def: CampaignDefinition, res: Resolution & { kind: 'send' }, now: number, links: [string, string][]): Message {
    const id = newMessageId(now);
    let text = res.text;
    if (def.trackingEnabled && def.conversionTracking && res.template === undefined) {
      const base = this.deps.options.publicBaseUrl ?? this.deps.linkBase?.() ?? '';
      text = rewriteUrls(text, (url) => {
        const code = randomBytes(9).toString('base64url');
        links.push([this.deps.store.keys.trackedLink(code), JSON.stringify({ a: def.accountId, c: def.id, m: id, u: url, t: now })]);
        return `${base.replace(/\/$/, '')}/t/${code}`;
      });
    }
    const content = contentFor(res, text);
    const sms = res.channel === 'sms';
    return {
      id,
      accountId: def.accountId,
      channel: res.channel,
      direction: 'mt',
      ingress: 'http',
      source: sms ? smsSourceAddress(res.from) : { addr: res.from, ton: 0, npi: 0 },
      destination: sms ? { addr: res.to, ton: 1, npi: 1 } : { addr: res.to, ton: 0, npi: 0 },
      body: { kind: 'text', text: sms ? text : res.template ? res.text : text },
      ...(content ? { content } : {}),
      receipt: true,
      ...(def.webhookUrl !== undefined ? { webhookUrl: def.webhookUrl } : {}),
      ...(def.costCenter !== undefined ? { costCenter: def.costCenter } : {}),
      campaignId: def.id,
      ...(def.webhookFormat !== undefined ? { webhookFormat: def.webhookFormat } : {}),
      ...(def.clientRef !== undefined ? { clientRef: def.clientRef } : {}),
      createdAt: now,
    };
  }

  /** Each recipient's contact: by phone through the index, else by contact id. */
  private async lookupContacts(accountId: string, recipients: readonly (Recipient | undefined)[], phones: readonly (string | undefined)[]): Promise<(Contact | undefined)[]> {
    const byPhone: string[] = [];
    const byId: string[] = [];
    recipients.forEach((r, i) => {
      const p = phones[i];
      if (p !== undefined) byPhone.push(p);
      else if (r) byId.push(r.phoneOrId);
    });
    const [phoneContacts, idContacts] = await Promise.all([this.deps.contacts.findManyByPhone(accountId, byPhone), this.deps.contacts.getMany(accountId, byId)]);
    let a = 0;
    let b = 0;
    return recipients.map((r, i) => (phones[i] !== undefined ? phoneContacts[a++] : r ? idContacts[b++] : undefined));
  }
}

/** The channel content of a resolved recipient (SMS has none: its text is the body). */
function contentFor(res: Resolution & { kind: 'send' }, text: string): ChannelContent | undefined {
  switch (res.channel) {
    case 'sms':
      return undefined;
    case 'whatsapp':
      return res.template
        ? {
            kind: 'whatsapp.template',
            name: res.template.name,
            language: res.template.language,
            parameters: res.template.parameters,
            // A header parameter (media) makes every component typed: header, then the body's texts.
            ...(res.template.header !== undefined
              ? { components: [{ type: 'header' as const, parameters: [res.template.header] }, ...(res.template.parameters.length > 0 ? [{ type: 'body' as const, parameters: res.template.parameters.map((t) => ({ type: 'text' as const, text: t })) }] : [])] }
              : {}),
          }
        : { kind: 'whatsapp.text', text };
    case 'telegram':
      return { kind: 'telegram.text', text, ...(res.parseMode !== undefined ? { parseMode: res.parseMode } : {}) };
    case 'viber':
      return { kind: 'viber.text', text };
    case 'messenger':
    case 'instagram':
      return { kind: 'meta.text', text };
    case 'rcs':
      return { kind: 'rcs.text', text };
  }
}

/** A campaign id Catalyst makes when the request names none. */
export function newCampaignId(now: number): string {
  return `CAMP-${newMessageId(now)}`;
}

export function progressOf(s: CampaignState): CampaignProgress {
  const f = (k: string): number => s.finals[k] ?? 0;
  const undelivered = f('failed') + f('expired') + f('rejected') + f('cancelled');
  return {
    campaignId: s.campaignId,
    name: s.definition?.name,
    status: s.status,
    total: s.total,
    rejected: s.rejected,
    pending: Math.max(0, s.total - s.handed) + s.deferred,
    deferred: s.deferred,
    queued: Math.max(0, s.sent - s.final),
    sent: s.sent,
    delivered: f('delivered'),
    failed: s.failed + undelivered,
    skipped: s.skipped,
    cancelled: s.cancelled,
    createdAt: s.createdAt,
    startAt: s.definition?.startAt,
    finishedAt: s.finishedAt,
  };
}
