#!/usr/bin/env node
// npm run bench:agent [-- --mib 500 --runs 1 --formats cri,docker --sinks blackhole,file]
// Tails genlogs.py trees from start until drained and prints throughput next to floors
// measured in the same run on the same files (cat, wc -l).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    mib: { type: 'string', default: '500' },
    runs: { type: 'string', default: '1' },
    formats: { type: 'string', default: 'cri,docker' },
    sinks: { type: 'string', default: 'blackhole,file' },
    dir: { type: 'string', default: join(repo, '.bench') },
    genlogs: { type: 'string', default: process.env.GENLOGS ?? resolve(repo, '../shared/bench/genlogs.py') },
  },
});
const mib = Number(args.mib);
const runs = Number(args.runs);

function tree(format) {
  const root = join(args.dir, `tree-${format}-${mib}`);
  if (!existsSync(join(root, 'done.json'))) {
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    process.stderr.write(`generating ${mib} MiB ${format} tree in ${root}...\n`);
    const r = spawnSync('python3', [args.genlogs, root, '--format', format, '--pods', '20', '--mib', String(mib)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`genlogs failed: ${r.stderr}`);
    writeFileSync(join(root, 'done.json'), r.stdout);
  }
  return root;
}

function logFiles(root) {
  const out = [];
  const pods = join(root, 'var/log/pods');
  for (const p of readdirSync(pods)) for (const c of readdirSync(join(pods, p))) for (const f of readdirSync(join(pods, p, c))) out.push(join(pods, p, c, f));
  return out;
}

function measure(cmd) {
  const r = spawnSync('python3', [join(repo, 'bench/measure.py'), ...cmd], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const line = r.stderr.split('\n').reverse().find((l) => l.startsWith('MEASURE '));
  if (!line) throw new Error(`measure failed: ${r.stderr.slice(-2000)}`);
  const m = JSON.parse(line.slice(8));
  if (m.rc !== 0) throw new Error(`${cmd.join(' ')} exited ${m.rc}: ${r.stderr.slice(-2000)}`);
  return { ...m, stderr: r.stderr };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function runAgent(root, sink) {
  const work = join(args.dir, `run-${sink}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const out = join(work, 'out.ndjson');
  const sinkCfg = sink === 'file' ? `    type: file\n    inputs: [node]\n    path: ${out}\n` : `    type: blackhole\n    inputs: [node]\n`;
  const cfg = join(work, 'agent.yaml');
  writeFileSync(cfg, `data_dir: ${join(work, 'data')}\nlog_level: info\nsources:\n  node:\n    type: kubernetes_logs\n    root: ${root}\nsinks:\n  out:\n${sinkCfg}`);
  const m = measure(['node', join(repo, 'bin/loggy.js'), 'agent', '--config', cfg, '--exit-when-drained']);
  const summary = m.stderr.split('\n').map((l) => { try { return JSON.parse(l); } catch { return null; } }).find((o) => o && o.msg === 'agent summary');
  const events = summary?.events ?? NaN;
  rmSync(work, { recursive: true, force: true });
  return { ...m, events };
}

const rows = [];
for (const format of args.formats.split(',')) {
  const root = tree(format);
  const files = logFiles(root);
  const bytes = files.reduce((a, f) => a + statSync(f).size, 0);
  const mibs = bytes / 1048576;
  const cat = median(Array.from({ length: runs }, () => measure(['cat', ...files]).wall));
  const wcRuns = Array.from({ length: runs }, () => measure(['wc', '-l', ...files]));
  const wc = median(wcRuns.map((r) => r.wall));
  rows.push({ format, what: 'cat (floor)', mibs: mibs / cat, lines: NaN, cpu: NaN, rss: NaN, ratio: NaN });
  rows.push({ format, what: 'wc -l (floor)', mibs: mibs / wc, lines: NaN, cpu: NaN, rss: NaN, ratio: NaN });
  for (const sink of args.sinks.split(',')) {
    const rs = Array.from({ length: runs }, () => runAgent(root, sink));
    const wall = median(rs.map((r) => r.wall));
    rows.push({
      format, what: `agent → ${sink}`, mibs: mibs / wall, lines: median(rs.map((r) => r.events)) / wall,
      cpu: median(rs.map((r) => r.cpu)), rss: Math.max(...rs.map((r) => r.maxrss_mib)), ratio: wc / wall,
    });
  }
  process.stderr.write(`${format}: ${mibs.toFixed(0)} MiB in ${files.length} files\n`);
}

const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
console.log(`\n| data | what | MiB/s | events/s | CPU s | peak RSS MiB | speed vs wc -l |`);
console.log(`|---|---|---|---|---|---|---|`);
for (const r of rows) console.log(`| ${r.format} | ${r.what} | ${fmt(r.mibs)} | ${fmt(r.lines, 0)} | ${fmt(r.cpu)} | ${fmt(r.rss, 0)} | ${fmt(r.ratio, 2)} |`);
