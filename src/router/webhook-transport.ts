/**
 * One webhook POST: signed, bounded in time, and connected only to the addresses the SSRF guard
 * checked. node:http's `lookup` option replaces the DNS lookup of the connect with the checked
 * answer, so the host cannot resolve elsewhere between the check and the connect (DNS rebinding);
 * TLS still verifies the certificate against the URL's host name (SNI and checkServerIdentity use
 * `host`, not the address). Redirects are not followed: a 3xx is a failed attempt.
 *
 * Signature (README "Webhooks"): HMAC-SHA256 with the account's webhookSecret over
 * `<X-Catalyst-Timestamp>.<raw body>`, hex, sent as `X-Catalyst-Signature: v1=<hex>`. The timestamp
 * is in the signed text so a receiver can refuse a replay older than its tolerance.
 */
import { createHmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { ResolvedAddress } from './ssrf.js';

export const SIGNATURE_VERSION = 'v1';

/** `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `${SIGNATURE_VERSION}=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export type PostOutcome =
  | { readonly kind: 'response'; readonly status: number }
  /** No HTTP status: connect refused or reset, TLS failure, timeout. */
  | { readonly kind: 'error'; readonly reason: string };

/** A lookup that answers with the checked addresses only (both callback shapes node:net uses). */
export function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const first = addresses[0];
    if (!first) {
      callback(Object.assign(new Error('no checked address'), { code: 'ENOTFOUND' }), '', 4);
      return;
    }
    // autoSelectFamily (on by default since Node 20) asks for every address at once.
    if (options.all) callback(null, addresses.map((a) => ({ address: a.address, family: a.family })));
    else callback(null, first.address, first.family);
  };
}

/** Keep-alive agents shared by every POST of one sender; close() destroys their sockets. */
export class WebhookTransport {
  private readonly http: HttpAgent;
  private readonly https: HttpsAgent;

  constructor(maxSockets: number) {
    this.http = new HttpAgent({ keepAlive: true, maxSockets, maxFreeSockets: Math.min(maxSockets, 256), scheduling: 'lifo' });
    this.https = new HttpsAgent({ keepAlive: true, maxSockets, maxFreeSockets: Math.min(maxSockets, 256), scheduling: 'lifo' });
  }

  post(url: URL, addresses: readonly ResolvedAddress[], headers: Readonly<Record<string, string>>, body: string, timeoutMs: number): Promise<PostOutcome> {
    const https = url.protocol === 'https:';
    const send = https ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (o: PostOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(o);
      };
      const req = send(
        url,
        {
          method: 'POST',
          agent: https ? this.https : this.http,
          lookup: pinnedLookup(addresses),
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        },
        (res: IncomingMessage) => {
          finish({ kind: 'response', status: res.statusCode ?? 0 });
          // Drain what the receiver says (unread), so the socket can go back to the pool; a receiver
          // that streams forever is cut off by the timer below.
          res.resume();
          res.on('end', () => {
            clearTimeout(drainTimer);
          });
          const drainTimer = setTimeout(() => {
            res.destroy();
          }, timeoutMs);
          res.on('error', () => {
            clearTimeout(drainTimer);
          });
        },
      );
      const timer = setTimeout(() => {
        finish({ kind: 'error', reason: `timeout after ${timeoutMs} ms` });
        req.destroy();
      }, timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        finish({ kind: 'error', reason: (err.message || err.code || 'request failed').slice(0, 200) });
      });
      req.end(body);
    });
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}
