/**
 * `processes: 2`: one primary and two workers sharing the SMPP and HTTP ports. ESMEs bound to the
 * shared SMPP port land on both workers, HTTP connections are answered by both, every message goes
 * upstream once with its receipt back; a worker killed with SIGKILL is started again; SIGTERM to
 * the primary stops everything with exit code 0.
 */
import { get } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import type { SmscSimulator } from '../../../src/sim/index.js';
import { SmppPeer, sendMany } from '../../helpers/esme.js';
import { until } from '../../helpers/env.js';
import { ApplianceProcess, E2E_ACCOUNT, dropDatabase, e2eConfig, portOpen, startSim } from '../../helpers/appliance.js';

let sim: SmscSimulator | undefined;
let proc: ApplianceProcess | undefined;
let database = '';
const peers: SmppPeer[] = [];

afterAll(async () => {
  for (const p of peers) await p.close();
  await proc?.kill('SIGKILL');
  await sim?.close();
  if (database) await dropDatabase(database);
});

interface Health {
  readonly instance: string;
  readonly pid: number;
  readonly smppSessions: number;
}

/** GET /health on a connection of its own (no keep-alive), so each may reach another worker. */
function health(port: number): Promise<Health> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/health', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => { resolve(JSON.parse(body) as Health); });
    }).on('error', reject);
  });
}

/** The workers answering on the HTTP port, by instance (asked until two have answered, or 40 times). */
async function workers(port: number): Promise<Map<string, Health>> {
  const seen = new Map<string, Health>();
  for (let i = 0; i < 40 && seen.size < 2; i++) {
    // A connection the kernel queued on a worker that was just killed is reset: ask again.
    const h = await health(port).catch(() => undefined);
    if (h) seen.set(h.instance, h);
  }
  return seen;
}

describe('processes: 2', () => {
  it('shares the SMPP and HTTP ports between two workers, restarts a dead one, and stops on SIGTERM', async () => {
    const s = await startSim();
    sim = s.sim;
    const raw = await e2eConfig(s.port, { processes: 2 });
    database = (raw['clickhouse'] as { database: string }).database;
    const smppPort = (raw['smpp'] as { port: number }).port;
    const httpPort = (raw['http'] as { port: number }).port;
    proc = new ApplianceProcess(raw);
    proc.start();
    await until('both workers listening', async () => (await portOpen(httpPort)) && (await portOpen(smppPort)) && (await workers(httpPort)).size === 2, 30_000, 200);
    // Each worker holds its own upstream binds (2 each).
    await until('both workers bound upstream', () => sim!.boundSessions >= 4, 20_000);

    const before = sim.stats().submits;
    for (let i = 0; i < 4; i++) {
      const p = await SmppPeer.open(smppPort);
      peers.push(p);
      expect(await p.bind('transceiver', E2E_ACCOUNT.systemId, E2E_ACCOUNT.password)).toBe(0);
    }
    // The primary hands SMPP connections to the workers in turn.
    expect([...(await workers(httpPort)).values()].map((h) => h.smppSessions)).toEqual([2, 2]);
    const N = 400;
    const resps = (
      await Promise.all(peers.map((p, k) => sendMany(p, N / peers.length, (i) => ({ destination_addr: `1415552${k}${String(i).padStart(3, '0')}`, short_message: `cluster ${k}-${i}`, registered_delivery: 1 }), 50)))
    ).flat();
    expect(resps.every((r) => r.command_status === 0)).toBe(true);
    const ids = resps.map((r) => r.message_id ?? '');
    await until('every receipt back', () => {
      const got = new Set(peers.flatMap((p) => p.delivered.map((d) => d.receipted_message_id)));
      return ids.every((id) => got.has(id));
    }, 30_000, 100);
    expect(sim.stats().submits - before).toBe(N);

    // A worker dies: the primary starts another in its place.
    const victim = [...(await workers(httpPort)).values()][0]?.pid ?? 0;
    process.kill(victim, 'SIGKILL');
    await until('a new worker in its place', async () => {
      const pids = [...(await workers(httpPort)).values()].map((h) => h.pid);
      return pids.length === 2 && !pids.includes(victim);
    }, 30_000, 200);

    expect(await proc.kill('SIGTERM')).toBe(0);
    expect(await portOpen(smppPort)).toBe(false);
  }, 90_000);
});
