/**
 * What the campaign engine's tests stand on: account `acme` with a route to an upstream that is
 * never connected (it only names the queue), its message store and admission on a key prefix of
 * the test file's own, and a campaign definition to vary.
 */
import { pino, type Logger } from 'pino';
import type { Redis } from 'ioredis';
import { parseConfig, type Config } from '../../src/core/config.js';
import type { CampaignDefinition } from '../../src/core/campaign.js';
import type { Message } from '../../src/core/message.js';
import { Admission } from '../../src/router/admission.js';
import { RoutingTable } from '../../src/router/routing-table.js';
import { MessageStore } from '../../src/store/redis/message-store.js';
import { redisClient, testPrefix } from './env.js';

export interface CampaignRig {
  readonly redis: Redis;
  readonly prefix: string;
  readonly config: Config;
  readonly store: MessageStore;
  readonly admission: Admission;
  readonly log: Logger;
  close(): Promise<void>;
}

/** `campaigns`: the config's campaigns section for this file. */
export async function campaignRig(campaigns: Record<string, unknown>): Promise<CampaignRig> {
  const redis = redisClient();
  const prefix = testPrefix();
  const log = pino({ level: 'silent' });
  const config = parseConfig({
    accounts: [{ id: 'acme', apiKeys: ['sk_test_campaigns_0123456789'], balance: 1000, tps: 100_000 }],
    upstreams: [{ id: 'up', type: 'smpp', host: '127.0.0.1', port: 9, systemId: 'x', password: 'y' }],
    routes: [{ prefix: '', upstream: 'up', price: 0.01 }],
    contacts: [],
    campaigns,
  });
  const store = new MessageStore(redis, { prefix, platformTps: 1e9, platformBurst: 1e9, retentionSeconds: 86_400, finalRetentionSeconds: 3600, maxAttempts: 3 });
  await store.seedBalance('acme', 1000 * 1_000_000);
  const admission = new Admission(store, new RoutingTable(config.routes.map((r) => ({ ...r, channel: r.channel }))), config, Admission.optionsFrom(config.router), log);
  return {
    redis,
    prefix,
    config,
    store,
    admission,
    log,
    // Its keys go when the file ends (drop-test-prefixes.ts).
    close: () => {
      redis.disconnect();
      return Promise.resolve();
    },
  };
}

/** An SMS campaign of `acme` with the template "Hello {{n}}", no window optimisation. */
export function campaignDefinition(id: string, over: Partial<CampaignDefinition> = {}): CampaignDefinition {
  return {
    id,
    accountId: 'acme',
    templates: { sms: { channel: 'sms', body: 'Hello {{n}}' } },
    rateLimit: 10_000,
    maxConcurrent: 0,
    timeZoneOptimization: false,
    window: { startMinute: 9 * 60, endMinute: 20 * 60 },
    trackingEnabled: true,
    conversionTracking: false,
    attributionWindowDays: 30,
    channelPreference: ['sms'],
    createdAt: 0,
    ...over,
  };
}

/**
 * Every message the store holds under its prefix, with its id: those with a hash of their own and
 * those admitted to wait in their queue (a field of the waiting hash until taken; lua/common.lua
 * materialize), read as the store reads them.
 */
export async function storedMessages(store: MessageStore): Promise<{ id: string; message: Message }[]> {
  const ids: string[] = [];
  const prefix = `${store.keys.prefix}m:`;
  let cursor = '0';
  do {
    const [next, keys] = await store.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) ids.push(k.slice(prefix.length));
  } while (cursor !== '0');
  ids.push(...(await store.redis.hkeys(store.keys.waiting())));
  const stored = await store.getMany(ids);
  return ids.flatMap((id, i) => {
    const message = stored[i]?.message;
    return message === undefined ? [] : [{ id, message }];
  });
}
