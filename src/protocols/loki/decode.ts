/**
 * Server side of `POST /loki/api/v1/push`: turns a request body plus its Content-Type and
 * Content-Encoding into validated streams. Throws only `PushDecodeError`:
 * - 415 for an unsupported Content-Type or Content-Encoding,
 * - 413 for more than `maxEntries` entries or a body over `maxBytes` once decompressed,
 * - 400 for everything malformed, with the location in the message.
 *
 * Content-Type: `application/json`, or `application/x-protobuf` (also `application/protobuf`);
 * parameters such as `charset` are ignored. No Content-Type means protobuf, as in Loki.
 * Protobuf bodies are a snappy block (mandatory in Loki); leniently, a body that is not valid
 * snappy is tried as an uncompressed PushRequest. Content-Encoding gzip/deflate/br is undone
 * first (so gzip over snappy works, as with Loki); `snappy` as a Content-Encoding is accepted.
 */
import { decodeContentEncoding, normalizeContentEncoding, snappyUncompress } from './compression.js';
import { PushDecodeError } from './errors.js';
import { decodeJsonPush } from './json.js';
import { decodePushRequest } from './proto-decode.js';
import { DEFAULT_MAX_BYTES, type PushDecodeLimits, type PushStream } from './types.js';

export interface PushHeaders {
  contentType?: string;
  contentEncoding?: string;
}

export type PushBodyFormat = 'json' | 'protobuf';

/** The body format a Content-Type selects; throws a 415 PushDecodeError for anything else. */
export function pushBodyFormat(contentType: string | undefined): PushBodyFormat {
  const media = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  switch (media) {
    case 'application/json':
      return 'json';
    case '':
    case 'application/x-protobuf':
    case 'application/protobuf':
      return 'protobuf';
    default:
      throw new PushDecodeError(
        `unsupported Content-Type "${contentType}": expected application/json or application/x-protobuf`,
        415,
      );
  }
}

export async function decodePush(body: Uint8Array, headers: PushHeaders, limits: PushDecodeLimits = {}): Promise<PushStream[]> {
  try {
    return await decodePushUnchecked(body, headers, limits);
  } catch (err) {
    if (err instanceof PushDecodeError) throw err;
    // Not expected: every failure path above throws PushDecodeError. Kept so a bug here still
    // answers 400 instead of 500 and the contract "only PushDecodeError" holds.
    throw new PushDecodeError(`malformed push request: ${err instanceof Error ? err.message : String(err)}`, 400, {
      cause: err,
    });
  }
}

async function decodePushUnchecked(input: Uint8Array, headers: PushHeaders, limits: PushDecodeLimits): Promise<PushStream[]> {
  const body = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const format = pushBodyFormat(headers.contentType);
  const encoding = normalizeContentEncoding(headers.contentEncoding);
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  let data = await decodeContentEncoding(body, encoding, maxBytes);

  if (format === 'json') {
    if (encoding === 'snappy') data = await snappyUncompress(data, maxBytes);
    return decodeJsonPush(data, limits);
  }

  let raw: Buffer | undefined;
  let snappyError: PushDecodeError | undefined;
  try {
    raw = await snappyUncompress(data, maxBytes);
  } catch (err) {
    if (!(err instanceof PushDecodeError) || err.status !== 400) throw err;
    snappyError = err;
  }
  if (raw !== undefined) {
    try {
      return decodePushRequest(raw, limits);
    } catch (err) {
      // Valid snappy but no PushRequest inside: perhaps an uncompressed PushRequest that happens
      // to parse as snappy. If that fails too, report the snappy-path error.
      if (!(err instanceof PushDecodeError) || err.status !== 400) throw err;
      try {
        return decodePushRequest(data, limits);
      } catch {
        throw err;
      }
    }
  }
  try {
    return decodePushRequest(data, limits);
  } catch (err) {
    if (!(err instanceof PushDecodeError) || err.status !== 400) throw err;
    throw new PushDecodeError(`${snappyError?.message}; the body is not an uncompressed PushRequest either (${err.message})`, 400);
  }
}
