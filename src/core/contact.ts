/**
 * A contact: one person an account messages, with the address they have on each channel. The
 * orchestration engine resolves a destination per channel through it (a phone number reaches SMS,
 * WhatsApp and RCS; Telegram, Viber, Messenger, Instagram and XMPP need the ids those platforms gave
 * the person), campaigns choose a recipient's channel by it (`channel: "auto"`), and the compatible
 * APIs keep their contacts in it. Pure data and rules; the store is store/redis/contact-store.ts.
 */
import type { Channel } from './message.js';

/** The channels a contact can hold an id for: every channel but SMS, whose address is the phone. */
export const CONTACT_CHANNELS = ['whatsapp', 'telegram', 'viber', 'messenger', 'instagram', 'rcs', 'xmpp'] as const;
export type ContactChannel = (typeof CONTACT_CHANNELS)[number];

export interface Contact {
  /** Unique within the account; the client's own id or one Catalyst made (newContactId). */
  readonly id: string;
  readonly accountId: string;
  readonly name?: string;
  /** E.164 digits without '+' (core/msisdn.ts): reaches SMS, and WhatsApp and RCS unless they have their own. */
  readonly phone?: string;
  /**
   * Per channel, the id the platform knows the person by: a Telegram chat id, a Viber user id, a
   * Messenger PSID, an Instagram IGSID, an XMPP bare JID; for WhatsApp and RCS a phone in E.164
   * digits when it differs from `phone`.
   */
  readonly channels: Readonly<Partial<Record<ContactChannel, string>>>;
  /** Free attributes (a compatible API's custom fields, campaign parameters). */
  readonly attributes: Readonly<Record<string, string>>;
  /** Marketing consent. A contact opted out gets no campaign or template messages. */
  readonly optedIn: boolean;
  /** Blocked by the account: never messaged, on any channel, by any door that goes through contacts. */
  readonly blocked: boolean;
  /** IANA time zone when known (campaign time windows); else derived from the phone's country. */
  readonly timeZone?: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * Where a channel reaches this contact, or why it does not. A blocked contact is reachable on no
 * channel; SMS goes to the phone; WhatsApp and RCS to their own id, else the phone.
 */
export function contactAddress(c: Contact, channel: Channel): { ok: true; to: string } | { ok: false; reason: 'blocked' | 'no_address' } {
  if (c.blocked) return { ok: false, reason: 'blocked' };
  if (channel === 'sms') return c.phone !== undefined ? { ok: true, to: c.phone } : { ok: false, reason: 'no_address' };
  const own = c.channels[channel];
  if (own !== undefined) return { ok: true, to: own };
  if ((channel === 'whatsapp' || channel === 'rcs') && c.phone !== undefined) return { ok: true, to: c.phone };
  return { ok: false, reason: 'no_address' };
}

/** The index entries a contact owns (its phone and each channel id), each unique within the account. */
export function contactIndexEntries(c: Pick<Contact, 'phone' | 'channels'>): string[] {
  const out: string[] = [];
  if (c.phone !== undefined) out.push(`phone:${c.phone}`);
  for (const ch of CONTACT_CHANNELS) {
    const v = c.channels[ch];
    if (v !== undefined) out.push(`${ch}:${v}`);
  }
  return out;
}

/** Channel ids as a schema parsed them (absent keys may hold undefined), with only the ones set. */
export function definedChannels(ids: Readonly<Partial<Record<ContactChannel, string | undefined>>>): Partial<Record<ContactChannel, string>> {
  const out: Partial<Record<ContactChannel, string>> = {};
  for (const c of CONTACT_CHANNELS) {
    const v = ids[c];
    if (v !== undefined) out[c] = v;
  }
  return out;
}
