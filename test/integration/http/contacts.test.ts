/**
 * /api/v2/contacts against a running appliance and real Redis: create, the indexes (a phone or a
 * channel id owned by one contact only), find by phone, patch merging, paging, delete, another
 * account's contacts unseen, and contacts seeded from the config.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../src/appliance.js';
import type { SmscSimulator } from '../../../src/sim/index.js';
import { E2E_ACCOUNT, dropDatabase, e2eConfig, startAppliance, startSim } from '../../helpers/appliance.js';

const OTHER = { id: 'other', apiKey: 'sk_test_other_0123456789' };
let sim: SmscSimulator;
let app: Appliance;
let base = '';
let database = '';

beforeAll(async () => {
  const s = await startSim();
  sim = s.sim;
  const raw = await e2eConfig(s.port, { contacts: [{ account: E2E_ACCOUNT.id, id: 'seeded', phone: '14155550100', channels: { telegram: '777001' } }] });
  (raw['accounts'] as Record<string, unknown>[]).push({ id: OTHER.id, apiKeys: [OTHER.apiKey], balance: 10, tps: 100 });
  const started = await startAppliance(raw);
  app = started.app;
  database = started.config.clickhouse.database;
  base = `http://127.0.0.1:${started.httpPort}`;
});

afterAll(async () => {
  await app.close();
  await sim.close();
  await dropDatabase(database);
});

function call(method: string, path: string, body?: unknown, key = E2E_ACCOUNT.apiKey): Promise<Response> {
  return fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
}
interface ContactBody {
  id: string;
  name: string | null;
  phone: string | null;
  channels: Record<string, string>;
  attributes: Record<string, string>;
  optedIn: boolean;
  blocked: boolean;
}
const body = async <T = ContactBody>(r: Response): Promise<T> => (await r.json()) as T;

describe('contacts', () => {
  it('has the contacts the config seeds', async () => {
    const r = await call('GET', '/api/v2/contacts?phone=%2B14155550100');
    expect(r.status).toBe(200);
    const b = await body<{ contacts: ContactBody[] }>(r);
    expect(b.contacts.map((c) => [c.id, c.channels['telegram']])).toEqual([['seeded', '777001']]);
  });

  it('creates a contact, normalising its phones, and finds it by phone', async () => {
    const r = await call('POST', '/api/v2/contacts', { id: 'c1', name: 'Ada', phone: '+1 (415) 555-0101', channels: { viber: 'vb-1', whatsapp: '+14155550199' }, attributes: { tier: 'gold' } });
    expect(r.status).toBe(201);
    const c = await body(r);
    expect(c).toMatchObject({ id: 'c1', name: 'Ada', phone: '+14155550101', channels: { viber: 'vb-1', whatsapp: '14155550199' }, attributes: { tier: 'gold' }, optedIn: true, blocked: false });
    const found = await body<{ contacts: ContactBody[] }>(await call('GET', '/api/v2/contacts?phone=14155550101'));
    expect(found.contacts[0]?.id).toBe('c1');
  });

  it('refuses an id in use, and a phone or channel id that belongs to another contact, naming the field', async () => {
    expect((await call('POST', '/api/v2/contacts', { id: 'c1' })).status).toBe(409);
    const phone = await call('POST', '/api/v2/contacts', { id: 'c2', phone: '+14155550101' });
    expect(phone.status).toBe(409);
    expect(await body<{ error: { code: string; details: { field: string }[] } }>(phone)).toMatchObject({ error: { code: 'CONFLICT', details: [{ field: 'phone' }] } });
    const viber = await call('POST', '/api/v2/contacts', { id: 'c2', channels: { viber: 'vb-1' } });
    expect(await body<{ error: { details: { field: string }[] } }>(viber)).toMatchObject({ error: { details: [{ field: 'channels.viber' }] } });
    // Nothing of the refused writes stayed.
    expect((await call('GET', '/api/v2/contacts/c2')).status).toBe(404);
  });

  it('answers 400 naming the field for a bad phone, channel or time zone', async () => {
    const r = await call('POST', '/api/v2/contacts', { phone: '12', channels: { sms: 'x' }, timeZone: 'Mars/Olympus' });
    expect(r.status).toBe(400);
    const b = await body<{ error: { code: string; details: { field: string }[] } }>(r);
    expect(b.error.code).toBe('VALIDATION_ERROR');
    expect(b.error.details.map((d) => d.field).sort()).toEqual(['channels', 'timeZone']);
  });

  it('patches: channels and attributes merge, null removes, and released ids are free again', async () => {
    const r = await call('PATCH', '/api/v2/contacts/c1', { channels: { viber: null, telegram: 'tg-9' }, attributes: { tier: null, city: 'Lagos' }, blocked: true });
    expect(r.status).toBe(200);
    expect(await body(r)).toMatchObject({ channels: { whatsapp: '14155550199', telegram: 'tg-9' }, attributes: { city: 'Lagos' }, blocked: true });
    const c = await body(await call('GET', '/api/v2/contacts/c1'));
    expect(c.channels['viber']).toBeUndefined();
    expect((await call('POST', '/api/v2/contacts', { id: 'c3', channels: { viber: 'vb-1' } })).status).toBe(201);
  });

  it('pages oldest first with after', async () => {
    for (let i = 0; i < 5; i++) expect((await call('POST', '/api/v2/contacts', { id: `p${i}` })).status).toBe(201);
    const ids: string[] = [];
    let after: string | null = null;
    do {
      const page: { contacts: ContactBody[]; next: string | null } = await body(await call('GET', `/api/v2/contacts?limit=3${after !== null ? `&after=${after}` : ''}`));
      ids.push(...page.contacts.map((c) => c.id));
      after = page.next;
    } while (after !== null);
    expect(ids).toEqual(['seeded', 'c1', 'c3', 'p0', 'p1', 'p2', 'p3', 'p4']);
  });

  it('keeps each account to its own contacts', async () => {
    expect((await call('GET', '/api/v2/contacts/c1', undefined, OTHER.apiKey)).status).toBe(404);
    // The same phone is free in another account.
    expect((await call('POST', '/api/v2/contacts', { id: 'c1', phone: '+14155550101' }, OTHER.apiKey)).status).toBe(201);
  });

  it('deletes, releasing the phone', async () => {
    expect((await call('DELETE', '/api/v2/contacts/c1')).status).toBe(204);
    expect((await call('DELETE', '/api/v2/contacts/c1')).status).toBe(404);
    expect((await call('POST', '/api/v2/contacts', { id: 'c9', phone: '+14155550101' })).status).toBe(201);
  });
});
