/** OTLP logs: the protos, decoding and answers for the receivers, the mapping rule both receivers share. */
export { otlpLogsTypes, OTLP_LOGS_PROTO, type OtlpLogsTypes } from './proto.js';
export {
  decodeLogsRequest,
  otlpEncodingOf,
  OtlpDecodeError,
  type OtlpDecodeOptions,
  type OtlpEncoding,
  type OtlpKeyValue,
  type OtlpLogRecord,
  type OtlpLogsRequest,
  type OtlpResourceLogs,
  type OtlpScopeLogs,
  type OtlpValue,
} from './decode.js';
export { mapLogsRequest, resourceLabels, sanitizeName, valueText, type OtlpLogLine, type OtlpLogStream, type OtlpMapOptions, type OtlpMapped } from './map.js';
export { encodeLogsResponse, encodeStatus, grpcCode, OTLP_CONTENT_TYPE } from './response.js';
