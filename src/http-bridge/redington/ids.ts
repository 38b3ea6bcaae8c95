/**
 * Ids in the shape of the document's (`66b47171abe7bc4b8ec990ad`: 24 hex digits, MongoDB ObjectId
 * layout), so they sort by creation time (template and campaign lists page by them).
 */
import { randomBytes } from 'node:crypto';
import { normaliseMsisdn } from '../../core/msisdn.js';

// MongoDB's layout: 4 bytes of seconds, 5 random bytes of this process, a 3-byte counter, so ids
// made by one process within a second still sort in creation order.
const PROCESS = randomBytes(5).toString('hex');
let counter = randomBytes(3).readUIntBE(0, 3);

export function objectId(nowMs: number = Date.now()): string {
  counter = (counter + 1) % 0x1000000;
  return Math.floor(nowMs / 1000).toString(16).padStart(8, '0') + PROCESS + counter.toString(16).padStart(6, '0');
}

export const OBJECT_ID = /^[0-9a-f]{24}$/;

/**
 * A WhatsApp number as the document writes it (country code and number, digits): checked with the
 * numbering plan (core/msisdn.ts) but kept as written, as WhatsApp's own `to` is. Normalising
 * would turn the document's 910000000000 into 91000000000 (India's trunk 0 dropped).
 */
export function waNumber(input: string): string | undefined {
  const digits = input.trim().replace(/^\+/, '').replace(/[\s().-]/g, '');
  if (!/^[1-9][0-9]{6,14}$/.test(digits)) return undefined;
  return normaliseMsisdn(digits) === undefined ? undefined : digits;
}
