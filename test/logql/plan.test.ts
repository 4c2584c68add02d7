import { describe, expect, it } from 'vitest';
import { parseLogQL, planLogQuery, pushdownCount, type LogQueryExpr, type MetricExpr } from '../../src/logql/index.js';

const log = (q: string) => parseLogQL(q) as LogQueryExpr;
const metric = (q: string) => parseLogQL(q) as MetricExpr;
const L = { app: 'api' };

describe('planLogQuery', () => {
  it('pushes the selector and the line filters before the first parser; later filters run in JS', () => {
    const { scan, pipeline } = planLogQuery(log('{app="api", pod=~"api-.*"} |= "GET" != "healthz" |~ "5\\\\d\\\\d" | json |= "timeout" | status >= 500'));
    expect(scan).toEqual({
      matchers: [{ name: 'app', op: '=', value: 'api' }, { name: 'pod', op: '=~', value: 'api-.*' }],
      lineFilters: [{ op: '|=', value: 'GET' }, { op: '!=', value: 'healthz' }, { op: '|~', value: '5\\d\\d' }],
    });
    expect(pipeline.hasStages).toBe(true);
    // The engine applied the pushed filters; the JS side must still apply `|= "timeout"` and the label filter.
    expect(pipeline.process('{"m":"GET / 503","status":503}', L, 1n)).toBeNull();
    expect(pipeline.process('{"m":"GET / 503 timeout","status":503}', L, 1n)?.labels).toEqual({ app: 'api', m: 'GET / 503 timeout', status: '503' });
    expect(pipeline.process('{"m":"GET / 200 timeout","status":200}', L, 1n)).toBeNull();
  });

  it('has no JS stages when everything is pushed', () => {
    const { scan, pipeline } = planLogQuery(log('{app="api"} |= "a" !~ "b"'));
    expect(scan.lineFilters).toEqual([{ op: '|=', value: 'a' }, { op: '!~', value: 'b' }]);
    expect(pipeline.hasStages).toBe(false);
    expect(pipeline.process('anything', L, 1n)).toEqual({ line: 'anything', labels: L });
  });

  it('keeps pushing past label filters, but not past line_format, label_format or parsers', () => {
    expect(planLogQuery(log('{app="api"} | pod="x" |= "y"')).scan.lineFilters).toEqual([{ op: '|=', value: 'y' }]);
    expect(planLogQuery(log('{app="api"} | line_format "{{.pod}}" |= "y"')).scan.lineFilters).toEqual([]);
    expect(planLogQuery(log('{app="api"} | label_format a=b |= "y"')).scan.lineFilters).toEqual([]);
    for (const p of ['json', 'logfmt', 'regexp "(?P<a>.)"', 'pattern "<a> <_>"', 'unpack', 'decolorize']) {
      expect(planLogQuery(log(`{app="api"} | ${p} |= "y"`)).scan.lineFilters).toEqual([]);
    }
  });

  it('splits `!= a or b` into two engine filters; keeps a positive `or` and pattern filters in JS', () => {
    const a = planLogQuery(log('{app="api"} != "a" or "b"'));
    expect(a.scan.lineFilters).toEqual([{ op: '!=', value: 'a' }, { op: '!=', value: 'b' }]);
    expect(a.pipeline.hasStages).toBe(false);
    const b = planLogQuery(log('{app="api"} |= "a" or "b" |> "<_> x" |= "c"'));
    expect(b.scan.lineFilters).toEqual([{ op: '|=', value: 'c' }]);
    expect(b.pipeline.process('b y x', L, 1n)).not.toBeNull();
    expect(b.pipeline.process('c y x', L, 1n)).toBeNull();
    expect(b.pipeline.process('a y z', L, 1n)).toBeNull();
  });

  it('returns fresh matcher objects (the plan can be handed out)', () => {
    const e = log('{app="api"}');
    const { scan } = planLogQuery(e);
    scan.matchers[0]!.value = 'changed';
    expect(e.matchers[0]!.value).toBe('api');
  });
});

describe('pushdownCount', () => {
  it('recognises sum by (stream labels) of count_over_time/rate over pushable filters', () => {
    expect(pushdownCount(metric('sum by (app, pod) (count_over_time({app="api"} |= "error" [5m]))'))).toEqual({
      plan: { matchers: [{ name: 'app', op: '=', value: 'api' }], lineFilters: [{ op: '|=', value: 'error' }] },
      rangeNs: 300_000_000_000n,
      offsetNs: 0n,
      by: ['app', 'pod'],
      kind: 'count',
      rate: false,
    });
    expect(pushdownCount(metric('sum(rate({app="api"}[1m] offset 5m))'))).toMatchObject({ by: [], kind: 'count', rate: true, offsetNs: 300_000_000_000n });
    expect(pushdownCount(metric('bytes_over_time({app="api"}[1m])'))).toMatchObject({ by: null, kind: 'bytes', rate: false });
    expect(pushdownCount(metric('sum by (app) (bytes_rate({app="api"}[1m]))'))).toMatchObject({ by: ['app'], kind: 'bytes', rate: true });
  });

  it('declines anything that needs the pipeline or another aggregation', () => {
    for (const q of [
      'sum by (level) (count_over_time({app="api"} | json [5m]))',
      'count_over_time({app="api"} |= "a" | logfmt |= "b" [5m])',
      'sum without (pod) (count_over_time({app="api"}[5m]))',
      'max by (app) (count_over_time({app="api"}[5m]))',
      'sum(sum_over_time({app="api"} | unwrap x [5m]))',
      'count_over_time({app="api"} |= "a" or "b" [5m])',
      'sum(count_over_time({app="api"}[5m])) / 2',
    ]) {
      expect(pushdownCount(metric(q)), q).toBeNull();
    }
  });
});
