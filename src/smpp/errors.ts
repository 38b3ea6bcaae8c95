/**
 * SMPP codec errors. Each has a stable string `code` (match on it, not on the class), a
 * `retriable` flag (always false: the same bytes fail the same way) and an optional `cause`.
 *
 * - SmppDecodeError is a value, returned inside DecodeResult: the frame boundary is intact, so the
 *   session answers (with `status`, by generic_nack when `answerWithGenericNack`) and carries on.
 * - SmppFramingError is thrown by FrameDecoder.next(): the byte stream has no trustworthy
 *   boundary any more and the session must close (cloudhopper's "unrecoverable" class).
 * - SmppEncodeError is thrown by the encoders on a value the spec does not allow.
 */

export type SmppDecodeErrorCode =
  | 'SMPP_HEADER_SHORT'
  | 'SMPP_LENGTH_MISMATCH'
  | 'SMPP_UNKNOWN_COMMAND'
  | 'SMPP_BODY_SHORT'
  | 'SMPP_BODY_LONG'
  | 'SMPP_CSTRING_UNTERMINATED'
  | 'SMPP_FIELD_TOO_LONG'
  | 'SMPP_SM_LENGTH'
  | 'SMPP_DEST_COUNT'
  | 'SMPP_DEST_FLAG'
  | 'SMPP_TLV_TRUNCATED'
  | 'SMPP_TLV_OVERRUN'
  | 'SMPP_TLV_LENGTH';

export type SmppEncodeErrorCode = 'SMPP_FIELD_TOO_LONG' | 'SMPP_FIELD_INVALID' | 'SMPP_DEST_COUNT';

export type SmppErrorCode = SmppDecodeErrorCode | SmppEncodeErrorCode | 'SMPP_FRAME_LENGTH';

export class SmppError extends Error {
  readonly code: SmppErrorCode;
  readonly retriable = false;

  constructor(code: SmppErrorCode, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'SmppError';
    this.code = code;
  }
}

export class SmppDecodeError extends SmppError {
  declare readonly code: SmppDecodeErrorCode;
  /** The command_status to answer with (SMPP 3.4 §5.1.3). */
  readonly status: number;
  readonly commandId: number;
  readonly sequenceNumber: number;
  /**
   * True when the answer must be generic_nack rather than `<command>_resp`: an unknown
   * command_id or a command_length that disagrees with the body (SMPP 3.4 §3.3), and any
   * malformed response PDU (a response is never answered by a response).
   */
  readonly answerWithGenericNack: boolean;
  /** The field at fault, when there is one (`source_addr`, `sm_length`, `tlv 0x020c`...). */
  readonly field: string | undefined;

  constructor(
    code: SmppDecodeErrorCode,
    message: string,
    opts: { status: number; commandId: number; sequenceNumber: number; answerWithGenericNack: boolean; field?: string },
  ) {
    super(code, message);
    this.name = 'SmppDecodeError';
    this.status = opts.status;
    this.commandId = opts.commandId;
    this.sequenceNumber = opts.sequenceNumber;
    this.answerWithGenericNack = opts.answerWithGenericNack;
    this.field = opts.field;
  }
}

export class SmppFramingError extends SmppError {
  declare readonly code: 'SMPP_FRAME_LENGTH';
  readonly commandLength: number;
  /** The sequence_number of the offending header, when 16 bytes of it had arrived. */
  readonly sequenceNumber: number | undefined;
  readonly maxPduLength: number;

  constructor(commandLength: number, sequenceNumber: number | undefined, maxPduLength: number) {
    super('SMPP_FRAME_LENGTH', `command_length ${commandLength} outside 16..${maxPduLength}`);
    this.name = 'SmppFramingError';
    this.commandLength = commandLength;
    this.sequenceNumber = sequenceNumber;
    this.maxPduLength = maxPduLength;
  }
}

export class SmppEncodeError extends SmppError {
  declare readonly code: SmppEncodeErrorCode;
  readonly field: string;

  constructor(code: SmppEncodeErrorCode, field: string, message: string) {
    super(code, message);
    this.name = 'SmppEncodeError';
    this.field = field;
  }
}
