/**
 * The SMSBAT Cascade API (004_c2de673666e3c7d4.txt, "Send Cascade Messages"):
 *   POST /api/CascadeMessage/send_message/async          Telegram → Viber → Viber Business → RCS → SMS
 *   POST /api/CascadeMessage/send_message/tg-viber/async Telegram → Viber
 * Auth by its own headers (auth.ts), an array of messages checked all or nothing (request.ts),
 * each turned into its cascade's steps (cascade.ts) and started on the orchestration engine; the
 * answer is one `{ messageId, trackinId }` per message, in order. Only translation lives here.
 */
import { z } from 'zod';
import type { AccountConfig, ChannelsConfig } from '../../core/config.js';
import type { OrchestrationPlan, Orchestrator } from '../../router/orchestrator.js';
import type { Route } from '../app.js';
import { json, type HttpRequest, type HttpResponse, type RouteDocs } from '../http.js';
import { withTimeout } from '../catalyst-v2/sms.js';
import { SmsbatAuth } from './auth.js';
import { cascadePlan, cascadeSteps, type CascadePath, type HeaderBots } from './cascade.js';
import { SMSBAT_ERRORS, smsbatError, type SmsbatError } from './errors.js';
import { idToUuid } from './message-id.js';
import { SmsbatRequestSchema, parseBatch } from './request.js';

export interface SmsbatDeps {
  readonly accounts: readonly AccountConfig[];
  readonly channelsConfig?: ChannelsConfig;
  /** The orchestration engine (router/orchestrator.ts), shared with POST /api/v2/messages/orchestrate; absent: sends answer 500. */
  readonly orchestrator?: Orchestrator | undefined;
  /** Past this the client hears 500 (http.requestTimeoutMs). */
  readonly requestTimeoutMs: number;
}

/** One message's cascade started (the chain's id), or why not. */
type Started = { readonly ok: true; readonly id: string } | { readonly ok: false; readonly error: SmsbatError; readonly retryAfter?: number };

export const PATHS: Readonly<Record<CascadePath, string>> = {
  all: '/api/CascadeMessage/send_message/async',
  'tg-viber': '/api/CascadeMessage/send_message/tg-viber/async',
};

const SmsbatErrorSchema = z.strictObject({
  error: z.strictObject({
    code: z.enum(Object.keys(SMSBAT_ERRORS) as [keyof typeof SMSBAT_ERRORS, ...(keyof typeof SMSBAT_ERRORS)[]]),
    message: z.string(),
    field: z.string().optional().describe('The parameter at fault, when one is'),
  }),
});

const AnswerSchema = z.array(
  z.strictObject({
    messageId: z.string().uuid().nullable().describe('System message identifier (the cascade’s); null when this message was refused'),
    trackinId: z.string().describe('Your tracking identifier (from request), the document’s spelling'),
    error: SmsbatErrorSchema.shape.error.optional().describe('Only when some messages of the request were refused and others started'),
  }),
);

function docs(path: CascadePath): RouteDocs {
  const order = path === 'all' ? 'Telegram → Viber → Viber Business → RCS → SMS' : 'Telegram → Viber';
  return {
    summary: path === 'all' ? 'SMSBAT: send cascade messages' : 'SMSBAT: send cascade messages, Telegram and Viber only',
    description:
      `SMSBAT-compatible (seed 004). Each message cascades ${order} through the orchestration engine until one step delivers or \`ttl\` runs out; ` +
      'a step the account has no sender for under `fromName`, or the recipient no address on, is skipped. Authenticate with `X-Authorization-Key` ' +
      '(accounts[].smsbat.apiKeys), or `X-Viber-Auth-Token` / `X-Tg-Bot-Key` (a bot token of the account, which then sends that step). ' +
      'The request is all or nothing: a 400 sent nothing. Errors use SMSBAT’s body `{"error":{"code","message","field"}}`.',
    tags: ['smsbat'],
    body: SmsbatRequestSchema,
    headers: [
      { name: 'X-Authorization-Key', description: 'SMSBAT API key (recommended)' },
      { name: 'X-Viber-Auth-Token', description: 'Viber bot credentials: the auth token of one of the account’s Viber bots' },
      { name: 'X-Tg-Bot-Key', description: 'Telegram bot key: the token of one of the account’s Telegram bots' },
    ],
    responses: {
      200: { description: 'One entry per message, in the request’s order', schema: AnswerSchema },
      400: { description: '`INVALID_PHONE`, `INVALID_PARAMETER`, `INVALID_REQUEST`, `INVALID_SENDER`, `UNSUPPORTED_MESSAGE_TYPE` (flashcall); nothing was sent', schema: SmsbatErrorSchema },
      401: { description: '`UNAUTHORIZED`: no auth header, or one that names no account (or not the same one)', schema: SmsbatErrorSchema },
      500: { description: '`SERVER_ERROR`: the message store is unavailable (nothing was sent), or it did not answer within http.requestTimeoutMs (some messages may have started); retry after `Retry-After`', schema: SmsbatErrorSchema },
    },
  };
}

function parseBody(req: HttpRequest): { ok: true; value: unknown } | { ok: false; error: SmsbatError } {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return { ok: false, error: { code: 'INVALID_REQUEST', message: 'Content-Type must be application/json' } };
  try {
    return { ok: true, value: JSON.parse(req.body.toString('utf8')) as unknown };
  } catch {
    return { ok: false, error: { code: 'INVALID_REQUEST', message: 'The body is not valid JSON' } };
  }
}

/** Which message of several a problem is in, for the message (the document's body has no place for it). */
function at(error: SmsbatError, index: number | undefined, total: number): SmsbatError {
  return index === undefined || total === 1 ? error : { ...error, message: `${error.message} (message ${index + 1} of ${total})` };
}

export async function sendCascade(req: HttpRequest, path: CascadePath, auth: SmsbatAuth, deps: SmsbatDeps): Promise<HttpResponse> {
  const who = auth.authenticate(req);
  if (!who) {
    const none = ['x-authorization-key', 'x-viber-auth-token', 'x-tg-bot-key'].every((h) => (req.headers[h] ?? '').trim() === '');
    return smsbatError({ code: 'UNAUTHORIZED', message: none ? 'Missing API key: send X-Authorization-Key, X-Viber-Auth-Token or X-Tg-Bot-Key' : 'Invalid API key' });
  }
  const body = parseBody(req);
  if (!body.ok) return smsbatError(body.error);
  const now = Date.now();
  const batch = parseBatch(body.value, now);
  const total = Array.isArray(body.value) ? body.value.length : 0;
  if (!batch.ok) return smsbatError(at(batch.error, batch.index, total));
  const plans: { trackinId: string; plan: OrchestrationPlan }[] = [];
  for (const [index, r] of batch.value.entries()) {
    const steps = cascadeSteps(r, who.account, path, who.bots satisfies HeaderBots);
    if (!steps.ok) return smsbatError(at(steps.error, index, total));
    plans.push({ trackinId: r.trackinId, plan: cascadePlan(who.account.id, r, steps.steps) });
  }
  const engine = deps.orchestrator;
  if (!engine) return smsbatError({ code: 'SERVER_ERROR', message: 'The cascade engine is not running on this gateway' }, 60);
  // One Redis script per chain; ioredis pipelines the concurrent calls.
  const started = await withTimeout(Promise.all(plans.map((p) => begin(engine, p.plan))), deps.requestTimeoutMs);
  if (started === 'timeout') return smsbatError({ code: 'SERVER_ERROR', message: 'The gateway did not answer in time; some messages may have been started' }, 1);
  const refused = started.filter((s): s is Extract<Started, { ok: false }> => !s.ok);
  // All refused: the request failed as a whole, with the first reason's status.
  const first = refused[0];
  if (first && refused.length === started.length) return smsbatError(first.error, first.retryAfter);
  return json(
    200,
    started.map((s, i) => {
      const trackinId = plans[i]?.trackinId ?? '';
      return s.ok ? { messageId: idToUuid(s.id) ?? s.id, trackinId } : { messageId: null, trackinId, error: s.error };
    }),
  );
}

/** The engine's fields, as this API names them. */
const PLAN_FIELD: Readonly<Record<string, string>> = { to: 'toPhone', deadline: 'ttl', startAt: 'scheduledSent', steps: 'fromName' };

async function begin(engine: Pick<Orchestrator, 'begin'>, plan: OrchestrationPlan): Promise<Started> {
  try {
    const r = await engine.begin(plan);
    if (r.kind === 'started') return { ok: true, id: r.id };
    if (r.kind === 'invalid') return { ok: false, error: { code: 'INVALID_PARAMETER', message: r.message, field: PLAN_FIELD[r.field] ?? r.field } };
    return { ok: false, error: { code: 'SERVER_ERROR', message: 'The message was already started' } };
  } catch {
    return { ok: false, error: { code: 'SERVER_ERROR', message: 'The message store is unavailable; nothing was sent' }, retryAfter: 1 };
  }
}

export function smsbatRoutes(deps: SmsbatDeps): Route[] {
  // Built on the first request: the route list is also built without deps (the OpenAPI test).
  let auth: SmsbatAuth | undefined;
  return (['all', 'tg-viber'] as const).map((path) => ({
    method: 'POST',
    pattern: PATHS[path],
    auth: false,
    docs: docs(path),
    handle: (req: HttpRequest) => sendCascade(req, path, (auth ??= new SmsbatAuth(deps.accounts, deps.channelsConfig ?? {})), deps),
  }));
}
