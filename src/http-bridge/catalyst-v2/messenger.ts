/**
 * Catalyst v2 Messenger (000_efc21bb1ba94fac5.txt, "Messenger Channel"):
 *   POST /api/v2/messages/messenger             text → Send API message.text
 *   POST /api/v2/messages/messenger/structured  generic template → message.attachment (template_type generic)
 * `to` is the user's page-scoped id (PSID); `from` names one of the account's pages.
 */
import { z } from 'zod';
import type { AccountConfig } from '../../core/config.js';
import type { Channel } from '../../core/message.js';
import { newMessageId } from '../../core/ids.js';
import { metaLimitProblems, type MetaContent, type MetaProduct } from '../../connectors/meta-send/index.js';
import type { HttpRequest, HttpResponse, RouteDocs } from '../http.js';
import { billingSchema, channelEnvelope, channelSendDocs, chatId, sendChannel, trackingSchema, type BuildResult, type ChannelDeps } from './channel-send.js';

export function metaEnvelope(product: MetaProduct): { to: z.ZodString; from: z.ZodString; tracking: typeof trackingSchema; billing: typeof billingSchema } {
  return {
    to: chatId.describe(product === 'messenger' ? 'The user’s page-scoped id (PSID)' : 'The user’s Instagram-scoped id (IGSID)'),
    from: z.string().min(1).max(128).describe(`One of the account’s ${product === 'messenger' ? 'Facebook pages' : 'Instagram accounts'} (channels.${product}.senders[].from)`),
    tracking: trackingSchema,
    billing: billingSchema,
  };
}

export const MessengerTextSchema = z.strictObject({
  ...metaEnvelope('messenger'),
  message: z.strictObject({ type: z.literal('text').default('text'), body: z.string().min(1) }),
});

const button = z.union([
  z.strictObject({ type: z.literal('web_url'), url: z.string().url(), title: z.string().min(1) }),
  z.strictObject({ type: z.literal('postback'), payload: z.string().min(1).max(1000), title: z.string().min(1) }),
]);

export const MessengerStructuredSchema = z.strictObject({
  ...metaEnvelope('messenger'),
  message: z.strictObject({
    type: z.literal('structured_message'),
    attachment: z.strictObject({
      type: z.literal('template'),
      payload: z.strictObject({
        templateType: z.literal('generic'),
        elements: z.array(
          z.strictObject({
            title: z.string().min(1),
            subtitle: z.string().optional(),
            image_url: z.string().url().optional().describe('As the seed writes it (imageUrl is accepted too)'),
            imageUrl: z.string().url().optional(),
            buttons: z.array(button).default([]),
          }),
        ),
      }),
    }),
  }),
});

type Envelope = { to: string; from: string; tracking?: z.infer<typeof trackingSchema>; billing?: z.infer<typeof billingSchema> };

export function buildMeta(product: MetaProduct, account: AccountConfig, r: Envelope, now: number, content: MetaContent, summary: string): BuildResult {
  const problems = metaLimitProblems(product, content);
  if (problems.length > 0) return { ok: false, problems };
  const channel: Channel = product;
  return { ok: true, message: { ...channelEnvelope(channel, newMessageId(now), account, r.from, r.to, r, now), body: { kind: 'text', text: summary }, content } };
}

export function messengerRoutes(deps: ChannelDeps): { pattern: string; docs: RouteDocs; handle: (req: HttpRequest, account: AccountConfig) => Promise<HttpResponse> }[] {
  return [
    {
      pattern: '/api/v2/messages/messenger',
      docs: channelSendDocs('messenger', 'Send a Messenger text message', MessengerTextSchema, 'Text (at most 2,000 characters) through Meta’s Send API, `messaging_type` RESPONSE (within 24 hours of the user’s last message).'),
      handle: (req, account) => sendChannel(req, account, deps, 'messenger', MessengerTextSchema, (r, now) => buildMeta('messenger', account, r, now, { kind: 'meta.text', text: r.message.body }, r.message.body)),
    },
    {
      pattern: '/api/v2/messages/messenger/structured',
      docs: channelSendDocs('messenger', 'Send a Messenger structured message', MessengerStructuredSchema, 'A generic template: 1-10 elements, each with a title, optional subtitle and image, and at most 3 buttons.'),
      handle: (req, account) =>
        sendChannel(req, account, deps, 'messenger', MessengerStructuredSchema, (r, now) => {
          const elements = r.message.attachment.payload.elements.map((e) => {
            const image = e.imageUrl ?? e.image_url;
            return { title: e.title, ...(e.subtitle !== undefined ? { subtitle: e.subtitle } : {}), ...(image !== undefined ? { imageUrl: image } : {}), buttons: e.buttons };
          });
          return buildMeta('messenger', account, r, now, { kind: 'messenger.generic', elements }, elements[0]?.title ?? '[template]');
        }),
    },
  ];
}
