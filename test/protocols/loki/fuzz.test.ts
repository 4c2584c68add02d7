import { gzipSync } from 'node:zlib';
import { compressSync } from 'snappy';
import { describe, expect, it } from 'vitest';
import {
  decodePush,
  decodePushRequest,
  encodePush,
  encodePushRequest,
  PushDecodeError,
  type PushHeaders,
} from '../../../src/protocols/loki/index.js';
import { randomBytes, rng, sampleStreams } from './helpers.js';

/** Decoding must either succeed or throw a PushDecodeError from a deliberate check. */
function expectOnlyPushDecodeError(err: unknown): void {
  if (!(err instanceof PushDecodeError)) throw new Error(`non-PushDecodeError thrown: ${String(err)}`, { cause: err });
  expect([400, 413, 415]).toContain(err.status);
  // The catch-all in decodePush must never be what produced the error.
  expect(err.message).not.toMatch(/^malformed push request/);
}

function syncDecode(buf: Buffer): void {
  try {
    const out = decodePushRequest(buf, { maxEntries: 10_000 });
    expect(Array.isArray(out)).toBe(true);
  } catch (err) {
    expectOnlyPushDecodeError(err);
  }
}

async function asyncDecode(buf: Buffer, headers: PushHeaders): Promise<void> {
  try {
    const out = await decodePush(buf, headers, { maxEntries: 10_000, maxBytes: 1 << 20 });
    expect(Array.isArray(out)).toBe(true);
  } catch (err) {
    expectOnlyPushDecodeError(err);
  }
}

const HEADERS: PushHeaders[] = [
  {},
  { contentType: 'application/x-protobuf' },
  { contentType: 'application/x-protobuf', contentEncoding: 'snappy' },
  { contentType: 'application/x-protobuf', contentEncoding: 'gzip' },
  { contentType: 'application/x-protobuf', contentEncoding: 'deflate' },
  { contentType: 'application/x-protobuf', contentEncoding: 'br' },
  { contentType: 'application/json' },
  { contentType: 'application/json', contentEncoding: 'gzip' },
  { contentType: 'text/plain' },
];

const valid = encodePushRequest(sampleStreams());

describe('fuzz: only PushDecodeError escapes', () => {
  it('random bytes under every header combination', async () => {
    const r = rng(1);
    for (let i = 0; i < 400; i++) {
      const body = randomBytes(r, Math.floor(r() * 300));
      for (const h of HEADERS) await asyncDecode(body, h);
    }
  });

  it('random bytes behind valid compression layers', async () => {
    const r = rng(2);
    for (let i = 0; i < 300; i++) {
      const body = randomBytes(r, Math.floor(r() * 300));
      await asyncDecode(compressSync(body), { contentType: 'application/x-protobuf' });
      await asyncDecode(gzipSync(compressSync(body)), { contentType: 'application/x-protobuf', contentEncoding: 'gzip' });
      await asyncDecode(gzipSync(body), { contentType: 'application/json', contentEncoding: 'gzip' });
    }
  });

  it('every truncation of a valid protobuf request, raw and snappy', async () => {
    for (let n = 0; n < valid.length; n++) {
      const cut = valid.subarray(0, n);
      syncDecode(cut);
      await asyncDecode(compressSync(cut), { contentType: 'application/x-protobuf' });
    }
    const snappy = compressSync(valid);
    for (let n = 0; n < snappy.length; n++) await asyncDecode(snappy.subarray(0, n), { contentType: 'application/x-protobuf' });
  });

  it('byte mutations of a valid protobuf request (flips, wire-type changes, inserts, deletes)', () => {
    const r = rng(3);
    for (let i = 0; i < 5000; i++) {
      const b = Buffer.from(valid);
      const edits = 1 + Math.floor(r() * 4);
      let buf = b;
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(r() * buf.length);
        const kind = r();
        if (kind < 0.3) buf[at] = (r() * 256) | 0;
        else if (kind < 0.6) buf[at] = (buf[at]! & ~7) | ((r() * 8) | 0); // wire type
        else if (kind < 0.8) buf = Buffer.concat([buf.subarray(0, at), randomBytes(r, 1 + Math.floor(r() * 4)), buf.subarray(at)]);
        else buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1 + Math.floor(r() * 3))]);
      }
      syncDecode(buf);
    }
  });

  it('mutations of a valid JSON request', async () => {
    const r = rng(4);
    const text = encodePush(sampleStreams(), { format: 'json' }).body.toString('utf8');
    const pieces = ['"', '[', ']', '{', '}', ',', ':', '1', '-1', 'null', 'true', '"x"', '{}', '[]', '1e400', '"\\u0000"', '"\\ud800"', '0.5'];
    for (let i = 0; i < 2000; i++) {
      let t = text;
      for (let e = 1 + Math.floor(r() * 3); e > 0; e--) {
        const at = Math.floor(r() * t.length);
        const piece = pieces[Math.floor(r() * pieces.length)]!;
        t = r() < 0.5 ? t.slice(0, at) + piece + t.slice(at + 1) : t.slice(0, at) + piece + t.slice(at);
      }
      await asyncDecode(Buffer.from(t), { contentType: 'application/json' });
    }
  });

  it('random JSON values in every position', async () => {
    const r = rng(5);
    const randomValue = (depth: number): unknown => {
      const k = Math.floor(r() * (depth > 2 ? 6 : 8));
      switch (k) {
        case 0: return null;
        case 1: return r() < 0.5;
        case 2: return Math.floor(r() * 1e12) * (r() < 0.5 ? -1 : 1);
        case 3: return String(Math.floor(r() * 1e19));
        case 4: return ['', 'x', '__proto__', 'constructor', 'a-b', '9'][Math.floor(r() * 6)];
        case 5: return 'line';
        case 6: return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(depth + 1));
        default: {
          const o: Record<string, unknown> = {};
          for (let n = Math.floor(r() * 3); n > 0; n--) o[['app', 'stream', 'values', '__proto__', 'x.y', 'toString'][Math.floor(r() * 6)]!] = randomValue(depth + 1);
          return o;
        }
      }
    };
    for (let i = 0; i < 3000; i++) {
      const doc = {
        streams: [
          {
            stream: r() < 0.7 ? { app: 'web' } : randomValue(1),
            values: r() < 0.5 ? [[String(i), 'l'], [randomValue(2), randomValue(2), randomValue(2)]] : randomValue(1),
          },
        ],
      };
      await asyncDecode(Buffer.from(JSON.stringify(doc)), { contentType: 'application/json' });
    }
  });
});
