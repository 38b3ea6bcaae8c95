/**
 * One row per state change of a message: what the router's Lua scripts append to the Redis events
 * stream (field `e`, TabSeparated: store/clickhouse/rows.ts) and the ClickHouse writer inserts into
 * `message_events`.
 * Times are epoch milliseconds. Money is micro-units of `currency`.
 */
export interface EventRow {
  /** Unique per event: `<messageId>:<seq>`; the ClickHouse table collapses replays on it. */
  readonly event_id: string;
  readonly message_id: string;
  readonly account_id: string;
  readonly channel: string;
  readonly direction: string;
  readonly source: string;
  readonly destination: string;
  readonly status: string;
  /** '' when none; SMPP status as 0xNN, receipt err as 3 digits, or a Catalyst error code. */
  readonly error_code: string;
  readonly upstream_id: string;
  readonly upstream_message_id: string;
  readonly parts: number;
  readonly price_micros: number;
  readonly currency: string;
  readonly cost_center: string;
  readonly ingress: string;
  readonly event_time: number;
  readonly created_at: number;
  /** The bulk campaign the message was sent for (absent: none; rows written before the column read as none). */
  readonly campaign_id?: string;
}
