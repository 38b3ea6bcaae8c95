/**
 * GET /api/v2/openapi.json on a running appliance: served without auth, valid OpenAPI 3.1, and
 * what the real endpoints answer (a send, its status, an error) matches the schemas it states.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Appliance } from '../../../src/appliance.js';
import type { OpenApiDocument } from '../../../src/http-bridge/openapi.js';
import type { SmscSimulator } from '../../../src/sim/index.js';
import { E2E_ACCOUNT, dropDatabase, e2eConfig, startAppliance, startSim } from '../../helpers/appliance.js';

const addFormats = addFormatsModule.default;
let sim: SmscSimulator;
let app: Appliance;
let base = '';
let database = '';

beforeAll(async () => {
  const s = await startSim();
  sim = s.sim;
  const started = await startAppliance(await e2eConfig(s.port));
  app = started.app;
  database = started.config.clickhouse.database;
  base = `http://127.0.0.1:${started.httpPort}`;
});

afterAll(async () => {
  await app.close();
  await sim.close();
  await dropDatabase(database);
});

/** A validator for one response schema of the served document, its $refs resolved within it. */
function responseValidator(doc: OpenApiDocument, path: string, method: string, status: number): (body: unknown) => string | undefined {
  const ajv = new Ajv2020({ strict: false });
  addFormats(ajv);
  ajv.addSchema({ $id: 'doc', components: doc.components });
  const op = (doc.paths?.[path] as Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }> | undefined)?.[method];
  const schema = op?.responses[String(status)]?.content?.['application/json']?.schema;
  if (schema === undefined) throw new Error(`no schema for ${method} ${path} ${status}`);
  const validate = ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')) as object);
  return (body) => (validate(body) ? undefined : ajv.errorsText(validate.errors));
}

describe('GET /api/v2/openapi.json', () => {
  it('serves a valid OpenAPI 3.1 document without auth, and the real answers match it', async () => {
    const res = await fetch(`${base}/api/v2/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const doc = (await res.json()) as OpenApiDocument;
    expect(doc.openapi).toBe('3.1.0');
    const v = new Validator();
    expect((await v.validate(doc as unknown as Record<string, unknown>)).valid).toBe(true);
    expect(Object.keys(doc.paths ?? {})).toEqual(expect.arrayContaining(['/api/v2/messages/sms', '/api/v2/messages/sms/{messageId}/status', '/api/v2/openapi.json']));

    const sent = await fetch(`${base}/api/v2/messages/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${E2E_ACCOUNT.apiKey}` },
      body: JSON.stringify({ to: '+14155550100', from: 'ACME', message: { body: 'OpenAPI check' } }),
    });
    expect(sent.status).toBe(202);
    const sentBody = (await sent.json()) as { message_id: string };
    expect(responseValidator(doc, '/api/v2/messages/sms', 'post', 202)(sentBody)).toBeUndefined();

    const status = await fetch(`${base}/api/v2/messages/sms/${sentBody.message_id}/status`, { headers: { 'x-api-key': E2E_ACCOUNT.apiKey } });
    expect(status.status).toBe(200);
    expect(responseValidator(doc, '/api/v2/messages/sms/{messageId}/status', 'get', 200)(await status.json())).toBeUndefined();

    const invalid = await fetch(`${base}/api/v2/messages/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${E2E_ACCOUNT.apiKey}` },
      body: JSON.stringify({ to: 'nope', message: {} }),
    });
    expect(invalid.status).toBe(400);
    expect(responseValidator(doc, '/api/v2/messages/sms', 'post', 400)(await invalid.json())).toBeUndefined();

    const unauth = await fetch(`${base}/api/v2/messages/sms/x/status`);
    expect(unauth.status).toBe(401);
    expect(responseValidator(doc, '/api/v2/messages/sms/{messageId}/status', 'get', 401)(await unauth.json())).toBeUndefined();
  });
});
