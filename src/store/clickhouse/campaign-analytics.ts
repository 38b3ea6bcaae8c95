/**
 * A campaign's analytics from ClickHouse: its messages' event rows (message_events.campaign_id)
 * and its tracked-link clicks and reported conversions (campaign_actions). Each message counts once
 * whatever the replays (the inner GROUP BY message_id), so the figures are exact.
 *
 *   sent       messages the campaign created
 *   delivered  with a `delivered` row; read with a `read` row; failed with a failed/expired/rejected row
 *   cost       the price of the messages that were billed (accepted by the upstream or delivered)
 *   clicks, conversions  within the attribution window after their message was sent
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { randomBytes } from 'node:crypto';
import { CAMPAIGN_ACTIONS_TABLE, EVENTS_TABLE, qualified } from './schema.js';
import { decimalToMicros, quoteString, toDateTimeString } from './rows.js';

export interface Counts {
  readonly sent: number;
  readonly delivered: number;
  readonly read: number;
  readonly failed: number;
  /** Micro-units of the account's currency. */
  readonly costMicros: number;
}

export interface AnalyticsReport {
  readonly totals: Counts;
  readonly byChannel: Readonly<Record<string, Counts>>;
  /** By the hour the messages were created (UTC, 'YYYY-MM-DD hh:00:00'), oldest first. */
  readonly byHour: readonly (Counts & { readonly hour: string })[];
  readonly clicks: number;
  readonly uniqueClicks: number;
  readonly conversions: number;
  readonly conversionValueMicros: number;
}

export interface ActionInput {
  readonly accountId: string;
  readonly campaignId: string;
  readonly kind: 'click' | 'conversion';
  readonly messageId: string;
  readonly recipient: string;
  readonly url: string;
  readonly event: string;
  readonly valueMicros: number;
  readonly currency: string;
  /** When the message it belongs to was sent (attribution counts from there). */
  readonly sentAt: number;
  readonly at: number;
}

const ZERO: Counts = { sent: 0, delivered: 0, read: 0, failed: 0, costMicros: 0 };

function add(a: Counts, b: Counts): Counts {
  return { sent: a.sent + b.sent, delivered: a.delivered + b.delivered, read: a.read + b.read, failed: a.failed + b.failed, costMicros: a.costMicros + b.costMicros };
}

export class CampaignAnalytics {
  constructor(
    private readonly clickhouse: ClickHouseClient,
    private readonly database: string,
  ) {}

  async report(accountId: string, campaignId: string, attributionWindowDays: number): Promise<AnalyticsReport> {
    const events = qualified(this.database, EVENTS_TABLE);
    const actions = qualified(this.database, CAMPAIGN_ACTIONS_TABLE);
    const where = `account_id = ${quoteString(accountId)} AND campaign_id = ${quoteString(campaignId)}`;
    const perHour = await this.rows<{ channel: string; hour: string; sent: string; delivered: string; read: string; failed: string; cost: string }>(`
SELECT channel, toString(toStartOfHour(toDateTime(intDiv(created, 1000), 'UTC'))) AS hour,
  toString(count()) AS sent, toString(sum(d)) AS delivered, toString(sum(r)) AS read, toString(sum(f)) AS failed, toString(sum(cost)) AS cost
FROM (
  SELECT message_id, any(channel) AS channel, any(created_at_ms) AS created,
    max(status = 'delivered') AS d, max(status = 'read') AS r, max(status IN ('failed', 'expired', 'rejected')) AS f,
    any(price) * max(status IN ('submitted', 'delivered')) AS cost
  FROM ${events}
  WHERE ${where} AND direction = 'mt'
  GROUP BY message_id
)
GROUP BY channel, hour
ORDER BY hour, channel`);
    const windowMs = attributionWindowDays * 86_400_000;
    const [act] = await this.rows<{ clicks: string; unique_clicks: string; conversions: string; value: string }>(`
SELECT toString(uniqExactIf(id, kind = 'click')) AS clicks, toString(uniqExactIf(message_id, kind = 'click')) AS unique_clicks,
  toString(uniqExactIf(id, kind = 'conversion')) AS conversions, toString(sumIf(value, kind = 'conversion')) AS value
FROM (SELECT id, any(kind) AS kind, any(message_id) AS message_id, any(value) AS value FROM ${actions}
      WHERE ${where} AND ts_ms >= sent_at_ms AND ts_ms <= sent_at_ms + ${windowMs} GROUP BY id)`);
    const byChannel: Record<string, Counts> = {};
    const hours = new Map<string, Counts>();
    let totals = ZERO;
    for (const r of perHour) {
      const c: Counts = { sent: Number(r.sent), delivered: Number(r.delivered), read: Number(r.read), failed: Number(r.failed), costMicros: decimalToMicros(r.cost) };
      totals = add(totals, c);
      byChannel[r.channel] = add(byChannel[r.channel] ?? ZERO, c);
      hours.set(r.hour, add(hours.get(r.hour) ?? ZERO, c));
    }
    return {
      totals,
      byChannel,
      byHour: [...hours].map(([hour, c]) => ({ hour, ...c })),
      clicks: Number(act?.clicks ?? 0),
      uniqueClicks: Number(act?.unique_clicks ?? 0),
      conversions: Number(act?.conversions ?? 0),
      conversionValueMicros: act ? decimalToMicros(act.value) : 0,
    };
  }

  /** A click or a conversion, written at once (they are few next to message events). */
  async record(a: ActionInput): Promise<void> {
    await this.clickhouse.insert({
      table: qualified(this.database, CAMPAIGN_ACTIONS_TABLE),
      format: 'JSONEachRow',
      values: [
        {
          id: randomBytes(12).toString('hex'),
          account_id: a.accountId,
          campaign_id: a.campaignId,
          kind: a.kind,
          message_id: a.messageId,
          recipient: a.recipient,
          url: a.url,
          event: a.event,
          value: a.valueMicros / 1e6,
          currency: a.currency,
          sent_at_ms: a.sentAt,
          ts_ms: a.at,
          ts: toDateTimeString(a.at),
        },
      ],
    });
  }

  private async rows<T>(query: string): Promise<T[]> {
    const rs = await this.clickhouse.query({ query, format: 'JSONEachRow' });
    return rs.json<T>();
  }
}
