/**
 * Two appliances on the same Redis (two processes of one deployment): chains started on either
 * are moved by whichever process reads their notices, and each moves once. Every chain's first
 * SMS gets an UNDELIV receipt (the simulator's 9991… destinations), its second is delivered:
 * exactly two sends per chain, two attempts recorded, whatever process did what.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../src/appliance.js';
import type { SmscSimulator } from '../../../src/sim/index.js';
import type { OrchestrationStatus } from '../../../src/router/orchestrator.js';
import { E2E_ACCOUNT, dropDatabase, e2eConfig, freePort, startAppliance, startSim } from '../../helpers/appliance.js';
import { until } from '../../helpers/env.js';

let sim: SmscSimulator;
const apps: Appliance[] = [];
let database = '';

beforeAll(async () => {
  const s = await startSim({ receiptDelayMs: 50 });
  sim = s.sim;
  const raw = await e2eConfig(s.port, { orchestration: { receiptWindowSeconds: 30 } });
  database = (raw['clickhouse'] as { database: string }).database;
  for (const instanceId of ['orch-a', 'orch-b']) {
    const own = { ...raw, instanceId, http: { host: '127.0.0.1', port: await freePort() }, smpp: { ...(raw['smpp'] as object), port: await freePort() } };
    apps.push((await startAppliance(own)).app);
  }
});

afterAll(async () => {
  for (const a of apps) await a.close();
  await sim.close();
  await dropDatabase(database);
});

describe('two processes', () => {
  it('move each chain once', async () => {
    const ids: string[] = [];
    const submitsBefore = sim.stats().submits;
    for (let i = 0; i < 20; i++) {
      const orch = apps[i % 2]?.orchestrator;
      if (!orch) throw new Error('no orchestrator');
      const r = await orch.begin({
        accountId: E2E_ACCOUNT.id,
        steps: [
          { channel: 'sms', from: 'ACME', text: `first ${i}`, to: `9991${String(i).padStart(7, '0')}` },
          { channel: 'sms', from: 'ACME', text: `second ${i}`, to: `1415555${String(i).padStart(4, '0')}` },
        ],
        to: `1415555${String(i).padStart(4, '0')}`,
        failover: { retryDelayMs: 10, maxRetries: 2 },
      });
      if (r.kind !== 'started') throw new Error(JSON.stringify(r));
      ids.push(r.id);
    }
    const a = apps[0]?.orchestrator;
    if (!a) throw new Error('no orchestrator');
    const done = await until(
      'every chain ended',
      async () => {
        const all = await Promise.all(ids.map((id) => a.get(E2E_ACCOUNT.id, id)));
        return all.every((s) => s?.status === 'delivered') ? (all as OrchestrationStatus[]) : undefined;
      },
      30_000,
      100,
    );
    for (const s of done) expect(s.attempts.map((x) => `${x.channel}:${x.outcome}`)).toEqual(['sms:failed', 'sms:delivered']);
    await new Promise((r) => setTimeout(r, 300));
    expect(sim.stats().submits - submitsBefore).toBe(40);
    // Each send recorded once, whichever process made it (which one reads a notice is the consumer group's choice).
    let attempts = 0;
    for (const app of apps) {
      const m = await app.metrics.registry.getSingleMetric('router_orchestration_events_total')?.get();
      attempts += m?.values.find((v) => v.labels['event'] === 'attempt')?.value ?? 0;
    }
    expect(attempts).toBe(40);
  });
});
