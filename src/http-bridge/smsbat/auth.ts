/**
 * SMSBAT's authentication (004_c2de673666e3c7d4.txt, "Authentication": "Include at least one"):
 *   X-Authorization-Key   the SMSBAT API key: accounts[].smsbat.apiKeys
 *   X-Viber-Auth-Token    Viber bot credentials: the auth token of one of the account's Viber bots
 *   X-Tg-Bot-Key          Telegram bot key: the token of one of the account's Telegram bots
 * Every header given must name the same account (a wrong one is refused even beside a right one),
 * and a bot named by its token sends that channel's step. Only accounts with `smsbat` configured
 * answer here. Keys are looked up by hash, so timing says nothing about how much of one matched.
 */
import { createHash } from 'node:crypto';
import type { AccountConfig, ChannelsConfig } from '../../core/config.js';
import type { HttpRequest } from '../http.js';
import type { HeaderBots } from './cascade.js';

export const AUTH_HEADERS = { key: 'x-authorization-key', viber: 'x-viber-auth-token', telegram: 'x-tg-bot-key' } as const;

interface Bot {
  readonly account: string;
  readonly from: string;
}

const digest = (k: string): string => createHash('sha256').update(k).digest('hex');

export class SmsbatAuth {
  private readonly byKey = new Map<string, string>();
  private readonly viber = new Map<string, Bot[]>();
  private readonly telegram = new Map<string, Bot[]>();
  private readonly accounts = new Map<string, AccountConfig>();

  constructor(accounts: readonly AccountConfig[], channels: Partial<ChannelsConfig>) {
    for (const a of accounts) {
      if (a.smsbat === undefined) continue;
      this.accounts.set(a.id, a);
      for (const k of a.smsbat.apiKeys) this.byKey.set(digest(k), a.id);
    }
    const add = (map: Map<string, Bot[]>, token: string, bot: Bot): void => {
      if (!this.accounts.has(bot.account)) return;
      const list = map.get(digest(token)) ?? [];
      list.push(bot);
      map.set(digest(token), list);
    };
    for (const s of channels.viber?.senders ?? []) add(this.viber, s.authToken, s);
    for (const s of channels.telegram?.senders ?? []) add(this.telegram, s.botToken, s);
  }

  /** The account every given header names, and the bots they name; undefined: 401. */
  authenticate(req: HttpRequest): { account: AccountConfig; bots: HeaderBots } | undefined {
    const value = (h: string): string | undefined => {
      const v = req.headers[h]?.trim();
      return v === undefined || v === '' ? undefined : v;
    };
    const key = value(AUTH_HEADERS.key);
    const viberToken = value(AUTH_HEADERS.viber);
    const tgKey = value(AUTH_HEADERS.telegram);
    if (key === undefined && viberToken === undefined && tgKey === undefined) return undefined;
    // Each header given narrows the accounts it may be; all together must leave exactly one.
    let candidates: Set<string> | undefined;
    const narrow = (ids: readonly string[]): void => {
      candidates = new Set(ids.filter((id) => candidates === undefined || candidates.has(id)));
    };
    if (key !== undefined) narrow([this.byKey.get(digest(key))].filter((x): x is string => x !== undefined));
    const viberBots = viberToken !== undefined ? (this.viber.get(digest(viberToken)) ?? []) : undefined;
    const tgBots = tgKey !== undefined ? (this.telegram.get(digest(tgKey)) ?? []) : undefined;
    if (viberBots) narrow(viberBots.map((b) => b.account));
    if (tgBots) narrow(tgBots.map((b) => b.account));
    const ids = [...(candidates ?? [])];
    const only = ids.length === 1 ? ids[0] : undefined;
    const account = only !== undefined ? this.accounts.get(only) : undefined;
    if (!account) return undefined;
    const viber = viberBots?.find((b) => b.account === account.id)?.from;
    const telegram = tgBots?.find((b) => b.account === account.id)?.from;
    return { account, bots: { ...(viber !== undefined ? { viber } : {}), ...(telegram !== undefined ? { telegram } : {}) } };
  }
}
