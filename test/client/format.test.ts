import { describe, expect, it } from 'vitest';
import { colors, formatLine, MetadataSplitter, prefixColor, renderTable, useColor } from '../../src/client/format.js';
import { renderResult } from '../../src/client/query.js';

const e = { tsNs: 1795341600123456789n, labels: { namespace: 'shop', pod: 'web-1', container: 'nginx' }, metadata: { detected_level: 'error' }, line: 'boom' };
const plain = { timestamps: false, prefix: false, json: false, color: false };

describe('line formatting', () => {
  it('plain, with timestamps and kubectl prefix, no colour codes', () => {
    expect(formatLine(e, plain, colors(false))).toBe('boom');
    expect(formatLine(e, { ...plain, timestamps: true, prefix: true }, colors(false))).toBe('[pod/web-1/nginx] 2026-11-22T10:00:00.123456789Z boom');
  });

  it('json: ts, labels, line, metadata', () => {
    expect(JSON.parse(formatLine(e, { ...plain, json: true }, colors(true)))).toEqual({ ts: '2026-11-22T10:00:00.123456789Z', labels: e.labels, line: 'boom', metadata: { detected_level: 'error' } });
  });

  it('colour: dim timestamp, a stable colour per pod/container, red errors, yellow warnings', () => {
    const c = colors(true);
    const out = formatLine(e, { timestamps: true, prefix: true, json: false, color: true }, c);
    expect(out).toBe(`${prefixColor(c, '[pod/web-1/nginx]')('[pod/web-1/nginx]')} ${c.dim('2026-11-22T10:00:00.123456789Z')} ${c.red('boom')}`);
    expect(out).toContain('\x1b[2m2026'); // dim
    expect(out).toContain('\x1b[31mboom'); // red
    expect(formatLine({ ...e, metadata: {}, line: 'level=warn slow' }, { ...plain, color: true }, c)).toBe(c.yellow('level=warn slow'));
    expect(formatLine({ ...e, metadata: {}, line: 'hello' }, { ...plain, color: true }, c)).toBe('hello');
    expect(prefixColor(c, 'a')('x')).toBe(prefixColor(c, 'a')('x'));
  });

  it('colour only on a terminal, never with NO_COLOR', () => {
    expect(useColor(true, {})).toBe(true);
    expect(useColor(false, {})).toBe(false);
    expect(useColor(true, { NO_COLOR: '1' })).toBe(false);
    expect(useColor(true, { TERM: 'dumb' })).toBe(false);
    expect(useColor(false, { FORCE_COLOR: '1' })).toBe(true);
  });
});

describe('metadata split', () => {
  it('stream labels are the series\' own, the rest is structured metadata', () => {
    const s = new MetadataSplitter([{ pod: 'a', container: 'c' }, { pod: 'a', container: 'c', restart: '1' }]);
    expect(s.split({ pod: 'a', container: 'c', restart: '1', detected_level: 'info', trace_id: 't' })).toEqual({ labels: { pod: 'a', container: 'c', restart: '1' }, metadata: { detected_level: 'info', trace_id: 't' } });
    expect(new MetadataSplitter([]).split({ pod: 'a', detected_level: 'info' })).toEqual({ labels: { pod: 'a' }, metadata: { detected_level: 'info' } });
  });
});

describe('query results', () => {
  it('a matrix renders as a table of series, time and value', () => {
    const out = renderResult({ resultType: 'matrix', result: [{ metric: { pod: 'web-1' }, values: [[1795341600, '3'], [1795341660, '0.3333333333']] }, { metric: {}, values: [[1795341600, '12']] }] }, 'table', false, 'backward');
    expect(out).toBe([
      'SERIES         TIME                  VALUE',
      '{pod="web-1"}  2026-11-22T10:00:00Z  3',
      '{pod="web-1"}  2026-11-22T10:01:00Z  0.333333',
      '{}             2026-11-22T10:00:00Z  12',
      '',
    ].join('\n'));
    expect(renderTable(['A'], [], colors(true), true)).toBe(`${colors(true).bold('A')}\n`);
  });

  it('streams render as time, labels, line; raw as lines only', () => {
    const data = { resultType: 'streams' as const, result: [{ stream: { app: 'a' }, values: [['2', 'two'], ['1', 'one']] as Array<[string, string]> }] };
    expect(renderResult(data, 'table', false, 'backward')).toBe('1970-01-01T00:00:00.000000002Z {app="a"} two\n1970-01-01T00:00:00.000000001Z {app="a"} one\n');
    expect(renderResult(data, 'raw', false, 'forward')).toBe('one\ntwo\n');
    expect(JSON.parse(renderResult(data, 'json', false, 'forward'))).toEqual(data);
  });
});
