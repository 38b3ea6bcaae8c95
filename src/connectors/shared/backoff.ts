/** Exponential backoff (the seed's best practice 2: 5 s, 10 s, 20 s … scaled by the config's base). */
import type { RetryConfig } from '../../core/config.js';

/** The wait before attempt number `attempt` (2 = the first retry), doubled each time, capped. */
export function backoffMs(cfg: RetryConfig, attempt: number): number {
  const n = Math.max(0, attempt - 2);
  return Math.min(cfg.maxDelayMs, cfg.baseDelayMs * 2 ** n);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
