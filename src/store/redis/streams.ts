/**
 * Consumer-group plumbing shared by every stream reader (dispatch queues, deliveries, webhooks):
 * create the group, read new entries, and claim the entries a dead consumer left pending.
 */
import type { ChainableCommander, Redis } from 'ioredis';

export interface StreamEntry {
  readonly id: string;
  readonly fields: Readonly<Record<string, string>>;
}

export async function ensureGroup(redis: Redis, key: string, group: string): Promise<void> {
  try {
    await redis.xgroup('CREATE', key, group, '0', 'MKSTREAM');
  } catch (err) {
    if (!(err instanceof Error && err.message.includes('BUSYGROUP'))) throw err;
  }
}

type RawEntry = [string, string[] | null];

/** Stream entries as ioredis returns them → objects; entries deleted meanwhile (null) are skipped. */
export function toEntries(raw: readonly RawEntry[]): StreamEntry[] {
  const out: StreamEntry[] = [];
  for (const [id, flat] of raw) {
    if (!flat) continue;
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
    out.push({ id, fields });
  }
  return out;
}

/** XREADGROUP of new entries; blocks up to blockMs (use a connection of its own when blocking). */
export async function readGroup(redis: Redis, key: string, group: string, consumer: string, count: number, blockMs: number): Promise<StreamEntry[]> {
  const res = (blockMs > 0
    ? await redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', key, '>')
    : await redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', key, '>')) as [string, RawEntry[]][] | null;
  if (!res || res.length === 0) return [];
  return toEntries(res[0]?.[1] ?? []);
}

/**
 * XAUTOCLAIM entries idle longer than minIdleMs (their consumer died or hung). Entries deleted
 * meanwhile come back with null fields and are skipped; the caller acks nothing for them.
 */
export async function claimIdle(redis: Redis, key: string, group: string, consumer: string, minIdleMs: number, count: number): Promise<StreamEntry[]> {
  const out: StreamEntry[] = [];
  let cursor = '0-0';
  for (let round = 0; round < 10; round++) {
    const res = (await redis.xautoclaim(key, group, consumer, minIdleMs, cursor, 'COUNT', count)) as [string, RawEntry[], string[]?];
    out.push(...toEntries(res[1].filter((e) => e[1] !== null)));
    cursor = res[0];
    if (cursor === '0-0' || out.length >= count) break;
  }
  return out;
}

/** This consumer's own pending entries (after a restart with the same consumer name). */
export async function readOwnPending(redis: Redis, key: string, group: string, consumer: string, count: number): Promise<StreamEntry[]> {
  const res = (await redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', key, '0')) as [string, RawEntry[]][] | null;
  if (!res || res.length === 0) return [];
  return toEntries((res[0]?.[1] ?? []).filter((e) => e[1] !== null));
}

/**
 * Queues on a pipeline the refresh of entries this consumer holds while it works on them: XCLAIM
 * to itself with JUSTID resets their idle time (the delivery count stays), so claimIdle() in
 * another process does not take them for abandoned. 1,000 ids a command.
 */
export function queueRefresh(pipe: ChainableCommander, key: string, group: string, consumer: string, ids: readonly string[]): void {
  for (let i = 0; i < ids.length; i += 1000) pipe.xclaim(key, group, consumer, 0, ...ids.slice(i, i + 1000), 'JUSTID');
}
