/**
 * A chain's state is in Redis, not in the process: the appliance (a child process) is killed with
 * SIGKILL while a chain waits on its SMS's delivery receipt (the SMSC simulator, in this process,
 * holds it back), then started again. The receipt reaches the new process and the chain goes on to
 * its end; nothing is sent twice.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { SmscSimulator } from '../../../src/sim/index.js';
import { ApplianceProcess, E2E_ACCOUNT, dropDatabase, e2eConfig, portOpen, startSim } from '../../helpers/appliance.js';
import { redisClient, until } from '../../helpers/env.js';

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

describe('SIGKILL mid-chain', () => {
  it('a chain waiting on a receipt when the process died goes on when it comes back', async () => {
    const s = await startSim({ receiptDelayMs: 4000 });
    sim = s.sim;
    const raw = await e2eConfig(s.port, { orchestration: { receiptWindowSeconds: 60 } });
    const httpPort = (raw['http'] as { port: number }).port;
    const database = (raw['clickhouse'] as { database: string }).database;
    cleanup = () => dropDatabase(database);
    const base = `http://127.0.0.1:${httpPort}`;
    const auth = { authorization: `Bearer ${E2E_ACCOUNT.apiKey}` };
    const status = async (id: string): Promise<Record<string, unknown>> => {
      const r = await fetch(`${base}/api/v2/messages/orchestrate/${id}`, { headers: auth });
      return (await r.json()) as Record<string, unknown>;
    };
    proc = new ApplianceProcess(raw);
    proc.start();
    await until('appliance up', () => portOpen(httpPort), 30_000, 100);

    const res = await fetch(`${base}/api/v2/messages/orchestrate`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ to: '+14155550160', from: 'ACME', message: { body: 'survive' }, channels: ['sms'], scheduling: { retryWindow: '10m' } }),
    });
    expect(res.status).toBe(202);
    const id = String(((await res.json()) as Record<string, unknown>)['orchestration_id']);
    // The SMS has left (the simulator has it) and waits for its receipt: kill now.
    await until('the SMS at the simulator', () => s.sim.stats().submits >= 1, 15_000, 20);
    const before = await status(id);
    expect(before['status']).toBe('in_progress');
    expect((before['channels_attempted'] as { outcome: string }[])[0]?.outcome).toBe('sent');
    expect(await proc.kill('SIGKILL')).toBe(null);

    proc.start();
    await until('appliance up again', () => portOpen(httpPort), 30_000, 100);
    const after = await until(
      'the chain to end after the restart',
      async () => {
        const v = await status(id);
        return v['status'] === 'delivered' ? v : undefined;
      },
      40_000,
      200,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${readFileSync(proc!.logPath, 'utf8').slice(-3000)}`);
    });
    expect(after).toMatchObject({ final_channel: 'sms' });
    expect((after['channels_attempted'] as { outcome: string }[]).map((a) => a.outcome)).toEqual(['delivered']);
    expect(s.sim.stats().submits).toBe(1);
  }, 120_000);
});
