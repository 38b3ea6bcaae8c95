/**
 * A message's state wherever it is: Redis while it is hot (not final, or final for less than
 * router.finalRetentionSeconds), then rebuilt from its event rows in ClickHouse. Status APIs ask
 * here, so an old message id answers with its outcome instead of 404.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { EventRow } from '../core/events.js';
import { FINAL_STATUSES, type MessageStatus } from '../core/message.js';
import { queryEvents } from './clickhouse/index.js';
import type { MessageStore, StoredMessage } from './redis/message-store.js';

const STAT_OF: Readonly<Record<string, string>> = { delivered: 'DELIVRD', failed: 'UNDELIV', expired: 'EXPIRED', rejected: 'REJECTD', cancelled: 'DELETED' };

export class MessageHistory {
  constructor(
    private readonly store: MessageStore,
    private readonly clickhouse: ClickHouseClient | undefined,
    private readonly database: string,
  ) {}

  /** The message if it belongs to the account; undefined when unknown or another account's. */
  async get(accountId: string, id: string): Promise<StoredMessage | undefined> {
    const hot = await this.store.get(id);
    if (hot) return hot.accountId === accountId ? hot : undefined;
    if (!this.clickhouse) return undefined;
    const rows = await queryEvents(this.clickhouse, this.database, id, { accountId, limit: 100 });
    return fromEvents(id, rows);
  }
}

/** The state the event rows add up to (the last status that is a state, not 'replaced'). */
export function fromEvents(id: string, rows: readonly EventRow[]): StoredMessage | undefined {
  // A channel's 'read' row follows the final one without changing the state.
  const states = rows.filter((r) => r.status !== 'replaced' && r.status !== 'received' && r.status !== 'read');
  const last = states[states.length - 1] ?? rows[rows.length - 1];
  if (!last) return undefined;
  const status = (last.status === 'received' ? 'delivered' : last.status) as MessageStatus;
  const submitted = rows.find((r) => r.status === 'submitted');
  const final = FINAL_STATUSES.has(status);
  return {
    id,
    accountId: last.account_id,
    status,
    channel: last.channel,
    destination: last.destination,
    upstream: last.upstream_id,
    message: undefined,
    priceMicros: last.price_micros,
    // The final row carries the billed price (lua/common.lua finalize()).
    billedMicros: final ? last.price_micros : undefined,
    currency: last.currency,
    attempts: 0,
    parts: last.parts,
    createdAt: last.created_at,
    submittedAt: submitted?.event_time,
    doneAt: final ? last.event_time : undefined,
    errorCode: last.error_code,
    dlrStat: final ? STAT_OF[status] : undefined,
    // The receipt's own err is kept in Redis only; the history knows the outcome.
    dlrErr: final ? (status === 'delivered' ? '000' : undefined) : undefined,
    upstreamMessageIds: submitted?.upstream_message_id ? submitted.upstream_message_id.split(',') : [],
    expireAt: undefined,
  };
}
