/**
 * Billing end to end, with two appliance processes on one Redis and one ClickHouse: concurrent
 * sends through both never take the balance below zero and are refused with INSUFFICIENT_BALANCE
 * before anything is sent; GET /api/v2/account/balance then shows the balance, the reserve and the
 * spend by cost center computed from the final event rows; a message refused upstream is refunded
 * and costs nothing there.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../src/appliance.js';
import type { SmscSimulator } from '../../../src/sim/index.js';
import { SmppPeer, sendMany } from '../../helpers/esme.js';
import { redisClient, until } from '../../helpers/env.js';
import { dropDatabase, e2eConfig, freePort, startAppliance, startSim } from '../../helpers/appliance.js';

const redis = redisClient();
const apps: Appliance[] = [];
let sim: SmscSimulator | undefined;
let cleanup: (() => Promise<void>) | undefined;

afterAll(async () => {
  for (const a of apps) await a.close();
  await sim?.close();
  await cleanup?.();
  redis.disconnect();
});

const POOR = { id: 'poor', apiKey: 'sk_test_poor_0123456789abcdef' };
const BETA = { id: 'beta', apiKey: 'sk_test_beta_0123456789abcdef', systemId: 'beta', password: 'beta1' };

interface BalanceBody {
  balance: number;
  reserved: number;
  currency: string;
  spend: { today: number; month: number; period: { amount: number; messages: number }; by_cost_center: { cost_center: string; spend: number; messages: number }[] } | null;
}

describe('billing across two processes', () => {
  let ports: number[] = [];
  let smppPort = 0;
  const balanceOf = async (key: string, query = '', port = ports[0]): Promise<{ status: number; body: BalanceBody & { error?: { code: string; details: { field: string }[] } } }> => {
    const r = await fetch(`http://127.0.0.1:${port}/api/v2/account/balance${query}`, { headers: { 'x-api-key': key } });
    return { status: r.status, body: (await r.json()) as BalanceBody & { error?: { code: string; details: { field: string }[] } } };
  };

  it('never spends below zero under concurrent sends from both, and reports spend by cost center', async () => {
    // The simulator names the network of 1415555019x in its receipts (vendor TLV 0x1540).
    const s = await startSim({ receiptDelayMs: 20, networks: { '1415555019': '310410' } });
    sim = s.sim;
    const raw = await e2eConfig(s.port, {
      log: { level: process.env['TEST_LOG'] ?? 'error' },
      accounts: [
        // 1.00 at 0.005 a message: exactly 200 messages.
        { id: POOR.id, apiKeys: [POOR.apiKey], balance: 1, tps: 100_000 },
        { id: BETA.id, apiKeys: [BETA.apiKey], smpp: [{ systemId: BETA.systemId, password: BETA.password }], balance: 1, tps: 100_000, rateCardId: 'RC-NET' },
      ],
      // Beta's card: 0.005 since 2021 (0.5 in 2020, not in force now), 0.003 on network 310410.
      rateCards: [
        {
          id: 'RC-NET',
          currency: 'USD',
          rates: [
            { channel: 'sms', prefix: '', price: 0.5, validFrom: '2020-01-01T00:00:00Z', validTo: '2021-01-01T00:00:00Z' },
            { channel: 'sms', prefix: '', price: 0.005, validFrom: '2021-01-01T00:00:00Z' },
            { channel: 'sms', prefix: '1', price: 0.003, mccMnc: '310410' },
          ],
        },
      ],
    });
    const prefix = (raw['redis'] as { keyPrefix: string }).keyPrefix;
    const database = (raw['clickhouse'] as { database: string }).database;
    raw['upstreams'] = (raw['upstreams'] as Record<string, unknown>[]).map((u) => ({ ...u, networkIdTlv: 0x1540 }));
    cleanup = () => dropDatabase(database);
    const a = await startAppliance({ ...raw, instanceId: 'bill-a' });
    const b = await startAppliance({ ...raw, instanceId: 'bill-b', http: { host: '127.0.0.1', port: await freePort() }, smpp: { ...(raw['smpp'] as object), port: await freePort() } });
    apps.push(a.app, b.app);
    ports = [a.httpPort, b.httpPort];
    smppPort = a.smppPort;
    await until('both upstreams bound', () => sim!.boundSessions >= 4);
    const before = sim.stats().submits;

    // 300 sends through each process at once, 25 in flight on each, two cost centers.
    const send = async (port: number, i: number, costCenter: string): Promise<number> => {
      const r = await fetch(`http://127.0.0.1:${port}/api/v2/messages/sms`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${POOR.apiKey}` },
        body: JSON.stringify({ to: `+1415555${String(1000 + i).slice(-4)}`, from: 'ACME', message: { body: `bill ${i}` }, billing: { costCenter } }),
      });
      await r.arrayBuffer();
      return r.status;
    };
    const lanes = async (port: number, costCenter: string, offset: number): Promise<number[]> => {
      const out: number[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: 25 }, async () => {
          while (next < 300) {
            const i = next++;
            out.push(await send(port, offset + i, costCenter));
          }
        }),
      );
      return out;
    };
    const [fromA, fromB] = await Promise.all([lanes(a.httpPort, 'DEPT-A', 0), lanes(b.httpPort, 'DEPT-B', 300)]);
    const statuses = [...fromA, ...fromB];
    expect(statuses.filter((c) => c === 202).length).toBe(200);
    expect(statuses.filter((c) => c === 402).length).toBe(400);
    expect(Number(await redis.get(`${prefix}bal:${POOR.id}`))).toBe(0);

    // Refused before sending, never after: the carrier saw exactly the 200 accepted.
    await until('all final', async () => (await balanceOf(POOR.apiKey)).body.reserved === 0, 30_000, 100);
    expect(sim.stats().submits - before).toBe(200);
    const acceptedA = fromA.filter((c) => c === 202).length;

    // Spend from ClickHouse: the final rows, each once.
    const got = await until(
      'spend in ClickHouse',
      async () => {
        const r = await balanceOf(POOR.apiKey, '', b.httpPort);
        return r.body.spend?.period.messages === 200 ? r : undefined;
      },
      30_000,
      200,
    );
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ balance: 0, reserved: 0, currency: 'USD' });
    expect(got.body.spend).toMatchObject({ today: 1, month: 1, period: { amount: 1, messages: 200 } });
    expect(got.body.spend?.by_cost_center).toEqual([
      { cost_center: 'DEPT-A', spend: acceptedA * 0.005, messages: acceptedA, today: acceptedA * 0.005, month: acceptedA * 0.005 },
      { cost_center: 'DEPT-B', spend: (200 - acceptedA) * 0.005, messages: 200 - acceptedA, today: (200 - acceptedA) * 0.005, month: (200 - acceptedA) * 0.005 },
    ].map((c) => ({ ...c, spend: expect.closeTo(c.spend, 9) as number, today: expect.closeTo(c.today, 9) as number, month: expect.closeTo(c.month, 9) as number })));
    // The same, live, in /metrics (updated every second).
    await until('balance gauges', async () => {
      const text = await (await fetch(`http://127.0.0.1:${a.httpPort}/metrics`)).text();
      return text.includes('router_account_balance{account="poor"} 0') && text.includes('router_account_reserved{account="poor"} 0') && text.includes('router_account_balance{account="beta"} 1');
    }, 10_000, 200);
    const onlyB = await balanceOf(POOR.apiKey, '?costCenter=DEPT-B');
    expect(onlyB.body.spend?.by_cost_center.map((c) => c.cost_center)).toEqual(['DEPT-B']);
    // A period before any of it: nothing spent then.
    const past = await balanceOf(POOR.apiKey, '?from=2024-01-01&to=2024-02-01T00:00:00Z');
    expect(past.body.spend?.period).toMatchObject({ amount: 0, messages: 0 });
  }, 120_000);

  it('refunds a message the carrier refused at submit, and settles one to the network its receipt names', async () => {
    const peer = await SmppPeer.open(smppPort);
    expect(await peer.bind('transceiver', BETA.systemId, BETA.password)).toBe(0);
    // 9995…: the simulator answers ESME_RINVDSTADR (the message never left: refunded by default).
    const resps = await sendMany(peer, 3, (i) => ({ destination_addr: `999500000${i}`, short_message: 'refused', registered_delivery: 1 }));
    expect(resps.every((r) => r.command_status === 0)).toBe(true);
    const ok = await sendMany(peer, 1, () => ({ destination_addr: '14155550199', short_message: 'kept', registered_delivery: 1 }));
    expect(ok[0]?.command_status).toBe(0);
    await until('all settled', async () => (await balanceOf(BETA.apiKey)).body.reserved === 0, 30_000, 100);
    const got = await until(
      'four final rows',
      async () => {
        const r = await balanceOf(BETA.apiKey);
        return r.body.spend?.period.messages === 4 ? r : undefined;
      },
      30_000,
      200,
    );
    // Reserved at 0.005 (the prefix rate in force), settled at 0.003 (network 310410); the refused three cost nothing.
    expect(got.body.balance).toBeCloseTo(0.997, 9);
    expect(got.body.spend?.period.amount).toBeCloseTo(0.003, 9);
    await peer.close();
  }, 60_000);

  it('answers a bad query with 400 naming the field', async () => {
    const bad = await balanceOf(POOR.apiKey, '?from=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBe('VALIDATION_ERROR');
    expect(bad.body.error?.details.map((d) => d.field)).toEqual(['from']);
    const backwards = await balanceOf(POOR.apiKey, '?from=2025-02-01&to=2025-01-01');
    expect(backwards.status).toBe(400);
    expect(backwards.body.error?.details.map((d) => d.field)).toEqual(['to']);
    const unknown = await balanceOf(POOR.apiKey, '?currency=EUR');
    expect(unknown.status).toBe(400);
    expect((await fetch(`http://127.0.0.1:${ports[0]}/api/v2/account/balance`)).status).toBe(401);
  });
});
