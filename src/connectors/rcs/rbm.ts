/**
 * Catalyst's RCS content → Google RCS Business Messaging (the REST surface of
 * google.communications.rcsbusinessmessaging.v1, https://developers.google.com/business-communications/rcs-business-messaging/reference/rest):
 *   POST {base}/v1/phones/{+E.164}/agentMessages?messageId={id}&agentId={agent}
 *   Authorization: Bearer {OAuth token of the agent's service account}
 *   {"contentMessage":{"text","suggestions":[…]}}
 *   {"contentMessage":{"richCard":{"standaloneCard":{"cardOrientation":"VERTICAL","cardContent":{
 *      "title","description","media":{"height":"SHORT|MEDIUM|TALL","contentInfo":{"fileUrl"}},"suggestions":[…]}}}}}
 *   suggestion: {"action":{"text","postbackData","openUrlAction":{"url"}}} | {"reply":{"text","postbackData"}}
 * The messageId is the Catalyst message id, so a retry of a send RBM already took answers 409
 * ALREADY_EXISTS, which is success. A 404 NOT_FOUND means the phone cannot take RCS (the SMS
 * fallback's cue). Errors: {"error":{"code","message","status"}} (google.rpc.Status). Pure.
 */
import { contentOf, type ContentOf, type RcsSuggestion } from '../../core/channel-content.js';
import type { Message } from '../../core/message.js';
import type { HttpAnswer } from '../shared/http-client.js';
import { retryAfterHeader, type BuiltRequest, type ParsedAnswer, type ProviderAdapter, type ProviderFailure, type SenderRef } from '../shared/provider.js';
import type { ServiceAccount, TokenCache } from './oauth.js';

export interface RcsSender extends SenderRef {
  readonly agentId: string;
  readonly serviceAccount: ServiceAccount;
  readonly smsFrom?: string | undefined;
}

/** RBM limits: text 3,072 characters; card title 200, description 2,000; 11 suggestions (4 on a card); suggestion text 25, postbackData 2,048. */
export const RBM_LIMITS = { text: 3072, cardTitle: 200, cardDescription: 2000, suggestions: 11, cardSuggestions: 4, suggestionText: 25, postbackData: 2048 } as const;

/** The chip text of a suggestion: its own, else derived from its URL's host (RBM requires one). */
export function suggestionText(s: RcsSuggestion): string {
  if (s.displayText !== undefined) return Array.from(s.displayText).slice(0, RBM_LIMITS.suggestionText).join('');
  if (s.openUrl !== undefined) {
    try {
      return `Open ${new URL(s.openUrl).hostname}`.slice(0, RBM_LIMITS.suggestionText);
    } catch {
      return 'Open link';
    }
  }
  return 'Reply';
}

export function rbmSuggestion(s: RcsSuggestion): Record<string, unknown> {
  const text = suggestionText(s);
  const postbackData = (s.postbackData ?? s.openUrl ?? text).slice(0, RBM_LIMITS.postbackData);
  if (s.openUrl !== undefined) return { action: { text, postbackData, openUrlAction: { url: s.openUrl } } };
  return { reply: { text, postbackData } };
}

export function rcsLimitProblems(c: ContentOf<'rcs'>): { field: string; message: string }[] {
  const p: { field: string; message: string }[] = [];
  const len = (s: string | undefined): number => (s === undefined ? 0 : Array.from(s).length);
  switch (c.kind) {
    case 'rcs.text':
      if (len(c.text) > RBM_LIMITS.text) p.push({ field: 'message.body', message: `at most ${RBM_LIMITS.text} characters (RBM limit)` });
      if ((c.suggestions?.length ?? 0) > RBM_LIMITS.suggestions) p.push({ field: 'message.suggestions', message: `at most ${RBM_LIMITS.suggestions} suggestions (RBM limit)` });
      break;
    case 'rcs.rich_card':
      if (len(c.title) > RBM_LIMITS.cardTitle) p.push({ field: 'message.card.title', message: `at most ${RBM_LIMITS.cardTitle} characters (RBM limit)` });
      if (len(c.description) > RBM_LIMITS.cardDescription) p.push({ field: 'message.card.description', message: `at most ${RBM_LIMITS.cardDescription} characters (RBM limit)` });
      if (c.title === undefined && c.description === undefined && c.media === undefined) p.push({ field: 'message.card', message: 'a card needs a title, a description or media' });
      if (c.suggestions.length > RBM_LIMITS.cardSuggestions) p.push({ field: 'message.card.suggestions', message: `at most ${RBM_LIMITS.cardSuggestions} suggestions on a card (RBM limit)` });
      break;
  }
  return p;
}

export function rbmBody(c: ContentOf<'rcs'>): Record<string, unknown> {
  switch (c.kind) {
    case 'rcs.text':
      return { contentMessage: { text: c.text, ...(c.suggestions !== undefined && c.suggestions.length > 0 ? { suggestions: c.suggestions.map(rbmSuggestion) } : {}) } };
    case 'rcs.rich_card':
      return {
        contentMessage: {
          richCard: {
            standaloneCard: {
              cardOrientation: 'VERTICAL',
              cardContent: {
                ...(c.title !== undefined ? { title: c.title } : {}),
                ...(c.description !== undefined ? { description: c.description } : {}),
                ...(c.media !== undefined ? { media: { height: c.media.height, contentInfo: { fileUrl: c.media.url } } } : {}),
                ...(c.suggestions.length > 0 ? { suggestions: c.suggestions.map(rbmSuggestion) } : {}),
              },
            },
          },
        },
      };
  }
}

/** google.rpc.Status codes (HTTP mapping) → the seed's codes. */
export function rbmFailure(status: number, json: unknown, headers: Headers): ProviderFailure {
  const e = (json as { error?: { code?: number; message?: string; status?: string } } | undefined)?.error;
  const s = e?.status ?? `HTTP_${status}`;
  const base = { providerCode: s, message: e?.message ?? `HTTP ${status}` };
  switch (s) {
    case 'NOT_FOUND':
      // The phone is not RCS-capable (or not reachable over RCS): the fallback's cue.
      return { ...base, code: 'INVALID_DESTINATION', retryable: false, unhealthy: false };
    case 'INVALID_ARGUMENT':
    case 'FAILED_PRECONDITION':
      return { ...base, code: 'VALIDATION_ERROR', retryable: false, unhealthy: false };
    case 'RESOURCE_EXHAUSTED': {
      const ms = retryAfterHeader(headers);
      return { ...base, code: 'RATE_LIMIT_EXCEEDED', retryable: true, unhealthy: false, ...(ms !== undefined ? { retryAfterMs: ms } : {}) };
    }
    case 'UNAUTHENTICATED':
    case 'PERMISSION_DENIED':
      return { ...base, code: 'CHANNEL_UNAVAILABLE', retryable: true, unhealthy: true };
    default:
      return { ...base, code: status >= 500 || s === 'UNAVAILABLE' || s === 'INTERNAL' || s === 'DEADLINE_EXCEEDED' ? 'NETWORK_ERROR' : 'VALIDATION_ERROR', retryable: status >= 500, unhealthy: status >= 500 };
  }
}

export function rbmAdapter(tokens: TokenCache): ProviderAdapter<RcsSender> {
  return {
    name: 'rcs',
    authorize: (sender) => tokens.get(sender.serviceAccount),
    build(message: Message, sender: RcsSender, baseUrl: string, auth: string | undefined): BuiltRequest {
      const c = contentOf('rcs', message.content);
      const problems = c ? rcsLimitProblems(c) : [{ field: 'message', message: 'no RCS content' }];
      if (!c || problems.length > 0) return { ok: false, failure: { code: 'VALIDATION_ERROR', providerCode: 'limits', message: problems.map((x) => `${x.field}: ${x.message}`).join('; '), retryable: false, unhealthy: false } };
      const phone = encodeURIComponent(`+${message.destination.addr.replace(/^\+/, '')}`);
      const q = new URLSearchParams({ messageId: message.id, agentId: sender.agentId });
      return {
        ok: true,
        request: {
          method: 'POST',
          url: `${baseUrl.replace(/\/$/, '')}/v1/phones/${phone}/agentMessages?${q.toString()}`,
          headers: { authorization: `Bearer ${auth ?? ''}`, 'content-type': 'application/json' },
          body: JSON.stringify(rbmBody(c)),
        },
      };
    },
    parse(answer: HttpAnswer & { kind: 'answer' }, message: Message): ParsedAnswer {
      const name = (answer.json as { name?: unknown } | undefined)?.name;
      if (answer.status === 200 && typeof name === 'string') return { ok: true, externalId: name.slice(name.lastIndexOf('/') + 1) };
      const e = (answer.json as { error?: { status?: string } } | undefined)?.error;
      // A retry of a send RBM already took: the messageId is the Catalyst id, unique, so it was sent.
      if (answer.status === 409 && e?.status === 'ALREADY_EXISTS') return { ok: true, externalId: message.id };
      return { ok: false, failure: rbmFailure(answer.status, answer.json, answer.headers) };
    },
  };
}
