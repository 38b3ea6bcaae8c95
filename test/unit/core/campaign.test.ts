import { describe, expect, it } from 'vitest';
import { countryZone, fillTemplate, recipientZone, resolveRecipient, rewriteUrls, windowDelayMs, type CampaignDefinition } from '../../../src/core/campaign.js';
import type { Contact } from '../../../src/core/contact.js';

const W = { startMinute: 9 * 60, endMinute: 20 * 60 };
const at = (iso: string): number => Date.parse(iso);

describe('time-zone windows (fixed clock)', () => {
  it('sends inside the local window and waits until it opens otherwise', () => {
    // 2024-12-20 12:00 UTC: 12:00 in London (inside), 21:00 in Tokyo (after), 07:00 in New York (before).
    const now = at('2024-12-20T12:00:00Z');
    expect(windowDelayMs('Europe/London', now, W)).toBe(0);
    expect(windowDelayMs('Asia/Tokyo', now, W)).toBe(12 * 3600_000); // 09:00 tomorrow, Tokyo
    expect(windowDelayMs('America/New_York', now, W)).toBe(2 * 3600_000);
    // The window's end is exclusive; a window over midnight wraps.
    expect(windowDelayMs('UTC', at('2024-12-20T20:00:00Z'), W)).toBe(13 * 3600_000);
    expect(windowDelayMs('UTC', at('2024-12-20T23:00:00Z'), { startMinute: 22 * 60, endMinute: 6 * 60 })).toBe(0);
    expect(windowDelayMs(undefined, now, W)).toBe(0);
  });

  it('takes the contact’s zone, else the number’s country', () => {
    const c = { timeZone: 'Asia/Kolkata' } as Contact;
    expect(recipientZone(c, '447911123456')).toBe('Asia/Kolkata');
    expect(recipientZone(undefined, '447911123456')).toBe('Europe/London');
    expect(recipientZone(undefined, '819012345678')).toBe('Asia/Tokyo');
    expect(countryZone('US')).toMatch(/^America\//);
  });
});

describe('templates', () => {
  it('fills placeholders and names every missing one', () => {
    expect(fillTemplate('Get {{d}}% off, {{ code }}', { d: '25', code: 'X' })).toEqual({ ok: true, text: 'Get 25% off, X' });
    expect(fillTemplate('{{a}} {{b}} {{a}}', {})).toEqual({ ok: false, missing: ['a', 'b'] });
  });

  it('rewrites URLs to tracked links', () => {
    expect(rewriteUrls('see https://e.com/a?b=1 and http://x.y', (u, n) => `<${n}:${u}>`)).toBe('see <0:https://e.com/a?b=1> and <1:http://x.y>');
  });

  it('auto picks the first preferred channel the contact has, with a template and a sender', () => {
    const def = {
      templates: { whatsapp: { channel: 'whatsapp', templateName: 't', language: 'en_US', parameters: ['n'] }, sms: { channel: 'sms', body: 'Hi {{n}}' } },
      channelPreference: ['whatsapp', 'sms'],
    } as unknown as CampaignDefinition;
    const senders = (ch: string): string | undefined => (ch === 'whatsapp' ? '+15550001' : '');
    const contact = { id: 'a', accountId: 'x', phone: '14155550101', channels: { whatsapp: '14155550101' }, attributes: { n: 'Ann' }, optedIn: true, blocked: false, createdAt: 0, updatedAt: 0 } as Contact;
    expect(resolveRecipient(def, { phoneOrId: '+14155550101', channel: 'auto', parameters: {} }, { contact, phone: '14155550101', defaultSender: senders })).toMatchObject({
      kind: 'send',
      channel: 'whatsapp',
      template: { name: 't', parameters: ['Ann'] },
    });
    expect(resolveRecipient(def, { phoneOrId: '+14155550101', channel: 'auto', parameters: { n: 'Z' } }, { contact: undefined, phone: '14155550101', defaultSender: senders })).toMatchObject({ kind: 'send', channel: 'sms', text: 'Hi Z' });
    expect(resolveRecipient(def, { phoneOrId: '+14155550101', channel: 'auto', parameters: {} }, { contact: { ...contact, optedIn: false }, phone: '14155550101', defaultSender: senders })).toMatchObject({ kind: 'skip', reason: 'OPTED_OUT' });
    expect(resolveRecipient(def, { phoneOrId: '+14155550101', channel: 'sms', parameters: {} }, { contact: undefined, phone: '14155550101', defaultSender: senders })).toMatchObject({ kind: 'fail', reason: 'MISSING_PARAMETER' });
  });
});
