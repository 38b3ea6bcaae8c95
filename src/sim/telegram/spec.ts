/**
 * The Telegram Bot API as Telegram publishes it, machine-readable (specs/telegram/bot-api.json,
 * Bot API 10.1): every method's fields with their types and whether each is required, every type's
 * fields. `checkMethod` checks a request's parameters against it the way the Bot API does: a
 * missing required field, a field of the wrong type, an object missing its own required fields.
 * Fields the document does not know are ignored, as the Bot API ignores them.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const TELEGRAM_SPEC_PATH = fileURLToPath(new URL('../../../specs/telegram/bot-api.json', import.meta.url));

interface Field {
  readonly name: string;
  readonly types: readonly string[];
  readonly required: boolean;
}
interface TypeDef {
  readonly fields?: readonly Field[];
  readonly subtypes?: readonly string[];
}
interface Spec {
  readonly methods: Readonly<Record<string, { readonly fields?: readonly Field[] }>>;
  readonly types: Readonly<Record<string, TypeDef>>;
}

let spec: Spec | undefined;
function load(): Spec {
  spec ??= JSON.parse(readFileSync(TELEGRAM_SPEC_PATH, 'utf8')) as Spec;
  return spec;
}

export function knownMethod(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(load().methods, name);
}

/** The first problem, as `path: what`, or undefined when the value fits one of the types. */
function checkTypes(value: unknown, types: readonly string[], path: string, depth: number): string | undefined {
  let first: string | undefined;
  for (const t of types) {
    const p = checkType(value, t, path, depth);
    if (p === undefined) return undefined;
    first ??= p;
  }
  return first;
}

function checkType(value: unknown, t: string, path: string, depth: number): string | undefined {
  if (depth > 12) return undefined;
  if (t.startsWith('Array of ')) {
    if (!Array.isArray(value)) return `${path}: expected an Array`;
    const inner = t.slice('Array of '.length);
    for (let i = 0; i < value.length; i++) {
      const p = checkType(value[i] as unknown, inner, `${path}[${i}]`, depth + 1);
      if (p) return p;
    }
    return undefined;
  }
  switch (t) {
    case 'Integer':
      return typeof value === 'number' && Number.isInteger(value) ? undefined : typeof value === 'string' && /^-?[0-9]+$/.test(value) ? undefined : `${path}: expected an Integer`;
    case 'Float':
      return typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) ? undefined : `${path}: expected a Float`;
    case 'String':
      return typeof value === 'string' ? undefined : `${path}: expected a String`;
    case 'Boolean':
    case 'True':
      return typeof value === 'boolean' ? undefined : `${path}: expected a Boolean`;
    case 'InputFile':
      // An upload is multipart; in JSON only a file_id or URL (a String) can be given.
      return `${path}: a file upload needs multipart/form-data`;
  }
  const def = load().types[t];
  if (!def) return undefined;
  if (def.subtypes) return checkTypes(value, def.subtypes, path, depth + 1);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${path}: expected a ${t} object`;
  return checkFields(value as Record<string, unknown>, def.fields ?? [], path, depth + 1);
}

function checkFields(obj: Record<string, unknown>, fields: readonly Field[], path: string, depth: number): string | undefined {
  for (const f of fields) {
    const v = obj[f.name];
    const at = path === '' ? f.name : `${path}.${f.name}`;
    if (v === undefined || v === null) {
      if (f.required) return `${at}: required`;
      continue;
    }
    const p = checkTypes(v, f.types, at, depth);
    if (p) return p;
  }
  return undefined;
}

/** Checks one method call's parameters; reply_markup and the like may arrive JSON-serialised (as form fields do). */
export function checkMethod(method: string, params: Record<string, unknown>): string | undefined {
  const m = load().methods[method];
  if (!m) return `${method}: no such method`;
  const parsed: Record<string, unknown> = { ...params };
  for (const f of m.fields ?? []) {
    const v = parsed[f.name];
    if (typeof v === 'string' && f.types.every((t) => load().types[t] !== undefined) && /^[[{]/.test(v)) {
      try {
        parsed[f.name] = JSON.parse(v) as unknown;
      } catch {
        return `${f.name}: can't parse JSON object`;
      }
    }
  }
  return checkFields(parsed, m.fields ?? [], '', 0);
}
