/**
 * What a message part costs: the rate card's price for its channel and the longest matching
 * destination prefix in force at the message's admission (the request's billing.rateCardId, else
 * the account's default card), else the route's price. Pure; built once from the frozen config.
 *
 * Rates may name a network (`mccMnc`). Admission cannot know the network a number is on today
 * (numbers are ported), so it prices by prefix, ignoring such rows; when the upstream's receipt
 * names the network (SMPP: upstreams[].networkIdTlv, see connectors/smpp/inbound.ts), the price of
 * that network's row, stored with the message at admission (`networkPrices`), is what finalize()
 * charges instead of the reserved one (lua/common.lua note_network and settle).
 */
import type { AccountConfig, RateCardConfig } from '../core/config.js';

export type PriceResult =
  | { readonly ok: true; readonly partPriceMicros: number; readonly rateCardId: string | undefined }
  | { readonly ok: false; readonly reason: 'unknown_rate_card' };

interface CardRate {
  readonly prefix: string;
  readonly micros: number;
  readonly mccMnc: string | undefined;
  readonly from: number;
  readonly to: number;
}

export class Pricing {
  /** card id → channel → rates, longest prefix first. */
  private readonly cards = new Map<string, Map<string, CardRate[]>>();

  constructor(cards: readonly RateCardConfig[]) {
    for (const c of cards) {
      const byChannel = new Map<string, CardRate[]>();
      for (const r of c.rates) {
        const list = byChannel.get(r.channel) ?? [];
        list.push({ prefix: r.prefix, micros: Math.round(r.price * 1_000_000), mccMnc: r.mccMnc, from: r.validFrom ?? -Infinity, to: r.validTo ?? Infinity });
        byChannel.set(r.channel, list);
      }
      for (const list of byChannel.values()) list.sort((a, b) => b.prefix.length - a.prefix.length);
      this.cards.set(c.id, byChannel);
    }
  }

  /**
   * The price of one part at `at` (epoch ms, the admission time). A card named by the request must
   * be the account's default or one of its `rateCards`; a card without a rate for this channel and
   * destination in force then falls back to the route.
   */
  partPrice(account: AccountConfig, channel: string, destination: string, routeMicros: number, requested?: string, at: number = Date.now()): PriceResult {
    const cardId = requested ?? account.rateCardId;
    if (cardId === undefined) return { ok: true, partPriceMicros: routeMicros, rateCardId: undefined };
    if (requested !== undefined && requested !== account.rateCardId && !account.rateCards.includes(requested)) return { ok: false, reason: 'unknown_rate_card' };
    const card = this.cards.get(cardId);
    if (!card) return { ok: false, reason: 'unknown_rate_card' };
    const r = this.find(card, channel, destination, undefined, at);
    return { ok: true, partPriceMicros: r?.micros ?? routeMicros, rateCardId: cardId };
  }

  /**
   * Every network's part price for this destination in force at `at` ("310410:4000,310260:6000",
   * micro-units; '' when the card names no network here): stored with the message at admission, so
   * a receipt naming the network settles the price in Redis without looking the card up again.
   */
  networkPrices(rateCardId: string | undefined, channel: string, destination: string, at: number): string {
    if (rateCardId === undefined) return '';
    const card = this.cards.get(rateCardId);
    if (!card) return '';
    const digits = destination.replace(/^\+/, '');
    const seen = new Map<string, number>();
    // Longest prefix first: the first row of a network is its price.
    for (const r of card.get(channel) ?? []) {
      if (r.mccMnc !== undefined && !seen.has(r.mccMnc) && at >= r.from && at < r.to && digits.startsWith(r.prefix)) seen.set(r.mccMnc, r.micros);
    }
    return [...seen].map(([net, micros]) => `${net}:${micros}`).join(',');
  }

  /** The longest prefix in force at `at`; with a network, only that network's rows, else only rows naming none. */
  private find(card: ReadonlyMap<string, readonly CardRate[]>, channel: string, destination: string, mccMnc: string | undefined, at: number): CardRate | undefined {
    const digits = destination.replace(/^\+/, '');
    for (const r of card.get(channel) ?? []) {
      if (r.mccMnc === mccMnc && at >= r.from && at < r.to && digits.startsWith(r.prefix)) return r;
    }
    return undefined;
  }
}
