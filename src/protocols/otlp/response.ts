/**
 * OTLP/HTTP answers: an `ExportLogsServiceResponse` on 200 (with `partial_success` only when
 * records were refused) and a google.rpc.Status on 4xx/5xx, each in the encoding of the
 * request, as the spec requires. When the request's encoding is unknown (415) the Status is
 * JSON: it is at least readable by whoever sent the wrong Content-Type.
 */
import type { OtlpEncoding } from './decode.js';
import { otlpLogsTypes } from './proto.js';

export const OTLP_CONTENT_TYPE: Readonly<Record<OtlpEncoding, string>> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

/** The success body; `rejected` > 0 (or a message) makes it a partial success. */
export function encodeLogsResponse(encoding: OtlpEncoding, rejected = 0, message = ''): Buffer {
  const partial = rejected > 0 || message !== '';
  if (encoding === 'json') {
    // int64 as a decimal string, as the JSON mapping writes it.
    return Buffer.from(JSON.stringify(partial ? { partialSuccess: { rejectedLogRecords: String(rejected), errorMessage: message } } : {}));
  }
  const { response } = otlpLogsTypes();
  return Buffer.from(response.encode(response.fromObject(partial ? { partialSuccess: { rejectedLogRecords: rejected, errorMessage: message } } : {})).finish());
}

/**
 * gRPC's code for an HTTP status. The spec says clients must not act on it (the HTTP status
 * decides), so it is informational; these are the codes gRPC-HTTP gateways use.
 */
export function grpcCode(httpStatus: number): number {
  switch (httpStatus) {
    case 400: return 3; // INVALID_ARGUMENT
    case 401: return 16; // UNAUTHENTICATED
    case 403: return 7; // PERMISSION_DENIED
    case 404: return 5; // NOT_FOUND
    case 405:
    case 415: return 12; // UNIMPLEMENTED
    case 413:
    case 429: return 8; // RESOURCE_EXHAUSTED
    case 503: return 14; // UNAVAILABLE
    case 504: return 4; // DEADLINE_EXCEEDED
    default: return httpStatus >= 500 ? 13 : 2; // INTERNAL : UNKNOWN
  }
}

/** The error body for `httpStatus`. */
export function encodeStatus(encoding: OtlpEncoding, httpStatus: number, message: string): Buffer {
  const code = grpcCode(httpStatus);
  if (encoding === 'json') return Buffer.from(JSON.stringify({ code, message }));
  const { status } = otlpLogsTypes();
  return Buffer.from(status.encode(status.fromObject({ code, message })).finish());
}
