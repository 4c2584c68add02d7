import { appendFileSync, chmodSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../src/agent/run.js';
import { append, cri, podLog, readOut, runAgent, type OutEvent } from '../helpers/agent.js';
import { tempDir, waitFor } from '../helpers/proc.js';

/**
 * Hostile inputs on the node, all at once, next to a healthy container that keeps writing.
 * For each: the agent does not crash, the healthy file is not held up, and the outcome
 * (delivered and flagged, or counted) is what docs/agent.md says.
 */
const tmp = tempDir('loggy-corpus-');
const root = join(tmp.dir, 'node');
const out = join(tmp.dir, 'out.ndjson');
const dataDir = join(tmp.dir, 'data');
const MAX_LINE = 64 * 1024;
let agent: RunningAgent;
let events: OutEvent[] = [];
const of = (pod: string) => events.filter((e) => e.labels.pod === pod);
const TS = '2026-11-22T10:00:00.000000001Z';
const TINY = 10_000;
const hugePath = podLog(root, 'bad', 'huge', 'app');
const endlessPath = podLog(root, 'bad', 'endless-p', 'app');

beforeAll(async () => {
  const raw = (pod: string, data: string | Buffer) => writeFileSync(podLog(root, 'bad', pod, 'app'), data);
  raw('utf8', Buffer.concat([Buffer.from(`${TS} stdout F bad bytes: `), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(' end\n')]));
  raw('nul', `${TS} stdout F nul\u0000inside\n`);
  // 50 MiB with no newline at all.
  writeFileSync(hugePath, `${TS} stdout F `);
  const chunk = Buffer.alloc(1024 * 1024, 'a');
  for (let i = 0; i < 50; i++) appendFileSync(hugePath, chunk);
  raw('docker-torn', '{"log":"complete\\n","stream":"stdout","time":"2026-11-22T10:00:00.000000001Z"}\n{"log":"torn json\n');
  raw('cri-badts', `${TS} stdout F good first\nnot-a-time stdout F bad timestamp\n`);
  raw('cri-stream', `${TS} stdout F good first\n${TS} stdweird F unknown stream\n`);
  // A P chain that never ends (no F): 200 KiB of partials.
  writeFileSync(endlessPath, Array.from({ length: 200 }, () => `${TS} stdout P ${'p'.repeat(1024)}\n`).join(''));
  raw('empty', '');
  mkdirSync(join(root, 'var/log/pods', 'bad_dir_uid-dir', 'app', '0.log'), { recursive: true });
  const locked = podLog(root, 'bad', 'locked', 'app');
  writeFileSync(locked, cri('you cannot read me'));
  chmodSync(locked, 0o000);
  mkdirSync(join(root, 'var/log/containers'), { recursive: true });
  symlinkSync('loop-b_bad_app-' + 'b'.repeat(64) + '.log', join(root, 'var/log/containers', 'loop-a_bad_app-' + 'a'.repeat(64) + '.log'));
  symlinkSync('loop-a_bad_app-' + 'a'.repeat(64) + '.log', join(root, 'var/log/containers', 'loop-b_bad_app-' + 'b'.repeat(64) + '.log'));
  for (let i = 0; i < TINY; i++) writeFileSync(podLog(root, 'tiny', `t${i}`, 'app'), cri(`tiny ${i}`));
  const healthy = podLog(root, 'good', 'canary', 'app');
  append(healthy, cri('canary 0'));
  agent = await runAgent({ root, dataDir, out, source: { max_line_bytes: MAX_LINE } });
  // The canary keeps writing while the agent chews on the rest; it must not wait for it.
  for (let i = 1; i <= 5; i++) {
    append(healthy, cri(`canary ${i}`));
    await waitFor(() => readOut(out).some((e) => e.line === `canary ${i}`), 15_000, `canary ${i}`, 50);
  }
  await waitFor(() => readOut(out).filter((e) => e.labels.namespace === 'tiny').length === TINY, 60_000, 'all tiny files', 200);
  await new Promise((r) => setTimeout(r, 1500)); // partial-line flush timeouts
  events = readOut(out);
}, 120_000);
afterAll(async () => {
  await agent?.stop();
  tmp.cleanup();
});

describe('hostile inputs on the node', () => {
  it('keeps a healthy file flowing and reads 10,000 tiny files', () => {
    expect(of('canary').map((e) => e.line)).toEqual(['canary 0', 'canary 1', 'canary 2', 'canary 3', 'canary 4', 'canary 5']);
    expect(new Set(events.filter((e) => e.labels.namespace === 'tiny').map((e) => e.line)).size).toBe(TINY);
  });

  it('delivers invalid UTF-8 with replacement characters, and NUL bytes as they are', () => {
    expect(of('utf8').map((e) => e.line)).toEqual(['bad bytes: \uFFFD\uFFFD\uFFFD end']);
    expect(of('nul').map((e) => e.line)).toEqual(['nul\u0000inside']);
  });

  it('holds a 50 MiB line with no newline in bounded memory, and delivers it truncated and flagged once the file is closed', async () => {
    // Still being written, as far as anyone can tell: nothing yet.
    expect(of('huge')).toEqual([]);
    expect(process.memoryUsage().rss).toBeLessThan(1024 * 1024 * 1024);
    renameSync(hugePath, `${hugePath}.20261122-100000`);
    // Generous: on a loaded machine the 50 MiB may still be being read behind 10,000 files.
    await waitFor(() => readOut(out).some((e) => e.labels.pod === 'huge'), 25_000, 'huge line after rotation', 100);
    const [huge, ...rest] = readOut(out).filter((e) => e.labels.pod === 'huge');
    expect(rest).toEqual([]);
    expect(Buffer.byteLength(huge!.line)).toBeLessThanOrEqual(MAX_LINE);
    expect(huge!.flags).toEqual(expect.arrayContaining(['truncated', 'partial']));
    expect(await agent.metrics.total('loggy_lines_truncated_total')).toBeGreaterThanOrEqual(1);
  });

  it('delivers lines that break the format raw and flagged malformed', async () => {
    expect(of('docker-torn').map((e) => e.line)).toEqual(['complete', '{"log":"torn json']);
    expect(of('docker-torn')[1]!.flags).toContain('malformed');
    expect(of('cri-badts').map((e) => [e.line, e.flags ?? []])).toEqual([['good first', []], ['not-a-time stdout F bad timestamp', ['malformed']]]);
    expect(of('cri-stream')[1]).toMatchObject({ line: `${TS} stdweird F unknown stream`, flags: ['malformed'] });
    expect(await agent.metrics.total('loggy_lines_malformed_total')).toBeGreaterThanOrEqual(3);
  });

  it('bounds a partial chain that never ends, and delivers it flagged once the file is closed', async () => {
    expect(of('endless-p')).toEqual([]);
    renameSync(endlessPath, `${endlessPath}.20261122-100000`);
    await waitFor(() => readOut(out).some((e) => e.labels.pod === 'endless-p'), 10_000, 'partial chain after rotation', 100);
    const p = readOut(out).filter((e) => e.labels.pod === 'endless-p');
    expect(p).toHaveLength(1);
    expect(Buffer.byteLength(p[0]!.line)).toBeLessThanOrEqual(MAX_LINE);
    expect(p[0]!.flags).toEqual(expect.arrayContaining(['truncated', 'partial']));
  });

  it('skips empty files, directories named like logs and symlink loops without errors for them', () => {
    expect(of('empty')).toEqual([]);
    expect(events.filter((e) => e.labels.pod === 'dir' || e.labels.pod?.startsWith('loop'))).toEqual([]);
  });

  it.skipIf(process.getuid?.() === 0)('reports an unreadable file (permissions) and goes on', async () => {
    expect(of('locked')).toEqual([]);
    expect(await agent.metrics.total('loggy_file_errors_total')).toBeGreaterThanOrEqual(1);
  });
});
