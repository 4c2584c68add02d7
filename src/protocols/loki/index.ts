/** Loki push protocol: decoding for the server, encoding for the agent's `loki` sink. */
export { PushDecodeError, LabelSetSyntaxError, type PushDecodeStatus } from './errors.js';
export {
  DEFAULT_MAX_BYTES,
  MAX_TS_NS,
  type Labels,
  type PushDecodeLimits,
  type PushEntry,
  type PushStream,
} from './types.js';
export { parseLabelSet, formatLabelSet } from './labels-string.js';
export { isValidLabelName, LABEL_NAME_PATTERN } from './validate.js';
export { decodePush, pushBodyFormat, type PushBodyFormat, type PushHeaders } from './decode.js';
export {
  encodePush,
  encodePushAsync,
  checkEncodeOptions,
  type EncodePushOptions,
  type EncodedPush,
  type LokiPushCompression,
  type LokiPushFormat,
} from './encode.js';
export { decodeJsonPush, encodeJsonPush } from './json.js';
export {
  PUSH_PROTO,
  TIMESTAMP_PROTO,
  decodePushRequest,
  encodePushRequest,
  pushProtoRoot,
  pushRequestType,
} from './push-proto.js';
