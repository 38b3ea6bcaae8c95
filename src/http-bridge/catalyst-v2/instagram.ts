/**
 * Catalyst v2 Instagram (000_efc21bb1ba94fac5.txt, "Instagram Channel"):
 *   POST /api/v2/messages/instagram        a DM → Send API message.text
 *   POST /api/v2/messages/instagram/story  a reply to a story mention: the caption sent to the user
 *                                          who mentioned the account (the Send API names no story;
 *                                          the story id stays with the message in Catalyst)
 */
import { z } from 'zod';
import type { AccountConfig } from '../../core/config.js';
import type { HttpRequest, HttpResponse, RouteDocs } from '../http.js';
import { channelSendDocs, sendChannel, type ChannelDeps } from './channel-send.js';
import { buildMeta, metaEnvelope } from './messenger.js';

export const InstagramTextSchema = z.strictObject({
  ...metaEnvelope('instagram'),
  message: z.strictObject({ type: z.literal('text').default('text'), body: z.string().min(1) }),
});

export const InstagramStorySchema = z.strictObject({
  ...metaEnvelope('instagram'),
  message: z.strictObject({ type: z.literal('story_mention'), storyId: z.string().min(1).max(128), caption: z.string().min(1) }),
});

export function instagramRoutes(deps: ChannelDeps): { pattern: string; docs: RouteDocs; handle: (req: HttpRequest, account: AccountConfig) => Promise<HttpResponse> }[] {
  return [
    {
      pattern: '/api/v2/messages/instagram',
      docs: channelSendDocs('instagram', 'Send an Instagram DM', InstagramTextSchema, 'Text (at most 1,000 bytes) through Meta’s Send API for Instagram. Instagram sends no delivery events: a message Meta accepted is delivered; a read comes back as a `read` webhook.'),
      handle: (req, account) => sendChannel(req, account, deps, 'instagram', InstagramTextSchema, (r, now) => buildMeta('instagram', account, r, now, { kind: 'meta.text', text: r.message.body }, r.message.body)),
    },
    {
      pattern: '/api/v2/messages/instagram/story',
      docs: channelSendDocs('instagram', 'Reply to an Instagram story mention', InstagramStorySchema, 'The caption goes to the user whose story mentioned the account.'),
      handle: (req, account) =>
        sendChannel(req, account, deps, 'instagram', InstagramStorySchema, (r, now) =>
          buildMeta('instagram', account, r, now, { kind: 'instagram.story_reply', storyId: r.message.storyId, text: r.message.caption }, r.message.caption),
        ),
    },
  ];
}
