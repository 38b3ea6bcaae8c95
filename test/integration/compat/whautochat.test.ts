/**
 * The WhautoChat-compatible Messages API end to end (002_96380f250abd201a.txt): each documented
 * endpoint with its schema's body, checked at the channel's simulator as the provider's request;
 * contacts from the contact store (blocked and opted-out refused), `recepient` with the document's
 * spelling, never both; workspaces choosing sender and cost center; scheduleDateTime through the
 * scheduler; the MessageResponse answer and errors; the receipt back as a Catalyst v2 webhook (the
 * document has no webhook format). Real Redis, ClickHouse and sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpSimulator } from '../../../src/sim/shared/http-sim.js';
import { E2E_ACCOUNT } from '../../helpers/appliance.js';
import { CREDS, startChannels, type ChannelsHarness } from '../../helpers/channels.js';
import { until } from '../../helpers/env.js';

const KEY = 'wc_live_0123456789abcdef';
const WS = { id: 'ws-main' };
let h: ChannelsHarness;
let sims: Record<'whatsapp' | 'messenger' | 'instagram' | 'telegram', HttpSimulator>;

beforeAll(async () => {
  const contact = (id: string, extra: Record<string, unknown>): Record<string, unknown> => ({ account: E2E_ACCOUNT.id, id, ...extra });
  const whautochat = {
    apiKeys: [KEY],
    workspaces: [
      { id: 'ws-main', senders: { whatsapp: '+1234567890', messenger: 'page_id', instagram: 'business_account_id', telegram: '/bot_token' }, costCenter: 'CC-WHAUTO' },
      { id: 'ws-wa', senders: { whatsapp: '+1234567890' }, templateLanguage: 'pt_BR' },
    ],
  };
  h = await startChannels(['whatsapp', 'messenger', 'instagram', 'telegram'], {
    mutate: (raw) => {
      const accounts = raw['accounts'] as Record<string, unknown>[];
      accounts[0] = { ...accounts[0], whautochat };
      raw['contacts'] = [
        contact('c-ana', { name: 'Ana', phone: '919812345678', channels: { telegram: '123456789', messenger: '2468013579', instagram: '1357924680' } }),
        contact('c-blocked', { phone: '919812340000', blocked: true }),
        contact('c-optout', { phone: '919812340001', optedIn: false }),
      ];
    },
  });
  const s = h.app.channelSims;
  if (!s?.whatsapp || !s.messenger || !s.instagram || !s.telegram) throw new Error('simulators missing');
  sims = { whatsapp: s.whatsapp, messenger: s.messenger, instagram: s.instagram, telegram: s.telegram };
});

afterAll(async () => {
  await h.close();
});

async function whauto(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${h.base}/v1/messages/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Sends, expects the 200 MessageResponse, and returns the provider request the message became. */
async function sent(channel: keyof typeof sims, path: string, body: unknown): Promise<{ id: string; url: string; request: Record<string, unknown> }> {
  const r = await whauto(path, body);
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  expect(r.json).toEqual({ id: expect.stringMatching(/^[0-9A-Z]{26}$/) as string, status: 'queued', error: '' });
  const id = String(r.json['id']);
  const stored = await until('sent', async () => {
    const m = await h.app.store?.get(id);
    return m && m.upstreamMessageIds.length > 0 ? m : undefined;
  });
  const upstreamId = stored.upstreamMessageIds[0] ?? '';
  // The latest request to the provider for this destination.
  const req = [...sims[channel].requests].reverse().find((x) => JSON.stringify(x.json).includes(stored.destination) || x.url.includes(upstreamId));
  if (!req) throw new Error('no provider request');
  return { id, url: req.url, request: req.json as Record<string, unknown> };
}

describe('each documented endpoint, with its schema’s body', () => {
  it('1. WhatsApp text to a contact, and to a recepient phone number', async () => {
    const a = await sent('whatsapp', 'whatsapp/sendtext', { contact: { id: 'c-ana' }, workspace: WS, textMessage: 'Hello Ana' });
    expect(a.request).toEqual({ messaging_product: 'whatsapp', recipient_type: 'individual', to: '919812345678', type: 'text', text: { body: 'Hello Ana' } });
    const b = await sent('whatsapp', 'whatsapp/sendtext', { recepient: { phoneNumber: '+14155550177' }, workspace: WS, textMessage: 'Hello stranger' });
    expect(b.request).toMatchObject({ to: '14155550177', text: { body: 'Hello stranger' } });
    // The workspace's cost center is the message's.
    expect((await h.app.store?.get(b.id))?.message?.costCenter).toBe('CC-WHAUTO');
  });

  it('2. WhatsApp media: the MIME type picks image, video, audio or document', async () => {
    const img = await sent('whatsapp', 'whatsapp/sendmedia', { recepient: { phoneNumber: '+14155550178' }, workspace: WS, mediaUrl: 'https://cdn.example.com/p.jpg', mimeType: 'image/jpeg' });
    expect(img.request).toMatchObject({ type: 'image', image: { link: 'https://cdn.example.com/p.jpg' } });
    const pdf = await sent('whatsapp', 'whatsapp/sendmedia', { contact: { id: 'c-ana' }, workspace: WS, mediaUrl: 'https://cdn.example.com/docs/invoice%2042.pdf', mimeType: 'application/pdf' });
    expect(pdf.request).toMatchObject({ type: 'document', document: { link: 'https://cdn.example.com/docs/invoice%2042.pdf', filename: 'invoice 42.pdf' } });
  });

  it('3. WhatsApp template by name, in the workspace’s language', async () => {
    const t = await sent('whatsapp', 'whatsapp/sendtemplate', { recepient: { phoneNumber: '+14155550179' }, workspace: { id: 'ws-wa' }, template: 'hello_world' });
    expect(t.request).toMatchObject({ type: 'template', template: { name: 'hello_world', language: { policy: 'deterministic', code: 'pt_BR' } } });
  });

  it('4-6. Messenger text, media and template', async () => {
    const text = await sent('messenger', 'messenger/sendtext', { contact: { id: 'c-ana' }, workspace: WS, textMessage: 'Hi on Messenger' });
    expect(text.url).toBe(`/v23.0/${CREDS.messenger.pageId}/messages`);
    expect(text.request).toMatchObject({ recipient: { id: '2468013579' }, message: { text: 'Hi on Messenger' } });
    const elements = [{ title: 'Red shoes', buttons: [{ type: 'web_url', url: 'https://shop.example.com/red', title: 'View' }] }];
    const tpl = await sent('messenger', 'messenger/sendtemplate', { contact: { id: 'c-ana' }, workspace: WS, elements });
    expect(tpl.request).toMatchObject({ recipient: { id: '2468013579' }, message: { attachment: { type: 'template', payload: { template_type: 'generic', elements: [{ title: 'Red shoes', buttons: elements[0]?.buttons }] } } } });
    const media = await sent('messenger', 'messenger/sendmedia', { contact: { id: 'c-ana' }, workspace: WS, mediaUrl: 'https://cdn.example.com/p.jpg', mimeType: 'image/jpeg' });
    expect(media.request).toMatchObject({ recipient: { id: '2468013579' }, message: { attachment: { type: 'image', payload: { url: 'https://cdn.example.com/p.jpg', is_reusable: true } } } });
    const file = await sent('messenger', 'messenger/sendmedia', { contact: { id: 'c-ana' }, workspace: WS, mediaUrl: 'https://cdn.example.com/a.pdf', mimeType: 'application/pdf' });
    expect(file.request).toMatchObject({ message: { attachment: { type: 'file', payload: { url: 'https://cdn.example.com/a.pdf' } } } });
  });

  it('7-8. Instagram text, template and media', async () => {
    const media = await sent('instagram', 'instagram/sendmedia', { contact: { id: 'c-ana' }, workspace: WS, mediaUrl: 'https://cdn.example.com/v.mp4', mimeType: 'video/mp4' });
    expect(media.request).toMatchObject({ recipient: { id: '1357924680' }, message: { attachment: { type: 'video', payload: { url: 'https://cdn.example.com/v.mp4' } } } });
    const text = await sent('instagram', 'instagram/sendtext', { contact: { id: 'c-ana' }, workspace: WS, textMessage: 'Hi on Instagram' });
    expect(text.url).toBe(`/v23.0/${CREDS.instagram.pageId}/messages`);
    expect(text.request).toMatchObject({ recipient: { id: '1357924680' }, message: { text: 'Hi on Instagram' } });
    const tpl = await sent('instagram', 'instagram/sendtemplate', { contact: { id: 'c-ana' }, workspace: WS, elements: [{ title: 'New in', buttons: [] }] });
    expect(tpl.request).toMatchObject({ message: { attachment: { type: 'template', payload: { template_type: 'generic', elements: [{ title: 'New in' }] } } } });
  });

  it('9. Telegram template: text with an inline keyboard; and Telegram text', async () => {
    const tpl = await sent('telegram', 'telegram/sendtemplate', {
      contact: { id: 'c-ana' },
      workspace: WS,
      buttons: [{ text: 'Yes', callback_data: 'yes' }, [{ text: 'Site', url: 'https://example.com/' }, { text: 'No', callback_data: 'no' }]],
      textMessage: 'Confirm?',
    });
    expect(tpl.url).toBe(`/bot${CREDS.telegram.botToken}/sendMessage`);
    expect(tpl.request).toEqual({
      chat_id: 123456789,
      text: 'Confirm?',
      reply_markup: { inline_keyboard: [[{ text: 'Yes', callback_data: 'yes' }], [{ text: 'Site', url: 'https://example.com/' }, { text: 'No', callback_data: 'no' }]] },
    });
    const text = await sent('telegram', 'telegram/sendtext', { contact: { id: 'c-ana' }, workspace: WS, textMessage: 'Plain' });
    expect(text.request).toEqual({ chat_id: 123456789, text: 'Plain' });
  });
});

describe('errors, each as a MessageResponse naming the field', () => {
  const err = async (path: string, body: unknown, status: number, error: string | RegExp, headers?: Record<string, string>): Promise<void> => {
    const r = await whauto(path, body, headers);
    expect(r.status, JSON.stringify(r.json)).toBe(status);
    expect(r.json).toMatchObject({ id: '', status: 'failed' });
    if (typeof error === 'string') expect(r.json['error']).toBe(error);
    else expect(String(r.json['error'])).toMatch(error);
  };

  it('contact and recepient: both, neither', async () => {
    await err('whatsapp/sendtext', { contact: { id: 'c-ana' }, recepient: { phoneNumber: '+14155550177' }, workspace: WS, textMessage: 'x' }, 400, 'contact, recepient: provide either contact or recepient, not both');
    await err('whatsapp/sendtext', { workspace: WS, textMessage: 'x' }, 400, 'contact: provide either contact (with id) or recepient (with phoneNumber)');
  });

  it('the key, the workspace, the body', async () => {
    await err('whatsapp/sendtext', { contact: { id: 'c-ana' }, workspace: WS, textMessage: 'x' }, 401, 'x-api-key: missing or invalid API key', { 'x-api-key': 'wrong_0123456789abcdef' });
    // A Catalyst v2 key is not a WhautoChat key.
    await err('whatsapp/sendtext', { contact: { id: 'c-ana' }, workspace: WS, textMessage: 'x' }, 401, 'x-api-key: missing or invalid API key', { 'x-api-key': E2E_ACCOUNT.apiKey });
    await err('whatsapp/sendtext', { contact: { id: 'c-ana' }, workspace: { id: 'nope' }, textMessage: 'x' }, 400, 'workspace.id: no workspace "nope" in this account');
    await err('messenger/sendtext', { contact: { id: 'c-ana' }, workspace: { id: 'ws-wa' }, textMessage: 'x' }, 400, 'workspace.id: workspace "ws-wa" has no messenger sender');
    await err('whatsapp/sendtext', { contact: { id: 'c-ana' }, workspace: WS }, 400, /^textMessage: Required/);
    await err('whatsapp/sendmedia', { contact: { id: 'c-ana' }, workspace: WS, mediaUrl: 'ftp://x/y', mimeType: 'image/jpeg' }, 400, /^mediaUrl: http or https only/);
    await err('whatsapp/sendtext', { contact: { id: 'c-ana' }, workspace: WS, textMessage: 'x'.repeat(4097) }, 400, /^textMessage: at most 4096 characters/);
    await err('whatsapp/sendtext', { recipient: { phoneNumber: '+14155550177' }, workspace: WS, textMessage: 'x' }, 400, /Unrecognized key\(s\) in object: 'recipient'/);
    await err('whatsapp/sendtext', { recepient: { phoneNumber: '12' }, workspace: WS, textMessage: 'x' }, 400, 'recepient.phoneNumber: not a valid phone number (E.164, with its country code)');
    await err('whatsapp/sendtext', '{', 400, /^\(body\): not valid JSON/);
    await err('telegram/sendmedia', { contact: { id: 'c-ana' }, workspace: WS, mediaUrl: 'https://cdn.example.com/p.jpg', mimeType: 'image/jpeg' }, 400, 'sendmedia is not supported on telegram by this gateway (supported: sendtext, sendtemplate)');
    await err('instagram/sendmedia', { contact: { id: 'c-ana' }, workspace: WS, mediaUrl: 'https://cdn.example.com/a.pdf', mimeType: 'application/pdf' }, 400, 'mimeType: Instagram takes image, video and audio attachments only');
  });

  it('contacts: unknown, blocked (also by phone), opted out of templates, without the channel’s id', async () => {
    await err('whatsapp/sendtext', { contact: { id: 'c-nobody' }, workspace: WS, textMessage: 'x' }, 404, 'contact.id: no contact "c-nobody" in this account');
    await err('whatsapp/sendtext', { contact: { id: 'c-blocked' }, workspace: WS, textMessage: 'x' }, 403, 'contact.id: the contact is blocked');
    await err('whatsapp/sendtext', { recepient: { phoneNumber: '+919812340000' }, workspace: WS, textMessage: 'x' }, 403, 'recepient.phoneNumber: the contact is blocked');
    await err('whatsapp/sendtemplate', { contact: { id: 'c-optout' }, workspace: WS, template: 'hello_world' }, 403, 'contact.id: the contact opted out of template messages');
    await err('telegram/sendtext', { contact: { id: 'c-optout' }, workspace: WS, textMessage: 'x' }, 400, 'contact.id: the contact has no telegram address');
    await err('messenger/sendtext', { recepient: { phoneNumber: '+14155550177' }, workspace: WS, textMessage: 'x' }, 400, /^recepient\.phoneNumber: a messenger message goes to a contact/);
    // A recepient phone that is a contact's reaches Messenger through the contact's id.
    const r = await sent('messenger', 'messenger/sendtext', { recepient: { phoneNumber: '+919812345678' }, workspace: WS, textMessage: 'By phone' });
    expect(r.request).toMatchObject({ recipient: { id: '2468013579' } });
  });

  it('scheduleDateTime: not a date, too far ahead', async () => {
    await err('whatsapp/sendtext', { contact: { id: 'c-ana' }, workspace: WS, textMessage: 'x', scheduleDateTime: 'tomorrow' }, 400, /^scheduleDateTime: an ISO 8601 date and time/);
    await err('whatsapp/sendtext', { contact: { id: 'c-ana' }, workspace: WS, textMessage: 'x', scheduleDateTime: '2099-01-01T00:00:00Z' }, 400, /^scheduleDateTime: at most 7 days ahead/);
  });
});

describe('scheduling, receipts, idempotency', () => {
  it('scheduleDateTime: answered `scheduled`, nothing sent before it, sent when the scheduler fires, the receipt as a Catalyst webhook', async () => {
    const at = new Date(Date.now() + 1500);
    const r = await whauto('whatsapp/sendtext', { recepient: { phoneNumber: '+14155550181' }, workspace: WS, textMessage: 'Later', scheduleDateTime: at.toISOString() });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 'scheduled', error: '' });
    const id = String(r.json['id']);
    expect((await h.app.store?.get(id))?.status).toBe('scheduled');
    const request = await until('sent when due', () => sims.whatsapp.requests.find((x) => (x.json as { to?: string }).to === '14155550181'), 10_000);
    expect(request.at).toBeGreaterThanOrEqual(at.getTime() - 5);
    const hook = await until('delivery webhook', () => h.rx.accepted().find((x) => x.json['messageId'] === id && x.event === 'delivery'));
    expect(hook.path).toBe('/account');
    expect(hook.verified).toBe(true);
    expect(hook.json).toMatchObject({ eventType: 'delivery', messageId: id, channel: 'whatsapp', status: 'delivered' });
  });

  it('an Idempotency-Key repeats the first answer and sends nothing again', async () => {
    const body = { recepient: { phoneNumber: '+14155550182' }, workspace: WS, textMessage: 'Once' };
    const first = await whauto('whatsapp/sendtext', body, { 'idempotency-key': 'wc-once-1' });
    const again = await whauto('whatsapp/sendtext', body, { 'idempotency-key': 'wc-once-1' });
    expect(first.status).toBe(200);
    expect(again).toEqual(first);
    const replay = await fetch(`${h.base}/v1/messages/whatsapp/sendtext`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY, 'idempotency-key': 'wc-once-1' }, body: JSON.stringify(body) });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    await until('sent', () => sims.whatsapp.requests.find((x) => (x.json as { to?: string }).to === '14155550182'));
    await new Promise((r) => setTimeout(r, 200));
    expect(sims.whatsapp.requests.filter((x) => (x.json as { to?: string }).to === '14155550182')).toHaveLength(1);
    const other = await whauto('whatsapp/sendtext', { ...body, textMessage: 'Twice' }, { 'idempotency-key': 'wc-once-1' });
    expect(other.status).toBe(422);
    expect(other.json).toMatchObject({ id: '', status: 'failed', error: expect.stringMatching(/^VALIDATION_ERROR: this Idempotency-Key was used with a different request body/) as string });
  });
});
