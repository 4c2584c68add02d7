import { describe, expect, it } from 'vitest';
import { EventFlags, makeSource, type LogEvent } from '../../../src/core/event.js';
import { RowWriter } from '../../../src/sinks/clickhouse/row-writer.js';
import { baseType, planRows, PlanError, type RowPlan, type TableColumn } from '../../../src/sinks/clickhouse/columns.js';

const col = (name: string, type: string, default_kind = ''): TableColumn => ({ name, type, default_kind });
const source = makeSource('7:8:ab', 'node', { namespace: 'shop', pod: 'web-1', container: 'nginx', 'app.kubernetes.io/name': 'web' });
const ev: LogEvent = { ts: '2026-11-22T10:00:01.123456789Z', stream: 'stderr', line: 'GET / "ok" \\ é', flags: EventFlags.Truncated | EventFlags.Multiline, offset: 4242, fields: { level: 'error', user: 'ann' } };
const t = { secs: 1795341601, frac: '123456789' };

/** The JSON row the plan writes for `ev` from `source`. */
function rowText(plan: RowPlan, e: LogEvent = ev): string {
  const w = new RowWriter(16);
  w.begin();
  for (const m of plan.perEvent) m(e, t, w);
  w.members(plan.perSource.map((m) => m(source)).filter((s) => s !== null).join(','));
  w.end();
  return w.bytes().toString('utf8');
}
const row = (plan: RowPlan, e: LogEvent = ev) => JSON.parse(rowText(plan, e)) as Record<string, unknown>;

describe('clickhouse sink: column plan', () => {
  it('strips LowCardinality and Nullable to the base type', () => {
    expect(baseType('LowCardinality(Nullable(String))')).toEqual({ base: 'String', nullable: true });
    expect(baseType('DateTime64(9, \'UTC\')')).toEqual({ base: 'DateTime64(9, \'UTC\')', nullable: false });
  });

  it('fills a modern table by column names: DateTime64 ticks, Map labels and fields, flag names, label columns', () => {
    const plan = planRows([
      col('timestamp', 'DateTime64(9)'), col('date', 'Date', 'DEFAULT'), col('namespace', 'LowCardinality(String)'), col('pod', 'LowCardinality(String)'),
      col('stream', 'LowCardinality(String)'), col('labels', 'Map(LowCardinality(String), String)'), col('fields', 'Map(LowCardinality(String), String)'),
      col('flags', 'Array(LowCardinality(String))'), col('line', 'String'), col('line_length', 'UInt32', 'MATERIALIZED'),
    ], {}, 'sinks.ch');
    expect(plan.columns).toEqual(['timestamp', 'date', 'namespace', 'pod', 'stream', 'labels', 'fields', 'flags', 'line']);
    expect(row(plan)).toEqual({
      timestamp: expect.any(Number), date: '2026-11-22', namespace: 'shop', pod: 'web-1', stream: 'stderr',
      labels: source.labels, fields: ev.fields, flags: ['truncated', 'multiline'], line: ev.line,
    });
    // The ticks are written as exact integer text (JSON.parse above rounds them to a double).
    expect(rowText(plan)).toMatch(/^\{"timestamp":1795341601123456789,"date":"2026-11-22",/);
  });

  it('writes seconds into DateTime, scaled ticks into DateTime64(3), nanoseconds into Int64, the text into String', () => {
    const text = (type: string) => rowText(planRows([col('timestamp', type), col('line', 'String')], {}, 'x')).split(',"line"')[0]!.slice(1);
    expect(text('DateTime')).toBe('"timestamp":1795341601');
    expect(text("DateTime('Europe/Berlin')")).toBe('"timestamp":1795341601');
    expect(text("DateTime64(3, 'Asia/Istanbul')")).toBe('"timestamp":1795341601123');
    expect(text('Int64')).toBe('"timestamp":1795341601123456789');
    expect(text('String')).toBe(`"timestamp":"${ev.ts}"`);
  });

  it('fills an old-server table: Nested labels and fields as key/value arrays, flags as a bit mask', () => {
    const plan = planRows([
      col('ts_ns', 'Int64'), col('labels.key', 'Array(String)'), col('labels.value', 'Array(String)'),
      col('fields.key', 'Array(String)'), col('fields.value', 'Array(String)'), col('flags', 'UInt8'), col('message', 'String'),
    ], { ts_ns: 'timestamp' }, 'x');
    expect(row(plan)).toMatchObject({
      'labels.key': Object.keys(source.labels), 'labels.value': Object.values(source.labels),
      'fields.key': ['level', 'user'], 'fields.value': ['error', 'ann'], flags: 9, message: ev.line,
    });
    expect(row(plan, { ...ev, fields: undefined })).toMatchObject({ 'fields.key': [], 'fields.value': [] });
  });

  it('maps columns of another schema: label:, field:, source_id and offset; JSON text for String labels', () => {
    const plan = planRows([
      col('Timestamp', 'DateTime64(9)'), col('Body', 'String'), col('ServiceName', 'LowCardinality(String)'), col('SeverityText', 'LowCardinality(String)'),
      col('ResourceAttributes', 'String'), col('Source', 'String'), col('Offset', 'UInt64'), col('Missing', 'Nullable(String)'),
    ], { Timestamp: 'timestamp', Body: 'line', ServiceName: 'label:app.kubernetes.io/name', SeverityText: 'field:level', ResourceAttributes: 'labels', Source: 'source_id', Offset: 'offset' }, 'x');
    expect(row(plan)).toMatchObject({ Body: ev.line, ServiceName: 'web', SeverityText: 'error', ResourceAttributes: source.labelsJson, Source: '7:8:ab', Offset: 4242, Missing: null });
  });

  it('leaves a DEFAULT column to its expression when the label is absent, and writes "" to a plain one', () => {
    const plan = planRows([col('line', 'String'), col('cluster', 'String', 'DEFAULT'), col('node', 'String')], {}, 'x');
    expect(row(plan)).toEqual({ line: ev.line, node: '' });
  });

  it('turns lone surrogates (which ClickHouse refuses) into U+FFFD and keeps pairs', () => {
    const plan = planRows([col('line', 'String')], {}, 'x');
    expect(row(plan, { ...ev, line: 'a\ud800b 😀' })).toEqual({ line: 'a\ufffdb 😀' });
  });

  it('says what is wrong with a table it cannot fill', () => {
    expect(() => planRows([col('ts', 'DateTime')], {}, 'sinks.ch (logs.t)')).toThrow(/sinks\.ch \(logs\.t\): the table has no column for the log line/);
    expect(() => planRows([col('line', 'String'), col('stream', 'UInt8')], {}, 'x')).toThrow(PlanError);
    expect(() => planRows([col('line', 'String'), col('timestamp', 'Float64')], {}, 'x')).toThrow(/column timestamp is Float64, but timestamp needs DateTime/);
    expect(() => planRows([col('line', 'String')], { nope: 'line' }, 'x')).toThrow(/columns maps "nope", but the table has no such column \(it has line\)/);
    expect(() => planRows([col('line', 'String'), col('x', 'String')], { x: 'bogus' }, 'x')).toThrow(/unknown value "bogus"/);
  });
});
