import type { Redis } from 'ioredis';
import { parsePendingCount } from './stream-replies.js';

/**
 * The Redis consumer-group operations of the event writer, one round trip each (a pipeline where
 * there are two commands). They throw on any Redis error; the writer decides what to retry.
 * https://redis.io/docs/latest/develop/data-types/streams/#consumer-groups
 */

/** XGROUP CREATE ... MKSTREAM from id 0; false when the group already existed (BUSYGROUP). */
export async function ensureGroup(redis: Redis, key: string, group: string): Promise<boolean> {
  try {
    // From id 0, not $: entries the router wrote before the group existed must be written too.
    await redis.xgroup('CREATE', key, group, '0', 'MKSTREAM');
    return true;
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('BUSYGROUP')) return false;
    throw err;
  }
}

/**
 * XACK then XDEL in one pipeline. Deleting keeps the stream at "not yet in ClickHouse" (so XLEN is the
 * backlog) and means the stream must have no other consumer group.
 */
export async function ackAndDelete(redis: Redis, key: string, group: string, ids: readonly string[]): Promise<void> {
  const results = await redis
    .pipeline()
    .xack(key, group, ...ids)
    .xdel(key, ...ids)
    .exec();
  for (const [err] of results ?? []) if (err) throw err;
}

export interface Backlog {
  /** XLEN: entries not yet in ClickHouse. */
  readonly stream: number;
  /** Entries read by some consumer and not yet acked. */
  readonly pending: number;
}

/** XLEN and the XPENDING summary: O(1) and O(consumers). */
export async function backlog(redis: Redis, key: string, group: string): Promise<Backlog> {
  const results = await redis.pipeline().xlen(key).xpending(key, group).exec();
  const [len, pending] = results ?? [];
  if (len === undefined || pending === undefined) throw new Error('pipeline returned no results');
  if (len[0]) throw len[0];
  if (pending[0]) throw pending[0];
  return { stream: Number(len[1]), pending: parsePendingCount(pending[1]) };
}

/**
 * CLIENT UNBLOCK the connection named `name` (CLIENT SETNAME), found with CLIENT LIST from another
 * connection. A blocked XREADGROUP then returns as on timeout: nothing is delivered, nothing is lost.
 * False when no such connection was found.
 */
export async function unblockClientNamed(redis: Redis, name: string): Promise<boolean> {
  const list = String(await redis.call('CLIENT', 'LIST', 'TYPE', 'normal'));
  const line = list.split('\n').find((l) => l.includes(` name=${name} `));
  const id = line === undefined ? undefined : /(?:^|\s)id=(\d+)/.exec(line)?.[1];
  if (id === undefined) return false;
  await redis.call('CLIENT', 'UNBLOCK', id);
  return true;
}

/**
 * XGROUP DELCONSUMER when the consumer has nothing pending, so per-process consumer names do not pile
 * up in the group. Only for the caller's own consumer after it stopped reading: deleting a consumer
 * destroys its pending entries, and a live one could read between the check and the delete.
 */
export async function removeConsumerIfIdle(redis: Redis, key: string, group: string, consumer: string): Promise<boolean> {
  const mine = await redis.xpending(key, group, '-', '+', 1, consumer);
  if (!Array.isArray(mine) || mine.length > 0) return false;
  await redis.xgroup('DELCONSUMER', key, group, consumer);
  return true;
}
