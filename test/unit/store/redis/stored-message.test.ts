/**
 * stored-message.ts: a message packed for its hash reads back as what the Message's own JSON would
 * have given (the layout before it), for fixed cases and random messages; and that older layout,
 * which hashes written before it hold, still reads.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Message } from '../../../../src/core/message.js';
import { packAddressing, packMessage, unpackAddressing, unpackMessage } from '../../../../src/store/redis/stored-message.js';
import type { ReceiptAddressing } from '../../../../src/store/redis/message-store.js';
import { testMessage } from '../../../helpers/messages.js';

/** What storing a message as its JSON gave back: the reference for every round trip here. */
const viaJson = (m: Message): unknown => JSON.parse(JSON.stringify(m)) as unknown;

/** A submit from an SMPP bind, as the SMPP server makes it (smpp-server/translate.ts messageFrom). */
const smpp: Message = testMessage({
  id: '01JDXYZ0ABCDEFGHJKMNPQRS',
  ingress: 'smpp',
  source: { addr: 'CATALYST', ton: 5, npi: 0 },
  body: { kind: 'text', text: 'Your verification code is 100000', dataCoding: 0 },
  receipt: true,
  createdAt: 1_763_840_000_000,
  systemId: 'acme',
});

const cases: readonly (readonly [string, Message])[] = [
  ['an SMPP submit', smpp],
  ['text without a data_coding, no receipt, no optional field', { ...smpp, body: { kind: 'text', text: 'hi' }, receipt: false, systemId: undefined } as unknown as Message],
  ['a binary body', { ...smpp, body: { kind: 'binary', base64: 'AAEC/w==', dataCoding: 4 }, esmClass: 0x40, protocolId: 0x7f, priority: 1 }],
  [
    'an HTTP send with every optional field of its own',
    {
      ...smpp,
      ingress: 'http',
      body: { kind: 'text', text: 'Ünïcödé \u0000 "quoted" \\ 😀 \n tab\t' },
      scheduleAt: 1_763_840_100_000,
      expireAt: 1_763_926_400_000,
      webhookUrl: 'https://example.com/hook?a=1&b=2',
      costCenter: 'DEPT001',
      rateCardId: 'RC-GLOBAL-2024',
      orchestrationId: 'orch-1',
      campaignId: 'cmp-1',
      webhookFormat: 'echo',
      clientRef: { ref: 'customer1', 'with space': 'x' },
      serviceType: 'CMT',
      readReceipt: true,
    },
  ],
  [
    'a WhatsApp message with content and an SMS fallback',
    {
      ...smpp,
      channel: 'whatsapp',
      ingress: 'http',
      content: { kind: 'whatsapp.text', text: 'hello', previewUrl: false },
      fallback: { channel: 'sms', body: 'hello by SMS' },
    },
  ],
  [
    'an XMPP message',
    { ...smpp, channel: 'xmpp', ingress: 'xmpp', xmpp: { jid: 'alice@localhost/phone', stanzaId: 's1', type: 'chat', thread: 't' } },
  ],
];

/**
 * Every field a Message has, set: a field added to Message fails to compile here until it is set,
 * and then to round-trip until packMessage stores it.
 */
const everyField: Required<Message> = {
  ...smpp,
  channel: 'whatsapp',
  ingress: 'http',
  content: { kind: 'whatsapp.media', mediaType: 'image', url: 'https://example.com/a.png', caption: 'a' },
  fallback: { channel: 'sms', body: 'b' },
  readReceipt: true,
  esmClass: 3,
  protocolId: 0,
  priority: 2,
  serviceType: 'WAP',
  scheduleAt: 1,
  expireAt: 2,
  webhookUrl: 'https://example.com/h',
  costCenter: 'cc',
  rateCardId: 'rc',
  systemId: 'sys',
  xmpp: { jid: 'a@b', stanzaId: 'i', type: 'groupchat', thread: 't', subject: 's', readReceipt: false, archive: true },
  orchestrationId: 'o',
  campaignId: 'c',
  webhookFormat: 'f',
  clientRef: { k: 'v' },
};

describe('packMessage and unpackMessage', () => {
  it('keeps every field a Message has', () => {
    expect(unpackMessage(packMessage(everyField))).toStrictEqual(viaJson(everyField));
    expect(Object.keys(unpackMessage(packMessage(everyField))).sort()).toStrictEqual(Object.keys(everyField).sort());
  });

  for (const [name, m] of cases) {
    it(`${name}: reads back as its JSON did`, () => {
      expect(unpackMessage(packMessage(m))).toStrictEqual(viaJson(m));
    });
  }

  it('is less than half the size of the JSON for an SMPP submit', () => {
    expect(packMessage(smpp).length).toBeLessThan(JSON.stringify(smpp).length / 2);
  });

  it('reads the Message JSON that hashes written before the packed layout hold', () => {
    for (const [, m] of cases) expect(unpackMessage(JSON.stringify(m))).toStrictEqual(viaJson(m));
    expect(unpackMessage('{}')).toStrictEqual({});
  });

  it('refuses a layout it does not know, and text that is not JSON', () => {
    expect(() => unpackMessage('[2,"x"]')).toThrow(/unknown layout/);
    expect(() => unpackMessage('')).toThrow(SyntaxError);
  });

  it('round-trips random messages as their JSON does', () => {
    const addr = fc.record({ addr: fc.string({ maxLength: 21 }), ton: fc.integer({ min: 0, max: 6 }), npi: fc.integer({ min: 0, max: 18 }) });
    const body = fc.oneof(
      fc.record({ kind: fc.constant('text' as const), text: fc.string({ unit: 'binary', maxLength: 200 }), dataCoding: fc.constantFrom(0 as const, 1 as const, 3 as const, 8 as const) }, { requiredKeys: ['kind', 'text'] }),
      fc.record({ kind: fc.constant('binary' as const), base64: fc.base64String({ maxLength: 40 }), dataCoding: fc.integer({ min: 0, max: 255 }) }),
    );
    const message = fc.record(
      {
        id: fc.string({ minLength: 1, maxLength: 40 }),
        accountId: fc.string({ minLength: 1, maxLength: 20 }),
        channel: fc.constantFrom('sms' as const, 'whatsapp' as const, 'telegram' as const, 'viber' as const, 'xmpp' as const),
        direction: fc.constantFrom('mt' as const, 'mo' as const),
        ingress: fc.constantFrom('smpp' as const, 'http' as const, 'xmpp' as const),
        source: addr,
        destination: addr,
        body,
        receipt: fc.boolean(),
        createdAt: fc.integer({ min: 0, max: 4_102_444_800_000 }),
        esmClass: fc.integer({ min: 0, max: 255 }),
        priority: fc.integer({ min: 0, max: 3 }),
        scheduleAt: fc.integer({ min: 0, max: 4_102_444_800_000 }),
        webhookUrl: fc.webUrl(),
        rateCardId: fc.string({ maxLength: 20 }),
        systemId: fc.string({ maxLength: 16 }),
        clientRef: fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), { maxKeys: 3 }),
      },
      { requiredKeys: ['id', 'accountId', 'channel', 'direction', 'ingress', 'source', 'destination', 'body', 'receipt', 'createdAt'] },
    );
    fc.assert(
      fc.property(message, (m) => {
        expect(unpackMessage(packMessage(m))).toStrictEqual(viaJson(m));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('packAddressing and unpackAddressing', () => {
  const smppAddressing: ReceiptAddressing = { s: { addr: 'CATALYST', ton: 5, npi: 0 }, d: { addr: '4915112345678', ton: 1, npi: 1 }, tx: 'Your verification co' };
  const xmppAddressing: ReceiptAddressing = { ...smppAddressing, tx: 'héllo "😀"\t', x: { j: 'alice@localhost/phone', i: 'stanza-1', r: true } };

  it('reads back an SMPP sender\'s addressing and an XMPP sender\'s, as their JSON did', () => {
    for (const a of [smppAddressing, xmppAddressing, { ...xmppAddressing, x: { j: 'b@c', i: '', r: false } }]) {
      expect(unpackAddressing(packAddressing(a))).toStrictEqual(JSON.parse(JSON.stringify(a)));
    }
  });

  it('marks an XMPP sender by its layout, which finalize() reads as a prefix', () => {
    expect(packAddressing(smppAddressing).startsWith('[1,')).toBe(true);
    expect(packAddressing(xmppAddressing).startsWith('[2,')).toBe(true);
    expect(packAddressing(smppAddressing).length).toBeLessThan(JSON.stringify(smppAddressing).length * 0.6);
  });

  it('reads the objects written before, and refuses a layout it does not know', () => {
    expect(unpackAddressing(JSON.stringify(xmppAddressing))).toStrictEqual(JSON.parse(JSON.stringify(xmppAddressing)));
    expect(unpackAddressing('{"s":"1234"}')).toStrictEqual({ s: '1234' });
    expect(() => unpackAddressing('[3,"x"]')).toThrow(/unknown layout/);
  });
});
