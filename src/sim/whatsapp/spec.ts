/**
 * Meta's own OpenAPI description of the WhatsApp Cloud API (specs/whatsapp, v23.0), compiled once
 * per process into a validator of the send request body (`components.schemas.Message`).
 *
 * One correction, so the document says what Meta means: its message schemas are written
 * `allOf: [BaseMessageProperties, {…, additionalProperties: false}]`, which under JSON Schema
 * refuses the base's own properties (`to`, `messaging_product`) in every message. We move each
 * such `additionalProperties: false` to `unevaluatedProperties: false` on the allOf (JSON Schema
 * 2020-12, which OpenAPI 3.1 uses): "no property that neither part defines", as intended.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import YAML from 'yaml';

export const WHATSAPP_SPEC_PATH = fileURLToPath(new URL('../../../specs/whatsapp/business-messaging-api_v23.0.yaml', import.meta.url));

function fixAllOf(node: unknown): void {
  if (Array.isArray(node)) {
    for (const n of node) fixAllOf(n);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const o = node as Record<string, unknown>;
  if (Array.isArray(o['allOf'])) {
    for (const m of o['allOf'] as Record<string, unknown>[]) {
      if (typeof m === 'object' && m['additionalProperties'] === false && m['$ref'] === undefined) {
        delete m['additionalProperties'];
        o['unevaluatedProperties'] = false;
      }
    }
  }
  for (const v of Object.values(o)) fixAllOf(v);
}

let compiled: ValidateFunction | undefined;

/** The validator of a send request body (compiled on first use: about a second). */
export function whatsappMessageValidator(): ValidateFunction {
  if (compiled) return compiled;
  const doc = YAML.parse(readFileSync(WHATSAPP_SPEC_PATH, 'utf8')) as { components: Record<string, unknown> };
  fixAllOf(doc.components);
  const components = JSON.parse(JSON.stringify(doc.components).replaceAll('"#/components/', '"wa#/components/')) as Record<string, unknown>;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (addFormatsModule as unknown as { default: (a: Ajv2020) => void }).default(ajv);
  ajv.addSchema({ $id: 'wa', components });
  const v = ajv.compile({ $ref: 'wa#/components/schemas/Message' });
  compiled = v;
  return v;
}

/** Ajv's errors as Meta's error_data.details would say them, briefly. */
export function describeErrors(errors: readonly ErrorObject[] | null | undefined): string {
  if (!errors || errors.length === 0) return 'invalid request';
  // oneOf reports every branch; the ones about the declared type's own branch are the useful ones.
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'oneOf' || e.keyword === 'enum' && e.instancePath === '/type') continue;
    seen.add(`${e.instancePath || '(body)'} ${e.message ?? ''}${e.keyword === 'unevaluatedProperties' ? ` (${String((e.params as { unevaluatedProperty?: string }).unevaluatedProperty)})` : ''}`);
    if (seen.size >= 5) break;
  }
  return [...seen].join('; ');
}
