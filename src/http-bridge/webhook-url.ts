/**
 * The SSRF guard at request time: a `tracking.webhookUrl` whose scheme is not http(s), or whose
 * host resolves to a loopback, private, link-local… address the policy forbids, is a 400 naming
 * the field. A host that does not resolve right now is let through: the sender checks again
 * before every attempt (router/ssrf.ts) and retries a transient failure. Answers are kept a
 * minute so a batch naming one URL 10,000 times resolves it once.
 */
import { resolveWebhookTarget, type WebhookPolicy } from '../router/ssrf.js';
import { errorResponse, type HttpResponse } from './http.js';

const TTL_MS = 60_000;
const MAX_ENTRIES = 1000;

export type WebhookUrlCheck = (url: string | undefined, field: string) => Promise<HttpResponse | undefined>;

export function webhookUrlGuard(policy: WebhookPolicy): WebhookUrlCheck {
  const cache = new Map<string, { at: number; refusal: string | undefined }>();
  return async (url, field) => {
    if (url === undefined) return undefined;
    const now = Date.now();
    let hit = cache.get(url);
    if (!hit || now - hit.at > TTL_MS) {
      const t = await resolveWebhookTarget(url, policy);
      hit = { at: now, refusal: t.ok || t.transient ? undefined : t.reason };
      if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
      cache.set(url, hit);
    }
    return hit.refusal === undefined ? undefined : errorResponse('VALIDATION_ERROR', 'request body is invalid', { details: [{ field, message: hit.refusal }] });
  };
}
