/**
 * The PDU union: one member per body layout of SMPP 3.4 §4, discriminated on `command` (the
 * snake_case command name of commands.ts). Field names are the spec's, in camelCase; C-Octet
 * Strings are latin1 strings, octet strings are Buffers, integers are numbers.
 *
 * Fields are mutable so a session can stamp `sequenceNumber` on a PDU it built. A decoded PDU's
 * Buffers are views into the frame: copy them (`Buffer.from`) before keeping them long.
 */
import type { Tlv } from './tlv.js';
import { CommandId } from './commands.js';
import type { CommandName } from './commands.js';

export interface Header<C extends CommandName> {
  command: C;
  commandStatus: number;
  sequenceNumber: number;
}

/** §4.1.1, §4.1.3, §4.1.5 */
export interface BindPdu extends Header<'bind_transmitter' | 'bind_receiver' | 'bind_transceiver'> {
  systemId: string;
  password: string;
  systemType: string;
  interfaceVersion: number;
  addrTon: number;
  addrNpi: number;
  addressRange: string;
  /** Not in SMPP 3.4; kept when a peer sends them anyway. */
  tlvs?: Tlv[];
}

/** §4.1.2, §4.1.4, §4.1.6 */
export interface BindRespPdu extends Header<'bind_transmitter_resp' | 'bind_receiver_resp' | 'bind_transceiver_resp'> {
  systemId: string;
  tlvs: Tlv[];
}

/** The body shared by submit_sm (§4.4.1) and deliver_sm (§4.6.1). */
export interface ShortMessageFields {
  serviceType: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  sourceAddr: string;
  destAddrTon: number;
  destAddrNpi: number;
  destinationAddr: string;
  esmClass: number;
  protocolId: number;
  priorityFlag: number;
  scheduleDeliveryTime: string;
  validityPeriod: string;
  registeredDelivery: number;
  replaceIfPresentFlag: number;
  dataCoding: number;
  smDefaultMsgId: number;
  shortMessage: Buffer;
  tlvs: Tlv[];
}

export interface SubmitSm extends Header<'submit_sm'>, ShortMessageFields {}
export interface DeliverSm extends Header<'deliver_sm'>, ShortMessageFields {}

/** §4.4.2 */
export interface SubmitSmResp extends Header<'submit_sm_resp'> {
  messageId: string;
  tlvs: Tlv[];
}

/** §4.7.2 */
export interface DataSmResp extends Header<'data_sm_resp'> {
  messageId: string;
  tlvs: Tlv[];
}

/** §4.6.2: message_id is unused and NULL. */
export interface DeliverSmResp extends Header<'deliver_sm_resp'> {
  messageId: string;
  tlvs?: Tlv[];
}

export type MultiDestination =
  | { kind: 'sme'; ton: number; npi: number; addr: string }
  | { kind: 'dl'; name: string };

/** §4.5.1: submit_sm's body with the single destination replaced by 1..254 of them. */
export interface SubmitMulti extends Header<'submit_multi'>, Omit<ShortMessageFields, 'destAddrTon' | 'destAddrNpi' | 'destinationAddr'> {
  destinations: MultiDestination[];
}

export interface UnsuccessSme {
  ton: number;
  npi: number;
  addr: string;
  status: number;
}

/** §4.5.2 */
export interface SubmitMultiResp extends Header<'submit_multi_resp'> {
  messageId: string;
  unsuccess: UnsuccessSme[];
  tlvs?: Tlv[];
}

/** §4.7.1 */
export interface DataSm extends Header<'data_sm'> {
  serviceType: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  sourceAddr: string;
  destAddrTon: number;
  destAddrNpi: number;
  destinationAddr: string;
  esmClass: number;
  registeredDelivery: number;
  dataCoding: number;
  tlvs: Tlv[];
}

/** §4.8.1 */
export interface QuerySm extends Header<'query_sm'> {
  messageId: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  sourceAddr: string;
  tlvs?: Tlv[];
}

/** §4.8.2 */
export interface QuerySmResp extends Header<'query_sm_resp'> {
  messageId: string;
  finalDate: string;
  messageState: number;
  errorCode: number;
  tlvs?: Tlv[];
}

/** §4.9.1 */
export interface CancelSm extends Header<'cancel_sm'> {
  serviceType: string;
  messageId: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  sourceAddr: string;
  destAddrTon: number;
  destAddrNpi: number;
  destinationAddr: string;
  tlvs?: Tlv[];
}

/** §4.10.1 */
export interface ReplaceSm extends Header<'replace_sm'> {
  messageId: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  sourceAddr: string;
  scheduleDeliveryTime: string;
  validityPeriod: string;
  registeredDelivery: number;
  smDefaultMsgId: number;
  shortMessage: Buffer;
  tlvs?: Tlv[];
}

/** §4.1.7 */
export interface Outbind extends Header<'outbind'> {
  systemId: string;
  password: string;
  tlvs?: Tlv[];
}

/** §4.12.1 */
export interface AlertNotification extends Header<'alert_notification'> {
  sourceAddrTon: number;
  sourceAddrNpi: number;
  sourceAddr: string;
  esmeAddrTon: number;
  esmeAddrNpi: number;
  esmeAddr: string;
  tlvs: Tlv[];
}

export type HeaderOnlyCommand =
  | 'unbind'
  | 'unbind_resp'
  | 'enquire_link'
  | 'enquire_link_resp'
  | 'generic_nack'
  | 'cancel_sm_resp'
  | 'replace_sm_resp';

/** §4.2 unbind, §4.11 enquire_link, §4.3 generic_nack, §4.9.2, §4.10.2: no body. */
export type HeaderOnlyPdu<C extends HeaderOnlyCommand = HeaderOnlyCommand> = Header<C>;

export type Pdu =
  | BindPdu
  | BindRespPdu
  | SubmitSm
  | SubmitSmResp
  | DeliverSm
  | DeliverSmResp
  | SubmitMulti
  | SubmitMultiResp
  | DataSm
  | DataSmResp
  | QuerySm
  | QuerySmResp
  | CancelSm
  | ReplaceSm
  | Outbind
  | AlertNotification
  | HeaderOnlyPdu;

export type RequestPdu =
  | BindPdu
  | SubmitSm
  | DeliverSm
  | SubmitMulti
  | DataSm
  | QuerySm
  | CancelSm
  | ReplaceSm
  | Outbind
  | AlertNotification
  | HeaderOnlyPdu<'unbind' | 'enquire_link'>;

export type ResponsePdu =
  | BindRespPdu
  | SubmitSmResp
  | DeliverSmResp
  | SubmitMultiResp
  | DataSmResp
  | QuerySmResp
  | HeaderOnlyPdu<'unbind_resp' | 'enquire_link_resp' | 'generic_nack' | 'cancel_sm_resp' | 'replace_sm_resp'>;

type MemberFor<C, P = Pdu> = P extends { command: infer K } ? (C extends K ? P : never) : never;

/** The PDU member for one command name (BindPdu for each bind, HeaderOnlyPdu<C> for the bodiless). */
export type PduOf<C extends CommandName> = C extends HeaderOnlyCommand ? HeaderOnlyPdu<C> : MemberFor<C>;

/** The response member that answers request `C` (generic_nack for those without a `_resp`). */
export type ResponseOf<C extends CommandName> = C extends CommandName
  ? `${C}_resp` extends CommandName
    ? PduOf<`${C}_resp`>
    : PduOf<'generic_nack'>
  : never;

type RespBody<C extends CommandName> = Omit<ResponseOf<C>, 'command' | 'commandStatus' | 'sequenceNumber'>;

const EMPTY_BODIES: { readonly [C in CommandName]?: () => object } = {
  bind_transmitter_resp: () => ({ systemId: '', tlvs: [] }),
  bind_receiver_resp: () => ({ systemId: '', tlvs: [] }),
  bind_transceiver_resp: () => ({ systemId: '', tlvs: [] }),
  submit_sm_resp: () => ({ messageId: '', tlvs: [] }),
  data_sm_resp: () => ({ messageId: '', tlvs: [] }),
  deliver_sm_resp: () => ({ messageId: '' }),
  submit_multi_resp: () => ({ messageId: '', unsuccess: [] }),
  query_sm_resp: () => ({ messageId: '', finalDate: '', messageState: 0, errorCode: 0 }),
};

/**
 * Builds the response to `req`, carrying its sequence number. Body fields default to their
 * empty values (what an error response carries: SMPP 3.4 §4.4.2, the body "is not returned if
 * the command_status field contains a non-zero value"); `body` overrides them.
 *
 *   responseFor(submit, Status.ESME_ROK, { messageId: 'abc' })  // SubmitSmResp
 *   responseFor(enquire, Status.ESME_ROK)                        // enquire_link_resp
 */
export function responseFor<R extends RequestPdu>(
  req: R,
  commandStatus: number,
  body?: Partial<RespBody<R['command']>>,
): ResponseOf<R['command']> {
  const name = `${req.command}_resp`;
  const command = (name in CommandId ? name : 'generic_nack') as CommandName;
  const empty = EMPTY_BODIES[command];
  return {
    ...(empty ? empty() : {}),
    ...body,
    command,
    commandStatus,
    sequenceNumber: req.sequenceNumber,
  } as unknown as ResponseOf<R['command']>;
}

/** A generic_nack for a sequence number (SMPP 3.4 §4.3). */
export function genericNack(sequenceNumber: number, commandStatus: number): HeaderOnlyPdu {
  return { command: 'generic_nack', commandStatus, sequenceNumber };
}

/**
 * A deliver_sm (SMPP 3.4 §4.6.1) with every field not given at its empty value: what both SMSC
 * sides (our server's receipts and MO, the simulator) start from.
 */
export function deliverSm(fields: Pick<DeliverSm, 'sourceAddr' | 'destinationAddr' | 'shortMessage'> & Partial<Omit<DeliverSm, 'command'>>): DeliverSm {
  return {
    commandStatus: 0,
    sequenceNumber: 0,
    serviceType: '',
    sourceAddrTon: 0,
    sourceAddrNpi: 0,
    destAddrTon: 0,
    destAddrNpi: 0,
    esmClass: 0,
    protocolId: 0,
    priorityFlag: 0,
    scheduleDeliveryTime: '',
    validityPeriod: '',
    registeredDelivery: 0,
    replaceIfPresentFlag: 0,
    dataCoding: 0,
    smDefaultMsgId: 0,
    tlvs: [],
    ...fields,
    command: 'deliver_sm',
  };
}
