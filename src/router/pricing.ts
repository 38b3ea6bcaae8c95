/**
 * What a message part costs: the rate card's price for its channel and the longest matching
 * destination prefix (the request's billing.rateCardId, else the account's default card), else the
 * route's price. Pure; built once from the frozen config.
 */
import type { AccountConfig, RateCardConfig } from '../core/config.js';

export type PriceResult =
  | { readonly ok: true; readonly partPriceMicros: number; readonly rateCardId: string | undefined }
  | { readonly ok: false; readonly reason: 'unknown_rate_card' };

interface CardRate {
  readonly prefix: string;
  readonly micros: number;
}

export class Pricing {
  /** card id → channel → rates, longest prefix first. */
  private readonly cards = new Map<string, Map<string, CardRate[]>>();

  constructor(cards: readonly RateCardConfig[]) {
    for (const c of cards) {
      const byChannel = new Map<string, CardRate[]>();
      for (const r of c.rates) {
        const list = byChannel.get(r.channel) ?? [];
        list.push({ prefix: r.prefix, micros: Math.round(r.price * 1_000_000) });
        byChannel.set(r.channel, list);
      }
      for (const list of byChannel.values()) list.sort((a, b) => b.prefix.length - a.prefix.length);
      this.cards.set(c.id, byChannel);
    }
  }

  /**
   * The price of one part. A card named by the request must be the account's default or one of
   * its `rateCards`; a card without a rate for this channel and destination falls back to the route.
   */
  partPrice(account: AccountConfig, channel: string, destination: string, routeMicros: number, requested?: string): PriceResult {
    const cardId = requested ?? account.rateCardId;
    if (cardId === undefined) return { ok: true, partPriceMicros: routeMicros, rateCardId: undefined };
    if (requested !== undefined && requested !== account.rateCardId && !account.rateCards.includes(requested)) return { ok: false, reason: 'unknown_rate_card' };
    const card = this.cards.get(cardId);
    if (!card) return { ok: false, reason: 'unknown_rate_card' };
    const digits = destination.replace(/^\+/, '');
    for (const r of card.get(channel) ?? []) if (digits.startsWith(r.prefix)) return { ok: true, partPriceMicros: r.micros, rateCardId: cardId };
    return { ok: true, partPriceMicros: routeMicros, rateCardId: cardId };
  }
}
