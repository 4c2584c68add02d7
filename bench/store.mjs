#!/usr/bin/env node
// npm run bench:store [-- --lines 10000000 --engine duckdb[,clickhouse] --batch 20000 --concurrency 2 --ingest-only --reuse --only REGEX]
// Ingests genlogs data through the HTTP API of a real `loggy server` process, then times the
// queries users run, each the median of 5. Figures are printed next to the floor of reading
// the same lines from disk (`wc -l` over the source files, measured in the same run).
// `--engine clickhouse` runs the embedded engine too and prints both side by side; the
// ClickHouse engine gets a clickhouse-server of its own (Debian's package), started here.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    lines: { type: 'string', default: '10000000' },
    engine: { type: 'string', default: 'duckdb' },
    batch: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '2' },
    'ingest-only': { type: 'boolean', default: false },
    // Query an existing store from an earlier run of the same --lines (to iterate on queries).
    reuse: { type: 'boolean', default: false },
    only: { type: 'string' },
    mib: { type: 'string', default: '500' },
    dir: { type: 'string', default: join(repo, '.bench') },
    genlogs: { type: 'string', default: process.env.GENLOGS ?? resolve(repo, '../shared/bench/genlogs.py') },
  },
});
const target = Number(args.lines);
const batchSize = Number(args.batch);
const concurrency = Number(args.concurrency);

// Source data: the agent benchmark's CRI tree, replayed with shifted time until `lines`.
const tree = join(args.dir, `tree-cri-${args.mib}`);
if (!existsSync(join(tree, 'done.json'))) {
  mkdirSync(tree, { recursive: true });
  process.stderr.write(`generating ${args.mib} MiB CRI tree...\n`);
  const r = spawnSync('python3', [args.genlogs, tree, '--format', 'cri', '--pods', '20', '--mib', args.mib], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  writeFileSync(join(tree, 'done.json'), r.stdout);
}
const files = [];
const pods = join(tree, 'var/log/pods');
for (const p of readdirSync(pods)) for (const c of readdirSync(join(pods, p))) files.push({ path: join(pods, p, c, '0.log'), pod: p.split('_')[1], namespace: p.split('_')[0], container: c });

const t0 = process.hrtime.bigint();
spawnSync('wc', ['-l', ...files.map((f) => f.path)]);
const wcSecs = Number(process.hrtime.bigint() - t0) / 1e9;
const srcBytes = files.reduce((a, f) => a + statSync(f.path).size, 0);

// Servers: one per engine, one after the other, on the same encoded batches.
const engines = args.engine === 'clickhouse' ? ['duckdb', 'clickhouse'] : args.engine.split(',');

async function startStore(engine) {
  const work = join(args.dir, `store-${engine}`);
  const metaFile = join(work, `meta-${target}.json`);
  const reuse = args.reuse && existsSync(metaFile) && engine !== 'clickhouse';
  if (!reuse) {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
  }
  let clickhouse = null;
  let engineYaml = `engine:\n  type: ${engine}\n`;
  if (engine === 'clickhouse') {
    const { startClickHouse } = await import(join(repo, 'dist/sim/clickhouse-server.js'));
    mkdirSync(join(work, 'clickhouse'), { recursive: true });
    clickhouse = await startClickHouse(join(work, 'clickhouse'));
    engineYaml += `  clickhouse:\n    url: ${clickhouse.url}\n    user: ${clickhouse.user}\n    password: ${clickhouse.password}\n`;
  }
  const port = 31000 + Math.floor(Math.random() * 1000);
  writeFileSync(join(work, 'server.yaml'), `listen: 127.0.0.1:${port}\ndata_dir: ${work}/data\n${engineYaml}log_level: warn\nlimits:\n  reject_older_than: 0\n  max_query_lines: 5000\n`);
  const nodeArgs = (process.env.LOGGY_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean); // e.g. --cpu-prof
  const server = spawn(process.execPath, [...nodeArgs, join(repo, 'bin/loggy.js'), 'server', '--config', join(work, 'server.yaml')], { stdio: ['ignore', 'inherit', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if ((await fetch(`${base}/ready`).catch(() => null))?.ok) break;
    if (i > 200) throw new Error('server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = async () => {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
    await clickhouse?.stop();
  };
  // Disk: the server's data directory, and for ClickHouse its own.
  return { engine, work, metaFile, reuse, base, stop, diskDir: clickhouse ? join(work, 'clickhouse', 'data') : join(work, 'data') };
}

// Lines from the tree: CRI "ts stream F msg"; P chains are joined like the agent would.
function* readLines() {
  for (let pass = 0; ; pass++) {
    const shift = -BigInt(pass) * 86_400_000_000_000n; // each pass one day earlier (the future is refused)
    for (const f of files) {
      const text = readFileSync(f.path, 'utf8');
      let partial = '';
      for (const raw of text.split('\n')) {
        if (!raw) continue;
        const a = raw.indexOf(' '), b = raw.indexOf(' ', a + 1), c = raw.indexOf(' ', b + 1);
        const msg = raw.slice(c + 1);
        if (raw[b + 1] === 'P') { partial += msg; continue; }
        const ts = BigInt(Date.parse(raw.slice(0, 23) + 'Z')) * 1_000_000n + BigInt(raw.slice(23, 29)) + shift;
        yield { f, stream: raw.slice(a + 1, b), ts, line: partial + msg };
        partial = '';
      }
    }
  }
}

let n = 0;
let rawBytes = 0;
let minTs = null;
let maxTs = null;
const it = readLines();
let rare = [];
function nextBatch() {
  const streams = new Map();
  let k = 0;
  while (k < batchSize && n < target) {
    const { value } = it.next();
    let line = value.line;
    // A rare token: one request id per million lines, to time indexed needle search.
    if (n % 1_000_000 === 500_000) {
      const id = `rid-${n.toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
      rare.push(id);
      line += ` request_id=${id}`;
    }
    const key = `${value.f.path}|${value.stream}`;
    let s = streams.get(key);
    if (!s) streams.set(key, (s = { labels: { namespace: value.f.namespace, pod: value.f.pod, container: value.f.container, stream: value.stream }, entries: [] }));
    s.entries.push([value.ts.toString(), line]);
    if (minTs === null || value.ts < minTs) minTs = value.ts;
    if (maxTs === null || value.ts > maxTs) maxTs = value.ts;
    rawBytes += Buffer.byteLength(line);
    n++;
    k++;
  }
  return k ? gzipSync(JSON.stringify({ streams: [...streams.values()] }), { level: 1 }) : null;
}

// Encode every batch first: the timed part is the server's (an agent encodes on its own node).
const e0 = process.hrtime.bigint();
const bodies = [];
const anyMeta = engines.map((e) => join(args.dir, `store-${e}`, `meta-${target}.json`)).find((f) => args.reuse && existsSync(f));
if (anyMeta && engines.every((e) => e !== 'clickhouse')) ({ n, rawBytes, minTs, maxTs, rare } = JSON.parse(readFileSync(anyMeta, 'utf8'), (k, v) => (k === 'minTs' || k === 'maxTs' ? BigInt(v) : v)));
else for (let b = nextBatch(); b; b = nextBatch()) bodies.push(b);
const clientSecs = Number(process.hrtime.bigint() - e0) / 1e9;
if (bodies.length) process.stderr.write(`encoded ${n} lines in ${bodies.length} batches (${clientSecs.toFixed(1)} s, not timed)\n`);

async function runEngine(engine) {
const { work, metaFile, reuse, base, stop, diskDir } = await startStore(engine);
const ingestStart = process.hrtime.bigint();
let next = 0;
async function worker() {
  while (next < bodies.length) {
    const body = bodies[next++];
    for (;;) {
      const res = await fetch(`${base}/api/v1/push`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
      if (res.status === 429) { await new Promise((r) => setTimeout(r, 50)); continue; }
      if (!res.ok) throw new Error(`push: ${res.status} ${await res.text()}`);
      break;
    }
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const ingestSecs = Number(process.hrtime.bigint() - ingestStart) / 1e9;
if (!reuse) writeFileSync(metaFile, JSON.stringify({ n, rawBytes, minTs: String(minTs), maxTs: String(maxTs), rare }));

const stats = await (await fetch(`${base}/loki/api/v1/index/stats?query=${encodeURIComponent('{namespace=~".+"}')}&start=0&end=9000000000000000000`)).json();
const disk = (() => { let b = 0; const walk = (d) => { if (!existsSync(d)) return; for (const e of readdirSync(d, { withFileTypes: true })) { const p = join(d, e.name); if (e.isDirectory()) walk(p); else b += statSync(p).size; } }; walk(diskDir); return b; })();

// Time range of the data.
const first = minTs;
const last = maxTs + 1n;
const tenth = first + (last - first) / 10n;
async function timed(name, path, runs = 5) {
  const times = [];
  let summary = '';
  for (let i = 0; i < runs; i++) {
    const s = process.hrtime.bigint();
    const res = await fetch(`${base}${path}`);
    const body = await res.json();
    times.push(Number(process.hrtime.bigint() - s) / 1e6);
    if (!res.ok) throw new Error(`${name}: ${res.status} ${JSON.stringify(body)}`);
    const r = body.data?.result ?? [];
    summary = body.data?.resultType === 'streams' ? `${r.reduce((a, x) => a + x.values.length, 0)} lines` : `${r.length} series`;
  }
  times.sort((a, b) => a - b);
  return { name: runs === 5 ? `${name} (median of 5)` : `${name} (${runs} run)`, ms: times[Math.floor(runs / 2)], summary };
}
const q = (query, extra = '') => `/loki/api/v1/query_range?query=${encodeURIComponent(query)}&start=${first}&end=${last}${extra}`;
const queries = [
  ['substring, all lines', q('{namespace=~".+"} |= "timeout retry"', '&limit=100')],
  ['substring, one namespace, 10% window', `/loki/api/v1/query_range?query=${encodeURIComponent(`{namespace="${files[0].namespace}"} |= "timeout retry"`)}&start=${first}&end=${tenth}&limit=100`],
  ['newest 100 lines of one pod', q(`{pod="${files[0].pod}"}`, '&limit=100')],
  // Level histogram as Grafana's logs volume asks for it: by the level detected at ingest.
  ['sum by (detected_level) (count_over_time [1m])', q('sum by (detected_level) (count_over_time({namespace=~".+"} [1m]))', '&step=60s')],
  // The same from logfmt-parsed `level`: every line parsed in JS (one run; it is slow by nature).
  ['sum by (level) (count_over_time(... | logfmt [1m]))', q('sum by (level) (count_over_time({namespace=~".+"} | logfmt | level=~".+" [1m]))', '&step=60s'), 1],
  ['rare token (1 in a million)', q(`{namespace=~".+"} |= "${rare[0] ?? 'none'}"`, '&limit=100')],
];
const results = [];
// --only REGEX: time just the queries whose name matches.
if (!args['ingest-only']) for (const [name, path, runs] of queries) if (!args.only || new RegExp(args.only).test(name)) results.push(await timed(name, path, runs));
await stop();
return { engine, reuse, ingestSecs, disk, stats, results, work };
}

const runs = [];
for (const engine of engines) runs.push(await runEngine(engine));

const mib = rawBytes / 1048576;
console.log(`\n${n} lines, ${mib.toFixed(0)} MiB of line text (wc -l over the ${(srcBytes / 1048576).toFixed(0)} MiB source: ${(wcSecs * 1000).toFixed(0)} ms)`);
console.log(`| figure | ${runs.map((r) => r.engine).join(' | ')} |\n|---|${runs.map(() => '---').join('|')}|`);
const row = (name, cell) => console.log(`| ${name} | ${runs.map(cell).join(' | ')} |`);
row(`ingest lines/s (HTTP, gzip JSON, ${concurrency} clients)`, (r) => (r.reuse ? '(reused)' : (n / r.ingestSecs).toFixed(0)));
row('ingest MiB/s', (r) => (r.reuse ? '(reused)' : (mib / r.ingestSecs).toFixed(1)));
row('ingest time / wc -l time', (r) => (r.reuse ? '(reused)' : `${(r.ingestSecs / wcSecs).toFixed(0)}×`));
row('disk bytes per raw byte', (r) => (r.disk / rawBytes).toFixed(3));
row('stored entries (index/stats)', (r) => String(r.stats.entries));
for (const [i, q] of (runs[0]?.results ?? []).entries()) row(q.name, (r) => (r.results[i] ? `${r.results[i].ms.toFixed(0)} ms (${r.results[i].summary})` : '-'));
