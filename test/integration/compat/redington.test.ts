/**
 * The Redington compatible API end to end (003_e681fa34a10f76c2.txt), on real Redis, ClickHouse and
 * sockets, with the WhatsApp simulator as WhatsApp: every example request of the document sent as it
 * is (fixtures/redington-seed.ts) and answered in its shape; each §24 error provoked; media uploaded,
 * checked and downloaded by WhatsApp through its signed link; templates submitted to the simulator's
 * message_templates edge and approved or rejected by its review; contacts, blocking and opt-out;
 * receipts and a user's message back through the document's webhooks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../src/appliance.js';
import type { SmscSimulator } from '../../../src/sim/index.js';
import type { WhatsAppSimulator } from '../../../src/sim/whatsapp/whatsapp-sim.js';
import { DOC, PROJECT_ID } from '../../fixtures/redington-seed.js';
import { E2E_ACCOUNT, dropDatabase, e2eConfig, startAppliance, startSim } from '../../helpers/appliance.js';
import { until } from '../../helpers/env.js';
import { Receiver } from '../webhooks/receiver.js';

const PWD = 'project-pwd-0123456789abcdef';
const WABA = '102290129340398';
const WA = { appSecret: 'wa-app-secret-0123', verifyToken: 'wa-verify-token', phoneNumberId: '106540352242922', accessToken: 'EAAGsandboxTokenForTests' };
const SEND_PATH = `/v23.0/${WA.phoneNumberId}/messages`;
const BASE = `/project-apis/v1/project/${PROJECT_ID}`;
const MAX_MEDIA = 65_536;
/**
 * Where WhatsApp downloads uploaded media (redington.publicUrl): a public name, as WhatsApp (and
 * the simulator, by Meta's `format: url`) refuse a loopback link. The test downloads through the
 * gateway's own origin instead, as the proxy in front of it would.
 */
const PUBLIC_URL = 'https://wa-media.catalyst.example';

let app: Appliance;
let smsc: SmscSimulator;
let sim: WhatsAppSimulator;
let rx: Receiver;
let origin: string;
let database: string;

beforeAll(async () => {
  const s = await startSim();
  smsc = s.sim;
  rx = await Receiver.start(undefined);
  const raw = await e2eConfig(s.port, {
    webhooks: { allowLoopback: true, backoffBaseSeconds: 0.2 },
    router: { claimIdleMs: 10_000 },
    channelSims: { enabled: true, deliveredDelayMs: 30, readDelayMs: 30, templateApprovalMs: 300 },
    channels: {
      answerWaitMs: 2000,
      whatsapp: {
        price: 0.03,
        timeoutMs: 2000,
        retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 50 },
        appSecret: WA.appSecret,
        verifyToken: WA.verifyToken,
        senders: [{ account: E2E_ACCOUNT.id, from: '+1234567890', phoneNumberId: WA.phoneNumberId, accessToken: WA.accessToken }],
      },
    },
  });
  const accounts = raw['accounts'] as Record<string, unknown>[];
  accounts[0] = {
    ...accounts[0],
    webhookUrl: rx.url('/redington'),
    redington: { projects: [{ id: PROJECT_ID, password: PWD, from: '+1234567890', businessId: WABA, name: 'Cetas Information Technology Private Limited' }], maxMediaBytes: MAX_MEDIA, publicUrl: PUBLIC_URL },
  };
  const started = await startAppliance(raw);
  app = started.app;
  database = started.config.clickhouse.database;
  origin = `http://127.0.0.1:${started.httpPort}`;
  const w = app.channelSims?.whatsapp;
  if (!w) throw new Error('no WhatsApp simulator');
  sim = w;
});

afterAll(async () => {
  await app.close();
  await smsc.close();
  await rx.close();
  await dropDatabase(database);
});

type Answer = { status: number; json: Record<string, unknown> };

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${origin}${path}`, {
    method,
    headers: { 'x-project-api-pwd': PWD, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** A send, and the request the simulator got for it. */
async function send(body: unknown): Promise<Answer & { request: Record<string, unknown> }> {
  const before = sim.requests.length;
  const r = await call('POST', `${BASE}/messages`, body);
  const request = sim.requests.slice(before).find((x) => x.url === SEND_PATH);
  if (!request) throw new Error(`the simulator got no request: ${JSON.stringify(r.json)}`);
  return { ...r, request: request.json as Record<string, unknown> };
}

async function upload(bytes: Buffer, filename: string, type: string, field = 'file'): Promise<Answer> {
  const form = new FormData();
  form.append(field, new Blob([bytes], { type }), filename);
  const res = await fetch(`${origin}${BASE}/media`, { method: 'POST', headers: { 'x-project-api-pwd': PWD }, body: form });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

function errorOf(a: Answer): { code: unknown; message: unknown; fields: string[] } {
  return { code: a.json['code'], message: a.json['message'], fields: ((a.json['details'] as { field: string }[] | undefined) ?? []).map((d) => d.field) };
}

/** What WhatsApp would download from a media link. */
async function download(link: string): Promise<Buffer> {
  expect(link.startsWith(`${PUBLIC_URL}/`)).toBe(true);
  const res = await fetch(`${origin}${link.slice(PUBLIC_URL.length)}`);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

/** The document's answer to a send. */
function expectSent(a: Answer, to = '910000000000'): string {
  expect(a.status).toBe(200);
  expect(a.json).toEqual({ messaging_product: 'whatsapp', contacts: [{ input: to, wa_id: to }], messages: [{ id: expect.stringMatching(/^wamid\./) as unknown }] });
  return ((a.json['messages'] as { id: string }[])[0] as { id: string }).id;
}

const PDF = Buffer.concat([Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\n'), Buffer.alloc(200, 0x20), Buffer.from('\n%%EOF\n')]);
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(64, 1)]);

describe('§2 auth and §24 errors, in the document’s codes', () => {
  it('401 without X-Project-API-Pwd, with a wrong one, and for an unknown project', async () => {
    for (const [path, headers] of [
      [`${BASE}/messages`, { 'x-project-api-pwd': '' }],
      [`${BASE}/messages`, { 'x-project-api-pwd': 'wrong-password-0123456789' }],
      ['/project-apis/v1/project/000000000000000000000000/messages', {}],
    ] as const) {
      const r = await call('POST', path, DOC.text, headers);
      expect(r.status).toBe(401);
      expect(r.json).toMatchObject({ status: 'error', code: 401, message: 'Unauthorized' });
    }
  });

  it('405 for a method the path does not have', async () => {
    const r = await call('PUT', `${BASE}/messages`, DOC.text);
    expect(r.status).toBe(405);
    expect(r.json).toMatchObject({ status: 'error', code: 405, message: 'Method Not Allowed' });
  });

  it('400 for a body that is not JSON', async () => {
    const r = await call('POST', `${BASE}/messages`, '{"to":');
    expect(r.status).toBe(400);
    expect(errorOf(r).code).toBe(400);
  });

  it('601 for an invalid parameter, naming it', async () => {
    const r = await call('POST', `${BASE}/messages`, { to: '910000000000', type: 'text' });
    expect(r.status).toBe(400);
    expect(errorOf(r)).toEqual({ code: 601, message: 'Invalid Parameter', fields: ['text'] });
    const both = await call('POST', `${BASE}/messages`, { to: '910000000000', type: 'image', image: { link: 'https://example.com/a.jpg', id: '123' } });
    expect(errorOf(both)).toEqual({ code: 601, message: 'Invalid Parameter', fields: ['image'] });
  });

  it('602 for a phone number that cannot exist', async () => {
    for (const to of ['abc', '12', '+0000000000', '99999999999999999']) {
      const r = await call('POST', `${BASE}/messages`, { ...DOC.text, to });
      expect(r.status).toBe(400);
      expect(errorOf(r)).toEqual({ code: 602, message: 'Invalid Phone Number', fields: ['to'] });
    }
  });

  it('603 for text over WhatsApp’s 4,096 characters and a caption over 1,024', async () => {
    const long = await call('POST', `${BASE}/messages`, { ...DOC.text, text: { body: 'x'.repeat(4097) } });
    expect(long.status).toBe(400);
    expect(errorOf(long)).toEqual({ code: 603, message: 'Message Content Too Long', fields: ['text.body'] });
    const caption = await call('POST', `${BASE}/messages`, { ...DOC.imageLink, image: { ...DOC.imageLink.image, caption: 'c'.repeat(1025) } });
    expect(errorOf(caption)).toEqual({ code: 603, message: 'Message Content Too Long', fields: ['image.caption'] });
  });

  it('604 for a message type the API does not send', async () => {
    for (const type of ['location', 'sticker', 'interactive', undefined]) {
      const r = await call('POST', `${BASE}/messages`, { to: '910000000000', type });
      expect(r.status).toBe(400);
      expect(errorOf(r)).toEqual({ code: 604, message: 'Invalid Message Type', fields: ['type'] });
    }
  });

  it('404 for a message, template or contact that is not the project’s', async () => {
    for (const path of [`${BASE}/messages/wamid.HBgMOTe5NjI2MDIOMzQzFQIAERgSOTFCQURFQjNFOTJFODUxRjQ3AA==`, `${BASE}/messages/01JD0000000000000000000000`, `${BASE}/wa_template/66b47171abe7bc4b8ec990ad`, `${BASE}/contact/66b47afc330f4a2db6bea14b`]) {
      const r = await call('GET', path);
      expect(r.status, path).toBe(404);
      expect(r.json).toMatchObject({ status: 'error', code: 404, message: 'Not Found' });
    }
  });
});

describe('§12-§15 contacts, on the shared contact store', () => {
  let id = '';
  it('creates the document’s contact, opted in', async () => {
    const r = await call('POST', `${BASE}/contact`, DOC.createContact);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ type: 'contact', project_id: PROJECT_ID, business_id: WABA, phone_number: '910000000000', name: 'GK', country_code: '91', opted_in: true, blocked: false, tags: [], attributes: {} });
    id = String(r.json['id']);
    expect(id).toMatch(/^[0-9a-f]{24}$/);
    // The same person through Catalyst v2's contacts API.
    const v2 = await fetch(`${origin}/api/v2/contacts/${id}`, { headers: { authorization: `Bearer ${E2E_ACCOUNT.apiKey}` } });
    expect(((await v2.json()) as Record<string, unknown>)['phone']).toBe('+910000000000');
  });

  it('refuses a second contact with the same number, and a bad number with 602', async () => {
    expect(errorOf(await call('POST', `${BASE}/contact`, DOC.createContact))).toEqual({ code: 400, message: 'Bad Request', fields: ['mobile_number'] });
    expect(errorOf(await call('POST', `${BASE}/contact`, { name: 'X', mobile_number: '12' }))).toEqual({ code: 602, message: 'Invalid Phone Number', fields: ['mobile_number'] });
    expect(errorOf(await call('POST', `${BASE}/contact`, { mobile_number: '919876500009' }))).toEqual({ code: 601, message: 'Invalid Parameter', fields: ['name'] });
  });

  it('gets it by id and by mobile number', async () => {
    const byId = await call('GET', `${BASE}/contact/${id}`);
    expect(byId.status).toBe(200);
    expect(byId.json).toMatchObject({ type: 'contact', id, phone_number: '910000000000', name: 'GK', is_closed: false, is_intervened: false, opted_in: true, blocked: false });
    const byPhone = await call('GET', `${BASE}/contact?action=FetchContact&mobile_number=910000000000`);
    expect(byPhone.json).toMatchObject({ id, name: 'GK' });
    expect((await call('GET', `${BASE}/contact?action=FetchContact&mobile_number=919876500008`)).status).toBe(404);
    expect(errorOf(await call('GET', `${BASE}/contact?action=Other&mobile_number=910000000000`))).toMatchObject({ code: 601, fields: ['action'] });
  });

  it('updates name, opt-in, block and attributes (the document’s body, then attributes)', async () => {
    const r = await call('PATCH', `${BASE}/contact/${id}`, DOC.updateContact);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ id, name: 'Brindha', blocked: false, opted_in: true });
    const a = await call('PATCH', `${BASE}/contact/${id}`, { attributes: { email: 'brindha@gmail.com' } });
    expect(a.json['attributes']).toEqual({ email: 'brindha@gmail.com' });
    expect(errorOf(await call('PATCH', `${BASE}/contact/${id}`, { blocked: 'yes' }))).toMatchObject({ code: 601, fields: ['blocked'] });
  });
});

describe('§8-§11 templates, reviewed by WhatsApp (the simulator’s message_templates edge)', () => {
  const approved = async (name: string): Promise<Record<string, unknown>> =>
    until(`${name} decided`, async () => {
      const list = await call('GET', `${BASE}/wa_template?limit=100`);
      const t = (list.json['template'] as Record<string, unknown>[]).find((x) => x['name'] === name);
      return t && t['status'] !== 'PENDING' ? t : undefined;
    }, 10_000, 100);

  it('submits the document’s Sample 1 and answers in its shape, PENDING, then APPROVED by WhatsApp', async () => {
    const before = sim.requests.length;
    const r = await call('POST', `${BASE}/wa_template`, DOC.submitSample1);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      assistant_name: 'Cetas Information Technology Private Limited',
      name: 'packagedelivered',
      label: 'Package Delivery',
      status: 'PENDING',
      call_to_action: [],
      quick_replies: [],
      type: 'TEXT',
      language: 'English (US)',
      text: DOC.submitSample1.text,
      sample_text: DOC.submitSample1.sample_text,
      message_action_type: 'All',
      total_parameters: 2,
      project_id: PROJECT_ID,
      business_id: WABA,
      category: 'UTILITY',
      rejected_reason: 'NONE',
    });
    expect(String(r.json['id'])).toMatch(/^[0-9a-f]{24}$/);
    expect(r.json).not.toHaveProperty('wa_id');
    const req = sim.requests.slice(before).find((x) => x.url === `/v23.0/${WABA}/message_templates`);
    expect(req?.headers['authorization']).toBe(`Bearer ${WA.accessToken}`);
    expect(req?.json).toEqual({
      name: 'packagedelivered',
      language: 'en_US',
      category: 'UTILITY',
      components: [
        { type: 'HEADER', format: 'TEXT', text: 'Package Delivery' },
        { type: 'BODY', text: DOC.submitSample1.text, example: { body_text: [['Brindha', 'Mam']] } },
        { type: 'FOOTER', text: 'from cetas infotech' },
      ],
    });
    const t = await approved('packagedelivered');
    expect(t).toMatchObject({ status: 'APPROVED', rejected_reason: 'NONE' });
    const one = await call('GET', `${BASE}/wa_template/${String(r.json['id'])}`);
    expect(one.json).toMatchObject({ id: r.json['id'], status: 'APPROVED' });
  });

  it('submits Sample 2 (quick replies); Sample 3 reuses its name and is refused until it is deleted', async () => {
    const two = await call('POST', `${BASE}/wa_template`, DOC.submitSample2);
    expect(two.status).toBe(200);
    expect(two.json).toMatchObject({ name: 'temp_name_1', type: 'FILE', category: 'MARKETING', quick_replies: ['Yes', 'No'], message_action_type: 'QuickReplies', status: 'PENDING' });
    expect(errorOf(await call('POST', `${BASE}/wa_template`, DOC.submitSample3))).toEqual({ code: 400, message: 'Bad Request', fields: ['name'] });
    const del = await call('DELETE', `${BASE}/wa_template/${String(two.json['id'])}`);
    expect(del).toEqual({ status: 200, json: { status: 'success' } });
    expect((await call('GET', `${BASE}/wa_template/${String(two.json['id'])}`)).status).toBe(404);
    const three = await call('POST', `${BASE}/wa_template`, DOC.submitSample3);
    expect(three.status).toBe(200);
    expect(three.json).toMatchObject({ name: 'temp_name_1', category: 'AUTHENTICATION', message_action_type: 'CTA', call_to_action: DOC.submitSample3.call_to_action });
  });

  it('checks the document’s rules before WhatsApp sees the template', async () => {
    const before = sim.requests.length;
    const bad = async (over: Record<string, unknown>): Promise<ReturnType<typeof errorOf>> => errorOf(await call('POST', `${BASE}/wa_template`, { ...DOC.submitSample1, name: 'rules_check', ...over }));
    expect(await bad({ type: 'AUDIO' })).toMatchObject({ code: 601, fields: ['type'] });
    expect(await bad({ category: 'PROMO' })).toMatchObject({ code: 601, fields: ['category'] });
    expect(await bad({ language: 'Klingon' })).toMatchObject({ code: 601, fields: ['language'] });
    expect(await bad({ label: undefined })).toMatchObject({ code: 601, fields: ['label'] });
    expect(await bad({ text: 'Hello {{1}} and {{3}}' })).toMatchObject({ code: 601, fields: ['text'] });
    expect(await bad({ sample_text: 'Hello, no samples' })).toMatchObject({ code: 601, fields: ['sample_text'] });
    expect(await bad({ message_action_type: 'CTA', call_to_action: [] })).toMatchObject({ code: 601, fields: ['call_to_action'] });
    expect(await bad({ message_action_type: 'QuickReplies' })).toMatchObject({ code: 601, fields: ['quick_replies'] });
    expect(await bad({ header_text: 'h'.repeat(61) })).toMatchObject({ code: 601, fields: ['header_text'] });
    expect(await bad({ call_to_action: [{ type: 'URL', button_title: 'Go', button_value: 'not a url' }] })).toMatchObject({ code: 601, fields: ['call_to_action.0.button_value'] });
    expect(await bad({ text: `Hello {{1}} ${'x'.repeat(1100)}`, sample_text: 'Hello [a]' })).toMatchObject({ code: 603, fields: ['text'] });
    expect(sim.requests.slice(before).some((x) => x.url.includes('message_templates'))).toBe(false);
  });

  it('takes REJECTED and its reason from WhatsApp’s review', async () => {
    const r = await call('POST', `${BASE}/wa_template`, { ...DOC.submitSample1, name: 'opens_with_param', text: '{{1}}, your package is here', sample_text: '[Brindha], your package is here', header_text: undefined, footer_text: undefined });
    expect(r.status).toBe(200);
    const t = await approved('opens_with_param');
    expect(t).toMatchObject({ status: 'REJECTED', rejected_reason: 'INVALID_FORMAT' });
  });

  it('lists with after, before and limit (1-100, default 10)', async () => {
    // The templates the message examples use, and one marketing template.
    for (const [name, text, type, category] of [
      ['testmessage', 'Hello {{1}}, Thanks for contacting us', 'TEXT', 'UTILITY'],
      ['filetemplatecetas', 'Hello {{1}}, here is your file', 'FILE', 'UTILITY'],
      ['filetempcetas', 'Hello {{1}}, here is your document', 'FILE', 'UTILITY'],
      ['cetasimagetemplate', 'Hello {{1}}, see the picture', 'IMAGE', 'UTILITY'],
      ['big_sale', 'Hello {{1}}, everything is half price', 'TEXT', 'MARKETING'],
    ] as const) {
      const r = await call('POST', `${BASE}/wa_template`, { name, text, type, category, label: name, language: 'English (US)', sample_text: text.replace('{{1}}', '[Brindha]') });
      expect(r.status, name).toBe(200);
    }
    const all = await call('GET', `${BASE}/wa_template?limit=100`);
    const ids = (all.json['template'] as { id: string }[]).map((t) => t.id);
    expect(all.json['count']).toBe(ids.length);
    expect(ids.length).toBeGreaterThanOrEqual(8);
    expect([...ids].sort()).toEqual(ids);
    const first = await call('GET', `${BASE}/wa_template`);
    expect(first.json['size']).toBe(Math.min(10, ids.length));
    const page = await call('GET', `${BASE}/wa_template?limit=2&after=${ids[1] ?? ''}`);
    expect((page.json['template'] as { id: string }[]).map((t) => t.id)).toEqual(ids.slice(2, 4));
    expect(page.json).toMatchObject({ size: 2, count: ids.length });
    const back = await call('GET', `${BASE}/wa_template?limit=2&before=${ids[4] ?? ''}`);
    expect((back.json['template'] as { id: string }[]).map((t) => t.id)).toEqual(ids.slice(2, 4));
    for (const q of ['limit=0', 'limit=101', 'after=nope']) expect(errorOf(await call('GET', `${BASE}/wa_template?${q}`)).code, q).toBe(601);
    for (const name of ['testmessage', 'filetemplatecetas', 'filetempcetas', 'cetasimagetemplate', 'big_sale']) expect((await approved(name))['status']).toBe('APPROVED');
  });
});

describe('§4 upload media', () => {
  it('takes a PDF and answers the document’s {"id"}; the project downloads it back', async () => {
    const r = await upload(PDF, 'SamplePDFFromAPI.pdf', 'application/pdf');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ id: expect.stringMatching(/^[0-9]{16}$/) as unknown });
    const res = await fetch(`${origin}${BASE}/media/${String(r.json['id'])}`, { headers: { 'x-project-api-pwd': PWD } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await res.arrayBuffer()).equals(PDF)).toBe(true);
  });

  it('refuses a type WhatsApp does not take, content that is not its type, a file over the cap, no file, and a body that is not multipart', async () => {
    expect(errorOf(await upload(Buffer.from('PK\x03\x04zip'), 'a.zip', 'application/zip'))).toMatchObject({ code: 601, fields: ['file'] });
    expect(errorOf(await upload(PDF, 'fake.png', 'image/png'))).toMatchObject({ code: 601, fields: ['file'] });
    expect(errorOf(await upload(Buffer.concat([PDF, Buffer.alloc(MAX_MEDIA)]), 'big.pdf', 'application/pdf'))).toMatchObject({ code: 601, fields: ['file'] });
    expect(errorOf(await upload(PDF, 'a.pdf', 'application/pdf', 'document'))).toMatchObject({ code: 601, fields: ['file'] });
    expect(errorOf(await call('POST', `${BASE}/media`, { file: 'x' }))).toMatchObject({ code: 400 });
    // A file sent as octet-stream is typed by its extension.
    expect((await upload(PNG, 'FlowerImage.png', 'application/octet-stream')).status).toBe(200);
  });

  it('serves a file only to the project or to its signed link', async () => {
    const r = await upload(PNG, 'FlowerImage.png', 'image/png');
    const id = String(r.json['id']);
    expect((await fetch(`${origin}${BASE}/media/${id}`)).status).toBe(401);
    expect((await fetch(`${origin}${BASE}/media/${id}?sig=forged`)).status).toBe(401);
    expect((await fetch(`${origin}${BASE}/media/9999999999999999`, { headers: { 'x-project-api-pwd': PWD } })).status).toBe(404);
  });
});

describe('§5-§7 the document’s messages, sent as they are, to WhatsApp', () => {
  it('§5.1 text', async () => {
    const r = await send(DOC.text);
    expectSent(r);
    expect(r.request).toEqual({ messaging_product: 'whatsapp', recipient_type: 'individual', to: '910000000000', type: 'text', text: { body: 'Hello Good Morning' } });
  });

  it('§5.2.1 document by link, §5.3.1 image by link', async () => {
    const d = await send(DOC.documentLink);
    expectSent(d);
    expect(d.request).toMatchObject({ type: 'document', document: { link: DOC.documentLink.document.link, filename: 'wds' } });
    const i = await send(DOC.imageLink);
    expectSent(i);
    expect(i.request).toMatchObject({ type: 'image', image: { link: DOC.imageLink.image.link, caption: 'Your image caption here' } });
  });

  it('§5.2.2 and §5.3.2 by an uploaded media id: WhatsApp gets a link it can download the file from', async () => {
    // As the document has them, the ids were never uploaded here.
    expect(errorOf(await call('POST', `${BASE}/messages`, DOC.documentId))).toEqual({ code: 601, message: 'Invalid Parameter', fields: ['document.id'] });
    expect(errorOf(await call('POST', `${BASE}/messages`, DOC.imageId))).toEqual({ code: 601, message: 'Invalid Parameter', fields: ['image.id'] });
    const pdf = String((await upload(PDF, 'SamplePDFFromAPI.pdf', 'application/pdf')).json['id']);
    const d = await send({ ...DOC.documentId, document: { ...DOC.documentId.document, id: pdf } });
    expectSent(d);
    const doc = d.request['document'] as { link: string; filename: string };
    expect(doc.filename).toBe('SamplePDFFromAPI.pdf');
    expect(doc.link).toMatch(new RegExp(`^${PUBLIC_URL}${BASE}/media/${pdf}\\?sig=`));
    expect((await download(doc.link)).equals(PDF)).toBe(true);
    const png = String((await upload(PNG, 'FlowerImage.png', 'image/png')).json['id']);
    const i = await send({ ...DOC.imageId, image: { ...DOC.imageId.image, id: png } });
    expectSent(i);
    const img = i.request['image'] as Record<string, string>;
    expect(Object.keys(img)).toEqual(['link']);
    expect((await download(img['link'] ?? '')).equals(PNG)).toBe(true);
  });

  it('§6.1 a text template with body parameters', async () => {
    const r = await send(DOC.templateText);
    expectSent(r);
    expect(r.request).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '910000000000',
      type: 'template',
      template: { name: 'testmessage', language: { policy: 'deterministic', code: 'en_US' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'Brindha' }] }] },
    });
  });

  it('§6.2 and §6.3 templates with a document or image header, by link or uploaded id', async () => {
    const dl = await send(DOC.templateDocumentLink);
    expectSent(dl);
    expect((dl.request['template'] as { components: unknown[] }).components).toEqual([
      { type: 'header', parameters: [{ type: 'document', document: { link: 'https://www.clickdimensions.com/links/TestPDFfile.pdf', filename: 'qwerty' } }] },
      { type: 'body', parameters: [{ type: 'text', text: 'Brindha' }] },
    ]);
    const il = await send(DOC.templateImageLink);
    expectSent(il);
    expect((il.request['template'] as { components: unknown[] }).components[0]).toEqual({ type: 'header', parameters: [{ type: 'image', image: { link: 'https://images.pexels.com/photos/616838/pexels-photo-616838.jpeg' } }] });
    // The document's ids as they are: never uploaded here.
    expect(errorOf(await call('POST', `${BASE}/messages`, DOC.templateDocumentId))).toMatchObject({ code: 601, fields: ['template.components.0.parameters.0.document.id'] });
    expect(errorOf(await call('POST', `${BASE}/messages`, DOC.templateImageId))).toMatchObject({ code: 601, fields: ['template.components.0.parameters.0.image.id'] });
    const pdf = String((await upload(PDF, 'SamplePDFFromAPI.pdf', 'application/pdf')).json['id']);
    const body = structuredClone(DOC.templateDocumentId) as unknown as { template: { name: string; components: { parameters: { document: { id: string } }[] }[] } };
    (body.template.components[0]?.parameters[0] as { document: { id: string } }).document.id = pdf;
    const di = await send(body);
    expectSent(di);
    // Meta's template names are lower case: fileTempcetas is filetempcetas.
    const t = di.request['template'] as { name: string; components: { parameters: { document: { link: string; filename: string } }[] }[] };
    expect(t.name).toBe('filetempcetas');
    expect(t.components[0]?.parameters[0]?.document.filename).toBe('SamplePDFFromAPI.pdf');
    expect((await download(t.components[0]?.parameters[0]?.document.link ?? '')).equals(PDF)).toBe(true);
    const png = String((await upload(PNG, 'x.png', 'image/png')).json['id']);
    const img = structuredClone(DOC.templateImageId) as unknown as { template: { components: { parameters: { image: { id: string } }[] }[] } };
    (img.template.components[0]?.parameters[0] as { image: { id: string } }).image.id = png;
    expectSent(await send(img));
  });

  it('refuses a template WhatsApp has not approved, with the template’s status', async () => {
    const before = sim.requests.length;
    const rejected = await call('POST', `${BASE}/messages`, { ...DOC.templateText, template: { ...DOC.templateText.template, name: 'opens_with_param' } });
    expect(rejected.status).toBe(400);
    expect(rejected.json).toMatchObject({ code: 601, message: 'Invalid Parameter', details: [{ field: 'template.name', message: 'status REJECTED (INVALID_FORMAT)' }] });
    await call('POST', `${BASE}/wa_template`, { name: 'just_submitted', text: 'Hello {{1}}', type: 'TEXT', category: 'UTILITY', label: 'x', language: 'en_US', sample_text: 'Hello [a]' });
    const pending = await call('POST', `${BASE}/messages`, { ...DOC.templateText, template: { ...DOC.templateText.template, name: 'just_submitted' } });
    expect(pending.json).toMatchObject({ code: 601, details: [{ field: 'template.name', message: 'status PENDING' }] });
    expect(sim.requests.slice(before).filter((x) => x.url === SEND_PATH)).toHaveLength(0);
  });

  it('§7 details by wamid and by Catalyst id, in the document’s shape, DELIVERED then READ', async () => {
    const wamid = expectSent(await send(DOC.text));
    const path = `${BASE}/messages/${encodeURIComponent(wamid)}`;
    const d = await until('read', async () => {
      const r = await call('GET', path);
      return r.json['status'] === 'READ' ? r : undefined;
    });
    expect(d.status).toBe(200);
    expect(d.json).toMatchObject({
      type: 'message',
      meta_data: [],
      project_id: PROJECT_ID,
      phone_number: '910000000000',
      campaign: null,
      sender: 'API',
      message_content: { text: 'Hello Good Morning' },
      message_type: 'TEXT',
      status: 'READ',
      is_HSM: false,
      chatbot_response: null,
      agent_id: null,
      failureResponse: null,
      userName: 'Brindha',
      countryCode: '91',
      submitted_message_id: '',
      message_price: 0.03,
      deductionType: null,
      mau_details: null,
      whatsapp_conversation_details: null,
      context: null,
      messageId: wamid,
    });
    expect(typeof d.json['sent_at']).toBe('number');
    expect(typeof d.json['delivered_at']).toBe('number');
    expect(typeof d.json['read_at']).toBe('number');
    const contact = await call('GET', `${BASE}/contact?action=FetchContact&mobile_number=910000000000`);
    expect(d.json['contact_id']).toBe(contact.json['id']);
    const byId = await call('GET', `${BASE}/messages/${String(d.json['id'])}`);
    expect(byId.json).toMatchObject({ id: d.json['id'], messageId: wamid });
  });

  it('§5: a new number becomes a contact', async () => {
    expectSent(await send({ ...DOC.text, to: '919876500001' }), '919876500001');
    const c = await call('GET', `${BASE}/contact?action=FetchContact&mobile_number=919876500001`);
    expect(c.json).toMatchObject({ phone_number: '919876500001', opted_in: true, blocked: false });
  });
});

describe('blocked and opted-out contacts', () => {
  it('a blocked contact is never messaged; an opted-out one gets no marketing template but utility ones and replies', async () => {
    const c = await call('POST', `${BASE}/contact`, { name: 'Optout', mobile_number: '919876500002' });
    const id = String(c.json['id']);
    const to = { to: '919876500002' };
    const before = sim.requests.length;
    await call('PATCH', `${BASE}/contact/${id}`, { blocked: true });
    for (const body of [{ ...DOC.text, ...to }, { ...DOC.templateText, ...to }]) {
      const r = await call('POST', `${BASE}/messages`, body);
      expect(r.status).toBe(403);
      expect(r.json).toMatchObject({ status: 'error', code: 403, message: 'Forbidden', details: [{ field: 'to', message: 'blocked contact' }] });
    }
    await call('PATCH', `${BASE}/contact/${id}`, { blocked: false, opted_in: false });
    const marketing = await call('POST', `${BASE}/messages`, { ...DOC.templateText, ...to, template: { ...DOC.templateText.template, name: 'big_sale' } });
    expect(marketing.json).toMatchObject({ code: 403, details: [{ field: 'to', message: 'opted-out contact' }] });
    // A template this API does not know the category of counts as marketing.
    const unknown = await call('POST', `${BASE}/messages`, { ...DOC.templateText, ...to, template: { name: 'hello_world', language: { code: 'en_US' } } });
    expect(unknown.status).toBe(403);
    expect(sim.requests.slice(before).filter((x) => x.url === SEND_PATH)).toHaveLength(0);
    expectSent(await send({ ...DOC.templateText, ...to }), '919876500002');
    expectSent(await send({ ...DOC.text, ...to }), '919876500002');
  });
});

describe('§23 webhooks', () => {
  const hooks = (topic: string): Record<string, unknown>[] => rx.accepted().filter((h) => h.path === '/redington' && h.json['topic'] === topic).map((h) => h.json);
  const messageOf = (h: Record<string, unknown>): Record<string, unknown> => (h['data'] as { message: Record<string, unknown> }).message;

  it('message.status.updated: DELIVERED then READ for a template, in the document’s shape', async () => {
    const wamid = expectSent(await send({ ...DOC.templateText, to: '919876500003' }), '919876500003');
    const details = await call('GET', `${BASE}/messages/${encodeURIComponent(wamid)}`);
    const id = String(details.json['id']);
    const delivered = await until('DELIVERED hook', () => hooks('message.status.updated').find((h) => messageOf(h)['id'] === id && messageOf(h)['status'] === 'DELIVERED'));
    expect(delivered).toMatchObject({ topic: 'message.status.updated', project_id: PROJECT_ID, delivery_attempt: '1' });
    expect(typeof delivered['id']).toBe('string');
    expect(Number.isNaN(Date.parse(String(delivered['created_at'])))).toBe(false);
    expect(messageOf(delivered)).toMatchObject({
      type: 'message',
      project_id: PROJECT_ID,
      phone_number: '919876500003',
      sender: 'API',
      message_content: { text: '[template testmessage] Brindha', name: 'testmessage', isTemplate: true },
      message_type: 'TEXT',
      status: 'DELIVERED',
      is_HSM: true,
      failureResponse: null,
      countryCode: '91',
      message_price: 0.03,
    });
    expect(messageOf(delivered)['contact_id']).toMatch(/^[0-9a-f]{24}$/);
    const read = await until('READ hook', () => hooks('message.status.updated').find((h) => messageOf(h)['id'] === id && messageOf(h)['status'] === 'READ'));
    expect(typeof messageOf(read)['read_at']).toBe('number');
  });

  it('message.status.updated: FAILED with WhatsApp’s code and reason', async () => {
    // The simulator fails …9991 with 131026 (message undeliverable).
    const wamid = expectSent(await send({ ...DOC.text, to: '919876509991' }), '919876509991');
    const details = await call('GET', `${BASE}/messages/${encodeURIComponent(wamid)}`);
    const id = String(details.json['id']);
    const failed = await until('FAILED hook', () => hooks('message.status.updated').find((h) => messageOf(h)['id'] === id));
    expect(messageOf(failed)).toMatchObject({ status: 'FAILED', failureResponse: { code: '131026' } });
    expect((messageOf(failed)['failureResponse'] as { reason: string }).reason).not.toBe('');
    const after = await until('FAILED details', async () => {
      const r = await call('GET', `${BASE}/messages/${encodeURIComponent(wamid)}`);
      return r.json['status'] === 'FAILED' ? r : undefined;
    });
    expect(after.json['failureResponse']).toMatchObject({ code: '131026' });
  });

  it('message.sender.user: a user’s message to the project’s number', async () => {
    const cb = sim.incomingText(WA.phoneNumberId, '919876500004', 'Hey');
    if (!cb) throw new Error('no callback URL');
    expect(await sim.sendNow(cb)).toBe(200);
    const h = await until('MO hook', () => hooks('message.sender.user').find((x) => messageOf(x)['phone_number'] === '919876500004'));
    expect(h).toMatchObject({ topic: 'message.sender.user', project_id: PROJECT_ID, delivery_attempt: '1' });
    expect(messageOf(h)).toMatchObject({ type: 'message', project_id: PROJECT_ID, sender: 'USER', message_content: { text: 'Hey' }, message_type: 'TEXT', status: 'DELIVERED', is_HSM: false, countryCode: '91' });
  });
});

describe('§16-§22 API campaigns, on the campaign engine', () => {
  let campaignId = '';
  const hooks = (): Record<string, unknown>[] => rx.accepted().filter((h) => h.path === '/redington' && h.json['topic'] === 'message.status.updated').map((h) => (h.json['data'] as { message: Record<string, unknown> }).message);

  it('§16 creates the document’s campaign on an approved template, in its shape', async () => {
    const r = await call('POST', `${BASE}/campaign/api`, DOC.createCampaign);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ name: 'packagedeliverycampaign', type: 'API', project_id: PROJECT_ID, business_id: WABA, status: 'LIVE', message_type: 'TEMPLATE', message_payload: { template: { name: 'packagedelivered', status: 'APPROVED', total_parameters: 2 }, parameters: null, media: null } });
    campaignId = String(r.json['id']);
    expect(campaignId).toMatch(/^[0-9a-f]{24}$/);
    expect(errorOf(await call('POST', `${BASE}/campaign/api`, DOC.createCampaign))).toEqual({ code: 400, message: 'Bad Request', fields: ['campaign_name'] });
    expect(errorOf(await call('POST', `${BASE}/campaign/api`, { campaign_name: 'x', template_name: 'no_such_template' }))).toMatchObject({ code: 601, fields: ['template_name'] });
    expect(errorOf(await call('POST', `${BASE}/campaign/api`, { campaign_name: 'x', template_name: 'opens_with_param' }))).toMatchObject({ code: 601, fields: ['template_name'] });
  });

  it('§17 sends the document’s body to WhatsApp through the engine; the receipt comes back as a §23 webhook', async () => {
    const before = sim.requests.length;
    const r = await call('POST', `${BASE}/campaign/api/send`, DOC.sendCampaign);
    expect(r).toEqual({ status: 200, json: { status: 'success' } });
    const req = await until('campaign message at WhatsApp', () => sim.requests.slice(before).find((x) => x.url === SEND_PATH));
    expect(req.json).toMatchObject({
      to: '910000000000',
      type: 'template',
      template: { name: 'packagedelivered', language: { code: 'en_US' }, components: [{ type: 'body', parameters: [{ type: 'text', text: 'Brindha' }, { type: 'text', text: 'Mam' }] }] },
    });
    const hook = await until('campaign webhook', () => hooks().find((m) => m['campaign'] === campaignId && m['status'] === 'DELIVERED'));
    expect(hook).toMatchObject({ phone_number: '910000000000', userName: 'Brindhhaa', is_HSM: true, message_content: { name: 'packagedelivered', isTemplate: true } });
    // The person's contact took the name and attributes.
    const c = await call('GET', `${BASE}/contact?action=FetchContact&mobile_number=910000000000`);
    expect(c.json).toMatchObject({ name: 'Brindhhaa', attributes: { country: 'India', source: 'API' } });
  });

  it('§17 refuses what the campaign cannot send', async () => {
    const send = (over: Record<string, unknown>): Promise<Answer> => call('POST', `${BASE}/campaign/api/send`, { ...DOC.sendCampaign, ...over });
    expect(errorOf(await send({ campaign_name: 'nope' }))).toMatchObject({ code: 404, fields: ['campaign_name'] });
    expect(errorOf(await send({ template_params: ['only one'] }))).toMatchObject({ code: 601, fields: ['template_params'] });
    expect(errorOf(await send({ phone_number: '12' }))).toMatchObject({ code: 602, fields: ['phone_number'] });
    expect(errorOf(await send({ name: undefined }))).toMatchObject({ code: 601, fields: ['name'] });
    const optout = await call('POST', `${BASE}/contact`, { name: 'No', mobile_number: '919876500005' });
    await call('PATCH', `${BASE}/contact/${String(optout.json['id'])}`, { opted_in: false });
    expect(errorOf(await send({ phone_number: '919876500005' }))).toMatchObject({ code: 403, fields: ['phone_number'] });
  });

  it('§17 with media: an image template’s header is the media URL; the default country code completes a national number', async () => {
    const c = await call('POST', `${BASE}/campaign/api`, { campaign_name: 'imagecampaign', template_name: 'cetasimagetemplate' });
    expect(c.status).toBe(200);
    const base = { name: 'Img', campaign_name: 'imagecampaign', template_params: ['Suja'], default_country_code: '91' };
    expect(errorOf(await call('POST', `${BASE}/campaign/api/send`, { ...base, phone_number: '9876500006' }))).toMatchObject({ code: 601, fields: ['media'] });
    const before = sim.requests.length;
    const r = await call('POST', `${BASE}/campaign/api/send`, { ...base, phone_number: '9876500006', media: DOC.sendCampaign.media });
    expect(r.json).toEqual({ status: 'success' });
    const req = await until('image campaign message', () => sim.requests.slice(before).find((x) => x.url === SEND_PATH));
    expect(req.json).toMatchObject({ to: '919876500006', template: { name: 'cetasimagetemplate', components: [{ type: 'header', parameters: [{ type: 'image', image: { link: DOC.sendCampaign.media.url } }] }, { type: 'body' }] } });
  });

  it('§18, §19 and §22 list and describe campaigns with their audience', async () => {
    const one = await call('GET', `${BASE}/campaign/api/${campaignId}`);
    expect(one.json).toMatchObject({ id: campaignId, name: 'packagedeliverycampaign', audience_size: 1, submitted: 1 });
    const list = await call('GET', `${BASE}/campaign/api`);
    expect(list.json).toMatchObject({ size: 2, count: 2 });
    expect((list.json['campaign'] as { name: string }[]).map((x) => x.name)).toEqual(['packagedeliverycampaign', 'imagecampaign']);
    const got = await call('POST', `${BASE}/campaign/audience/${campaignId}`, DOC.getCampaigns);
    expect((got.json['campaigns'] as { id: string }[]).map((x) => x.id)).toContain(campaignId);
    expect((await call('GET', `${BASE}/campaign/api/66b48d4864d14f4260c3ca9c`)).status).toBe(404);
  });

  it('§20 analytics by day within the date range; §21 the audience with cursors and categories', async () => {
    const a = await until('delivered in analytics', async () => {
      const r = await call('POST', `${BASE}/campaign/analytics/${campaignId}`, {});
      const day = (r.json['chats'] as Record<string, unknown>[])[0];
      return day && day['deliveredChatcount'] === 1 ? r : undefined;
    });
    expect((a.json['chats'] as unknown[]).length).toBe(1);
    expect((a.json['chats'] as Record<string, unknown>[])[0]).toMatchObject({ assistantId: PROJECT_ID, campaignId, sentChatCount: 1, deliveredChatcount: 1, failedChatCount: 0, campaignMessages: { total: 1 } });
    const future = await call('POST', `${BASE}/campaign/analytics/${campaignId}`, { startDate: '2999-01-01T00:00:00Z' });
    expect(future.json).toEqual({ chats: [] });
    expect(errorOf(await call('POST', `${BASE}/campaign/analytics/${campaignId}`, { startDate: 'yesterday' }))).toMatchObject({ code: 601, fields: ['startDate'] });
    // deliveredAt is when the person's engine campaign completed, a moment after the delivery is counted.
    const aud = await until('audience deliveredAt', async () => {
      const r = await call('GET', `${BASE}/campaign/audience/${campaignId}`);
      return typeof (r.json['data'] as Record<string, unknown>[] | undefined)?.[0]?.['deliveredAt'] === 'string' ? r : undefined;
    });
    expect(aud.json).toMatchObject({ total: 1, data: [{ assistantId: PROJECT_ID, campaignId, userNumber: '910000000000', __v: 0, isoCode: 'IN', userName: 'Brindhhaa', readAt: null }] });
    const row = (aud.json['data'] as Record<string, unknown>[])[0] ?? {};
    expect(typeof row['deliveredAt']).toBe('string');
    const cursors = (aud.json['paging'] as { cursors: { after: string; before: string } }).cursors;
    expect(Buffer.from(cursors.after, 'base64').toString()).toBe(row['_id']);
    expect((await call('GET', `${BASE}/campaign/audience/${campaignId}?after=${encodeURIComponent(cursors.after)}`)).json['data']).toEqual([]);
    expect((await call('GET', `${BASE}/campaign/audience/${campaignId}?category=FAILED`)).json).toMatchObject({ total: 0, data: [] });
    expect((await call('GET', `${BASE}/campaign/audience/${campaignId}?category=DELIVERED&fields=userNumber`)).json['data']).toEqual([{ _id: row['_id'], userNumber: '910000000000' }]);
    expect(errorOf(await call('GET', `${BASE}/campaign/audience/${campaignId}?limit=101`))).toMatchObject({ code: 601, fields: ['limit'] });
  });
});
