/**
 * Ids in the shape of the document's (`66b47171abe7bc4b8ec990ad`: 24 hex digits, MongoDB ObjectId
 * layout): 8 hex digits of seconds then 16 random ones, so they sort by creation time (the template
 * list pages by them).
 */
import { randomBytes } from 'node:crypto';

export function objectId(nowMs: number = Date.now()): string {
  return Math.floor(nowMs / 1000).toString(16).padStart(8, '0') + randomBytes(8).toString('hex');
}

export const OBJECT_ID = /^[0-9a-f]{24}$/;
