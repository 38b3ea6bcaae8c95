/**
 * Phone numbers as Catalyst keeps them: E.164 digits without the '+'. The one place that decides
 * whether a number a client gave (HTTP `to`, an XMPP JID's local part) can exist.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/** E.164 digits without '+', or undefined when the numbering plan says no such number can exist. */
export function normaliseMsisdn(to: string): string | undefined {
  const p = parsePhoneNumberFromString(to.startsWith('+') ? to : `+${to}`);
  // isPossible as well as isValid: the library's range metadata lags newly opened ranges. The
  // length check first: isValid matches every number type's pattern, twice the cost of the parse.
  if (!p || !(p.isPossible() || p.isValid())) return undefined;
  return p.number.slice(1);
}
