/** HMAC checks of provider callbacks, compared in constant time. */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function hmacHex(algorithm: 'sha256' | 'sha512', key: string, data: Buffer | string): string {
  return createHmac(algorithm, key).update(data).digest('hex');
}

export function hmacBase64(algorithm: 'sha256' | 'sha512', key: string, data: Buffer | string): string {
  return createHmac(algorithm, key).update(data).digest('base64');
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Meta's X-Hub-Signature-256: `sha256=` and the hex HMAC-SHA256 of the raw body keyed with the app secret. */
export function metaSignature(appSecret: string, rawBody: Buffer | string): string {
  return `sha256=${hmacHex('sha256', appSecret, rawBody)}`;
}

export function checkMetaSignature(appSecret: string, rawBody: Buffer, header: string | undefined): boolean {
  return header !== undefined && safeEqual(header.toLowerCase(), metaSignature(appSecret, rawBody));
}
