/**
 * Backpressure on Redis's memory (router/store-headroom.ts), end to end: with Redis past
 * router.redisMemoryLimitMb an ESME bound with the smpp package gets ESME_RTHROTTLED and an HTTP
 * client 503 OVERLOADED, what was accepted before still gets its receipt, and messages are
 * accepted again once Redis is back under the limit. The test fills Redis with a ballast string of
 * its own (SETRANGE allocates it without sending it), well past the limit, and removes it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Status, encodeText } from '../../../src/smpp/index.js';
import type { SmscSimulator } from '../../../src/sim/index.js';
import type { Appliance } from '../../../src/appliance.js';
import { parseMemoryInfo } from '../../../src/router/store-headroom.js';
import { SmppPeer } from '../../helpers/esme.js';
import { redisClient, testPrefix, until } from '../../helpers/env.js';
import { E2E_ACCOUNT, dropDatabase, e2eConfig, startAppliance, startSim } from '../../helpers/appliance.js';

const MiB = 1048576;
const redis = redisClient();
const ballast = `${testPrefix()}ballast`;
let sim: SmscSimulator;
let app: Appliance;
let smppPort = 0;
let httpPort = 0;
let database = '';
let peer: SmppPeer;

beforeAll(async () => {
  const used = parseMemoryInfo(await redis.info('memory'))?.usedBytes ?? 0;
  const s = await startSim();
  sim = s.sim;
  // Room for what other test files write meanwhile; the ballast is twice the room.
  const started = await startAppliance(await e2eConfig(s.port, { router: { claimIdleMs: 1000, redisMemoryLimitMb: Math.ceil(used / MiB) + 64 } }));
  app = started.app;
  smppPort = started.smppPort;
  httpPort = started.httpPort;
  database = started.config.clickhouse.database;
  await until('upstream bound', () => sim.boundSessions >= 2);
  peer = await SmppPeer.open(smppPort);
  expect(await peer.bind('transceiver', E2E_ACCOUNT.systemId, E2E_ACCOUNT.password)).toBe(0);
});

afterAll(async () => {
  await redis.del(ballast);
  await peer.close();
  await app.close();
  await sim.close();
  await dropDatabase(database);
  redis.disconnect();
});

const submit = async (i: number): Promise<number> =>
  (await peer.call('submit_sm', { source_addr: 'ACME', destination_addr: `1415555${String(i).padStart(4, '0')}`, registered_delivery: 1, short_message: encodeText(`memory ${i}`, 0) })).command_status;

const post = async (): Promise<{ status: number; code: unknown }> => {
  const r = await fetch(`http://127.0.0.1:${httpPort}/api/v2/messages/sms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${E2E_ACCOUNT.apiKey}` },
    body: JSON.stringify({ to: '+14155550123', from: 'ACME', message: { body: 'memory' } }),
  });
  const body = (await r.json()) as { error?: { code?: unknown } };
  return { status: r.status, code: body.error?.code };
};

describe('Redis memory backpressure', () => {
  it('refuses new messages while Redis is past router.redisMemoryLimitMb, finishes what it accepted, and accepts again below it', async () => {
    const before = await peer.call('submit_sm', { source_addr: 'ACME', destination_addr: '14155550001', registered_delivery: 1, short_message: encodeText('accepted before', 0) });
    expect(before.command_status).toBe(Status.ESME_ROK);

    await redis.setrange(ballast, 128 * MiB, 'x');
    // The router reads Redis's memory once a second.
    let i = 0;
    await until('refused as throttled', async () => (await submit(i++)) === Status.ESME_RTHROTTLED, 5000, 100);
    expect(await post()).toEqual({ status: 503, code: 'OVERLOADED' });
    // What was accepted goes on: its receipt comes back.
    await until('receipt of the message accepted before', () => peer.delivered.some((p) => p.receipted_message_id === before.message_id), 10_000);

    await redis.del(ballast);
    await until('accepted again', async () => (await submit(i++)) === Status.ESME_ROK, 5000, 100);
    expect((await post()).status).toBe(202);
  });
});
