/**
 * The Redington compatible API (003_e681fa34a10f76c2.txt): everything under
 * `/project-apis/v1/project/{projectId}` with `X-Project-API-Pwd`, translated to and from
 * Catalyst's router, WhatsApp channel, contact store and webhooks. A Redington customer moves by
 * changing the base URL and the password. What each document section maps to is in its own file;
 * this one lists the routes, authenticates the project, and answers the document's 401 and 405.
 */
import { z, type ZodTypeAny } from 'zod';
import type { Route } from '../app.js';
import type { RouteDocs } from '../http.js';
import { MediaStore, serveMedia, uploadMedia } from './media.js';
import { ProjectAuth, type ProjectContext } from './auth.js';
import { createContact, ContactObjectSchema, CreateContactSchema, fetchContact, FetchContactQuerySchema, getContact, updateContact, UpdateContactSchema } from './contacts.js';
import type { RedingtonDeps, RedingtonRouteDeps } from './deps.js';
import { RedingtonErrorSchema, redingtonError } from './errors.js';
import {
  AnalyticsBodySchema,
  AudienceQuerySchema,
  campaignAnalytics,
  campaignAudience,
  CampaignObjectSchema,
  CampaignsBodySchema,
  CampaignStore,
  createCampaign,
  CreateCampaignSchema,
  getCampaign,
  getCampaigns,
  listCampaigns,
  sendCampaign,
  SendCampaignSchema,
} from './campaigns.js';
import { messageDetails, sendMessage, SendMessageResponseSchema, SendMessageSchema } from './messages.js';
import { deleteTemplate, getTemplate, listTemplates, ListQuerySchema, submitTemplate, SubmitTemplateSchema, TemplateObjectSchema, TemplateStore } from './templates.js';

export { REDINGTON_FORMAT, redingtonMoShape, redingtonWebhook } from './webhook.js';
export type { RedingtonRouteDeps } from './deps.js';

export const REDINGTON_BASE = '/project-apis/v1/project/{projectId}';

const PWD_HEADER = { name: 'X-Project-API-Pwd', description: 'The project’s password (accounts[].redington.projects[].password)', required: true } as const;

function docs(summary: string, section: string, ok: ZodTypeAny, extra: Partial<RouteDocs> = {}): RouteDocs {
  const err = (description: string): { description: string; schema: ZodTypeAny } => ({ description, schema: RedingtonErrorSchema });
  return {
    summary,
    description: `Redington compatible API, ${section} of its document. Errors use the document’s §24 codes in the body \`{"status":"error","code","message","description","details"}\`; 601-604 are sent with HTTP 400.`,
    tags: ['redington'],
    headers: [PWD_HEADER],
    ...extra,
    responses: {
      200: { description: 'As the document shows', schema: ok },
      400: err('400 malformed request, or 601 invalid parameter, 602 invalid phone number, 603 content too long, 604 message type not supported'),
      401: err('401: unknown project or wrong X-Project-API-Pwd'),
      403: err('403: the contact is blocked or opted out, or the balance is too low'),
      404: err('404: no such resource in this project'),
      405: err('405: method not allowed on this path'),
      413: err('400: the body is over the size limit'),
      429: err('429: a rate limit; retry after Retry-After'),
      500: err('500: an unexpected failure'),
      502: err('502: WhatsApp refused or gave an invalid answer'),
      503: err('503: the WhatsApp channel is unavailable, or this instance is shutting down'),
      504: err('504: no answer in time'),
      ...(extra.responses ?? {}),
    },
  };
}

type Handler = (req: Parameters<Route['handle']>[0], ctx: ProjectContext) => Promise<ReturnType<typeof redingtonError>>;

export function redingtonRoutes(deps: RedingtonRouteDeps): Route[] {
  // Route-list tests build the routes from stub deps: no accounts, no Redington routes.
  const auth = new ProjectAuth(Array.isArray(deps.accounts) ? deps.accounts : []);
  if (auth.empty) return [];
  const redis = deps.contacts.redis;
  const media = new MediaStore(redis, deps.keys);
  const tokens = new Map<string, string>();
  const templates = new TemplateStore(redis, deps.keys, deps.whatsappTemplates, (ctx) => tokens.get(`${ctx.account.id}|${ctx.project.from}`));
  for (const s of deps.channelsConfig?.whatsapp?.senders ?? []) tokens.set(`${s.account}|${s.from}`, s.accessToken);
  const full: RedingtonDeps = { ...deps, media, templates };
  const campaignDeps = { redis, keys: deps.keys, contacts: deps.contacts, templates, engine: deps.campaigns };
  const campaigns = new CampaignStore(campaignDeps);
  const ok = z.strictObject({ status: z.literal('success') });
  const authed = (fn: Handler): Route['handle'] => async (req) => {
    const ctx = auth.project(req);
    if (!ctx) return redingtonError(401, 'unknown project or wrong X-Project-API-Pwd');
    return fn(req, ctx);
  };
  const byId = (id: string): ProjectContext | undefined => auth.byProjectId(id);
  const p = REDINGTON_BASE;
  const routes: Route[] = [
    { method: 'POST', pattern: `${p}/media`, auth: false, docs: docs('Upload media (Redington)', '§4', z.strictObject({ id: z.string() }), { description: 'multipart/form-data with one `file` part: WhatsApp’s media types and sizes, capped by redington.maxMediaBytes. The id names the file in messages for 30 days.' }), handle: authed((req, ctx) => uploadMedia(req, ctx, media)) },
    {
      method: 'GET',
      pattern: `${p}/media/{mediaId}`,
      auth: false,
      docs: docs('Download uploaded media (Redington; Catalyst’s own)', '§4', z.string(), { headers: [{ ...PWD_HEADER, required: false }], description: 'The uploaded file, to the project (X-Project-API-Pwd) or to the holder of a signed link (`?sig=`): the link WhatsApp downloads it from when a message names its id.', responses: { 200: { description: 'The file', schema: z.string(), contentType: 'application/octet-stream' } } }),
      handle: (req) => serveMedia(req, auth.project(req), byId, media),
    },
    { method: 'POST', pattern: `${p}/messages`, auth: false, docs: docs('Send a WhatsApp message (Redington)', '§5-§6', SendMessageResponseSchema, { body: SendMessageSchema }), handle: authed((req, ctx) => sendMessage(req, ctx, full)) },
    { method: 'GET', pattern: `${p}/messages/{messageId}`, auth: false, docs: docs('Get message details (Redington)', '§7', z.record(z.unknown())), handle: authed((req, ctx) => messageDetails(req, ctx, full)) },
    { method: 'POST', pattern: `${p}/wa_template`, auth: false, docs: docs('Submit a WhatsApp template (Redington)', '§8', TemplateObjectSchema, { body: SubmitTemplateSchema }), handle: authed((req, ctx) => submitTemplate(req, ctx, templates)) },
    { method: 'GET', pattern: `${p}/wa_template`, auth: false, docs: docs('List WhatsApp templates (Redington)', '§9', z.strictObject({ template: z.array(TemplateObjectSchema), size: z.number().int(), count: z.number().int() }), { query: ListQuerySchema }), handle: authed((req, ctx) => listTemplates(req, ctx, templates)) },
    { method: 'GET', pattern: `${p}/wa_template/{templateId}`, auth: false, docs: docs('Get a WhatsApp template (Redington)', '§10', TemplateObjectSchema), handle: authed((req, ctx) => getTemplate(req, ctx, templates)) },
    { method: 'DELETE', pattern: `${p}/wa_template/{templateId}`, auth: false, docs: docs('Delete a WhatsApp template (Redington)', '§11', z.strictObject({ status: z.literal('success') })), handle: authed((req, ctx) => deleteTemplate(req, ctx, templates)) },
    { method: 'POST', pattern: `${p}/contact`, auth: false, docs: docs('Create a contact (Redington)', '§12', ContactObjectSchema, { body: CreateContactSchema }), handle: authed((req, ctx) => createContact(req, ctx, full)) },
    { method: 'GET', pattern: `${p}/contact`, auth: false, docs: docs('Find a contact by mobile number (Redington)', '§14', ContactObjectSchema, { query: FetchContactQuerySchema }), handle: authed((req, ctx) => fetchContact(req, ctx, full)) },
    { method: 'GET', pattern: `${p}/contact/{contactId}`, auth: false, docs: docs('Get a contact (Redington)', '§13', ContactObjectSchema), handle: authed((req, ctx) => getContact(req, ctx, full)) },
    { method: 'PATCH', pattern: `${p}/contact/{contactId}`, auth: false, docs: docs('Update a contact (Redington)', '§15', ContactObjectSchema, { body: UpdateContactSchema }), handle: authed((req, ctx) => updateContact(req, ctx, full)) },
    { method: 'POST', pattern: `${p}/campaign/api`, auth: false, docs: docs('Create an API campaign (Redington)', '§16', CampaignObjectSchema, { body: CreateCampaignSchema }), handle: authed((req, ctx) => createCampaign(req, ctx, campaignDeps, campaigns)) },
    { method: 'POST', pattern: `${p}/campaign/api/send`, auth: false, docs: docs('Send an API campaign to one person (Redington)', '§17', ok, { body: SendCampaignSchema }), handle: authed((req, ctx) => sendCampaign(req, ctx, campaignDeps, campaigns)) },
    { method: 'GET', pattern: `${p}/campaign/api`, auth: false, docs: docs('List API campaigns (Redington)', '§18', z.strictObject({ campaign: z.array(CampaignObjectSchema), size: z.number().int(), count: z.number().int() })), handle: authed((req, ctx) => listCampaigns(req, ctx, campaigns)) },
    { method: 'GET', pattern: `${p}/campaign/api/{campaignId}`, auth: false, docs: docs('Get an API campaign (Redington)', '§19', CampaignObjectSchema), handle: authed((req, ctx) => getCampaign(req, ctx, campaigns)) },
    { method: 'POST', pattern: `${p}/campaign/analytics/{campaignId}`, auth: false, docs: docs('Campaign analytics by day (Redington)', '§20', z.strictObject({ chats: z.array(z.record(z.unknown())) }), { body: AnalyticsBodySchema }), handle: authed((req, ctx) => campaignAnalytics(req, ctx, campaignDeps, campaigns)) },
    { method: 'GET', pattern: `${p}/campaign/audience/{campaignId}`, auth: false, docs: docs('Campaign audience (Redington)', '§21', z.strictObject({ total: z.number().int(), data: z.array(z.record(z.unknown())), paging: z.strictObject({ cursors: z.strictObject({ after: z.string().optional(), before: z.string().optional() }) }) }), { query: AudienceQuerySchema }), handle: authed((req, ctx) => campaignAudience(req, ctx, campaignDeps, campaigns)) },
    { method: 'POST', pattern: `${p}/campaign/audience/{campaignId}`, auth: false, docs: docs('Get campaigns (Redington §22, at the path it prints)', '§22', z.strictObject({ campaigns: z.array(CampaignObjectSchema) }), { body: CampaignsBodySchema }), handle: authed((req, ctx) => getCampaigns(req, ctx, campaigns)) },
  ];
  // §24's 405 in the document's body, for the other methods on these paths (undocumented routes).
  const patterns = [...new Set(routes.map((r) => r.pattern))];
  for (const pattern of patterns) {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
      if (routes.some((r) => r.pattern === pattern && r.method === method)) continue;
      routes.push({ method, pattern, auth: false, handle: () => redingtonError(405, `${method} is not supported on this path`) });
    }
  }
  return routes;
}
