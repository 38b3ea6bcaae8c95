/**
 * Phone numbers as JIDs of the component's domain, and back. Pure.
 *
 *   +14155550100@sms.localhost   ⇄ 14155550100 (E.164 digits, the router's form)
 *   ACME@sms.localhost           ⇄ ACME        (an alphanumeric sender id, XEP-0106 escaped)
 */
import { normaliseMsisdn } from '../core/msisdn.js';

export interface Jid {
  readonly local: string;
  readonly domain: string;
  readonly resource: string;
}

/** RFC 7622 §3.1: localpart@domainpart/resourcepart; undefined when it is not a JID. */
export function parseJid(s: string): Jid | undefined {
  const slash = s.indexOf('/');
  const bare = slash >= 0 ? s.slice(0, slash) : s;
  const resource = slash >= 0 ? s.slice(slash + 1) : '';
  const at = bare.lastIndexOf('@');
  const local = at >= 0 ? bare.slice(0, at) : '';
  const domain = (at >= 0 ? bare.slice(at + 1) : bare).toLowerCase();
  if (domain === '' || /[\s@/]/.test(domain) || /[\s@]/.test(local) || (slash >= 0 && resource === '')) return undefined;
  if (bare.length > 3071 || resource.length > 1023) return undefined;
  return { local, domain, resource };
}

/** The bare JID `local@domain` (the local part lower-cased: RFC 7622 nodeprep is case-insensitive). */
export function bareJid(s: string): string {
  const j = parseJid(s);
  if (!j) return s.toLowerCase();
  return j.local === '' ? j.domain : `${j.local.toLowerCase()}@${j.domain}`;
}

// XEP-0106 §4.2: the characters a localpart cannot hold, and their escapes.
const ESCAPES: Readonly<Record<string, string>> = { ' ': '\\20', '"': '\\22', '&': '\\26', "'": '\\27', '/': '\\2f', ':': '\\3a', '<': '\\3c', '>': '\\3e', '@': '\\40', '\\': '\\5c' };
const UNESCAPES: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(ESCAPES).map(([k, v]) => [v, k]));

export function escapeLocal(s: string): string {
  return s.replace(/[ "&'/:<>@\\]/g, (c) => ESCAPES[c] ?? c);
}

export function unescapeLocal(s: string): string {
  return s.replace(/\\(20|22|26|27|2f|3a|3c|3e|40|5c)/gi, (m) => UNESCAPES[m.toLowerCase()] ?? m);
}

/** The JID an SMS address appears as: `+digits@domain` for a number, the escaped sender id otherwise. */
export function addressJid(addr: string, domain: string): string {
  return /^[0-9]{1,15}$/.test(addr) ? `+${addr}@${domain}` : `${escapeLocal(addr)}@${domain}`;
}

/** The E.164 digits a JID of our domain names, or undefined when its local part is not a phone number. */
export function numberOfJid(jid: string, domain: string): string | undefined {
  const j = parseJid(jid);
  if (!j || j.domain !== domain.toLowerCase() || j.local === '') return undefined;
  const local = unescapeLocal(j.local).replace(/[\s().-]/g, '');
  if (!/^\+?[0-9]{3,15}$/.test(local)) return undefined;
  return normaliseMsisdn(local);
}
