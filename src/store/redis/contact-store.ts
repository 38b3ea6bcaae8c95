/**
 * Contacts in Redis (keys.ts: ct, cti, ctl). A contact is one JSON value; its phone and channel ids
 * are indexed per account, each entry owned by one contact, kept true by the contact_put and
 * contact_delete scripts. Reads are plain commands.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { CONTACT_CHANNELS, contactIndexEntries, definedChannels, type Contact, type ContactChannel } from '../../core/contact.js';
import type { Config } from '../../core/config.js';
import { CatalystError } from '../../core/errors.js';
import type { Keys } from './keys.js';
import { defineScripts, run as runScript } from './scripts.js';

const ContactJson = z.object({
  id: z.string(),
  accountId: z.string(),
  name: z.string().optional(),
  phone: z.string().optional(),
  channels: z.record(z.string()).default({}),
  attributes: z.record(z.string()).default({}),
  optedIn: z.boolean().default(true),
  blocked: z.boolean().default(false),
  timeZone: z.string().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
});

export type PutRefusal = { readonly ok: false; readonly reason: 'exists' | 'missing' } | { readonly ok: false; readonly reason: 'conflict'; readonly entry: string; readonly otherId: string };
export type PutResult = { readonly ok: true } | PutRefusal;

export interface ContactPage {
  readonly contacts: Contact[];
  /** The cursor for the next page (the last contact's id), undefined on the last page. */
  readonly next: string | undefined;
}

function parse(raw: string | null | undefined): Contact | undefined {
  if (raw === null || raw === undefined) return undefined;
  try {
    const r = ContactJson.safeParse(JSON.parse(raw));
    if (!r.success) return undefined;
    const { name, phone, timeZone, channels, ...rest } = r.data;
    const ch: Partial<Record<ContactChannel, string>> = {};
    for (const c of CONTACT_CHANNELS) if (channels[c] !== undefined) ch[c] = channels[c];
    return { ...rest, channels: ch, ...(name !== undefined ? { name } : {}), ...(phone !== undefined ? { phone } : {}), ...(timeZone !== undefined ? { timeZone } : {}) };
  } catch {
    return undefined;
  }
}

export class ContactStore {
  constructor(
    readonly redis: Redis,
    readonly keys: Keys,
  ) {
    defineScripts(redis);
  }

  /**
   * Writes a contact. `mode` create refuses an id in use, replace an id not in use, upsert takes
   * either. A phone or channel id that belongs to another contact of the account refuses the write.
   */
  async put(c: Contact, mode: 'create' | 'replace' | 'upsert' = 'upsert'): Promise<PutResult> {
    const r = (await runScript(this.redis, 'contact_put', [
      this.keys.prefix,
      Date.now(),
      0,
      c.accountId,
      c.id,
      JSON.stringify(c),
      c.createdAt,
      mode === 'create' ? 1 : 0,
      mode === 'replace' ? 1 : 0,
      ...contactIndexEntries(c),
    ])) as string[];
    const [code, entry, otherId] = r;
    if (code === 'ok') return { ok: true };
    if (code === 'exists' || code === 'missing') return { ok: false, reason: code };
    return { ok: false, reason: 'conflict', entry: entry ?? '', otherId: otherId ?? '' };
  }

  async get(account: string, id: string): Promise<Contact | undefined> {
    return parse(await this.redis.hget(this.keys.contact(account, id), 'j'));
  }

  /** Several contacts in one round trip, in the order asked (undefined for ids not found). */
  async getMany(account: string, ids: readonly string[]): Promise<(Contact | undefined)[]> {
    if (ids.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hget(this.keys.contact(account, id), 'j');
    const res = (await pipe.exec()) ?? [];
    return res.map(([err, v]) => (err ? undefined : parse(v as string | null)));
  }

  /** The contact that has this phone (E.164 digits without '+'). */
  async findByPhone(account: string, phone: string): Promise<Contact | undefined> {
    return this.findByEntry(account, `phone:${phone}`);
  }

  /** The contact a platform knows by this id (a Telegram chat id, a Viber user id…). */
  async findByChannelId(account: string, channel: ContactChannel, channelId: string): Promise<Contact | undefined> {
    return this.findByEntry(account, `${channel}:${channelId}`);
  }

  /** The contacts of several phones in two round trips, in the order asked (campaigns resolve a batch at once). */
  async findManyByPhone(account: string, phones: readonly string[]): Promise<(Contact | undefined)[]> {
    if (phones.length === 0) return [];
    const ids = await this.redis.hmget(this.keys.contactIndex(account), ...phones.map((p) => `phone:${p}`));
    const found = ids.flatMap((id) => (id === null ? [] : [id]));
    const contacts = new Map<string, Contact | undefined>();
    (await this.getMany(account, found)).forEach((c, i) => contacts.set(found[i] ?? '', c));
    return ids.map((id) => (id === null ? undefined : contacts.get(id)));
  }

  private async findByEntry(account: string, entry: string): Promise<Contact | undefined> {
    const id = await this.redis.hget(this.keys.contactIndex(account), entry);
    return id === null ? undefined : this.get(account, id);
  }

  async delete(account: string, id: string): Promise<boolean> {
    return ((await runScript(this.redis, 'contact_delete', [this.keys.prefix, Date.now(), 0, account, id])) as number) === 1;
  }

  /** The account's contacts oldest first, `limit` at a time, after the contact id `after`. */
  async list(account: string, opts: { after?: string; limit: number }): Promise<ContactPage> {
    const zk = this.keys.contactList(account);
    let start = 0;
    if (opts.after !== undefined) {
      const rank = await this.redis.zrank(zk, opts.after);
      if (rank === null) return { contacts: [], next: undefined };
      start = rank + 1;
    }
    const ids = await this.redis.zrange(zk, start, start + opts.limit);
    const page = ids.slice(0, opts.limit);
    const contacts = (await this.getMany(account, page)).filter((c): c is Contact => c !== undefined);
    return { contacts, next: ids.length > opts.limit ? page[page.length - 1] : undefined };
  }

  async count(account: string): Promise<number> {
    return this.redis.zcard(this.keys.contactList(account));
  }
}

/** Writes the contacts the config names (config.ts `contacts`), as given, on every start. */
export async function seedContacts(store: ContactStore, seeds: Config['contacts']): Promise<void> {
  const now = Date.now();
  for (const s of seeds) {
    const old = await store.get(s.account, s.id);
    const c: Contact = {
      id: s.id,
      accountId: s.account,
      ...(s.name !== undefined ? { name: s.name } : {}),
      ...(s.phone !== undefined ? { phone: s.phone } : {}),
      channels: definedChannels(s.channels),
      attributes: s.attributes,
      optedIn: s.optedIn,
      blocked: s.blocked,
      ...(s.timeZone !== undefined ? { timeZone: s.timeZone } : {}),
      createdAt: old?.createdAt ?? now,
      updatedAt: now,
    };
    const r = await store.put(c);
    if (!r.ok) throw new CatalystError('CONFIG_INVALID', `contacts: "${s.account}/${s.id}" conflicts with stored contact: ${r.reason === 'conflict' ? `${r.entry} belongs to ${r.otherId}` : r.reason}`);
  }
}
