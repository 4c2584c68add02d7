import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { hashOf } from '../../src/sources/tail/fingerprint.js';
import { loggy, sleep, waitFor, type Proc } from '../helpers/proc.js';

/**
 * The chaos harness: real processes on 127.0.0.1 — the node simulator, `loggy agent` and
 * `loggy server` — with a fault-injecting HTTP proxy between agent and store. A scenario
 * runs faults while the simulator writes, stops writing, clears the faults, waits for the
 * store to hold everything, and counts the simulator's per-line markers in the store.
 */

export interface ChaosSize {
  /** Logical lines per second over all containers. */
  rate: number;
  pods: number;
  /** Rotate files above this size (the hottest files rotate every ~100-200 ms at full size). */
  rotateBytes: string;
  /** How long the simulator writes. */
  writeSec: number;
  /** Files kept per container (kubelet's default is 5); older ones are compressed, the oldest deleted. */
  keepFiles: number;
}

export interface Report {
  scenario: string;
  faults: string;
  written: number;
  stored: number;
  lost: number;
  duplicated: number;
  deadLettered: number;
  /** Bytes the agent reported lost (files deleted by the runtime before they were read). */
  lostBytesCounted: number;
  /** Files the agent reported deleted before it finished them. */
  lostFilesReported: number;
  /**
   * Runs of consecutive lost lines of one container that do not start where the agent said a
   * loss starts (in a reported file at or after its `readTo`, or right after that file's last
   * line): lines lost silently. Must be empty.
   */
  unreported: string[];
  /** Lines in files created and deleted while the agent was down, which it never saw. */
  lostUnseen: number;
  peakAgentRssMiB: number;
  drainSec: number;
  /** Where lines are missing: `<container>: a-b, c` for the first few containers. */
  missing: string[];
}

const MARKER = /seq=([a-z0-9./-]+):(\d+)/;

/** Proxy modes: pass requests on, hold them forever (a stalled network), or refuse some. */
export type ProxyMode = 'pass' | 'stall';

export class FaultProxy {
  mode: ProxyMode = 'pass';
  /** Requests whose body matches get 400 (a receiver refusing some batches for good). */
  reject: ((body: Buffer) => boolean) | null = null;
  rejected = 0;
  private server: Server | null = null;
  private readonly held = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();

  constructor(private readonly upstream: () => string) {}

  async listen(port: number): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
  }

  /** Ends a stall: held requests' connections are cut (the agent sees a failed request). */
  release(): void {
    this.mode = 'pass';
    for (const res of this.held) res.socket?.destroy();
    this.held.clear();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    if (this.mode === 'stall') {
      this.held.add(res); // accepted, never answered
      return;
    }
    if (this.reject && req.method === 'POST') {
      const { gunzipSync } = await import('node:zlib');
      const plain = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
      if (this.reject(plain)) {
        this.rejected++;
        res.writeHead(400, { 'content-type': 'text/plain' }).end('chaos proxy: this batch is refused');
        return;
      }
    }
    try {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length' && k !== 'connection') headers[k] = v;
      const up = await fetch(`${this.upstream()}${req.url}`, { method: req.method, headers, body: req.method === 'GET' ? undefined : body });
      const out = Buffer.from(await up.arrayBuffer());
      const h: Record<string, string> = {};
      up.headers.forEach((v, k) => { if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection' && k !== 'content-encoding') h[k] = v; });
      res.writeHead(up.status, h).end(out);
    } catch {
      res.socket?.destroy(); // store down: the agent sees a connection failure
    }
  }
}

/** One store process, restartable on the same data directory and port. */
export class Store {
  proc: Proc | null = null;
  constructor(readonly dir: string, readonly port: number) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'server.yaml'), [
      `listen: 127.0.0.1:${port}`,
      `data_dir: ${JSON.stringify(join(dir, 'data'))}`,
      'log_level: warn',
      'limits:',
      '  max_query_lines: 2000000',
      '  reject_older_than: 0',
      '',
    ].join('\n'));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const nodeArgs = process.env.LOGGY_CHAOS_STORE_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    this.proc = loggy(['server', '--config', join(this.dir, 'server.yaml')], {}, nodeArgs);
    const p = this.proc;
    await waitFor(async () => {
      if (p.child.exitCode !== null) throw new Error(`store exited: ${p.stderr().slice(-2000)}`);
      return (await fetch(`${this.url}/ready`).catch(() => null))?.ok;
    }, 30_000, 'store ready', 100);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.child.exitCode !== null) return;
    p.child.kill(signal);
    await p.exited;
  }
}

/** As deployed: V8 heap bounded for a sink buffer of 1 MiB (see docs/agent.md, Memory). */
export const AGENT_NODE_ARGS = ['--max-semi-space-size=4', '--max-old-space-size=128'];

/** The agent process, restartable, with its peak RSS sampled from /proc. */
export class Agent {
  proc: Proc | null = null;
  peakRssKiB = 0;
  restarts = 0;
  private timer: NodeJS.Timeout | null = null;

  /** Memory figures the agent reports about once a second: [ms, heap total, heap used, external] (bytes). */
  readonly memTimeline: Array<[number, number, number, number]> = [];

  constructor(readonly config: string, readonly metricsUrl?: string) {}

  start(): void {
    // The heap bounds the deployment docs give (docs/agent.md, Memory); without them V8 sizes
    // its heap for the machine, not the pod. LOGGY_CHAOS_AGENT_NODE_ARGS adds more (--cpu-prof).
    const nodeArgs = [...AGENT_NODE_ARGS, ...(process.env.LOGGY_CHAOS_AGENT_NODE_ARGS?.split(' ').filter(Boolean) ?? [])];
    // LOGGY_CHAOS_AGENT_ENV: extra environment, e.g. "MALLOC_ARENA_MAX=2".
    const env = Object.fromEntries((process.env.LOGGY_CHAOS_AGENT_ENV ?? '').split(' ').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    this.proc = loggy(['agent', '--config', this.config], env, nodeArgs);
    this.restarts++;
    this.timer ??= setInterval(() => this.sample(), 100);
  }

  private sample(): void {
    const pid = this.proc?.child.pid;
    if (!pid) return;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) {
        this.peakRssKiB = Math.max(this.peakRssKiB, Number(m[1]));
        const t = Date.now();
        if (t - (this.rssTimeline.at(-1)?.[0] ?? 0) >= 1000) {
          this.rssTimeline.push([t, Number(m[1])]);
          void this.sampleHeap(t);
        }
      }
    } catch {
      // exited between the check and the read
    }
  }

  private async sampleHeap(t: number): Promise<void> {
    if (!this.metricsUrl) return;
    const text = await fetch(this.metricsUrl).then((r) => r.text()).catch(() => '');
    const v = (name: string): number => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
    if (text) this.memTimeline.push([t, v('nodejs_heap_size_total_bytes'), v('nodejs_heap_size_used_bytes'), v('nodejs_external_memory_bytes')]);
  }

  async kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const p = this.proc!;
    p.child.kill(signal);
    const r = await p.exited;
    this.logs.push(p.stderr());
    this.stdouts.push(p.stdout());
    return r;
  }

  /** Everything the agent processes wrote to stderr so far (one entry per run). */
  readonly logs: string[] = [];
  /** And to stdout (V8's --trace-gc, with LOGGY_CHAOS_AGENT_NODE_ARGS). */
  readonly stdouts: string[] = [];
  /** RSS (KiB) about once a second: [ms since epoch, KiB]. */
  readonly rssTimeline: Array<[number, number]> = [];

  async stop(): Promise<number | null> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const p = this.proc;
    if (!p || p.child.exitCode !== null) return p?.child.exitCode ?? null;
    p.child.kill('SIGTERM');
    const code = (await p.exited).code;
    this.logs.push(p.stderr());
    this.stdouts.push(p.stdout());
    return code;
  }
}

export interface Rig {
  dir: string;
  root: string;
  manifest: string;
  /** A second node tree whose files rotate by copytruncate (its counter pod is not collected; seed 13 names no container the main tree has). */
  copytruncate?: { sim: Proc; manifest: string };
  store: Store;
  proxy: FaultProxy;
  agent: Agent;
  sim: Proc;
  startedNs: bigint;
}

/** Builds and starts simulator, store, proxy and agent for one scenario. */
export async function startRig(dir: string, size: ChaosSize, agentExtra: string[] = [], opts: { copytruncatePods?: number } = {}): Promise<Rig> {
  const base = 21000 + Math.floor(Math.random() * 20000);
  const store = new Store(join(dir, 'store'), base);
  await store.start();
  const proxy = new FaultProxy(() => store.url);
  await proxy.listen(base + 1);
  const root = join(dir, 'node');
  const manifest = join(dir, 'manifest.json');
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(cfg, [
    `data_dir: ${JSON.stringify(join(dir, 'agent-data'))}`,
    `metrics_address: 127.0.0.1:${base + 2}`,
    'log_level: info',
    'shutdown_grace: 20s',
    'sources:',
    '  node:',
    '    type: kubernetes_logs',
    `    root: ${JSON.stringify(root)}`,
    '    poll_interval: 100ms',
    '    rotate_wait: 1s',
    '    checkpoint_interval: 200ms',
    ...(opts.copytruncatePods ? [
      '  ct:',
      '    type: kubernetes_logs',
      `    root: ${JSON.stringify(join(dir, 'node-ct'))}`,
      '    poll_interval: 100ms',
      '    rotate_wait: 1s',
      '    checkpoint_interval: 200ms',
      '    exclude: { pods: [counter] }',
    ] : []),
    'sinks:',
    '  store:',
    '    type: loggy',
    `    inputs: [node${opts.copytruncatePods ? ', ct' : ''}]`,
    `    endpoint: http://127.0.0.1:${base + 1}`,
    '    timeout: 2s',
    // Back off at most 2 s, so "nothing new for 5 s" below means drained, not waiting to retry.
    '    retry_max_backoff: 2s',
    ...agentExtra,
    '',
  ].join('\n'));
  const agent = new Agent(cfg, `http://127.0.0.1:${base + 2}/metrics`);
  agent.start();
  let copytruncate: Rig['copytruncate'];
  // The agent first, as on a node: the simulator rotates and compresses its first files within
  // a second, and history compressed before an agent ever ran is not collected.
  await waitFor(() => agent.proc!.stderr().includes('kubernetes_logs started'), 20_000, 'agent start');
  const startedNs = BigInt(Date.now()) * 1_000_000n;
  const sim = loggy(['simulate', '--root', root, '--pods', String(size.pods), '--seed', '11', '--rate', String(size.rate), '--format', 'mixed',
    '--rotate-bytes', size.rotateBytes, '--keep-files', String(size.keepFiles), '--manifest', manifest, '--duration', String(size.writeSec),
    '--keep-deleted', join(dir, 'deleted'), '--quiet']);
  if (opts.copytruncatePods) {
    const ctManifest = join(dir, 'manifest-ct.json');
    copytruncate = {
      manifest: ctManifest,
      sim: loggy(['simulate', '--root', join(dir, 'node-ct'), '--pods', String(opts.copytruncatePods), '--seed', '13', '--rate', String(Math.round(size.rate / 4)),
        '--format', 'cri', '--rotate-bytes', size.rotateBytes, '--keep-files', String(size.keepFiles), '--copytruncate', '--manifest', ctManifest,
        '--duration', String(size.writeSec), '--keep-deleted', join(dir, 'deleted'), '--quiet']),
    };
  }
  return { dir, root, manifest, store, proxy, agent, sim, startedNs, copytruncate };
}

/** Every marker the store holds, paging through time windows. */
export async function storedMarkers(store: Store, fromNs: bigint): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const end = BigInt(Date.now() + 60_000) * 1_000_000n;
  const step = 5_000_000_000n;
  for (let t = fromNs - 60_000_000_000n; t < end; t += step) {
    const q = encodeURIComponent('{namespace=~".+"} |= "seq="');
    const res = await fetch(`${store.url}/loki/api/v1/query_range?query=${q}&start=${t}&end=${t + step}&limit=2000000&direction=forward`);
    if (!res.ok) throw new Error(`query: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { data: { result: Array<{ values: Array<[string, string]> }> } };
    for (const s of body.data.result) {
      for (const [, line] of s.values) {
        const m = MARKER.exec(line);
        if (m) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
      }
    }
  }
  return counts;
}

/** Lines in the store (duplicates included), counted by the engine. */
export async function storedLines(store: Store): Promise<number> {
  const q = encodeURIComponent('sum(count_over_time({namespace=~".+"}[1h]))');
  const res = await fetch(`${store.url}/loki/api/v1/query?query=${q}`);
  if (!res.ok) throw new Error(`count query: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
  return Number(body.data.result[0]?.value[1] ?? 0);
}

export interface SimManifest {
  containers: Record<string, { lines: number }>;
  total: number;
}

/** Stops writing, clears faults, waits until the store holds every line (or the deadline), and counts. */
export async function finish(rig: Rig, scenario: string, faults: string, opts: { drainTimeoutMs: number; deadLettered?: () => ReadonlySet<string> }): Promise<Report> {
  const simExit = await rig.sim.exited;
  if (simExit.code !== 0) throw new Error(`simulator failed: ${rig.sim.stderr().slice(-2000)}`);
  rig.proxy.release();
  if (!rig.store.proc) await rig.store.start();
  const m = JSON.parse(readFileSync(rig.manifest, 'utf8')) as SimManifest;
  if (rig.copytruncate) {
    const ctExit = await rig.copytruncate.sim.exited;
    if (ctExit.code !== 0) throw new Error(`copytruncate simulator failed: ${rig.copytruncate.sim.stderr().slice(-2000)}`);
    const ct = JSON.parse(readFileSync(rig.copytruncate.manifest, 'utf8')) as SimManifest;
    for (const [key, c] of Object.entries(ct.containers)) {
      if (key.startsWith('default/counter/')) continue; // not collected (its key is the main tree's counter too)
      if (m.containers[key]) throw new Error(`both trees have a container ${key}`);
      m.containers[key] = c;
      m.total += c.lines;
    }
  }
  const t0 = Date.now();
  let markers = new Map<string, number>();
  const dead = opts.deadLettered ?? (() => new Set<string>());
  // Until every line is there, or nothing new arrived for 5 s (lines the runtime deleted never
  // will). Progress is watched with a count the engine answers from its blocks: reading every
  // line back twice a second would take the store's CPU from the ingest being measured.
  let last = -1;
  let lastChange = Date.now();
  let drainedAt = Date.now();
  while (Date.now() - t0 < opts.drainTimeoutMs) {
    const n = await storedLines(rig.store);
    if (n !== last) {
      last = n;
      lastChange = drainedAt = Date.now();
    }
    const quiet = Date.now() - lastChange > 5000;
    if (quiet || n + dead().size >= m.total) {
      markers = await storedMarkers(rig.store, rig.startedNs);
      if (quiet || markers.size + dead().size >= m.total) break;
    }
    await sleep(500);
  }
  const drainSec = (drainedAt - t0) / 1000;
  const agentExit = await rig.agent.stop();
  writeFileSync(join(rig.dir, 'agent.log'), rig.agent.logs.join('\n--- restart ---\n'));
  writeFileSync(join(rig.dir, 'agent.stdout'), rig.agent.stdouts.join('\n--- restart ---\n'));
  const mib = (b: number): number => Math.round(b / 1048576);
  const mem = new Map(rig.agent.memTimeline.map(([t, total, used, ext]) => [t, `${mib(total)}\t${mib(used)}\t${mib(ext)}`]));
  writeFileSync(join(rig.dir, 'agent-rss.tsv'), ['s\trss\theap_total\theap_used\texternal (MiB)', ...rig.agent.rssTimeline.map(([t, kib]) => `${((t - t0) / 1000).toFixed(1)}\t${Math.round(kib / 1024)}\t${mem.get(t) ?? ''}`)].join('\n'));
  const losses = lossReports(rig.agent.logs);
  const lostBytesCounted = losses.reduce((a, l) => a + l.lostBytes, 0);
  markers = await storedMarkers(rig.store, rig.startedNs);
  await rig.store.stop();
  await rig.proxy.close();
  if (agentExit !== 0) throw new Error(`agent exited with ${agentExit}: ${rig.agent.proc?.stderr().slice(-2000)}`);
  let stored = 0;
  let duplicated = 0;
  let unexpected = 0;
  for (const [marker, n] of markers) {
    const mm = MARKER.exec(marker)!;
    const c = m.containers[mm[1]!];
    if (!c || Number(mm[2]) >= c.lines) unexpected++;
    stored++;
    duplicated += n - 1;
  }
  if (unexpected > 0) throw new Error(`${unexpected} markers in the store that the simulator never wrote`);
  // Which lines came twice, for whoever reads a failed run (kept with LOGGY_CHAOS_KEEP=1).
  const dups = [...markers].filter(([, n]) => n > 1).map(([marker, n]) => `${marker}\t${n}`);
  if (dups.length) writeFileSync(join(rig.dir, 'duplicated.tsv'), dups.join('\n') + '\n');
  const deadLettered = dead();
  const missing: string[] = [];
  const gaps: Gap[] = [];
  for (const [key, c] of Object.entries(m.containers)) {
    const ranges: string[] = [];
    let from = -1;
    for (let i = 0; i <= c.lines; i++) {
      const marker = `seq=${key}:${i}`;
      const have = i === c.lines || markers.has(marker) || deadLettered.has(marker);
      if (!have && from < 0) from = i;
      if (have && from >= 0) {
        ranges.push(from === i - 1 ? `${from}` : `${from}-${i - 1}`);
        gaps.push({ container: key, from, to: i - 1 });
        from = -1;
      }
    }
    if (ranges.length) missing.push(`${key} (of ${c.lines}): ${ranges.slice(0, 8).join(', ')}${ranges.length > 8 ? ', ...' : ''}`);
  }
  const { silent: unreported, unseenLines } = unreportedGaps(gaps, losses, join(rig.dir, 'deleted'), openedFiles(rig.agent.logs));
  return {
    missing,
    scenario, faults, written: m.total, stored, lost: m.total - stored - deadLettered.size, duplicated, deadLettered: deadLettered.size, lostBytesCounted,
    lostFilesReported: losses.length, unreported, lostUnseen: unseenLines,
    peakAgentRssMiB: Math.round(rig.agent.peakRssKiB / 1024), drainSec: Math.round(drainSec * 10) / 10,
  };
}

/** What the agent logged about one file deleted before it finished it. */
export interface LossReport {
  file: string;
  path: string;
  readTo: number;
  lostBytes: number;
}

interface Gap {
  container: string;
  from: number;
  to: number;
}

/**
 * The agent's loss reports: one per file deleted unfinished (`lostBytes`), and the gap
 * reports (`gapAfter`: every file it knew of a container is gone, newer unseen ones may have
 * gone too), which say that a loss may start right after the end of one of those files.
 */
export function lossReports(logs: readonly string[]): LossReport[] {
  const out: LossReport[] = [];
  for (const log of logs) {
    for (const line of log.split('\n')) {
      if (line.includes('"lostBytes"')) {
        const r = JSON.parse(line) as LossReport;
        out.push({ file: r.file, path: r.path, readTo: r.readTo, lostBytes: r.lostBytes });
      } else if (line.includes('"gapAfter"')) {
        const r = JSON.parse(line) as { gapAfter: Array<{ file: string; path: string; readTo: number }> };
        for (const f of r.gapAfter) out.push({ file: f.file, path: f.path, readTo: f.readTo, lostBytes: 0 });
      }
    }
  }
  return out;
}

/**
 * Checks the agent's loss reports against what the runtime really deleted (the simulator
 * moved each deleted file to `deletedDir` as `<dev>-<ino>`): a container's run of lost lines
 * must start in a reported file at or after its `readTo` (lines just past it may have arrived,
 * delivered but not yet checkpointed when the agent was killed), or right after that file's
 * last line (the next files vanished unseen). Returns the runs that started anywhere else.
 */
export function unreportedGaps(gaps: readonly Gap[], losses: readonly LossReport[], deletedDir: string, opened: ReadonlySet<string> = new Set()): { silent: string[]; unseenLines: number } {
  if (gaps.length === 0) return { silent: [], unseenLines: 0 };
  const files = existsSync(deletedDir) ? readdirSync(deletedDir) : [];
  let byFp: Map<string, string> | null = null;
  const fileFor = (key: string): string | null => {
    const [inode, fp] = key.split('#');
    const direct = `${inode!.replace(':', '-')}`;
    if (!fp) return files.includes(direct) ? join(deletedDir, direct) : null;
    // Content whose inode lived on (copytruncate): find the deleted copy by its first line.
    if (!byFp) {
      byFp = new Map();
      for (const f of files) {
        const head = readLog(join(deletedDir, f)).subarray(0, 256);
        const nl = head.indexOf(10);
        byFp.set(hashOf(head.subarray(0, nl >= 0 ? nl + 1 : head.length)), join(deletedDir, f));
      }
    }
    return byFp.get(fp) ?? null;
  };
  // Lines where a reported loss may begin, per container.
  const starts = new Map<string, Set<number>>();
  const add = (container: string, seq: number): void => {
    let s = starts.get(container);
    if (!s) starts.set(container, (s = new Set()));
    s.add(seq);
  };
  const marker = new RegExp(MARKER.source, 'g');
  for (const l of losses) {
    const path = fileFor(l.file);
    if (!path) continue;
    const data = readLog(path);
    let last: { container: string; seq: number } | null = null;
    for (const mm of data.subarray(0, l.readTo).toString('latin1').matchAll(marker)) last = { container: mm[1]!, seq: Number(mm[2]) };
    const after = [...data.subarray(l.readTo).toString('latin1').matchAll(marker)];
    for (const mm of after) add(mm[1]!, Number(mm[2]));
    const end = after.length ? { container: after.at(-1)![1]!, seq: Number(after.at(-1)![2]) } : last;
    if (end) add(end.container, end.seq + 1);
  }
  // Files created and deleted while the agent was down, never opened (for the report's
  // column: such runs must still start where the agent reported a gap).
  const unseenStarts = new Map<string, Set<number>>();
  for (const f of files) {
    if (opened.has(f.replace('-', ':'))) continue;
    const first = marker.exec(readLog(join(deletedDir, f)).subarray(0, 4096).toString('latin1'));
    marker.lastIndex = 0;
    if (!first) continue;
    let s = unseenStarts.get(first[1]!);
    if (!s) unseenStarts.set(first[1]!, (s = new Set()));
    s.add(Number(first[2]));
  }
  const silent: string[] = [];
  let unseenLines = 0;
  for (const g of gaps) {
    if (!starts.get(g.container)?.has(g.from)) silent.push(`${g.container}: ${g.from}-${g.to}`);
    else if (unseenStarts.get(g.container)?.has(g.from)) unseenLines += g.to - g.from + 1;
  }
  return { silent, unseenLines };
}

/** A deleted log file's content, decompressed if it was a compressed rotation. */
function readLog(path: string): Buffer {
  const data = readFileSync(path);
  return data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : data;
}

/** Checkpoint keys of every file the agent opened (its "tailing file" log lines). */
export function openedFiles(logs: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const log of logs) for (const m of log.matchAll(/"file":"(\d+:\d+)"[^\n]*"msg":"tailing file"/g)) out.add(m[1]!);
  return out;
}

export function printReports(reports: readonly Report[]): string {
  const head = '| scenario | faults | written | stored | lost | of which in files never seen | duplicated | dead-lettered | files reported lost (bytes known) | lost silently | peak agent RSS | drain |\n|---|---|---|---|---|---|---|---|---|---|---|---|';
  const rows = reports.map((r) => `| ${r.scenario} | ${r.faults} | ${r.written} | ${r.stored} | ${r.lost} | ${r.lostUnseen} | ${r.duplicated} | ${r.deadLettered} | ${r.lostFilesReported} (${r.lostBytesCounted}) | ${r.unreported.length ? `${r.unreported.length} runs` : 0} | ${r.peakAgentRssMiB} MiB | ${r.drainSec} s |`);
  return [head, ...rows].join('\n');
}

export { sleep };
