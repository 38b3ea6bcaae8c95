/**
 * The Google RCS Business Messaging simulator, with its OAuth token endpoint:
 *   POST /token   grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>
 *                 (RFC 7523; the JWT's RS256 signature checked with the service account's public
 *                 key, iss known, aud this URI, the RBM scope, iat/exp current) → {"access_token",
 *                 "expires_in":3599,"token_type":"Bearer"}, else {"error":"invalid_grant",…}
 *   POST /v1/phones/{+E.164}/agentMessages?messageId=&agentId=   Authorization: Bearer <token>
 *                 checked as the RBM reference says (AgentMessage / ContentMessage / RichCard /
 *                 Suggestion): a token of the agent's service account, a messageId (unique: a
 *                 repeat is 409 ALREADY_EXISTS), a contentMessage with exactly one of text,
 *                 richCard, uploadedRbmFile, contentInfo; text at most 3,072 characters; a card's
 *                 media height SHORT|MEDIUM|TALL with a contentInfo.fileUrl; suggestions with text
 *                 at most 25 and postbackData at most 2,048 characters, at most 4 on a card.
 *                 → the AgentMessage with its name. Errors are google.rpc.Status bodies.
 * Events are posted as RBM posts them: {"message":{"data":<base64 event>,"messageId","publishTime"}}
 * signed with X-Goog-Signature (base64 HMAC-SHA512 of the decoded data with the client token):
 * DELIVERED, then READ.
 *
 * By phone number, for tests: …9991 → 404 NOT_FOUND (not RCS-capable); …9993 → 429
 * RESOURCE_EXHAUSTED; …9994 → 503 UNAVAILABLE.
 */
import { createPublicKey, createVerify, randomBytes, type KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { RBM_LIMITS, RBM_SCOPE, rbmSignature } from '../../connectors/rcs/index.js';
import { HttpSimulator, type Callback, type SimAnswer, type SimOptions, type SimRequest } from '../shared/http-sim.js';

export interface RbmSimOptions extends SimOptions {
  readonly clientToken: string;
  /** agent id → its service account (client email and private key; the simulator keeps only the public half). */
  readonly agents: ReadonlyMap<string, { clientEmail: string; privateKey: string }>;
}

function rpcError(code: number, status: string, message: string): SimAnswer {
  return { status: code, body: { error: { code, message, status } } };
}

const HEIGHTS = new Set(['SHORT', 'MEDIUM', 'TALL']);

export class RbmSimulator extends HttpSimulator {
  private readonly keys = new Map<string, KeyObject>();
  private readonly agentOf = new Map<string, string>();
  private readonly tokens = new Map<string, { clientEmail: string; expiresAt: number }>();
  private readonly seen = new Set<string>();

  constructor(
    private readonly rbm: RbmSimOptions,
    log: Logger,
  ) {
    super('rcs', rbm, log);
    for (const [agent, sa] of rbm.agents) {
      this.keys.set(sa.clientEmail, createPublicKey(sa.privateKey));
      this.agentOf.set(agent, sa.clientEmail);
    }
  }

  get tokenUri(): string {
    return `${this.url}/token`;
  }

  protected handle(req: SimRequest): SimAnswer {
    const [path = '', query = ''] = req.url.split('?');
    if (path === '/token' && req.method === 'POST') return this.token(req);
    const m = /^\/v1\/phones\/([^/]+)\/agentMessages$/.exec(path);
    if (!m || req.method !== 'POST') return rpcError(404, 'NOT_FOUND', `Method not found: ${path}`);
    const auth = /^Bearer\s+(\S+)$/.exec(req.headers['authorization'] ?? '')?.[1];
    const session = auth !== undefined ? this.tokens.get(auth) : undefined;
    if (!session || session.expiresAt < Date.now()) return rpcError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
    const q = new URLSearchParams(query);
    const agentId = q.get('agentId') ?? '';
    if (this.agentOf.get(agentId) !== session.clientEmail) return rpcError(403, 'PERMISSION_DENIED', `The caller does not have permission for agent ${agentId}`);
    const messageId = q.get('messageId') ?? '';
    if (messageId === '') return rpcError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument: messageId is required');
    const phone = decodeURIComponent(m[1] ?? '');
    if (!/^\+[1-9][0-9]{6,14}$/.test(phone)) return rpcError(400, 'INVALID_ARGUMENT', `Invalid phone number: ${phone}`);
    const problem = this.contentProblem(req.json);
    if (problem) return rpcError(400, 'INVALID_ARGUMENT', `Request contains an invalid argument: ${problem}`);
    if (this.seen.has(`${agentId}/${messageId}`)) return rpcError(409, 'ALREADY_EXISTS', `Requested entity already exists: phones/${phone}/agentMessages/${messageId}`);
    if (phone.endsWith('9991')) return rpcError(404, 'NOT_FOUND', 'Requested entity was not found.');
    if (phone.endsWith('9993')) return rpcError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded for quota metric agentMessages.');
    if (phone.endsWith('9994')) return rpcError(503, 'UNAVAILABLE', 'The service is currently unavailable.');
    this.seen.add(`${agentId}/${messageId}`);
    this.scheduleEvents(agentId, phone, messageId);
    return { status: 200, body: { name: `phones/${phone}/agentMessages/${messageId}`, sendTime: new Date().toISOString(), contentMessage: (req.json as { contentMessage: unknown }).contentMessage } };
  }

  private token(req: SimRequest): SimAnswer {
    const form = new URLSearchParams(req.body);
    const bad = (description: string): SimAnswer => ({ status: 400, body: { error: 'invalid_grant', error_description: description } });
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'Invalid grant_type' } };
    const jwt = form.get('assertion') ?? '';
    const [h = '', c = '', s = ''] = jwt.split('.');
    let header: { alg?: string };
    let claims: { iss?: string; scope?: string; aud?: string; iat?: number; exp?: number };
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as typeof header;
      claims = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      return bad('Invalid JWT: Token must be a short-lived token and in a reasonable timeframe');
    }
    if (header.alg !== 'RS256') return bad('Invalid JWT: algorithm must be RS256');
    const key = this.keys.get(claims.iss ?? '');
    if (!key) return bad('Invalid JWT Signature.');
    if (!createVerify('RSA-SHA256').update(`${h}.${c}`).verify(key, Buffer.from(s, 'base64url'))) return bad('Invalid JWT Signature.');
    if (claims.aud !== this.tokenUri) return bad('Invalid JWT: aud does not match the token endpoint');
    if (!(claims.scope ?? '').split(' ').includes(RBM_SCOPE)) return { status: 400, body: { error: 'invalid_scope', error_description: 'Invalid OAuth scope or ID token audience provided.' } };
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number' || claims.iat > now + 60 || claims.exp < now || claims.exp - claims.iat > 3600) return bad('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.');
    const token = `ya29.${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, { clientEmail: claims.iss ?? '', expiresAt: Date.now() + 3599_000 });
    return { status: 200, body: { access_token: token, expires_in: 3599, token_type: 'Bearer' } };
  }

  private suggestionProblem(s: unknown, at: string): string | undefined {
    const x = s as { reply?: { text?: unknown; postbackData?: unknown }; action?: { text?: unknown; postbackData?: unknown; openUrlAction?: { url?: unknown } } };
    const inner = x.reply ?? x.action;
    if (!inner || (x.reply !== undefined && x.action !== undefined)) return `${at}: exactly one of reply or action`;
    if (typeof inner.text !== 'string' || inner.text === '' || Array.from(inner.text).length > RBM_LIMITS.suggestionText) return `${at}.text: 1 to ${RBM_LIMITS.suggestionText} characters`;
    if (typeof inner.postbackData !== 'string' || inner.postbackData.length > RBM_LIMITS.postbackData) return `${at}.postbackData: at most ${RBM_LIMITS.postbackData} characters`;
    if (x.action && typeof x.action.openUrlAction?.url !== 'string') return `${at}.action: an openUrlAction with a url (the only action the simulator knows)`;
    return undefined;
  }

  private contentProblem(json: unknown): string | undefined {
    const cm = (json as { contentMessage?: Record<string, unknown> } | undefined)?.contentMessage;
    if (typeof cm !== 'object') return 'contentMessage is required';
    const kinds = ['text', 'richCard', 'uploadedRbmFile', 'contentInfo'].filter((k) => cm[k] !== undefined);
    if (kinds.length !== 1) return 'contentMessage needs exactly one of text, richCard, uploadedRbmFile, contentInfo';
    if (cm['text'] !== undefined && (typeof cm['text'] !== 'string' || Array.from(cm['text']).length > RBM_LIMITS.text)) return `contentMessage.text: at most ${RBM_LIMITS.text} characters`;
    const sugg = cm['suggestions'];
    if (sugg !== undefined) {
      if (!Array.isArray(sugg) || sugg.length > RBM_LIMITS.suggestions) return `contentMessage.suggestions: at most ${RBM_LIMITS.suggestions}`;
      for (let i = 0; i < sugg.length; i++) {
        const p = this.suggestionProblem(sugg[i], `contentMessage.suggestions[${i}]`);
        if (p) return p;
      }
    }
    const rc = cm['richCard'] as { standaloneCard?: { cardOrientation?: unknown; cardContent?: Record<string, unknown> }; carouselCard?: unknown } | undefined;
    if (rc) {
      const card = rc.standaloneCard;
      if (!card || !card.cardContent) return 'richCard.standaloneCard.cardContent is required (the simulator sends no carousels)';
      if (card.cardOrientation !== 'VERTICAL' && card.cardOrientation !== 'HORIZONTAL') return 'richCard.standaloneCard.cardOrientation must be VERTICAL or HORIZONTAL';
      const cc = card.cardContent;
      if (cc['title'] === undefined && cc['description'] === undefined && cc['media'] === undefined) return 'cardContent needs a title, description or media';
      if (typeof cc['title'] === 'string' && Array.from(cc['title']).length > RBM_LIMITS.cardTitle) return `cardContent.title: at most ${RBM_LIMITS.cardTitle} characters`;
      if (typeof cc['description'] === 'string' && Array.from(cc['description']).length > RBM_LIMITS.cardDescription) return `cardContent.description: at most ${RBM_LIMITS.cardDescription} characters`;
      const media = cc['media'] as { height?: unknown; contentInfo?: { fileUrl?: unknown } } | undefined;
      if (media && (typeof media.height !== 'string' || !HEIGHTS.has(media.height))) return 'cardContent.media.height must be SHORT, MEDIUM or TALL';
      if (media && typeof media.contentInfo?.fileUrl !== 'string') return 'cardContent.media.contentInfo.fileUrl is required';
      const cs = cc['suggestions'];
      if (cs !== undefined) {
        if (!Array.isArray(cs) || cs.length > RBM_LIMITS.cardSuggestions) return `cardContent.suggestions: at most ${RBM_LIMITS.cardSuggestions}`;
        for (let i = 0; i < cs.length; i++) {
          const p = this.suggestionProblem(cs[i], `cardContent.suggestions[${i}]`);
          if (p) return p;
        }
      }
    }
    return undefined;
  }

  private scheduleEvents(agentId: string, phone: string, messageId: string): void {
    const o = this.outcome();
    // RBM has no "failed" event: a message never delivered simply gets no DELIVERED (it expires).
    if (o.failed) return;
    this.schedule(this.opts.deliveredDelayMs, () => this.event({ senderPhoneNumber: phone, eventType: 'DELIVERED', eventId: `EV${randomBytes(8).toString('hex')}`, messageId, sendTime: new Date().toISOString(), agentId }));
    if (o.read) this.schedule(this.opts.deliveredDelayMs + this.opts.readDelayMs, () => this.event({ senderPhoneNumber: phone, eventType: 'READ', eventId: `EV${randomBytes(8).toString('hex')}`, messageId, sendTime: new Date().toISOString(), agentId }));
  }

  /** One event as RBM posts it to the webhook. */
  event(data: Record<string, unknown>): Callback | undefined {
    if (this.callbackUrl === undefined) return undefined;
    const raw = Buffer.from(JSON.stringify(data));
    const body = JSON.stringify({ message: { data: raw.toString('base64'), messageId: randomBytes(8).toString('hex'), publishTime: new Date().toISOString() }, subscription: 'projects/rbm-sandbox/subscriptions/rbm-agent' });
    return { url: this.callbackUrl, headers: { 'content-type': 'application/json', 'x-goog-signature': rbmSignature(this.rbm.clientToken, raw) }, body };
  }

  incomingText(agentId: string, phone: string, text: string): Callback | undefined {
    return this.event({ senderPhoneNumber: phone, messageId: `MX${randomBytes(8).toString('hex')}`, sendTime: new Date().toISOString(), text, agentId });
  }
}
