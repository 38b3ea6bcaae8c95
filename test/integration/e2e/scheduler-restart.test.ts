/**
 * Nothing scheduled is lost across a restart: the appliance (a child process) accepts messages
 * scheduled a few seconds ahead (HTTP scheduledAt and SMPP schedule_delivery_time) and another
 * part's scheduler item, is killed with SIGKILL before they are due, and is started again after
 * they are due: every one fires once (each message is sent once and delivered; the item is
 * handed out once).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MessageStore } from '../../../src/store/redis/message-store.js';
import { Scheduler } from '../../../src/router/scheduler.js';
import type { SmscSimulator } from '../../../src/sim/index.js';
import { SmppPeer } from '../../helpers/esme.js';
import { redisClient, until } from '../../helpers/env.js';
import { ApplianceProcess, E2E_ACCOUNT, dropDatabase, e2eConfig, portOpen, startSim } from '../../helpers/appliance.js';

const redis = redisClient();
let sim: SmscSimulator | undefined;
let proc: ApplianceProcess | undefined;
let cleanup: (() => Promise<void>) | undefined;

afterAll(async () => {
  await proc?.kill('SIGTERM');
  await sim?.close();
  await cleanup?.();
  redis.disconnect();
});

describe('the scheduler across a SIGKILL', () => {
  it('fires every item that fell due while the process was down, once', async () => {
    const s = await startSim({ receiptDelayMs: 20 });
    sim = s.sim;
    const raw = await e2eConfig(s.port);
    const httpPort = (raw['http'] as { port: number }).port;
    const smppPort = (raw['smpp'] as { port: number }).port;
    const prefix = (raw['redis'] as { keyPrefix: string }).keyPrefix;
    const database = (raw['clickhouse'] as { database: string }).database;
    cleanup = () => dropDatabase(database);
    proc = new ApplianceProcess(raw);
    proc.start();
    await until('appliance up', () => portOpen(httpPort), 30_000, 100);

    const dueAt = Date.now() + 4000;
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await fetch(`http://127.0.0.1:${httpPort}/api/v2/messages/sms`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': E2E_ACCOUNT.apiKey },
        body: JSON.stringify({ to: `+1415555${String(2000 + i)}`, from: 'ACME', message: { body: `later ${i}` }, scheduledAt: new Date(dueAt).toISOString() }),
      });
      expect(r.status).toBe(202);
      ids.push(((await r.json()) as { message_id: string }).message_id);
    }
    const peer = await SmppPeer.open(smppPort);
    expect(await peer.bind('transmitter', E2E_ACCOUNT.systemId, E2E_ACCOUNT.password)).toBe(0);
    for (let i = 0; i < 10; i++) {
      // SMPP 3.4 §7.1.1: relative time, 4 seconds from now.
      const r = await peer.call('submit_sm', { source_addr: 'ACME', destination_addr: `1415555${3000 + i}`, short_message: `smpp later ${i}`, schedule_delivery_time: '000000000004000R' });
      expect(r.command_status).toBe(0);
      ids.push(r.message_id ?? '');
    }
    const store = new MessageStore(redis, { prefix, platformTps: 1, platformBurst: 1, retentionSeconds: 60, finalRetentionSeconds: 60, maxAttempts: 1 });
    const scheduler = new Scheduler(redis, store.keys);
    await scheduler.schedule('restart-test', 'item-1', dueAt);
    expect((await store.getMany(ids)).every((m) => m?.status === 'scheduled')).toBe(true);

    peer.session.destroy();
    expect(await proc.kill('SIGKILL')).toBe(null);
    const submitsBefore = sim.stats().submits;
    // Down until well after everything fell due.
    await new Promise((r) => setTimeout(r, Math.max(0, dueAt + 1500 - Date.now())));
    expect((await store.getMany(ids)).every((m) => m?.status === 'scheduled')).toBe(true);

    proc.start();
    await until('every scheduled message delivered', async () => (await store.getMany(ids)).every((m) => m?.status === 'delivered'), 60_000, 200);
    expect(sim.stats().submits - submitsBefore).toBe(ids.length);
    const fired = await scheduler.take('restart-test', 'checker', 10);
    expect(fired.map((d) => d.id)).toEqual(['item-1']);
    expect(await redis.zcount(store.keys.timers(), '-inf', dueAt)).toBe(0);
  }, 120_000);
});
