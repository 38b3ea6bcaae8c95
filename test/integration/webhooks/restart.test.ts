/**
 * Webhooks survive a SIGKILL: the receiver is down, the appliance (a child process) retries a
 * message's read receipt while its final state waits behind it, and is killed with SIGKILL while a
 * retry is pending. Started again with the receiver up, it delivers exactly the pending events,
 * once each, in order.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { SmscSimulator } from '../../../src/sim/index.js';
import { Keys } from '../../../src/store/redis/keys.js';
import { WebhookStore } from '../../../src/store/redis/webhook-store.js';
import { dropPrefix, redisClient, until } from '../../helpers/env.js';
import { ApplianceProcess, E2E_ACCOUNT, dropDatabase, e2eConfig, freePort, startSim, portOpen } from '../../helpers/appliance.js';
import { Receiver } from './receiver.js';

const SECRET = 'whsec_restart_0123456789';
const redis = redisClient();
let sim: SmscSimulator | undefined;
let proc: ApplianceProcess | undefined;
let rx: Receiver | undefined;
let cleanup: (() => Promise<void>) | undefined;

afterAll(async () => {
  await proc?.kill('SIGKILL');
  await sim?.close();
  await rx?.close();
  await cleanup?.();
  redis.disconnect();
});


describe('webhooks across a SIGKILL', () => {
  it('delivers exactly the pending events, in order, after a restart', async () => {
    // Receipts after 1.5 s, so a read receipt can be queued before the final state.
    const s = await startSim({ receiptDelayMs: 1500 });
    sim = s.sim;
    const hookPort = await freePort(); // nothing listens there yet: the receiver is down
    const raw = await e2eConfig(s.port, { webhooks: { allowLoopback: true, backoffBaseSeconds: 1 } });
    const accounts = raw['accounts'] as Record<string, unknown>[];
    accounts[0] = { ...accounts[0], webhookSecret: SECRET };
    const prefix = (raw['redis'] as { keyPrefix: string }).keyPrefix;
    const database = (raw['clickhouse'] as { database: string }).database;
    const httpPort = (raw['http'] as { port: number }).port;
    cleanup = async () => {
      await dropPrefix(redis, prefix);
      await dropDatabase(database);
    };
    const webhooks = new WebhookStore(redis, new Keys(prefix));

    proc = new ApplianceProcess(raw);
    proc.start();
    await until('appliance up', () => portOpen(httpPort), 30_000, 100);
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/v2/messages/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': E2E_ACCOUNT.apiKey },
      body: JSON.stringify({ to: '+14155550123', message: { body: 'restart' }, tracking: { webhookUrl: `http://127.0.0.1:${hookPort}/hook` } }),
    });
    expect(res.status).toBe(202);
    const id = ((await res.json()) as { message_id: string }).message_id;
    // What a channel connector does for a read receipt (the message is not final yet).
    expect(await webhooks.enqueue(id, { eventType: 'read' })).toBe('queued');

    // The read receipt's attempts fail (nothing listens); the final state queues behind it.
    await until('final state queued behind a failing read receipt', async () => {
      const [pending, attempts] = await Promise.all([webhooks.pending(id), redis.hget(new Keys(prefix).webhookState(id), 'n')]);
      return pending.length === 2 && Number(attempts ?? 0) >= 1;
    }, 10_000, 50);
    const pendingBefore = (await webhooks.pending(id)).map((r) => (JSON.parse(r) as { d: string }).d);
    expect(pendingBefore[0]).toMatch(new RegExp(`^${id}:read:`));
    expect(pendingBefore[1]).toBe(`${id}:final`);
    expect(await proc.kill('SIGKILL')).toBe(null);

    // The receiver comes up; the appliance starts again.
    rx = await Receiver.start(SECRET, hookPort);
    proc.start();
    await until('both delivered', () => rx!.accepted().length >= 2, 20_000, 50);
    // Give a duplicate the time to show up, if there were one.
    await new Promise((r) => setTimeout(r, 1500));
    expect(rx.hooks.map((h) => h.delivery)).toEqual(pendingBefore);
    expect(rx.hooks.map((h) => h.event)).toEqual(['read', 'delivery']);
    expect(rx.hooks.every((h) => h.verified && h.status === 200)).toBe(true);
    expect(rx.hooks[1]!.json).toMatchObject({ eventType: 'delivery', messageId: id, status: 'delivered' });
    expect(await webhooks.pending(id)).toEqual([]);
    expect(await webhooks.backlog()).toBe(0);
    expect(await proc.kill('SIGTERM')).toBe(0);
  }, 60_000);
});
