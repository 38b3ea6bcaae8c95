/**
 * The OpenAPI document against the routes it describes and the error table it states: every
 * /api/v2 route of buildRoutes is documented (and authenticated ones say how), every ErrorCode is
 * in the Error schema and the code table with its real retryability, the contract's table agrees
 * with ours, and the document is valid OpenAPI 3.1 whose schemas are valid JSON Schema 2020-12.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { RETRIABLE, type ErrorCode } from '../../../src/core/errors.js';
import type { Route } from '../../../src/http-bridge/app.js';
import { ERROR_DOCS } from '../../../src/http-bridge/error-docs.js';
import { ErrorBodySchema, HTTP_STATUS, errorResponse, type HttpRequest } from '../../../src/http-bridge/http.js';
import { buildOpenApi, type OpenApiDocument } from '../../../src/http-bridge/openapi.js';
import { API_VERSION, buildRoutes, type RouteDeps } from '../../../src/http-bridge/routes.js';

/** Route handlers only touch their deps when called; building the list must not need them. */
const stubDeps = new Proxy({}, {
  get: (_target, prop) => () => {
    throw new Error(`stub deps: ${String(prop)} called`);
  },
}) as RouteDeps;

const routes: Route[] = buildRoutes(stubDeps);
const doc: OpenApiDocument = buildOpenApi(routes, { version: API_VERSION });
// ajv-formats is CommonJS with `exports.default`: under NodeNext its default import is the module object.
const addFormats = addFormatsModule.default;

function ajv2020(): Ajv2020 {
  const ajv = new Ajv2020({ strict: false });
  addFormats(ajv);
  return ajv;
}

const METHODS = ['get', 'post', 'put', 'delete', 'patch', 'head', 'options', 'trace'] as const;

interface Operation {
  readonly summary?: string;
  readonly security?: readonly Record<string, readonly string[]>[];
  readonly responses: Record<string, { readonly content?: Record<string, { readonly schema?: { readonly $ref?: string } }>; readonly headers?: Record<string, unknown> }>;
}

function operation(pattern: string, method: string): Operation | undefined {
  const item = doc.paths?.[pattern] as Record<string, Operation | undefined> | undefined;
  return item?.[method.toLowerCase()];
}

/** The codes of the contract's "Error Codes & Handling" table (000_efc21bb1ba94fac5.txt). SUCCESS names the 2xx answer. */
const CONTRACT_CODES: readonly ErrorCode[] = ['INVALID_DESTINATION', 'INSUFFICIENT_BALANCE', 'RATE_LIMIT_EXCEEDED', 'CHANNEL_UNAVAILABLE', 'INVALID_TEMPLATE', 'MEDIA_DOWNLOAD_FAILED', 'INVALID_API_KEY', 'NETWORK_ERROR', 'TIMEOUT'];
const SEED = '../shared/seeds/000_efc21bb1ba94fac5.txt';

describe('the OpenAPI document and the routes', () => {
  const api = routes.filter((r) => r.pattern.startsWith('/api/v2/'));

  it('has the routes of this build (sanity: the list is not empty and includes the document itself)', () => {
    expect(api.map((r) => `${r.method} ${r.pattern}`)).toEqual(expect.arrayContaining(['POST /api/v2/messages/sms', 'GET /api/v2/messages/sms/{messageId}/status', 'GET /api/v2/openapi.json']));
  });

  it.each(api.map((r) => [`${r.method} ${r.pattern}`, r] as const))('%s is documented, with a summary, and secured when authenticated', (_name, route) => {
    expect(route.docs, 'docs on the route').toBeDefined();
    expect(route.docs?.summary.trim()).not.toBe('');
    const op = operation(route.pattern, route.method);
    expect(op, 'in the document under its pattern and method').toBeDefined();
    expect(op?.summary).toBe(route.docs?.summary);
    if (route.auth) expect(op?.security).toEqual([{ bearerAuth: [] }, { apiKeyAuth: [] }]);
    else expect(op?.security).toBeUndefined();
  });

  it.each(api.map((r) => [`${r.method} ${r.pattern}`, r] as const))('%s answers every 4xx/5xx with the Error body, and Retry-After on 429/503/504', (_name, route) => {
    const op = operation(route.pattern, route.method);
    const statuses = Object.keys(op?.responses ?? {}).map(Number);
    expect(statuses.some((s) => s >= 200 && s < 300)).toBe(true);
    expect(statuses).toEqual(expect.arrayContaining([500, 503, ...(route.auth ? [401] : []), ...(route.docs?.body ? [400, 413, 415] : [])]));
    for (const s of statuses.filter((x) => x >= 400)) {
      const r = op?.responses[String(s)];
      expect(r?.content?.['application/json']?.schema?.$ref, `${s}`).toBe('#/components/schemas/Error');
      if (s === 429 || s === 503 || s === 504) expect(r?.headers?.['Retry-After'], `${s} Retry-After`).toBeDefined();
    }
  });

  it('has nothing the route list does not have', () => {
    const declared = new Set(routes.filter((r) => r.docs).map((r) => `${r.method.toLowerCase()} ${r.pattern}`));
    for (const [path, item] of Object.entries(doc.paths ?? {})) {
      for (const m of METHODS) if ((item as Record<string, unknown>)[m] !== undefined) expect(declared.has(`${m} ${path}`), `${m} ${path}`).toBe(true);
    }
  });

  it('serves itself: the route returns the same document, itself included', async () => {
    const route = routes.find((r) => r.pattern === '/api/v2/openapi.json' && r.method === 'GET');
    expect(route?.auth).toBe(false);
    const req: HttpRequest = { method: 'GET', path: '/api/v2/openapi.json', headers: {}, params: {}, query: '', body: Buffer.alloc(0) };
    const res = await route!.handle(req, undefined);
    expect(res.status).toBe(200);
    expect(res.headers?.['content-type']).toBe('application/json');
    const served = JSON.parse(String(res.body)) as OpenApiDocument;
    expect(served).toEqual(JSON.parse(JSON.stringify(doc)));
    expect(served.paths?.['/api/v2/openapi.json']).toBeDefined();
  });

  it('refuses a route declared twice, and leaves out routes without docs', () => {
    const a = routes[0]!;
    expect(() => buildOpenApi([a, a], { version: '1' })).toThrow(/declared twice/);
    const bare: Route = { method: 'GET', pattern: '/x', auth: false, handle: () => ({ status: 204, body: '' }) };
    expect(buildOpenApi([bare], { version: '1' }).paths?.['/x']).toBeUndefined();
  });
});

describe('error codes and their documentation stay in sync', () => {
  const all = Object.keys(RETRIABLE) as ErrorCode[];
  const errorSchema = doc.components?.schemas?.['Error'] as { properties: { error: { properties: { code: { enum: string[] } } } }; description: string };
  const table = doc.info['x-error-codes'];

  it('every ErrorCode is in the Error schema enum, the x-error-codes table and the description', () => {
    expect([...errorSchema.properties.error.properties.code.enum].sort()).toEqual([...all].sort());
    expect(table.map((r) => r.code).sort()).toEqual([...all].sort());
    for (const code of all) expect(errorSchema.description).toContain(`\`${code}\``);
  });

  it('each row states the real HTTP status and retryability, and a description', () => {
    for (const row of table) {
      expect(row.retryable, row.code).toBe(RETRIABLE[row.code]);
      expect(row.httpStatus, row.code).toBe(HTTP_STATUS[row.code]);
      expect(row.description.length, row.code).toBeGreaterThan(10);
      expect(row.action.length, row.code).toBeGreaterThan(5);
    }
  });

  it('every code of the contract table is there, marked as the contract’s', () => {
    for (const code of CONTRACT_CODES) expect(ERROR_DOCS[code].contract, code).toBe(true);
    expect(all.filter((c) => ERROR_DOCS[c].contract).sort()).toEqual([...CONTRACT_CODES].sort());
  });

  it.skipIf(!existsSync(SEED))('agrees with the contract text itself: codes, descriptions, actions, retryability', () => {
    const text = readFileSync(SEED, 'utf8');
    const section = text.slice(text.indexOf('Error Codes & Handling'), text.indexOf('Best Practices'));
    const rows = section
      .split('\n')
      .map((l) => l.split('\t').map((c) => c.trim()))
      .filter((c) => c.length === 4 && c[0] !== 'Code' && c[0] !== 'SUCCESS');
    expect(rows.map((r) => r[0]).sort()).toEqual([...CONTRACT_CODES].sort());
    for (const [code, description, retryable, action] of rows) {
      const c = code as ErrorCode;
      expect(ERROR_DOCS[c].description, c).toBe(description);
      expect(ERROR_DOCS[c].action, c).toBe(action);
      expect(RETRIABLE[c] ? 'Yes' : 'No', c).toBe(retryable);
    }
  });

  it('errorResponse writes what the Error schema says, for every code', () => {
    const ajv = ajv2020();
    const validate = ajv.compile(doc.components?.schemas?.['Error'] as object);
    for (const code of all) {
      for (const body of [errorResponse(code, 'm').body, errorResponse(code, 'm', { details: [{ field: 'to', message: 'bad' }], retryAfter: 1 }).body]) {
        expect(ErrorBodySchema.safeParse(body).success, code).toBe(true);
        expect(validate(body), `${code}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      }
    }
  });
});

describe('the document is valid OpenAPI 3.1', () => {
  it('passes the OpenAPI 3.1 schema', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const v = new Validator();
    const r = await v.validate(JSON.parse(JSON.stringify(doc)) as Record<string, unknown>);
    expect(r.errors ?? []).toEqual([]);
    expect(r.valid).toBe(true);
    expect(v.version).toBe('3.1');
  });

  it('has its security schemes and a server', () => {
    expect(doc.components?.securitySchemes).toEqual({
      bearerAuth: expect.objectContaining({ type: 'http', scheme: 'bearer' }) as unknown,
      apiKeyAuth: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-API-Key' }) as unknown,
    });
    expect(doc.servers?.[0]?.url).toBe('/');
    expect(buildOpenApi(routes, { version: '2.0.0', serverUrl: 'https://api.example.com' }).servers).toEqual([{ url: 'https://api.example.com' }]);
  });

  it('every schema in it compiles as JSON Schema 2020-12', () => {
    const ajv = ajv2020();
    ajv.addSchema({ $id: 'doc', components: doc.components });
    const schemas: unknown[] = [];
    const walk = (v: unknown, key: string): void => {
      if (Array.isArray(v)) v.forEach((x) => { walk(x, ''); });
      else if (typeof v === 'object' && v !== null) {
        if (key === 'schema') schemas.push(v);
        for (const [k, x] of Object.entries(v)) walk(x, k);
      }
    };
    walk(doc.paths, '');
    expect(schemas.length).toBeGreaterThan(10);
    for (const s of schemas) {
      const rebased = JSON.parse(JSON.stringify(s).replaceAll('"#/components/', '"doc#/components/')) as object;
      expect(() => ajv.compile(rebased)).not.toThrow();
    }
  });
});
