/**
 * WhautoChat's request bodies (002_96380f250abd201a.txt, "Schemas") and what each becomes in
 * Catalyst's channel content. Pure.
 *
 *   every body   { contact: { id } | recepient: { phoneNumber }, workspace: { id }, scheduleDateTime? }
 *   sendtext     + textMessage                       (WhatsApp, Messenger, Instagram, Telegram)
 *   sendmedia    + mediaUrl, mimeType                (WhatsApp, Messenger, Instagram)
 *   sendtemplate + template (WhatsApp: an approved template's name)
 *                + elements [{ title, buttons[] }]   (Messenger, Instagram: a generic template)
 *                + textMessage, buttons[]            (Telegram: text with an inline keyboard)
 *
 * `recepient` keeps the document's spelling. Meta's and Telegram's limits are checked by their
 * connectors' own lists (connectors/*), here before anything is admitted.
 */
import { z } from 'zod';
import type { ChannelContent, GenericElement, InlineButton, WhatsAppMediaType } from '../../core/channel-content.js';
import { whatsappLimitProblems } from '../../connectors/whatsapp/limits.js';
import { metaLimitProblems } from '../../connectors/meta-send/send-api.js';
import { telegramLimitProblems } from '../../connectors/telegram/bot-api.js';
import type { FieldProblem } from '../http.js';

export const WHAUTOCHAT_CHANNELS = ['whatsapp', 'messenger', 'instagram', 'telegram'] as const;
export type WhautoChannel = (typeof WHAUTOCHAT_CHANNELS)[number];
export const WHAUTOCHAT_OPS = ['sendtext', 'sendmedia', 'sendtemplate'] as const;
export type WhautoOp = (typeof WHAUTOCHAT_OPS)[number];

/** What this gateway sends on each channel (Catalyst's channel content has no Telegram media). */
export const SUPPORTED: Readonly<Record<WhautoChannel, readonly WhautoOp[]>> = {
  whatsapp: ['sendtext', 'sendmedia', 'sendtemplate'],
  messenger: ['sendtext', 'sendmedia', 'sendtemplate'],
  instagram: ['sendtext', 'sendmedia', 'sendtemplate'],
  telegram: ['sendtext', 'sendtemplate'],
};

/** ISO 8601 date and time; without an offset it is UTC. */
const dateTime = z.string().regex(/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i, 'an ISO 8601 date and time, e.g. 2025-06-01T09:30:00Z');

const envelope = {
  contact: z.strictObject({ id: z.string().min(1).max(64) }).optional(),
  recepient: z.strictObject({ phoneNumber: z.string().min(1).max(32) }).optional(),
  workspace: z.strictObject({ id: z.string().min(1).max(64) }),
  scheduleDateTime: dateTime.optional(),
};

const TextSchema = z.strictObject({ ...envelope, textMessage: z.string().min(1) });
const MediaSchema = z.strictObject({
  ...envelope,
  mediaUrl: z
    .string()
    .url()
    .max(2048)
    .refine((u) => /^https?:/i.test(u), 'http or https only'),
  mimeType: z.string().regex(/^[a-z]+\/[A-Za-z0-9.+-]+$/, 'a MIME type such as image/jpeg'),
});
const WhatsAppTemplateSchema = z.strictObject({ ...envelope, template: z.string().min(1) });

const metaButton = z.union([
  z.strictObject({ type: z.literal('web_url'), url: z.string().url(), title: z.string().min(1) }),
  z.strictObject({ type: z.literal('postback'), payload: z.string().min(1).max(1000), title: z.string().min(1) }),
]);
const ElementsSchema = z.strictObject({
  ...envelope,
  elements: z
    .array(
      z.strictObject({
        title: z.string().min(1),
        subtitle: z.string().min(1).optional(),
        imageUrl: z.string().url().optional(),
        buttons: z.array(metaButton).default([]),
      }),
    )
    .min(1),
});

/** A Telegram button as WhautoChat's `buttons` plainly means it: Telegram's InlineKeyboardButton (`callback_data` or `url`). */
const tgButton = z.strictObject({ text: z.string().min(1), url: z.string().url().optional(), callback_data: z.string().min(1).optional(), callbackData: z.string().min(1).optional() });
const TelegramTemplateSchema = z.strictObject({
  ...envelope,
  textMessage: z.string().min(1),
  // A flat list puts each button on its own row; a list of lists gives the rows.
  buttons: z.array(z.union([tgButton, z.array(tgButton).min(1)])).min(1),
});

/** The schema of one endpoint's body (the ones not supported are answered before parsing). */
export function schemaFor(channel: WhautoChannel, op: WhautoOp): z.ZodTypeAny {
  if (op === 'sendtext') return TextSchema;
  if (op === 'sendmedia') return MediaSchema;
  if (channel === 'whatsapp') return WhatsAppTemplateSchema;
  if (channel === 'telegram') return TelegramTemplateSchema;
  return ElementsSchema;
}

export type Envelope = { contact?: { id: string }; recepient?: { phoneNumber: string }; workspace: { id: string }; scheduleDateTime?: string };

export type Built = { readonly ok: true; readonly content: ChannelContent; readonly summary: string; readonly template: boolean } | { readonly ok: false; readonly problems: FieldProblem[] };

function mediaType(mime: string): WhatsAppMediaType {
  const top = mime.split('/')[0];
  return top === 'image' || top === 'video' || top === 'audio' ? top : 'document';
}

function checked(content: ChannelContent, summary: string, template: boolean, problems: readonly { field: string; message: string }[], field: string): Built {
  // The connectors' lists name Catalyst v2's fields; this API has one field per value.
  if (problems.length > 0) return { ok: false, problems: problems.map((p) => ({ field, message: p.message })) };
  return { ok: true, content, summary, template };
}

/** A validated body → the channel's content. `templateLanguage` is the workspace's. */
export function buildContent(channel: WhautoChannel, op: WhautoOp, body: Record<string, unknown>, templateLanguage: string): Built {
  if (op === 'sendtext') {
    const text = (body as z.infer<typeof TextSchema>).textMessage;
    switch (channel) {
      case 'whatsapp': {
        const c: ChannelContent = { kind: 'whatsapp.text', text };
        return checked(c, text, false, whatsappLimitProblems(c), 'textMessage');
      }
      case 'messenger':
      case 'instagram': {
        const c = { kind: 'meta.text', text } as const;
        return checked(c, text, false, metaLimitProblems(channel, c), 'textMessage');
      }
      case 'telegram': {
        const c = { kind: 'telegram.text', text } as const;
        return checked(c, text, false, telegramLimitProblems(c), 'textMessage');
      }
    }
  }
  if (op === 'sendmedia') {
    const m = body as z.infer<typeof MediaSchema>;
    const type = mediaType(m.mimeType);
    if (channel === 'messenger' || channel === 'instagram') {
      const c = { kind: 'meta.media', mediaType: type === 'document' ? 'file' : type, url: m.mediaUrl } as const;
      return checked(c, `[${c.mediaType}]`, false, metaLimitProblems(channel, c), 'mimeType');
    }
    // Meta's document messages show a file name: the URL's last segment.
    const name = decodeURIComponent(new URL(m.mediaUrl).pathname.split('/').pop() ?? '');
    const c: ChannelContent = { kind: 'whatsapp.media', mediaType: type, url: m.mediaUrl, ...(type === 'document' && name !== '' ? { filename: name.slice(0, 240) } : {}) };
    return checked(c, `[${type}]`, false, whatsappLimitProblems(c), 'mediaUrl');
  }
  switch (channel) {
    case 'whatsapp': {
      const name = (body as z.infer<typeof WhatsAppTemplateSchema>).template;
      const c: ChannelContent = { kind: 'whatsapp.template', name, language: templateLanguage, parameters: [] };
      return checked(c, `[template ${name}]`, true, whatsappLimitProblems(c), 'template');
    }
    case 'messenger':
    case 'instagram': {
      const elements: GenericElement[] = (body as z.infer<typeof ElementsSchema>).elements.map((e) => ({
        title: e.title,
        ...(e.subtitle !== undefined ? { subtitle: e.subtitle } : {}),
        ...(e.imageUrl !== undefined ? { imageUrl: e.imageUrl } : {}),
        buttons: e.buttons,
      }));
      const c = { kind: 'messenger.generic', elements } as const;
      const problems = metaLimitProblems(channel, c).map((p) => ({ field: p.field.replace('message.attachment.payload.', ''), message: p.message }));
      if (problems.length > 0) return { ok: false, problems };
      return { ok: true, content: c, summary: elements[0]?.title ?? '[template]', template: true };
    }
    case 'telegram': {
      const t = body as z.infer<typeof TelegramTemplateSchema>;
      const button = (b: z.infer<typeof tgButton>): InlineButton => {
        const data = b.callback_data ?? b.callbackData;
        return { text: b.text, ...(data !== undefined ? { callbackData: data } : {}), ...(b.url !== undefined ? { url: b.url } : {}) };
      };
      const rows = t.buttons.map((r) => (Array.isArray(r) ? r.map(button) : [button(r)]));
      const c = { kind: 'telegram.text', text: t.textMessage, inlineKeyboard: rows } as const;
      const problems = telegramLimitProblems(c).map((p) => ({ field: p.field.replace('message.replyMarkup.inlineKeyboard', 'buttons').replace('message.body', 'textMessage'), message: p.message }));
      if (problems.length > 0) return { ok: false, problems };
      return { ok: true, content: c, summary: t.textMessage, template: true };
    }
  }
}
