// Loki push codec micro-benchmark: 100k entries in 20 streams (≈120-byte lines, 10% with
// structured metadata), encode and decode in every format, median of several runs on one core.
// Reports wall time and process CPU time (CPU is steadier on a shared machine; it includes GC
// helper threads and, for async snappy/zlib, the libuv pool). Lines are flat strings, as the
// agent's framer produces (Buffer#toString), not rope strings from concatenation.
//   npx tsc -p tsconfig.build.json && node bench/loki-codec.mjs [entries] [streams] [runs]
import {
  decodePush,
  decodePushRequest,
  encodePush,
  encodePushRequest,
  pushRequestType,
} from '../dist/protocols/loki/index.js';

const ENTRIES = Number(process.argv[2] ?? 100_000);
const STREAMS = Number(process.argv[3] ?? 20);
const RUNS = Number(process.argv[4] ?? 9);

let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
const words = 'the quick brown fox jumps over lazy dog request served user cache miss timeout retry ok handler db query latency'.split(' ');
const text = (n) => {
  let s = '';
  while (s.length < n) s += words[(rnd() * words.length) | 0] + ' ';
  return s.slice(0, n);
};

const streams = [];
let ts = 1_700_000_000_000_000_000n;
for (let s = 0; s < STREAMS; s++) {
  streams.push({
    labels: { app: `app-${s}`, namespace: 'shop', pod: `app-${s}-7d9f8c6b5-x${s}k2p`, container: 'main', stream: 'stdout' },
    entries: [],
  });
}
for (let i = 0; i < ENTRIES; i++) {
  ts += BigInt(1 + ((rnd() * 1e6) | 0));
  const e = rnd() < 0.5
    ? { tsNs: ts, line: `level=info msg="${text(60 + ((rnd() * 40) | 0))}" n=${(rnd() * 1e6) | 0}` }
    : { tsNs: ts, line: JSON.stringify({ level: 'info', caller: 'server/handler.go:123', msg: text(50 + ((rnd() * 40) | 0)), status: 200 }) };
  e.line = Buffer.from(e.line).toString(); // flat string, like lines read from files
  if (rnd() < 0.1) e.metadata = { trace_id: (rnd() * 2 ** 52).toString(16), span_id: (rnd() * 2 ** 32).toString(16) };
  streams[i % STREAMS].entries.push(e);
}

async function measure(name, fn) {
  const wall = [];
  const cpu = [];
  let out;
  for (let r = 0; r < RUNS + 2; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    out = await fn();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const c = process.cpuUsage(c0);
    if (r >= 2) {
      // two warm-up runs
      wall.push(ms);
      cpu.push((c.user + c.system) / 1000);
    }
  }
  const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
  const w = med(wall);
  const size = Buffer.isBuffer(out) ? out.length : out?.body?.length;
  console.log(
    `${name.padEnd(40)} wall ${w.toFixed(1).padStart(6)} ms (min ${wall[0].toFixed(1).padStart(5)})  cpu ${med(cpu).toFixed(1).padStart(6)} ms  ` +
      `${Math.round(ENTRIES / (w / 1000)).toLocaleString('en-US').padStart(10)} entries/s` +
      (size ? `  ${(size / 1024 / 1024).toFixed(2)} MiB` : ''),
  );
  return out;
}

console.log(`${ENTRIES} entries in ${STREAMS} streams, median of ${RUNS} runs (node ${process.version})`);
const raw = await measure('encodePushRequest (protobuf, raw)', () => encodePushRequest(streams));
const pbSnappy = await measure('encodePush protobuf+snappy', () => encodePush(streams, { format: 'protobuf' }));
await measure('encodePush protobuf+snappy+gzip(1)', () => encodePush(streams, { format: 'protobuf', compress: 'gzip' }));
const json = await measure('encodePush json', () => encodePush(streams, { format: 'json' }));
const jsonGz = await measure('encodePush json+gzip(1)', () => encodePush(streams, { format: 'json', compress: 'gzip' }));

const T = pushRequestType();
const asReflect = () => ({
  streams: streams.map((s) => ({
    labels: `{${Object.keys(s.labels).sort().map((k) => `${k}="${s.labels[k]}"`).join(', ')}}`,
    entries: s.entries.map((e) => ({
      timestamp: { seconds: Number(e.tsNs / 1_000_000_000n), nanos: Number(e.tsNs % 1_000_000_000n) },
      line: e.line,
      structuredMetadata: e.metadata ? Object.entries(e.metadata).map(([name, value]) => ({ name, value })) : [],
    })),
  })),
});
await measure('(reference) protobufjs reflection encode', () => T.encode(asReflect()).finish());

await measure('decodePushRequest (protobuf, raw)', () => decodePushRequest(raw));
await measure('decodePush protobuf+snappy', () => decodePush(pbSnappy.body, { contentType: 'application/x-protobuf' }));
await measure('decodePush json', () => decodePush(json.body, { contentType: 'application/json' }));
await measure('decodePush json+gzip', () => decodePush(jsonGz.body, { contentType: 'application/json', contentEncoding: 'gzip' }));
await measure('(reference) protobufjs reflection decode', () => T.decode(raw));
