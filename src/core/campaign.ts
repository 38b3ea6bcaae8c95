/**
 * A bulk campaign in Catalyst's own terms (000_efc21bb1ba94fac5.txt, "Bulk Campaign"): what is sent
 * on each channel, how fast, when, and how one recipient becomes one core Message. Pure rules, no
 * I/O: the engine (router/campaigns.ts) feeds them the recipient, its contact and the clock.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import ct from 'countries-and-timezones';
import { z } from 'zod';
import type { TemplateParameter } from './channel-content.js';
import { contactAddress, type Contact } from './contact.js';
import { isTimeZone } from './time-zone.js';
import { offsetAt } from './zoned-time.js';

/** The channels a campaign template may name (XMPP users are not a campaign audience). */
export const CAMPAIGN_CHANNELS = ['sms', 'whatsapp', 'telegram', 'viber', 'messenger', 'instagram', 'rcs'] as const;
export type CampaignChannel = (typeof CAMPAIGN_CHANNELS)[number];

/**
 * The life of a campaign. `ingesting` while its recipients are being uploaded; `scheduled` until
 * its start time; `running` while recipients are handed to admission; `completed` once every
 * recipient was handled and every message sent is final. `cancelled` and `completed` are final;
 * `aborted` is an upload that never finished (nothing was sent).
 */
export type CampaignStatus = 'ingesting' | 'scheduled' | 'running' | 'paused' | 'cancelled' | 'completed' | 'aborted';

export type ChannelTemplate =
  | { readonly channel: 'sms'; readonly body: string; readonly from?: string }
  | { readonly channel: 'whatsapp'; readonly templateName: string; readonly language: string; readonly parameters: readonly string[]; readonly header?: TemplateParameter; readonly from?: string }
  | { readonly channel: 'whatsapp'; readonly text: string; readonly from?: string }
  | { readonly channel: 'telegram'; readonly text: string; readonly parseMode?: 'HTML' | 'Markdown' | 'MarkdownV2'; readonly from?: string }
  | { readonly channel: 'viber' | 'messenger' | 'instagram' | 'rcs'; readonly text: string; readonly from?: string };

/** Local daytime window, minutes after local midnight: [start, end). */
export interface DayWindow {
  readonly startMinute: number;
  readonly endMinute: number;
}

export interface CampaignDefinition {
  /** The client's campaignId (unique per account), or one Catalyst made. */
  readonly id: string;
  readonly accountId: string;
  readonly name?: string;
  readonly templates: Readonly<Partial<Record<CampaignChannel, ChannelTemplate>>>;
  /** Epoch ms: nothing is sent before. */
  readonly startAt?: number;
  /** Messages a second, across every process. */
  readonly rateLimit: number;
  /** Messages of the campaign sent but not final at once (0: no cap). */
  readonly maxConcurrent: number;
  /** Send each recipient only inside `window`, in the recipient's local time. */
  readonly timeZoneOptimization: boolean;
  readonly window: DayWindow;
  readonly trackingEnabled: boolean;
  /** Rewrite URLs in texts to tracked links (GET /t/{code}). */
  readonly conversionTracking: boolean;
  /** Days after a send during which clicks and conversions count. */
  readonly attributionWindowDays: number;
  /** Where final states are posted (else the account's webhook). */
  readonly webhookUrl?: string;
  readonly costCenter?: string;
  /** `channel: "auto"` tries these in order (accounts[].channelPreference). */
  readonly channelPreference: readonly CampaignChannel[];
  readonly createdAt: number;
  /** A compatible API's webhook shape and references, carried by every message of the campaign (core/message.ts). */
  readonly webhookFormat?: string;
  readonly clientRef?: Readonly<Record<string, string>>;
}

export interface Recipient {
  /** A phone number (any format libphonenumber reads) or a contact id. */
  readonly phoneOrId: string;
  readonly channel: CampaignChannel | 'auto';
  readonly parameters: Readonly<Record<string, string>>;
}

/** Why a recipient got no message (recorded per recipient, reported by the progress endpoint). */
export type RecipientFailure = 'MISSING_PARAMETER' | 'UNKNOWN_RECIPIENT' | 'NO_TEMPLATE' | 'NO_ADDRESS' | 'CHANNEL_UNAVAILABLE' | 'INSUFFICIENT_BALANCE' | 'NO_ROUTE' | 'REFUSED';
export type RecipientSkip = 'BLOCKED' | 'OPTED_OUT' | 'NO_CHANNEL';

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

/** The placeholders a text uses, in order of first use. */
export function placeholders(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(PLACEHOLDER)) out.add(m[1] ?? '');
  return [...out];
}

/** `{{name}}` filled from params; every missing name is listed (the recipient then fails). */
export function fillTemplate(text: string, params: Readonly<Record<string, string>>): { ok: true; text: string } | { ok: false; missing: string[] } {
  const missing = placeholders(text).filter((n) => params[n] === undefined);
  if (missing.length > 0) return { ok: false, missing };
  return { ok: true, text: text.replace(PLACEHOLDER, (_, n: string) => params[n] ?? '') };
}

/** What a recipient resolved to: a message to build, a skip, or a failure with its reason. */
export type Resolution =
  | { readonly kind: 'send'; readonly channel: CampaignChannel; readonly to: string; readonly from: string; readonly text: string; readonly template?: { readonly name: string; readonly language: string; readonly parameters: readonly string[]; readonly header?: TemplateParameter }; readonly parseMode?: 'HTML' | 'Markdown' | 'MarkdownV2' }
  | { readonly kind: 'skip'; readonly reason: RecipientSkip; readonly detail: string }
  | { readonly kind: 'fail'; readonly reason: RecipientFailure; readonly detail: string };

/** What resolve needs beyond the recipient: its contact (if any) and the account's senders. */
export interface ResolveContext {
  readonly contact: Contact | undefined;
  /** The recipient's phone (E.164 digits) when phoneOrId is one. */
  readonly phone: string | undefined;
  /** The sender an account uses on a channel by default (undefined: the channel is not set up for it). */
  readonly defaultSender: (channel: CampaignChannel) => string | undefined;
}

function addressOf(channel: CampaignChannel, ctx: ResolveContext): string | undefined {
  if (ctx.contact) {
    const a = contactAddress(ctx.contact, channel);
    return a.ok ? a.to : undefined;
  }
  // A bare phone number reaches the phone channels only.
  return channel === 'sms' || channel === 'whatsapp' || channel === 'rcs' ? ctx.phone : undefined;
}

/**
 * `auto`: the first channel of the preference that has a template, a sender, and that the contact
 * is known on (an id for that channel; for SMS a phone). Without a contact, SMS only.
 */
export function autoChannel(def: Pick<CampaignDefinition, 'templates' | 'channelPreference'>, ctx: ResolveContext): CampaignChannel | undefined {
  for (const ch of def.channelPreference) {
    const t = def.templates[ch];
    if (!t || (t.from === undefined && ctx.defaultSender(ch) === undefined)) continue;
    const known = ctx.contact ? (ch === 'sms' ? ctx.contact.phone !== undefined : ctx.contact.channels[ch] !== undefined) : ch === 'sms' && ctx.phone !== undefined;
    if (known) return ch;
  }
  return undefined;
}

export function resolveRecipient(def: CampaignDefinition, r: Recipient, ctx: ResolveContext): Resolution {
  const c = ctx.contact;
  if (c?.blocked === true) return { kind: 'skip', reason: 'BLOCKED', detail: 'the contact is blocked' };
  if (c !== undefined && !c.optedIn) return { kind: 'skip', reason: 'OPTED_OUT', detail: 'the contact opted out of marketing messages' };
  if (c === undefined && ctx.phone === undefined) return { kind: 'fail', reason: 'UNKNOWN_RECIPIENT', detail: `"${r.phoneOrId}" is neither a phone number nor a contact id of this account` };
  let channel: CampaignChannel;
  if (r.channel === 'auto') {
    const ch = autoChannel(def, ctx);
    if (ch === undefined) return { kind: 'skip', reason: 'NO_CHANNEL', detail: `no channel of the preference (${def.channelPreference.join('>')}) has a template and reaches this recipient` };
    channel = ch;
  } else channel = r.channel;
  const t = def.templates[channel];
  if (!t) return { kind: 'fail', reason: 'NO_TEMPLATE', detail: `the campaign has no ${channel} template` };
  const from = t.from ?? ctx.defaultSender(channel);
  if (from === undefined) return { kind: 'fail', reason: 'CHANNEL_UNAVAILABLE', detail: `the account has no ${channel} sender` };
  const to = addressOf(channel, ctx);
  if (to === undefined) return { kind: 'fail', reason: 'NO_ADDRESS', detail: `the recipient has no ${channel} address` };
  // The contact's attributes fill what the recipient's own parameters leave out.
  const params = { ...(c?.attributes ?? {}), ...r.parameters };
  if ('templateName' in t) {
    const missing = t.parameters.filter((n) => params[n] === undefined);
    if (missing.length > 0) return { kind: 'fail', reason: 'MISSING_PARAMETER', detail: `missing parameter ${missing.join(', ')}` };
    const values = t.parameters.map((n) => params[n] ?? '');
    return { kind: 'send', channel, to, from, text: `[template ${t.templateName}]`, template: { name: t.templateName, language: t.language, parameters: values, ...(t.header !== undefined ? { header: t.header } : {}) } };
  }
  const filled = fillTemplate('body' in t ? t.body : t.text, params);
  if (!filled.ok) return { kind: 'fail', reason: 'MISSING_PARAMETER', detail: `missing parameter ${filled.missing.join(', ')}` };
  return { kind: 'send', channel, to, from, text: filled.text, ...('parseMode' in t && t.parseMode !== undefined ? { parseMode: t.parseMode } : {}) };
}

// ---- time zones ----

const zoneOfCountry = new Map<string, string | undefined>();

/**
 * The zone taken for a country: its only zone, or for a country spanning several the one with the
 * median UTC offset (the US → America/Chicago's offset band): a number says its country, not its
 * region.
 */
export function countryZone(country: string): string | undefined {
  if (zoneOfCountry.has(country)) return zoneOfCountry.get(country);
  const zones = ct.getTimezonesForCountry(country) ?? [];
  const sorted = [...zones].sort((a, b) => a.utcOffset - b.utcOffset || a.name.localeCompare(b.name));
  const z = sorted.length === 0 ? undefined : sorted[Math.floor((sorted.length - 1) / 2)]?.name;
  zoneOfCountry.set(country, z);
  return z;
}

/** The recipient's zone: the contact's own, else the phone's country's; undefined when neither is known. */
export function recipientZone(contact: Contact | undefined, phone: string | undefined): string | undefined {
  if (contact?.timeZone !== undefined) return contact.timeZone;
  const p = phone ?? contact?.phone;
  if (p === undefined) return undefined;
  const country = parsePhoneNumberFromString(`+${p}`)?.country;
  return country !== undefined ? countryZone(country) : undefined;
}

/** Seconds after local midnight in a zone at an instant (undefined: unknown zone). */
export function localSecondOfDay(zone: string, at: number): number | undefined {
  if (!isTimeZone(zone)) return undefined;
  const day = Math.floor((at + offsetAt(zone, at)) / 1000) % 86_400;
  return day < 0 ? day + 86_400 : day;
}

/**
 * How long until `at` falls inside the local window of `zone`: 0 when it does now. A window whose
 * end is before its start spans midnight (22:00–06:00). An unknown zone never waits.
 */
export function windowDelayMs(zone: string | undefined, at: number, w: DayWindow): number {
  if (zone === undefined) return 0;
  const sod = localSecondOfDay(zone, at);
  if (sod === undefined) return 0;
  const start = w.startMinute * 60;
  const end = w.endMinute * 60;
  const inside = start <= end ? sod >= start && sod < end : sod >= start || sod < end;
  if (inside) return 0;
  const wait = start > sod ? start - sod : 86_400 - sod + start;
  return wait * 1000 - (at % 1000);
}

/** "09:00" → 540. */
export function parseClock(hhmm: string): number | undefined {
  const m = /^([01][0-9]|2[0-3]):([0-5][0-9])$/.exec(hhmm);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

// ---- tracked links ----

const URL_RE = /\bhttps?:\/\/[^\s<>"']+/g;

/** The URLs of a text, in order (for tracked links). */
export function urlsIn(text: string): string[] {
  return [...text.matchAll(URL_RE)].map((m) => m[0]);
}

/** The text with each URL replaced by what `link` makes of it. */
export function rewriteUrls(text: string, link: (url: string, n: number) => string): string {
  let n = 0;
  return text.replace(URL_RE, (u) => link(u, n++));
}

// ---- recipients as uploaded ----

const paramValue = z.union([z.string().max(1024), z.number().finite(), z.boolean()]).transform((v) => String(v));

/** One entry of `recipients` (seed: phoneOrId, channel, parameters). */
export const RecipientSchema = z.strictObject({
  phoneOrId: z.string().min(1).max(128),
  channel: z.enum([...CAMPAIGN_CHANNELS, 'auto']).default('auto'),
  parameters: z.record(z.string().max(64), paramValue).default({}),
});

/** A recipient as stored in Redis (short keys: a million of them). */
interface StoredRecipient {
  /** Its position in the uploaded list (errors name it). */
  readonly i: number;
  readonly p: string;
  readonly c?: CampaignChannel;
  readonly v?: Readonly<Record<string, string>>;
}

export function encodeRecipient(r: Recipient, position: number): string {
  const s: StoredRecipient = { i: position, p: r.phoneOrId, ...(r.channel !== 'auto' ? { c: r.channel } : {}), ...(Object.keys(r.parameters).length > 0 ? { v: r.parameters } : {}) };
  return JSON.stringify(s);
}

export function decodeRecipient(json: string): (Recipient & { readonly position: number }) | undefined {
  try {
    const s = JSON.parse(json) as StoredRecipient;
    return typeof s.p === 'string' ? { position: s.i, phoneOrId: s.p, channel: s.c ?? 'auto', parameters: s.v ?? {} } : undefined;
  } catch {
    return undefined;
  }
}
