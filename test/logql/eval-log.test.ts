import { describe, expect, it } from 'vitest';
import { evalLogQuery, parseLogQL, type LogQueryExpr } from '../../src/logql/index.js';
import type { StoredRow } from '../../src/store/engine.js';

const A = { app: 'api', pod: 'a' };
const B = { app: 'api', pod: 'b' };
const T = 1_700_000_000_000_000_000n;
const S = 1_000_000_000n;

// Forward (ascending) order, as the engine scans.
const ROWS: StoredRow[] = [
  { tsNs: T + 1n * S, labels: A, line: 'level=info msg=one' },
  { tsNs: T + 2n * S, labels: B, line: 'level=error msg=two' },
  { tsNs: T + 3n * S, labels: A, line: 'level=error msg=three' },
  { tsNs: T + 4n * S, labels: B, line: 'level=info msg=four' },
  { tsNs: T + 5n * S, labels: A, line: 'level=info msg=five' },
];

async function* batches(rows: StoredRow[], size = 2): AsyncIterable<StoredRow[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}
const q = (s: string) => parseLogQL(s) as LogQueryExpr;

describe('evalLogQuery', () => {
  it('groups lines into streams sorted by labels, entries forward', async () => {
    const res = await evalLogQuery(q('{app="api"}'), batches(ROWS), { limit: 100, direction: 'forward' });
    expect(res).toEqual([
      {
        stream: A,
        values: [
          [(T + 1n * S).toString(), 'level=info msg=one'],
          [(T + 3n * S).toString(), 'level=error msg=three'],
          [(T + 5n * S).toString(), 'level=info msg=five'],
        ],
      },
      { stream: B, values: [[(T + 2n * S).toString(), 'level=error msg=two'], [(T + 4n * S).toString(), 'level=info msg=four']] },
    ]);
  });

  it('limit counts lines over all streams in direction order; backward returns the newest first', async () => {
    const fwd = await evalLogQuery(q('{app="api"}'), batches(ROWS), { limit: 3, direction: 'forward' });
    expect(fwd.map((s) => [s.stream.pod, s.values.map((v) => v[1])])).toEqual([
      ['a', ['level=info msg=one', 'level=error msg=three']],
      ['b', ['level=error msg=two']],
    ]);
    const bwd = await evalLogQuery(q('{app="api"}'), batches([...ROWS].reverse()), { limit: 3, direction: 'backward' });
    expect(bwd.map((s) => [s.stream.pod, s.values.map((v) => v[1])])).toEqual([
      ['a', ['level=info msg=five', 'level=error msg=three']],
      ['b', ['level=info msg=four']],
    ]);
  });

  it('stops reading rows once the limit is reached', async () => {
    let pulled = 0;
    async function* counting(): AsyncIterable<StoredRow[]> {
      for (const r of ROWS) {
        pulled++;
        yield [r];
      }
    }
    await evalLogQuery(q('{app="api"}'), counting(), { limit: 2, direction: 'forward' });
    expect(pulled).toBe(2);
  });

  it('splits streams by extracted labels and applies the pipeline before the limit', async () => {
    const res = await evalLogQuery(q('{app="api"} | logfmt | level="error" | line_format "{{.msg}}"'), batches(ROWS), { limit: 100, direction: 'forward' });
    expect(res).toEqual([
      { stream: { app: 'api', level: 'error', msg: 'three', pod: 'a' }, values: [[(T + 3n * S).toString(), 'three']] },
      { stream: { app: 'api', level: 'error', msg: 'two', pod: 'b' }, values: [[(T + 2n * S).toString(), 'two']] },
    ]);
    const drop = await evalLogQuery(q('{app="api"} | logfmt | drop msg'), batches(ROWS), { limit: 2, direction: 'forward' });
    expect(drop.map((s) => s.stream)).toEqual([{ app: 'api', level: 'error', pod: 'b' }, { app: 'api', level: 'info', pod: 'a' }]);
  });

  it('sees structured metadata as labels', async () => {
    const rows: StoredRow[] = [{ tsNs: T, labels: A, line: 'x', metadata: { trace_id: 't1' } }, { tsNs: T + 1n, labels: A, line: 'y' }];
    const res = await evalLogQuery(q('{app="api"} | trace_id="t1"'), batches(rows), { limit: 10, direction: 'forward' });
    expect(res).toEqual([{ stream: { ...A, trace_id: 't1' }, values: [[T.toString(), 'x']] }]);
  });

  it('keeps equal timestamps in arrival order', async () => {
    const rows: StoredRow[] = [
      { tsNs: T, labels: A, line: 'first' },
      { tsNs: T, labels: A, line: 'second' },
    ];
    const res = await evalLogQuery(q('{app="api"}'), batches(rows), { limit: 10, direction: 'backward' });
    expect(res[0]!.values.map((v) => v[1])).toEqual(['first', 'second']);
  });
});
