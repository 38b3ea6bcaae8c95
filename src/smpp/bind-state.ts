/**
 * Which PDU may be sent in which session state, and by whom: SMPP 3.4 §2.3 (session states)
 * and the state column of its PDU table (§2.4). A PDU arriving outside its states is answered
 * with ESME_RINVBNDSTS (§5.1.3); a state machine that refuses illegal moves keeps a confused
 * peer from, say, submitting before it has bound.
 *
 *   open ──bind_transmitter──▶ bound_tx     open ──bind_receiver──▶ bound_rx
 *   open ──bind_transceiver──▶ bound_trx    bound_* ──unbind/unbind_resp──▶ closed
 */
import type { CommandName } from './commands.js';

export type BindType = 'transmitter' | 'receiver' | 'transceiver';
export type SessionState = 'open' | 'bound_tx' | 'bound_rx' | 'bound_trx' | 'closed';
export type Party = 'esme' | 'smsc';

/** The bind type a bind or bind response names; undefined for other commands. */
export function bindTypeOf(command: string): BindType | undefined {
  switch (command) {
    case 'bind_transmitter':
    case 'bind_transmitter_resp':
      return 'transmitter';
    case 'bind_receiver':
    case 'bind_receiver_resp':
      return 'receiver';
    case 'bind_transceiver':
    case 'bind_transceiver_resp':
      return 'transceiver';
    default:
      return undefined;
  }
}

/** The state a successful bind of `type` leads to (§2.3). */
export function boundStateFor(type: BindType): SessionState {
  return type === 'transmitter' ? 'bound_tx' : type === 'receiver' ? 'bound_rx' : 'bound_trx';
}

/** True in a state where the ESME may submit (§2.3: a transmitter or transceiver bind). */
export function canTransmit(state: SessionState): boolean {
  return state === 'bound_tx' || state === 'bound_trx';
}

/** True in a state where the SMSC may deliver (§2.3: a receiver or transceiver bind). */
export function canReceive(state: SessionState): boolean {
  return state === 'bound_rx' || state === 'bound_trx';
}

const OPEN: readonly SessionState[] = ['open'];
const TX: readonly SessionState[] = ['bound_tx', 'bound_trx'];
const RX: readonly SessionState[] = ['bound_rx', 'bound_trx'];
const BOUND: readonly SessionState[] = ['bound_tx', 'bound_rx', 'bound_trx'];
const ANY_LIVE: readonly SessionState[] = ['open', 'bound_tx', 'bound_rx', 'bound_trx'];
const NONE: readonly SessionState[] = [];

/** [states in which the ESME may send it, states in which the SMSC may send it]. */
type Rule = readonly [esme: readonly SessionState[], smsc: readonly SessionState[]];

const RULES: Readonly<Record<CommandName, Rule>> = {
  bind_transmitter: [OPEN, NONE],
  bind_receiver: [OPEN, NONE],
  bind_transceiver: [OPEN, NONE],
  bind_transmitter_resp: [NONE, OPEN],
  bind_receiver_resp: [NONE, OPEN],
  bind_transceiver_resp: [NONE, OPEN],
  outbind: [NONE, OPEN], // §4.1.7: the SMSC asks the ESME to bind_receiver
  unbind: [BOUND, BOUND],
  unbind_resp: [BOUND, BOUND],
  submit_sm: [TX, NONE],
  submit_sm_resp: [NONE, TX],
  submit_multi: [TX, NONE],
  submit_multi_resp: [NONE, TX],
  query_sm: [TX, NONE],
  query_sm_resp: [NONE, TX],
  cancel_sm: [TX, NONE],
  cancel_sm_resp: [NONE, TX],
  replace_sm: [TX, NONE],
  replace_sm_resp: [NONE, TX],
  deliver_sm: [NONE, RX],
  deliver_sm_resp: [RX, NONE],
  alert_notification: [NONE, RX],
  // §4.7: data_sm flows both ways, ESME→SMSC over a transmitting bind, SMSC→ESME over a receiving one.
  data_sm: [TX, RX],
  data_sm_resp: [RX, TX],
  // 3.4 lists the bound states; SMPP 5.0 §2.4 adds OPEN, and peers do probe before binding.
  enquire_link: [ANY_LIVE, ANY_LIVE],
  enquire_link_resp: [ANY_LIVE, ANY_LIVE],
  // generic_nack answers garbage whenever it arrives, bound or not.
  generic_nack: [ANY_LIVE, ANY_LIVE],
};

/**
 * Whether `from` may send `command` in `state`. Unknown commands and the closed state allow
 * nothing. The SMSC side checks inbound PDUs with from = 'esme'; the ESME side with 'smsc'.
 */
export function allowedInState(state: SessionState, command: string, from: Party): boolean {
  const rule = (RULES as Readonly<Record<string, Rule | undefined>>)[command];
  if (rule === undefined) return false;
  return (from === 'esme' ? rule[0] : rule[1]).includes(state);
}
