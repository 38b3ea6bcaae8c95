/**
 * Meta's own limits on WhatsApp Cloud API messages, checked before sending so a message Meta would
 * refuse fails here with a clear reason (and no request). From Meta's reference pages:
 *   https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages  (text body 4096,
 *     media caption 1024, interactive body 1024, header text 60, footer 60)
 *   https://developers.facebook.com/docs/whatsapp/cloud-api/messages/interactive-reply-buttons-messages
 *     (at most 3 buttons, title at most 20 characters, id at most 256, ids and titles unique)
 *   https://developers.facebook.com/docs/whatsapp/cloud-api/messages/interactive-list-messages
 *     (button text 20, at most 10 sections and 10 rows in all, section title 24, row title 24,
 *     row description 72, row id 200)
 *   https://developers.facebook.com/docs/whatsapp/cloud-api/guides/sell-products-and-services/share-products
 *     (multi-product: a text header, at most 10 sections and 30 products in all, section title 24)
 *   https://developers.facebook.com/docs/whatsapp/flows/guides/sendingaflow (flow_cta at most 30)
 *   https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates
 *     (template name at most 512 characters, lower case, digits and _)
 * Pure: returns the problems, each naming the field of the Catalyst request.
 */
import type { ContentOf, WhatsAppInteractive } from '../../core/channel-content.js';

export const WA_LIMITS = {
  textBody: 4096,
  caption: 1024,
  interactiveBody: 1024,
  headerText: 60,
  footerText: 60,
  replyButtons: 3,
  buttonTitle: 20,
  buttonId: 256,
  listButton: 20,
  listSections: 10,
  listRows: 10,
  sectionTitle: 24,
  rowTitle: 24,
  rowDescription: 72,
  rowId: 200,
  templateName: 512,
  productSections: 10,
  productItems: 30,
  flowCta: 30,
} as const;

export interface LimitProblem {
  readonly field: string;
  readonly message: string;
}

/** Characters as Meta counts them (code points). */
function len(s: string): number {
  return Array.from(s).length;
}

function max(problems: LimitProblem[], field: string, value: string | undefined, limit: number): void {
  if (value !== undefined && len(value) > limit) problems.push({ field, message: `at most ${limit} characters (WhatsApp limit); has ${len(value)}` });
}

function interactiveProblems(i: WhatsAppInteractive, p: LimitProblem[]): void {
  max(p, 'message.body.text', i.body, WA_LIMITS.interactiveBody);
  max(p, 'message.footer.text', i.footer, WA_LIMITS.footerText);
  switch (i.type) {
    case 'button': {
      max(p, 'message.header.text', i.header, WA_LIMITS.headerText);
      if (i.buttons.length === 0) p.push({ field: 'message.action.buttons', message: 'at least one reply button' });
      if (i.buttons.length > WA_LIMITS.replyButtons) p.push({ field: 'message.action.buttons', message: `at most ${WA_LIMITS.replyButtons} reply buttons (WhatsApp limit); has ${i.buttons.length}` });
      i.buttons.forEach((b, n) => {
        max(p, `message.action.buttons.${n}.reply.title`, b.title, WA_LIMITS.buttonTitle);
        max(p, `message.action.buttons.${n}.reply.id`, b.id, WA_LIMITS.buttonId);
      });
      if (new Set(i.buttons.map((b) => b.id)).size !== i.buttons.length) p.push({ field: 'message.action.buttons', message: 'reply button ids must be unique' });
      if (new Set(i.buttons.map((b) => b.title)).size !== i.buttons.length) p.push({ field: 'message.action.buttons', message: 'reply button titles must be unique' });
      return;
    }
    case 'list': {
      max(p, 'message.header.text', i.header, WA_LIMITS.headerText);
      max(p, 'message.action.button', i.button, WA_LIMITS.listButton);
      if (i.sections.length === 0 || i.sections.length > WA_LIMITS.listSections) p.push({ field: 'message.action.sections', message: `1 to ${WA_LIMITS.listSections} sections (WhatsApp limit)` });
      const rows = i.sections.reduce((n, s) => n + s.rows.length, 0);
      if (rows === 0 || rows > WA_LIMITS.listRows) p.push({ field: 'message.action.sections', message: `1 to ${WA_LIMITS.listRows} rows in all sections (WhatsApp limit); has ${rows}` });
      // A list with more than one section needs a title on each.
      i.sections.forEach((s, n) => {
        if (i.sections.length > 1 && (s.title === undefined || s.title === '')) p.push({ field: `message.action.sections.${n}.title`, message: 'required when there is more than one section' });
        max(p, `message.action.sections.${n}.title`, s.title, WA_LIMITS.sectionTitle);
        s.rows.forEach((r, k) => {
          max(p, `message.action.sections.${n}.rows.${k}.title`, r.title, WA_LIMITS.rowTitle);
          max(p, `message.action.sections.${n}.rows.${k}.description`, r.description, WA_LIMITS.rowDescription);
          max(p, `message.action.sections.${n}.rows.${k}.id`, r.id, WA_LIMITS.rowId);
        });
      });
      return;
    }
    case 'catalog_message':
      return;
    case 'product':
      return;
    case 'product_list': {
      max(p, 'message.header.text', i.header, WA_LIMITS.headerText);
      if (i.sections.length === 0 || i.sections.length > WA_LIMITS.productSections) p.push({ field: 'message.action.sections', message: `1 to ${WA_LIMITS.productSections} sections (WhatsApp limit)` });
      const items = i.sections.reduce((n, s) => n + s.productRetailerIds.length, 0);
      if (items === 0 || items > WA_LIMITS.productItems) p.push({ field: 'message.action.sections', message: `1 to ${WA_LIMITS.productItems} products in all sections (WhatsApp limit); has ${items}` });
      i.sections.forEach((s, n) => {
        if (i.sections.length > 1 && (s.title === undefined || s.title === '')) p.push({ field: `message.action.sections.${n}.title`, message: 'required when there is more than one section' });
        max(p, `message.action.sections.${n}.title`, s.title, WA_LIMITS.sectionTitle);
      });
      return;
    }
    case 'flow':
      max(p, 'message.header.text', i.header, WA_LIMITS.headerText);
      max(p, 'message.action.parameters.flow_cta', i.flow.cta, WA_LIMITS.flowCta);
      if ((i.flow.flowId === undefined) === (i.flow.flowName === undefined)) p.push({ field: 'message.action.parameters', message: 'exactly one of flow_id or flow_name' });
      return;
  }
}

export function whatsappLimitProblems(c: ContentOf<'whatsapp'>): LimitProblem[] {
  const p: LimitProblem[] = [];
  switch (c.kind) {
    case 'whatsapp.text':
      max(p, 'message.body', c.text, WA_LIMITS.textBody);
      break;
    case 'whatsapp.media':
      max(p, 'message.caption', c.caption, WA_LIMITS.caption);
      // Meta: audio messages take no caption.
      if (c.mediaType === 'audio' && c.caption !== undefined) p.push({ field: 'message.caption', message: 'WhatsApp audio messages have no caption' });
      break;
    case 'whatsapp.template':
      max(p, 'template.name', c.name, WA_LIMITS.templateName);
      if (!/^[a-z0-9_]+$/.test(c.name)) p.push({ field: 'template.name', message: 'lower-case letters, digits and _ only (WhatsApp template names)' });
      break;
    case 'whatsapp.interactive':
      interactiveProblems(c.interactive, p);
      break;
  }
  return p;
}
