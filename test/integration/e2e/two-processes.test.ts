/**
 * Two appliance processes against one Redis and one ClickHouse share the work: ESMEs bound to
 * either, every message sent upstream exactly once (in normal operation), every receipt back.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../src/appliance.js';
import type { SmscSimulator } from '../../../src/sim/index.js';
import { SmppPeer, sendMany } from '../../helpers/esme.js';
import { until } from '../../helpers/env.js';
import { E2E_ACCOUNT, dropDatabase, e2eConfig, freePort, startAppliance, startSim } from '../../helpers/appliance.js';

const apps: Appliance[] = [];
let sim: SmscSimulator | undefined;
let database = '';

afterAll(async () => {
  for (const a of apps) await a.close();
  await sim?.close();
  if (database) await dropDatabase(database);
});

describe('two processes, one Redis', () => {
  it('send every message upstream once and deliver every receipt', async () => {
    const s = await startSim();
    sim = s.sim;
    const raw = await e2eConfig(s.port);
    database = (raw['clickhouse'] as { database: string }).database;
    const a = await startAppliance({ ...raw, instanceId: 'proc-a' });
    const b = await startAppliance({ ...raw, instanceId: 'proc-b', http: { host: '127.0.0.1', port: await freePort() }, smpp: { ...(raw['smpp'] as object), port: await freePort() } });
    apps.push(a.app, b.app);
    await until('both upstreams bound', () => sim!.boundSessions >= 4);
    const before = sim.stats().submits;

    const peers = [await SmppPeer.open(a.smppPort), await SmppPeer.open(b.smppPort)];
    for (const p of peers) expect(await p.bind('transceiver', E2E_ACCOUNT.systemId, E2E_ACCOUNT.password)).toBe(0);
    const N = 2000;
    const resps = (
      await Promise.all(peers.map((p, k) => sendMany(p, N / 2, (i) => ({ destination_addr: `1415551${k}${String(i).padStart(3, '0')}`, short_message: `shared ${k}-${i}`, registered_delivery: 1 }), 100)))
    ).flat();
    const ids = resps.map((r) => r.message_id ?? '');
    expect(resps.every((r) => r.command_status === 0)).toBe(true);

    await until('all delivered', async () => (await a.app.store!.getMany(ids)).every((m) => m?.status === 'delivered'), 30_000, 100);
    // Exactly once upstream: no message was taken by both processes.
    expect(sim.stats().submits - before).toBe(N);
    // Every receipt reached one of the account's binds (whichever process held the entry).
    await until('all receipts', () => {
      const got = new Set(peers.flatMap((p) => p.delivered.map((d) => d.receipted_message_id)));
      return ids.every((id) => got.has(id));
    }, 30_000, 100);
    for (const p of peers) await p.close();
  }, 90_000);
});
