/**
 * How many SMS parts a body needs (3GPP TS 23.040 §9.2.3.24.1 concatenation: a 6-octet UDH leaves
 * 153 GSM septets, 67 UCS-2 characters or 134 octets a part). Used to price a message at
 * admission; the connector's own split decides the parts actually sent.
 */
import type { Body } from '../core/message.js';
import { canEncodeGsm, gsmSeptetLength } from '../smpp/index.js';

export function countSmsParts(body: Body): number {
  if (body.kind === 'binary') return partsFor(Buffer.byteLength(body.base64, 'base64'), 140, 134);
  const dc = body.dataCoding;
  if (dc === 3 || dc === 1) return partsFor(body.text.length, dc === 3 ? 140 : 160, dc === 3 ? 134 : 153);
  if (dc !== 8 && canEncodeGsm(body.text)) return partsFor(gsmSeptetLength(body.text), 160, 153);
  return partsFor(body.text.length, 70, 67); // UTF-16 code units: an emoji takes two
}

function partsFor(units: number, single: number, perPart: number): number {
  return units <= single ? 1 : Math.ceil(units / perPart);
}
