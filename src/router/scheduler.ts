/**
 * The one scheduler: every delayed thing is a member of the `{p}timers` sorted set, scored by the
 * epoch ms it is due, and fired by timers.lua, which claims due members and removes them inside one
 * script. Redis runs one script at a time, so a member fires once whatever the number of processes
 * running the timer loop; and the set is in Redis (AOF on), so nothing is lost across a restart.
 *
 * The router's own kinds (a scheduled send, a retry, a validity end, a webhook retry) are written by
 * its Lua scripts. Other parts schedule theirs through this class, under a topic of their own:
 *
 *   const s = new Scheduler(redis, keys);
 *   await s.schedule('campaign', 'CMP-1:batch-7', Date.parse('2025-01-01T09:00:00Z'));
 *   // when due, timers.lua appends { i: 'CMP-1:batch-7' } to the stream {p}due:campaign
 *   for (const d of await s.take('campaign', consumerName, 100)) { …; await s.ack('campaign', [d.entryId]); }
 *
 * A fired item is in its topic's stream under the consumer group "due" until acknowledged: at least
 * once delivery to one consumer (a consumer that died leaves it to `claim`). An item scheduled again
 * under the same topic and id before it fired moves (one member per topic and id).
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../store/redis/keys.js';
import { claimIdle, ensureGroup, readGroup } from '../store/redis/streams.js';

export const GROUP_DUE = 'due';

/** A topic names its stream and is part of a member: letters, digits, `_ . : -`. */
const TOPIC = /^[A-Za-z0-9_.:-]{1,64}$/;

export interface DueItem {
  readonly entryId: string;
  readonly id: string;
}

export class Scheduler {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** The timer member of a topic's item (timers.lua: kind `t`). */
  static member(topic: string, id: string): string {
    if (!TOPIC.test(topic)) throw new RangeError(`scheduler topic must match ${TOPIC.source}: ${JSON.stringify(topic)}`);
    if (id === '' || /[\r\n]/.test(id)) throw new RangeError('scheduler item id must be a non-empty single line');
    return `t|${topic}|${id}`;
  }

  /** Due at `dueAt` (epoch ms; a time past fires on the next tick). Scheduling it again moves it. */
  async schedule(topic: string, id: string, dueAt: number): Promise<void> {
    await this.redis.zadd(this.keys.timers(), Math.floor(dueAt), Scheduler.member(topic, id));
  }

  /** Many items in one round trip. */
  async scheduleMany(topic: string, items: readonly { readonly id: string; readonly dueAt: number }[]): Promise<void> {
    if (items.length === 0) return;
    const args: (string | number)[] = [];
    for (const it of items) args.push(Math.floor(it.dueAt), Scheduler.member(topic, it.id));
    for (let i = 0; i < args.length; i += 2000) await this.redis.zadd(this.keys.timers(), ...args.slice(i, i + 2000));
  }

  /** Unschedules an item not fired yet; true when it was waiting. */
  async cancel(topic: string, id: string): Promise<boolean> {
    return (await this.redis.zrem(this.keys.timers(), Scheduler.member(topic, id))) === 1;
  }

  /** When an item is due, or undefined when it is not waiting (fired, cancelled, never scheduled). */
  async dueAt(topic: string, id: string): Promise<number | undefined> {
    const s = await this.redis.zscore(this.keys.timers(), Scheduler.member(topic, id));
    return s === null ? undefined : Number(s);
  }

  /** Fired items of a topic not yet handed to any consumer; blocks up to blockMs (0: not at all). */
  async take(topic: string, consumer: string, count: number, blockMs = 0, reader: Redis = this.redis): Promise<DueItem[]> {
    const key = this.keys.due(topic);
    await ensureGroup(this.redis, key, GROUP_DUE);
    return (await readGroup(reader, key, GROUP_DUE, consumer, count, blockMs)).map((e) => ({ entryId: e.id, id: e.fields['i'] ?? '' }));
  }

  /** Fired items another consumer took and left unacknowledged for minIdleMs (it died). */
  async claim(topic: string, consumer: string, minIdleMs: number, count: number): Promise<DueItem[]> {
    const key = this.keys.due(topic);
    await ensureGroup(this.redis, key, GROUP_DUE);
    return (await claimIdle(this.redis, key, GROUP_DUE, consumer, minIdleMs, count)).map((e) => ({ entryId: e.id, id: e.fields['i'] ?? '' }));
  }

  /** Done with these fired items: acknowledged and removed from the topic's stream. */
  async ack(topic: string, entryIds: readonly string[]): Promise<void> {
    if (entryIds.length === 0) return;
    const key = this.keys.due(topic);
    await this.redis.multi().xack(key, GROUP_DUE, ...entryIds).xdel(key, ...entryIds).exec();
  }
}
