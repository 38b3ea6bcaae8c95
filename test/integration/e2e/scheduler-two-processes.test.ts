/**
 * The one scheduler with two appliance processes on one Redis: both run the timer loop over the same
 * `{p}timers`, and every scheduled message is fired once — queued once (one `queued` event row after
 * its `scheduled` one) and sent upstream once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../src/appliance.js';
import type { SmscSimulator } from '../../../src/sim/index.js';
import { until } from '../../helpers/env.js';
import { E2E_ACCOUNT, clickhouseQuery, dropDatabase, e2eConfig, freePort, startAppliance, startSim } from '../../helpers/appliance.js';

const apps: Appliance[] = [];
let sim: SmscSimulator | undefined;
let database = '';

afterAll(async () => {
  for (const a of apps) await a.close();
  await sim?.close();
  if (database) await dropDatabase(database);
});

describe('the scheduler with two processes', () => {
  it('fires each scheduled message once', async () => {
    const s = await startSim({ receiptDelayMs: 20 });
    sim = s.sim;
    const raw = await e2eConfig(s.port);
    database = (raw['clickhouse'] as { database: string }).database;
    const a = await startAppliance({ ...raw, instanceId: 'sched-a' });
    const b = await startAppliance({ ...raw, instanceId: 'sched-b', http: { host: '127.0.0.1', port: await freePort() }, smpp: { ...(raw['smpp'] as object), port: await freePort() } });
    apps.push(a.app, b.app);
    await until('both upstreams bound', () => sim!.boundSessions >= 4);
    const before = sim.stats().submits;

    // 400 messages, half through each process, all due at the same instant.
    const dueAt = new Date(Date.now() + 2000).toISOString();
    const N = 400;
    const messages = Array.from({ length: N / 2 }, (_, i) => ({ to: `+1415555${String(4000 + i)}`, from: 'ACME', message: { body: `due ${i}` }, scheduledAt: dueAt }));
    const ids: string[] = [];
    for (const [k, port] of [a.httpPort, b.httpPort].entries()) {
      const r = await fetch(`http://127.0.0.1:${port}/api/v2/messages/sms/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': E2E_ACCOUNT.apiKey },
        body: JSON.stringify({ messages: messages.map((m, i) => ({ ...m, to: `+1415555${String(4000 + k * 200 + i)}` })) }),
      });
      expect(r.status).toBe(202);
      const body = (await r.json()) as { submitted: number; messages: { message_id: string }[] };
      expect(body.submitted).toBe(N / 2);
      ids.push(...body.messages.map((m) => m.message_id));
    }
    expect((await a.app.store!.getMany(ids)).every((m) => m?.status === 'scheduled')).toBe(true);

    await until('all delivered', async () => (await a.app.store!.getMany(ids)).every((m) => m?.status === 'delivered'), 30_000, 100);
    expect(sim.stats().submits - before).toBe(N);
    const rows = await until(
      'every queued row in ClickHouse',
      async () => {
        const r = await clickhouseQuery<{ n: string; q: string }>(
          `SELECT uniqExact(message_id) AS n, uniqExact(event_id) AS q FROM ${database}.message_events WHERE status = 'queued' AND message_id IN (${ids.map((id) => `'${id}'`).join(',')})`,
        );
        return Number(r[0]?.n) === N ? r : undefined;
      },
      30_000,
      200,
    );
    // One queued event per message: no second process fired its timer again.
    expect(Number(rows[0]?.q)).toBe(N);
  }, 90_000);
});
