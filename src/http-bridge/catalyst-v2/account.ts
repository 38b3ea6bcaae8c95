/**
 * GET /api/v2/account/balance: the account's balance and what is held for messages in flight (from
 * Redis, live), and its spend today, this month and over a period, by cost center (from
 * ClickHouse: store/clickhouse/spend.ts). The seed's best practice 8, "monitor billing in
 * real-time to prevent overspend".
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import type { AccountConfig } from '../../core/config.js';
import { fromMicros } from '../../core/message.js';
import { querySpend, type CostCenterSpend } from '../../store/clickhouse/spend.js';
import type { Route } from '../app.js';
import { errorResponse, json, type HttpRequest, type HttpResponse, type RouteDocs } from '../http.js';
import { problemsOf } from './sms.js';

export interface AccountDeps {
  /** The live balance and the reserve of messages not final yet, in micro-units (MessageStore.balanceAndReserved). */
  readonly balances: (accountId: string) => Promise<{ balanceMicros: number; reservedMicros: number }>;
  /** The event store; undefined → spend is not known (null in the answer). */
  readonly clickhouse: ClickHouseClient | undefined;
  readonly database: string;
}

/** A date (`2025-01-31`, midnight UTC) or an ISO 8601 date-time with Z or an offset. */
const INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const instant = z
  .string()
  .refine((v) => INSTANT.test(v) && !Number.isNaN(Date.parse(v)), 'a date (2025-01-31) or an ISO 8601 date-time with Z or an offset')
  .describe('A date (midnight UTC) or an ISO 8601 date-time');

export const BalanceQuerySchema = z.strictObject({
  from: instant.optional().describe('Start of the period (inclusive); default the start of this month, UTC'),
  to: instant.optional().describe('End of the period (exclusive); default now'),
  costCenter: z.string().max(64).optional().describe('Only this cost center (`billing.costCenter` of the sends; empty: the messages that named none)'),
});

const money = z.number().describe('In `currency`');

const CostCenterSchema = z.object({
  cost_center: z.string().describe('`billing.costCenter` of the messages (empty: none named)'),
  spend: money,
  messages: z.number().int().describe('Messages that reached their final state in the period'),
  today: money,
  month: money,
});

export const BalanceResponseSchema = z.object({
  account_id: z.string(),
  balance: money.describe('What the account can spend now: the opening balance less every message charged or still reserved'),
  reserved: money.describe('Held for messages not final yet: charged or given back at their outcome (refund policy)'),
  currency: z.string(),
  spend: z
    .object({
      today: money.describe('Messages that became final today (UTC)'),
      month: money.describe('… this month (UTC)'),
      period: z.object({ from: z.string(), to: z.string(), amount: money, messages: z.number().int() }).describe('… in [from, to)'),
      by_cost_center: z.array(CostCenterSchema),
    })
    .nullable()
    .describe('From the event store (final rows carry the billed price; written in batches, so the newest message can take a moment). Null when the event store does not answer'),
  timestamp: z.string(),
});

export const balanceDocs: RouteDocs = {
  summary: 'Get the account balance and spend',
  description:
    'The live balance and the reserve of messages in flight, with the spend of messages that reached their final state today, this month and over `from`–`to`, in total and by cost center. A message costs its reserved price, nothing when the refund policy gives it back, or its network’s price when the receipt named one.',
  tags: ['account'],
  query: BalanceQuerySchema,
  responses: {
    200: { description: 'Balance and spend', schema: BalanceResponseSchema },
    400: { description: '`VALIDATION_ERROR` naming the query field (`from`, `to`, `costCenter`)' },
  },
};

export async function accountBalance(req: HttpRequest, account: AccountConfig, deps: AccountDeps, now = Date.now()): Promise<HttpResponse> {
  const parsed = BalanceQuerySchema.safeParse(Object.fromEntries(new URLSearchParams(req.query)));
  if (!parsed.success) return errorResponse('VALIDATION_ERROR', 'query is invalid', { details: problemsOf(parsed.error) });
  const q = parsed.data;
  const d = new Date(now);
  const dayStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const monthStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const from = q.from !== undefined ? Date.parse(q.from) : monthStart;
  const to = q.to !== undefined ? Date.parse(q.to) : now;
  if (to <= from) return errorResponse('VALIDATION_ERROR', 'query is invalid', { details: [{ field: 'to', message: 'is not after from' }] });
  const { balanceMicros, reservedMicros } = await deps.balances(account.id);
  let rows: CostCenterSpend[] | undefined;
  if (deps.clickhouse) {
    try {
      rows = await querySpend(deps.clickhouse, deps.database, { accountId: account.id, from, to, dayStart, monthStart, ...(q.costCenter !== undefined ? { costCenter: q.costCenter } : {}) });
    } catch {
      rows = undefined;
    }
  }
  const sum = (f: (r: CostCenterSpend) => number): number => fromMicros((rows ?? []).reduce((a, r) => a + f(r), 0));
  return json(200, {
    account_id: account.id,
    balance: fromMicros(balanceMicros),
    reserved: fromMicros(reservedMicros),
    currency: account.currency,
    spend:
      rows === undefined
        ? null
        : {
            today: sum((r) => r.todayMicros),
            month: sum((r) => r.monthMicros),
            period: { from: new Date(from).toISOString(), to: new Date(to).toISOString(), amount: sum((r) => r.periodMicros), messages: rows.reduce((a, r) => a + r.periodMessages, 0) },
            by_cost_center: rows.map((r) => ({ cost_center: r.costCenter, spend: fromMicros(r.periodMicros), messages: r.periodMessages, today: fromMicros(r.todayMicros), month: fromMicros(r.monthMicros) })),
          },
    timestamp: new Date(now).toISOString(),
  });
}

function authed(fn: (req: HttpRequest, account: AccountConfig) => Promise<HttpResponse>): Route['handle'] {
  return (req, account) => (account ? fn(req, account) : errorResponse('INVALID_API_KEY', 'missing or invalid API key'));
}

export function accountRoutes(deps: AccountDeps): Route[] {
  return [{ method: 'GET', pattern: '/api/v2/account/balance', auth: true, docs: balanceDocs, handle: authed((req, account) => accountBalance(req, account, deps)) }];
}
