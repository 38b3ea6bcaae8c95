/**
 * The router's view of Redis: every state change of a message is one of these methods, each one
 * Lua script over a whole batch (one round trip), so a message is in Redis, with its event row and
 * any receipt it owes, before anyone is told it was accepted.
 */
import type { Redis } from 'ioredis';
import { FINAL_STATUSES, type Message, type MessageStatus, type Routed } from '../../core/message.js';
import { eventRowBase } from '../clickhouse/rows.js';
import { packAddressing, packMessage, unpackMessage } from './stored-message.js';
import { Keys } from './keys.js';
import type { StreamEntry } from './streams.js';
import { defineScripts, run as runScript, type ScriptName } from './scripts.js';
import { rejected } from '../../core/errors.js';

export interface Limit {
  readonly tps: number;
  readonly burst: number;
}

export interface AdmitItem {
  readonly routed: Routed;
  /** The account's total limit. */
  readonly tps: number;
  readonly burst: number;
  /** The account's and the platform's limits for the message's channel (default: unlimited). */
  readonly channelLimit?: Limit;
  readonly platformChannelLimit?: Limit;
  /** SMPP registered_delivery bits 0-1 (0 none, 1 always, 2 on failure). */
  readonly registeredDelivery: 0 | 1 | 2;
  readonly expireAt: number;
  /** Where final states are posted: the message's own URL, else the account's. */
  readonly webhookUrl?: string;
  /** Part price by network, "mccmnc:micros,…" (Pricing.networkPrices), for settling at the receipt. */
  readonly networkPrices?: string;
}

export type AdmitCode = 'accepted' | 'throttled' | 'platform_throttled' | 'insufficient_balance';
const ADMIT_CODES: readonly AdmitCode[] = ['accepted', 'throttled', 'platform_throttled', 'insufficient_balance'];

export interface AdmitOutcome {
  readonly code: AdmitCode;
  /** For a throttled message: how long until the limit it hit has room again. */
  readonly retryAfterMs: number;
}

export interface AdmitOptions {
  /** Redis key of the request's idempotency record, what to store there, and for how long. */
  readonly idempotency?: { readonly key: string; readonly record: string; readonly ttlSeconds: number };
  /** A batch held to maxConcurrent messages in flight at once. */
  readonly batch?: { readonly id: string; readonly maxConcurrent: number };
}

/**
 * Messages admit.lua may hand straight to this process's dispatchers (its header, "Hand-off"): the
 * process's consumer name in the send queues' group, and per upstream how many of the batch's
 * messages its dispatcher took room for (`room`), and how many more its window could take besides,
 * unreserved (`spare`: for entries waiting in the queue, which go first).
 */
export interface HandOffer {
  readonly consumer: string;
  readonly room: ReadonlyMap<string, number>;
  readonly spare: ReadonlyMap<string, number>;
}

/**
 * A queue entry admit.lua read for the offer's consumer: one it wrote, whose messages are being
 * sent (st sending, attempt 1), or one that was waiting in the queue (`waiting`), whose messages
 * the dispatcher takes as it takes those it reads itself, ahead of the written ones.
 */
export interface HandedEntry {
  readonly upstream: string;
  readonly entryId: string;
  readonly messageIds: readonly string[];
  readonly waiting: boolean;
}

/** What admit answers: per-message outcomes, or the earlier request's record for a repeated idempotency key. */
export type AdmitResult =
  | { readonly kind: 'admitted'; readonly outcomes: AdmitOutcome[]; readonly handed: HandedEntry[] }
  | { readonly kind: 'duplicate'; readonly record: string; readonly codes: AdmitCode[] };

const UNLIMITED: Limit = { tps: 1e12, burst: 1e12 };

export type ReceiptOutcome = 'early' | 'applied' | MessageStatus;

/** One entry of an upstream's send queue: the ids one script run queued (common.lua enqueue). */
export interface QueueEntry {
  readonly entryId: string;
  readonly messageIds: readonly string[];
  /** Claimed from a dead consumer's pending list: some of its messages may be being sent already. */
  readonly redelivered: boolean;
}

/** A queue entry as the stream holds it ("i": message ids joined by ','). */
export function queueEntry(e: StreamEntry, redelivered: boolean): QueueEntry {
  const ids = e.fields['i'] ?? '';
  return { entryId: e.id, messageIds: ids === '' ? [] : ids.split(','), redelivered };
}

/** A message of a queue entry, for take(). */
export interface QueueItem {
  readonly messageId: string;
  readonly redelivered: boolean;
}

export interface Taken {
  readonly message: Message;
  readonly attempt: number;
  readonly expireAt: number;
}

/** A queue entry admission handed over (HandedEntry), with its messages (none for a waiting one), for the dispatcher to send. */
export interface HandedOver {
  readonly entryId: string;
  readonly messageIds: readonly string[];
  readonly taken: readonly Taken[];
  readonly waiting: boolean;
}

/** A queue entry a dispatcher is done with: how many of its messages settled, and which go back to the queue. */
export interface QueueAck {
  readonly entryId: string;
  readonly settled: number;
  readonly requeue: readonly string[];
}

export interface StoredMessage {
  readonly id: string;
  readonly accountId: string;
  readonly status: MessageStatus;
  readonly channel: string;
  readonly destination: string;
  readonly upstream: string;
  readonly message: Message | undefined;
  readonly priceMicros: number;
  /** Once final: what it cost in the end (the refund policy and the receipt's network applied; common.lua settle()). */
  readonly billedMicros: number | undefined;
  readonly currency: string;
  readonly attempts: number;
  readonly parts: number;
  readonly createdAt: number;
  readonly submittedAt: number | undefined;
  readonly doneAt: number | undefined;
  readonly errorCode: string;
  /** Receipt stat (DELIVRD, UNDELIV…) and its 3-digit err, once final. */
  readonly dlrStat: string | undefined;
  readonly dlrErr: string | undefined;
  readonly upstreamMessageIds: readonly string[];
  readonly expireAt: number | undefined;
}

/** What a receipt to the ESME is built from (stored as `ra` at admission). */
export interface ReceiptAddressing {
  readonly s: { addr: string; ton: number; npi: number };
  readonly d: { addr: string; ton: number; npi: number };
  /** First 20 characters of the text (SMPP 3.4 Appendix B `text:`). */
  readonly tx: string;
  /** A message that came in by XMPP: the sender's JID and stanza id, and whether it asked for a receipt (XEP-0184). */
  readonly x?: { readonly j: string; readonly i: string; readonly r: boolean };
}

export interface StoreOptions {
  /** Called with each script's round-trip time (for store_redis_seconds). */
  readonly observe?: (script: ScriptName, seconds: number) => void;
  readonly prefix: string;
  readonly platformTps: number;
  readonly platformBurst: number;
  readonly retentionSeconds: number;
  /** How long a final message's state stays in Redis (its history is in ClickHouse). */
  readonly finalRetentionSeconds: number;
  readonly maxAttempts: number;
  /** Messages an upstream's queue may hold before admission answers throttled (0 or unset: no cap). */
  readonly maxQueueDepth?: number;
}

/** A campaign's name in Redis keys (keys.ts cp…): campaign ids are unique per account. */
export function campaignRef(accountId: string, campaignId: string): string {
  return `${accountId}:${campaignId}`;
}

/** Upstream ids end up in keys and in JSON built by Lua: keep them to printable, quote-free ASCII. */
export function cleanUpstreamId(id: string): string {
  return id.replace(/[^\x21-\x7e]|["\\,|]/g, '').slice(0, 64);
}

/**
 * What an upstream's message id maps to, "id|part|parts" ("id|part" from before the parts count),
 * or null: the upstream's mapping hash (submitted.lua), then a mapping key (the RCS fallback's, and
 * those written before the hash; keys.ts).
 */
export async function upstreamRef(redis: Redis, keys: Keys, upstream: string, upstreamMessageId: string): Promise<string | null> {
  return (await redis.hget(keys.upstreamIds(upstream), upstreamMessageId)) ?? (await redis.get(keys.upstreamId(upstream, upstreamMessageId)));
}

/**
 * Error codes end up in event rows the Lua scripts build (TabSeparated) and in webhook JSON: keep
 * them to printable ASCII without backslashes (a provider's code may carry anything).
 */
export function cleanCode(code: string): string {
  return code.replace(/[^\x20-\x7e]|\\/g, '').slice(0, 128);
}

export function eventBase(r: Routed): string {
  const m = r.message;
  return eventRowBase({
    message_id: m.id,
    account_id: m.accountId,
    channel: m.channel,
    direction: m.direction,
    source: m.source.addr,
    destination: m.destination.addr,
    upstream_id: r.upstream,
    parts: r.parts,
    price_micros: r.priceMicros,
    currency: r.currency,
    cost_center: m.costCenter ?? '',
    ingress: m.ingress,
    created_at: m.createdAt,
    ...(m.campaignId !== undefined ? { campaign_id: m.campaignId } : {}),
  });
}

/** The suffix of an account's delivery stream for its XMPP users (keys.ts, common.lua, mo.lua). */
export const XMPP_DOOR = '/xmpp';

/** The first n code points of s (a surrogate pair is one), without spreading the whole text. */
function firstCodePoints(s: string, n: number): string {
  let end = 0;
  for (let k = 0; k < n && end < s.length; k++) {
    const c = s.charCodeAt(end);
    end += c >= 0xd800 && c <= 0xdbff && end + 1 < s.length ? 2 : 1;
  }
  return s.slice(0, end);
}

/** A message's receipt addressing as stored (`ra`, stored-message.ts packAddressing); once per admitted message. */
export function receiptAddressing(m: Message): string {
  const tx = firstCodePoints(m.body.kind === 'text' ? m.body.text : '', 20);
  const jid = m.xmpp?.jid;
  return packAddressing(
    jid === undefined ? { s: m.source, d: m.destination, tx } : { s: m.source, d: m.destination, tx, x: { j: jid, i: m.xmpp?.stanzaId ?? '', r: m.receipt } },
  );
}

/** admit.lua's answer (its header) to a batch of `count` messages. */
function admitResult(reply: unknown, count: number): AdmitResult {
  const res = reply as (string | number)[];
  if (res[0] === 'dup') {
    const codes = String(res[2] ?? '')
      .split(',')
      .filter((c) => c !== '')
      .map((c) => ADMIT_CODES[Number(c)] ?? 'throttled');
    return { kind: 'duplicate', record: String(res[1] ?? ''), codes };
  }
  const outcomes: AdmitOutcome[] = [];
  const end = Math.min(res.length, count * 2);
  for (let i = 0; i < end; i += 2) outcomes.push({ code: ADMIT_CODES[Number(res[i])] ?? 'throttled', retryAfterMs: Number(res[i + 1] ?? 0) });
  const handed: HandedEntry[] = [];
  for (let i = end; i + 3 < res.length; i += 4) {
    const ids = String(res[i + 2]);
    handed.push({ upstream: String(res[i]), entryId: String(res[i + 1]), messageIds: ids === '' ? [] : ids.split(','), waiting: String(res[i + 3]) === '0' });
  }
  return { kind: 'admitted', outcomes, handed };
}

export class MessageStore {
  readonly keys: Keys;

  constructor(
    readonly redis: Redis,
    private readonly opts: StoreOptions,
  ) {
    this.keys = new Keys(opts.prefix);
    defineScripts(redis);
  }

  /**
   * The same store on another connection. Redis answers one connection's commands in order, so the
   * sending side (take, submitted, receipts) on a connection of its own is not queued behind
   * admission's batches: when ingress runs ahead, what drains the queues keeps its pace.
   */
  onConnection(redis: Redis): MessageStore {
    return new MessageStore(redis, this.opts);
  }

  /**
   * Not async, and callers pass the arguments as a temporary: V8 keeps an async function's locals
   * and parameters for as long as it is suspended, so a batch's argument strings would otherwise
   * live until the reply (see scripts.ts run).
   */
  private run(name: ScriptName, args: readonly (string | number)[]): Promise<unknown> {
    const started = performance.now();
    const reply = runScript(this.redis, name, args);
    const observe = this.opts.observe;
    return observe
      ? reply.finally(() => {
          observe(name, (performance.now() - started) / 1000);
        })
      : reply;
  }

  private head(now: number): [string, number, number] {
    return [this.opts.prefix, now, this.opts.finalRetentionSeconds];
  }

  /**
   * Not async: the items are encoded before it returns and not kept for the round trip (an
   * admission batch's messages would otherwise live until Redis answers; see run). Never throws:
   * a failure is the promise's.
   */
  admit(items: readonly AdmitItem[], opts: AdmitOptions = {}, now = Date.now(), offer?: HandOffer): Promise<AdmitResult> {
    if (items.length === 0) return Promise.resolve({ kind: 'admitted', outcomes: [], handed: [] });
    const count = items.length;
    try {
      return this.run('admit', this.admitArgs(items, opts, now, offer)).then((reply) => admitResult(reply, count));
    } catch (err) {
      return rejected(err);
    }
  }

  /** admit.lua's arguments (its header). */
  private admitArgs(items: readonly AdmitItem[], opts: AdmitOptions, now: number, offer: HandOffer | undefined): (string | number)[] {
    const idem = opts.idempotency;
    const args: (string | number)[] = [
      ...this.head(now),
      this.opts.platformTps,
      this.opts.platformBurst,
      this.opts.retentionSeconds,
      items.length,
      idem?.key ?? '',
      idem?.record ?? '',
      idem?.ttlSeconds ?? 0,
      opts.batch?.id ?? '',
      opts.batch?.maxConcurrent ?? 0,
      this.opts.maxQueueDepth ?? 0,
    ];
    // Each bucket's limits once per batch (the script looks them up by name), not once per message.
    const limits = new Map<string, Limit>();
    let lastAccount: string | undefined;
    let lastChannel: string | undefined;
    for (const it of items) {
      const m = it.routed.message;
      // A batch is mostly one account's on one channel: its names are not built again for each message.
      if (m.accountId === lastAccount && m.channel === lastChannel) continue;
      lastAccount = m.accountId;
      lastChannel = m.channel;
      // An account's buckets are named apart from the platform's ('a:'), whatever the account's id.
      const account = `a:${m.accountId}`;
      if (!limits.has(account)) limits.set(account, { tps: it.tps, burst: it.burst });
      const accountChannel = `a:${m.accountId}:${m.channel}`;
      if (!limits.has(accountChannel)) limits.set(accountChannel, it.channelLimit ?? UNLIMITED);
      const platformChannel = `platform:${m.channel}`;
      if (!limits.has(platformChannel)) limits.set(platformChannel, it.platformChannelLimit ?? UNLIMITED);
    }
    args.push(limits.size);
    for (const [name, l] of limits) args.push(name, l.tps, l.burst);
    if (offer === undefined || offer.room.size === 0) args.push('', 0);
    else {
      args.push(offer.consumer, offer.room.size);
      for (const [upstream, n] of offer.room) args.push(upstream, n, offer.spare.get(upstream) ?? 0);
    }
    // The batch's profiles (what its messages mostly share: account, channel, upstream, price and
    // the core's tail), each sent once; a message names its own. Consecutive messages mostly share
    // one, so a message's is compared with the last before it is looked up by its key.
    const profiles = new Map<string, number>();
    const rows: (string | number)[] = [];
    let last: { account: string; channel: string; upstream: string; price: number; tail: string; index: number } | undefined;
    for (const it of items) {
      const r = it.routed;
      const m = r.message;
      const tail = coreTail(
        it.registeredDelivery,
        r.currency,
        m.campaignId !== undefined ? campaignRef(m.accountId, m.campaignId) : '',
        it.networkPrices ?? '',
        m.webhookUrl ?? it.webhookUrl ?? '',
      );
      let index: number;
      if (last !== undefined && last.account === m.accountId && last.channel === m.channel && last.upstream === r.upstream && last.price === r.priceMicros && last.tail === tail) {
        index = last.index;
      } else {
        // Unambiguous: ids (config.ts) and prices hold no unit separator, and the tail, which does, is last.
        const key = `${m.accountId}\x1f${m.channel}\x1f${r.upstream}\x1f${r.priceMicros}\x1f${tail}`;
        const known = profiles.get(key);
        if (known !== undefined) index = known;
        else {
          rows.push(m.accountId, m.channel, r.upstream, r.priceMicros, tail);
          index = profiles.size + 1;
          profiles.set(key, index);
        }
        last = { account: m.accountId, channel: m.channel, upstream: r.upstream, price: r.priceMicros, tail, index };
      }
      args.push(
        m.id,
        index,
        m.scheduleAt ?? 0,
        it.expireAt,
        packMessage(m),
        eventBase(r),
        it.registeredDelivery === 0 ? '' : receiptAddressing(m),
      );
    }
    args.push(profiles.size);
    for (const v of rows) args.push(v);
    return args;
  }

  /** Marks the sendable ones of these messages as being sent; the others (final, cancelled, expired now) are left out. */
  async take(upstream: string, items: readonly QueueItem[], now = Date.now()): Promise<Taken[]> {
    if (items.length === 0) return [];
    const args: (string | number)[] = [...this.head(now), upstream, items.length];
    for (const it of items) args.push(it.messageId, it.redelivered ? '1' : '0');
    const rows = (await this.run('take', args)) as [string, string, number, string, string][];
    return rows.map(([, json, attempt, , exp]) => ({
      message: unpackMessage(json),
      attempt,
      expireAt: Number(exp),
    }));
  }

  /**
   * The upstream accepted these messages. `acks`: send-queue entries to ack in the same run, once
   * these are recorded (what ackQueue does), in the same script or not at all.
   */
  async submitted(
    upstream: string,
    items: readonly { messageId: string; upstreamIds: readonly string[] }[],
    now = Date.now(),
    acks: readonly QueueAck[] = [],
  ): Promise<number> {
    if (items.length === 0) return this.ackQueue(upstream, acks, now).then(() => 0);
    const args: (string | number)[] = [...this.head(now), upstream, items.length];
    for (const it of items) args.push(it.messageId, it.upstreamIds.map(cleanUpstreamId).join(','));
    args.push(acks.length);
    for (const it of acks) args.push(it.entryId, it.settled, it.requeue.join(','));
    return (await this.run('submitted', args)) as number;
  }

  /**
   * Final receipts from an upstream. Per receipt: 'early' when its message is not mapped yet (held
   * until it is), 'applied', or the final status it gave its message.
   */
  async receipts(upstream: string, items: readonly { upstreamMessageId: string; stat: string; err: string; networkId?: string }[], now = Date.now()): Promise<ReceiptOutcome[]> {
    if (items.length === 0) return [];
    const args: (string | number)[] = [...this.head(now), upstream, items.length];
    for (const it of items) {
      // stat and err come from the upstream and end up in keys and Lua-built JSON: keep them to their alphabets.
      const stat = /^[A-Z]{5,7}$/.test(it.stat) ? it.stat : 'UNKNOWN';
      const net = it.networkId !== undefined && /^[0-9]{5,6}$/.test(it.networkId) ? it.networkId : '';
      args.push(cleanUpstreamId(it.upstreamMessageId), stat, it.err.replace(/[^0-9A-Za-z]/g, '').slice(0, 12).padStart(3, '0'), net);
    }
    const out = (await this.run('receipts', args)) as (number | string)[];
    return out.map((v) => (v === 0 ? 'early' : v === 1 ? 'applied' : (v as MessageStatus)));
  }

  async fail(upstream: string, items: readonly { messageId: string; status: 'failed' | 'rejected' | 'expired'; errorCode: string; dlrErr: string }[], now = Date.now()): Promise<number> {
    if (items.length === 0) return 0;
    const args: (string | number)[] = [...this.head(now), upstream, items.length];
    for (const it of items) args.push(it.messageId, it.status, cleanCode(it.errorCode), cleanCode(it.dlrErr));
    return (await this.run('fail', args)) as number;
  }

  async retry(upstream: string, items: readonly { messageId: string; dueAt: number; errorCode: string }[], now = Date.now()): Promise<number> {
    if (items.length === 0) return 0;
    const args: (string | number)[] = [...this.head(now), upstream, this.opts.maxAttempts, items.length];
    for (const it of items) args.push(it.messageId, it.dueAt, cleanCode(it.errorCode));
    return (await this.run('retry', args)) as number;
  }

  /** Acks queue entries whose messages all have their outcome recorded (or go back to the queue); returns the messages that left it. */
  async ackQueue(upstream: string, items: readonly QueueAck[], now = Date.now()): Promise<number> {
    if (items.length === 0) return 0;
    const args: (string | number)[] = [...this.head(now), upstream, items.length];
    for (const it of items) args.push(it.entryId, it.settled, it.requeue.join(','));
    return (await this.run('queue_ack', args)) as number;
  }

  async runTimers(limit: number, now = Date.now()): Promise<number> {
    return (await this.run('timers', [...this.head(now), limit])) as number;
  }

  async cancel(accountId: string, messageId: string, now = Date.now()): Promise<'cancelled' | 'not_cancellable' | 'unknown'> {
    const r = (await this.run('cancel', [...this.head(now), accountId, messageId])) as number;
    return r === 1 ? 'cancelled' : r === 0 ? 'not_cancellable' : 'unknown';
  }

  async replace(
    accountId: string,
    message: Message,
    change: { scheduleAt?: number; expireAt?: number; registeredDelivery?: 0 | 1 | 2 },
    now = Date.now(),
  ): Promise<'replaced' | 'not_replaceable' | 'unknown'> {
    const r = (await this.run('replace', [
      ...this.head(now),
      accountId,
      message.id,
      packMessage(message),
      receiptAddressing(message),
      change.scheduleAt ?? 0,
      change.expireAt ?? 0,
      change.registeredDelivery ?? '',
    ])) as number;
    return r === 1 ? 'replaced' : r === 0 ? 'not_replaceable' : 'unknown';
  }

  /** `xmpp`: the MO is for the account's XMPP user of that number (its own delivery stream, keys.ts). */
  async storeMo(items: readonly { message: Message; upstream: string; xmpp?: boolean }[], now = Date.now()): Promise<number> {
    if (items.length === 0) return 0;
    const args: (string | number)[] = [...this.head(now), items.length];
    for (const it of items) {
      args.push(it.message.id, it.message.accountId, packMessage(it.message), eventBase({ message: it.message, upstream: it.upstream, priceMicros: 0, currency: '', parts: 1 }), it.xmpp === true ? XMPP_DOOR : '');
    }
    return (await this.run('mo', args)) as number;
  }

  /**
   * Adds one part of a concatenated message; returns the assembled parts (in order) once all are
   * in. Every part of one message answers with the same message id.
   */
  async assemble(
    key: string,
    part: { seq: number; total: number; payload: Buffer; candidateId: string; registeredDelivery: 0 | 1 | 2; ttlSeconds: number },
    now = Date.now(),
  ): Promise<{ id: string; complete?: { registeredDelivery: 0 | 1 | 2; payload: Buffer } }> {
    const res = (await this.run('assemble', [
      ...this.head(now),
      key,
      part.seq,
      part.payload.toString('base64'),
      part.total,
      part.ttlSeconds,
      part.candidateId,
      part.registeredDelivery,
    ])) as string[];
    const id = res[0] ?? part.candidateId;
    if (res.length < 2) return { id };
    const rd = Number(res[1]);
    const payload = Buffer.concat(res.slice(2).map((p) => Buffer.from(p, 'base64')));
    return { id, complete: { registeredDelivery: rd === 2 ? 2 : rd === 0 ? 0 : 1, payload } };
  }

  /**
   * A message's stored state: its hash, or its record while it waits in its queue (lua/common.lua
   * materialize), both read in one MULTI so a take between them cannot hide it.
   */
  async get(id: string): Promise<StoredMessage | undefined> {
    return (await this.getMany([id]))[0];
  }

  async getMany(ids: readonly string[]): Promise<(StoredMessage | undefined)[]> {
    if (ids.length === 0) return [];
    const tx = this.redis.multi();
    for (const id of ids) tx.hgetall(this.keys.message(id));
    tx.hmget(this.keys.waiting(), ...ids);
    const res = (await tx.exec()) ?? [];
    const [waitErr, waiting] = res[ids.length] ?? [null, []];
    return ids.map((id, i) => {
      const [err, h] = res[i] ?? [null, {}];
      if (err) return undefined;
      const record = waitErr ? null : ((waiting as (string | null)[])[i] ?? null);
      return parseStored(id, record !== null && (h as Record<string, string>)['st'] === undefined ? waitingFields(record) : (h as Record<string, string>));
    });
  }

  /** Opening balance from the config, written only when the account has none yet. */
  async seedBalance(accountId: string, micros: number): Promise<void> {
    await this.redis.set(this.keys.balance(accountId), micros, 'NX');
  }

  async balance(accountId: string): Promise<number> {
    return Number((await this.redis.get(this.keys.balance(accountId))) ?? 0);
  }

  /** The balance and what messages not final yet hold of it (micro-units); one round trip. */
  async balanceAndReserved(accountId: string): Promise<{ balanceMicros: number; reservedMicros: number }> {
    const [bal, res] = await this.redis.mget(this.keys.balance(accountId), this.keys.reserved(accountId));
    // Messages admitted before the reserve was counted settle it below zero: never report that.
    return { balanceMicros: Number(bal ?? 0), reservedMicros: Math.max(0, Number(res ?? 0)) };
  }

  /** router.deliveryRetentionSeconds, for the scripts that write the delivery streams (common.lua delivery_add). */
  async setDeliveryRetention(seconds: number): Promise<void> {
    await this.redis.hset(this.keys.settings(), 'dr', seconds);
  }

  /**
   * The refund policy every finalize() reads (lua/common.lua): the outcomes that give a message's
   * price back, for messages that never left us and for those the upstream took. Replaced whole.
   */
  async setRefundPolicy(policy: { readonly notSent: readonly string[]; readonly sent: readonly string[] }): Promise<void> {
    const fields: string[] = ['v', '1', ...policy.notSent.flatMap((s) => [`n:${s}`, '1']), ...policy.sent.flatMap((s) => [`s:${s}`, '1'])];
    await this.redis.multi().del(this.keys.refundPolicy()).hset(this.keys.refundPolicy(), ...fields).exec();
  }
}

/**
 * A message's core, what admission knows of it and later steps only read, is one hash field (k):
 * these values joined by the unit separator (common.lua core). The appliance joins the tail, the
 * script the rest. None of the values holds the separator: ids, names, codes and numbers are
 * ours or checked by the config's and the API's schemas, and a webhook URL that holds it (the
 * schemas check that a URL parses, and the parser percent-encodes control characters) has it
 * percent-encoded here, the same URL.
 */
const CORE_FIELDS = ['a', 'up', 'pr', 'exp', 't0', 'bt', 'sa', 'rd', 'cur', 'cp', 'nw', 'wh'] as const;
const PACKED_SEPARATOR = '\x1f';

function coreTail(registeredDelivery: number, currency: string, campaign: string, networkPrices: string, webhookUrl: string): string {
  // Neither the core's separator nor a waiting record's (lua/common.lua waiting_record) may be in its values.
  const url = /[\x1e\x1f]/.test(webhookUrl) ? webhookUrl.replaceAll(PACKED_SEPARATOR, '%1F').replaceAll('\x1e', '%1E') : webhookUrl;
  return `${registeredDelivery}${PACKED_SEPARATOR}${currency}${PACKED_SEPARATOR}${campaign}${PACKED_SEPARATOR}${networkPrices}${PACKED_SEPARATOR}${url}`;
}

/** A final message's outcome, one field (o), in the same way (common.lua outcome_of). */
const OUTCOME_FIELDS = ['td', 'err', 'dlr', 'dle', 'bp'] as const;

/** What the upstream's acceptance recorded, one field (sb): when, its ids joined by ',', the parts (common.lua sent_of). */
const SENT_FIELDS = ['ts', 'umid', 'np'] as const;

/**
 * The hash's fields with the core's, the acceptance's and the outcome's values as fields of their
 * own, as hashes written before they were packed hold them. The outcome's error code is the final
 * one even when empty (a retry's code, in field err, is not).
 */
function unpackFields(h: Record<string, string>): Record<string, string> {
  const core = h['k'];
  const sent = h['sb'];
  const outcome = h['o'];
  if (core === undefined && sent === undefined && outcome === undefined) return h;
  const out: Record<string, string> = { ...h };
  const spread = (packed: string | undefined, fields: readonly string[]): void => {
    if (packed === undefined) return;
    const values = packed.split(PACKED_SEPARATOR);
    fields.forEach((f, i) => {
      const v = values[i];
      if (v !== undefined && (v !== '' || f === 'err')) out[f] = v;
    });
  };
  spread(core, CORE_FIELDS);
  spread(sent, SENT_FIELDS);
  spread(outcome, OUTCOME_FIELDS);
  return out;
}

/** A waiting message's record (lua/common.lua waiting_record) as the fields its hash will hold. */
function waitingFields(record: string): Record<string, string> {
  const a = record.indexOf('\x1e');
  const b = record.indexOf('\x1e', a + 1);
  const c = record.indexOf('\x1e', b + 1);
  const d = record.indexOf('\x1e', c + 1);
  if (d < 0) return {};
  const fields: Record<string, string> = { st: 'queued', k: record.slice(0, a), xg: record.slice(a + 1, b), j: record.slice(b + 1, c), eb: record.slice(d + 1) };
  if (d > c + 1) fields['ra'] = record.slice(c + 1, d);
  return fields;
}

function parseStored(id: string, hash: Record<string, string>): StoredMessage | undefined {
  if (hash['st'] === undefined) return undefined;
  const h = unpackFields(hash);
  const num = (v: string | undefined): number | undefined => (v === undefined || v === '' ? undefined : Number(v));
  let message: Message | undefined;
  try {
    message = h['j'] ? unpackMessage(h['j']) : undefined;
  } catch {
    message = undefined;
  }
  return {
    id,
    accountId: h['a'] ?? '',
    status: h['st'] as MessageStatus,
    channel: message?.channel ?? 'sms',
    destination: message?.destination.addr ?? '',
    upstream: h['up'] ?? '',
    message,
    priceMicros: num(h['pr']) ?? 0,
    // Written only when it differs from the reserve (common.lua finalize()).
    billedMicros: FINAL_STATUSES.has(h['st'] as MessageStatus) ? (num(h['bp']) ?? num(h['pr']) ?? 0) : undefined,
    currency: h['cur'] ?? '',
    attempts: num(h['att']) ?? 0,
    parts: num(h['np']) ?? 1,
    createdAt: num(h['t0']) ?? 0,
    submittedAt: num(h['ts']),
    doneAt: num(h['td']),
    errorCode: h['err'] ?? '',
    dlrStat: h['dlr'],
    dlrErr: h['dle'],
    upstreamMessageIds: h['umid'] ? h['umid'].split(',') : [],
    expireAt: num(h['exp']),
  };
}
