import { describe, expect, it } from 'vitest';
import { parseDuration, zonedTime } from '../../../src/core/zoned-time.js';

describe('zonedTime', () => {
  it('an instant with an offset is that instant, whatever the zone', () => {
    expect(zonedTime('2024-12-25T18:00:00Z', 'America/New_York')).toBe(Date.UTC(2024, 11, 25, 18));
    expect(zonedTime('2024-12-25T18:00:00+02:00', 'UTC')).toBe(Date.UTC(2024, 11, 25, 16));
  });

  it('a wall time without an offset is read in the zone', () => {
    expect(zonedTime('2024-12-25T18:00:00', 'UTC')).toBe(Date.UTC(2024, 11, 25, 18));
    expect(zonedTime('2024-12-25T18:00:00', 'America/New_York')).toBe(Date.UTC(2024, 11, 25, 23));
    expect(zonedTime('2024-07-01T09:30', 'Europe/Kyiv')).toBe(Date.UTC(2024, 6, 1, 6, 30));
    expect(zonedTime('2024-07-01T09:30:00.250', 'Asia/Kolkata')).toBe(Date.UTC(2024, 6, 1, 4, 0, 0, 250));
  });

  it('across daylight saving changes: a skipped time moves forward, a repeated one is its first occurrence', () => {
    // New York: 2024-03-10 02:00 EST → 03:00 EDT; 2024-11-03 02:00 EDT → 01:00 EST.
    expect(zonedTime('2024-03-10T02:30:00', 'America/New_York')).toBe(Date.UTC(2024, 2, 10, 7, 30));
    expect(zonedTime('2024-11-03T01:30:00', 'America/New_York')).toBe(Date.UTC(2024, 10, 3, 5, 30));
  });

  it('refuses malformed times', () => {
    for (const bad of ['tomorrow', '2024-02-30T10:00:00', '2024-12-25T25:00:00', '2024-12-25', '']) expect(zonedTime(bad, 'UTC')).toBeUndefined();
  });
});

describe('parseDuration', () => {
  it('reads the short forms and ISO 8601', () => {
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('1500ms')).toBe(1500);
    expect(parseDuration('PT24H')).toBe(86_400_000);
    expect(parseDuration('P1DT12H')).toBe(129_600_000);
    expect(parseDuration('PT1M30S')).toBe(90_000);
  });

  it('refuses malformed or empty durations', () => {
    for (const bad of ['', '24', 'h', '0s', 'P', 'PT', 'P1Y', '1w', '-5m', 'PT0S']) expect(parseDuration(bad)).toBeUndefined();
  });
});
