/**
 * The seed's per-channel rate limits per sender ("per bot", "per page", "per business account"):
 * one token bucket per channel × account × sender in Redis, so the limit holds across every
 * process. Taken at the HTTP door before admission (which applies the account's and the
 * platform's limits); over it the request is answered 429 with how long to wait.
 */
import type { Redis } from 'ioredis';
import { SEED_RATE_LIMITS, type ChannelProvider, type ChannelsConfig, type RateLimit } from '../../core/config.js';
import type { Keys } from '../../store/redis/keys.js';

// sender-bucket: KEYS[1] bucket; ARGV rate (per s), burst, now (ms)
// out: 0 taken, else ms until a token is there. Refills continuously; idle buckets expire.
const SCRIPT = `
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(v[1]) or burst
local ts = tonumber(v[2]) or now
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate / 1000) else now = ts end
if tokens < 1 then return math.max(1, math.ceil((1 - tokens) * 1000 / rate)) end
redis.call('HSET', KEYS[1], 't', tokens - 1, 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return 0
`;

type WithBucket = Redis & { catalystSenderBucket(key: string, rate: number, burst: number, now: number): Promise<number> };

export class SenderLimiter {
  private readonly limits = new Map<string, RateLimit>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    channels: ChannelsConfig,
  ) {
    if (!('catalystSenderBucket' in redis)) redis.defineCommand('catalystSenderBucket', { numberOfKeys: 1, lua: SCRIPT });
    const providers: readonly ChannelProvider[] = ['whatsapp', 'telegram', 'viber', 'messenger', 'instagram', 'rcs'];
    for (const p of providers) {
      const c = channels[p];
      if (!c) continue;
      for (const s of c.senders as readonly { account: string; from: string; rateLimit?: RateLimit | undefined }[]) {
        this.limits.set(`${p}|${s.account}|${s.from}`, s.rateLimit ?? c.senderRateLimit ?? SEED_RATE_LIMITS[p]);
      }
    }
  }

  /** 0 when the message may go, else the milliseconds to wait. */
  async take(channel: string, account: string, from: string, now = Date.now()): Promise<number> {
    const l = this.limits.get(`${channel}|${account}|${from}`);
    if (!l) return 0;
    return (this.redis as WithBucket).catalystSenderBucket(this.keys.senderBucket(channel, account, from), l.tps, l.burst, now);
  }
}
