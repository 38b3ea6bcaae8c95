/**
 * Webhooks for final message states (the Catalyst v2 "Delivery Receipt Webhook" shape), signed
 * with the account's webhookSecret (X-Catalyst-Signature: sha256=<hex HMAC of the body>) and retried
 * with exponential backoff (5 s, 10 s, 20 s … the seed's best practice 2) through the Redis timers,
 * so a retry survives a restart. A 2xx ends it; after `maxAttempts` it is given up and counted.
 */
import { createHmac } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AccountConfig } from '../core/config.js';
import { fromMicros } from '../core/message.js';
import type { Metrics } from '../core/metrics.js';
import { GROUP_WEBHOOK } from '../store/redis/keys.js';
import type { MessageStore, StoredMessage } from '../store/redis/message-store.js';
import { ensureGroup, readGroup } from '../store/redis/streams.js';
import { dlrDescription } from './dlr.js';
import { sleep } from './dispatcher.js';

export interface WebhookOptions {
  readonly consumer: string;
  readonly maxAttempts: number;
  readonly timeoutMs: number;
  readonly concurrency: number;
}

export function webhookPayload(s: StoredMessage): Record<string, unknown> {
  const stat = s.dlrStat ?? 'UNKNOWN';
  return {
    eventType: 'delivery',
    messageId: s.id,
    channel: s.message?.channel ?? 'sms',
    status: s.status,
    dlr: {
      status: stat,
      code: s.dlrErr ?? '000',
      description: dlrDescription(stat),
      timestamp: new Date(s.doneAt ?? Date.now()).toISOString(),
    },
    billing: { amount: fromMicros(s.status === 'delivered' || s.submittedAt !== undefined ? s.priceMicros : 0), currency: s.currency, rateUsed: 'standard' },
    metadata: {},
  };
}

export class WebhookSender {
  private running = false;
  private readonly abort = new AbortController();
  private loopDone: Promise<void> = Promise.resolve();
  private readonly accounts: ReadonlyMap<string, AccountConfig>;

  constructor(
    private readonly store: MessageStore,
    private readonly reader: Redis,
    accounts: readonly AccountConfig[],
    private readonly opts: WebhookOptions,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
  ) {
    this.accounts = new Map(accounts.map((a) => [a.id, a]));
  }

  async start(): Promise<void> {
    await ensureGroup(this.store.redis, this.store.keys.webhooks(), GROUP_WEBHOOK);
    this.running = true;
    this.loopDone = this.loop();
  }

  async close(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort.abort();
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    const key = this.store.keys.webhooks();
    while (this.running) {
      try {
        const entries = await readGroup(this.reader, key, GROUP_WEBHOOK, this.opts.consumer, this.opts.concurrency, 1000);
        if (entries.length === 0) continue;
        const stored = await this.store.getMany(entries.map((e) => e.fields['i'] ?? ''));
        await Promise.all(entries.map((e, i) => this.deliver(stored[i], Number(e.fields['n'] ?? 0))));
        await this.store.redis.pipeline().xack(key, GROUP_WEBHOOK, ...entries.map((e) => e.id)).xdel(key, ...entries.map((e) => e.id)).exec();
      } catch (err) {
        if (!this.running) break;
        this.log.error({ err }, 'webhook loop error');
        await sleep(1000, this.abort.signal);
      }
    }
  }

  private async deliver(s: StoredMessage | undefined, attempt: number): Promise<void> {
    const url = s?.message?.webhookUrl ?? (s ? this.accounts.get(s.accountId)?.webhookUrl : undefined);
    if (!s || !url) return;
    const body = JSON.stringify(webhookPayload(s));
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Catalyst-Webhooks/2.0' };
    const secret = this.accounts.get(s.accountId)?.webhookSecret;
    if (secret) headers['x-catalyst-signature'] = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    try {
      const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.opts.timeoutMs) });
      if (res.ok) {
        this.metrics?.webhooks.inc({ result: 'delivered' });
        return;
      }
      throw new Error(`HTTP ${res.status}`);
    } catch (err) {
      const next = attempt + 1;
      if (next >= this.opts.maxAttempts) {
        this.metrics?.webhooks.inc({ result: 'given_up' });
        this.log.warn({ account: s.accountId, err: (err as Error).message, attempts: next }, 'webhook given up');
        return;
      }
      this.metrics?.webhooks.inc({ result: 'retry' });
      await this.store.redis.zadd(this.store.keys.timers(), Date.now() + 5000 * 2 ** attempt, `w|${s.id}|${next}`);
    }
  }
}
