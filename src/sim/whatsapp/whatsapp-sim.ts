/**
 * The WhatsApp Cloud API simulator: what graph.facebook.com does with
 *   POST /{version}/{phone-number-id}/messages   Authorization: Bearer {token}
 * checked the way Meta checks it, against Meta's own OpenAPI document (spec.ts) and Meta's limits
 * (connectors/whatsapp/limits.ts), answered with Meta's bodies (success: messaging_product,
 * contacts, messages[0].id = wamid; errors: the Graph error object with Meta's codes), then the
 * webhooks Meta sends (statuses sent → delivered|failed → read), signed with X-Hub-Signature-256.
 *
 * Deterministic outcomes for tests, by destination: …9991 → a `failed` status (131026, message
 * undeliverable); …9992 → refused at once (131030, recipient not in allowed list); …9993 → 429
 * (130429, rate limit hit). A media link on a host containing `unreachable` → a `failed` status
 * (131053, media upload error). A template not in `templates` → 132001 (template does not exist).
 *
 * Template management, the WABA's `message_templates` edge (POST create, GET ?name=, DELETE
 * ?name=), with any of the numbers' tokens: a created template is PENDING, then decided
 * `templateApprovalMs` after submission — REJECTED (INVALID_FORMAT) when its body opens with a
 * parameter or puts two side by side, as Meta's review refuses, else APPROVED — and an approved one
 * can be sent.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { metaSignature } from '../../connectors/shared/signatures.js';
import { WA_LIMITS } from '../../connectors/whatsapp/limits.js';
import { HttpSimulator, type SimAnswer, type SimOptions, type SimRequest } from '../shared/http-sim.js';
import { describeErrors, whatsappMessageValidator } from './spec.js';

export interface WhatsAppSimOptions extends SimOptions {
  readonly appSecret: string;
  /** phone number id → the access token it accepts. */
  readonly numbers: ReadonlyMap<string, string>;
  /** Approved templates; any other name is refused with 132001 (unless created and approved through the edge). */
  readonly templates: readonly string[];
  /** How long after submission a template created through the edge is decided (default 2 s). */
  readonly templateApprovalMs?: number;
}

interface SimTemplate {
  readonly id: string;
  readonly name: string;
  readonly language: string;
  readonly category: string;
  readonly at: number;
  /** The review's verdict, given once templateApprovalMs has passed. */
  readonly verdict: 'APPROVED' | 'REJECTED';
}

const TEMPLATE_CATEGORIES = ['UTILITY', 'MARKETING', 'AUTHENTICATION'];

/** The seed's and the Kaleyra seed's template names, approved in sandbox mode. */
export const SANDBOX_TEMPLATES = ['order_confirmation', 'holiday_promo_v2', 'intro_catalog_offer', 'hello_world'];

function graphError(status: number, code: number, message: string, type = 'OAuthException', details?: string, subcode?: number): SimAnswer {
  return {
    status,
    body: {
      error: {
        message,
        type,
        code,
        ...(subcode !== undefined ? { error_subcode: subcode } : {}),
        ...(details !== undefined ? { error_data: { messaging_product: 'whatsapp', details } } : {}),
        fbtrace_id: randomBytes(9).toString('base64url'),
      },
    },
  };
}

type Json = Record<string, unknown>;

/** Meta's limits on a body the schema accepted (the schema has no lengths). */
function limitError(b: Json): SimAnswer | undefined {
  const len = (s: unknown): number => (typeof s === 'string' ? Array.from(s).length : 0);
  const text = b['text'] as { body?: unknown } | undefined;
  if (text && len(text.body) > WA_LIMITS.textBody) return graphError(400, 100, `(#100) Param text['body'] must be at most ${WA_LIMITS.textBody} characters long.`);
  for (const m of ['image', 'video', 'document']) {
    const media = b[m] as { caption?: unknown } | undefined;
    if (media && len(media.caption) > WA_LIMITS.caption) return graphError(400, 100, `(#100) Param ${m}['caption'] must be at most ${WA_LIMITS.caption} characters long.`);
  }
  const i = b['interactive'] as { body?: { text?: unknown }; footer?: { text?: unknown }; action?: { buttons?: { reply?: { title?: unknown } }[]; sections?: { rows?: unknown[] }[] } } | undefined;
  if (i) {
    if (len(i.body?.text) > WA_LIMITS.interactiveBody) return graphError(400, 131009, '(#131009) Parameter value is not valid', 'OAuthException', `Body text length invalid. Max length: ${WA_LIMITS.interactiveBody}`);
    if (len(i.footer?.text) > WA_LIMITS.footerText) return graphError(400, 131009, '(#131009) Parameter value is not valid', 'OAuthException', `Footer text length invalid. Max length: ${WA_LIMITS.footerText}`);
    const buttons = i.action?.buttons ?? [];
    if (buttons.length > WA_LIMITS.replyButtons) return graphError(400, 131009, '(#131009) Parameter value is not valid', 'OAuthException', `Buttons count ${buttons.length} is not valid. Max: ${WA_LIMITS.replyButtons}`);
    if (buttons.some((x) => len(x.reply?.title) > WA_LIMITS.buttonTitle)) return graphError(400, 131009, '(#131009) Parameter value is not valid', 'OAuthException', `Button title length invalid. Max length: ${WA_LIMITS.buttonTitle}`);
    const rows = (i.action?.sections ?? []).reduce((n, s) => n + (s.rows?.length ?? 0), 0);
    if (rows > WA_LIMITS.listRows) return graphError(400, 131009, '(#131009) Parameter value is not valid', 'OAuthException', `Total row count exceed max allowed count: ${WA_LIMITS.listRows}`);
  }
  return undefined;
}

export class WhatsAppSimulator extends HttpSimulator {
  constructor(
    private readonly wa: WhatsAppSimOptions,
    log: Logger,
  ) {
    super('whatsapp', wa, log);
    // Compile now rather than on the first request.
    whatsappMessageValidator();
  }

  private readonly created = new Map<string, SimTemplate>();

  private templateStatus(t: SimTemplate): { status: string; rejected_reason: string } {
    if (Date.now() - t.at < (this.wa.templateApprovalMs ?? 2000)) return { status: 'PENDING', rejected_reason: 'NONE' };
    return t.verdict === 'APPROVED' ? { status: 'APPROVED', rejected_reason: 'NONE' } : { status: 'REJECTED', rejected_reason: 'INVALID_FORMAT' };
  }

  /** The WABA's message_templates edge. */
  private templatesEdge(req: SimRequest): SimAnswer {
    const token = /^Bearer\s+(\S+)$/.exec(req.headers['authorization'] ?? '')?.[1];
    if (token === undefined || ![...this.wa.numbers.values()].includes(token)) return graphError(401, 190, 'Invalid OAuth access token - Cannot parse access token');
    const name = new URLSearchParams(req.url.split('?')[1] ?? '').get('name');
    if (req.method === 'GET') {
      const list = [...this.created.values()].filter((t) => name === null || t.name === name);
      return { status: 200, body: { data: list.map((t) => ({ name: t.name, language: t.language, category: t.category, id: t.id, ...this.templateStatus(t) })) } };
    }
    if (req.method === 'DELETE') {
      if (name === null) return graphError(400, 100, '(#100) The parameter name is required.');
      if (!this.created.delete(name)) return graphError(404, 100, `(#100) Template ${name} does not exist`);
      return { status: 200, body: { success: true } };
    }
    if (req.method !== 'POST') return graphError(400, 100, 'Unsupported request.', 'GraphMethodException');
    const b = (typeof req.json === 'object' && req.json !== null ? req.json : {}) as { name?: unknown; language?: unknown; category?: unknown; components?: unknown };
    if (typeof b.name !== 'string' || !/^[a-z0-9_]{1,512}$/.test(b.name)) return graphError(400, 100, '(#100) Invalid parameter', 'OAuthException', 'name must be lower-case letters, digits and underscores');
    if (typeof b.language !== 'string' || !/^[a-z]{2,3}(_[A-Za-z]{2,4})?$/.test(b.language)) return graphError(400, 100, '(#100) Invalid parameter', 'OAuthException', 'language is not a supported language code');
    if (typeof b.category !== 'string' || !TEMPLATE_CATEGORIES.includes(b.category)) return graphError(400, 100, '(#100) Invalid parameter', 'OAuthException', `category must be one of ${TEMPLATE_CATEGORIES.join(', ')}`);
    const components = Array.isArray(b.components) ? (b.components as { type?: unknown; text?: unknown }[]) : [];
    const body = components.find((c) => c.type === 'BODY');
    if (typeof body?.text !== 'string' || body.text === '') return graphError(400, 100, '(#100) Invalid parameter', 'OAuthException', 'a BODY component with text is required');
    if (this.created.has(b.name)) return graphError(400, 100, '(#100) Invalid parameter', 'OAuthException', `Content in this language already exists for ${b.name}`, 2388024);
    const text = body.text.trim();
    // Meta's review: a body may not open with a parameter, nor put two parameters side by side.
    const verdict = /^\{\{[0-9]+\}\}/.test(text) || /\{\{[0-9]+\}\}\s*\{\{[0-9]+\}\}/.test(text) ? 'REJECTED' : 'APPROVED';
    const t: SimTemplate = { id: String(BigInt(`0x${randomBytes(6).toString('hex')}`) + 1_000_000_000_000_000n), name: b.name, language: b.language, category: b.category, at: Date.now(), verdict };
    this.created.set(t.name, t);
    return { status: 200, body: { id: t.id, status: 'PENDING', category: t.category } };
  }

  private templateApproved(name: string): boolean {
    if (this.wa.templates.includes(name)) return true;
    const t = this.created.get(name);
    return t !== undefined && this.templateStatus(t).status === 'APPROVED';
  }

  protected handle(req: SimRequest): SimAnswer {
    const path = req.url.split('?')[0] ?? '';
    if (/^\/v[0-9]+\.[0-9]+\/[0-9]+\/message_templates$/.test(path)) return this.templatesEdge(req);
    const m = /^\/(v[0-9]+\.[0-9]+)\/([^/]+)\/messages$/.exec(path);
    if (!m) return graphError(400, 2500, `Unknown path components: ${path}`);
    if (req.method !== 'POST') return graphError(400, 100, 'Unsupported get request.', 'GraphMethodException');
    const phoneNumberId = decodeURIComponent(m[2] ?? '');
    const auth = req.headers['authorization'] ?? '';
    const token = /^Bearer\s+(\S+)$/.exec(auth)?.[1];
    if (token === undefined) return graphError(400, 2500, 'An active access token must be used to query information about the current user.');
    const expected = this.wa.numbers.get(phoneNumberId);
    if (expected === undefined) {
      return graphError(400, 100, `Unsupported post request. Object with ID '${phoneNumberId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`, 'GraphMethodException', undefined, 33);
    }
    if (token !== expected) return graphError(401, 190, 'Invalid OAuth access token - Cannot parse access token');
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '') || typeof req.json !== 'object' || req.json === null) {
      return graphError(400, 100, '(#100) The parameter messaging_product is required.');
    }
    const validate = whatsappMessageValidator();
    if (!validate(req.json)) return graphError(400, 100, '(#100) Invalid parameter', 'OAuthException', describeErrors(validate.errors));
    const b = req.json as Json;
    const limit = limitError(b);
    if (limit) return limit;
    const to = (typeof b['to'] === 'string' ? b['to'] : '').replace(/^\+/, '');
    if (to.endsWith('9992')) return graphError(400, 131030, '(#131030) Recipient phone number not in allowed list', 'OAuthException', 'Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again.');
    if (to.endsWith('9993')) return graphError(429, 130429, '(#130429) Rate limit hit', 'OAuthException', 'Cloud API message throughput has been reached.');
    const template = b['template'] as { name?: string; language?: { code?: string } } | undefined;
    if (template && !this.templateApproved(template.name ?? '')) {
      return graphError(404, 132001, '(#132001) Template name does not exist in the translation', 'OAuthException', `template name (${template.name ?? ''}) does not exist in ${template.language?.code ?? ''}`);
    }
    const wamid = `wamid.${Buffer.from(`${to}${randomBytes(12).toString('hex')}`).toString('base64')}`;
    const link = (['image', 'video', 'document', 'audio'].map((k) => (b[k] as { link?: string } | undefined)?.link).find((l) => l !== undefined)) ?? '';
    const failCode = to.endsWith('9991') ? 131026 : /^https?:\/\/[^/]*unreachable/i.test(link) ? 131053 : undefined;
    this.scheduleStatuses(phoneNumberId, wamid, to, failCode);
    return {
      status: 200,
      body: {
        messaging_product: 'whatsapp',
        contacts: [{ input: b['to'], wa_id: to }],
        messages: [{ id: wamid, ...(template ? { message_status: 'accepted' } : {}) }],
      },
    };
  }

  private scheduleStatuses(phoneNumberId: string, wamid: string, recipient: string, failCode: number | undefined): void {
    const o = this.outcome();
    const failed = failCode !== undefined || o.failed;
    const code = failCode ?? 131026;
    this.schedule(0, () => this.statusCallback(phoneNumberId, { id: wamid, status: 'sent', recipient_id: recipient }));
    this.schedule(this.opts.deliveredDelayMs, () =>
      this.statusCallback(
        phoneNumberId,
        failed
          ? { id: wamid, status: 'failed', recipient_id: recipient, errors: [{ code, title: code === 131053 ? 'Media upload error' : 'Message undeliverable', message: code === 131053 ? 'Media upload error' : 'Message undeliverable', error_data: { details: 'simulated' } }] }
          : { id: wamid, status: 'delivered', recipient_id: recipient },
      ),
    );
    if (!failed && o.read) this.schedule(this.opts.deliveredDelayMs + this.opts.readDelayMs, () => this.statusCallback(phoneNumberId, { id: wamid, status: 'read', recipient_id: recipient }));
  }

  /** The webhook body Meta posts for a status, signed with the app secret. */
  statusCallback(phoneNumberId: string, status: Json): { url: string; headers: Record<string, string>; body: string } | undefined {
    return this.signed(phoneNumberId, { statuses: [{ ...status, timestamp: String(Math.floor(Date.now() / 1000)), conversation: { id: randomBytes(8).toString('hex'), origin: { type: 'service' } }, pricing: { billable: true, pricing_model: 'PMP', category: 'service' } }] });
  }

  /** A user's text message to one of our numbers, as Meta posts it (tests and the sandbox). */
  incomingText(phoneNumberId: string, from: string, text: string): { url: string; headers: Record<string, string>; body: string } | undefined {
    return this.signed(phoneNumberId, {
      contacts: [{ profile: { name: 'Sandbox User' }, wa_id: from }],
      messages: [{ from, id: `wamid.${randomBytes(12).toString('hex')}`, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: text } }],
    });
  }

  private signed(phoneNumberId: string, value: Json): { url: string; headers: Record<string, string>; body: string } | undefined {
    if (this.callbackUrl === undefined) return undefined;
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: 'WABA-SANDBOX', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: phoneNumberId, phone_number_id: phoneNumberId }, ...value } }] }],
    });
    return { url: this.callbackUrl, headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(this.wa.appSecret, body) }, body };
  }
}
