/**
 * resp.ts's frames against the client's own encoding of the same call (ioredis, the independent
 * reference): byte for byte, for every kind of argument a script is given.
 */
import { describe, expect, it } from 'vitest';
import { Command } from 'ioredis';
import { reframe, scriptCall, type ScriptArg } from '../../../../src/store/redis/resp.js';

/** What ioredis writes to the socket for `<command> <script> 0 args…`, as bytes. */
function clientFrame(command: string, script: string, args: readonly ScriptArg[]): Buffer {
  const c = new Command(command, [script, 0, ...args]);
  (c as unknown as { stringifyArguments(): void }).stringifyArguments();
  const w = c.toWritable({});
  return typeof w === 'string' ? Buffer.from(w, 'utf8') : w;
}

const SHA = '0123456789abcdef0123456789abcdef01234567';

describe('scriptCall', () => {
  const cases: readonly (readonly [string, readonly ScriptArg[]])[] = [
    ['no arguments', []],
    ['empty strings', ['', 'a', '']],
    ['integers: zero, small, at every digit count, the largest safe', [0, 7, 9, 10, 99, 100, 12345, 1_700_000_000_000, Number.MAX_SAFE_INTEGER]],
    ['numbers the digits path leaves to String(): negatives, fractions, huge, NaN', [-1, -1234, 0.5, 1e21, 2 ** 60, Number.NaN, -0]],
    ['text past ASCII: Latin-1, BMP, astral, a lone surrogate', ['café', 'Привет', 'こんにちは', 'emoji 😀 here', '\ud800x', 'ÿ']],
    ['separators the frame itself uses', ['\r\n', '$5\r\n', '*3', '\t|,', '\u0000']],
  ];
  for (const [name, args] of cases) {
    it(`encodes ${name} as the client does`, () => {
      expect(scriptCall('evalsha', SHA, args).equals(clientFrame('evalsha', SHA, args))).toBe(true);
    });
  }

  it('encodes EVAL with a multi-line, non-ASCII source', () => {
    const lua = "-- é\nreturn ARGV[1] .. '😀'\n";
    expect(scriptCall('eval', lua, ['x', 1]).equals(clientFrame('eval', lua, ['x', 1]))).toBe(true);
  });

  it('encodes FCALL with a function name as the client does', () => {
    for (const [, args] of cases) expect(scriptCall('fcall', 'catalyst_0123_admit', args).equals(clientFrame('fcall', 'catalyst_0123_admit', args))).toBe(true);
  });

  it('turns a frame into another command of the same arguments: FCALL to EVALSHA, EVALSHA or FCALL to EVAL', () => {
    const lua = "-- é\nreturn ARGV[1] .. '😀'\n";
    const many = Array.from({ length: 1234 }, (_, i) => (i % 2 === 0 ? i : `a${i}`));
    for (const args of [...cases.map(([, a]) => a), many]) {
      expect(reframe(scriptCall('evalsha', SHA, args), 'eval', lua).equals(clientFrame('eval', lua, args))).toBe(true);
      expect(reframe(scriptCall('fcall', 'f_1', args), 'evalsha', SHA).equals(clientFrame('evalsha', SHA, args))).toBe(true);
      expect(reframe(scriptCall('fcall', 'f_1', args), 'eval', lua).equals(clientFrame('eval', lua, args))).toBe(true);
      // A source of many lines and \r\n inside: the head is read by its lengths, not by its text.
      expect(reframe(scriptCall('eval', 'a\r\n$3\r\nb', args), 'fcall', 'g').equals(clientFrame('fcall', 'g', args))).toBe(true);
    }
  });

  it('encodes an admission-sized call (15,000 arguments, lengths around every power of ten)', () => {
    const args: ScriptArg[] = [];
    for (let i = 0; i < 15_000; i++) args.push(i % 3 === 0 ? i * 7919 : 'x'.repeat(i % 1003) + (i % 5 === 0 ? 'ü' : ''));
    expect(scriptCall('evalsha', SHA, args).equals(clientFrame('evalsha', SHA, args))).toBe(true);
  });
});
