/**
 * Times as the seed's `scheduling` blocks give them: a `sendAt` read in an IANA `timeZone` when it
 * carries no offset, and a `retryWindow` duration. Pure; the zone rules are the runtime's (Intl,
 * the ICU time zone database Node ships; whether a zone exists is core/time-zone.ts's isTimeZone).
 */

/** One formatter per zone name; capped, since Intl takes any casing of a name a client sends. */
const formatters = new Map<string, Intl.DateTimeFormat>();
const MAX_FORMATTERS = 2000;

/** The zone's offset from UTC at an instant, ms (positive east of Greenwich). Throws on a zone Intl does not know. */
export function offsetAt(zone: string, epochMs: number): number {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    if (formatters.size < MAX_FORMATTERS) formatters.set(zone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(epochMs))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const wall = Date.UTC(p['year'] ?? 1970, (p['month'] ?? 1) - 1, p['day'] ?? 1, p['hour'] ?? 0, p['minute'] ?? 0, p['second'] ?? 0);
  return wall - Math.floor(epochMs / 1000) * 1000;
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/;
const WITH_OFFSET = /(?:Z|[+-]\d{2}:?\d{2})$/i;

/**
 * An ISO 8601 date-time → epoch ms. With an offset (`Z`, `+02:00`) it is that instant; without one
 * it is a wall-clock time in `zone`. A wall time the zone skips (a spring-forward gap) is moved
 * forward by the gap, one the zone repeats is its first occurrence. Undefined when malformed.
 */
export function zonedTime(value: string, zone: string): number | undefined {
  if (WITH_OFFSET.test(value)) {
    const t = Date.parse(value);
    return Number.isNaN(t) ? undefined : t;
  }
  const m = LOCAL.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, ms] = m;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0), Number((ms ?? '0').padEnd(3, '0')));
  if (new Date(wall).getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59) return undefined;
  // The two instants the offsets around it give; those that read back as this wall time are it.
  const first = wall - offsetAt(zone, wall);
  const second = wall - offsetAt(zone, first);
  const fits = [first, second].filter((t) => t + offsetAt(zone, t) === wall);
  // A repeated wall time: its first occurrence. A skipped one: shifted forward by the gap (as
  // Temporal's "compatible" disambiguation does).
  return fits.length > 0 ? Math.min(...fits) : Math.max(first, second);
}

const SHORT = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const ISO = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
const UNIT: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration → ms: "24h", "30m", "90s", "2d", "1500ms", or ISO 8601 ("PT24H", "P1DT12H", "PT90S";
 * days are 24 h; no years, months or weeks, whose length depends on the calendar). Undefined when malformed or zero.
 */
export function parseDuration(value: string): number | undefined {
  const v = value.trim();
  const s = SHORT.exec(v);
  if (s) {
    const ms = Math.round(Number(s[1]) * (UNIT[s[2] ?? ''] ?? 0));
    return ms > 0 ? ms : undefined;
  }
  const iso = ISO.exec(v.toUpperCase());
  if (!iso || v.toUpperCase() === 'P' || v.toUpperCase().endsWith('T')) return undefined;
  const ms = Number(iso[1] ?? 0) * 86_400_000 + Number(iso[2] ?? 0) * 3_600_000 + Number(iso[3] ?? 0) * 60_000 + Math.round(Number(iso[4] ?? 0) * 1000);
  return ms > 0 ? ms : undefined;
}
