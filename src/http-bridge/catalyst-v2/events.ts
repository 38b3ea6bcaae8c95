/**
 * GET /api/v2/messages/{messageId}/events: every state change of one message, oldest first, from
 * the ClickHouse event store (one row per change; replays folded by event_id). Another account's
 * message id answers 404 exactly like one that does not exist, as the status endpoint does.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import type { AccountConfig } from '../../core/config.js';
import type { EventRow } from '../../core/events.js';
import { fromMicros } from '../../core/message.js';
import { queryEvents } from '../../store/clickhouse/index.js';
import type { MessageHistory } from '../../store/history.js';
import type { Route } from '../app.js';
import { errorResponse, json, type HttpRequest, type HttpResponse, type RouteDocs } from '../http.js';

export interface EventsDeps {
  /** The event store; undefined → only messages still hot in Redis are known, with no events. */
  readonly clickhouse: ClickHouseClient | undefined;
  readonly database: string;
  readonly history: MessageHistory;
}

/** At most this many events per message are answered (a message has a handful: queued, submitted, final…). */
const MAX_EVENTS = 1000;

export const MessageEventSchema = z.object({
  event_id: z.string().describe('Unique per event: `<message_id>:<sequence>`'),
  status: z.string().describe('The state entered: queued, scheduled, submitted, delivered, failed, expired, rejected, cancelled, replaced, received'),
  error_code: z.string().nullable().describe('Why, for a failure: an SMPP status name, DLR_<stat> for a failing receipt, or a Catalyst code'),
  upstream_message_id: z.string().nullable().describe("The upstream SMSC's id(s), comma-separated, once it accepted the message"),
  timestamp: z.string().describe('When the state was entered (ISO 8601, UTC)'),
  channel: z.string().describe('`sms`'),
  price: z.number().describe('The message’s price (all parts) in `currency`: reserved on the rows before the final one; on the final row, what it was billed (0 when refunded, the network’s price when the receipt named one)'),
  currency: z.string(),
});

export const MessageEventsResponseSchema = z.object({
  message_id: z.string(),
  events: z.array(MessageEventSchema).describe('Oldest first; empty while the first row is still on its way to the event store'),
});

export const messageEventsDocs: RouteDocs = {
  summary: 'List the events of a message',
  description:
    'Every state change of the message, oldest first, as recorded in the event store (queued, submitted, delivered …). The store is written in batches, so the newest change can take a moment to appear. Another account’s message id answers 404.',
  tags: ['messages'],
  responses: {
    200: { description: 'The message’s events', schema: MessageEventsResponseSchema },
    404: { description: '`NOT_FOUND`: no such message for this account' },
  },
};

export function eventBody(r: EventRow): z.infer<typeof MessageEventSchema> {
  return {
    event_id: r.event_id,
    status: r.status,
    error_code: r.error_code !== '' ? r.error_code : null,
    upstream_message_id: r.upstream_message_id !== '' ? r.upstream_message_id : null,
    timestamp: new Date(r.event_time).toISOString(),
    channel: r.channel,
    price: fromMicros(r.price_micros),
    currency: r.currency,
  };
}

export async function messageEvents(req: HttpRequest, account: AccountConfig, deps: EventsDeps): Promise<HttpResponse> {
  const id = req.params['messageId'] ?? '';
  if (!/^[0-9A-Za-z-]{1,64}$/.test(id)) return errorResponse('NOT_FOUND', `message ${id} not found`);
  // The account filter is part of the query (the table's sort key starts with account_id), so
  // another account's message has no rows here.
  const rows = deps.clickhouse ? await queryEvents(deps.clickhouse, deps.database, id, { accountId: account.id, limit: MAX_EVENTS }) : [];
  // No rows yet: a message admitted a moment ago is in Redis before its first row is in ClickHouse.
  if (rows.length === 0 && !(await deps.history.get(account.id, id))) return errorResponse('NOT_FOUND', `message ${id} not found`);
  return json(200, { message_id: id, events: rows.map(eventBody) });
}

function authed(fn: (req: HttpRequest, account: AccountConfig) => Promise<HttpResponse>): Route['handle'] {
  return (req, account) => (account ? fn(req, account) : errorResponse('INVALID_API_KEY', 'missing or invalid API key'));
}

export function eventsRoutes(deps: EventsDeps): Route[] {
  return [{ method: 'GET', pattern: '/api/v2/messages/{messageId}/events', auth: true, docs: messageEventsDocs, handle: authed((req, account) => messageEvents(req, account, deps)) }];
}
