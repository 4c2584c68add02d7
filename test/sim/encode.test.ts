import { describe, expect, it } from 'vitest';
import { encodeCri, encodeDocker, formatCriTime, formatDockerTime, MAX_RECORD_BYTES } from '../../src/sim/index.js';
import { parseCri, parseDocker } from './helpers.js';

const NS = 1_718_186_400_123_450_000n; // 2024-06-12T10:00:00.12345Z

function cri(line: string, stream: 'stdout' | 'stderr' = 'stdout'): Buffer {
  const out: Buffer[] = [];
  encodeCri(formatCriTime(NS), stream, line, out);
  return Buffer.concat(out);
}

function docker(line: string, stream: 'stdout' | 'stderr' = 'stdout'): Buffer {
  const out: Buffer[] = [];
  encodeDocker(formatDockerTime(NS), stream, line, out);
  return Buffer.concat(out);
}

describe('timestamps', () => {
  it('CRI uses 9 fraction digits, docker trims trailing zeros', () => {
    expect(formatCriTime(NS)).toBe('2024-06-12T10:00:00.123450000Z');
    expect(formatDockerTime(NS)).toBe('2024-06-12T10:00:00.12345Z');
    expect(formatDockerTime(1_718_186_400_000_000_000n)).toBe('2024-06-12T10:00:00Z');
    expect(formatCriTime(1_718_186_400_000_000_007n)).toBe('2024-06-12T10:00:00.000000007Z');
  });
});

describe('CRI records', () => {
  it('writes a short line as one F record', () => {
    expect(cri('hello wörld', 'stderr').toString()).toBe('2024-06-12T10:00:00.123450000Z stderr F hello wörld\n');
  });

  it('splits long lines into 16384-byte P records ending in F', () => {
    const line = 'x'.repeat(2 * MAX_RECORD_BYTES + 100);
    const records = cri(line).toString().split('\n').slice(0, -1);
    expect(records.map((r) => r.split(' ')[2])).toEqual(['P', 'P', 'F']);
    expect(records.map((r) => r.length - '2024-06-12T10:00:00.123450000Z stdout P '.length)).toEqual([MAX_RECORD_BYTES, MAX_RECORD_BYTES, 100]);
    expect(parseCri(cri(line), 't')[0]).toMatchObject({ line, records: 3 });
  });

  it('keeps a line of exactly 16384 bytes in one record and splits one byte more', () => {
    expect(cri('y'.repeat(MAX_RECORD_BYTES)).toString().split('\n').length).toBe(2);
    const parsed = parseCri(cri('y'.repeat(MAX_RECORD_BYTES + 1)), 't');
    expect(parsed).toHaveLength(1);
    expect(parsed[0].records).toBe(2);
  });

  it('cuts byte-exact, even through a multi-byte character', () => {
    const line = `${'a'.repeat(MAX_RECORD_BYTES - 1)}€tail`;
    const buf = cri(line);
    const first = buf.subarray(0, buf.indexOf(0x0a));
    expect(first.length).toBe('2024-06-12T10:00:00.123450000Z stdout P '.length + MAX_RECORD_BYTES);
    expect(parseCri(buf, 't')[0].line).toBe(line);
  });
});

describe('docker json-file records', () => {
  it('writes log, stream, time in that order with Go escaping', () => {
    expect(docker('a <b> & "c"\t\u2028').toString()).toBe(
      '{"log":"a \\u003cb\\u003e \\u0026 \\"c\\"\\t\\u2028\\n","stream":"stdout","time":"2024-06-12T10:00:00.12345Z"}\n',
    );
  });

  it('splits long lines: partials without \\n, the last with it', () => {
    const line = 'z'.repeat(MAX_RECORD_BYTES * 2 + 5);
    const records = docker(line)
      .toString()
      .split('\n')
      .slice(0, -1)
      .map((r) => JSON.parse(r) as { log: string });
    expect(records.map((r) => r.log.length)).toEqual([MAX_RECORD_BYTES, MAX_RECORD_BYTES, 6]);
    expect(records.map((r) => r.log.endsWith('\n'))).toEqual([false, false, true]);
    expect(parseDocker(docker(line), 't')[0]).toMatchObject({ line, records: 3 });
  });

  it('backs off to a character boundary', () => {
    const line = `${'a'.repeat(MAX_RECORD_BYTES - 1)}€tail`;
    const first = JSON.parse(docker(line).toString().split('\n')[0]) as { log: string };
    expect(first.log).toBe('a'.repeat(MAX_RECORD_BYTES - 1));
    expect(parseDocker(docker(line), 't')[0].line).toBe(line);
  });
});

