/**
 * What a message on a channel other than SMS carries, in Catalyst's own terms: each HTTP endpoint
 * of the seed (000_efc21bb1ba94fac5.txt, the channel sections) translates its body into one of
 * these, and each connector translates it into its provider's request. Pure data: it is stored in
 * Redis with the message (JSON) and must survive a round trip through JSON unchanged.
 */

export type WhatsAppMediaType = 'image' | 'document' | 'video' | 'audio';

export interface ReplyButton {
  readonly id: string;
  readonly title: string;
}

export interface ListRow {
  readonly id: string;
  readonly title: string;
  readonly description?: string;
}

export interface ListSection {
  readonly title?: string;
  readonly rows: readonly ListRow[];
}

/** WhatsApp interactive messages: reply buttons, a list, or a catalog message (001_576de074115522b4.txt). */
export type WhatsAppInteractive =
  | { readonly type: 'button'; readonly body: string; readonly header?: string; readonly footer?: string; readonly buttons: readonly ReplyButton[] }
  | { readonly type: 'list'; readonly body: string; readonly header?: string; readonly footer?: string; readonly button: string; readonly sections: readonly ListSection[] }
  | { readonly type: 'catalog_message'; readonly body: string; readonly footer?: string; readonly thumbnailProductRetailerId?: string };

/** The parameter of a template's header component (Meta's `header` component): text, or media by link. */
export type WhatsAppTemplateHeader =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'image' | 'document' | 'video'; readonly url: string; readonly filename?: string };

export interface InlineButton {
  readonly text: string;
  readonly callbackData?: string;
  readonly url?: string;
}

export interface ViberButton {
  readonly text: string;
  readonly actionType: 'open-url' | 'reply' | 'none';
  readonly actionBody: string;
  readonly columns?: number;
  readonly rows?: number;
  readonly image?: string;
  readonly bgColor?: string;
}

export interface GenericElement {
  readonly title: string;
  readonly subtitle?: string;
  readonly imageUrl?: string;
  readonly buttons: readonly ({ readonly type: 'web_url'; readonly url: string; readonly title: string } | { readonly type: 'postback'; readonly payload: string; readonly title: string })[];
}

export interface RcsSuggestion {
  /** Text shown on the chip; the seed's examples may leave it out (the connector derives one). */
  readonly displayText?: string;
  readonly openUrl?: string;
  readonly postbackData?: string;
}

export type ChannelContent =
  | { readonly kind: 'whatsapp.text'; readonly text: string; readonly previewUrl?: boolean }
  | { readonly kind: 'whatsapp.media'; readonly mediaType: WhatsAppMediaType; readonly url: string; readonly caption?: string; readonly filename?: string }
  | { readonly kind: 'whatsapp.template'; readonly name: string; readonly language: string; readonly parameters: readonly string[]; readonly header?: WhatsAppTemplateHeader }
  | { readonly kind: 'whatsapp.interactive'; readonly interactive: WhatsAppInteractive }
  | { readonly kind: 'telegram.text'; readonly text: string; readonly parseMode?: 'HTML' | 'Markdown' | 'MarkdownV2'; readonly inlineKeyboard?: readonly (readonly InlineButton[])[] }
  | { readonly kind: 'telegram.sticker'; readonly sticker: string }
  | { readonly kind: 'viber.text'; readonly text: string; readonly trackingData?: string }
  | { readonly kind: 'viber.rich_media'; readonly altText: string; readonly columns: number; readonly rows: number; readonly buttons: readonly ViberButton[]; readonly trackingData?: string }
  | { readonly kind: 'meta.text'; readonly text: string }
  | { readonly kind: 'instagram.story_reply'; readonly storyId: string; readonly text: string }
  | { readonly kind: 'messenger.generic'; readonly elements: readonly GenericElement[] }
  | { readonly kind: 'rcs.text'; readonly text: string; readonly suggestions?: readonly RcsSuggestion[] }
  | {
      readonly kind: 'rcs.rich_card';
      readonly title?: string;
      readonly description?: string;
      readonly media?: { readonly height: 'SHORT' | 'MEDIUM' | 'TALL'; readonly url: string };
      readonly suggestions: readonly RcsSuggestion[];
    };

export type ChannelContentKind = ChannelContent['kind'];

/** The contents of one provider family, by the prefix of their kind. */
export type ContentOf<P extends string> = Extract<ChannelContent, { kind: `${P}.${string}` }>;

export function contentOf<P extends string>(prefix: P, c: ChannelContent | undefined): ContentOf<P> | undefined {
  return c !== undefined && c.kind.startsWith(`${prefix}.`) ? (c as ContentOf<P>) : undefined;
}
