/**
 * An account's spend, from `message_events`. A message has one final row (finalize() writes it
 * once: delivered, failed, expired, rejected or cancelled), and that row's price is what the
 * message cost in the end (0 when refunded, the network's price when settled to it; see
 * lua/common.lua). So spend = the sum of final rows' prices, each event_id once (LIMIT 1 BY folds
 * a replayed insert that no merge has folded yet), counted at the time the message became final.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { decimalToMicros, quoteString } from './rows.js';
import { EVENTS_TABLE, qualified } from './schema.js';

const FINAL_STATUSES = "('delivered', 'failed', 'expired', 'rejected', 'cancelled')";

export interface SpendQuery {
  readonly accountId: string;
  /** The period asked for: [from, to) in epoch ms. */
  readonly from: number;
  readonly to: number;
  /** Only this cost center ('' is the messages that named none). */
  readonly costCenter?: string;
  /** Start of today and of this month (epoch ms, UTC): the running totals. */
  readonly dayStart: number;
  readonly monthStart: number;
}

export interface CostCenterSpend {
  readonly costCenter: string;
  readonly periodMicros: number;
  readonly periodMessages: number;
  readonly todayMicros: number;
  readonly monthMicros: number;
}

/** Spend per cost center: in the period, today and this month (one scan from the earliest of them). */
export async function querySpend(client: ClickHouseClient, database: string, q: SpendQuery): Promise<CostCenterSpend[]> {
  const int = (n: number): string => String(Math.max(0, Math.floor(n)));
  const since = Math.min(q.from, q.dayStart, q.monthStart);
  const where = [
    `account_id = ${quoteString(q.accountId)}`,
    `status IN ${FINAL_STATUSES}`,
    // The partition key first, so whole months outside the range are skipped.
    `event_date_time >= toDateTime(${int(since / 1000)})`,
    `event_time_ms >= ${int(since)}`,
  ];
  if (q.costCenter !== undefined) where.push(`cost_center = ${quoteString(q.costCenter)}`);
  const inPeriod = `event_time_ms >= ${int(q.from)} AND event_time_ms < ${int(q.to)}`;
  // Sums of Decimal64(6) come back as text: exact, whatever the JSON number precision.
  const query = `SELECT cost_center,
  toString(sumIf(price, ${inPeriod})) AS period,
  countIf(${inPeriod}) AS messages,
  toString(sumIf(price, event_time_ms >= ${int(q.dayStart)})) AS today,
  toString(sumIf(price, event_time_ms >= ${int(q.monthStart)})) AS month
FROM (SELECT event_id, cost_center, price, event_time_ms FROM ${qualified(database, EVENTS_TABLE)} WHERE ${where.join(' AND ')} LIMIT 1 BY event_id)
GROUP BY cost_center ORDER BY cost_center`;
  const rs = await client.query({ query, format: 'JSONEachRow' });
  const rows = await rs.json<{ cost_center: string; period: string; messages: number | string; today: string; month: string }>();
  return rows.map((r) => ({
    costCenter: r.cost_center,
    periodMicros: decimalToMicros(r.period),
    periodMessages: Number(r.messages),
    todayMicros: decimalToMicros(r.today),
    monthMicros: decimalToMicros(r.month),
  }));
}
