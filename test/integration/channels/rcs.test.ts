/**
 * RCS end to end through Google RBM: the OAuth service-account JWT exchanged at the (simulated)
 * token URI; the seed's two example bodies sent as they are (and at /messages/ras, the seed's
 * other spelling) and checked at the simulator as the exact agentMessages request; DELIVERED and
 * READ events with X-Goog-Signature (forged ones refused); and the SMS fallback: a phone that
 * cannot take RCS gets the SMS through the SMSC simulator, the status says fallbackChannel "sms",
 * and the SMSC's receipt closes the message (also when the receipt beats the send's answer).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rbmSignature } from '../../../src/connectors/rcs/index.js';
import type { RbmSimulator } from '../../../src/sim/rcs/rbm-sim.js';
import { SEED } from '../../fixtures/seed-channels.js';
import { E2E_ACCOUNT } from '../../helpers/appliance.js';
import { RBM, startChannels, type ChannelsHarness } from '../../helpers/channels.js';
import { until } from '../../helpers/env.js';

let h: ChannelsHarness;
let sim: RbmSimulator;

beforeAll(async () => {
  h = await startChannels(['rcs']);
  const s = h.app.channelSims?.rcs;
  if (!s) throw new Error('no RBM simulator');
  sim = s;
});

afterAll(async () => {
  await h.close();
});

const auth = { authorization: `Bearer ${E2E_ACCOUNT.apiKey}` };
const hooked = <T extends object>(b: T): T => ({ ...b, tracking: { webhookUrl: h.rx.url('/rcs') } });

async function message(id: unknown): Promise<Record<string, unknown>> {
  return (await (await fetch(`${h.base}/api/v2/messages/${String(id)}`, { headers: auth })).json()) as Record<string, unknown>;
}

async function send(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown>; request: { url: string; headers: Readonly<Record<string, string>>; json: unknown } }> {
  const before = sim.requests.length;
  const res = await h.post(path, body);
  const request = sim.requests.slice(before).find((r) => r.url.startsWith('/v1/phones/'));
  if (!request) throw new Error(`no request for ${path}: ${JSON.stringify(res.json)}`);
  return { ...res, request };
}

describe('the seed example bodies, sent as they are', () => {
  it('POST /messages/ras (and /messages/rcs) → agentMessages with the OAuth token', async () => {
    const r = await send('/api/v2/messages/ras', SEED.rcsText);
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ status: 'submitted', channel: 'rcs', fallbackChannel: null, external_id: r.json['message_id'] });
    expect(r.request.url).toBe(`/v1/phones/%2B11234567890/agentMessages?messageId=${String(r.json['message_id'])}&agentId=${RBM.agentId}`);
    expect(r.request.headers['authorization']).toMatch(/^Bearer ya29\./);
    expect(r.request.json).toEqual({ contentMessage: { text: 'Your package has been delivered!' } });
    // The token came from a JWT grant the simulator verified with the service account's public key.
    const grant = sim.requests.find((x) => x.url === '/token');
    expect(grant && new URLSearchParams(grant.body).get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    const same = await send('/api/v2/messages/rcs', SEED.rcsText);
    expect(same.status).toBe(202);
    // One token serves both sends.
    expect(sim.requests.filter((x) => x.url === '/token')).toHaveLength(1);
  });

  it('POST /messages/rcs/rich-card → a standalone card with media and suggestions', async () => {
    const r = await send('/api/v2/messages/rcs/rich-card', SEED.rcsRichCard);
    expect(r.status).toBe(202);
    expect(r.request.json).toEqual({
      contentMessage: {
        richCard: {
          standaloneCard: {
            cardOrientation: 'VERTICAL',
            cardContent: {
              title: 'Order Status',
              description: 'Your order #123 is out for delivery',
              media: { height: 'SHORT', contentInfo: { fileUrl: 'https://example.com/tracking.jpg' } },
              suggestions: [
                { action: { text: 'Open track.example.com', postbackData: 'https://track.example.com/123', openUrlAction: { url: 'https://track.example.com/123' } } },
                { action: { text: 'Open example.com', postbackData: 'https://example.com/contact', openUrlAction: { url: 'https://example.com/contact' } } },
                { reply: { text: 'Contact Support', postbackData: 'Contact Support' } },
              ],
            },
          },
        },
      },
    });
  });
});

describe('events', () => {
  it('DELIVERED and READ: delivery and read webhooks', async () => {
    const r = await h.post('/api/v2/messages/rcs', hooked({ ...SEED.rcsText, to: '+14155550177' }));
    const id = String(r.json['message_id']);
    const d = await until('delivery webhook', () => h.rx.accepted().find((x) => x.json['messageId'] === id && x.event === 'delivery'));
    expect(d.json).toMatchObject({ channel: 'rcs', status: 'delivered', dlr: { carrier: 'rcs' } });
    await until('read webhook', () => h.rx.accepted().find((x) => x.json['messageId'] === id && x.event === 'read'));
  });

  it('refuses a forged X-Goog-Signature; answers the registration handshake', async () => {
    const data = Buffer.from(JSON.stringify({ senderPhoneNumber: '+14155550178', eventType: 'READ', eventId: 'x', messageId: 'nope', sendTime: new Date().toISOString(), agentId: RBM.agentId }));
    const body = JSON.stringify({ message: { data: data.toString('base64'), messageId: '1', publishTime: new Date().toISOString() } });
    const url = `${h.base}/api/v2/callbacks/rcs`;
    expect((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-signature': rbmSignature('wrong-token', data) }, body })).status).toBe(401);
    expect((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).status).toBe(401);
    expect((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-signature': rbmSignature(RBM.clientToken, data) }, body })).status).toBe(200);
    const reg = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientToken: RBM.clientToken, secret: 's3cr3t' }) });
    expect(await reg.json()).toEqual({ secret: 's3cr3t' });
    const wrong = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientToken: 'other', secret: 's3cr3t' }) });
    expect(wrong.status).toBe(401);
  });
});

describe('SMS fallback', () => {
  it('a phone that cannot take RCS gets the SMS; fallbackChannel is sms and the SMSC receipt closes the message', async () => {
    const submits = h.smsc.stats().submits;
    const r = await h.post('/api/v2/messages/rcs', hooked({ ...SEED.rcsText, to: '+14155559991' }));
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ channel: 'rcs', fallbackChannel: 'sms', status: 'submitted' });
    expect(String(r.json['external_id'])).toMatch(/^sms:/);
    expect(h.smsc.stats().submits).toBe(submits + 1);
    const id = String(r.json['message_id']);
    const hook = await until('delivery webhook', () => h.rx.accepted().find((x) => x.json['messageId'] === id && x.event === 'delivery'));
    expect(hook.json).toMatchObject({ channel: 'rcs', status: 'delivered', dlr: { code: '000' } });
    expect(await message(id)).toMatchObject({ status: 'delivered', channel: 'rcs', fallbackChannel: 'sms' });
  });

  it('the rich card falls back too (fallback inside message), with the card text as the SMS', async () => {
    const r = await h.post('/api/v2/messages/rcs/rich-card', hooked({ ...SEED.rcsRichCard, to: '+14155569991' }));
    expect(r.json).toMatchObject({ fallbackChannel: 'sms' });
    await until('delivery webhook', () => h.rx.accepted().find((x) => x.json['messageId'] === r.json['message_id'] && x.event === 'delivery'));
  });

  it('an SMSC receipt that beats the answer still closes the message', async () => {
    h.smsc.earlyReceipts(true);
    try {
      const r = await h.post('/api/v2/messages/rcs', hooked({ ...SEED.rcsText, to: '+14155579991' }));
      expect(r.json).toMatchObject({ fallbackChannel: 'sms' });
      await until('delivery webhook', () => h.rx.accepted().find((x) => x.json['messageId'] === r.json['message_id'] && x.event === 'delivery'));
      expect(await message(r.json['message_id'])).toMatchObject({ status: 'delivered' });
    } finally {
      h.smsc.earlyReceipts(false);
    }
  });

  it('without fallback, a phone that cannot take RCS ends INVALID_DESTINATION', async () => {
    const noFallback: Record<string, unknown> = { ...SEED.rcsText };
    delete noFallback['fallback'];
    const r = await h.post('/api/v2/messages/rcs', { ...noFallback, to: '+14155589991' });
    expect(r.json).toMatchObject({ status: 'failed', fallbackChannel: null, error: { code: 'INVALID_DESTINATION' } });
  });
  it('a send that keeps failing (503) falls back on its second attempt', async () => {
    const r = await h.post('/api/v2/messages/rcs', hooked({ ...SEED.rcsText, to: '+14155559994' }));
    const id = String(r.json['message_id']);
    const m = await until('fallback', async () => {
      const j = await message(id);
      return j['fallbackChannel'] === 'sms' && j['status'] === 'delivered' ? j : undefined;
    });
    expect(String(m['external_id'])).toMatch(/^sms:/);
  });
});
