/**
 * The OpenAPI 3.1 document of the HTTP API (https://spec.openapis.org/oas/v3.1.0), generated from
 * the route list: each route's `docs` carry the zod schemas its handler validates with, so the
 * document cannot say one thing while the handler enforces another. zod → JSON Schema is done by
 * @asteasolutions/zod-to-openapi (its 3.1 generator emits JSON Schema 2020-12: `type: [.., "null"]`,
 * numeric `exclusiveMinimum`).
 *
 * What app.ts does for every route is added here rather than repeated in each route's docs:
 * 401 on an authenticated route, 400/413/415 on a route with a JSON body, 500 and 503 on all.
 * Every 4xx/5xx of an /api/v2 route is the one `Error` body; 429, 503 and 504 carry `Retry-After`.
 */
import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31, type ResponseConfig, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z, type AnyZodObject, type ZodTypeAny } from 'zod';
import type { Route } from './app.js';
import { errorCodeTable, type ErrorCodeRow } from './error-docs.js';
import { ErrorBodySchema, json, type RouteDocs } from './http.js';

// The generator needs `.openapi()` on zod's prototype; idempotent, and it changes no parsing.
extendZodWithOpenApi(z);

type GeneratedDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

export interface OpenApiDocument extends GeneratedDocument {
  readonly openapi: '3.1.0';
  readonly jsonSchemaDialect: string;
  readonly info: GeneratedDocument['info'] & { readonly 'x-error-codes': readonly ErrorCodeRow[] };
}

export interface OpenApiInfo {
  readonly version: string;
  /** Where the API is served; defaults to the origin the document was fetched from. */
  readonly serverUrl?: string;
}

/** OAS 3.1 §4.8.1: the default dialect, JSON Schema 2020-12 with the OAS vocabulary; stated outright. */
const OAS_DIALECT = 'https://spec.openapis.org/oas/3.1/dialect/base';
export const SECURITY_SCHEMES = { bearerAuth: 'bearerAuth', apiKeyAuth: 'apiKeyAuth' } as const;
const METHODS = ['get', 'post', 'put', 'delete', 'patch', 'head', 'options', 'trace'] as const;
type Method = (typeof METHODS)[number];

const TAGS: Readonly<Record<string, string>> = {
  sms: 'SMS over the Catalyst v2 API',
  ops: 'Health and metrics for operators (outside the /api/v2 contract)',
  meta: 'This document',
};

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' as const, minimum: 1 } },
};

/** The statuses errorResponse is given a retryAfter for (rate limits, unavailability, TIMEOUT). */
const RETRY_AFTER_STATUSES: ReadonlySet<number> = new Set([429, 503, 504]);

function isMethod(m: string): m is Method {
  return (METHODS as readonly string[]).includes(m);
}

function isZodObject(s: ZodTypeAny): s is AnyZodObject {
  return s instanceof z.ZodObject;
}

/** `POST /api/v2/messages/{messageId}` → `postApiV2MessagesMessageId`: stable, unique per method and path. */
export function operationId(method: string, pattern: string): string {
  const words = pattern.split(/[^A-Za-z0-9]+/).filter((w) => w !== '');
  return method.toLowerCase() + words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}

function pathParams(pattern: string): AnyZodObject | undefined {
  const names = [...pattern.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
  if (names.length === 0) return undefined;
  return z.object(Object.fromEntries(names.map((n) => [n, z.string().min(1)])));
}

function headerParams(docs: RouteDocs): AnyZodObject | undefined {
  if (!docs.headers || docs.headers.length === 0) return undefined;
  return z.object(Object.fromEntries(docs.headers.map((h) => [h.name, h.required === true ? z.string().describe(h.description) : z.string().optional().describe(h.description)])));
}

function errorResponse(description: string, status: number, errorSchema: ZodTypeAny): ResponseConfig {
  return {
    description,
    content: { 'application/json': { schema: errorSchema } },
    ...(RETRY_AFTER_STATUSES.has(status) ? { headers: RETRY_AFTER } : {}),
  };
}

function responsesOf(route: Route, docs: RouteDocs, errorSchema: ZodTypeAny): Record<string, ResponseConfig> {
  const out: Record<string, ResponseConfig> = {};
  for (const [key, r] of Object.entries(docs.responses)) {
    const status = Number(key);
    if (status >= 400 && r.schema === undefined) {
      out[key] = errorResponse(r.description, status, errorSchema);
    } else {
      out[key] = {
        description: r.description,
        ...(r.schema !== undefined ? { content: { [r.contentType ?? 'application/json']: { schema: r.schema } } } : {}),
        ...(RETRY_AFTER_STATUSES.has(status) ? { headers: RETRY_AFTER } : {}),
      };
    }
  }
  // What app.ts answers for any route, unless the route's docs already say more.
  const implied: [number, string][] = [];
  if (route.auth) implied.push([401, '`INVALID_API_KEY`: no API key, or not a valid one']);
  if (docs.body !== undefined) {
    implied.push([400, '`VALIDATION_ERROR`: the body is not valid JSON or a field is invalid (`details` says which)']);
    implied.push([413, '`VALIDATION_ERROR`: the body is over the size limit']);
    implied.push([415, '`VALIDATION_ERROR`: Content-Type is not application/json']);
  }
  implied.push([500, '`INTERNAL`: an unexpected failure']);
  implied.push([503, '`SHUTTING_DOWN`: this instance takes no new requests; retry after `Retry-After`']);
  for (const [status, description] of implied) out[String(status)] ??= errorResponse(description, status, errorSchema);
  return out;
}

function describeErrors(rows: readonly ErrorCodeRow[]): string {
  const lines = rows.map((r) => `| \`${r.code}\` | ${r.httpStatus} | ${r.retryable ? 'yes' : 'no'} | ${r.description} | ${r.action} |`);
  return [
    'Every error is answered with this body. `code` is stable; `retryable` says whether the same request may succeed later.',
    '',
    '| code | HTTP | retryable | description | action |',
    '|---|---|---|---|---|',
    ...lines,
  ].join('\n');
}

/** The document for these routes. Routes without `docs` are left out (a test keeps /api/v2 ones documented). */
export function buildOpenApi(routes: readonly Route[], info: OpenApiInfo): OpenApiDocument {
  const registry = new OpenAPIRegistry();
  const codes = errorCodeTable();
  const errorSchema = registry.register('Error', ErrorBodySchema.describe(describeErrors(codes)));
  registry.registerComponent('securitySchemes', SECURITY_SCHEMES.bearerAuth, { type: 'http', scheme: 'bearer', description: '`Authorization: Bearer <API key>`' });
  registry.registerComponent('securitySchemes', SECURITY_SCHEMES.apiKeyAuth, { type: 'apiKey', in: 'header', name: 'X-API-Key', description: '`X-API-Key: <API key>`' });

  const seen = new Set<string>();
  const tags = new Set<string>();
  for (const route of routes) {
    const docs = route.docs;
    if (!docs) continue;
    const method = route.method.toLowerCase();
    if (!isMethod(method)) throw new Error(`OpenAPI: ${route.method} ${route.pattern}: not an HTTP method`);
    const key = `${method} ${route.pattern}`;
    if (seen.has(key)) throw new Error(`OpenAPI: ${route.method} ${route.pattern} is declared twice`);
    seen.add(key);
    if (docs.query !== undefined && !isZodObject(docs.query)) throw new Error(`OpenAPI: ${key}: docs.query must be a zod object`);
    for (const t of docs.tags) tags.add(t);
    const params = pathParams(route.pattern);
    const headers = headerParams(docs);
    const config: RouteConfig = {
      method,
      path: route.pattern,
      operationId: operationId(method, route.pattern),
      summary: docs.summary,
      ...(docs.description !== undefined ? { description: docs.description } : {}),
      tags: [...docs.tags],
      ...(route.auth ? { security: [{ [SECURITY_SCHEMES.bearerAuth]: [] }, { [SECURITY_SCHEMES.apiKeyAuth]: [] }] } : {}),
      request: {
        ...(params ? { params } : {}),
        ...(docs.query !== undefined ? { query: docs.query } : {}),
        ...(headers ? { headers } : {}),
        ...(docs.body !== undefined ? { body: { required: true, content: { 'application/json': { schema: docs.body } } } } : {}),
      },
      responses: responsesOf(route, docs, errorSchema),
    };
    registry.registerPath(config);
  }

  const generated = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Catalyst HTTP API',
      version: info.version,
      description:
        'The Catalyst v2 messaging API. Authenticate with `Authorization: Bearer <API key>` or `X-API-Key: <API key>`. ' +
        'Errors share one body (`Error`); `x-error-codes` lists every code with its HTTP status and whether it is retryable.',
      'x-error-codes': codes,
    },
    servers: [{ url: info.serverUrl ?? '/' }],
    tags: [...tags].sort().map((name) => ({ name, ...(TAGS[name] !== undefined ? { description: TAGS[name] } : {}) })),
  });
  return { ...generated, openapi: '3.1.0', jsonSchemaDialect: OAS_DIALECT, info: { ...generated.info, 'x-error-codes': codes } };
}

export const openApiDocs: RouteDocs = {
  summary: 'This OpenAPI 3.1 document',
  tags: ['meta'],
  responses: { 200: { description: 'The OpenAPI document of every route this gateway serves', schema: z.object({ openapi: z.literal('3.1.0') }).passthrough() } },
};

/**
 * `GET /api/v2/openapi.json`, unauthenticated. `routes` is the live route list: the document is
 * built on the first request, once the list is complete (this route included), and kept.
 */
export function openApiRoute(routes: readonly Route[], info: OpenApiInfo): Route {
  let body: string | undefined;
  return {
    method: 'GET',
    pattern: '/api/v2/openapi.json',
    auth: false,
    docs: openApiDocs,
    handle: () => {
      body ??= JSON.stringify(buildOpenApi(routes, info));
      return json(200, body, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' });
    },
  };
}
