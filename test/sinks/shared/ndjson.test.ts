import { describe, expect, it } from 'vitest';
import { EventFlags, makeSource, type LogEvent } from '../../../src/core/event.js';
import { eventToJson, NdjsonEncoder } from '../../../src/sinks/shared/ndjson.js';

const source = makeSource('1:2:ab', 'node', { namespace: 'shop', pod: 'web-1', container: 'app "x"' });
const ev = (line: string, extra: Partial<LogEvent> = {}): LogEvent => ({ ts: '2026-11-22T10:00:00.123456789Z', stream: 'stdout', line, flags: 0, offset: 10, ...extra });

describe('NdjsonEncoder', () => {
  const cases: LogEvent[] = [
    ev('plain line'),
    ev(''),
    ev('{"level":"info","msg":"quoted \\"x\\" and back\\\\slash"}'),
    ev('tab\there, newline\nthere, nul\u0000, bell\u0007'),
    ev('héllo 世界 😀', { stream: 'stderr' }),
    ev('lone surrogate \ud800 end'),
    ev('x'.repeat(100_000), { flags: EventFlags.Truncated | EventFlags.Malformed }),
    ev('weird ts', { ts: 'bad"ts\\' }),
  ];

  it('writes exactly what eventToJson writes, as valid JSON lines', () => {
    const enc = new NdjsonEncoder(64); // tiny: forces growth
    for (const e of cases) enc.add(e, source);
    const text = enc.bytes().toString('utf8');
    const expected = cases.map((e) => Buffer.from(eventToJson(e, source) + '\n').toString('utf8')).join('');
    expect(text).toBe(expected);
    const rows = text.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.line)).toEqual(cases.map((c) => c.line));
    expect(rows[6].flags).toEqual(['truncated', 'malformed']);
    expect(rows[0].labels).toEqual(source.labels);
  });

  it('starts over after reset', () => {
    const enc = new NdjsonEncoder();
    enc.add(ev('one'), source);
    enc.reset();
    enc.add(ev('two'), source);
    expect(enc.bytes().toString()).toBe(eventToJson(ev('two'), source) + '\n');
  });
});
