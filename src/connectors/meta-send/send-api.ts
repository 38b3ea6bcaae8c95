/**
 * Catalyst's Messenger and Instagram content → Meta's Send API, shared by both products
 * (https://developers.facebook.com/docs/messenger-platform/reference/send-api/,
 *  https://developers.facebook.com/docs/instagram-platform/instagram-api-with-facebook-login/messaging-api):
 *   POST {base}/{version}/{page-id | instagram-account-id}/messages
 *   Authorization: Bearer {page access token}
 *   {"recipient":{"id":PSID|IGSID},"messaging_type":"RESPONSE"|"UPDATE"|"MESSAGE_TAG","tag"?,
 *    "message":{"text"} | {"attachment":{"type":"template","payload":{"template_type":"generic","elements":[…]}}}
 *               | {"attachment":{"type":"image"|"video"|"audio"|"file","payload":{"url","is_reusable"}}}}
 * Answer: {"recipient_id","message_id":"m_…"} or the Graph error object. Pure.
 *
 * Instagram story mentions: the Send API has no field naming a story; the reply goes to the user
 * who mentioned the account, in the conversation the mention opened (Meta: "reply to a story
 * mention by sending a message"), and Catalyst keeps the story id with the message.
 */
import { contentOf, type ContentOf, type GenericElement } from '../../core/channel-content.js';
import type { Message } from '../../core/message.js';
import type { HttpAnswer } from '../shared/http-client.js';
import { retryAfterHeader, type BuiltRequest, type ParsedAnswer, type ProviderAdapter, type ProviderFailure, type SenderRef } from '../shared/provider.js';
import { metaFailure, metaErrorOf } from '../whatsapp/errors.js';

export interface MetaPageSender extends SenderRef {
  readonly pageId: string;
  readonly accessToken: string;
}

export type MetaProduct = 'messenger' | 'instagram';

/**
 * Meta's limits: Messenger text 2,000 characters, Instagram text 1,000 bytes; a generic template
 * has at most 10 elements, a title and subtitle of at most 80 characters, at most 3 buttons per
 * element with titles of at most 20 characters.
 */
export const META_LIMITS = {
  messengerText: 2000,
  instagramTextBytes: 1000,
  elements: 10,
  elementTitle: 80,
  elementSubtitle: 80,
  buttons: 3,
  buttonTitle: 20,
} as const;

export type MetaContent = ContentOf<'meta'> | ContentOf<'instagram'> | ContentOf<'messenger'>;

export function metaContentOf(c: Message['content']): MetaContent | undefined {
  return contentOf('meta', c) ?? contentOf('instagram', c) ?? contentOf('messenger', c);
}

export function metaLimitProblems(product: MetaProduct, c: MetaContent): { field: string; message: string }[] {
  const p: { field: string; message: string }[] = [];
  const text = (t: string, field: string): void => {
    if (product === 'messenger' && Array.from(t).length > META_LIMITS.messengerText) p.push({ field, message: `at most ${META_LIMITS.messengerText} characters (Messenger limit)` });
    if (product === 'instagram' && Buffer.byteLength(t) > META_LIMITS.instagramTextBytes) p.push({ field, message: `at most ${META_LIMITS.instagramTextBytes} bytes of UTF-8 (Instagram limit)` });
  };
  switch (c.kind) {
    case 'meta.text':
      text(c.text, 'message.body');
      break;
    case 'instagram.story_reply':
      text(c.text, 'message.caption');
      break;
    case 'meta.media':
      // Instagram's Send API takes image, video and audio attachments, not files.
      if (product === 'instagram' && c.mediaType === 'file') p.push({ field: 'message.attachment.type', message: 'Instagram takes image, video and audio attachments only' });
      break;
    case 'messenger.generic':
      if (c.elements.length === 0 || c.elements.length > META_LIMITS.elements) p.push({ field: 'message.attachment.payload.elements', message: `1 to ${META_LIMITS.elements} elements (Meta limit)` });
      c.elements.forEach((e, i) => {
        const at = `message.attachment.payload.elements.${i}`;
        if (Array.from(e.title).length > META_LIMITS.elementTitle) p.push({ field: `${at}.title`, message: `at most ${META_LIMITS.elementTitle} characters (Meta limit)` });
        if (e.subtitle !== undefined && Array.from(e.subtitle).length > META_LIMITS.elementSubtitle) p.push({ field: `${at}.subtitle`, message: `at most ${META_LIMITS.elementSubtitle} characters (Meta limit)` });
        if (e.buttons.length > META_LIMITS.buttons) p.push({ field: `${at}.buttons`, message: `at most ${META_LIMITS.buttons} buttons (Meta limit)` });
        e.buttons.forEach((b, j) => {
          if (Array.from(b.title).length > META_LIMITS.buttonTitle) p.push({ field: `${at}.buttons.${j}.title`, message: `at most ${META_LIMITS.buttonTitle} characters (Meta limit)` });
        });
      });
      break;
  }
  return p;
}

function element(e: GenericElement): Record<string, unknown> {
  return {
    title: e.title,
    ...(e.imageUrl !== undefined ? { image_url: e.imageUrl } : {}),
    ...(e.subtitle !== undefined ? { subtitle: e.subtitle } : {}),
    ...(e.buttons.length > 0 ? { buttons: e.buttons.map((b) => (b.type === 'web_url' ? { type: 'web_url', url: b.url, title: b.title } : { type: 'postback', payload: b.payload, title: b.title })) } : {}),
  };
}

export function metaMessageObject(c: MetaContent): Record<string, unknown> {
  switch (c.kind) {
    case 'meta.text':
      return { text: c.text };
    case 'instagram.story_reply':
      return { text: c.text };
    case 'messenger.generic':
      return { attachment: { type: 'template', payload: { template_type: 'generic', elements: c.elements.map(element) } } };
    case 'meta.media':
      return { attachment: { type: c.mediaType, payload: { url: c.url, is_reusable: true } } };
  }
}

/** Messenger and Instagram codes on top of the Graph API's (whatsapp/errors.ts). */
export function sendApiFailure(status: number, json: unknown, headers: Headers): ProviderFailure {
  const e = metaErrorOf(json);
  const base = metaFailure(status, json, retryAfterHeader(headers));
  const sub = e?.error_subcode;
  // 2018001 no matching user, 2018108 / 551 person not available, 2534014 no IG user.
  if (sub === 2018001 || sub === 2018108 || sub === 2534014 || e?.code === 551) return { ...base, code: 'INVALID_DESTINATION', retryable: false, unhealthy: false };
  // 2018278 / 2534022 outside the 24-hour window: needs a tag, not a retry.
  if (sub === 2018278 || sub === 2534022) return { ...base, code: 'VALIDATION_ERROR', retryable: false, unhealthy: false };
  if (e?.code === 613 || e?.code === 17 || e?.code === 32) return { ...base, code: 'RATE_LIMIT_EXCEEDED', retryable: true, unhealthy: false };
  // 1200: temporary send message failure.
  if (e?.code === 1200) return { ...base, code: 'NETWORK_ERROR', retryable: true, unhealthy: true };
  return base;
}

export function sendApiAdapter(product: MetaProduct, apiVersion: string): ProviderAdapter<MetaPageSender> {
  return {
    name: product,
    // Instagram sends no delivery events, only reads with the message id; Messenger sends both, its reads as a watermark.
    deliveredOnAccept: product === 'instagram',
    readByWatermark: product === 'messenger',
    build(message: Message, sender: MetaPageSender, baseUrl: string): BuiltRequest {
      const c = metaContentOf(message.content);
      const problems = c ? metaLimitProblems(product, c) : [{ field: 'message', message: `no ${product} content` }];
      if (!c || problems.length > 0) return { ok: false, failure: { code: 'VALIDATION_ERROR', providerCode: 'limits', message: problems.map((x) => `${x.field}: ${x.message}`).join('; '), retryable: false, unhealthy: false } };
      const body = { recipient: { id: message.destination.addr }, messaging_type: 'RESPONSE', message: metaMessageObject(c) };
      return {
        ok: true,
        request: {
          method: 'POST',
          url: `${baseUrl.replace(/\/$/, '')}/${apiVersion}/${encodeURIComponent(sender.pageId)}/messages`,
          headers: { authorization: `Bearer ${sender.accessToken}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        },
      };
    },
    parse(answer: HttpAnswer & { kind: 'answer' }): ParsedAnswer {
      const a = answer.json as { message_id?: unknown } | undefined;
      if (answer.status === 200 && typeof a?.message_id === 'string' && a.message_id !== '') return { ok: true, externalId: a.message_id };
      if (answer.status === 200) return { ok: false, failure: { code: 'NETWORK_ERROR', providerCode: 'bad_answer', message: 'answer without message_id', retryable: true, unhealthy: true } };
      return { ok: false, failure: sendApiFailure(answer.status, answer.json, answer.headers) };
    },
  };
}
