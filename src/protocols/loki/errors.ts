/**
 * The one error type the Loki push decoders throw. `status` is the HTTP status the server should
 * answer with; `message` says what is wrong and where (a JSON-path-like location such as
 * `streams[2].values[5][0]`, a byte offset for protobuf, a character position for label sets).
 */
export type PushDecodeStatus = 400 | 413 | 415;

export class PushDecodeError extends Error {
  override readonly name = 'PushDecodeError';
  readonly status: PushDecodeStatus;

  constructor(message: string, status: PushDecodeStatus = 400, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
  }
}

/** Thrown by `parseLabelSet`; `position` is the 0-based character offset of the problem. */
export class LabelSetSyntaxError extends Error {
  override readonly name = 'LabelSetSyntaxError';
  readonly position: number;

  constructor(message: string, position: number) {
    super(message);
    this.position = position;
  }
}
