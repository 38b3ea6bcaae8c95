/**
 * Rate limits hold across processes (the buckets are in Redis), and every authenticated route
 * refuses a request without a valid key.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../src/appliance.js';
import type { SmscSimulator } from '../../../src/sim/index.js';
import { buildRoutes } from '../../../src/http-bridge/routes.js';
import type { RouteDeps } from '../../../src/http-bridge/routes.js';
import { E2E_ACCOUNT, dropDatabase, e2eConfig, freePort, startAppliance, startSim } from '../../helpers/appliance.js';

const apps: Appliance[] = [];
let sim: SmscSimulator | undefined;
let database = '';

afterAll(async () => {
  for (const a of apps) await a.close();
  await sim?.close();
  if (database) await dropDatabase(database);
});

describe('across two appliance processes on one Redis', () => {
  it('an account gets its SMS limit once, not once per process', async () => {
    const s = await startSim();
    sim = s.sim;
    const raw = await e2eConfig(s.port);
    database = (raw['clickhouse'] as { database: string }).database;
    const accounts = raw['accounts'] as Record<string, unknown>[];
    accounts[0] = { ...accounts[0], rateLimits: { sms: { tps: 10, burst: 10 } } };
    const a = await startAppliance({ ...raw, instanceId: 'rl-a' });
    const b = await startAppliance({ ...raw, instanceId: 'rl-b', http: { host: '127.0.0.1', port: await freePort() }, smpp: { ...(raw['smpp'] as object), port: await freePort() } });
    apps.push(a.app, b.app);
    const send = (port: number, i: number): Promise<Response> =>
      fetch(`http://127.0.0.1:${port}/api/v2/messages/sms`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': E2E_ACCOUNT.apiKey },
        body: JSON.stringify({ to: `+1415555${String(i).padStart(4, '0')}`, message: { body: 'limit' } }),
      });
    const res = await Promise.all(Array.from({ length: 30 }, (_, i) => send(i % 2 === 0 ? a.httpPort : b.httpPort, i)));
    const accepted = res.filter((r) => r.status === 202).length;
    // The burst of 10 plus what refilled (10 a second) while the 30 requests ran: far below 2 × 10.
    expect(accepted).toBeGreaterThanOrEqual(10);
    expect(accepted).toBeLessThanOrEqual(12);
    expect(res.filter((r) => r.status === 429).length).toBe(30 - accepted);
  }, 60_000);
});

describe('auth on every route', () => {
  it('answers 401 INVALID_API_KEY on every authenticated /api/v2 route without a valid key', async () => {
    const app = apps[0];
    expect(app).toBeDefined();
    const port = (app!.config.http.port);
    const routes = buildRoutes({} as RouteDeps).filter((r) => r.auth);
    expect(routes.length).toBeGreaterThanOrEqual(4);
    for (const r of routes) {
      const path = r.pattern.replace(/\{[^}]+\}/g, 'X1');
      for (const headers of [{}, { authorization: 'Bearer sk_not_a_key_0123456789' }, { 'x-api-key': 'nope' }]) {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: r.method, headers: { 'content-type': 'application/json', ...headers }, ...(r.method === 'GET' ? {} : { body: '{}' }) });
        expect(res.status, `${r.method} ${r.pattern}`).toBe(401);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INVALID_API_KEY');
      }
    }
  });
});
