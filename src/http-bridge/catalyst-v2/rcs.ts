/**
 * Catalyst v2 RCS (000_efc21bb1ba94fac5.txt, "Google RCS Channel"):
 *   POST /api/v2/messages/rcs             text (the seed also writes /messages/ras: both are served)
 *   POST /api/v2/messages/rcs/rich-card   a standalone rich card: title, description, media height, suggestions
 * → RBM agentMessages. `fallback` ({enabled, channel: "sms", body}) at the top level (the text
 * example) or inside `message` (the rich-card example): when the phone cannot take RCS or the send
 * fails, the message goes out as an SMS and its status says `fallbackChannel: "sms"`.
 * The seed's suggestion shape `action.urlAction.openUrl.url` is read as RBM's `openUrlAction.url`
 * (both are accepted); a suggestion without `displayText` gets one from its URL's host.
 */
import { z } from 'zod';
import type { AccountConfig } from '../../core/config.js';
import type { ContentOf, RcsSuggestion } from '../../core/channel-content.js';
import { newMessageId } from '../../core/ids.js';
import { rcsLimitProblems } from '../../connectors/rcs/index.js';
import type { HttpRequest, HttpResponse, RouteDocs } from '../http.js';
import { billingSchema, channelEnvelope, channelSendDocs, sendChannel, trackingSchema, type BuildResult, type ChannelDeps } from './channel-send.js';
import { normaliseMsisdn } from '../../core/msisdn.js';

const fallback = z
  .strictObject({ enabled: z.boolean(), channel: z.literal('sms').default('sms'), body: z.string().min(1).max(1600).optional() })
  .optional()
  .describe('Send as SMS when the phone cannot take RCS or the send fails; `body` defaults to the message’s text');

const envelope = {
  to: z.string().min(1).max(32).refine((v) => normaliseMsisdn(v) !== undefined, 'not a valid E.164 phone number'),
  from: z.string().min(1).max(128).describe('One of the account’s RBM agents (channels.rcs.senders[].from)'),
  tracking: trackingSchema,
  billing: billingSchema,
  fallback,
};

const suggestion = z.strictObject({
  displayText: z.string().min(1).optional(),
  postbackData: z.string().max(2048).optional(),
  action: z
    .strictObject({
      urlAction: z.strictObject({ openUrl: z.strictObject({ url: z.string().url() }) }).optional(),
      openUrlAction: z.strictObject({ url: z.string().url() }).optional(),
    })
    .optional(),
});

export const RcsTextSchema = z.strictObject({
  ...envelope,
  message: z.strictObject({ type: z.literal('text').default('text'), body: z.string().min(1), suggestions: z.array(suggestion).max(11).optional() }),
});

export const RcsRichCardSchema = z.strictObject({
  ...envelope,
  message: z.strictObject({
    type: z.literal('rich_card'),
    card: z.strictObject({
      title: z.string().min(1).optional(),
      description: z.string().min(1).optional(),
      media: z.strictObject({ height: z.enum(['SHORT', 'MEDIUM', 'TALL']), contentUrl: z.string().url() }).optional(),
      suggestions: z.array(suggestion).default([]),
    }),
    fallback,
  }),
});

type Envelope = { to: string; from: string; tracking?: z.infer<typeof trackingSchema>; billing?: z.infer<typeof billingSchema>; fallback?: z.infer<typeof fallback> };

function suggestionOf(s: z.infer<typeof suggestion>): RcsSuggestion {
  const url = s.action?.openUrlAction?.url ?? s.action?.urlAction?.openUrl.url;
  return { ...(s.displayText !== undefined ? { displayText: s.displayText } : {}), ...(url !== undefined ? { openUrl: url } : {}), ...(s.postbackData !== undefined ? { postbackData: s.postbackData } : {}) };
}

function build(account: AccountConfig, r: Envelope, fb: Envelope['fallback'], now: number, content: ContentOf<'rcs'>, summary: string): BuildResult {
  const problems = rcsLimitProblems(content);
  if (problems.length > 0) return { ok: false, problems };
  const to = normaliseMsisdn(r.to) ?? r.to;
  return {
    ok: true,
    message: {
      ...channelEnvelope('rcs', newMessageId(now), account, r.from, to, r, now),
      body: { kind: 'text', text: summary },
      content,
      ...(fb?.enabled === true ? { fallback: { channel: 'sms' as const, body: fb.body ?? summary } } : {}),
    },
  };
}

export function rcsRoutes(deps: ChannelDeps): { pattern: string; docs: RouteDocs; handle: (req: HttpRequest, account: AccountConfig) => Promise<HttpResponse> }[] {
  const text = (req: HttpRequest, account: AccountConfig): Promise<HttpResponse> =>
    sendChannel(req, account, deps, 'rcs', RcsTextSchema, (r, now) =>
      build(account, r, r.fallback, now, { kind: 'rcs.text', text: r.message.body, ...(r.message.suggestions ? { suggestions: r.message.suggestions.map(suggestionOf) } : {}) }, r.message.body),
    );
  const textDocs = channelSendDocs('rcs', 'Send an RCS text message', RcsTextSchema, 'Text (at most 3,072 characters) through Google RBM, with an optional SMS `fallback`.');
  return [
    { pattern: '/api/v2/messages/rcs', docs: textDocs, handle: text },
    { pattern: '/api/v2/messages/ras', docs: { ...textDocs, summary: 'Send an RCS text message (the seed’s spelling of /messages/rcs)' }, handle: text },
    {
      pattern: '/api/v2/messages/rcs/rich-card',
      docs: channelSendDocs('rcs', 'Send an RCS rich card', RcsRichCardSchema, 'A standalone vertical card (title up to 200, description up to 2,000 characters, media SHORT/MEDIUM/TALL, up to 4 suggestions) with an optional SMS `fallback`.'),
      handle: (req, account) =>
        sendChannel(req, account, deps, 'rcs', RcsRichCardSchema, (r, now) => {
          const c = r.message.card;
          const summary = [c.title, c.description].filter((x) => x !== undefined).join(': ') || '[rich card]';
          return build(
            account,
            r,
            r.message.fallback ?? r.fallback,
            now,
            {
              kind: 'rcs.rich_card',
              ...(c.title !== undefined ? { title: c.title } : {}),
              ...(c.description !== undefined ? { description: c.description } : {}),
              ...(c.media !== undefined ? { media: { height: c.media.height, url: c.media.contentUrl } } : {}),
              suggestions: c.suggestions.map(suggestionOf),
            },
            summary,
          );
        }),
    },
  ];
}
