/**
 * Kaleyra's `messaging_object` (001_576de074115522b4.txt): "the message object as defined by Meta"
 * (WhatsApp Cloud API, specs/whatsapp `components.schemas.Message`) → Catalyst's WhatsApp content
 * (core/channel-content.ts). Pure.
 *
 *   messaging_object = { messaging_product: "whatsapp", recipient_type?: "individual",
 *                        to: "<E.164>[,<E.164>…]", type?: <type> (default "text"), <type>: {…} }
 *   type  = text | image | video | audio | document | template | interactive
 *   interactive.type = button | list | catalog_message | product | product_list | flow
 *
 * Media go by `link` (Catalyst has no media upload, so a Meta media `id` is refused, naming it).
 * Meta's limits are checked by connectors/whatsapp/limits.ts, the one list of them.
 */
import { z } from 'zod';
import type { ContentOf, TemplateComponent, TemplateParameter, WhatsAppInteractive } from '../../core/channel-content.js';
import { whatsappLimitProblems } from '../../connectors/whatsapp/limits.js';
import { normaliseMsisdn } from '../../core/msisdn.js';
import type { FieldProblem } from '../http.js';

/** The most recipients one comma-separated `to` may name. */
export const MAX_RECIPIENTS = 100;

const text = z.string().min(1);
const link = z
  .string()
  .url()
  .max(2048)
  .refine((u) => /^https?:/i.test(u), 'http or https only');
/** Meta's MediaObject, by link only: `id` is a media id of Meta's upload API, which Catalyst does not have. */
const media = z.strictObject({ link, caption: text.optional(), filename: z.string().min(1).max(240).optional() });
const textObj = z.strictObject({ text });

const headerObj = z.strictObject({
  type: z.enum(['text', 'image', 'video', 'document']),
  text: text.optional(),
  image: media.optional(),
  video: media.optional(),
  document: media.optional(),
});

const section = z.strictObject({
  title: z.string().min(1).optional(),
  rows: z.array(z.strictObject({ id: text, title: text, description: z.string().optional() })).optional(),
  product_items: z.array(z.strictObject({ product_retailer_id: text })).optional(),
});

const action = z.strictObject({
  buttons: z.array(z.strictObject({ type: z.literal('reply'), reply: z.strictObject({ id: text, title: text }) })).optional(),
  button: text.optional(),
  sections: z.array(section).optional(),
  catalog_id: text.optional(),
  product_retailer_id: text.optional(),
  name: z.enum(['catalog_message', 'flow']).optional(),
  parameters: z
    .strictObject({
      thumbnail_product_retailer_id: text.optional(),
      flow_message_version: z.literal('3').optional(),
      flow_id: text.optional(),
      flow_name: text.optional(),
      flow_cta: text.optional(),
      flow_token: text.optional(),
      mode: z.enum(['draft', 'published']).optional(),
      flow_action: z.enum(['navigate', 'data_exchange']).optional(),
      flow_action_payload: z.strictObject({ screen: text.optional(), data: z.record(z.unknown()).optional() }).optional(),
    })
    .optional(),
});

const interactive = z.strictObject({
  type: z.enum(['button', 'list', 'catalog_message', 'product', 'product_list', 'flow']),
  header: headerObj.optional(),
  body: textObj.optional(),
  footer: textObj.optional(),
  action,
});

const parameter = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text'), text }),
  z.strictObject({ type: z.literal('currency'), currency: z.strictObject({ fallback_value: text, code: z.string().length(3), amount_1000: z.number().int() }) }),
  z.strictObject({ type: z.literal('date_time'), date_time: z.strictObject({ fallback_value: text }) }),
  z.strictObject({ type: z.literal('image'), image: media }),
  z.strictObject({ type: z.literal('video'), video: media }),
  z.strictObject({ type: z.literal('document'), document: media }),
  z.strictObject({ type: z.literal('payload'), payload: text }),
]);

const component = z.strictObject({
  type: z.enum(['header', 'body', 'button']),
  sub_type: z.enum(['quick_reply', 'url', 'catalog']).optional(),
  index: z.union([z.string().regex(/^[0-9]$/, 'a digit 0-9'), z.number().int().min(0).max(9)]).optional(),
  parameters: z.array(parameter).default([]),
});

const template = z.strictObject({
  name: text,
  language: z.strictObject({ code: z.string().regex(/^[a-z]{2,3}(_[A-Za-z]{2,4})?$/, 'a WhatsApp language code such as en_US'), policy: z.literal('deterministic').optional() }),
  components: z.array(component).optional(),
});

export const MessagingObjectSchema = z.strictObject({
  messaging_product: z.string().refine((v) => v.toLowerCase() === 'whatsapp', 'the only allowed value is whatsapp'),
  recipient_type: z.literal('individual').default('individual'),
  to: z.string().min(1).max(MAX_RECIPIENTS * 20),
  type: z.enum(['text', 'image', 'video', 'audio', 'document', 'template', 'interactive']).default('text'),
  text: z.strictObject({ body: text, preview_url: z.boolean().optional() }).optional(),
  image: media.optional(),
  video: media.optional(),
  audio: media.optional(),
  document: media.optional(),
  template: template.optional(),
  interactive: interactive.optional(),
});
export type MessagingObject = z.infer<typeof MessagingObjectSchema>;

export type Translated = { readonly ok: true; readonly content: ContentOf<'whatsapp'>; readonly summary: string } | { readonly ok: false; readonly problems: FieldProblem[] };

const P = 'messaging_object';
const fail = (field: string, message: string): Translated => ({ ok: false, problems: [{ field: `${P}.${field}`, message }] });

/** The comma-separated `to` as E.164 digits, or the problem with it. */
export function recipients(to: string): { ok: true; numbers: string[] } | { ok: false; problems: FieldProblem[] } {
  const parts = to.split(',').map((s) => s.trim());
  if (parts.length > MAX_RECIPIENTS) return { ok: false, problems: [{ field: `${P}.to`, message: `at most ${MAX_RECIPIENTS} recipients` }] };
  const numbers: string[] = [];
  for (const p of parts) {
    const n = p === '' ? undefined : normaliseMsisdn(p);
    if (n === undefined) return { ok: false, problems: [{ field: `${P}.to`, message: `"${p}" is not a valid WhatsApp number (E.164, with its country code)` }] };
    if (!numbers.includes(n)) numbers.push(n);
  }
  return { ok: true, numbers };
}

function templateParameter(p: z.infer<typeof parameter>): TemplateParameter {
  switch (p.type) {
    case 'text':
      return { type: 'text', text: p.text };
    case 'currency':
      return { type: 'currency', fallbackValue: p.currency.fallback_value, code: p.currency.code, amount1000: p.currency.amount_1000 };
    case 'date_time':
      return { type: 'date_time', fallbackValue: p.date_time.fallback_value };
    case 'image':
      return { type: 'image', url: p.image.link };
    case 'video':
      return { type: 'video', url: p.video.link };
    case 'document':
      return { type: 'document', url: p.document.link, ...(p.document.filename !== undefined ? { filename: p.document.filename } : {}) };
    case 'payload':
      return { type: 'payload', payload: p.payload };
  }
}

function templateContent(t: z.infer<typeof template>): Translated {
  const components: TemplateComponent[] = [];
  for (const [n, c] of (t.components ?? []).entries()) {
    const at = `template.components.${n}`;
    const params = c.parameters.map(templateParameter);
    if (c.type === 'button') {
      if (c.sub_type === undefined) return fail(`${at}.sub_type`, 'required for a button component');
      if (c.index === undefined) return fail(`${at}.index`, 'required for a button component');
      if (params.length === 0) return fail(`${at}.parameters`, 'a button component needs its parameter');
      components.push({ type: 'button', subType: c.sub_type, index: Number(c.index), parameters: params });
    } else {
      if (c.sub_type !== undefined || c.index !== undefined) return fail(`${at}.sub_type`, 'only for button components');
      components.push({ type: c.type, parameters: params });
    }
  }
  const body = components.find((c) => c.type === 'body')?.parameters ?? [];
  const parameters = body.flatMap((p) => (p.type === 'text' ? [p.text] : p.type === 'currency' || p.type === 'date_time' ? [p.fallbackValue] : []));
  return {
    ok: true,
    content: { kind: 'whatsapp.template', name: t.name, language: t.language.code, parameters, ...(components.length > 0 ? { components } : {}) },
    summary: `[template ${t.name}]`,
  };
}

function interactiveContent(i: z.infer<typeof interactive>): Translated {
  const a = i.action;
  const body = i.body?.text;
  const footer = i.footer !== undefined ? { footer: i.footer.text } : {};
  const needBody = (): Translated | undefined => (body === undefined ? fail('interactive.body', `required for ${i.type} messages`) : undefined);
  const textHeader = (): { header?: string } | Translated => {
    if (i.header === undefined) return {};
    if (i.header.type !== 'text' || i.header.text === undefined) return fail('interactive.header', `a ${i.type} message takes a text header only`);
    return { header: i.header.text };
  };
  let out: WhatsAppInteractive;
  switch (i.type) {
    case 'button': {
      const missing = needBody();
      if (missing) return missing;
      if (a.buttons === undefined) return fail('interactive.action.buttons', 'required for reply buttons');
      let head: Pick<Extract<WhatsAppInteractive, { type: 'button' }>, 'header' | 'headerMedia'> = {};
      const h = i.header;
      if (h !== undefined) {
        if (h.type === 'text') {
          if (h.text === undefined) return fail('interactive.header.text', 'required when header.type is text');
          head = { header: h.text };
        } else {
          const m = h[h.type];
          if (m === undefined) return fail(`interactive.header.${h.type}`, `required when header.type is ${h.type}`);
          head = { headerMedia: { type: h.type, url: m.link, ...(m.filename !== undefined ? { filename: m.filename } : {}) } };
        }
      }
      out = { type: 'button', body: body ?? '', ...head, ...footer, buttons: a.buttons.map((b) => b.reply) };
      break;
    }
    case 'list': {
      const missing = needBody();
      if (missing) return missing;
      if (a.button === undefined) return fail('interactive.action.button', 'a list message needs the text of its button');
      if (a.sections === undefined) return fail('interactive.action.sections', 'required for a list message');
      const head = textHeader();
      if ('ok' in head) return head;
      const sections = [];
      for (const [n, s] of a.sections.entries()) {
        if (s.rows === undefined) return fail(`interactive.action.sections.${n}.rows`, 'required for a list message');
        sections.push({ ...(s.title !== undefined ? { title: s.title } : {}), rows: s.rows.map((r) => ({ id: r.id, title: r.title, ...(r.description !== undefined ? { description: r.description } : {}) })) });
      }
      out = { type: 'list', body: body ?? '', ...head, ...footer, button: a.button, sections };
      break;
    }
    case 'catalog_message': {
      const missing = needBody();
      if (missing) return missing;
      // The seed: "Must include both catalog_message and thumbnail_product_retailer_id" (Meta requires it too).
      if (a.name !== 'catalog_message') return fail('interactive.action.name', 'must be "catalog_message"');
      const thumb = a.parameters?.thumbnail_product_retailer_id;
      if (thumb === undefined) return fail('interactive.action.parameters.thumbnail_product_retailer_id', 'required for a catalog message');
      out = { type: 'catalog_message', body: body ?? '', ...footer, thumbnailProductRetailerId: thumb };
      break;
    }
    case 'product': {
      if (i.header !== undefined) return fail('interactive.header', 'a single-product message has no header');
      if (a.catalog_id === undefined) return fail('interactive.action.catalog_id', 'required for a product message');
      if (a.product_retailer_id === undefined) return fail('interactive.action.product_retailer_id', 'required for a product message');
      out = { type: 'product', ...(body !== undefined ? { body } : {}), ...footer, catalogId: a.catalog_id, productRetailerId: a.product_retailer_id };
      break;
    }
    case 'product_list': {
      const missing = needBody();
      if (missing) return missing;
      const head = textHeader();
      if ('ok' in head) return head;
      if (head.header === undefined) return fail('interactive.header', 'a multi-product message needs a text header');
      if (a.catalog_id === undefined) return fail('interactive.action.catalog_id', 'required for a product_list message');
      if (a.sections === undefined) return fail('interactive.action.sections', 'required for a product_list message');
      const sections = [];
      for (const [n, s] of a.sections.entries()) {
        if (s.product_items === undefined) return fail(`interactive.action.sections.${n}.product_items`, 'required for a product_list message');
        sections.push({ ...(s.title !== undefined ? { title: s.title } : {}), productRetailerIds: s.product_items.map((p) => p.product_retailer_id) });
      }
      out = { type: 'product_list', header: head.header, body: body ?? '', ...footer, catalogId: a.catalog_id, sections };
      break;
    }
    case 'flow': {
      const missing = needBody();
      if (missing) return missing;
      const head = textHeader();
      if ('ok' in head) return head;
      const f = a.parameters;
      if (a.name !== 'flow' || f === undefined) return fail('interactive.action', 'a flow message needs name "flow" and its parameters');
      if (f.flow_cta === undefined) return fail('interactive.action.parameters.flow_cta', 'required for a flow message');
      const payload = f.flow_action_payload;
      out = {
        type: 'flow',
        body: body ?? '',
        ...head,
        ...footer,
        flow: {
          cta: f.flow_cta,
          ...(f.flow_id !== undefined ? { flowId: f.flow_id } : {}),
          ...(f.flow_name !== undefined ? { flowName: f.flow_name } : {}),
          ...(f.flow_token !== undefined ? { token: f.flow_token } : {}),
          ...(f.mode !== undefined ? { mode: f.mode } : {}),
          ...(f.flow_action !== undefined ? { action: f.flow_action } : {}),
          ...(payload?.screen !== undefined ? { screen: payload.screen } : {}),
          ...(payload?.data !== undefined ? { data: payload.data } : {}),
        },
      };
      break;
    }
  }
  return { ok: true, content: { kind: 'whatsapp.interactive', interactive: out }, summary: body ?? `[${i.type}]` };
}

/** The validated object → WhatsApp content, with Meta's limits checked (fields named as the request has them). */
export function translateMessagingObject(m: MessagingObject): Translated {
  let t: Translated;
  switch (m.type) {
    case 'text':
      if (m.text === undefined) return fail('text', 'required when type is text');
      t = { ok: true, content: { kind: 'whatsapp.text', text: m.text.body, ...(m.text.preview_url !== undefined ? { previewUrl: m.text.preview_url } : {}) }, summary: m.text.body };
      break;
    case 'image':
    case 'video':
    case 'audio':
    case 'document': {
      const media = m[m.type];
      if (media === undefined) return fail(m.type, `required when type is ${m.type}`);
      t = {
        ok: true,
        content: { kind: 'whatsapp.media', mediaType: m.type, url: media.link, ...(media.caption !== undefined ? { caption: media.caption } : {}), ...(media.filename !== undefined ? { filename: media.filename } : {}) },
        summary: media.caption ?? `[${m.type}]`,
      };
      break;
    }
    case 'template':
      if (m.template === undefined) return fail('template', 'required when type is template');
      t = templateContent(m.template);
      break;
    case 'interactive':
      if (m.interactive === undefined) return fail('interactive', 'required when type is interactive');
      t = interactiveContent(m.interactive);
      break;
  }
  // Exactly the object its type names: anything else is a payload Meta would refuse.
  const others = (['text', 'image', 'video', 'audio', 'document', 'template', 'interactive'] as const).filter((k) => k !== m.type && m[k] !== undefined);
  if (others.length > 0) return fail(others[0] ?? '', `not allowed when type is ${m.type}`);
  if (!t.ok) return t;
  const limits = whatsappLimitProblems(t.content);
  if (limits.length > 0) return { ok: false, problems: limits.map((p) => ({ field: `${P}.${limitField(p.field, m.type)}`, message: p.message })) };
  return t;
}

/** limits.ts names Catalyst v2's fields (`message.body.text` …); say them as Meta's object has them. */
function limitField(field: string, type: MessagingObject['type']): string {
  if (type === 'interactive') return field.replace(/^message\./, 'interactive.');
  if (type === 'text') return 'text.body';
  if (type === 'template') return field;
  return field.replace(/^message\./, `${type}.`);
}
