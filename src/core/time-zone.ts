/** IANA time zones, as the runtime's Intl knows them (contacts, orchestration `timeZone`, campaign windows). */

/**
 * Zones already found valid. Building an Intl.DateTimeFormat to test a name costs ~150 µs, paid
 * on every orchestration request (bench:orchestration). The canonical names are a few hundred, but
 * Intl also takes any casing of them, so the set is capped; invalid names are never remembered.
 */
const known = new Set<string>();
const MAX_KNOWN = 2000;

/** Whether `tz` names an IANA time zone this runtime knows ("Europe/Kyiv", "UTC"). */
export function isTimeZone(tz: string): boolean {
  if (known.has(tz)) return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    return false;
  }
  if (known.size < MAX_KNOWN) known.add(tz);
  return true;
}
