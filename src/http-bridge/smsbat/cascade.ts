/**
 * An SMSBAT message → the ordered steps of its cascade (004_c2de673666e3c7d4.txt: "Cascade
 * automatically routes your message through Telegram Bot, Viber Bot, Viber Business Messages, RCS,
 * and SMS"; the tg-viber path "prioritizes Telegram and Viber" and stops after Viber). Each step is
 * a channel, the account's sender on it, and what to send there in Catalyst's own content types;
 * the orchestration engine runs them. Pure.
 *
 * "Viber Business Messages" is, in Catalyst, the Viber connector again with another of the
 * account's bots (`smsbat.senders[].viberBusiness`, the brand's business account): Catalyst has no
 * connector for Viber's phone-addressed business API, so this step, like the Viber bot one, reaches
 * only a contact with a Viber user id (docs/compat.md).
 */
import type { AccountConfig } from '../../core/config.js';
import type { ChannelContent, InlineButton, RcsSuggestion, ViberButton } from '../../core/channel-content.js';
import type { Channel } from '../../core/message.js';
import type { OrchestrationPlan } from '../../router/orchestrator.js';
import { telegramLimitProblems } from '../../connectors/telegram/bot-api.js';
import { viberLimitProblems } from '../../connectors/viber/index.js';
import { rcsLimitProblems } from '../../connectors/rcs/index.js';
import type { SmsbatError } from './errors.js';
import type { CascadeRequest } from './request.js';
import { SMSBAT_FORMAT } from './webhook.js';

/** The cascade's steps by SMSBAT's names, in its order. */
export const STEP_NAMES = ['telegram', 'viber', 'viber_business', 'rcs', 'sms'] as const;
export type StepName = (typeof STEP_NAMES)[number];
export const STEP_CHANNEL: Readonly<Record<StepName, Channel>> = { telegram: 'telegram', viber: 'viber', viber_business: 'viber', rcs: 'rcs', sms: 'sms' };

export type CascadePath = 'all' | 'tg-viber';
const PATH_STEPS: Readonly<Record<CascadePath, readonly StepName[]>> = { all: STEP_NAMES, 'tg-viber': ['telegram', 'viber'] };

export interface CascadeStep {
  readonly name: StepName;
  readonly channel: Channel;
  /** The account's sender on the channel (channels.<channel>.senders[].from; SMS: the sender id). */
  readonly from: string;
  /** The text as SMS sends it, and the summary of the others. */
  readonly text: string;
  /** What a channel other than SMS sends. */
  readonly content?: ChannelContent;
}

/** Bots named by the request's own headers (X-Tg-Bot-Key, X-Viber-Auth-Token): they send those steps. */
export interface HeaderBots {
  readonly telegram?: string;
  readonly viber?: string;
}

const SURVEY_PREFIX = 'survey:';

/** "1. Very Satisfied" lines under the question, for channels without buttons (SMS). */
function surveyText(r: CascadeRequest): string {
  return r.surveyOptions.length === 0 ? r.text : [r.text, ...r.surveyOptions.map((o, i) => `${i + 1}. ${o}`)].join('\n');
}

function content(name: StepName, r: CascadeRequest): ChannelContent | undefined {
  const survey = r.messageType === 'viber_survey';
  switch (name) {
    case 'telegram': {
      // Each answer a button on its own row; pressing it sends back `survey:<n>` (an MO with the data).
      const keyboard: InlineButton[][] = r.surveyOptions.map((o, i) => [{ text: o, callbackData: `${SURVEY_PREFIX}${i + 1}` }]);
      return { kind: 'telegram.text', text: r.text, ...(survey ? { inlineKeyboard: keyboard } : {}) };
    }
    case 'viber':
    case 'viber_business': {
      if (!survey) return { kind: 'viber.text', text: r.text };
      // The question on two rows (a button without action), each answer a reply button below it:
      // 2 + at most 5 rows fit Viber's group of 6 × 7.
      const question: ViberButton = { text: r.text, actionType: 'none', actionBody: '', columns: 6, rows: 2 };
      const answers: ViberButton[] = r.surveyOptions.map((o, i) => ({ text: o, actionType: 'reply', actionBody: `${SURVEY_PREFIX}${i + 1}`, columns: 6, rows: 1 }));
      return { kind: 'viber.rich_media', altText: surveyText(r), columns: 6, rows: 2 + answers.length, buttons: [question, ...answers], trackingData: r.trackinId };
    }
    case 'rcs': {
      const suggestions: RcsSuggestion[] = r.surveyOptions.map((o, i) => ({ displayText: o, postbackData: `${SURVEY_PREFIX}${i + 1}` }));
      return { kind: 'rcs.text', text: r.text, ...(survey ? { suggestions } : {}) };
    }
    case 'sms':
      return undefined;
  }
}

function problemsOf(c: ChannelContent | undefined): { field: string; message: string }[] {
  if (c === undefined) return [];
  if (c.kind.startsWith('telegram.')) return telegramLimitProblems(c as Extract<ChannelContent, { kind: `telegram.${string}` }>);
  if (c.kind.startsWith('viber.')) return viberLimitProblems(c as Extract<ChannelContent, { kind: `viber.${string}` }>);
  if (c.kind.startsWith('rcs.')) return rcsLimitProblems(c as Extract<ChannelContent, { kind: `rcs.${string}` }>);
  return [];
}

/**
 * The steps for one message: each of the path's channels the account has a sender for under this
 * fromName (a step without one is left out). An unknown fromName, or one with no step on this path,
 * is an INVALID_SENDER; content a channel's own limits refuse is an INVALID_PARAMETER on `text`.
 */
export function cascadeSteps(r: CascadeRequest, account: AccountConfig, path: CascadePath, bots: HeaderBots = {}): { ok: true; steps: CascadeStep[] } | { ok: false; error: SmsbatError } {
  const sender = account.smsbat?.senders.find((s) => s.fromName === r.fromName);
  if (!sender) return { ok: false, error: { code: 'INVALID_SENDER', message: `fromName "${r.fromName}" is not a sender name of this account`, field: 'fromName' } };
  const smsFrom = sender.sms ?? (/^[A-Za-z0-9 ._-]{1,11}$/.test(r.fromName) ? r.fromName : undefined);
  const fromOf: Readonly<Record<StepName, string | undefined>> = {
    telegram: bots.telegram ?? sender.telegram,
    viber: bots.viber ?? sender.viber,
    viber_business: sender.viberBusiness,
    rcs: sender.rcs,
    sms: smsFrom,
  };
  const steps: CascadeStep[] = [];
  for (const name of PATH_STEPS[path]) {
    const from = fromOf[name];
    if (from === undefined) continue;
    const c = content(name, r);
    const problem = problemsOf(c)[0];
    if (problem) return { ok: false, error: { code: 'INVALID_PARAMETER', message: `text does not fit ${name}: ${problem.message}`, field: 'text' } };
    steps.push({ name, channel: STEP_CHANNEL[name], from, text: name === 'sms' ? surveyText(r) : r.text, ...(c !== undefined ? { content: c } : {}) });
  }
  if (steps.length === 0) return { ok: false, error: { code: 'INVALID_SENDER', message: `fromName "${r.fromName}" has no sender on the ${path === 'all' ? 'cascade' : 'Telegram or Viber'} channels`, field: 'fromName' } };
  return { ok: true, steps };
}

/**
 * The orchestration plan of one message: its steps in order, to its phone (the engine finds the
 * contact by it for Telegram and Viber), from `scheduledSent`, giving up at the end of `ttl`; its
 * webhooks in SMSBAT's shape with the client's `trackinId`. Failover timings are the engine's
 * defaults (config `orchestration.*`).
 */
export function cascadePlan(accountId: string, r: CascadeRequest, steps: readonly CascadeStep[]): OrchestrationPlan {
  return {
    accountId,
    to: r.phone,
    steps: steps.map((s) => ({ channel: s.channel, from: s.from, text: s.text, ...(s.content !== undefined ? { content: s.content } : {}) })),
    ...(r.sendAt !== undefined ? { startAt: r.sendAt } : {}),
    ...(r.giveUpAt !== undefined ? { deadline: r.giveUpAt } : {}),
    webhookFormat: SMSBAT_FORMAT,
    clientRef: { trackinId: r.trackinId },
    ingress: 'http',
  };
}
