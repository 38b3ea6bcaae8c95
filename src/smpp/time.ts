/**
 * SMPP time values, SMPP 3.4 §7.1.1 (schedule_delivery_time, validity_period, final_date):
 *
 *   time     = "" | absolute | relative
 *   absolute = YY MM DD hh mm ss t nn p     ; p "+" / "-": local time is nn quarter hours ahead of / behind UTC
 *   relative = YY MM DD hh mm ss t nn "R"   ; an interval from now; t and nn are "000" by the spec
 *
 * Years are 2000 + YY.
 */

const ABS = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d)(\d\d)([+\-R])$/;

/**
 * '' → null (not given); absolute or relative → epoch ms; anything else → 'invalid' (answer
 * ESME_RINVSCHED or ESME_RINVEXPIRY).
 */
export function parseSmppTime(s: string, nowMs: number): number | null | 'invalid' {
  if (s === '') return null;
  const m = ABS.exec(s);
  if (m === null) return 'invalid';
  const [yy, mo, dd, hh, mi, ss, t, nn] = m.slice(1, 9).map(Number) as [number, number, number, number, number, number, number, number];
  const p = m[9];
  if (p === 'R') {
    // §7.1.1.2: relative to the SMSC's current time; added field by field on the calendar.
    const now = new Date(nowMs);
    return Date.UTC(
      now.getUTCFullYear() + yy,
      now.getUTCMonth() + mo,
      now.getUTCDate() + dd,
      now.getUTCHours() + hh,
      now.getUTCMinutes() + mi,
      now.getUTCSeconds() + ss,
      now.getUTCMilliseconds(),
    );
  }
  // §7.1.1.1: field ranges; nn is 00..48 quarter hours.
  if (mo < 1 || mo > 12 || dd < 1 || dd > 31 || hh > 23 || mi > 59 || ss > 59 || nn > 48) return 'invalid';
  const local = Date.UTC(2000 + yy, mo - 1, dd, hh, mi, ss, t * 100);
  if (new Date(local).getUTCDate() !== dd) return 'invalid'; // 31 April and the like
  const offsetMs = nn * 15 * 60_000;
  return p === '+' ? local - offsetMs : local + offsetMs;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** UTC absolute time, tenths and offset zero: `YYMMDDhhmmss000+`. */
export function formatSmppAbsolute(ms: number): string {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  if (y < 2000 || y > 2099) throw new RangeError(`year ${y} outside SMPP's 2000..2099`);
  return `${two(y - 2000)}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}000+`;
}

/**
 * A relative time of `seconds` from now: `00MMDDhhmmss000R`. Days up to 99 are exact; longer
 * intervals use 30-day months and 365-day years (parseSmppTime adds calendar months and years).
 */
export function formatSmppRelative(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 0) throw new RangeError(`relative time ${seconds}s must be a non-negative integer`);
  let days = Math.floor(seconds / 86_400);
  let rest = seconds % 86_400;
  const hh = Math.floor(rest / 3600);
  rest %= 3600;
  const mi = Math.floor(rest / 60);
  const ss = rest % 60;
  let years = 0;
  let months = 0;
  if (days > 99) {
    years = Math.floor(days / 365);
    days %= 365;
    months = Math.floor(days / 30);
    days %= 30;
  }
  if (years > 99) throw new RangeError(`relative time ${seconds}s exceeds 99 years`);
  return `${two(years)}${two(months)}${two(days)}${two(hh)}${two(mi)}${two(ss)}000R`;
}
