import { describe, expect, it } from 'vitest';
import { decodePdu, encodePdu, FrameDecoder } from '../../../src/smpp/codec.js';
import { CommandId } from '../../../src/smpp/commands.js';
import { fixtures, hex } from './fixtures.js';

describe('fixtures', () => {
  it('cover every command', () => {
    const seen = new Set(fixtures.map((f) => f.pdu.command));
    for (const name of Object.keys(CommandId)) expect(seen.has(name as never), name).toBe(true);
  });

  for (const f of fixtures) {
    describe(f.name, () => {
      const bytes = hex(f.hex);

      it('declares its own length', () => {
        expect(bytes.readUInt32BE(0)).toBe(bytes.length);
      });

      it('decodes', () => {
        const r = decodePdu(bytes);
        if (!r.ok) throw r.error;
        expect(r.pdu).toEqual(f.pdu);
      });

      it('encodes', () => {
        expect(encodePdu(f.pdu).toString('hex')).toBe(bytes.toString('hex'));
      });

      it('round trips', () => {
        const r = decodePdu(encodePdu(f.pdu));
        if (!r.ok) throw r.error;
        expect(encodePdu(r.pdu).equals(bytes)).toBe(true);
      });

      it('frames when cut at every byte', () => {
        for (let cut = 0; cut <= bytes.length; cut++) {
          const d = new FrameDecoder();
          d.push(bytes.subarray(0, cut));
          if (cut < bytes.length) expect(d.next()).toBeNull();
          d.push(bytes.subarray(cut));
          const frame = d.next();
          expect(frame?.equals(bytes)).toBe(true);
          expect(d.next()).toBeNull();
          expect(d.buffered).toBe(0);
        }
      });

      it('frames one byte at a time, twice in a row', () => {
        const d = new FrameDecoder();
        const frames: Buffer[] = [];
        const stream = Buffer.concat([bytes, bytes]);
        for (let i = 0; i < stream.length; i++) {
          d.push(stream.subarray(i, i + 1));
          for (let f = d.next(); f; f = d.next()) frames.push(f);
        }
        expect(frames.map((x) => x.toString('hex'))).toEqual([bytes.toString('hex'), bytes.toString('hex')]);
        expect(d.buffered).toBe(0);
      });
    });
  }

  it('frames all fixtures from one buffer', () => {
    const all = fixtures.map((f) => hex(f.hex));
    const d = new FrameDecoder();
    d.push(Buffer.concat(all));
    const out: string[] = [];
    for (let f = d.next(); f; f = d.next()) out.push(f.toString('hex'));
    expect(out).toEqual(all.map((x) => x.toString('hex')));
  });
});
