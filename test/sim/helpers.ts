import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { MARKER_RE, MAX_RECORD_BYTES, type Manifest, type ManifestEntry } from '../../src/sim/index.js';

export function tempRoot(): string {
  return mkdtempSync(join(tmpdir(), 'loggy-sim-'));
}

export function removeRoot(root: string): void {
  rmSync(root, { recursive: true, force: true });
}

/** A physical line after partial records were joined. */
export interface PhysLine {
  stream: string;
  time: string;
  line: string;
  /** Records it was made of (1 unless split). */
  records: number;
  file: string;
}

const CRI_HEAD = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z) (stdout|stderr) ([PF]) /;

/** Strict CRI parser: every record well-formed, P records exactly 16384 bytes of content. */
export function parseCri(buf: Buffer, file: string): PhysLine[] {
  const out: PhysLine[] = [];
  const partial = new Map<string, { parts: Buffer[]; time: string }>();
  let at = 0;
  expect(buf.length === 0 || buf[buf.length - 1] === 0x0a, `${file} ends mid-record`).toBe(true);
  while (at < buf.length) {
    const nl = buf.indexOf(0x0a, at);
    const rec = buf.subarray(at, nl);
    at = nl + 1;
    const head = CRI_HEAD.exec(rec.subarray(0, 64).toString('latin1'));
    expect(head, `bad CRI record in ${file}: ${rec.subarray(0, 80).toString()}`).not.toBeNull();
    const [h, time, stream, tag] = head as RegExpExecArray;
    const content = rec.subarray(h.length);
    const p = partial.get(stream) ?? { parts: [], time };
    p.parts.push(content);
    if (tag === 'P') {
      expect(content.length).toBe(MAX_RECORD_BYTES);
      partial.set(stream, p);
      continue;
    }
    partial.delete(stream);
    out.push({ stream, time: p.time, line: Buffer.concat(p.parts).toString('utf8'), records: p.parts.length, file });
  }
  expect(partial.size, `${file} ends inside a partial line`).toBe(0);
  return out;
}

const DOCKER_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{0,8}[1-9])?Z$/;

/** Strict docker json-file parser: field order, Go escaping, partials without `\n`. */
export function parseDocker(buf: Buffer, file: string): PhysLine[] {
  const out: PhysLine[] = [];
  const partial = new Map<string, { parts: string[]; time: string }>();
  const text = buf.toString('utf8');
  expect(text === '' || text.endsWith('\n'), `${file} ends mid-record`).toBe(true);
  for (const rec of text.split('\n').slice(0, -1)) {
    expect(rec).toMatch(/^\{"log":".*","stream":"(stdout|stderr)","time":"[^"]+"\}$/);
    expect(rec).not.toMatch(/[<>&]/);
    const r = JSON.parse(rec) as { log: string; stream: string; time: string };
    expect(Object.keys(r)).toEqual(['log', 'stream', 'time']);
    expect(r.time).toMatch(DOCKER_TIME);
    const p = partial.get(r.stream) ?? { parts: [], time: r.time };
    p.parts.push(r.log);
    if (!r.log.endsWith('\n')) {
      const size = Buffer.byteLength(r.log);
      expect(size).toBeLessThanOrEqual(MAX_RECORD_BYTES);
      expect(size).toBeGreaterThan(MAX_RECORD_BYTES - 4);
      partial.set(r.stream, p);
      continue;
    }
    partial.delete(r.stream);
    out.push({ stream: r.stream, time: p.time, line: p.parts.join('').slice(0, -1), records: p.parts.length, file });
  }
  expect(partial.size, `${file} ends inside a partial line`).toBe(0);
  return out;
}

export function readMaybeGz(file: string): Buffer {
  const buf = readFileSync(file);
  return file.endsWith('.gz') ? gunzipSync(buf) : buf;
}

export function containerDir(root: string, e: ManifestEntry): string {
  return join(root, 'var/log/pods', `${e.namespace}_${e.pod}_${e.pod_uid}`, e.container);
}

/** Sort key of kubelet rotations: `<r>.log.<stamp>[.N][.gz]`, the current `<r>.log` last. */
function criOrder(name: string): [number, string, number] {
  const m = /^(\d+)\.log(?:\.(\d{8}-\d{6})(?:\.(\d+))?(?:\.gz)?)?$/.exec(name);
  if (!m) throw new Error(`unexpected file ${name}`);
  return [Number(m[1]), m[2] ?? '99999999-999999', m[2] ? Number(m[3] ?? 0) : Infinity];
}

/** Every file of a container still on disk, oldest data first. */
export function containerFiles(root: string, e: ManifestEntry): string[] {
  const dir = containerDir(root, e);
  if (!existsSync(dir)) return [];
  const names = readdirSync(dir);
  if (e.format === 'cri') {
    names.sort((a, b) => {
      const [x, y] = [criOrder(a), criOrder(b)];
      return x[0] - y[0] || x[1].localeCompare(y[1]) || x[2] - y[2];
    });
    return names.map((n) => join(dir, n));
  }
  // Docker: `<r>.log` links to `<id>-json.log`; its rotations `.N` are older the larger N.
  const files: string[] = [];
  for (const n of names.sort((a, b) => parseInt(a) - parseInt(b))) {
    const target = realpathSync(join(dir, n));
    const rotated = readdirSync(dirname(target))
      .filter((f) => f.startsWith(`${basename(target)}.`))
      .map((f) => Number(f.slice(basename(target).length + 1)))
      .sort((a, b) => b - a);
    for (const i of rotated) files.push(`${target}.${i}`);
    files.push(target);
  }
  return files;
}

export function readLines(root: string, e: ManifestEntry): PhysLine[] {
  return containerFiles(root, e).flatMap((f) => (e.format === 'cri' ? parseCri(readMaybeGz(f), f) : parseDocker(readMaybeGz(f), f)));
}

const CONTINUATION = /^(\t| {2}|java\.|Caused by: |Traceback |ValueError: )/;

/**
 * Marker numbers of `key` in file order. Lines without a marker must be stack-trace
 * continuations following a marked line of the same file; long lines must match their
 * declared `bytes=`; the marker must sit in the first 200 bytes.
 */
export function markersOf(key: string, lines: PhysLine[]): number[] {
  const seen: number[] = [];
  let prevFile = '';
  for (const l of lines) {
    const m = MARKER_RE.exec(l.line);
    if (!m) {
      expect(l.line).toMatch(CONTINUATION);
      expect(prevFile, 'continuation line at the start of a file').toBe(l.file);
      continue;
    }
    prevFile = l.file;
    expect(m[1]).toBe(key);
    expect(Buffer.byteLength(l.line.slice(0, m.index + m[0].length))).toBeLessThanOrEqual(200);
    const declared = / bytes=(\d{6}) body=/.exec(l.line);
    if (declared) expect(Buffer.byteLength(l.line)).toBe(Number(declared[1]));
    seen.push(Number(m[2]));
  }
  return seen;
}

/** Asserts markers are exactly `from..lines-1`, in order, once each. */
export function expectContiguous(seen: number[], from: number, to: number): void {
  expect(seen.length).toBe(to - from);
  for (let i = 0; i < seen.length; i++) if (seen[i] !== from + i) expect(seen[i], `marker #${i}`).toBe(from + i);
}

/** Checks every container of the manifest: all written messages are on disk exactly once. */
export function expectComplete(root: string, manifest: Manifest): { lines: PhysLine[] } {
  const all: PhysLine[] = [];
  let total = 0;
  for (const [key, e] of Object.entries(manifest.containers)) {
    const lines = readLines(root, e);
    expectContiguous(markersOf(key, lines), 0, e.lines);
    all.push(...lines);
    total += e.lines;
  }
  expect(manifest.total).toBe(total);
  return { lines: all };
}
