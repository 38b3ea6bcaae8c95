/**
 * Backpressure when Redis falls behind, end to end: the appliance reaches the real Redis through a
 * proxy the test holds (test/helpers/redis-proxy.ts), so its admission round trips wait. Requests
 * that arrive while `router.batchSize` × 50 messages already wait for Redis are refused at once
 * (an ESME bound with the smpp package gets ESME_RTHROTTLED, HTTP 503 OVERLOADED), not queued in
 * the heap; the batch that was waiting is answered and every message of it delivered once Redis
 * answers again; and new messages are accepted again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Status, encodeText } from '../../../src/smpp/index.js';
import type { SmscSimulator } from '../../../src/sim/index.js';
import type { Appliance } from '../../../src/appliance.js';
import { SmppPeer } from '../../helpers/esme.js';
import { testPrefix, until } from '../../helpers/env.js';
import { RedisProxy } from '../../helpers/redis-proxy.js';
import { E2E_ACCOUNT, dropDatabase, e2eConfig, startAppliance, startSim } from '../../helpers/appliance.js';

/** router.batchSize here: admission refuses past 50 batches waiting, 500 messages. */
const BATCH_SIZE = 10;
const PENDING_BOUND = BATCH_SIZE * 50;

let proxy: RedisProxy;
let sim: SmscSimulator;
let app: Appliance;
let httpPort = 0;
let database = '';
let peer: SmppPeer;

beforeAll(async () => {
  proxy = await RedisProxy.start();
  const s = await startSim();
  sim = s.sim;
  const started = await startAppliance(await e2eConfig(s.port, { redis: { url: proxy.url, keyPrefix: testPrefix() }, router: { claimIdleMs: 1000, batchSize: BATCH_SIZE } }));
  app = started.app;
  httpPort = started.httpPort;
  database = started.config.clickhouse.database;
  await until('upstream bound', () => sim.boundSessions >= 2);
  peer = await SmppPeer.open(started.smppPort);
  expect(await peer.bind('transceiver', E2E_ACCOUNT.systemId, E2E_ACCOUNT.password)).toBe(0);
});

afterAll(async () => {
  proxy.release();
  await peer.close();
  await app.close();
  await sim.close();
  await proxy.close();
  await dropDatabase(database);
});

const submit = async (i: number): Promise<number> =>
  (await peer.call('submit_sm', { source_addr: 'ACME', destination_addr: `1415555${String(i).padStart(4, '0')}`, registered_delivery: 1, short_message: encodeText(`behind ${i}`, 0) })).command_status;

const post = (path: string, body: unknown): Promise<Response> =>
  fetch(`http://127.0.0.1:${httpPort}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${E2E_ACCOUNT.apiKey}` },
    body: JSON.stringify(body),
  });

const batchOf = (n: number, tag: string): unknown => ({
  messages: Array.from({ length: n }, (_, i) => ({ to: `+1415555${String(i).padStart(4, '0')}`, from: 'ACME', message: { body: `${tag} ${i}` } })),
});

describe('Redis behind', () => {
  it('refuses what arrives past the admission bound at once, answers and delivers what waited once Redis answers, and accepts again', async () => {
    expect(await submit(1)).toBe(Status.ESME_ROK);

    proxy.hold();
    // A batch the size of the bound: its round trip waits for Redis, and its 500 messages fill the bound.
    const waiting = post('/api/v2/messages/sms/batch', batchOf(PENDING_BOUND, 'waiting'));
    let waitingAnswered = false;
    void waiting.then(() => {
      waitingAnswered = true;
    });
    const pending = async (): Promise<number> => (await app.metrics.admissionPending.get()).values[0]?.value ?? 0;
    await until('the batch waiting for Redis', async () => (await pending()) >= PENDING_BOUND, 5000);
    // Held, not merely slow: Redis admits 500 messages in a few milliseconds.
    await new Promise((r) => setTimeout(r, 300));
    expect(await pending()).toBe(PENDING_BOUND);
    // Refused without waiting for Redis: each answer comes while the proxy still holds every command.
    expect(await submit(2)).toBe(Status.ESME_RTHROTTLED);
    const single = await post('/api/v2/messages/sms', { to: '+14155550123', from: 'ACME', message: { body: 'past the bound' } });
    expect(single.status).toBe(503);
    expect(((await single.json()) as { error?: { code?: unknown } }).error?.code).toBe('OVERLOADED');
    const more = await post('/api/v2/messages/sms/batch', batchOf(20, 'more'));
    expect(more.status).toBe(503);
    expect(((await more.json()) as { error?: { code?: unknown } }).error?.code).toBe('OVERLOADED');
    expect(waitingAnswered).toBe(false);

    proxy.release();
    const answer = await waiting;
    expect(answer.status).toBe(202);
    const body = (await answer.json()) as { submitted: number; failed: number; messages: { message_id: string | null; status: string }[] };
    expect({ submitted: body.submitted, failed: body.failed }).toEqual({ submitted: PENDING_BOUND, failed: 0 });
    const ids = body.messages.map((m) => String(m.message_id));
    // Every message that waited for Redis is sent and receipted.
    await until(
      'every waiting message delivered',
      async () => (await app.store!.getMany(ids)).every((m) => m?.status === 'delivered'),
      30_000,
      250,
    );

    expect(await submit(3)).toBe(Status.ESME_ROK);
    expect((await post('/api/v2/messages/sms', { to: '+14155550124', from: 'ACME', message: { body: 'accepted again' } })).status).toBe(202);
  }, 60_000);
});
