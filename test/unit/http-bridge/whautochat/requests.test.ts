/** WhautoChat bodies → channel content: the pure translation, per channel and operation. */
import { describe, expect, it } from 'vitest';
import { buildContent, schemaFor, SUPPORTED, WHAUTOCHAT_CHANNELS, WHAUTOCHAT_OPS } from '../../../../src/http-bridge/whautochat/requests.js';

const ws = { workspace: { id: 'w' }, contact: { id: 'c' } };
const build = (channel: (typeof WHAUTOCHAT_CHANNELS)[number], op: (typeof WHAUTOCHAT_OPS)[number], body: Record<string, unknown>): ReturnType<typeof buildContent> =>
  buildContent(channel, op, schemaFor(channel, op).parse({ ...ws, ...body }) as Record<string, unknown>, 'en_US');

describe('buildContent', () => {
  it('media types from the MIME type, per channel', () => {
    expect(build('whatsapp', 'sendmedia', { mediaUrl: 'https://x.example/v.mp4', mimeType: 'video/mp4' })).toMatchObject({ ok: true, content: { kind: 'whatsapp.media', mediaType: 'video' } });
    expect(build('whatsapp', 'sendmedia', { mediaUrl: 'https://x.example/', mimeType: 'application/zip' })).toMatchObject({ ok: true, content: { kind: 'whatsapp.media', mediaType: 'document' } });
    expect(build('messenger', 'sendmedia', { mediaUrl: 'https://x.example/a.ogg', mimeType: 'audio/ogg' })).toMatchObject({ ok: true, content: { kind: 'meta.media', mediaType: 'audio' } });
  });

  it('a Telegram template: flat buttons one per row, nested ones as rows; Telegram limits named by field', () => {
    const t = build('telegram', 'sendtemplate', { textMessage: 'Q', buttons: [{ text: 'A', callbackData: 'a' }, [{ text: 'B', url: 'https://x.example/' }]] });
    expect(t).toEqual({ ok: true, template: true, summary: 'Q', content: { kind: 'telegram.text', text: 'Q', inlineKeyboard: [[{ text: 'A', callbackData: 'a' }], [{ text: 'B', url: 'https://x.example/' }]] } });
    expect(build('telegram', 'sendtemplate', { textMessage: 'Q', buttons: [{ text: 'A' }] })).toEqual({ ok: false, problems: [{ field: 'buttons.0.0', message: 'exactly one of callbackData or url' }] });
  });

  it("Meta's generic template limits, named by field", () => {
    const elements = Array.from({ length: 11 }, (_, i) => ({ title: `t${i}` }));
    expect(build('instagram', 'sendtemplate', { elements })).toMatchObject({ ok: false, problems: [{ field: 'elements', message: '1 to 10 elements (Meta limit)' }] });
  });

  it('every channel and operation has a schema; Telegram alone has no media', () => {
    for (const c of WHAUTOCHAT_CHANNELS) for (const op of WHAUTOCHAT_OPS) expect(schemaFor(c, op)).toBeDefined();
    expect(WHAUTOCHAT_CHANNELS.filter((c) => !SUPPORTED[c].includes('sendmedia'))).toEqual(['telegram']);
  });
});
