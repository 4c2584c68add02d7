// Framer throughput micro-benchmark: generates ~100 MiB of CRI and of Docker json-file
// lines in memory and frames them in 256 KiB chunks on one core.
//   npx tsc -p tsconfig.build.json && node bench/framer-micro.mjs [MiB] [chunkKiB]
// Env: LONG=<fraction of 20–40 KB lines, default 0.0005>, ML=java|python|go (multiline preset).
import { createFramer } from '../dist/formats/index.js';

const TARGET = Number(process.argv[2] ?? 100) * 1024 * 1024;
const CHUNK = Number(process.argv[3] ?? 256) * 1024;
const REC_MAX = 16 * 1024;

let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
const words = 'the quick brown fox jumps over lazy dog request served user cache miss timeout retry ok handler db query latency'.split(' ');
const text = (bytes) => {
  let s = '';
  while (s.length < bytes) s += words[(rnd() * words.length) | 0] + ' ';
  return s.slice(0, bytes);
};

const ML = process.env.ML || null;
const LONG = Number(process.env.LONG ?? 0.0005);
/** One logical message: ~100-byte text, ~150-byte JSON app line, or (LONG, default 0.05%) a 20–40 KB line. */
function message() {
  const r = rnd();
  if (r < LONG) return text(20000 + ((rnd() * 20000) | 0));
  if (r < 0.5) return `level=info msg="${text(60 + ((rnd() * 40) | 0))}" n=${(rnd() * 1e6) | 0}`;
  return JSON.stringify({ level: 'info', ts: 1700000000.123, caller: 'server/handler.go:123', msg: text(50 + ((rnd() * 40) | 0)), status: 200, path: '/api/v1/items' });
}

let ns = 1_700_000_000_000_000_000n;
function criTs() {
  ns += BigInt(1 + ((rnd() * 1e6) | 0));
  const sec = ns / 1_000_000_000n;
  return `${new Date(Number(sec) * 1000).toISOString().slice(0, 19)}.${String(ns % 1_000_000_000n).padStart(9, '0')}Z`;
}
const stream = () => (rnd() < 0.8 ? 'stdout' : 'stderr');
// Go's encoder escapes <>& too.
const goJson = (s) => JSON.stringify(s).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);

function gen(format) {
  const parts = [];
  let size = 0;
  let logical = 0;
  while (size < TARGET) {
    const msg = Buffer.from(message());
    const ts = criTs();
    const st = stream();
    logical++;
    for (let at = 0; at < msg.length || at === 0; at += REC_MAX) {
      const end = Math.min(at + REC_MAX, msg.length);
      const last = end === msg.length;
      const piece = msg.toString('utf8', at, end);
      const rec = format === 'cri'
        ? `${ts} ${st} ${last ? 'F' : 'P'} ${piece}\n`
        : `{"log":${goJson(last ? `${piece}\n` : piece)},"stream":"${st}","time":"${ts}"}\n`;
      parts.push(rec);
      size += rec.length;
      if (last) break;
    }
  }
  return { buf: Buffer.from(parts.join('')), logical };
}

function run(format, data, rounds = 5) {
  const chunk = Buffer.allocUnsafe(CHUNK);
  let best = Infinity;
  let events = 0;
  for (let r = 0; r < rounds; r++) {
    const f = createFramer({ format: 'auto', maxLineBytes: 256 * 1024, multiline: ML ? { preset: ML, flushMs: 1000 } : null });
    let out = [];
    events = 0;
    const t0 = process.hrtime.bigint();
    for (let off = 0; off < data.buf.length; off += CHUNK) {
      const n = data.buf.copy(chunk, 0, off, off + CHUNK); // like a read() into a reused buffer
      f.push(chunk.subarray(0, n), off, out);
      events += out.length;
      out = [];
    }
    f.flush(out, Date.now(), true);
    events += out.length;
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    if (dt < best) best = dt;
    if (f.format !== format) throw new Error(`detected ${f.format}`);
    if (f.stats.malformed !== 0) throw new Error(`malformed ${f.stats.malformed}`);
  }
  if (events !== data.logical) throw new Error(`${format}: ${events} events, expected ${data.logical}`);
  const mib = data.buf.length / 1048576;
  console.log(`${format.padEnd(6)}${ML ? ` ml=${ML}` : ''} ${mib.toFixed(0)} MiB  ${(events / 1e6).toFixed(2)}M events  best ${(best * 1000).toFixed(0)} ms  ${(mib / best).toFixed(0)} MiB/s  ${(events / best / 1e6).toFixed(2)}M ev/s`);
}

for (const format of ['cri', 'docker']) run(format, gen(format));
