/**
 * Catalyst v2 WhatsApp (000_efc21bb1ba94fac5.txt, "WhatsApp Channel"):
 *   POST /api/v2/messages/whatsapp              text
 *   POST /api/v2/messages/whatsapp/media        image, document, video, audio (caption)
 *   POST /api/v2/messages/whatsapp/template     name, language, parameters {"1": …} → body components
 *   POST /api/v2/messages/whatsapp/interactive  reply buttons, list, catalog message (001_576de074115522b4.txt)
 * Each body → the core Message with its WhatsApp content; Meta's limits are checked here too, so
 * the answer names the field (connectors/whatsapp/limits.ts is the one list of them).
 */
import { z } from 'zod';
import type { AccountConfig } from '../../core/config.js';
import type { ContentOf, WhatsAppInteractive } from '../../core/channel-content.js';
import { newMessageId } from '../../core/ids.js';
import { whatsappLimitProblems } from '../../connectors/whatsapp/limits.js';
import type { HttpRequest, HttpResponse, RouteDocs } from '../http.js';
import { billingSchema, channelEnvelope, channelSendDocs, sendChannel, trackingSchema, type BuildResult, type ChannelDeps } from './channel-send.js';
import { normaliseMsisdn } from '../../core/msisdn.js';

const to = z.string().min(1).max(32).refine((v) => normaliseMsisdn(v) !== undefined, 'not a valid phone number (WhatsApp ids are E.164 numbers)');
const from = z.string().min(1).max(128).describe('One of the account’s WhatsApp senders (channels.whatsapp.senders[].from), e.g. its phone number');
const envelope = { to, from, tracking: trackingSchema, billing: billingSchema };

export const WhatsAppTextSchema = z.strictObject({
  ...envelope,
  message: z.strictObject({ type: z.literal('text').default('text'), body: z.string().min(1), previewUrl: z.boolean().optional() }),
});

export const WhatsAppMediaSchema = z.strictObject({
  ...envelope,
  message: z.strictObject({
    type: z.enum(['image', 'document', 'video', 'audio']),
    mediaUrl: z.string().url().max(2048).refine((u) => /^https?:/i.test(u), 'http or https only'),
    caption: z.string().min(1).optional(),
    filename: z.string().min(1).max(240).optional(),
  }),
});

export const WhatsAppTemplateSchema = z.strictObject({
  ...envelope,
  template: z.strictObject({
    name: z.string().min(1),
    language: z.string().regex(/^[a-z]{2,3}(_[A-Za-z]{2,4})?$/, 'a WhatsApp language code such as en_US'),
    parameters: z
      .union([z.record(z.string().regex(/^[0-9]+$/, 'positional keys "1", "2" …'), z.string().min(1)), z.array(z.string().min(1))])
      .optional()
      .describe('Body parameters {{1}}, {{2}} … by position: an object keyed "1", "2" … or an array'),
  }),
});

const textObj = z.strictObject({ text: z.string().min(1) });
export const WhatsAppInteractiveSchema = z.strictObject({
  ...envelope,
  message: z.strictObject({
    type: z.literal('interactive'),
    header: z.strictObject({ type: z.literal('text').optional(), text: z.string().min(1) }).optional(),
    body: textObj,
    footer: textObj.optional(),
    action: z
      .strictObject({
        buttons: z.array(z.strictObject({ type: z.literal('reply'), reply: z.strictObject({ id: z.string().min(1), title: z.string().min(1) }) })).optional(),
        button: z.string().min(1).optional(),
        sections: z
          .array(z.strictObject({ title: z.string().min(1).optional(), rows: z.array(z.strictObject({ id: z.string().min(1), title: z.string().min(1), description: z.string().optional() })) }))
          .optional(),
        name: z.literal('catalog_message').optional(),
        parameters: z.strictObject({ thumbnail_product_retailer_id: z.string().min(1) }).optional(),
      })
      .describe('Reply buttons (`buttons`), a list (`button` and `sections`), or a catalog message (`name: "catalog_message"`)'),
  }),
});

type Envelope = { to: string; from: string; tracking?: z.infer<typeof trackingSchema>; billing?: z.infer<typeof billingSchema> };

function build(account: AccountConfig, r: Envelope, now: number, content: ContentOf<'whatsapp'> | { problems: { field: string; message: string }[] }, summary: string): BuildResult {
  if ('problems' in content) return { ok: false, problems: content.problems };
  const problems = whatsappLimitProblems(content);
  if (problems.length > 0) return { ok: false, problems };
  const message = { ...channelEnvelope('whatsapp', newMessageId(now), account, r.from, normaliseMsisdn(r.to) ?? r.to, r, now), body: { kind: 'text' as const, text: summary }, content };
  return { ok: true, message };
}

function interactiveOf(m: z.infer<typeof WhatsAppInteractiveSchema>['message']): WhatsAppInteractive | { problems: { field: string; message: string }[] } {
  const a = m.action;
  const footer = m.footer !== undefined ? { footer: m.footer.text } : {};
  const header = m.header !== undefined ? { header: m.header.text } : {};
  const kinds = [a.buttons !== undefined, a.sections !== undefined, a.name !== undefined].filter(Boolean).length;
  if (kinds !== 1) return { problems: [{ field: 'message.action', message: 'exactly one of buttons, sections (with button) or name: "catalog_message"' }] };
  if (a.buttons) return { type: 'button', body: m.body.text, ...header, ...footer, buttons: a.buttons.map((b) => b.reply) };
  if (a.sections) {
    if (a.button === undefined) return { problems: [{ field: 'message.action.button', message: 'a list message needs the text of its button' }] };
    return { type: 'list', body: m.body.text, ...header, ...footer, button: a.button, sections: a.sections.map((s) => ({ ...(s.title !== undefined ? { title: s.title } : {}), rows: s.rows.map((row) => ({ id: row.id, title: row.title, ...(row.description !== undefined ? { description: row.description } : {}) })) })) };
  }
  return { type: 'catalog_message', body: m.body.text, ...footer, ...(a.parameters ? { thumbnailProductRetailerId: a.parameters.thumbnail_product_retailer_id } : {}) };
}

function templateParameters(p: z.infer<typeof WhatsAppTemplateSchema>['template']['parameters']): string[] | { problems: { field: string; message: string }[] } {
  if (p === undefined) return [];
  if (Array.isArray(p)) return p;
  const keys = Object.keys(p).map(Number).sort((a, b) => a - b);
  // {{1}} … {{n}}: positions with no gap, as Meta counts them.
  if (keys.some((k, i) => k !== i + 1)) return { problems: [{ field: 'template.parameters', message: 'keys must be "1", "2" … without gaps' }] };
  return keys.map((k) => p[String(k)] ?? '');
}

export function whatsappRoutes(deps: ChannelDeps): { pattern: string; docs: RouteDocs; handle: (req: HttpRequest, account: AccountConfig) => Promise<HttpResponse> }[] {
  return [
    {
      pattern: '/api/v2/messages/whatsapp',
      docs: channelSendDocs('whatsapp', 'Send a WhatsApp text message', WhatsAppTextSchema, 'A text message (at most 4,096 characters) through the WhatsApp Cloud API.'),
      handle: (req, account) =>
        sendChannel(req, account, deps, 'whatsapp', WhatsAppTextSchema, (r, now) =>
          build(account, r, now, { kind: 'whatsapp.text', text: r.message.body, ...(r.message.previewUrl !== undefined ? { previewUrl: r.message.previewUrl } : {}) }, r.message.body),
        ),
    },
    {
      pattern: '/api/v2/messages/whatsapp/media',
      docs: channelSendDocs('whatsapp', 'Send a WhatsApp media message', WhatsAppMediaSchema, 'An image, document, video or audio by URL, with a caption (at most 1,024 characters; none for audio).'),
      handle: (req, account) =>
        sendChannel(req, account, deps, 'whatsapp', WhatsAppMediaSchema, (r, now) =>
          build(
            account,
            r,
            now,
            { kind: 'whatsapp.media', mediaType: r.message.type, url: r.message.mediaUrl, ...(r.message.caption !== undefined ? { caption: r.message.caption } : {}), ...(r.message.filename !== undefined ? { filename: r.message.filename } : {}) },
            r.message.caption ?? `[${r.message.type}]`,
          ),
        ),
    },
    {
      pattern: '/api/v2/messages/whatsapp/template',
      docs: channelSendDocs('whatsapp', 'Send a WhatsApp template message', WhatsAppTemplateSchema, 'An approved template by name and language; `parameters` fill the body’s {{1}}, {{2}} … An unknown or unapproved template ends as `INVALID_TEMPLATE`.'),
      handle: (req, account) =>
        sendChannel(req, account, deps, 'whatsapp', WhatsAppTemplateSchema, (r, now) => {
          const params = templateParameters(r.template.parameters);
          return build(account, r, now, Array.isArray(params) ? { kind: 'whatsapp.template', name: r.template.name, language: r.template.language, parameters: params } : params, `[template ${r.template.name}]`);
        }),
    },
    {
      pattern: '/api/v2/messages/whatsapp/interactive',
      docs: channelSendDocs('whatsapp', 'Send a WhatsApp interactive message', WhatsAppInteractiveSchema, 'Reply buttons (at most 3, titles at most 20 characters), a list (at most 10 rows), or a catalog message.'),
      handle: (req, account) =>
        sendChannel(req, account, deps, 'whatsapp', WhatsAppInteractiveSchema, (r, now) => {
          const i = interactiveOf(r.message);
          return build(account, r, now, 'problems' in i ? i : { kind: 'whatsapp.interactive', interactive: i }, r.message.body.text);
        }),
    },
  ];
}
