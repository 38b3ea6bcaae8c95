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

/** A card's rates for one channel, longest prefix first: by prefix alone, and the rows naming a network apart. */
interface ChannelRates {
  readonly plain: readonly CardRate[];
  readonly networks: readonly CardRate[];
}

export class Pricing {
  /** card id → channel → rates. */
  private readonly cards = new Map<string, Map<string, ChannelRates>>();

  constructor(cards: readonly RateCardConfig[]) {
    for (const c of cards) {
      const byChannel = new Map<string, CardRate[]>();
      for (const r of c.rates) {
        const list = byChannel.get(r.channel) ?? [];
        list.push({ prefix: r.prefix, micros: Math.round(r.price * 1_000_000), mccMnc: r.mccMnc, from: r.validFrom ?? -Infinity, to: r.validTo ?? Infinity });
        byChannel.set(r.channel, list);
      }
      const split = new Map<string, ChannelRates>();
      for (const [channel, list] of byChannel) {
        list.sort((a, b) => b.prefix.length - a.prefix.length);
        // Apart, so that every admission's two lookups read only the rows they can use: a card
        // with no network rows costs networkPrices nothing.
        split.set(channel, { plain: list.filter((r) => r.mccMnc === undefined), networks: list.filter((r) => r.mccMnc !== undefined) });
      }
      this.cards.set(c.id, split);
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
    const digits = destination.replace(/^\+/, '');
    const r = card.get(channel)?.plain.find((x) => at >= x.from && at < x.to && digits.startsWith(x.prefix));
    return { ok: true, partPriceMicros: r?.micros ?? routeMicros, rateCardId: cardId };
  }

  /**
   * Every network's part price for this destination in force at `at` ("310410:4000,310260:6000",
   * micro-units; '' when the card names no network here): stored with the message at admission, so
   * a receipt naming the network settles the price in Redis without looking the card up again.
   */
  networkPrices(rateCardId: string | undefined, channel: string, destination: string, at: number): string {
    if (rateCardId === undefined) return '';
    const rows = this.cards.get(rateCardId)?.get(channel)?.networks;
    if (!rows || rows.length === 0) return '';
    const digits = destination.replace(/^\+/, '');
    const seen = new Map<string, number>();
    // Longest prefix first: the first row of a network is its price.
    for (const r of rows) {
      if (r.mccMnc !== undefined && !seen.has(r.mccMnc) && at >= r.from && at < r.to && digits.startsWith(r.prefix)) seen.set(r.mccMnc, r.micros);
    }
    return [...seen].map(([net, micros]) => `${net}:${micros}`).join(',');
  }
}
