/**
 * Catalyst's Viber content → the Viber REST Bot API (https://developers.viber.com/docs/api/rest-bot-api/):
 *   POST {base}/send_message            (base https://chatapi.viber.com/pa)
 *   X-Viber-Auth-Token: {the bot's auth token}
 *   {"receiver","min_api_version","sender":{"name","avatar"},"tracking_data","type":"text","text"}
 *   {"receiver","min_api_version":2,"sender",…,"type":"rich_media","alt_text",
 *    "rich_media":{"Type":"rich_media","ButtonsGroupColumns","ButtonsGroupRows","Buttons":[{"Columns","Rows","ActionType","ActionBody","Text","Image"}]}}
 * Answers are HTTP 200 with {"status":0,"status_message":"ok","message_token":<64-bit integer>}
 * or a non-zero status (the API's error table). message_token does not fit a JS number: it is
 * read from the raw text. Pure.
 */
import { contentOf, type ContentOf } from '../../core/channel-content.js';
import type { Message } from '../../core/message.js';
import type { HttpAnswer } from '../shared/http-client.js';
import type { BuiltRequest, ParsedAnswer, ProviderAdapter, ProviderFailure, SenderRef } from '../shared/provider.js';

export interface ViberSender extends SenderRef {
  readonly authToken: string;
  readonly name: string;
  readonly avatar?: string | undefined;
}

/**
 * Viber's limits (REST Bot API, "Send message" and "Rich Media message / carousel content"):
 * text 7,000 characters, tracking_data 4,096, sender name 28; a rich media group is 1-6 columns by
 * 1-7 rows, a button 1-6 columns by 1-7 rows and within its group, at most 6 groups (a carousel).
 */
export const VIBER_LIMITS = { text: 7000, trackingData: 4096, senderName: 28, groupColumns: 6, groupRows: 7, groups: 6, altText: 7000 } as const;

/** Viber's `status` codes (REST Bot API, "Error codes"). */
export const VIBER_STATUS: Readonly<Record<number, string>> = {
  0: 'ok',
  1: 'invalidUrl',
  2: 'invalidAuthToken',
  3: 'badData',
  4: 'missingData',
  5: 'receiverNotRegistered',
  6: 'receiverNotSubscribed',
  7: 'publicAccountBlocked',
  8: 'publicAccountNotFound',
  9: 'publicAccountSuspended',
  10: 'webhookNotSet',
  11: 'receiverNoSuitableDevice',
  12: 'tooManyRequests',
  13: 'apiVersionNotSupported',
  14: 'incompatibleWithVersion',
};

export function viberLimitProblems(c: ContentOf<'viber'>): { field: string; message: string }[] {
  const p: { field: string; message: string }[] = [];
  const len = (s: string): number => Array.from(s).length;
  if (c.trackingData !== undefined && len(c.trackingData) > VIBER_LIMITS.trackingData) p.push({ field: 'message.trackingData', message: `at most ${VIBER_LIMITS.trackingData} characters (Viber limit)` });
  switch (c.kind) {
    case 'viber.text':
      if (len(c.text) > VIBER_LIMITS.text) p.push({ field: 'message.body', message: `at most ${VIBER_LIMITS.text} characters (Viber limit); has ${len(c.text)}` });
      break;
    case 'viber.rich_media': {
      if (c.columns < 1 || c.columns > VIBER_LIMITS.groupColumns) p.push({ field: 'message.richMedia.buttonsGroupColumns', message: `1 to ${VIBER_LIMITS.groupColumns} (Viber limit)` });
      if (c.rows < 1 || c.rows > VIBER_LIMITS.groupRows) p.push({ field: 'message.richMedia.buttonsGroupRows', message: `1 to ${VIBER_LIMITS.groupRows} (Viber limit)` });
      let area = 0;
      c.buttons.forEach((b, i) => {
        const cols = b.columns ?? c.columns;
        const rows = b.rows ?? 1;
        if (cols < 1 || cols > c.columns) p.push({ field: `message.richMedia.buttons.${i}.columns`, message: `1 to the group's ${c.columns} columns (Viber limit)` });
        if (rows < 1 || rows > c.rows) p.push({ field: `message.richMedia.buttons.${i}.rows`, message: `1 to the group's ${c.rows} rows (Viber limit)` });
        area += cols * rows;
      });
      if (c.buttons.length === 0) p.push({ field: 'message.richMedia.buttons', message: 'at least one button' });
      // Buttons fill groups of columns × rows cells; a carousel has at most 6 groups.
      if (area > VIBER_LIMITS.groups * c.columns * c.rows) p.push({ field: 'message.richMedia.buttons', message: `the buttons need more than ${VIBER_LIMITS.groups} groups of ${c.columns}×${c.rows} (Viber limit)` });
      break;
    }
  }
  return p;
}

type Json = Record<string, unknown>;

export function viberRequestBody(message: Message, c: ContentOf<'viber'>, sender: ViberSender): Json {
  const envelope: Json = {
    receiver: message.destination.addr,
    sender: { name: sender.name, ...(sender.avatar !== undefined ? { avatar: sender.avatar } : {}) },
    ...(c.trackingData !== undefined ? { tracking_data: c.trackingData } : {}),
  };
  switch (c.kind) {
    case 'viber.text':
      return { ...envelope, min_api_version: 1, type: 'text', text: c.text };
    case 'viber.rich_media':
      return {
        ...envelope,
        // Rich media needs clients of API level 2 or later.
        min_api_version: 2,
        type: 'rich_media',
        alt_text: c.altText,
        rich_media: {
          Type: 'rich_media',
          ButtonsGroupColumns: c.columns,
          ButtonsGroupRows: c.rows,
          Buttons: c.buttons.map((b) => ({
            Columns: b.columns ?? c.columns,
            Rows: b.rows ?? 1,
            ActionType: b.actionType,
            ActionBody: b.actionBody,
            Text: b.text,
            ...(b.image !== undefined ? { Image: b.image } : {}),
            ...(b.bgColor !== undefined ? { BgColor: b.bgColor } : {}),
          })),
        },
      };
  }
}

/** JSON with Viber's 64-bit message_token kept as a string. */
export function parseViberJson(text: string): unknown {
  try {
    return JSON.parse(text.replace(/"message_token"\s*:\s*(-?[0-9]+)/g, '"message_token":"$1"')) as unknown;
  } catch {
    return undefined;
  }
}

export function viberFailure(status: number, message: string): ProviderFailure {
  const base = { providerCode: String(status), message: `${VIBER_STATUS[status] ?? 'generalError'}: ${message}` };
  switch (status) {
    case 2:
    case 7:
    case 8:
    case 9:
    case 10:
      return { ...base, code: 'CHANNEL_UNAVAILABLE', retryable: true, unhealthy: true };
    case 5:
    case 6:
    case 11:
      return { ...base, code: 'INVALID_DESTINATION', retryable: false, unhealthy: false };
    case 12:
      return { ...base, code: 'RATE_LIMIT_EXCEEDED', retryable: true, unhealthy: false };
    case 1:
    case 3:
    case 4:
    case 13:
    case 14:
      return { ...base, code: 'VALIDATION_ERROR', retryable: false, unhealthy: false };
    default:
      return { ...base, code: 'NETWORK_ERROR', retryable: true, unhealthy: true };
  }
}

export const viberAdapter: ProviderAdapter<ViberSender> = {
  name: 'viber',
  build(message: Message, sender: ViberSender, baseUrl: string): BuiltRequest {
    const c = contentOf('viber', message.content);
    const problems = c ? viberLimitProblems(c) : [{ field: 'message', message: 'no Viber content' }];
    if (!c || problems.length > 0) return { ok: false, failure: { code: 'VALIDATION_ERROR', providerCode: 'limits', message: problems.map((x) => `${x.field}: ${x.message}`).join('; '), retryable: false, unhealthy: false } };
    return {
      ok: true,
      request: {
        method: 'POST',
        url: `${baseUrl.replace(/\/$/, '')}/send_message`,
        headers: { 'x-viber-auth-token': sender.authToken, 'content-type': 'application/json' },
        body: JSON.stringify(viberRequestBody(message, c, sender)),
      },
    };
  },
  parse(answer: HttpAnswer & { kind: 'answer' }): ParsedAnswer {
    if (answer.status >= 500) return { ok: false, failure: { code: 'NETWORK_ERROR', providerCode: `http_${answer.status}`, message: `HTTP ${answer.status}`, retryable: true, unhealthy: true } };
    if (answer.status === 429) return { ok: false, failure: viberFailure(12, 'HTTP 429') };
    const a = parseViberJson(answer.text) as { status?: number; status_message?: string; message_token?: string } | undefined;
    if (answer.status === 200 && a?.status === 0 && typeof a.message_token === 'string') return { ok: true, externalId: a.message_token };
    if (typeof a?.status === 'number' && a.status !== 0) return { ok: false, failure: viberFailure(a.status, a.status_message ?? '') };
    return { ok: false, failure: { code: 'NETWORK_ERROR', providerCode: 'bad_answer', message: `unexpected answer (HTTP ${answer.status})`, retryable: true, unhealthy: true } };
  },
};
