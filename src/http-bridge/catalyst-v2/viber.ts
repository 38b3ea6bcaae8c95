/**
 * Catalyst v2 Viber (000_efc21bb1ba94fac5.txt, "Viber Channel"):
 *   POST /api/v2/messages/viber             text with `trackingData` → send_message type text
 *   POST /api/v2/messages/viber/rich-media  a button grid → send_message type rich_media
 * `to` is the Viber user id; `from` names one of the account's bots.
 */
import { z } from 'zod';
import type { AccountConfig } from '../../core/config.js';
import type { ContentOf } from '../../core/channel-content.js';
import { newMessageId } from '../../core/ids.js';
import { viberLimitProblems } from '../../connectors/viber/index.js';
import type { HttpRequest, HttpResponse, RouteDocs } from '../http.js';
import { billingSchema, channelEnvelope, channelSendDocs, chatId, sendChannel, trackingSchema, type BuildResult, type ChannelDeps } from './channel-send.js';

const from = z.string().min(1).max(128).describe('One of the account’s Viber bots (channels.viber.senders[].from)');
const envelope = { to: chatId.describe('The Viber user id'), from, tracking: trackingSchema, billing: billingSchema };

export const ViberTextSchema = z.strictObject({
  ...envelope,
  message: z.strictObject({ type: z.literal('text').default('text'), body: z.string().min(1), trackingData: z.string().optional() }),
});

export const ViberRichMediaSchema = z.strictObject({
  ...envelope,
  message: z.strictObject({
    type: z.literal('rich_media'),
    altText: z.string().min(1).describe('Shown by clients that cannot show rich media'),
    trackingData: z.string().optional(),
    richMedia: z.strictObject({
      buttonsGroupColumns: z.number().int().default(6),
      buttonsGroupRows: z.number().int().default(7),
      buttons: z.array(
        z.strictObject({
          text: z.string().min(1),
          actionType: z.enum(['open-url', 'reply', 'none']).default('reply'),
          actionBody: z.string().default(''),
          columns: z.number().int().optional(),
          rows: z.number().int().optional(),
          image: z.string().url().optional(),
          bgColor: z.string().regex(/^#[0-9A-Fa-f]{6}$/).optional(),
        }),
      ),
    }),
  }),
});

type Envelope = { to: string; from: string; tracking?: z.infer<typeof trackingSchema>; billing?: z.infer<typeof billingSchema> };

function build(account: AccountConfig, r: Envelope, now: number, content: ContentOf<'viber'>, summary: string): BuildResult {
  const problems = viberLimitProblems(content);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, message: { ...channelEnvelope('viber', newMessageId(now), account, r.from, r.to, r, now), body: { kind: 'text', text: summary }, content } };
}

export function viberRoutes(deps: ChannelDeps): { pattern: string; docs: RouteDocs; handle: (req: HttpRequest, account: AccountConfig) => Promise<HttpResponse> }[] {
  return [
    {
      pattern: '/api/v2/messages/viber',
      docs: channelSendDocs('viber', 'Send a Viber text message', ViberTextSchema, 'Text (at most 7,000 characters) through the Viber REST Bot API; `trackingData` comes back with the user’s replies.'),
      handle: (req, account) =>
        sendChannel(req, account, deps, 'viber', ViberTextSchema, (r, now) =>
          build(account, r, now, { kind: 'viber.text', text: r.message.body, ...(r.message.trackingData !== undefined ? { trackingData: r.message.trackingData } : {}) }, r.message.body),
        ),
    },
    {
      pattern: '/api/v2/messages/viber/rich-media',
      docs: channelSendDocs('viber', 'Send a Viber rich media message', ViberRichMediaSchema, 'A grid of buttons (group 1-6 columns × 1-7 rows, at most 6 groups as a carousel) with `altText` for older clients.'),
      handle: (req, account) =>
        sendChannel(req, account, deps, 'viber', ViberRichMediaSchema, (r, now) => {
          const m = r.message;
          return build(
            account,
            r,
            now,
            {
              kind: 'viber.rich_media',
              altText: m.altText,
              columns: m.richMedia.buttonsGroupColumns,
              rows: m.richMedia.buttonsGroupRows,
              buttons: m.richMedia.buttons.map((b) => ({
                text: b.text,
                actionType: b.actionType,
                actionBody: b.actionBody,
                ...(b.columns !== undefined ? { columns: b.columns } : {}),
                ...(b.rows !== undefined ? { rows: b.rows } : {}),
                ...(b.image !== undefined ? { image: b.image } : {}),
                ...(b.bgColor !== undefined ? { bgColor: b.bgColor } : {}),
              })),
              ...(m.trackingData !== undefined ? { trackingData: m.trackingData } : {}),
            },
            m.altText,
          );
        }),
    },
  ];
}
