/**
 * submit_sm / data_sm / submit_multi / replace_sm → the core Message, and the core's outcomes →
 * command_status. The only place that knows how SMPP fields map onto a Message.
 */
import type { Body, Message } from '../core/message.js';
import {
  Status,
  Tag,
  alphabetOf,
  decodeText,
  getTlv,
  parseSmppTime,
  readConcatInfo,
  type DataSm,
  type SubmitMulti,
  type SubmitSm,
} from '../smpp/index.js';
import type { AdmissionRefusal } from '../router/admission.js';

export interface Addr {
  readonly addr: string;
  readonly ton: number;
  readonly npi: number;
}

/** The fields of one short message that became (part of) a Message. */
export interface Submission {
  readonly source: Addr;
  readonly destination: Addr;
  readonly esmClass: number;
  readonly protocolId: number;
  readonly priority: number;
  readonly serviceType: string;
  readonly registeredDelivery: 0 | 1 | 2;
  readonly dataCoding: number;
  /** The message text bytes, UDH removed. */
  readonly payload: Buffer;
  readonly scheduleAt: number | undefined;
  readonly expireAt: number | undefined;
  /** Present when this is one part of a concatenated message. */
  readonly concat: { readonly ref: number; readonly total: number; readonly seq: number } | undefined;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly status: number; readonly reason: string };

const fail = (status: number, reason: string): { ok: false; status: number; reason: string } => ({ ok: false, status, reason });

/** SMPP 3.4 §5.2.17: bits 0-1 of registered_delivery; 3 is reserved and read as "always". */
export function receiptBits(rd: number): 0 | 1 | 2 {
  const b = rd & 0x03;
  return b === 2 ? 2 : b === 0 ? 0 : 1;
}

/** A destination we could route: numeric for the numbering plans that are numeric, 1-20 chars. */
export function checkDestination(a: Addr): boolean {
  if (a.addr.length === 0 || a.addr.length > 20) return false;
  // TON 5 (alphanumeric) may carry letters; every other TON is a number (SMPP 3.4 §5.2.5).
  if (a.ton === 5) return /^[\x20-\x7e]+$/.test(a.addr);
  return /^\+?[0-9]+$/.test(a.addr);
}

type ShortMessagePdu = SubmitSm | DataSm | (Omit<SubmitMulti, 'destinations'> & { destAddrTon: number; destAddrNpi: number; destinationAddr: string });

/**
 * schedule_delivery_time (SMPP 3.4 §5.2.15; absolute or relative, §7.1.1) as epoch ms, undefined
 * when not given. ESME_RINVSCHED when it is not an SMPP time, or when it falls at or after
 * `retentionEnd`: a message stays unfinished at most router.retentionSeconds from its acceptance
 * (Admission.retentionMs, the limit HTTP v2 puts on scheduledAt), so a later send time
 * would expire unsent.
 */
export function parseSchedule(field: string, now: number, retentionEnd: number): Parsed<number | undefined> {
  const s = parseSmppTime(field, now);
  if (s === 'invalid') return fail(Status.ESME_RINVSCHED, 'schedule_delivery_time is not an SMPP time');
  if (s !== null && s >= retentionEnd) return fail(Status.ESME_RINVSCHED, 'schedule_delivery_time is beyond router.retentionSeconds');
  return { ok: true, value: s ?? undefined };
}

/** `retentionMs`: Admission.retentionMs, how far ahead of `now` a message may be scheduled. */
export function parseSubmission(pdu: ShortMessagePdu, now: number, retentionMs: number): Parsed<Submission> {
  const destination = { addr: pdu.destinationAddr, ton: pdu.destAddrTon, npi: pdu.destAddrNpi };
  if (!checkDestination(destination)) return fail(Status.ESME_RINVDSTADR, 'destination_addr is empty or not a number');
  const isData = !('shortMessage' in pdu);
  const sm = isData ? Buffer.alloc(0) : pdu.shortMessage;
  const payloadTlv = getTlv(pdu.tlvs, Tag.message_payload);
  // SMPP 3.4 §5.3.2.32: with message_payload, short_message must be empty.
  if (payloadTlv && sm.length > 0) return fail(Status.ESME_RINVPARLEN, 'short_message and message_payload both set');
  let scheduleAt: number | undefined;
  let expireAt: number | undefined;
  if (!isData) {
    const s = parseSchedule(pdu.scheduleDeliveryTime, now, now + retentionMs);
    if (!s.ok) return s;
    scheduleAt = s.value;
    const v = parseSmppTime(pdu.validityPeriod, now);
    if (v === 'invalid') return fail(Status.ESME_RINVEXPIRY, 'validity_period is not an SMPP time');
    if (v !== null && v <= now) return fail(Status.ESME_RINVEXPIRY, 'validity_period is in the past');
    expireAt = v ?? undefined;
    if (scheduleAt !== undefined && expireAt !== undefined && scheduleAt >= expireAt) return fail(Status.ESME_RINVSCHED, 'schedule_delivery_time is after validity_period');
  }
  const concat = readConcatInfo({ esmClass: pdu.esmClass, shortMessage: payloadTlv ?? sm, tlvs: pdu.tlvs });
  let payload = payloadTlv ?? sm;
  let part: Submission['concat'];
  if (concat) {
    if (concat.total < 1 || concat.seq < 1 || concat.seq > concat.total) return fail(Status.ESME_RINVESMCLASS, 'concatenation header out of range');
    payload = concat.payload;
    if (concat.total > 1) part = { ref: concat.ref, total: concat.total, seq: concat.seq };
  }
  return {
    ok: true,
    value: {
      source: { addr: pdu.sourceAddr, ton: pdu.sourceAddrTon, npi: pdu.sourceAddrNpi },
      destination,
      // UDHI is ours to set again on the way out: keep only the messaging mode and type bits.
      esmClass: pdu.esmClass & ~0x40,
      protocolId: 'protocolId' in pdu ? pdu.protocolId : 0,
      priority: 'priorityFlag' in pdu ? pdu.priorityFlag : 0,
      serviceType: pdu.serviceType,
      registeredDelivery: receiptBits(pdu.registeredDelivery),
      dataCoding: pdu.dataCoding,
      payload: Buffer.from(payload),
      scheduleAt,
      expireAt,
      concat: part,
    },
  };
}

/** The Message body for text bytes in a data_coding. */
export function bodyFor(payload: Buffer, dataCoding: number): Body {
  switch (alphabetOf(dataCoding)) {
    case 'gsm':
      return { kind: 'text', text: decodeText(payload, 0), dataCoding: 0 };
    case 'ascii':
      return { kind: 'text', text: decodeText(payload, 1), dataCoding: 1 };
    case 'latin1':
      return { kind: 'text', text: decodeText(payload, 3), dataCoding: 3 };
    case 'ucs2':
      return { kind: 'text', text: decodeText(payload, 8), dataCoding: 8 };
    case 'binary':
    case 'other':
      return { kind: 'binary', base64: payload.toString('base64'), dataCoding };
  }
}

/**
 * The Message of a submission. `registeredDelivery`: what the whole message asks, when that is not
 * this part's (a long message's parts, stored until complete). Built by assignment, not by spreading
 * optional fields: this runs for every submit, and each spread is an object made and dropped.
 */
export function messageFrom(
  s: Submission,
  payload: Buffer,
  ctx: { id: string; accountId: string; systemId: string; now: number },
  registeredDelivery: Submission['registeredDelivery'] = s.registeredDelivery,
): Message {
  const dest = s.destination;
  const m: { -readonly [K in keyof Message]: Message[K] } = {
    id: ctx.id,
    accountId: ctx.accountId,
    channel: 'sms',
    direction: 'mt',
    ingress: 'smpp',
    source: s.source,
    destination: dest.addr.startsWith('+') ? { addr: dest.addr.slice(1), ton: dest.ton, npi: dest.npi } : dest,
    body: bodyFor(payload, s.dataCoding),
    receipt: registeredDelivery !== 0,
    createdAt: ctx.now,
  };
  if (s.esmClass !== 0) m.esmClass = s.esmClass;
  if (s.protocolId !== 0) m.protocolId = s.protocolId;
  if (s.priority !== 0) m.priority = s.priority;
  if (s.serviceType !== '') m.serviceType = s.serviceType;
  if (s.scheduleAt !== undefined) m.scheduleAt = s.scheduleAt;
  if (s.expireAt !== undefined) m.expireAt = s.expireAt;
  m.systemId = ctx.systemId;
  return m;
}

/** The one mapping of an admission refusal onto command_status. */
export function statusForRefusal(reason: AdmissionRefusal): number {
  switch (reason) {
    case 'throttled':
    case 'platform_throttled':
    case 'overloaded':
      return Status.ESME_RTHROTTLED;
    case 'insufficient_balance':
    case 'unknown_rate_card':
      return Status.ESME_RSUBMITFAIL;
    case 'channel_unavailable':
    case 'no_route':
      return Status.ESME_RINVDSTADR;
    case 'unknown_account':
      return Status.ESME_RINVSYSID;
    case 'store_error':
      return Status.ESME_RSYSERR;
  }
}

/** SMPP 3.4 §5.2.28 message_state for a Catalyst status. */
export function messageStateOf(status: string): number {
  switch (status) {
    case 'delivered':
      return 2;
    case 'expired':
      return 3;
    case 'cancelled':
      return 4;
    case 'failed':
      return 5;
    case 'rejected':
      return 8;
    default:
      return 1; // ENROUTE: queued, scheduled, sending, submitted
  }
}
