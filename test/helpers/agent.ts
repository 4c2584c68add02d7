import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { agentConfigSchema } from '../../src/agent/config.js';
import { startAgent, type RunningAgent } from '../../src/agent/run.js';
import { pino } from 'pino';
import { silentLogger, type Logger } from '../../src/core/logger.js';
import { afterEach, beforeEach } from 'vitest';
import { tempDir } from './proc.js';

export interface OutEvent {
  ts: string;
  stream: string;
  line: string;
  labels: Record<string, string>;
  flags?: string[];
  fields?: Record<string, string>;
}

/**
 * An in-process agent: kubernetes_logs over `root` into a file sink at `out`, through
 * `transform` or a chain of `transforms` (t0 → t1 → …) when given.
 */
export async function runAgent(opts: { root: string; dataDir: string; out: string; source?: Record<string, unknown>; sink?: Record<string, unknown>; transform?: Record<string, unknown>; transforms?: Array<Record<string, unknown>>; log?: Logger }): Promise<RunningAgent> {
  const chain = opts.transforms ?? (opts.transform ? [opts.transform] : []);
  const transforms = Object.fromEntries(chain.map((t, i) => [`t${i}`, { inputs: [i === 0 ? 'node' : `t${i - 1}`], ...t }]));
  const cfg = agentConfigSchema.parse({
    data_dir: opts.dataDir,
    shutdown_grace: 500,
    sources: { node: { type: 'kubernetes_logs', root: opts.root, poll_interval: 50, rescan_interval: 500, rotate_wait: 200, checkpoint_interval: 100, ...opts.source } },
    transforms,
    // A sink of another type (no `path`) replaces the file sink's keys with its own.
    sinks: { out: opts.sink?.type && opts.sink.type !== 'file'
      ? { inputs: [chain.length ? `t${chain.length - 1}` : 'node'], ...opts.sink }
      : { type: 'file', inputs: [chain.length ? `t${chain.length - 1}` : 'node'], path: opts.out, ...opts.sink } },
  });
  return startAgent(cfg, { log: opts.log ?? silentLogger });
}

/** A logger that keeps what the agent says (JSON objects), for tests that check its reports. */
export function capturingLogger(): { log: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info', base: undefined }, { write: (line: string) => void records.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, records };
}

export function readOut(out: string): OutEvent[] {
  if (!existsSync(out)) return [];
  return readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as OutEvent);
}

let seq = 0;
/** A CRI record with a fresh nanosecond timestamp. */
export function cri(line: string, stream = 'stdout', tag = 'F'): string {
  seq++;
  return `2026-11-22T10:00:00.${String(seq).padStart(9, '0')}Z ${stream} ${tag} ${line}\n`;
}

export function podLog(root: string, ns: string, pod: string, container: string, restart = 0, uid = 'uid-' + pod): string {
  const p = join(root, 'var/log/pods', `${ns}_${pod}_${uid}`, container, `${restart}.log`);
  mkdirSync(dirname(p), { recursive: true });
  return p;
}

export function append(path: string, text: string): void {
  appendFileSync(path, text);
}

/**
 * Per-test directories for an in-process agent (root, out, data), created before each test
 * and removed after it, with the agent a test started stopped first.
 */
export function agentFixture(prefix: string): { root: string; out: string; dataDir: string; tmpDir: string; agent: RunningAgent | null } {
  const fx = { root: '', out: '', dataDir: '', tmpDir: '', agent: null as RunningAgent | null };
  let cleanup = () => undefined as void;
  beforeEach(() => {
    const t = tempDir(prefix);
    cleanup = t.cleanup;
    fx.tmpDir = t.dir;
    fx.root = join(t.dir, 'node');
    fx.out = join(t.dir, 'out.ndjson');
    fx.dataDir = join(t.dir, 'data');
  });
  afterEach(async () => {
    await fx.agent?.stop();
    fx.agent = null;
    cleanup();
  });
  return fx;
}
