/**
 * Optional parameters (TLVs), SMPP 3.4 §5.3.
 *
 *   tlvs = *( tag:u16 length:u16 value:length*octet )      ; §5.3.1, after the mandatory body
 *
 * Values are kept as raw Buffers in wire order (a PDU may repeat a tag, e.g. callback_num);
 * the typed readers below interpret them and return undefined when absent or of the wrong size.
 */

/** Every tag of SMPP 3.4 §5.3.2. */
export const Tag = {
  dest_addr_subunit: 0x0005,
  dest_network_type: 0x0006,
  dest_bearer_type: 0x0007,
  dest_telematics_id: 0x0008,
  source_addr_subunit: 0x000d,
  source_network_type: 0x000e,
  source_bearer_type: 0x000f,
  source_telematics_id: 0x0010,
  qos_time_to_live: 0x0017,
  payload_type: 0x0019,
  additional_status_info_text: 0x001d,
  receipted_message_id: 0x001e,
  ms_msg_wait_facilities: 0x0030,
  privacy_indicator: 0x0201,
  source_subaddress: 0x0202,
  dest_subaddress: 0x0203,
  user_message_reference: 0x0204,
  user_response_code: 0x0205,
  source_port: 0x020a,
  destination_port: 0x020b,
  sar_msg_ref_num: 0x020c,
  language_indicator: 0x020d,
  sar_total_segments: 0x020e,
  sar_segment_seqnum: 0x020f,
  sc_interface_version: 0x0210,
  callback_num_pres_ind: 0x0302,
  callback_num_atag: 0x0303,
  number_of_messages: 0x0304,
  callback_num: 0x0381,
  dpf_result: 0x0420,
  set_dpf: 0x0421,
  ms_availability_status: 0x0422,
  network_error_code: 0x0423,
  message_payload: 0x0424,
  delivery_failure_reason: 0x0425,
  more_messages_to_send: 0x0426,
  message_state: 0x0427,
  ussd_service_op: 0x0501,
  display_time: 0x1201,
  sms_signal: 0x1203,
  ms_validity: 0x1204,
  alert_on_message_delivery: 0x130c,
  its_reply_type: 0x1380,
  its_session_info: 0x1383,
} as const;

export type TagName = keyof typeof Tag;

export interface Tlv {
  readonly tag: number;
  readonly value: Buffer;
}

const TAG_NAMES = new Map<number, TagName>((Object.keys(Tag) as TagName[]).map((n) => [Tag[n], n]));

export function tagName(tag: number): TagName | undefined {
  return TAG_NAMES.get(tag);
}

/**
 * Fixed value sizes from SMPP 3.4 §5.3.2; the decoder rejects a known tag of another size with
 * ESME_RINVPARLEN. Tags whose size varies, or that peers are known to send loosely
 * (alert_on_message_delivery is 0 octets in 3.4 and 1 in 5.0), are absent.
 */
export const TLV_FIXED_SIZE: ReadonlyMap<number, number> = new Map([
  [Tag.dest_addr_subunit, 1],
  [Tag.source_addr_subunit, 1],
  [Tag.dest_network_type, 1],
  [Tag.source_network_type, 1],
  [Tag.dest_bearer_type, 1],
  [Tag.source_bearer_type, 1],
  [Tag.qos_time_to_live, 4],
  [Tag.payload_type, 1],
  [Tag.ms_msg_wait_facilities, 1],
  [Tag.privacy_indicator, 1],
  [Tag.user_message_reference, 2],
  [Tag.user_response_code, 1],
  [Tag.language_indicator, 1],
  [Tag.source_port, 2],
  [Tag.destination_port, 2],
  [Tag.sar_msg_ref_num, 2],
  [Tag.sar_total_segments, 1],
  [Tag.sar_segment_seqnum, 1],
  [Tag.sc_interface_version, 1],
  [Tag.display_time, 1],
  [Tag.ms_validity, 1],
  [Tag.dpf_result, 1],
  [Tag.set_dpf, 1],
  [Tag.ms_availability_status, 1],
  [Tag.network_error_code, 3],
  [Tag.delivery_failure_reason, 1],
  [Tag.more_messages_to_send, 1],
  [Tag.message_state, 1],
  [Tag.callback_num_pres_ind, 1],
  [Tag.number_of_messages, 1],
  [Tag.sms_signal, 2],
  [Tag.its_reply_type, 1],
  [Tag.its_session_info, 2],
  [Tag.ussd_service_op, 1],
]);

/** The first value for `tag`, or undefined. */
export function getTlv(tlvs: readonly Tlv[], tag: number): Buffer | undefined {
  for (const t of tlvs) if (t.tag === tag) return t.value;
  return undefined;
}

/** Every value for `tag`, in wire order (callback_num and its companions may repeat, SMPP 3.4 §5.3.2). */
export function getTlvs(tlvs: readonly Tlv[], tag: number): Buffer[] {
  const out: Buffer[] = [];
  for (const t of tlvs) if (t.tag === tag) out.push(t.value);
  return out;
}

export function tlvUint8(tlvs: readonly Tlv[], tag: number): number | undefined {
  const v = getTlv(tlvs, tag);
  return v?.length === 1 ? v[0] : undefined;
}

export function tlvUint16(tlvs: readonly Tlv[], tag: number): number | undefined {
  const v = getTlv(tlvs, tag);
  return v?.length === 2 ? v.readUInt16BE(0) : undefined;
}

export function tlvUint32(tlvs: readonly Tlv[], tag: number): number | undefined {
  const v = getTlv(tlvs, tag);
  return v?.length === 4 ? v.readUInt32BE(0) : undefined;
}

/**
 * A C-Octet String TLV (receipted_message_id, additional_status_info_text). Undefined when absent
 * or not NUL-terminated; some SMSCs omit the NUL, so `lenient` accepts that.
 */
export function tlvCString(tlvs: readonly Tlv[], tag: number, lenient = false): string | undefined {
  const v = getTlv(tlvs, tag);
  if (v === undefined || v.length === 0) return undefined;
  const nul = v.indexOf(0);
  if (nul === v.length - 1) return v.toString('latin1', 0, nul);
  if (lenient && nul === -1) return v.toString('latin1');
  return undefined;
}

export function tlvU8(tag: number, n: number): Tlv {
  const value = Buffer.allocUnsafe(1);
  value.writeUInt8(n, 0);
  return { tag, value };
}

export function tlvU16(tag: number, n: number): Tlv {
  const value = Buffer.allocUnsafe(2);
  value.writeUInt16BE(n, 0);
  return { tag, value };
}

export function tlvU32(tag: number, n: number): Tlv {
  const value = Buffer.allocUnsafe(4);
  value.writeUInt32BE(n, 0);
  return { tag, value };
}

/** A C-Octet String value: latin1 bytes plus the terminating NUL. */
export function tlvCStr(tag: number, s: string): Tlv {
  const value = Buffer.allocUnsafe(s.length + 1);
  value.write(s, 0, 'latin1');
  value[s.length] = 0;
  return { tag, value };
}

export function tlvBuf(tag: number, b: Buffer): Tlv {
  return { tag, value: b };
}

/** Total wire size of a TLV list (4 header octets each, §5.3.1). */
export function tlvsSize(tlvs: readonly Tlv[]): number {
  let n = 0;
  for (const t of tlvs) n += 4 + t.value.length;
  return n;
}
