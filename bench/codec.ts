/**
 * SMPP codec throughput: decode submit_sm, encode submit_sm_resp, FrameDecoder + decodePdu over
 * a 1 MB stream of mixed PDUs cut into socket-sized chunks. Prints the git SHA, Node version and
 * CPU beside the figures. Run: node --import tsx bench/codec.ts
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { decodePdu, encodePdu, encodeSubmitSmResp, FrameDecoder } from '../src/smpp/codec.js';
import type { Pdu, SubmitSm } from '../src/smpp/pdu.js';
import { Tag, tlvU16, tlvU8 } from '../src/smpp/tlv.js';

function gitSha(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Runs `fn` in batches until `ms` elapse (after a warm-up); returns ops per second. */
function measure(name: string, fn: () => number, ms = 2000): { name: string; opsPerSec: number } {
  const warmEnd = performance.now() + 300;
  while (performance.now() < warmEnd) fn();
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    ops += fn();
    now = performance.now();
  }
  return { name, opsPerSec: (ops * 1000) / (now - start) };
}

const submit: SubmitSm = {
  command: 'submit_sm', commandStatus: 0, sequenceNumber: 1, serviceType: '', sourceAddrTon: 5, sourceAddrNpi: 0, sourceAddr: 'Catalyst',
  destAddrTon: 1, destAddrNpi: 1, destinationAddr: '447700900123', esmClass: 0, protocolId: 0, priorityFlag: 0, scheduleDeliveryTime: '',
  validityPeriod: '', registeredDelivery: 1, replaceIfPresentFlag: 0, dataCoding: 0, smDefaultMsgId: 0,
  shortMessage: Buffer.from('Your verification code is 123456. It expires in 10 minutes.'), tlvs: [],
};
const submitBytes = encodePdu(submit);

let sink = 0;
const results = [
  measure('decode submit_sm', () => {
    for (let i = 0; i < 1000; i++) {
      const r = decodePdu(submitBytes);
      if (r.ok) sink += r.pdu.sequenceNumber;
    }
    return 1000;
  }),
  measure('encode submit_sm_resp', () => {
    for (let i = 0; i < 1000; i++) sink += encodeSubmitSmResp(i, 0, '0123456789abcdef0123').length;
    return 1000;
  }),
  measure('encode submit_sm', () => {
    for (let i = 0; i < 1000; i++) sink += encodePdu(submit).length;
    return 1000;
  }),
];

// A 1 MB stream: submit_sm (some with SAR TLVs), enquire_link, deliver_sm_resp.
const mix: Pdu[] = [
  submit,
  { ...submit, esmClass: 0, tlvs: [tlvU16(Tag.sar_msg_ref_num, 7), tlvU8(Tag.sar_total_segments, 2), tlvU8(Tag.sar_segment_seqnum, 1)] },
  { command: 'enquire_link', commandStatus: 0, sequenceNumber: 2 },
  { command: 'deliver_sm_resp', commandStatus: 0, sequenceNumber: 3, messageId: '' },
];
const pieces: Buffer[] = [];
let total = 0;
let pdus = 0;
while (total < 1 << 20) {
  const b = encodePdu(mix[pdus % mix.length] as Pdu);
  pieces.push(b);
  total += b.length;
  pdus++;
}
const stream = Buffer.concat(pieces);
const chunkSize = 16 * 1024; // a typical socket read
const chunks: Buffer[] = [];
for (let i = 0; i < stream.length; i += chunkSize) chunks.push(stream.subarray(i, i + chunkSize));

const streamResult = measure('FrameDecoder+decodePdu, 1 MB stream (PDUs)', () => {
  const d = new FrameDecoder();
  let n = 0;
  for (const c of chunks) {
    d.push(c);
    for (let f = d.next(); f; f = d.next()) {
      if (decodePdu(f).ok) n++;
    }
  }
  if (n !== pdus) throw new Error(`framed ${n} of ${pdus}`);
  return n;
}, 3000);
results.push(streamResult);
const mbPerSec = (streamResult.opsPerSec / pdus) * (stream.length / (1 << 20));

const cpu = os.cpus()[0]?.model ?? 'unknown';
console.log(`git ${gitSha()}  node ${process.version}  cpu ${cpu} (${os.cpus().length} cores)`);
console.log(`stream: ${pdus} PDUs, ${stream.length} octets, ${chunks.length} chunks of ${chunkSize}`);
for (const r of results) console.log(`${r.name.padEnd(46)} ${Math.round(r.opsPerSec).toLocaleString('en-US').padStart(12)} ops/s`);
console.log(`${'FrameDecoder+decodePdu, 1 MB stream'.padEnd(46)} ${mbPerSec.toFixed(0).padStart(12)} MB/s`);
if (sink < 0) console.log(sink); // keeps the results observable to the optimiser
