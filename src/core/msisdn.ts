/**
 * Phone numbers as Catalyst keeps them: E.164 digits without the '+'. The one place that decides
 * whether a number a client gave (HTTP `to`, an XMPP JID's local part) can exist.
 *
 * The rule is libphonenumber-js's (max metadata): the number parses, and its national number has a
 * possible length for its country, or matches one of its country's patterns. Parsing is 3-17 µs a
 * number (the country of a shared calling code is found by trying each country's patterns: +1 has
 * 25, +44 four), 15% of the appliance's CPU in bench:http-batch. Most numbers come as bare digits
 * whose answer needs no country at all, so those take a fast path that gives the same answer
 * (test/unit/core/msisdn.test.ts compares the two over every calling code); the rest are parsed.
 */
import { Metadata, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import metadata from 'libphonenumber-js/max/metadata';

/**
 * What the fast path needs of a calling code: the national number lengths possible in every country
 * that shares it (so whichever country the parser picks, or none, the length check agrees), and the
 * national prefix the parser would strip (the pattern of the calling code's main country, the plan
 * the parser applies before it picks a country).
 */
interface FastPlan {
  readonly lengths: ReadonlySet<number>;
  readonly nationalPrefix: RegExp | undefined;
}

/** The runtime side of a numbering plan this file reads; typings of libphonenumber-js list only some of it. */
interface PlanRuntime {
  possibleLengths(): number[] | undefined;
  nationalPrefixForParsing?(): string | undefined;
}

/**
 * Calling codes the fast path answers for: those whose countries all have their possible lengths in
 * the metadata and share at least one (+1: 10 digits, though Canada's plan also allows 7; +44: 10,
 * where the UK also allows 7 and 9). Non-geographic codes (+800, +882 …) are not in the table:
 * they are parsed.
 */
function fastPlans(): ReadonlyMap<string, FastPlan> {
  const plans = new Map<string, FastPlan>();
  const md = new Metadata();
  const planOf = (country: string): PlanRuntime | undefined => {
    md.selectNumberingPlan(country as CountryCode);
    return md.numberingPlan;
  };
  for (const [code, countries] of Object.entries(metadata.country_calling_codes)) {
    const main = countries[0];
    if (main === undefined || countries.some((c) => c.length !== 2)) continue;
    const mainPlan = planOf(main);
    if (!mainPlan || typeof mainPlan.nationalPrefixForParsing !== 'function') continue;
    const prefix = mainPlan.nationalPrefixForParsing();
    let shared: number[] | undefined;
    for (const c of countries) {
      const lengths = planOf(c)?.possibleLengths() ?? [];
      shared = shared === undefined ? lengths : shared.filter((n) => lengths.includes(n));
    }
    if (shared === undefined || shared.length === 0) continue;
    plans.set(code, { lengths: new Set(shared), nationalPrefix: prefix ? new RegExp(`^(?:${prefix})`) : undefined });
  }
  return plans;
}

const FAST = fastPlans();
const DIGITS = /^\+?([0-9]{4,17})$/;

/**
 * The fast path: bare digits (with or without '+') under a calling code of FAST, no national
 * prefix the parser would strip, and a possible length. Then the parser's answer is these digits;
 * anything else is left to the parser (undefined). Exported for the test that holds it to the parser.
 */
export function fastMsisdn(to: string): string | undefined {
  const digits = DIGITS.exec(to)?.[1];
  if (digits === undefined) return undefined;
  // Calling codes are prefix-free: at most one of the first 1, 2, 3 digits is one.
  for (let n = 1; n <= 3; n++) {
    const plan = FAST.get(digits.slice(0, n));
    if (plan === undefined) continue;
    const national = digits.slice(n);
    if (plan.nationalPrefix?.test(national) === true) return undefined;
    return plan.lengths.has(national.length) ? digits : undefined;
  }
  return undefined;
}

/** The parser's answer (the rule in the file header). */
export function parsedMsisdn(to: string): string | undefined {
  const p = parsePhoneNumberFromString(to.startsWith('+') ? to : `+${to}`);
  // isPossible as well as isValid: the library's range metadata lags newly opened ranges. The
  // length check first: isValid matches every number type's pattern, twice the cost of the parse.
  return p && (p.isPossible() || p.isValid()) ? p.number.slice(1) : undefined;
}

/**
 * The last number read and what it gave: a request's schema checks its `to` and the handler then
 * builds the destination from the same string, back to back. One entry, so nothing else is cached.
 */
let last: { readonly to: string; readonly msisdn: string | undefined } | undefined;

/** E.164 digits without '+', or undefined when the numbering plan says no such number can exist. */
export function normaliseMsisdn(to: string): string | undefined {
  if (last?.to === to) return last.msisdn;
  const msisdn = fastMsisdn(to) ?? parsedMsisdn(to);
  last = { to, msisdn };
  return msisdn;
}
