/**
 * Catalyst's WhatsApp content → Meta's WhatsApp Cloud API (specs/whatsapp, v23.0):
 *   POST {base}/{version}/{phone-number-id}/messages
 *   Authorization: Bearer {access token}
 *   {"messaging_product":"whatsapp","recipient_type":"individual","to":…,"type":…,"<type>":{…}}
 * and its answer {"messaging_product":"whatsapp","contacts":[{input,wa_id}],"messages":[{"id":"wamid…"}]}
 * (or the Graph error body) → the outcome. Pure.
 */
import { contentOf, type ContentOf, type WhatsAppInteractive } from '../../core/channel-content.js';
import type { Message } from '../../core/message.js';
import type { HttpAnswer } from '../shared/http-client.js';
import { retryAfterHeader, type BuiltRequest, type ParsedAnswer, type ProviderAdapter, type SenderRef } from '../shared/provider.js';
import { metaFailure } from './errors.js';
import { whatsappLimitProblems } from './limits.js';

export interface WhatsAppSender extends SenderRef {
  readonly phoneNumberId: string;
  readonly accessToken: string;
}

type Json = Record<string, unknown>;

function interactiveObject(i: WhatsAppInteractive): Json {
  const common: Json = { type: i.type, body: { text: i.body }, ...(i.footer !== undefined ? { footer: { text: i.footer } } : {}) };
  switch (i.type) {
    case 'button':
      return {
        ...common,
        ...(i.header !== undefined ? { header: { type: 'text', text: i.header } } : {}),
        action: { buttons: i.buttons.map((b) => ({ type: 'reply', reply: { id: b.id, title: b.title } })) },
      };
    case 'list':
      return {
        ...common,
        ...(i.header !== undefined ? { header: { type: 'text', text: i.header } } : {}),
        action: {
          button: i.button,
          sections: i.sections.map((s) => ({
            ...(s.title !== undefined ? { title: s.title } : {}),
            rows: s.rows.map((r) => ({ id: r.id, title: r.title, ...(r.description !== undefined ? { description: r.description } : {}) })),
          })),
        },
      };
    case 'catalog_message':
      return {
        ...common,
        action: { name: 'catalog_message', ...(i.thumbnailProductRetailerId !== undefined ? { parameters: { thumbnail_product_retailer_id: i.thumbnailProductRetailerId } } : {}) },
      };
  }
}

/** A template's header parameter (its media by link; a document keeps its filename) and positional body parameters {{1}}, {{2}} … in order. */
function templateComponents(c: Extract<ContentOf<'whatsapp'>, { kind: 'whatsapp.template' }>): Json {
  const components: Json[] = [];
  const h = c.header;
  if (h !== undefined) {
    const parameter = h.type === 'text' ? { type: 'text', text: h.text } : { type: h.type, [h.type]: { link: h.url, ...(h.type === 'document' && h.filename !== undefined ? { filename: h.filename } : {}) } };
    components.push({ type: 'header', parameters: [parameter] });
  }
  if (c.parameters.length > 0) components.push({ type: 'body', parameters: c.parameters.map((text) => ({ type: 'text', text })) });
  return components.length > 0 ? { components } : {};
}

/** The message object of the request body (Meta's `Message` schema), without the envelope. */
export function whatsappPayload(c: ContentOf<'whatsapp'>): Json {
  switch (c.kind) {
    case 'whatsapp.text':
      return { type: 'text', text: { body: c.text, ...(c.previewUrl !== undefined ? { preview_url: c.previewUrl } : {}) } };
    case 'whatsapp.media':
      return {
        type: c.mediaType,
        [c.mediaType]: {
          link: c.url,
          ...(c.caption !== undefined ? { caption: c.caption } : {}),
          ...(c.mediaType === 'document' && c.filename !== undefined ? { filename: c.filename } : {}),
        },
      };
    case 'whatsapp.template':
      return {
        type: 'template',
        template: {
          name: c.name,
          language: { policy: 'deterministic', code: c.language },
          ...templateComponents(c),
        },
      };
    case 'whatsapp.interactive':
      return { type: 'interactive', interactive: interactiveObject(c.interactive) };
  }
}

export function whatsappRequestBody(message: Message): Json | undefined {
  const c = contentOf('whatsapp', message.content);
  if (!c) return undefined;
  return { messaging_product: 'whatsapp', recipient_type: 'individual', to: message.destination.addr, ...whatsappPayload(c) };
}

export function whatsappAdapter(apiVersion: string): ProviderAdapter<WhatsAppSender> {
  return {
    name: 'whatsapp',
    build(message: Message, sender: WhatsAppSender, baseUrl: string): BuiltRequest {
      const c = contentOf('whatsapp', message.content);
      const problems = c ? whatsappLimitProblems(c) : [{ field: 'message', message: 'no WhatsApp content' }];
      const body = whatsappRequestBody(message);
      if (problems.length > 0 || !body) {
        return {
          ok: false,
          failure: { code: 'VALIDATION_ERROR', providerCode: 'limits', message: problems.map((p) => `${p.field}: ${p.message}`).join('; '), retryable: false, unhealthy: false },
        };
      }
      return {
        ok: true,
        request: {
          method: 'POST',
          url: `${baseUrl.replace(/\/$/, '')}/${apiVersion}/${encodeURIComponent(sender.phoneNumberId)}/messages`,
          headers: { authorization: `Bearer ${sender.accessToken}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        },
      };
    },
    parse(answer: HttpAnswer & { kind: 'answer' }): ParsedAnswer {
      if (answer.status === 200) {
        const messages = (answer.json as { messages?: { id?: unknown }[] } | undefined)?.messages;
        const id = messages?.[0]?.id;
        if (typeof id === 'string' && id !== '') return { ok: true, externalId: id };
        return { ok: false, failure: { code: 'NETWORK_ERROR', providerCode: 'bad_answer', message: 'answer without messages[0].id', retryable: true, unhealthy: true } };
      }
      return { ok: false, failure: metaFailure(answer.status, answer.json, retryAfterHeader(answer.headers)) };
    },
  };
}
