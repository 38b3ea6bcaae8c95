/**
 * Phone numbers as Catalyst keeps them: E.164 digits without the '+'. The one place that decides
 * whether a number a client gave (HTTP `to`, an XMPP JID's local part) can exist.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * The last number read and what it gave: a request's schema checks its `to` and the handler then
 * builds the destination from the same string, back to back. Parsing is ~4 µs, a quarter of
 * bench:http-batch's appliance CPU when it was done twice; one entry, so nothing else is cached.
 */
let last: { readonly to: string; readonly msisdn: string | undefined } | undefined;

/** E.164 digits without '+', or undefined when the numbering plan says no such number can exist. */
export function normaliseMsisdn(to: string): string | undefined {
  if (last?.to === to) return last.msisdn;
  const p = parsePhoneNumberFromString(to.startsWith('+') ? to : `+${to}`);
  // isPossible as well as isValid: the library's range metadata lags newly opened ranges. The
  // length check first: isValid matches every number type's pattern, twice the cost of the parse.
  const msisdn = p && (p.isPossible() || p.isValid()) ? p.number.slice(1) : undefined;
  last = { to, msisdn };
  return msisdn;
}
