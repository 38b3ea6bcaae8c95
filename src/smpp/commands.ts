/**
 * The SMPP 3.4 command_id table (§5.1.2.1). A response id is its request id with bit 31 set
 * (§3.2: "command_id ... the most significant bit ... identifies a response").
 *
 * Grammar of every PDU (§3.2):
 *   pdu    = header body
 *   header = command_length:u32 command_id:u32 command_status:u32 sequence_number:u32
 */

export const CommandId = {
  generic_nack: 0x80000000,
  bind_receiver: 0x00000001,
  bind_receiver_resp: 0x80000001,
  bind_transmitter: 0x00000002,
  bind_transmitter_resp: 0x80000002,
  query_sm: 0x00000003,
  query_sm_resp: 0x80000003,
  submit_sm: 0x00000004,
  submit_sm_resp: 0x80000004,
  deliver_sm: 0x00000005,
  deliver_sm_resp: 0x80000005,
  unbind: 0x00000006,
  unbind_resp: 0x80000006,
  replace_sm: 0x00000007,
  replace_sm_resp: 0x80000007,
  cancel_sm: 0x00000008,
  cancel_sm_resp: 0x80000008,
  bind_transceiver: 0x00000009,
  bind_transceiver_resp: 0x80000009,
  outbind: 0x0000000b,
  enquire_link: 0x00000015,
  enquire_link_resp: 0x80000015,
  submit_multi: 0x00000021,
  submit_multi_resp: 0x80000021,
  alert_notification: 0x00000102,
  data_sm: 0x00000103,
  data_sm_resp: 0x80000103,
} as const;

export type CommandName = keyof typeof CommandId;
export type CommandIdValue = (typeof CommandId)[CommandName];

const NAMES = new Map<number, CommandName>(
  (Object.keys(CommandId) as CommandName[]).map((name) => [CommandId[name], name]),
);

/** The snake_case name of a command id, or undefined for ids SMPP 3.4 does not define. */
export function commandName(id: number): CommandName | undefined {
  return NAMES.get(id >>> 0);
}

/** SMPP 3.4 §3.2: bit 31 of command_id marks a response. */
export function isResponse(id: number): boolean {
  return (id & 0x80000000) !== 0;
}

/** The command_id that answers `id` (generic_nack answers itself: it has no response). */
export function responseIdFor(id: number): number {
  return (id | 0x80000000) >>> 0;
}

/** Requests whose answer is `<name>_resp`; alert_notification and outbind have none (§4.12, §4.1.7). */
export type RequestName = Exclude<CommandName, `${string}_resp` | 'generic_nack'>;
export type ResponseName = Extract<CommandName, `${string}_resp`> | 'generic_nack';

const NO_RESPONSE: ReadonlySet<string> = new Set(['alert_notification', 'outbind', 'generic_nack']);

/** True when the request named `name` expects a response PDU (§2.3, §4.12.1 alert_notification has none). */
export function expectsResponse(name: string): boolean {
  return !NO_RESPONSE.has(name) && !name.endsWith('_resp');
}
