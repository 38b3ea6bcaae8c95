/** IANA time zones, as the runtime's Intl knows them (contacts, orchestration `timeZone`, campaign windows). */

/** Whether `tz` names an IANA time zone this runtime knows ("Europe/Kyiv", "UTC"). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
