/**
 * The Kaleyra-compatible API end to end (001_576de074115522b4.txt): the document's sample request
 * sent as it is, each of its failure answers provoked, every message type of Meta's object checked
 * at the WhatsApp simulator as the Cloud API request (validated there against Meta's OpenAPI
 * document), and the status coming back as a Kaleyra-shaped callback with the ref fields. Real
 * Redis, ClickHouse and sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WhatsAppSimulator } from '../../../src/sim/whatsapp/whatsapp-sim.js';
import { E2E_ACCOUNT } from '../../helpers/appliance.js';
import { CREDS, startChannels, type ChannelsHarness } from '../../helpers/channels.js';
import { until } from '../../helpers/env.js';

// The document's own (masked) SID, key and number, configured as they are.
const SID = 'HXAP16XXXXXX97IN';
const KEY = 'Axxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx3';
const NUMBER = '91XXXXXXXXXX';
const IDS = { doc: '106540352242923', poor: '106540352242925', flaky: '106540352242926', half: '106540352242927' };

let h: ChannelsHarness;
let sim: WhatsAppSimulator;

beforeAll(async () => {
  const sender = (account: string, from: string, phoneNumberId: string): Record<string, unknown> => ({ account, from, phoneNumberId, accessToken: CREDS.whatsapp.accessToken });
  h = await startChannels(['whatsapp'], {
    mutate: (raw) => {
      const accounts = raw['accounts'] as Record<string, unknown>[];
      accounts[0] = { ...accounts[0], kaleyra: { sid: SID, apiKeys: [KEY], legacyNumbers: ['+14155550100'] } };
      accounts.push(
        { id: 'poor', balance: 0, tps: 100, webhookUrl: 'http://127.0.0.1:9/none', kaleyra: { sid: 'POORSID1', apiKeys: ['poor-key-0123456789'] } },
        { id: 'nowa', balance: 10, tps: 100, kaleyra: { sid: 'NOWASID1', apiKeys: ['nowa-key-0123456789'] } },
        // Enough for one WhatsApp message (0.03), not two.
        { id: 'half', balance: 0.05, tps: 100, webhookUrl: 'http://127.0.0.1:9/none', kaleyra: { sid: 'HALFSID1', apiKeys: ['half-key-0123456789'] } },
      );
      const wa = (raw['channels'] as { whatsapp: { senders: Record<string, unknown>[] } }).whatsapp;
      // +14155550100 (legacy) is not a sender here: it runs on Kaleyra's other API version.
      wa.senders.push(sender(E2E_ACCOUNT.id, NUMBER, IDS.doc), sender('poor', '+14155550122', IDS.poor), sender(E2E_ACCOUNT.id, '+14155550133', IDS.flaky), sender('half', '+14155550155', IDS.half));
    },
  });
  const s = h.app.channelSims?.whatsapp;
  if (!s) throw new Error('no WhatsApp simulator');
  sim = s;
});

afterAll(async () => {
  await h.close();
});

/** The document's sample body (its placeholders as they are). */
function sample(): { messaging_object: Record<string, unknown>; extra_info: Record<string, unknown> } {
  return {
    messaging_object: {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '+91XXXXXXXXXX',
      type: 'interactive',
      interactive: {
        type: 'catalog_message',
        body: { text: 'Thanks for your interest! You can explore our catalog for more details on our products.' },
        action: { name: 'catalog_message', parameters: { thumbnail_product_retailer_id: '2lxxxxxxpt' } },
      },
    },
    extra_info: { ref: 'customer1', ref1: 'marketing', ref2: 'dictionary', wa_source: 'api' },
  };
}

async function kaleyra(body: unknown, opts: { sid?: string; number?: string; key?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${h.base}/v2/${opts.sid ?? SID}/whatsapp/${encodeURIComponent(opts.number ?? NUMBER)}/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'api-key': opts.key ?? KEY, 'cache-control': 'no-cache', ...opts.headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Sends and returns the Cloud API request the simulator got for it. */
async function sent(body: { messaging_object: Record<string, unknown> }, number = NUMBER, id = IDS.doc): Promise<{ res: { status: number; json: Record<string, unknown> }; request: Record<string, unknown> }> {
  const res = await kaleyra(body, { number });
  expect(res.status, JSON.stringify(res.json)).toBe(202);
  const messageId = (res.json['data'] as { message_id: string }).message_id;
  const history = await until('sent to the provider', async () => {
    const m = await h.app.store?.get(messageId);
    return m && (m.upstreamMessageIds.length > 0 || m.doneAt !== undefined) ? m : undefined;
  });
  expect(history.status, history.errorCode).not.toBe('failed');
  const request = [...sim.requests].reverse().find((r) => r.url === `/v23.0/${id}/messages` && (r.json as { to?: string }).to === history.destination);
  if (!request) throw new Error('the simulator got no request');
  return { res, request: request.json as Record<string, unknown> };
}

const withTo = (to: string, mo: Record<string, unknown>): { messaging_object: Record<string, unknown> } => ({ messaging_object: { messaging_product: 'whatsapp', to, ...mo } });

describe("the document's sample request", () => {
  it('sent as it is: its masked `to` is answered WA400 in the document’s shape, naming the field', async () => {
    const r = await kaleyra(sample());
    expect(r.status).toBe(400);
    expect(r.json).toEqual({
      code: 'WA400',
      message: 'Refer to correct payload format',
      data: {},
      error: { payload: 'Incorrect payload format', 'messaging_object.to': '"+91XXXXXXXXXX" is not a valid WhatsApp number (E.164, with its country code)' },
    });
  });

  it('with the masked digits filled in: 202 WA202, the catalog message reaches Meta, and the callback comes back with the refs', async () => {
    const body = sample();
    body.messaging_object['to'] = '+919812345678';
    const { res, request } = await sent(body);
    expect(res.json).toEqual({ code: 'WA202', message: 'Request Accepted', data: { message_id: expect.stringMatching(/^[0-9A-Z]{26}$/) as string }, error: {} });
    expect(request).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '919812345678',
      type: 'interactive',
      interactive: {
        type: 'catalog_message',
        body: { text: 'Thanks for your interest! You can explore our catalog for more details on our products.' },
        action: { name: 'catalog_message', parameters: { thumbnail_product_retailer_id: '2lxxxxxxpt' } },
      },
    });
    const id = (res.json['data'] as { message_id: string }).message_id;
    const delivered = await until('delivered callback', () => h.rx.accepted().find((x) => x.json['message_id'] === id && x.json['status'] === 'delivered'));
    expect(delivered.json).toEqual({ message_id: id, channel: 'whatsapp', status: 'delivered', timestamp: expect.stringMatching(/^[0-9]{10}$/) as string, ref: 'customer1', ref1: 'marketing', ref2: 'dictionary', wa_source: 'api' });
    expect(delivered.verified).toBe(true);
    const read = await until('read callback', () => h.rx.accepted().find((x) => x.json['message_id'] === id && x.json['status'] === 'read'));
    expect(read.json).toMatchObject({ message_id: id, status: 'read', ref: 'customer1' });
  });
});

describe("each of the document's failures", () => {
  it('RBC001: a wrong key, a missing key, an unknown SID', async () => {
    const expected = { code: 'RBC001', message: 'Incorrect SID or API key.', data: [], error: { error: 'Incorrect SID or API key.' } };
    for (const r of [await kaleyra(sample(), { key: 'Axxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx4' }), await kaleyra(sample(), { key: '' }), await kaleyra(sample(), { sid: 'HXAP16XXXXXX98IN' })]) {
      expect(r.status).toBe(401);
      expect(r.json).toEqual(expected);
    }
    // Another account's key with this SID is still wrong.
    expect((await kaleyra(sample(), { key: 'poor-key-0123456789' })).json['code']).toBe('RBC001');
  });

  it('WA401: a number that is not one of the account’s WhatsApp senders', async () => {
    for (const number of ['+14155550122', '+14155550999']) {
      const r = await kaleyra(sample(), { number });
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ code: 'WA401', message: 'Phone number is not present or does not belong to the account.', data: {}, error: { phone_number: 'Phone number is not present or does not belong to the account.' } });
    }
  });

  it('WA-401: an account without WhatsApp, and a number on the other API version', async () => {
    const account = await kaleyra(sample(), { sid: 'NOWASID1', key: 'nowa-key-0123456789', number: '+14155550144' });
    expect(account.status).toBe(401);
    const text = 'API is not available for given customer.Please contact support for more info';
    expect(account.json).toEqual({ code: 'WA-401', message: text, data: {}, error: { account: text } });
    const version = await kaleyra(sample(), { number: '14155550100' });
    expect(version.status).toBe(401);
    const v = "The phone number you're using is associated with different Version of our WA API. Please use the appropriate endpoint.";
    expect(version.json).toEqual({ code: 'WA-401', message: v, data: {}, error: { phone_number: v } });
  });

  it('E110: an account with no balance', async () => {
    const body = sample();
    body.messaging_object['to'] = '+919812345678';
    const r = await kaleyra(body, { sid: 'POORSID1', key: 'poor-key-0123456789', number: '+14155550122' });
    expect(r.status).toBe(400);
    const text = 'Please check your balance, You have a low balance!';
    expect(r.json).toEqual({ code: 'E110', message: text, data: {}, error: { balance: text } });
  });

  it('WA400: bad JSON, the wrong Content-Type, a missing field, an unknown type, a media id, Meta’s limits', async () => {
    const bad = async (body: unknown, field: string, headers?: Record<string, string>): Promise<void> => {
      const r = await kaleyra(body, headers ? { headers } : {});
      expect(r.status, JSON.stringify(r.json)).toBe(400);
      expect(r.json).toMatchObject({ code: 'WA400', message: 'Refer to correct payload format', data: {}, error: { payload: 'Incorrect payload format' } });
      expect(Object.keys(r.json['error'] as object), JSON.stringify(r.json)).toContain(field);
    };
    await bad('{"messaging_object": ', '(body)');
    await bad(sample(), 'Content-Type', { 'Content-Type': 'text/plain' });
    await bad({ extra_info: {} }, 'messaging_object');
    await bad(withTo('+919812345678', { type: 'location', location: {} }), 'messaging_object.type');
    await bad(withTo('+919812345678', { type: 'image', image: { id: '1234' } }), 'messaging_object.image.link');
    await bad(withTo('+919812345678', { messaging_product: 'sms', type: 'text', text: { body: 'x' } }), 'messaging_object.messaging_product');
    await bad(withTo('+919812345678', { type: 'text', text: { body: 'x'.repeat(4097) } }), 'messaging_object.text.body');
    await bad(withTo('+919812345678', { type: 'interactive', interactive: { type: 'catalog_message', body: { text: 'x' }, action: { name: 'catalog_message' } } }), 'messaging_object.interactive.action.parameters.thumbnail_product_retailer_id');
    await bad(withTo('+919812345678', { type: 'interactive', interactive: { type: 'button', body: { text: 'x' }, action: { buttons: [1, 2, 3, 4].map((n) => ({ type: 'reply', reply: { id: `b${n}`, title: `B${n}` } })) } } }), 'messaging_object.interactive.action.buttons');
    await bad(withTo('+919812345678', { type: 'text' }), 'messaging_object.text');
    await bad({ ...sample(), extra_info: { ref: 5 } }, 'extra_info.ref');
  });

  it('WA500: the provider is failing for this sender (its circuit breaker is open)', async () => {
    const flaky = (r: { url: string }): boolean => r.url === `/v23.0/${IDS.flaky}/messages`;
    sim.failNext(10_000, { status: 500, body: { error: { message: 'An unknown error occurred', type: 'OAuthException', code: 1, fbtrace_id: 'x' } } }, flaky);
    try {
      const body = withTo('+919812345678', { type: 'text', text: { body: 'hello' } });
      const first = await kaleyra(body, { number: '+14155550133' });
      expect(first.status).toBe(202);
      const refused = await until('breaker open', async () => {
        const r = await kaleyra(body, { number: '+14155550133' });
        return r.status === 500 ? r : undefined;
      }, 10_000);
      expect(refused.json).toEqual({ code: 'WA500', message: 'Please try again later', data: {}, error: { error: 'Internal server error' } });
    } finally {
      sim.clearFaults();
    }
  });
});

describe("Meta's message object, type by type, as the Cloud API request", () => {
  it('text, and the four media types by link', async () => {
    const text = await sent(withTo('+919812345601', { type: 'text', text: { body: 'Hello *there*', preview_url: true } }));
    expect(text.request).toMatchObject({ type: 'text', text: { body: 'Hello *there*', preview_url: true } });
    // `type` defaults to text.
    const dflt = await sent(withTo('+919812345602', { text: { body: 'Default type' } }));
    expect(dflt.request).toMatchObject({ type: 'text', text: { body: 'Default type' } });
    const image = await sent(withTo('+919812345603', { type: 'image', image: { link: 'https://cdn.example.com/a.jpg', caption: 'A' } }));
    expect(image.request).toMatchObject({ type: 'image', image: { link: 'https://cdn.example.com/a.jpg', caption: 'A' } });
    const doc = await sent(withTo('+919812345604', { type: 'document', document: { link: 'https://cdn.example.com/a.pdf', caption: 'Invoice', filename: 'invoice.pdf' } }));
    expect(doc.request).toMatchObject({ type: 'document', document: { link: 'https://cdn.example.com/a.pdf', caption: 'Invoice', filename: 'invoice.pdf' } });
    const video = await sent(withTo('+919812345605', { type: 'video', video: { link: 'https://cdn.example.com/a.mp4' } }));
    expect(video.request).toMatchObject({ type: 'video', video: { link: 'https://cdn.example.com/a.mp4' } });
    const audio = await sent(withTo('+919812345606', { type: 'audio', audio: { link: 'https://cdn.example.com/a.ogg' } }));
    expect(audio.request).toMatchObject({ type: 'audio', audio: { link: 'https://cdn.example.com/a.ogg' } });
  });

  it('a template with a media header, typed body parameters and a button', async () => {
    const components = [
      { type: 'header', parameters: [{ type: 'image', image: { link: 'https://cdn.example.com/h.jpg' } }] },
      { type: 'body', parameters: [{ type: 'text', text: 'Ana' }, { type: 'currency', currency: { fallback_value: '$100.00', code: 'USD', amount_1000: 100000 } }, { type: 'date_time', date_time: { fallback_value: 'May 1' } }] },
      { type: 'button', sub_type: 'quick_reply', index: '0', parameters: [{ type: 'payload', payload: 'DETAILS' }] },
    ];
    const t = await sent(withTo('+919812345607', { type: 'template', template: { name: 'order_confirmation', language: { code: 'en_US', policy: 'deterministic' }, components } }));
    expect(t.request).toEqual({ messaging_product: 'whatsapp', recipient_type: 'individual', to: '919812345607', type: 'template', template: { name: 'order_confirmation', language: { policy: 'deterministic', code: 'en_US' }, components } });
  });

  it('reply buttons with an image header, and a list', async () => {
    const buttons = await sent(
      withTo('+919812345608', {
        type: 'interactive',
        interactive: {
          type: 'button',
          header: { type: 'image', image: { link: 'https://cdn.example.com/h.jpg' } },
          body: { text: 'Pick' },
          footer: { text: 'Footer' },
          action: { buttons: [{ type: 'reply', reply: { id: 'a', title: 'A' } }, { type: 'reply', reply: { id: 'b', title: 'B' } }] },
        },
      }),
    );
    expect(buttons.request['interactive']).toEqual({
      type: 'button',
      header: { type: 'image', image: { link: 'https://cdn.example.com/h.jpg' } },
      body: { text: 'Pick' },
      footer: { text: 'Footer' },
      action: { buttons: [{ type: 'reply', reply: { id: 'a', title: 'A' } }, { type: 'reply', reply: { id: 'b', title: 'B' } }] },
    });
    const list = { type: 'list', header: { type: 'text', text: 'Menu' }, body: { text: 'Choose' }, action: { button: 'Options', sections: [{ title: 'Sizes', rows: [{ id: 's', title: 'Small', description: 'S' }] }] } };
    const l = await sent(withTo('+919812345609', { type: 'interactive', interactive: list }));
    expect(l.request['interactive']).toEqual(list);
  });

  it('a single product, a multi-product list, a flow', async () => {
    const product = { type: 'product', body: { text: 'Look' }, action: { catalog_id: '194836987003835', product_retailer_id: 'SKU-1' } };
    expect((await sent(withTo('+919812345610', { type: 'interactive', interactive: product }))).request['interactive']).toEqual(product);
    const productList = {
      type: 'product_list',
      header: { type: 'text', text: 'Our picks' },
      body: { text: 'Browse' },
      footer: { text: 'Tap' },
      action: { catalog_id: '194836987003835', sections: [{ title: 'Shoes', product_items: [{ product_retailer_id: 'SKU-1' }, { product_retailer_id: 'SKU-2' }] }, { title: 'Hats', product_items: [{ product_retailer_id: 'SKU-3' }] }] },
    };
    expect((await sent(withTo('+919812345611', { type: 'interactive', interactive: productList }))).request['interactive']).toEqual(productList);
    const flow = {
      type: 'flow',
      header: { type: 'text', text: 'Sign up' },
      body: { text: 'Join us' },
      action: { name: 'flow', parameters: { flow_message_version: '3', flow_id: '1234567890', flow_cta: 'Sign up', flow_token: 'tok', flow_action: 'navigate', flow_action_payload: { screen: 'WELCOME', data: { plan: 'gold' } } } },
    };
    expect((await sent(withTo('+919812345612', { type: 'interactive', interactive: flow }))).request['interactive']).toEqual(flow);
  });
});

describe('several recipients and extra_info', () => {
  it('a comma-separated `to`: one message each, their ids in `data`, one callback each', async () => {
    const r = await kaleyra({ ...withTo('+919812345621, +919812345622,+919812345623', { type: 'text', text: { body: 'To three' } }), extra_info: { ref: 'batch-7' } });
    expect(r.status).toBe(202);
    const data = r.json['data'] as { message_id: string; messages: { to: string; message_id: string }[] };
    expect(data.messages.map((m) => m.to)).toEqual(['919812345621', '919812345622', '919812345623']);
    expect(data.message_id).toBe(data.messages.map((m) => m.message_id).join(','));
    for (const m of data.messages) {
      const hook = await until('callback', () => h.rx.accepted().find((x) => x.json['message_id'] === m.message_id && x.json['status'] === 'delivered'));
      expect(hook.json).toMatchObject({ ref: 'batch-7' });
    }
    // A bad number among them refuses the whole request, naming it.
    const bad = await kaleyra(withTo('+919812345621,12', { type: 'text', text: { body: 'x' } }));
    expect(bad.json).toMatchObject({ code: 'WA400', error: { 'messaging_object.to': '"12" is not a valid WhatsApp number (E.164, with its country code)' } });
  });

  it('the balance runs out part way: the first is accepted, the second answered E110 in `data.messages`', async () => {
    const r = await kaleyra(withTo('+919812345641,+919812345642', { type: 'text', text: { body: 'x' } }), { sid: 'HALFSID1', key: 'half-key-0123456789', number: '+14155550155' });
    expect(r.status).toBe(202);
    const data = r.json['data'] as { message_id: string; messages: { to: string; message_id?: string }[] };
    expect(data.messages).toEqual([
      { to: '919812345641', message_id: data.message_id },
      { to: '919812345642', error: { code: 'E110', message: 'Please check your balance, You have a low balance!' } },
    ]);
  });

  it('refs over 255 characters are truncated; an unknown wa_source becomes "api"; a failure comes back as a failed callback', async () => {
    const long = 'r'.repeat(300);
    // …9991: the simulator answers with a failed status (131026).
    const r = await kaleyra({ ...withTo('+14155559991', { type: 'text', text: { body: 'x' } }), extra_info: { ref: long, ref1: 'é'.repeat(256), wa_source: 'Shopify ' } });
    expect(r.status).toBe(202);
    const id = (r.json['data'] as { message_id: string }).message_id;
    const hook = await until('failed callback', () => h.rx.accepted().find((x) => x.json['message_id'] === id));
    expect(hook.json).toMatchObject({ status: 'failed', ref: 'r'.repeat(255), ref1: 'é'.repeat(255), wa_source: 'shopify', error: { code: 'INVALID_DESTINATION' } });
    const other = await kaleyra({ ...withTo('+919812345631', { type: 'text', text: { body: 'x' } }), extra_info: { wa_source: 'myplatform' } });
    const otherId = (other.json['data'] as { message_id: string }).message_id;
    expect((await until('callback', () => h.rx.accepted().find((x) => x.json['message_id'] === otherId))).json['wa_source']).toBe('api');
  });
});
