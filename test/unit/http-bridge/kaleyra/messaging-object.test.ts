/**
 * Kaleyra's messaging_object → WhatsApp content, its recipients, its extra_info, and its callback
 * body: the pure parts, on every branch the integration test does not reach.
 */
import { describe, expect, it } from 'vitest';
import { clientRefOf } from '../../../../src/http-bridge/kaleyra/kaleyra-api.js';
import { kaleyraWebhook } from '../../../../src/http-bridge/kaleyra/kaleyra-webhook.js';
import { MAX_RECIPIENTS, MessagingObjectSchema, recipients, translateMessagingObject } from '../../../../src/http-bridge/kaleyra/messaging-object.js';
import { webhookBody, type WebhookRecord } from '../../../../src/router/webhook-events.js';

function translate(mo: Record<string, unknown>): ReturnType<typeof translateMessagingObject> {
  return translateMessagingObject(MessagingObjectSchema.parse({ messaging_product: 'whatsapp', to: '+14155550100', ...mo }));
}

const problems = (mo: Record<string, unknown>): string[] => {
  const t = translate(mo);
  return t.ok ? [] : t.problems.map((p) => `${p.field}: ${p.message}`);
};

describe('translateMessagingObject', () => {
  it('a template: text body parameters kept as text, every component typed', () => {
    const t = translate({
      type: 'template',
      template: {
        name: 'order_update',
        language: { code: 'en' },
        components: [
          { type: 'header', parameters: [{ type: 'document', document: { link: 'https://x.example/a.pdf', filename: 'a.pdf' } }] },
          { type: 'body', parameters: [{ type: 'text', text: 'Ana' }, { type: 'date_time', date_time: { fallback_value: 'May 1' } }] },
          { type: 'button', sub_type: 'url', index: 1, parameters: [{ type: 'text', text: 'track/42' }] },
        ],
      },
    });
    expect(t).toEqual({
      ok: true,
      summary: '[template order_update]',
      content: {
        kind: 'whatsapp.template',
        name: 'order_update',
        language: 'en',
        parameters: ['Ana', 'May 1'],
        components: [
          { type: 'header', parameters: [{ type: 'document', url: 'https://x.example/a.pdf', filename: 'a.pdf' }] },
          { type: 'body', parameters: [{ type: 'text', text: 'Ana' }, { type: 'date_time', fallbackValue: 'May 1' }] },
          { type: 'button', subType: 'url', index: 1, parameters: [{ type: 'text', text: 'track/42' }] },
        ],
      },
    });
  });

  it("refuses what Meta would, naming the field as Meta's object has it", () => {
    expect(problems({ type: 'template', template: { name: 'x', language: { code: 'en' }, components: [{ type: 'button', index: '0', parameters: [{ type: 'payload', payload: 'p' }] }] } })).toEqual([
      'messaging_object.template.components.0.sub_type: required for a button component',
    ]);
    expect(problems({ type: 'template', template: { name: 'Bad-Name', language: { code: 'en' } } })).toEqual(['messaging_object.template.name: lower-case letters, digits and _ only (WhatsApp template names)']);
    expect(problems({ type: 'interactive', interactive: { type: 'product_list', body: { text: 'b' }, action: { catalog_id: '1', sections: [{ product_items: [{ product_retailer_id: 'a' }] }] } } })).toEqual([
      'messaging_object.interactive.header: a multi-product message needs a text header',
    ]);
    expect(problems({ type: 'interactive', interactive: { type: 'product', header: { type: 'text', text: 'h' }, action: { catalog_id: '1', product_retailer_id: 'a' } } })).toEqual(['messaging_object.interactive.header: a single-product message has no header']);
    expect(problems({ type: 'interactive', interactive: { type: 'flow', body: { text: 'b' }, action: { name: 'flow', parameters: { flow_id: '1', flow_name: 'n', flow_cta: 'Go' } } } })).toEqual([
      'messaging_object.interactive.action.parameters: exactly one of flow_id or flow_name',
    ]);
    expect(problems({ type: 'interactive', interactive: { type: 'flow', body: { text: 'b' }, action: { name: 'flow', parameters: { flow_id: '1', flow_cta: 'x'.repeat(31) } } } })).toEqual([
      'messaging_object.interactive.action.parameters.flow_cta: at most 30 characters (WhatsApp limit); has 31',
    ]);
    expect(problems({ type: 'interactive', interactive: { type: 'list', body: { text: 'b' }, action: { button: 'B' } } })).toEqual(['messaging_object.interactive.action.sections: required for a list message']);
    expect(problems({ type: 'image', image: { link: 'https://x.example/a.jpg', caption: 'c'.repeat(1025) } })).toEqual(['messaging_object.image.caption: at most 1024 characters (WhatsApp limit); has 1025']);
    expect(problems({ type: 'text', text: { body: 'x' }, image: { link: 'https://x.example/a.jpg' } })).toEqual(['messaging_object.image: not allowed when type is text']);
  });

  it('a product message needs no body; its summary says what it is', () => {
    expect(translate({ type: 'interactive', interactive: { type: 'product', action: { catalog_id: '1', product_retailer_id: 'SKU' } } })).toEqual({
      ok: true,
      summary: '[product]',
      content: { kind: 'whatsapp.interactive', interactive: { type: 'product', catalogId: '1', productRetailerId: 'SKU' } },
    });
  });
});

describe('recipients', () => {
  it('splits on commas, trims, normalises and drops repeats', () => {
    expect(recipients(' +14155550100 ,14155550101,+1 415 555 0100')).toEqual({ ok: true, numbers: ['14155550100', '14155550101'] });
  });
  it(`names the bad one, and takes at most ${MAX_RECIPIENTS}`, () => {
    expect(recipients('+14155550100,,')).toMatchObject({ ok: false, problems: [{ field: 'messaging_object.to', message: '"" is not a valid WhatsApp number (E.164, with its country code)' }] });
    expect(recipients(Array.from({ length: MAX_RECIPIENTS + 1 }, (_, i) => `+1415555${String(i).padStart(4, '0')}`).join(','))).toMatchObject({ ok: false });
  });
});

describe('clientRefOf', () => {
  it('truncates refs at 255 code points and normalises wa_source', () => {
    const ref = clientRefOf({ ref: '😀'.repeat(300), ref2: 'x', wa_source: ' HubSpot' });
    expect(Array.from(ref['ref'] ?? '')).toHaveLength(255);
    expect(ref).toMatchObject({ ref2: 'x', wa_source: 'hubspot' });
    expect(ref).not.toHaveProperty('ref1');
    expect(clientRefOf({ wa_source: 'unknown-tool' })).toEqual({ wa_source: 'api' });
    expect(clientRefOf(undefined)).toEqual({});
  });
});

describe('kaleyraWebhook', () => {
  const base: WebhookRecord = { d: 'x:final', k: 'final', a: 'acme', u: 'https://h.example/', t: 1_700_000_000_123, ch: 'whatsapp', fmt: 'kaleyra', ref: { ref: 'c1', ref2: 'd' } };
  const post = (rec: WebhookRecord): unknown => kaleyraWebhook('01ID', rec, webhookBody('01ID', rec))?.body;

  it('delivered, read, failed by receipt, failed without one', () => {
    expect(post({ ...base, st: 'delivered', dlr: 'DELIVRD' })).toEqual({ message_id: '01ID', channel: 'whatsapp', timestamp: '1700000000', ref: 'c1', ref2: 'd', status: 'delivered' });
    expect(post({ ...base, k: 'read' })).toMatchObject({ status: 'read', ref: 'c1' });
    expect(post({ ...base, st: 'failed', err: 'DLR_UNDELIV', dlr: 'UNDELIV', dle: '001' })).toMatchObject({ status: 'failed', error: { code: '001' } });
    expect(post({ ...base, st: 'rejected', err: 'INVALID_TEMPLATE' })).toMatchObject({ status: 'failed', error: { code: 'INVALID_TEMPLATE' } });
  });

  it("a user's message keeps Catalyst's body", () => {
    const rec: WebhookRecord = { ...base, k: 'mo', fr: '1', to: '2', tx: 'hi' };
    expect(post(rec)).toEqual(webhookBody('01ID', rec));
  });
});
