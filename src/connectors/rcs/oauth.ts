/**
 * Google's OAuth 2.0 for service accounts (https://developers.google.com/identity/protocols/oauth2/service-account,
 * RFC 7523): a JWT signed RS256 with the service account's private key,
 *   header {"alg":"RS256","typ":"JWT"}
 *   claims {"iss": client_email, "scope": "https://www.googleapis.com/auth/rcsbusinessmessaging",
 *           "aud": token URI, "iat": now, "exp": now + 3600}
 * exchanged at the token URI (form: grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=…)
 * for {"access_token","expires_in","token_type":"Bearer"}. Tokens are cached per service account
 * until a minute before they expire; concurrent sends share one exchange.
 */
import { createSign } from 'node:crypto';
import { httpSend } from '../shared/http-client.js';
import type { ProviderFailure } from '../shared/provider.js';

export const RBM_SCOPE = 'https://www.googleapis.com/auth/rcsbusinessmessaging';
export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';

export interface ServiceAccount {
  readonly clientEmail: string;
  readonly privateKey: string;
}

const b64url = (v: string | Buffer): string => Buffer.from(v).toString('base64url');

export function serviceAccountJwt(sa: ServiceAccount, tokenUri: string, nowSeconds = Math.floor(Date.now() / 1000)): string {
  const head = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const claims = b64url(JSON.stringify({ iss: sa.clientEmail, scope: RBM_SCOPE, aud: tokenUri, iat: nowSeconds, exp: nowSeconds + 3600 }));
  const signature = createSign('RSA-SHA256').update(`${head}.${claims}`).sign(sa.privateKey);
  return `${head}.${claims}.${b64url(signature)}`;
}

type TokenResult = { ok: true; token: string } | { ok: false; failure: ProviderFailure };

export class TokenCache {
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();
  private readonly pending = new Map<string, Promise<TokenResult>>();

  constructor(
    private readonly tokenUri: string,
    private readonly timeoutMs: number,
  ) {}

  get(sa: ServiceAccount): Promise<TokenResult> {
    const hit = this.tokens.get(sa.clientEmail);
    if (hit && hit.expiresAt > Date.now()) return Promise.resolve({ ok: true, token: hit.token });
    let p = this.pending.get(sa.clientEmail);
    if (!p) {
      p = this.exchange(sa).finally(() => this.pending.delete(sa.clientEmail));
      this.pending.set(sa.clientEmail, p);
    }
    return p;
  }

  /** A token the API refused (401): the next send fetches a new one. */
  forget(sa: ServiceAccount): void {
    this.tokens.delete(sa.clientEmail);
  }

  private async exchange(sa: ServiceAccount): Promise<TokenResult> {
    let assertion: string;
    try {
      assertion = serviceAccountJwt(sa, this.tokenUri);
    } catch (err) {
      return { ok: false, failure: { code: 'CHANNEL_UNAVAILABLE', providerCode: 'bad_private_key', message: `cannot sign with the service account key: ${(err as Error).message}`, retryable: true, unhealthy: true } };
    }
    const answer = await httpSend(
      {
        method: 'POST',
        url: this.tokenUri,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
      },
      this.timeoutMs,
    );
    if (answer.kind !== 'answer') {
      return { ok: false, failure: { code: answer.kind === 'timeout' ? 'TIMEOUT' : 'NETWORK_ERROR', providerCode: `oauth_${answer.kind}`, message: 'the token endpoint did not answer', retryable: true, unhealthy: true } };
    }
    const j = answer.json as { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } | undefined;
    if (answer.status === 200 && typeof j?.access_token === 'string') {
      const ttl = typeof j.expires_in === 'number' ? j.expires_in : 3600;
      this.tokens.set(sa.clientEmail, { token: j.access_token, expiresAt: Date.now() + Math.max(0, ttl - 60) * 1000 });
      return { ok: true, token: j.access_token };
    }
    const err = typeof j?.error === 'string' ? j.error : `http_${answer.status}`;
    return {
      ok: false,
      failure: { code: 'CHANNEL_UNAVAILABLE', providerCode: `oauth_${err}`, message: typeof j?.error_description === 'string' ? j.error_description : `token endpoint answered ${answer.status}`, retryable: true, unhealthy: true },
    };
  }
}
