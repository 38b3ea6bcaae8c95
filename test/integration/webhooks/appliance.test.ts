/**
 * Webhooks through the whole appliance (in process) with the SMSC simulator upstream: the seed's
 * delivery body for a delivered message and for a failure the upstream's receipt reported, the error
 * body for a message the upstream refused at submit, each verified by the receiver with the README's
 * recipe; and GET /api/v2/messages/{id}/events once the message is final.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../src/appliance.js';
import type { SmscSimulator } from '../../../src/sim/index.js';
import { SmppPeer } from '../../helpers/esme.js';
import { until } from '../../helpers/env.js';
import { E2E_ACCOUNT, dropDatabase, e2eConfig, startAppliance, startSim } from '../../helpers/appliance.js';
import { Receiver, type Hook } from './receiver.js';

const SECRET = 'whsec_appliance_0123456789';
const OTHER = { id: 'other', apiKey: 'sk_test_other_webhooks_01' };
let sim: SmscSimulator;
let app: Appliance;
let rx: Receiver;
let base = '';
let smppPort = 0;
let database = '';
let peer: SmppPeer | undefined;
let bound = false;

beforeAll(async () => {
  const s = await startSim();
  sim = s.sim;
  rx = await Receiver.start(SECRET);
  const raw = await e2eConfig(s.port, { webhooks: { allowLoopback: true, backoffBaseSeconds: 0.2 } });
  const accounts = raw['accounts'] as Record<string, unknown>[];
  // The account's URL serves SMPP traffic; HTTP requests name their own.
  accounts[0] = { ...accounts[0], webhookSecret: SECRET, webhookUrl: rx.url('/account') };
  accounts.push({ id: OTHER.id, apiKeys: [OTHER.apiKey], balance: 1, tps: 10 });
  const started = await startAppliance(raw);
  app = started.app;
  smppPort = started.smppPort;
  database = started.config.clickhouse.database;
  base = `http://127.0.0.1:${started.httpPort}`;
});

afterAll(async () => {
  await peer?.close();
  await app.close();
  await sim.close();
  await rx.close();
  await dropDatabase(database);
});

function hookFor(id: string): Promise<Hook> {
  return until(`webhook for ${id}`, () => rx.accepted().find((h) => h.json['messageId'] === id), 10_000);
}

/** Over SMPP the account's webhookUrl applies. */
async function submitSmpp(destination: string): Promise<string> {
  peer ??= await SmppPeer.open(smppPort);
  if (!bound) {
    expect(await peer.bind('transceiver', E2E_ACCOUNT.systemId, E2E_ACCOUNT.password)).toBe(0);
    bound = true;
  }
  const resp = await peer.call('submit_sm', { source_addr: 'ACME', destination_addr: destination, short_message: 'webhook test' });
  expect(resp.command_status).toBe(0);
  return String(resp.message_id);
}

async function sendHttp(to: string): Promise<string> {
  const res = await fetch(`${base}/api/v2/messages/sms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${E2E_ACCOUNT.apiKey}` },
    body: JSON.stringify({ to, from: 'ACME', message: { body: 'webhook test' }, tracking: { webhookUrl: rx.url('/request') } }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { message_id: string }).message_id;
}

describe('webhooks through the appliance', () => {
  it('posts the delivery body for a delivered message, signed, and lists its events', async () => {
    const id = await sendHttp('+14155550100');
    const hook = await hookFor(id);
    expect(hook.verified).toBe(true);
    expect(hook.event).toBe('delivery');
    expect(hook.delivery).toBe(`${id}:final`);
    // The request's own URL wins over the account's.
    expect(hook.path).toBe('/request');
    expect(hook.json).toEqual({
      eventType: 'delivery',
      messageId: id,
      channel: 'sms',
      status: 'delivered',
      dlr: { code: '000', description: 'Message delivered successfully', timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as string, carrier: 'sim', networkId: null },
      billing: { amount: 0.005, currency: 'USD', rateUsed: 'standard' },
      metadata: {},
    });
    expect(rx.hooks.filter((h) => h.json['messageId'] === id)).toHaveLength(1);

    // The events endpoint: every row of the message, oldest first.
    const get = (key: string): Promise<Response> => fetch(`${base}/api/v2/messages/${id}/events`, { headers: { 'x-api-key': key } });
    const body = await until('three rows', async () => {
      const b = (await (await get(E2E_ACCOUNT.apiKey)).json()) as { message_id: string; events: Record<string, unknown>[] };
      return b.events.length >= 3 ? b : undefined;
    }, 10_000, 100);
    expect(body.message_id).toBe(id);
    expect(body.events.map((e) => e['status'])).toEqual(['queued', 'submitted', 'delivered']);
    for (const e of body.events) {
      expect(e).toMatchObject({ channel: 'sms', price: 0.005, currency: 'USD', error_code: null });
      expect(e['event_id']).toMatch(new RegExp(`^${id}:\\d+$`));
      expect(new Date(String(e['timestamp'])).toISOString()).toBe(e['timestamp']);
    }
    expect(body.events[0]!['upstream_message_id']).toBeNull();
    expect(typeof body.events[1]!['upstream_message_id']).toBe('string');
    const times = body.events.map((e) => Date.parse(String(e['timestamp'])));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // Another account's message answers like one that does not exist.
    const foreign = await get(OTHER.apiKey);
    expect(foreign.status).toBe(404);
    expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    const unknown = await fetch(`${base}/api/v2/messages/01NOSUCHMESSAGE000000000/events`, { headers: { 'x-api-key': E2E_ACCOUNT.apiKey } });
    expect(unknown.status).toBe(404);
    expect((await fetch(`${base}/api/v2/messages/${id}/events`)).status).toBe(401);
  });

  it('posts the delivery body with the receipt’s outcome when the upstream reports a failure (9991… → UNDELIV)', async () => {
    const id = await submitSmpp('99911234567');
    const hook = await hookFor(id);
    expect(hook.verified).toBe(true);
    expect(hook.path).toBe('/account');
    expect(hook.json).toMatchObject({ eventType: 'delivery', messageId: id, status: 'failed', dlr: { description: 'Message undeliverable', carrier: 'sim' }, billing: { currency: 'USD' } });
  });

  it('posts the error body for a message the upstream refused at submit (9990… → ESME_RINVDSTADR → INVALID_DESTINATION)', async () => {
    const id = await submitSmpp('99901234567');
    const hook = await hookFor(id);
    expect(hook.verified).toBe(true);
    expect(hook.event).toBe('error');
    expect(hook.json).toEqual({
      eventType: 'error',
      messageId: id,
      channel: 'sms',
      error: { code: 'INVALID_DESTINATION', description: 'Invalid destination address (ESME_RINVDSTADR)', timestamp: expect.any(String) as string, retryable: false },
    });
  });
});
