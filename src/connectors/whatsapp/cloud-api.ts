/**
 * Catalyst's WhatsApp content → Meta's WhatsApp Cloud API (specs/whatsapp, v23.0):
 *   POST {base}/{version}/{phone-number-id}/messages
 *   Authorization: Bearer {access token}
 *   {"messaging_product":"whatsapp","recipient_type":"individual","to":…,"type":…,"<type>":{…}}
 * and its answer {"messaging_product":"whatsapp","contacts":[{input,wa_id}],"messages":[{"id":"wamid…"}]}
 * (or the Graph error body) → the outcome. Pure.
 */
import { contentOf, type ContentOf, type TemplateComponent, type TemplateParameter, type WhatsAppHeaderMedia, type WhatsAppInteractive } from '../../core/channel-content.js';
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

function mediaObject(url: string, filename: string | undefined, type: string): Json {
  return { link: url, ...(type === 'document' && filename !== undefined ? { filename } : {}) };
}

function headerObject(text: string | undefined, media: WhatsAppHeaderMedia | undefined): Json {
  if (media !== undefined) return { header: { type: media.type, [media.type]: mediaObject(media.url, media.filename, media.type) } };
  return text !== undefined ? { header: { type: 'text', text } } : {};
}

function interactiveObject(i: WhatsAppInteractive): Json {
  const common: Json = { type: i.type, ...(i.body !== undefined ? { body: { text: i.body } } : {}), ...(i.footer !== undefined ? { footer: { text: i.footer } } : {}) };
  switch (i.type) {
    case 'button':
      return {
        ...common,
        ...headerObject(i.header, i.headerMedia),
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
    case 'product':
      return { ...common, action: { catalog_id: i.catalogId, product_retailer_id: i.productRetailerId } };
    case 'product_list':
      return {
        ...common,
        header: { type: 'text', text: i.header },
        action: {
          catalog_id: i.catalogId,
          sections: i.sections.map((s) => ({ ...(s.title !== undefined ? { title: s.title } : {}), product_items: s.productRetailerIds.map((id) => ({ product_retailer_id: id })) })),
        },
      };
    case 'flow': {
      const f = i.flow;
      const payload = f.screen !== undefined || f.data !== undefined ? { flow_action_payload: { ...(f.screen !== undefined ? { screen: f.screen } : {}), ...(f.data !== undefined ? { data: f.data } : {}) } } : {};
      return {
        ...common,
        ...headerObject(i.header, undefined),
        action: {
          name: 'flow',
          parameters: {
            flow_message_version: '3',
            ...(f.flowId !== undefined ? { flow_id: f.flowId } : {}),
            ...(f.flowName !== undefined ? { flow_name: f.flowName } : {}),
            flow_cta: f.cta,
            ...(f.token !== undefined ? { flow_token: f.token } : {}),
            ...(f.mode !== undefined ? { mode: f.mode } : {}),
            ...(f.action !== undefined ? { flow_action: f.action } : {}),
            ...payload,
          },
        },
      };
    }
  }
}

function templateParameter(p: TemplateParameter): Json {
  switch (p.type) {
    case 'text':
      return { type: 'text', text: p.text };
    case 'currency':
      return { type: 'currency', currency: { fallback_value: p.fallbackValue, code: p.code, amount_1000: p.amount1000 } };
    case 'date_time':
      return { type: 'date_time', date_time: { fallback_value: p.fallbackValue } };
    case 'image':
    case 'video':
    case 'document':
      return { type: p.type, [p.type]: mediaObject(p.url, p.filename, p.type) };
    case 'payload':
      return { type: 'payload', payload: p.payload };
  }
}

function templateComponent(c: TemplateComponent): Json {
  const parameters = c.parameters.map(templateParameter);
  return c.type === 'button' ? { type: 'button', sub_type: c.subType, index: String(c.index), parameters } : { type: c.type, parameters };
}

/** The message object of the request body (Meta's `Message` schema), without the envelope. */
export function whatsappPayload(c: ContentOf<'whatsapp'>): Json {
  switch (c.kind) {
    case 'whatsapp.text':
      return { type: 'text', text: { body: c.text, ...(c.previewUrl !== undefined ? { preview_url: c.previewUrl } : {}) } };
    case 'whatsapp.media':
      return {
        type: c.mediaType,
        [c.mediaType]: { ...mediaObject(c.url, c.filename, c.mediaType), ...(c.caption !== undefined ? { caption: c.caption } : {}) },
      };
    case 'whatsapp.template':
      return {
        type: 'template',
        template: {
          name: c.name,
          language: { policy: 'deterministic', code: c.language },
          // Every component when the request typed them; else positional body parameters {{1}}, {{2}} … in order.
          ...(c.components !== undefined
            ? c.components.length > 0
              ? { components: c.components.map(templateComponent) }
              : {}
            : c.parameters.length > 0
              ? { components: [{ type: 'body', parameters: c.parameters.map((text) => ({ type: 'text', text })) }] }
              : {}),
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
