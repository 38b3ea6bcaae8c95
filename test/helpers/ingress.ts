/**
 * The ingress half of the appliance, in-process, over real Redis: store, router (with no
 * upstream running, so messages stay queued where tests can look at them) and the SMPP server.
 */
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { parseConfig, type Config } from '../../src/core/config.js';
import { Router } from '../../src/router/router.js';
import { SmppAuth } from '../../src/smpp-server/auth.js';
import { SmppServer } from '../../src/smpp-server/server.js';
import { MessageStore } from '../../src/store/redis/message-store.js';
import { redisClient, testPrefix, dropPrefix } from './env.js';

export const ACCOUNT = { id: 'acme', systemId: 'acme', password: 'secret1', apiKey: 'sk_test_acme_0123456789' };

export function testConfig(over: Record<string, unknown> = {}, account: Record<string, unknown> = {}): Readonly<Config> {
  return parseConfig({
    smpp: { port: 0, host: '127.0.0.1', window: 50, responseTimeoutSeconds: 2, deliverWindow: 10 },
    redis: { keyPrefix: testPrefix() },
    accounts: [
      {
        id: ACCOUNT.id,
        apiKeys: [ACCOUNT.apiKey],
        smpp: [{ systemId: ACCOUNT.systemId, password: ACCOUNT.password }],
        balance: 100,
        tps: 10_000,
        numbers: ['15550001111'],
        ...account,
      },
    ],
    upstreams: [{ id: 'up1', type: 'smpp', host: '127.0.0.1', port: 1, systemId: 'x', password: 'y' }],
    routes: [{ prefix: '', upstream: 'up1', price: 0.01 }],
    ...over,
  });
}

export class Ingress {
  readonly redis: Redis = redisClient();
  readonly store: MessageStore;
  readonly router: Router;
  readonly server: SmppServer;
  port = 0;
  private readonly extra: Redis[] = [];

  constructor(readonly config: Readonly<Config>) {
    const log = pino({ level: process.env['TEST_LOG'] ?? 'silent' });
    this.store = new MessageStore(this.redis, { prefix: config.redis.keyPrefix, platformTps: config.router.platformTps, platformBurst: config.router.platformBurst, retentionSeconds: 3600, finalRetentionSeconds: 600, maxAttempts: 3 });
    this.router = new Router({
      config,
      store: this.store,
      connect: () => {
        const r = redisClient();
        this.extra.push(r);
        return r;
      },
      consumer: 'test',
      log,
    });
    this.server = new SmppServer({ cfg: config.smpp, auth: new SmppAuth(config.accounts), admission: this.router.admission, store: this.store, deliveries: this.router.deliveries, log });
  }

  async start(): Promise<this> {
    await this.router.start([]);
    this.port = await this.server.listen(0, '127.0.0.1');
    return this;
  }

  async stop(): Promise<void> {
    await this.server.close();
    await this.router.close();
    await dropPrefix(this.redis, this.config.redis.keyPrefix);
    for (const r of this.extra) r.disconnect();
    this.redis.disconnect();
  }
}
