/**
 * src/smpp: the pure SMPP 3.4 protocol core shared by the SMSC side (smpp-server) and the ESME
 * side (connectors/smpp). No sockets, timers, logging or config: bytes and values in, bytes and
 * values out.
 *
 * - commands.ts, status.ts, tlv.ts: the typed tables of command ids, command_status and TLV tags
 * - pdu.ts: the PDU union (discriminated on `command`) and `responseFor`
 * - codec.ts: FrameDecoder (stream to frames), decodePdu, encodePdu and fast encoders
 */
export * from './commands.js';
export * from './status.js';
export * from './tlv.js';
export * from './pdu.js';
export * from './codec.js';
export * from './text.js';
export * from './segments.js';
export * from './receipt.js';
export * from './time.js';
export * from './bind-state.js';
