/**
 * Meta's Send API simulator, one instance per product (Messenger, Instagram): what graph.facebook.com
 * does with
 *   POST /{version}/{page-id | ig-id}/messages    Authorization: Bearer {token} (or ?access_token=)
 * checked as Meta documents it (Messenger Platform "Send API" reference; Instagram Messaging API):
 * a known id and its token (else 190 / 100 subcode 33); `recipient.id`, `messaging_type` (RESPONSE,
 * UPDATE, MESSAGE_TAG with a `tag`) and `message` required, the message a `text` or an
 * `attachment` but not both; text at most 2,000 characters (Messenger) or 1,000 bytes (Instagram);
 * a generic template of 1-10 elements with titles, at most 3 buttons each; an image, audio, video or
 * (Messenger only) file attachment with a payload URL. Answers
 * {"recipient_id","message_id":"m_…"} or the Graph error object. Webhooks, signed with
 * X-Hub-Signature-256: Messenger `delivery` (mids) then `read` (watermark); Instagram `read` (mid).
 *
 * By recipient, for tests: …9991 → 100/2018001 no matching user; …9992 → 10/2018278 outside the
 * allowed window; …9993 → 613 rate limit.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { META_LIMITS, type MetaProduct } from '../../connectors/meta-send/index.js';
import { metaSignature } from '../../connectors/shared/signatures.js';
import { HttpSimulator, type Callback, type SimAnswer, type SimOptions, type SimRequest } from '../shared/http-sim.js';

export interface MetaSendSimOptions extends SimOptions {
  readonly product: MetaProduct;
  readonly appSecret: string;
  /** page (or IG account) id → the token it accepts. */
  readonly pages: ReadonlyMap<string, string>;
}

function graphError(status: number, code: number, message: string, subcode?: number, type = 'OAuthException'): SimAnswer {
  return { status, body: { error: { message, type, code, ...(subcode !== undefined ? { error_subcode: subcode } : {}), fbtrace_id: randomBytes(9).toString('base64url') } } };
}

const MESSAGING_TYPES = new Set(['RESPONSE', 'UPDATE', 'MESSAGE_TAG']);

export class MetaSendSimulator extends HttpSimulator {
  constructor(
    private readonly meta: MetaSendSimOptions,
    log: Logger,
  ) {
    super(meta.product, meta, log);
  }

  protected handle(req: SimRequest): SimAnswer {
    const [path = '', query = ''] = req.url.split('?');
    const m = /^\/(v[0-9]+\.[0-9]+)\/([^/]+)\/messages$/.exec(path);
    if (!m) return graphError(400, 2500, `Unknown path components: ${path}`);
    const pageId = decodeURIComponent(m[2] ?? '');
    const token = /^Bearer\s+(\S+)$/.exec(req.headers['authorization'] ?? '')?.[1] ?? new URLSearchParams(query).get('access_token') ?? undefined;
    if (token === undefined) return graphError(400, 2500, 'An active access token must be used to query information about the current user.');
    const expected = this.meta.pages.get(pageId);
    if (expected === undefined) return graphError(400, 100, `Unsupported post request. Object with ID '${pageId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`, 33, 'GraphMethodException');
    if (token !== expected) return graphError(401, 190, 'Invalid OAuth access token - Cannot parse access token');
    const b = req.json as { recipient?: { id?: unknown }; messaging_type?: unknown; tag?: unknown; message?: { text?: unknown; attachment?: unknown } } | undefined;
    if (typeof b !== 'object') return graphError(400, 100, '(#100) param recipient must be non-empty.');
    if (typeof b.recipient?.id !== 'string' || b.recipient.id === '') return graphError(400, 100, '(#100) param recipient must be non-empty.');
    if (typeof b.messaging_type !== 'string' || !MESSAGING_TYPES.has(b.messaging_type)) return graphError(400, 100, '(#100) param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}');
    if (b.messaging_type === 'MESSAGE_TAG' && typeof b.tag !== 'string') return graphError(400, 100, '(#100) param tag must be non-empty when messaging_type is MESSAGE_TAG');
    const msg = b.message;
    if (typeof msg !== 'object') return graphError(400, 100, '(#100) param message must be non-empty.');
    if ((msg.text === undefined) === (msg.attachment === undefined)) return graphError(400, 100, '(#100) Exactly one of text or attachment must be provided in message');
    if (msg.text !== undefined) {
      if (typeof msg.text !== 'string' || msg.text === '') return graphError(400, 100, '(#100) param message[text] must be non-empty.');
      if (this.meta.product === 'messenger' && Array.from(msg.text).length > META_LIMITS.messengerText) return graphError(400, 100, `(#100) Length of param message[text] must be less than or equal to ${META_LIMITS.messengerText}`);
      if (this.meta.product === 'instagram' && Buffer.byteLength(msg.text) > META_LIMITS.instagramTextBytes) return graphError(400, 100, '(#100) Length of param message[text] must be less than or equal to 1000');
    } else {
      const problem = this.templateProblem(msg.attachment);
      if (problem) return graphError(400, 100, `(#100) ${problem}`);
    }
    const to = b.recipient.id;
    if (to.endsWith('9991')) return graphError(400, 100, '(#100) No matching user found', 2018001);
    if (to.endsWith('9992')) return graphError(400, 10, '(#10) This message is sent outside of allowed window.', this.meta.product === 'messenger' ? 2018278 : 2534022);
    if (to.endsWith('9993')) return graphError(400, 613, '(#613) Calls to this api have exceeded the rate limit.');
    const mid = `m_${randomBytes(24).toString('base64url')}`;
    this.scheduleEvents(pageId, to, mid);
    return { status: 200, body: { recipient_id: to, message_id: mid } };
  }

  private templateProblem(attachment: unknown): string | undefined {
    const a = attachment as { type?: unknown; payload?: { template_type?: unknown; elements?: unknown; url?: unknown; is_reusable?: unknown } } | undefined;
    if (a?.type === 'image' || a?.type === 'audio' || a?.type === 'video' || a?.type === 'file') {
      // An attachment by URL; Instagram has no file attachments.
      if (this.meta.product === 'instagram' && a.type === 'file') return 'param message[attachment][type] must be one of {image, audio, video, template}';
      if (typeof a.payload?.url !== 'string' || !/^https?:\/\/[^/\s]+/i.test(a.payload.url)) return 'param message[attachment][payload][url] must be a valid URL.';
      if (a.payload.is_reusable !== undefined && typeof a.payload.is_reusable !== 'boolean') return 'param message[attachment][payload][is_reusable] must be a boolean.';
      return undefined;
    }
    if (a?.type !== 'template') return 'param message[attachment][type] must be one of {image, audio, video, file, template}';
    if (a.payload?.template_type !== 'generic') return 'param message[attachment][payload][template_type] is not supported by the simulator';
    const els = a.payload.elements;
    if (!Array.isArray(els) || els.length === 0) return 'param message[attachment][payload][elements] must be non-empty.';
    if (els.length > META_LIMITS.elements) return `param message[attachment][payload][elements] must have at most ${META_LIMITS.elements} elements.`;
    for (const e of els as { title?: unknown; subtitle?: unknown; buttons?: unknown }[]) {
      if (typeof e.title !== 'string' || e.title === '') return 'param message[attachment][payload][elements][title] must be non-empty.';
      if (Array.from(e.title).length > META_LIMITS.elementTitle) return 'param elements[title] must be at most 80 characters.';
      if (typeof e.subtitle === 'string' && Array.from(e.subtitle).length > META_LIMITS.elementSubtitle) return 'param elements[subtitle] must be at most 80 characters.';
      if (Array.isArray(e.buttons)) {
        if (e.buttons.length > META_LIMITS.buttons) return 'param elements[buttons] must have at most 3 buttons.';
        for (const btn of e.buttons as { type?: unknown; title?: unknown; url?: unknown; payload?: unknown }[]) {
          if (typeof btn.title !== 'string' || Array.from(btn.title).length > META_LIMITS.buttonTitle) return 'param buttons[title] must be non-empty and at most 20 characters.';
          if (btn.type === 'web_url' ? typeof btn.url !== 'string' : btn.type === 'postback' ? typeof btn.payload !== 'string' : true) return 'param buttons[type] must be web_url (with url) or postback (with payload).';
        }
      }
    }
    return undefined;
  }

  private scheduleEvents(pageId: string, user: string, mid: string): void {
    const o = this.outcome();
    if (this.meta.product === 'messenger') {
      this.schedule(this.opts.deliveredDelayMs, () => this.messaging(pageId, user, { delivery: { mids: [mid], watermark: Date.now() } }));
      if (o.read) this.schedule(this.opts.deliveredDelayMs + this.opts.readDelayMs, () => this.messaging(pageId, user, { read: { watermark: Date.now() } }));
    } else if (o.read) {
      this.schedule(this.opts.deliveredDelayMs + this.opts.readDelayMs, () => this.messaging(pageId, user, { read: { mid } }));
    }
  }

  /** One messaging event as Meta posts it, signed with the app secret. */
  messaging(pageId: string, user: string, event: Record<string, unknown>): Callback | undefined {
    if (this.callbackUrl === undefined) return undefined;
    const body = JSON.stringify({
      object: this.meta.product === 'messenger' ? 'page' : 'instagram',
      entry: [{ id: pageId, time: Date.now(), messaging: [{ sender: { id: user }, recipient: { id: pageId }, timestamp: Date.now(), ...event }] }],
    });
    return { url: this.callbackUrl, headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(this.meta.appSecret, body) }, body };
  }

  incomingText(pageId: string, user: string, text: string): Callback | undefined {
    return this.messaging(pageId, user, { message: { mid: `m_${randomBytes(12).toString('base64url')}`, text } });
  }
}
