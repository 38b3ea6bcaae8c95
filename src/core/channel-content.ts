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

/** A header image, video or document of an interactive message (Meta's HeaderObject), by link. */
export interface WhatsAppHeaderMedia {
  readonly type: 'image' | 'video' | 'document';
  readonly url: string;
  readonly filename?: string;
}

/** A section of a multi-product message: its title and the products' retailer ids in the catalog. */
export interface ProductSection {
  readonly title?: string;
  readonly productRetailerIds: readonly string[];
}

/** A WhatsApp Flow to open (Meta's `action.name: "flow"`): by id or by name, with its first screen. */
export interface WhatsAppFlow {
  readonly flowId?: string;
  readonly flowName?: string;
  readonly cta: string;
  readonly token?: string;
  readonly mode?: 'draft' | 'published';
  readonly action?: 'navigate' | 'data_exchange';
  readonly screen?: string;
  /** The first screen's input data: JSON, sent as given. */
  readonly data?: Readonly<Record<string, unknown>>;
}

/**
 * WhatsApp interactive messages: every type the Kaleyra seed lists (001_576de074115522b4.txt,
 * `interactive.type`): reply buttons, a list, a catalog message, a single product, a multi-product
 * list, a Flow. `header` is a text header; `headerMedia` an image, video or document one (buttons only).
 */
export type WhatsAppInteractive =
  | { readonly type: 'button'; readonly body: string; readonly header?: string; readonly headerMedia?: WhatsAppHeaderMedia; readonly footer?: string; readonly buttons: readonly ReplyButton[] }
  | { readonly type: 'list'; readonly body: string; readonly header?: string; readonly footer?: string; readonly button: string; readonly sections: readonly ListSection[] }
  | { readonly type: 'catalog_message'; readonly body: string; readonly footer?: string; readonly thumbnailProductRetailerId?: string }
  | { readonly type: 'product'; readonly body?: string; readonly footer?: string; readonly catalogId: string; readonly productRetailerId: string }
  | { readonly type: 'product_list'; readonly header: string; readonly body: string; readonly footer?: string; readonly catalogId: string; readonly sections: readonly ProductSection[] }
  | { readonly type: 'flow'; readonly body: string; readonly header?: string; readonly footer?: string; readonly flow: WhatsAppFlow };

/**
 * One parameter of a template component, as Meta types them: text, currency and date_time (body
 * and text headers), image, video and document by link (media headers), payload and text (buttons).
 */
export type TemplateParameter =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'currency'; readonly fallbackValue: string; readonly code: string; readonly amount1000: number }
  | { readonly type: 'date_time'; readonly fallbackValue: string }
  | { readonly type: 'image' | 'video' | 'document'; readonly url: string; readonly filename?: string }
  | { readonly type: 'payload'; readonly payload: string };

/** A template's component with its parameters (Meta's HeaderComponent, BodyComponent, ButtonComponent). */
export type TemplateComponent =
  | { readonly type: 'header' | 'body'; readonly parameters: readonly TemplateParameter[] }
  | { readonly type: 'button'; readonly subType: 'quick_reply' | 'url' | 'catalog'; readonly index: number; readonly parameters: readonly TemplateParameter[] };

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
  | {
      readonly kind: 'whatsapp.template';
      readonly name: string;
      readonly language: string;
      /** Body parameters {{1}}, {{2}} … as text. */
      readonly parameters: readonly string[];
      /** Every component with typed parameters (header media, currency, buttons): sent instead of `parameters` when present. */
      readonly components?: readonly TemplateComponent[];
    }
  | { readonly kind: 'whatsapp.interactive'; readonly interactive: WhatsAppInteractive }
  | { readonly kind: 'telegram.text'; readonly text: string; readonly parseMode?: 'HTML' | 'Markdown' | 'MarkdownV2'; readonly inlineKeyboard?: readonly (readonly InlineButton[])[] }
  | { readonly kind: 'telegram.sticker'; readonly sticker: string }
  | { readonly kind: 'viber.text'; readonly text: string; readonly trackingData?: string }
  | { readonly kind: 'viber.rich_media'; readonly altText: string; readonly columns: number; readonly rows: number; readonly buttons: readonly ViberButton[]; readonly trackingData?: string }
  | { readonly kind: 'meta.text'; readonly text: string }
  /** Messenger and Instagram: an attachment by URL (Meta's Send API `attachment.type`; Instagram takes no `file`). */
  | { readonly kind: 'meta.media'; readonly mediaType: 'image' | 'video' | 'audio' | 'file'; readonly url: string }
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
