/**
 * "A message accepted is never lost": the appliance (a child process) is killed with SIGKILL
 * while an ESME streams submits, then started again. Every message that got a submit_sm_resp
 * ESME_ROK reaches a final state, its receipt reaches the ESME, and its final row is in ClickHouse.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { MessageStore } from '../../../src/store/redis/message-store.js';
import type { SmscSimulator } from '../../../src/sim/index.js';
import { SmppPeer } from '../../helpers/esme.js';
import { redisClient, until, dropPrefix } from '../../helpers/env.js';
import { ApplianceProcess, E2E_ACCOUNT, clickhouseQuery, dropDatabase, e2eConfig, startSim, portOpen } from '../../helpers/appliance.js';


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

describe('SIGKILL mid-stream', () => {
  it('brings every acknowledged message to a final state, with its receipt and its ClickHouse row', async () => {
    const s = await startSim({ receiptDelayMs: 300 });
    sim = s.sim;
    const raw = await e2eConfig(s.port);
    const smppPort = (raw['smpp'] as { port: number }).port;
    const prefix = (raw['redis'] as { keyPrefix: string }).keyPrefix;
    const database = (raw['clickhouse'] as { database: string }).database;
    cleanup = async () => {
      await dropPrefix(redis, prefix);
      await dropDatabase(database);
    };
    proc = new ApplianceProcess(raw);
    proc.start();
    await until('appliance up', () => portOpen(smppPort), 30_000, 100);

    // Stream submits with a window of 50 and note every id acknowledged ESME_ROK.
    const peer = await SmppPeer.open(smppPort);
    expect(await peer.bind('transceiver', E2E_ACCOUNT.systemId, E2E_ACCOUNT.password)).toBe(0);
    const accepted: string[] = [];
    let sent = 0;
    let stop = false;
    const lane = async (): Promise<void> => {
      while (!stop) {
        const i = sent++;
        const r = await peer.call('submit_sm', { source_addr: 'ACME', destination_addr: `1415558${String(i % 10_000).padStart(4, '0')}`, short_message: `kill ${i}`, registered_delivery: 1 });
        if (r.command_status === 0 && r.message_id) accepted.push(r.message_id);
      }
    };
    for (let i = 0; i < 50; i++) void lane();
    await until('a few hundred accepted', () => accepted.length >= 600, 30_000, 5);
    expect(await proc.kill('SIGKILL')).toBe(null);
    stop = true;
    const acked = [...accepted];
    peer.session.destroy();

    // Start again; a new ESME session binds to collect the receipts owed.
    proc.start();
    await until('appliance up again', () => portOpen(smppPort), 30_000, 100);
    const rx = await SmppPeer.open(smppPort);
    expect(await rx.bind('receiver', E2E_ACCOUNT.systemId, E2E_ACCOUNT.password)).toBe(0);

    const store = new MessageStore(redis, { prefix, platformTps: 1, platformBurst: 1, retentionSeconds: 60, finalRetentionSeconds: 60, maxAttempts: 1 });
    const finals = new Set(['delivered', 'failed', 'expired', 'rejected']);
    await until(
      'every acknowledged message final',
      async () => (await store.getMany(acked)).every((m) => m !== undefined && finals.has(m.status)),
      60_000,
      200,
    ).catch(async (err: unknown) => {
      const states = await store.getMany(acked);
      const stuck = states.filter((m) => !m || !finals.has(m.status)).slice(0, 5);
      throw new Error(`${(err as Error).message}: ${JSON.stringify(stuck.map((m) => m && { id: m.id, st: m.status, att: m.attempts }))}\n${readFileSync(proc!.logPath, 'utf8').slice(-3000)}`);
    });
    // Receipts owed to the old session come to the new one; duplicates are allowed, gaps are not.
    // Those the old session acknowledged before the kill are not owed again: a busy machine
    // gets more of them in before it.
    await until('every receipt delivered', () => {
      const got = new Set([...peer.delivered, ...rx.delivered].map((p) => p.receipted_message_id));
      return acked.every((id) => got.has(id));
    }, 60_000, 200);
    await until(
      'every final row in ClickHouse',
      async () => {
        const rows = await clickhouseQuery<{ n: string }>(
          `SELECT uniqExact(message_id) AS n FROM ${database}.message_events WHERE status IN ('delivered','failed','expired','rejected') AND message_id IN (${acked.map((id) => `'${id}'`).join(',')})`,
        );
        return Number(rows[0]?.n) === acked.length;
      },
      60_000,
      500,
    );
    await rx.close();
  }, 240_000);
});
