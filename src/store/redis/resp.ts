/**
 * RESP2 encoding of one script call, `FCALL function 0 arg…`, `EVALSHA sha 0 arg…` or `EVAL script
 * 0 arg…`, straight into one Buffer of the exact size. Pure: no socket, no client.
 *
 * Why not the client's own encoding: ioredis copies a call's arguments twice (flattening them,
 * then prepending the sha) and builds the command as one string of three pieces an argument,
 * which the socket then flattens and encodes again. An admission batch is 15 arguments a message
 * (15,000 for a batch of 1,000); `--cpu-prof` of `bench:smpp-ingress` charged that path with
 * ~12% of the appliance's CPU, and the strings it leaves with more garbage collection.
 *
 * Frame (https://redis.io/docs/latest/develop/reference/protocol-spec/): an array of bulk strings,
 *   *<n>\r\n  then per element  $<byte length>\r\n<bytes>\r\n
 * Numbers are sent as their decimal text, as the client sends them (String(x)).
 */

export type ScriptArg = string | number;

const DOLLAR = 0x24; // '$', a bulk string's mark

/** Decimal digits of a non-negative integer. */
function digits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/** Writes a non-negative integer's decimal digits at `at`; returns the offset after them. */
function writeUint(buf: Buffer, n: number, at: number): number {
  const end = at + digits(n);
  let p = end;
  do {
    const q = Math.floor(n / 10);
    buf[--p] = 0x30 + (n - q * 10);
    n = q;
  } while (n > 0);
  return end;
}

/** An argument as the text Redis receives: integers written digit by digit later, anything else as String(x). */
function text(a: ScriptArg): string | undefined {
  if (typeof a === 'string') return a;
  return Number.isSafeInteger(a) && a >= 0 ? undefined : String(a);
}

/** The commands that run a script: by function name, by the script's sha1, or with its source. */
export type ScriptCommand = 'fcall' | 'evalsha' | 'eval';

/**
 * The frame of `<command> <script> 0 <args…>`: `command` is `fcall` with a function's name,
 * `evalsha` with the script's sha1, or `eval` with its source. No keys are declared (numkeys 0):
 * Catalyst's scripts build their keys from the prefix they are given (keys.ts).
 */
export function scriptCall(command: ScriptCommand, script: string, args: readonly ScriptArg[]): Buffer {
  const n = args.length;
  // First pass: each argument's byte length (strings) or value (integers), and the frame's size.
  const lens = new Float64Array(n);
  const texts: (string | undefined)[] = new Array<string | undefined>(n);
  const head = `*${n + 3}\r\n$${command.length}\r\n${command}\r\n$${Buffer.byteLength(script)}\r\n${script}\r\n$1\r\n0\r\n`;
  const headLen = Buffer.byteLength(head);
  let size = headLen;
  for (let i = 0; i < n; i++) {
    const a = args[i] as ScriptArg;
    const t = text(a);
    texts[i] = t;
    const len = t === undefined ? digits(a as number) : Buffer.byteLength(t);
    lens[i] = len;
    size += 1 + digits(len) + 2 + len + 2;
  }
  const buf = Buffer.allocUnsafe(size);
  let at = buf.write(head, 0, headLen, 'utf8');
  for (let i = 0; i < n; i++) {
    const len = lens[i] as number;
    buf[at++] = DOLLAR;
    at = writeUint(buf, len, at);
    buf[at++] = 0x0d;
    buf[at++] = 0x0a;
    const t = texts[i];
    if (t === undefined) at = writeUint(buf, args[i] as number, at);
    else if (len > 0) at += buf.write(t, at, len, len === t.length ? 'latin1' : 'utf8');
    buf[at++] = 0x0d;
    buf[at++] = 0x0a;
  }
  return buf;
}

/**
 * A frame made by scriptCall as another command of the same arguments (`eval` with the script's
 * source in place of a function's name or a sha), so a caller need not keep a call's arguments for
 * the rare resend.
 */
export function reframe(frame: Buffer, command: ScriptCommand, script: string): Buffer {
  // *<n>\r\n | $<len>\r\n<command>\r\n $<len>\r\n<script>\r\n | $1\r\n0\r\n <args…>
  const count = frame.indexOf('\r\n') + 2;
  let at = count;
  for (let bulk = 0; bulk < 2; bulk++) {
    const lenEnd = frame.indexOf('\r\n', at);
    at = lenEnd + 2 + Number(frame.toString('latin1', at + 1, lenEnd)) + 2;
  }
  const target = Buffer.from(script, 'utf8');
  const head = Buffer.from(`$${command.length}\r\n${command}\r\n$${target.length}\r\n`);
  return Buffer.concat([frame.subarray(0, count), head, target, Buffer.from('\r\n'), frame.subarray(at)]);
}
