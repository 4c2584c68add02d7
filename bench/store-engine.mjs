#!/usr/bin/env node
// npx tsc -p tsconfig.build.json && node bench/store-engine.mjs [--rows 1000000] [--batch 10000] [--dir .bench/store]
// Micro-benchmark of the DuckDB store engine: appends genlogs-like rows (20 streams, mixed
// line formats, spread over 24 h across a day boundary) and times three typical queries.
import { rmSync, mkdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '5' },
    dir: { type: 'string', default: join(repo, '.bench/store') },
  },
});
const { openDuckDbEngine } = await import(join(repo, 'dist/store/duckdb/index.js'));

const ROWS = Number(args.rows);
const BATCH = Number(args.batch);
const RUNS = Number(args.runs);
const NS_PER_MS = 1_000_000n;
// 2026-11-21T12:00Z .. +24h: two daily partitions.
const T0 = BigInt(Date.UTC(2026, 10, 21, 12)) * NS_PER_MS;
const SPAN_NS = 24n * 3600n * 1000n * NS_PER_MS;

// Deterministic PRNG so runs are comparable.
let seed = 12345;
const rnd = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];

const APPS = ['checkout', 'cart', 'orders', 'search', 'auth'];
const LEVELS = ['info', 'debug', 'warn', 'error'];
const STREAMS = APPS.flatMap((app, i) =>
  LEVELS.map((level) => ({ namespace: i < 3 ? 'shop' : 'platform', pod: `${app}-7d9f8-${i}x${i}q`, container: app, level })),
);
const PATHS = ['/api/v1/items', '/api/v1/cart', '/checkout', '/healthz', '/metrics', '/api/v1/orders', '/login', '/search?q=shoes&page=2'];
const USERS = ['alice', 'bob', 'José', 'Zoë', 'mallory', '田中'];
const MSGS = ['request handled', 'cache miss', 'upstream timeout', 'retrying', 'connection reset by peer', 'slow query'];

function line(labels, tsMs, n) {
  const iso = new Date(tsMs).toISOString();
  const msg = pick(MSGS);
  switch (n % 4) {
    case 0:
      return JSON.stringify({ ts: iso, level: labels.level, msg, path: pick(PATHS), user: pick(USERS), status: pick([200, 200, 201, 404, 500]), latency_ms: Math.floor(rnd() * 900), seq: n });
    case 1:
      return `ts=${iso} level=${labels.level} msg="${msg}" method=GET path=${pick(PATHS)} user=${pick(USERS)} duration=${Math.floor(rnd() * 900)}ms seq=${n}`;
    case 2:
      return `I${iso.slice(5, 7)}${iso.slice(8, 10)} ${iso.slice(11, 23)}  1 controller.go:118] "${msg}" pod="${labels.pod}" attempt=${Math.floor(rnd() * 5)} seq=${n}`;
    default:
      return `${iso} ${labels.level.toUpperCase()} [http-nio-8080-exec-3] c.e.shop.${labels.container}Controller - ${msg} for ${pick(USERS)} in ${Math.floor(rnd() * 900)} ms (seq ${n})`;
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

async function timeIt(name, fn) {
  const times = [];
  let result;
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    result = await fn();
    times.push(ms(t0));
  }
  console.log(`${name.padEnd(44)} first ${times[0].toFixed(1).padStart(8)} ms   median ${median(times).toFixed(1).padStart(8)} ms   (${result})`);
}

rmSync(args.dir, { recursive: true, force: true });
mkdirSync(args.dir, { recursive: true });
let engine = await openDuckDbEngine({ dataDir: args.dir });

// Generate all batches up front so the timing covers the engine, not the generator.
const batches = [];
let rawBytes = 0;
for (let b = 0; b < ROWS / BATCH; b++) {
  const rows = [];
  for (let i = 0; i < BATCH; i++) {
    const n = b * BATCH + i;
    const tsNs = T0 + (SPAN_NS * BigInt(n)) / BigInt(ROWS);
    const labels = STREAMS[Math.floor(rnd() * STREAMS.length)];
    const l = line(labels, Number(tsNs / NS_PER_MS), n);
    rawBytes += Buffer.byteLength(l);
    rows.push({ tsNs, labels, line: l });
  }
  batches.push(rows);
}

const t0 = process.hrtime.bigint();
const lat = [];
for (const [b, rows] of batches.entries()) {
  const t = process.hrtime.bigint();
  await engine.append('bench', rows, [{ source: 'bench|stdout', offset: (b + 1) * BATCH }]);
  lat.push(ms(t));
}
const appendMs = ms(t0);
console.log(`append: ${ROWS} rows in ${(appendMs / 1000).toFixed(2)} s = ${Math.round(ROWS / (appendMs / 1000))} rows/s, ${(rawBytes / 1048576 / (appendMs / 1000)).toFixed(1)} MiB/s raw; per ${BATCH}-row batch median ${median(lat).toFixed(1)} ms, max ${Math.max(...lat).toFixed(1)} ms`);

// Close (checkpoints the WAL into the file) and reopen, so disk bytes are the settled size.
await engine.close();
engine = await openDuckDbEngine({ dataDir: args.dir });
const stats = await engine.stats();
console.log(`disk: ${stats.diskBytes} bytes for ${stats.rawBytes} raw line bytes = ${(stats.diskBytes / stats.rawBytes).toFixed(3)} disk bytes per raw byte (${stats.partitions} partitions, ${stats.streams} streams)`);

const all = { tenant: 'bench', matchers: [{ name: 'namespace', op: '=~', value: '.+' }], startNs: T0, endNs: T0 + SPAN_NS, lineFilters: [], direction: 'forward' };
await timeIt('substring filter |= "upstream timeout", all', async () => {
  let n = 0;
  for await (const batch of engine.scan({ ...all, lineFilters: [{ op: '|=', value: 'upstream timeout' }] })) n += batch.length;
  return `${n} rows`;
});
await timeIt('rare substring |= "seq=777777", all', async () => {
  let n = 0;
  for await (const batch of engine.scan({ ...all, lineFilters: [{ op: '|=', value: 'seq=777777' }] })) n += batch.length;
  return `${n} rows`;
});
await timeIt('regex filter |~ "user=(José|Zoë)", all', async () => {
  let n = 0;
  for await (const batch of engine.scan({ ...all, lineFilters: [{ op: '|~', value: 'user=(José|Zoë)' }] })) n += batch.length;
  return `${n} rows`;
});
await timeIt('newest 100 of one stream', async () => {
  let n = 0;
  const q = { ...all, matchers: [{ name: 'container', op: '=', value: 'cart' }, { name: 'level', op: '=', value: 'error' }], direction: 'backward', limit: 100 };
  for await (const batch of engine.scan(q)) n += batch.length;
  return `${n} rows`;
});
await timeIt('count by level per minute, all', async () => {
  const series = await engine.count({ ...all, stepNs: 60n * 1000n * NS_PER_MS, by: ['level'] });
  return `${series.length} series x ${series[0]?.points.length} buckets`;
});
await timeIt('labelValues(pod), all', async () => `${(await engine.labelValues('bench', 'pod', all.startNs, all.endNs)).length} values`);
await engine.close();
