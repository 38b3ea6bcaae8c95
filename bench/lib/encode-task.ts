/**
 * The dispatcher's per-message CPU work as one task over a batch, for bench/workers.ts to run on
 * the main thread or in a piscina worker: parse the stored payload (what take.lua returns), cut
 * it into submit_sm PDUs for the upstream (segmentation, text encoding) and encode them. The
 * PDUs come back as one buffer and its offsets, so a worker transfers it instead of copying.
 */
import { parseConfig, type UpstreamConfig } from '../../src/core/config.js';
import type { Message } from '../../src/core/message.js';
import { encodeMessage } from '../../src/connectors/smpp/encode-message.js';
import { encodePdu } from '../../src/smpp/index.js';

export interface EncodeBatch {
  readonly payloads: readonly string[];
}

export interface EncodedBatch {
  readonly bytes: Uint8Array;
  /** End offset of each PDU in bytes. */
  readonly ends: readonly number[];
}

let upstream: UpstreamConfig | undefined;
function cfg(): UpstreamConfig {
  upstream ??= parseConfig({ upstreams: [{ id: 'u', type: 'smpp', host: '127.0.0.1', port: 1, systemId: 's', password: 'p' }], routes: [{ prefix: '', upstream: 'u', price: 0 }] }).upstreams[0] as UpstreamConfig;
  return upstream;
}

export function encodeBatch(batch: EncodeBatch): EncodedBatch {
  const bufs: Buffer[] = [];
  let seq = 1;
  for (const p of batch.payloads) {
    const enc = encodeMessage(JSON.parse(p) as Message, cfg(), seq & 0xff);
    if (!enc.ok) continue;
    for (const pdu of enc.pdus) bufs.push(encodePdu({ ...pdu, sequenceNumber: seq++ }));
  }
  const bytes = Buffer.concat(bufs);
  const ends: number[] = [];
  let end = 0;
  for (const b of bufs) ends.push((end += b.length));
  return { bytes, ends };
}

/** piscina's entry point. */
export default function task(batch: EncodeBatch): EncodedBatch {
  return encodeBatch(batch);
}
