/**
 * The SMPP codec's public face: frames in (FrameDecoder), PDUs out (decodePdu), PDUs to bytes
 * (encodePdu and the fast helpers). The grammar each part implements heads its own file:
 * frame-decoder.ts (§3.2 framing), decode.ts (§4 bodies), wire.ts (§3.1 field types),
 * tlv.ts (§5.3 optional parameters).
 */
export { decodePdu } from './decode.js';
export type { DecodeResult } from './decode.js';
export type { ReceiptDeliverSm } from './encode.js';
export {
  encodePdu,
  encodeHeaderOnly,
  encodeGenericNack,
  encodeSubmitSmResp,
  encodeDeliverSmResp,
  encodeDataSmResp,
  encodeReceiptDeliverSm,
  encodeEnquireLink,
  encodeEnquireLinkResp,
} from './encode.js';
export { FrameDecoder, DEFAULT_MAX_PDU_LENGTH } from './frame-decoder.js';
export type { FrameDecoderOptions } from './frame-decoder.js';
export { SmppError, SmppDecodeError, SmppEncodeError, SmppFramingError } from './errors.js';
export type { SmppErrorCode, SmppDecodeErrorCode, SmppEncodeErrorCode } from './errors.js';
export { Max as FieldMax } from './wire.js';
