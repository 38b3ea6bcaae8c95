/**
 * What a channel connector sent in each conversation (sender × user), by send time, for providers
 * whose read receipts name no message but a watermark: "the user read everything sent before t"
 * (Messenger's `read.watermark`). Kept 7 days, trimmed to the newest 1,000 per conversation.
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../../store/redis/keys.js';

const TTL_SECONDS = 7 * 24 * 3600;
const KEEP = 1000;

export class Conversations {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async record(upstream: string, sender: string, user: string, externalId: string, at: number): Promise<void> {
    const k = this.keys.conversation(upstream, sender, user);
    await this.redis.multi().zadd(k, at, externalId).zremrangebyrank(k, 0, -KEEP - 1).expire(k, TTL_SECONDS).exec();
  }

  /** The ids sent at or before the watermark, forgotten once returned (each is read once). */
  async readUpTo(upstream: string, sender: string, user: string, watermark: number): Promise<string[]> {
    const k = this.keys.conversation(upstream, sender, user);
    const res = await this.redis.multi().zrangebyscore(k, '-inf', watermark).zremrangebyscore(k, '-inf', watermark).exec();
    const ids = res?.[0]?.[1];
    return Array.isArray(ids) ? (ids as string[]) : [];
  }
}
