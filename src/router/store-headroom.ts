/**
 * Redis's memory as backpressure. Everything Catalyst keeps lives in Redis until a consumer is done
 * with it: messages waiting for their upstream, receipts owed to ESMEs that are not bound, event
 * rows while ClickHouse is away, final messages for their retention. When one of those consumers
 * falls behind long enough, Redis fills: past its `maxmemory` every write fails (noeviction), and
 * without one the kernel kills it. Before that happens, new messages are refused as overloaded
 * (ESME_RTHROTTLED, HTTP 503 with a retry hint) while everything already accepted goes on.
 *
 * The limit is `router.redisMemoryLimitMb`; unset, 90% of Redis's own `maxmemory` when it has one.
 * Refusing starts when `used_memory` reaches the limit and stops below 95% of it, so a store at the
 * edge does not flap. The router polls this once a second (one `INFO memory`).
 */
import type { Logger } from 'pino';
import type { Metrics } from '../core/metrics.js';

/** Share of Redis's maxmemory used as the limit when none is configured. */
const OF_MAXMEMORY = 0.9;
/** Refusing stops below this share of the limit. */
const RESUME_AT = 0.95;

export interface MemoryReading {
  readonly usedBytes: number;
  /** Redis's maxmemory; 0 when it has none. */
  readonly maxBytes: number;
}

/** used_memory and maxmemory from the text of INFO memory. */
export function parseMemoryInfo(info: string): MemoryReading | undefined {
  const used = /^used_memory:(\d+)\r?$/m.exec(info);
  if (!used) return undefined;
  const max = /^maxmemory:(\d+)\r?$/m.exec(info);
  return { usedBytes: Number(used[1]), maxBytes: max ? Number(max[1]) : 0 };
}

/** What the headroom reads Redis through (an ioredis client). */
export interface MemoryInfoSource {
  info(section: 'memory'): Promise<string>;
}

export class StoreHeadroom {
  private refusing = false;
  private told = false;

  constructor(
    private readonly redis: MemoryInfoSource,
    /** router.redisMemoryLimitMb in bytes; undefined: from Redis's maxmemory; 0: no limit. */
    private readonly configuredBytes: number | undefined,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
  ) {}

  /** Whether new messages are refused now. */
  get full(): boolean {
    return this.refusing;
  }

  /** Reads Redis's memory once and decides; a failed read keeps the last decision. */
  async poll(): Promise<void> {
    let reading: MemoryReading | undefined;
    try {
      reading = parseMemoryInfo(await this.redis.info('memory'));
    } catch (err) {
      this.log.warn({ err }, 'could not read Redis memory (INFO memory); backpressure stays as it was');
      return;
    }
    if (reading) this.decide(reading);
  }

  /** The decision for one reading (poll's, or a test's). */
  decide({ usedBytes, maxBytes }: MemoryReading): void {
    const limit = this.configuredBytes ?? Math.floor(maxBytes * OF_MAXMEMORY);
    this.metrics?.redisUsedMemory.set(usedBytes);
    const was = this.refusing;
    if (limit <= 0) this.refusing = false;
    else if (!this.refusing && usedBytes >= limit) this.refusing = true;
    else if (this.refusing && usedBytes < limit * RESUME_AT) this.refusing = false;
    this.metrics?.redisMemoryFull.set(this.refusing ? 1 : 0);
    const mb = (n: number): number => Math.round(n / 1048576);
    if (!this.told) {
      // Once, at the first reading: what bounds Redis, or that nothing does.
      this.told = true;
      if (limit > 0) this.log.info({ limitMb: mb(limit) }, `new messages are refused as overloaded while Redis uses ${mb(limit)} MiB or more`);
      else if (this.configuredBytes === undefined) this.log.warn('Redis has no maxmemory and router.redisMemoryLimitMb is unset: nothing bounds what Redis holds when a consumer falls behind (docs/scaling.md, Memory)');
    }
    if (this.refusing === was) return;
    const fields = { usedMb: mb(usedBytes), limitMb: mb(limit), source: this.configuredBytes !== undefined ? 'router.redisMemoryLimitMb' : 'Redis maxmemory' };
    if (this.refusing) this.log.error(fields, `Redis uses ${fields.usedMb} MiB, at its limit (${fields.source}): new messages are refused as overloaded until it is below ${mb(limit * RESUME_AT)} MiB`);
    else this.log.warn(fields, `Redis uses ${fields.usedMb} MiB, below its limit again: new messages are accepted`);
  }
}
