import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDbEngine } from '../../src/store/duckdb/index.js';
import { buildStoreForChild, type ChildBuild } from './child-build.js';
import { at, collect, END, START } from './fixture.js';

/**
 * Durability: a child process appends, prints "acked N" when append() resolves, and is
 * SIGKILLed; the parent reopens the database (DuckDB replays its WAL) and must find every
 * acknowledged batch — and no partial batch, with the watermark matching the rows.
 */

const CHILD = `
import { openDuckDbEngine } from './store/duckdb/index.js';
const [dataDir, mode] = process.argv.slice(2);
// A small checkpoint threshold makes checkpoints (WAL -> file) happen mid-run too.
const e = await openDuckDbEngine({ dataDir, settings: mode === 'loop' ? { checkpoint_threshold: '64KB' } : {} });
const BASE = ${at(1)}n;
for (let n = 0; ; n++) {
  const rows = Array.from({ length: 1000 }, (_, i) => ({
    tsNs: BASE + BigInt(n * 1000 + i) * 1000000n,
    labels: { app: 'crash', shard: String(i % 4) },
    line: 'batch ' + n + ' row ' + i + ' ' + 'x'.repeat(i % 50),
  }));
  await e.append('t', rows, [{ source: 'src', offset: n + 1 }]);
  process.stdout.write('acked ' + n + '\\n');
  if (mode === 'once') await new Promise(() => {});
}
`;

let build: ChildBuild;
let dataDir: string;
beforeAll(() => {
  build = buildStoreForChild();
  writeFileSync(join(build.dir, 'child.mjs'), CHILD);
});
afterAll(() => build?.cleanup());

/** Runs the child until it has acked `untilBatch`, then SIGKILLs it at once; returns the last ack seen. */
async function runAndKill(mode: 'once' | 'loop', untilBatch: number): Promise<number> {
  const child = spawn(process.execPath, [join(build.dir, 'child.mjs'), dataDir, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let last = -1;
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
  await new Promise<void>((resolveAck, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (const m of out.matchAll(/acked (\d+)\n/g)) last = Math.max(last, Number(m[1]));
      if (last >= untilBatch) {
        child.kill('SIGKILL');
        resolveAck();
      }
    });
    child.on('exit', () => reject(new Error(`child exited before acking batch ${untilBatch}: ${err}`)));
  });
  expect(await exited).toBe('SIGKILL');
  return last;
}

describe('DuckDbEngine durability across kill -9', () => {
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'loggy-crash-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('an acknowledged append survives SIGKILL right after the ack', async () => {
    await runAndKill('once', 0);
    // The batch is only in the WAL: reopening must replay it.
    expect(statSync(join(dataDir, 'loggy.duckdb.wal')).size).toBeGreaterThan(0);
    const e = await openDuckDbEngine({ dataDir });
    try {
      expect(await e.stats('t')).toMatchObject({ rows: 1000, streams: 4 });
      expect(await e.committedOffsets('t', ['src'])).toEqual(new Map([['src', 1]]));
      const rows = await collect(e.scan({ tenant: 't', matchers: [{ name: 'app', op: '=', value: 'crash' }], startNs: START, endNs: END, lineFilters: [], direction: 'forward' }));
      expect(rows).toHaveLength(1000);
      expect(rows[0]!.line).toBe('batch 0 row 0 ');
    } finally {
      await e.close();
    }
  });

  it('a kill at an arbitrary point mid-stream (with frequent checkpoints) loses no ack and leaves no partial batch', async () => {
    for (let round = 0; round < 3; round++) {
      // Each round reopens what the previous kill left: WAL replay on top of WAL replay.
      const before = (await withStats()).rows;
      const lastAck = await runAndKill('loop', 5 + round * 3);
      const { rows, offset } = await withStats();
      const batches = (rows - before) / 1000;
      expect(Number.isInteger(batches)).toBe(true);
      // Every acked batch is there; at most the one in flight when killed is there too.
      expect(batches).toBeGreaterThanOrEqual(lastAck + 1);
      expect(batches).toBeLessThanOrEqual(lastAck + 2);
      // The watermark was committed with the rows: it counts this run's batches exactly.
      expect(offset).toBe(batches);
    }
    const e = await openDuckDbEngine({ dataDir });
    try {
      await e.append('t', [{ tsNs: at(2), labels: { app: 'after' }, line: 'still writable' }]);
      expect(await e.labelValues('t', 'app', START, END)).toEqual(['after', 'crash']);
    } finally {
      await e.close();
    }
  });
});

async function withStats(): Promise<{ rows: number; offset: number }> {
  const e = await openDuckDbEngine({ dataDir });
  try {
    const rows = (await e.stats('t')).rows;
    const offset = (await e.committedOffsets('t', ['src'])).get('src') ?? 0;
    return { rows, offset };
  } finally {
    await e.close();
  }
}
