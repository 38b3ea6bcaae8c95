/**
 * GET /api/v2/messages/{messageId}: any message of the account, whatever its channel and
 * direction, in the status shape plus where it came from and went (hot state from Redis, older
 * ones rebuilt from ClickHouse by MessageHistory).
 */
import { z } from 'zod';
import type { AccountConfig } from '../../core/config.js';
import { errorResponse, json, type HttpRequest, type HttpResponse, type RouteDocs } from '../http.js';
import { SmsStatusResponseSchema, statusBody, type SmsDeps } from './sms.js';
import { fallbackChannelOf } from './channel-send.js';

export const MessageResponseSchema = SmsStatusResponseSchema.extend({
  direction: z.enum(['mt', 'mo']).describe('mt: sent by the account; mo: received from a phone'),
  from: z.string().nullable().describe('Sender id or number, when known'),
  created_at: z.string(),
  done_at: z.string().nullable().describe('When it reached its final state'),
  fallbackChannel: z.enum(['sms']).nullable().optional().describe('RCS only: `sms` when the message went out as its SMS fallback'),
});

export async function getMessage(req: HttpRequest, account: AccountConfig, deps: Pick<SmsDeps, 'history'>): Promise<HttpResponse> {
  const id = req.params['messageId'] ?? '';
  // Another account's message is answered exactly like one that does not exist.
  const s = /^[0-9A-Za-z-]{1,64}$/.test(id) ? await deps.history.get(account.id, id) : undefined;
  if (!s) return errorResponse('NOT_FOUND', `message ${id} not found`);
  return json(200, {
    ...statusBody(s),
    direction: s.message?.direction ?? 'mt',
    from: s.message?.source.addr ?? null,
    created_at: new Date(s.createdAt).toISOString(),
    done_at: s.doneAt !== undefined ? new Date(s.doneAt).toISOString() : null,
    ...(s.channel === 'rcs' ? { fallbackChannel: fallbackChannelOf(s) } : {}),
  });
}

export const getMessageDocs: RouteDocs = {
  summary: 'Get any message',
  description: 'A message of the account on any channel, sent or received, with its state, receipt and billing. Another account’s message id answers 404.',
  tags: ['messages'],
  responses: {
    200: { description: 'The message', schema: MessageResponseSchema },
    404: { description: '`NOT_FOUND`: no such message for this account' },
  },
};
