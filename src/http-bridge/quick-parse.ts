/**
 * A zod schema's accept path, compiled once: what `schema.safeParse` answers for a valid input,
 * without zod's parse machinery (a context, a path and a status object per node of the value:
 * ~3 KB allocated and ~3 µs per SMS send on this Node, a third of `bench:http-batch`'s
 * allocations, docs/scaling.md). The schema stays the one definition of what is valid:
 *
 * - Only the kinds and checks whose rule is plain are compiled (objects of the default catchall,
 *   strings' lengths, numbers' bounds and integer check, booleans, arrays' lengths, unknown,
 *   optional, nullable, refinements); a node of any other kind or check (a URL, a date-time, an
 *   enum …) is answered by that node's own `safeParse`.
 * - When anything is refused, the whole input goes through `schema.safeParse`, so every error,
 *   its path and its message are zod's.
 *
 * The compiled answer is the value zod's would be: objects rebuilt in the shape's key order with
 * absent optional keys left out, arrays copied, strings, numbers and unknowns as given
 * (test/unit/http-bridge/quick-parse.test.ts compares the two over generated inputs).
 */
import { z, type SafeParseReturnType, type ZodTypeAny } from 'zod';

/** What a compiled node answers when the value is not valid (then zod's parse answers instead). */
const REFUSED: unique symbol = Symbol('refused');
type Check = (value: unknown) => unknown;

/** The check for one node; `own` is the node's own safeParse, for what is not compiled. */
function compile(schema: ZodTypeAny): Check {
  const own: Check = (v) => {
    const r = schema.safeParse(v);
    return r.success ? (r.data as unknown) : REFUSED;
  };
  if (schema instanceof z.ZodString) return compileString(schema) ?? own;
  if (schema instanceof z.ZodNumber) return compileNumber(schema) ?? own;
  if (schema instanceof z.ZodBoolean) return schema._def.coerce ? own : (v) => (typeof v === 'boolean' ? v : REFUSED);
  if (schema instanceof z.ZodUnknown || schema instanceof z.ZodAny) return (v) => v;
  if (schema instanceof z.ZodOptional) {
    const inner = compile(schema._def.innerType as ZodTypeAny);
    return (v) => (v === undefined ? undefined : inner(v));
  }
  if (schema instanceof z.ZodNullable) {
    const inner = compile(schema._def.innerType as ZodTypeAny);
    return (v) => (v === null ? null : inner(v));
  }
  if (schema instanceof z.ZodArray) return compileArray(schema as z.ZodArray<ZodTypeAny>);
  if (schema instanceof z.ZodObject) return compileObject(schema as z.AnyZodObject) ?? own;
  if (schema instanceof z.ZodEffects) return compileRefinement(schema as z.ZodEffects<ZodTypeAny>) ?? own;
  return own;
}

function compileString(schema: z.ZodString): Check | undefined {
  if (schema._def.coerce) return undefined;
  let min = 0;
  let max = Infinity;
  for (const c of schema._def.checks) {
    if (c.kind !== 'min' && c.kind !== 'max' && c.kind !== 'length') return undefined;
    if (c.kind !== 'max') min = Math.max(min, c.value);
    if (c.kind !== 'min') max = Math.min(max, c.value);
  }
  return (v) => (typeof v === 'string' && v.length >= min && v.length <= max ? v : REFUSED);
}

function compileNumber(schema: z.ZodNumber): Check | undefined {
  if (schema._def.coerce) return undefined;
  const tests: ((n: number) => boolean)[] = [];
  for (const c of schema._def.checks) {
    if (c.kind === 'int') tests.push(Number.isInteger);
    else if (c.kind === 'finite') tests.push(Number.isFinite);
    else if (c.kind === 'min') tests.push(c.inclusive ? (n) => n >= c.value : (n) => n > c.value);
    else if (c.kind === 'max') tests.push(c.inclusive ? (n) => n <= c.value : (n) => n < c.value);
    else return undefined;
  }
  return (v) => (typeof v === 'number' && !Number.isNaN(v) && tests.every((t) => t(v)) ? v : REFUSED);
}

function compileArray(schema: z.ZodArray<ZodTypeAny>): Check {
  const d = schema._def;
  const min = Math.max(d.minLength?.value ?? 0, d.exactLength?.value ?? 0);
  const max = Math.min(d.maxLength?.value ?? Infinity, d.exactLength?.value ?? Infinity);
  const item = compile(d.type);
  return (v) => {
    if (!Array.isArray(v) || v.length < min || v.length > max) return REFUSED;
    const out: unknown[] = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = item(v[i]);
      if (x === REFUSED) return REFUSED;
      out[i] = x;
    }
    return out;
  };
}

/** Objects with zod's default catchall, strict or stripping unknown keys (passthrough is not compiled). */
function compileObject(schema: z.AnyZodObject): Check | undefined {
  const d = schema._def;
  if (!(d.catchall instanceof z.ZodNever) || (d.unknownKeys !== 'strict' && d.unknownKeys !== 'strip')) return undefined;
  const strict = d.unknownKeys === 'strict';
  const shape = schema.shape as Record<string, ZodTypeAny>;
  const keys = Object.keys(shape);
  const known = new Set(keys);
  const fields = keys.map((k) => ({ key: k, check: compile(shape[k] as ZodTypeAny) }));
  return (v) => {
    // What zod reads as an object; anything else (a Map, a Date, a thenable, a class's instance) goes to zod.
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return REFUSED;
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) return REFUSED;
    const input = v as Record<string, unknown>;
    if (typeof input['then'] === 'function') return REFUSED;
    if (strict) for (const k in input) if (!known.has(k)) return REFUSED;
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      const x = f.check(input[f.key]);
      if (x === REFUSED) return REFUSED;
      // zod keeps a key the input has even when its value is undefined, and never sets __proto__.
      if (f.key !== '__proto__' && (x !== undefined || f.key in input)) out[f.key] = x;
    }
    return out;
  };
}

/** `.refine` and `.superRefine` (a transform or preprocess is not compiled): the inner value, when the refinement adds no issue. */
function compileRefinement(schema: z.ZodEffects<ZodTypeAny>): Check | undefined {
  const effect = schema._def.effect;
  if (effect.type !== 'refinement') return undefined;
  const inner = compile(schema._def.schema);
  return (v) => {
    const x = inner(v);
    if (x === REFUSED) return REFUSED;
    let refused = false;
    const ctx: z.RefinementCtx = {
      addIssue: () => {
        refused = true;
      },
      path: [],
    };
    // A refinement answering a promise goes to zod's parse, which throws for it (a synchronous parse).
    const result: unknown = effect.refinement(x, ctx);
    return refused || result instanceof Promise ? REFUSED : x;
  };
}

/** `schema.safeParse`, through the compiled accept path first. */
export function quickParser<S extends ZodTypeAny>(schema: S): (input: unknown) => SafeParseReturnType<z.input<S>, z.output<S>> {
  const check = compile(schema);
  return (input) => {
    const x = check(input);
    return x === REFUSED ? schema.safeParse(input) : { success: true, data: x as z.output<S> };
  };
}
