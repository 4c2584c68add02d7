/**
 * Body decompression for pushes: HTTP Content-Encoding (gzip, deflate — zlib-wrapped or raw —,
 * br, identity) and Loki's raw snappy block format (not the framed format). Every layer is capped
 * at `maxBytes` of output; snappy's declared length is checked before anything is allocated.
 */
import { constants as bufferConstants } from 'node:buffer';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { uncompress as snappyUncompressNative } from 'snappy';
import { PushDecodeError } from './errors.js';

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);
const brotliDecompress = promisify(zlib.brotliDecompress);

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function tooLarge(maxBytes: number, what: string): PushDecodeError {
  return new PushDecodeError(`${what} is over ${maxBytes} bytes once decompressed (maxBytes)`, 413);
}

/** Normalised Content-Encoding: '' for identity, else the lower-case single coding. */
export function normalizeContentEncoding(contentEncoding: string | undefined): string {
  if (contentEncoding === undefined) return '';
  const codings = contentEncoding
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (codings.length > 1) {
    throw new PushDecodeError(`unsupported Content-Encoding "${contentEncoding}": expected a single coding`, 415);
  }
  const c = codings[0] ?? '';
  return c === 'x-gzip' ? 'gzip' : c;
}

/**
 * Undoes an HTTP Content-Encoding ('' = identity). `snappy` is returned as-is: for protobuf
 * bodies snappy is part of the format and handled by the caller.
 */
export async function decodeContentEncoding(body: Buffer, encoding: string, maxBytes: number): Promise<Buffer> {
  const opts = { maxOutputLength: Math.max(1, Math.min(maxBytes, bufferConstants.MAX_LENGTH)) };
  let out: Buffer;
  try {
    switch (encoding) {
      case '':
      case 'snappy':
        out = body;
        break;
      case 'gzip':
        out = await gunzip(body, opts);
        break;
      case 'deflate':
        // HTTP says zlib-wrapped; Go's (and so Loki's clients') "deflate" is often raw DEFLATE.
        out = looksLikeZlib(body) ? await inflate(body, opts) : await inflateRaw(body, opts);
        break;
      case 'br':
        out = await brotliDecompress(body, opts);
        break;
      default:
        throw new PushDecodeError(
          `unsupported Content-Encoding "${encoding}": expected gzip, deflate, br, snappy or identity`,
          415,
        );
    }
  } catch (err) {
    if (err instanceof PushDecodeError) throw err;
    if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(maxBytes, `${encoding} body`);
    throw new PushDecodeError(`invalid ${encoding} body: ${errMessage(err)}`, 400, { cause: err });
  }
  if (out.length > maxBytes) {
    throw encoding === '' || encoding === 'snappy'
      ? new PushDecodeError(`body is ${out.length} bytes, more than maxBytes ${maxBytes}`, 413)
      : tooLarge(maxBytes, `${encoding} body`);
  }
  return out;
}

function looksLikeZlib(b: Buffer): boolean {
  return b.length >= 2 && (b[0]! & 0x0f) === 8 && (b[0]! >> 4) <= 7 && ((b[0]! << 8) | b[1]!) % 31 === 0;
}

/**
 * The uncompressed length a snappy block declares (its varint header), or -1 if the header is
 * malformed.
 */
export function snappyDeclaredLength(block: Buffer): number {
  let v = 0;
  for (let i = 0; i < 5 && i < block.length; i++) {
    const b = block[i]!;
    v += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return v > 0xffffffff ? -1 : v;
  }
  return -1;
}

/** Uncompresses a raw snappy block. Throws PushDecodeError "invalid snappy block: …" or 413. */
export async function snappyUncompress(block: Buffer, maxBytes: number): Promise<Buffer> {
  const declared = snappyDeclaredLength(block);
  if (declared < 0) throw new PushDecodeError('invalid snappy block: malformed length header', 400);
  if (declared > maxBytes) {
    throw new PushDecodeError(`snappy block declares ${declared} bytes uncompressed, more than maxBytes ${maxBytes}`, 413);
  }
  let out: string | Buffer;
  try {
    out = await snappyUncompressNative(block, { asBuffer: true });
  } catch (err) {
    throw new PushDecodeError(`invalid snappy block: ${errMessage(err).replace(/^snappy: /, '')}`, 400, { cause: err });
  }
  return Buffer.isBuffer(out) ? out : Buffer.from(out);
}
