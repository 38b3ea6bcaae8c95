/**
 * NETWORK_ERROR: when Redis goes away, HTTP sends are refused with 503 NETWORK_ERROR (retryable)
 * and SMPP submits with ESME_RSYSERR, nothing is acknowledged, and the process stays up.
 * Uses a Redis of its own, so it can kill it without touching the shared one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Status } from '../../../src/smpp/index.js';
import type { Appliance } from '../../../src/appliance.js';
import { SmppPeer } from '../../helpers/esme.js';
import { until } from '../../helpers/env.js';
import { E2E_ACCOUNT, dropDatabase, e2eConfig, freePort, startAppliance, startSim } from '../../helpers/appliance.js';

let redis: ChildProcess | undefined;
let app: Appliance | undefined;
let database = '';

afterAll(async () => {
  await Promise.race([app?.close(), new Promise((r) => setTimeout(r, 5000))]);
  redis?.kill('SIGKILL');
  if (database) await dropDatabase(database);
});

describe('Redis unavailable', () => {
  it('answers 503 NETWORK_ERROR over HTTP and ESME_RSYSERR over SMPP, and keeps running', async () => {
    const port = await freePort();
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', mkdtempSync(join(tmpdir(), 'redis-'))], { stdio: 'ignore' });
    const s = await startSim();
    const raw = await e2eConfig(s.port, { redis: { url: `redis://127.0.0.1:${port}`, keyPrefix: 'down:' } });
    await until('redis up', async () => {
      try {
        const started = await startAppliance(raw);
        app = started.app;
        database = started.config.clickhouse.database;
        return started;
      } catch {
        return undefined;
      }
    }, 10_000, 200).then(async (started) => {
      await until('bound', () => s.sim.boundSessions > 0);
      const peer = await SmppPeer.open(started.smppPort);
      await peer.bind('transceiver', E2E_ACCOUNT.systemId, E2E_ACCOUNT.password);
      redis?.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 300));
      const res = await fetch(`http://127.0.0.1:${started.httpPort}/api/v2/messages/sms`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': E2E_ACCOUNT.apiKey },
        body: JSON.stringify({ to: '+14155550100', message: { body: 'no store' } }),
      });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string; retryable: boolean } }).error).toMatchObject({ code: 'NETWORK_ERROR', retryable: true });
      const r = await peer.call('submit_sm', { destination_addr: '14155550100', short_message: 'no store' });
      expect(r.command_status).toBe(Status.ESME_RSYSERR);
      peer.session.destroy();
      await s.sim.close();
    });
  }, 60_000);
});
