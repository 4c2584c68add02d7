import { describe, expect, it } from 'vitest';
import {
  evalCountPushdown,
  evalMetricQuery,
  LogQLEvalError,
  LogQLPipelineError,
  parseLogQL,
  pushdownCount,
  type MetricExpr,
  type MetricSource,
  type PushdownCountQuery,
} from '../../src/logql/index.js';
import { compileRegex } from '../../src/logql/regex.js';
import type { CountSeries, Labels, LabelMatcher, StoredRow } from '../../src/store/engine.js';

const SEC = 1_000_000_000n;
const T0 = 1_700_000_000n * SEC;
const at = (s: number) => T0 + BigInt(s) * SEC;
const t = (s: number) => 1_700_000_000 + s;

const A = { app: 'api', pod: 'a' };
const B = { app: 'api', pod: 'b' };
const C = { app: 'web', pod: 'c' };

/** Seconds after T0, stream, line. */
const DATA: Array<[number, Labels, string]> = [
  [10, A, '{"level":"info","latency_ms":100}'],
  [15, B, '{"level":"info","latency_ms":400}'],
  [20, A, '{"level":"error","latency_ms":300}'],
  [30, A, '{"level":"info","latency_ms":200}'],
  [60, C, 'GET /index.html 200'],
  [70, A, '{"level":"info","latency_ms":50}'],
  [75, B, '{"level":"error","latency_ms":600}'],
  [80, A, '{"level":"error","latency_ms":"oops"}'],
  [120, C, 'GET /über 404'],
  [125, B, '{"level":"info","latency_ms":10}'],
];
const ROWS: StoredRow[] = DATA.map(([s, labels, line]) => ({ tsNs: at(s), labels, line }));

function matches(m: LabelMatcher, labels: Labels): boolean {
  const v = labels[m.name] ?? '';
  if (m.op === '=') return v === m.value;
  if (m.op === '!=') return v !== m.value;
  const ok = compileRegex(m.value, true).test(v);
  return m.op === '=~' ? ok : !ok;
}

/** A fake engine scan: selector, pushed line filters and [startNs, endNs). Records its calls. */
function source(calls: Array<{ startNs: bigint; endNs: bigint }> = []): MetricSource {
  return async function* ({ plan, startNs, endNs }) {
    calls.push({ startNs, endNs });
    const rows = ROWS.filter(
      (r) =>
        r.tsNs >= startNs &&
        r.tsNs < endNs &&
        plan.matchers.every((m) => matches(m, r.labels)) &&
        plan.lineFilters.every((f) => (f.op === '|=' ? r.line.includes(f.value) : f.op === '!=' ? !r.line.includes(f.value) : true)),
    );
    for (let i = 0; i < rows.length; i += 3) yield rows.slice(i, i + 3);
  };
}

const RANGE = { startNs: at(60), endNs: at(180), stepNs: 60n * SEC };
const run = (q: string, opts = RANGE) => evalMetricQuery(parseLogQL(q) as MetricExpr, source(), opts);

describe('range aggregations (steps 60s, 120s, 180s; windows (t-1m, t])', () => {
  it('count_over_time per stream, window end inclusive and start exclusive', async () => {
    expect(await run('count_over_time({app=~".+"}[1m])')).toEqual([
      { metric: A, values: [[t(60), '3'], [t(120), '2']] },
      { metric: B, values: [[t(60), '1'], [t(120), '1'], [t(180), '1']] },
      { metric: C, values: [[t(60), '1'], [t(120), '1']] },
    ]);
  });

  it('asks the source for (start - range, end] as [start - range + 1ns, end + 1ns)', async () => {
    const calls: Array<{ startNs: bigint; endNs: bigint }> = [];
    await evalMetricQuery(parseLogQL('count_over_time({app="api"}[1m] offset 30s)') as MetricExpr, source(calls), RANGE);
    expect(calls).toEqual([{ startNs: at(60 - 30 - 60) + 1n, endNs: at(180 - 30) + 1n }]);
  });

  it('rate divides by the range in seconds', async () => {
    expect(await run('rate({app="api"}[1m])')).toEqual([
      { metric: A, values: [[t(60), '0.05'], [t(120), '0.03333333333333333']] },
      { metric: B, values: [[t(60), '0.016666666666666666'], [t(120), '0.016666666666666666'], [t(180), '0.016666666666666666']] },
    ]);
  });

  it('bytes_over_time counts UTF-8 bytes of the line; bytes_rate per second', async () => {
    expect(await run('bytes_over_time({app="web"}[1m])')).toEqual([{ metric: C, values: [[t(60), '19'], [t(120), '14']] }]);
    expect(await run('bytes_rate({app="web"}[2m])')).toEqual([{ metric: C, values: [[t(60), '0.15833333333333333'], [t(120), '0.275'], [t(180), '0.11666666666666667']] }]);
  });

  it('offset shifts the windows back', async () => {
    expect(await run('count_over_time({app="api"}[1m] offset 1m)')).toEqual([
      { metric: A, values: [[t(120), '3'], [t(180), '2']] },
      { metric: B, values: [[t(120), '1'], [t(180), '1']] },
    ]);
  });

  it('sum_over_time of an unwrapped label: series lose the label, __error__="" drops conversion errors', async () => {
    expect(await run('sum_over_time({app="api"} | json | unwrap latency_ms | __error__="" [1m])')).toEqual([
      // Sorted as Prometheus compares label sets: app, then level, then pod.
      { metric: { ...A, level: 'error' }, values: [[t(60), '300']] },
      { metric: { ...B, level: 'error' }, values: [[t(120), '600']] },
      { metric: { ...A, level: 'info' }, values: [[t(60), '300'], [t(120), '50']] },
      { metric: { ...B, level: 'info' }, values: [[t(60), '400'], [t(180), '10']] },
    ]);
  });

  it('a conversion error without a filter is a pipeline error, as in Loki', async () => {
    await expect(run('sum_over_time({app="api"} | json | unwrap latency_ms [1m])')).rejects.toThrow(LogQLPipelineError);
    await expect(run('sum_over_time({app="api"} | json | unwrap latency_ms [1m])')).rejects.toThrow(/pipeline error: 'SampleExtractionErr'/);
    await expect(run('count_over_time({app="web"} | json [1m])')).rejects.toThrow(/'JSONParserErr'/);
    expect(await run('count_over_time({app="web"} | json | __error__="" [1m])')).toEqual([]);
  });

  it('avg/max/min/quantile_over_time with by grouping merge the group before the window', async () => {
    const unwrap = '{app="api"} | json | unwrap latency_ms | __error__="" [1m]';
    expect(await run(`avg_over_time(${unwrap}) by (app)`)).toEqual([{ metric: { app: 'api' }, values: [[t(60), '250'], [t(120), '325'], [t(180), '10']] }]);
    expect(await run(`max_over_time(${unwrap}) by (pod)`)).toEqual([
      { metric: { pod: 'a' }, values: [[t(60), '300'], [t(120), '50']] },
      { metric: { pod: 'b' }, values: [[t(60), '400'], [t(120), '600'], [t(180), '10']] },
    ]);
    expect(await run(`min_over_time(${unwrap}) by (app)`)).toEqual([{ metric: { app: 'api' }, values: [[t(60), '100'], [t(120), '50'], [t(180), '10']] }]);
    expect(await run(`quantile_over_time(0.5, ${unwrap}) by (app)`)).toEqual([{ metric: { app: 'api' }, values: [[t(60), '250'], [t(120), '325'], [t(180), '10']] }]);
    expect(await run(`stddev_over_time(${unwrap}) by (app)`)).toEqual([{ metric: { app: 'api' }, values: [[t(60), '111.80339887498948'], [t(120), '275'], [t(180), '0']] }]);
    expect(await run(`first_over_time(${unwrap}) by (app)`)).toEqual([{ metric: { app: 'api' }, values: [[t(60), '100'], [t(120), '50'], [t(180), '10']] }]);
    expect(await run(`last_over_time(${unwrap}) by (app)`)).toEqual([{ metric: { app: 'api' }, values: [[t(60), '200'], [t(120), '600'], [t(180), '10']] }]);
  });

  it('unwrap converts durations and bytes', async () => {
    const rows: StoredRow[] = [
      { tsNs: at(10), labels: A, line: 'took=1.5s size=2KiB' },
      { tsNs: at(20), labels: A, line: 'took=250ms size=1KB' },
    ];
    const src: MetricSource = async function* () {
      yield rows;
    };
    const opts = { startNs: at(60), endNs: at(60), stepNs: SEC, instant: true };
    expect(await evalMetricQuery(parseLogQL('max_over_time({app="api"} | logfmt | unwrap duration(took) [1m]) by (app)') as MetricExpr, src, opts)).toEqual([
      { metric: { app: 'api' }, value: [t(60), '1.5'] },
    ]);
    expect(await evalMetricQuery(parseLogQL('max_over_time({app="api"} | logfmt | unwrap bytes(size) [1m]) by (app)') as MetricExpr, src, opts)).toEqual([
      { metric: { app: 'api' }, value: [t(60), '2048'] },
    ]);
  });
});

describe('float sums', () => {
  it('add window values in order (no cancellation from running totals)', async () => {
    const rows: StoredRow[] = [
      { tsNs: at(10), labels: A, line: 'v=1000000.1' },
      { tsNs: at(70), labels: A, line: 'v=0.1' },
      { tsNs: at(80), labels: A, line: 'v=0.2' },
    ];
    const src: MetricSource = async function* () {
      yield rows;
    };
    expect(await evalMetricQuery(parseLogQL('sum_over_time({app="api"} | logfmt | unwrap v [1m])') as MetricExpr, src, RANGE)).toEqual([
      { metric: A, values: [[t(60), '1000000.1'], [t(120), '0.30000000000000004']] },
    ]);
  });
});

describe('vector aggregations', () => {
  it('sum by, count by, avg/min/max by', async () => {
    expect(await run('sum by (app) (count_over_time({app=~".+"}[1m]))')).toEqual([
      { metric: { app: 'api' }, values: [[t(60), '4'], [t(120), '3'], [t(180), '1']] },
      { metric: { app: 'web' }, values: [[t(60), '1'], [t(120), '1']] },
    ]);
    expect(await run('sum(count_over_time({app=~".+"}[1m]))')).toEqual([{ metric: {}, values: [[t(60), '5'], [t(120), '4'], [t(180), '1']] }]);
    expect(await run('count by (app) (count_over_time({app=~".+"}[1m]))')).toEqual([
      { metric: { app: 'api' }, values: [[t(60), '2'], [t(120), '2'], [t(180), '1']] },
      { metric: { app: 'web' }, values: [[t(60), '1'], [t(120), '1']] },
    ]);
    expect(await run('avg by (app) (count_over_time({app="api"}[1m]))')).toEqual([{ metric: { app: 'api' }, values: [[t(60), '2'], [t(120), '1.5'], [t(180), '1']] }]);
    expect(await run('min by (app) (count_over_time({app="api"}[1m]))')).toEqual([{ metric: { app: 'api' }, values: [[t(60), '1'], [t(120), '1'], [t(180), '1']] }]);
    expect(await run('max(count_over_time({app="api"}[1m])) by (app)')).toEqual([{ metric: { app: 'api' }, values: [[t(60), '3'], [t(120), '2'], [t(180), '1']] }]);
  });

  it('sum without drops the listed labels', async () => {
    expect(await run('sum without (pod) (count_over_time({app=~".+"}[1m]))')).toEqual(await run('sum by (app) (count_over_time({app=~".+"}[1m]))'));
  });

  it('sum by an extracted label (parser hints path)', async () => {
    expect(await run('sum by (level) (count_over_time({app="api"} | json [1m]))')).toEqual([
      { metric: { level: 'error' }, values: [[t(60), '1'], [t(120), '2']] },
      { metric: { level: 'info' }, values: [[t(60), '3'], [t(120), '1'], [t(180), '1']] },
    ]);
  });

  it('topk/bottomk pick per step and keep the original labels', async () => {
    expect(await run('topk(1, count_over_time({app=~".+"}[1m]))')).toEqual([
      { metric: A, values: [[t(60), '3'], [t(120), '2']] },
      { metric: B, values: [[t(180), '1']] },
    ]);
    expect(await run('bottomk(1, count_over_time({app="api"}[1m]))')).toEqual([{ metric: B, values: [[t(60), '1'], [t(120), '1'], [t(180), '1']] }]);
    expect(await run('topk(1, count_over_time({app=~".+"}[1m])) by (app)')).toEqual([
      { metric: A, values: [[t(60), '3'], [t(120), '2']] },
      { metric: B, values: [[t(180), '1']] },
      { metric: C, values: [[t(60), '1'], [t(120), '1']] },
    ]);
  });
});

describe('binary operators', () => {
  it('vector / scalar, vector / vector on equal labels', async () => {
    expect(await run('sum(count_over_time({app="api"}[1m])) / 2')).toEqual([{ metric: {}, values: [[t(60), '2'], [t(120), '1.5'], [t(180), '0.5']] }]);
    expect(await run('sum by (app) (count_over_time({app=~".+"} |= "error" [1m])) / sum by (app) (count_over_time({app=~".+"}[1m]))')).toEqual([
      { metric: { app: 'api' }, values: [[t(60), '0.25'], [t(120), '0.6666666666666666']] },
    ]);
  });

  it('comparisons filter, or return 0/1 with bool', async () => {
    expect(await run('sum by (pod) (count_over_time({app="api"}[1m])) > 1')).toEqual([{ metric: { pod: 'a' }, values: [[t(60), '3'], [t(120), '2']] }]);
    expect(await run('sum by (pod) (count_over_time({app="api"}[1m])) > bool 1')).toEqual([
      { metric: { pod: 'a' }, values: [[t(60), '1'], [t(120), '1']] },
      { metric: { pod: 'b' }, values: [[t(60), '0'], [t(120), '0'], [t(180), '0']] },
    ]);
  });

  it('or vector(0) fills gaps; and/unless match on labels', async () => {
    expect(await run('sum(count_over_time({app="web"}[1m])) or vector(0)')).toEqual([{ metric: {}, values: [[t(60), '1'], [t(120), '1'], [t(180), '0']] }]);
    expect(await run('count_over_time({app="api"}[1m]) unless count_over_time({app="api"} |= "error" [1m])')).toEqual([
      { metric: B, values: [[t(60), '1'], [t(180), '1']] },
    ]);
    expect(await run('count_over_time({app="api"}[1m]) and on (pod) count_over_time({pod="a"}[1m])')).toEqual([{ metric: A, values: [[t(60), '3'], [t(120), '2']] }]);
  });
});

describe('instant queries and options', () => {
  it('evaluates once at endNs and returns a vector', async () => {
    expect(await run('count_over_time({app=~".+"}[1m])', { startNs: at(120), endNs: at(120), stepNs: 0n, instant: true } as typeof RANGE)).toEqual([
      { metric: A, value: [t(120), '2'] },
      { metric: B, value: [t(120), '1'] },
      { metric: C, value: [t(120), '1'] },
    ]);
    expect(await run('sum(count_over_time({app=~".+"}[2m]))', { startNs: at(120), endNs: at(120), stepNs: 0n, instant: true } as typeof RANGE)).toEqual([
      { metric: {}, value: [t(120), '9'] },
    ]);
  });

  it('rejects bad steps and too many points', async () => {
    await expect(run('count_over_time({app="api"}[1m])', { ...RANGE, stepNs: 0n })).rejects.toThrow(LogQLEvalError);
    await expect(run('count_over_time({app="api"}[1m])', { startNs: 0n, endNs: 20_000n * SEC, stepNs: SEC })).rejects.toThrow(/11,000 points/);
  });
});

describe('count pushdown', () => {
  /** A fake engine count(): buckets [startNs + k*stepNs, …) per `by` group. */
  const count = async (q: PushdownCountQuery): Promise<CountSeries[]> => {
    const groups = new Map<string, CountSeries>();
    for (const r of ROWS) {
      if (r.tsNs < q.startNs || r.tsNs >= q.endNs || !q.matchers.every((m) => matches(m, r.labels))) continue;
      if (!q.lineFilters.every((f) => (f.op === '|=' ? r.line.includes(f.value) : !r.line.includes(f.value)))) continue;
      const by = q.by ?? Object.keys(r.labels);
      const labels = Object.fromEntries(by.map((k) => [k, r.labels[k] ?? '']));
      const key = JSON.stringify(labels);
      const g = groups.get(key) ?? { labels, points: [] };
      groups.set(key, g);
      const b = q.startNs + ((r.tsNs - q.startNs) / q.stepNs) * q.stepNs;
      const p = g.points.find((x) => x[0] === b);
      if (p) {
        p[1]++;
        p[2] += Buffer.byteLength(r.line);
      } else g.points.push([b, 1, Buffer.byteLength(r.line)]);
    }
    return [...groups.values()];
  };

  it.each([
    'sum by (app) (count_over_time({app=~".+"}[1m]))',
    'sum(count_over_time({app=~".+"} != "error" [2m]))',
    'sum by (pod) (rate({app="api"}[90s]))',
    'count_over_time({app=~".+"}[1m] offset 30s)',
    'sum by (app) (bytes_over_time({app=~".+"}[1m]))',
    'bytes_rate({app="web"}[2m])',
  ])('%s equals the scanning evaluation', async (q) => {
    const expr = parseLogQL(q) as MetricExpr;
    const pd = pushdownCount(expr)!;
    expect(pd).not.toBeNull();
    for (const opts of [RANGE, { startNs: at(30), endNs: at(180), stepNs: 45n * SEC }, { startNs: at(120), endNs: at(120), stepNs: 0n, instant: true }]) {
      expect(await evalCountPushdown(pd, count, opts)).toEqual(await evalMetricQuery(expr, source(), opts));
    }
  });
});
