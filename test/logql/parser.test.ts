import { describe, expect, it } from 'vitest';
import { formatLogQLError, LogQLSyntaxError, parseLogQL, type LabelFilterExpr, type LogQLExpr } from '../../src/logql/index.js';

function parseError(q: string): LogQLSyntaxError {
  try {
    parseLogQL(q);
  } catch (e) {
    if (e instanceof LogQLSyntaxError) return e;
    throw e;
  }
  throw new Error(`expected a syntax error for ${q}`);
}

function log(q: string) {
  const e = parseLogQL(q);
  if (e.kind !== 'log') throw new Error('expected a log query');
  return e;
}

describe('LogQL parser: log queries', () => {
  it('parses a stream selector with all four matcher operators', () => {
    expect(parseLogQL('{app="api", env!="dev", pod=~"api-.*", ns!~"kube-.*"}')).toEqual({
      kind: 'log',
      matchers: [
        { name: 'app', op: '=', value: 'api' },
        { name: 'env', op: '!=', value: 'dev' },
        { name: 'pod', op: '=~', value: 'api-.*' },
        { name: 'ns', op: '!~', value: 'kube-.*' },
      ],
      stages: [],
    });
  });

  it('parses chained line filters, backtick strings and `or` alternatives', () => {
    expect(log('{a="b"} |= "error" != `debug` |~ "time(out)?" !~ `(?i)health` |= "x" or "y"').stages).toEqual([
      { kind: 'lineFilter', op: '|=', values: ['error'] },
      { kind: 'lineFilter', op: '!=', values: ['debug'] },
      { kind: 'lineFilter', op: '|~', values: ['time(out)?'] },
      { kind: 'lineFilter', op: '!~', values: ['(?i)health'] },
      { kind: 'lineFilter', op: '|=', values: ['x', 'y'] },
    ]);
    expect(log('{a="b"} |> "<_> error <_>" !> "<_> debug"').stages.map((s) => s.kind === 'lineFilter' && s.op)).toEqual(['|>', '!>']);
  });

  it('parses parsers with their parameters and flags', () => {
    expect(log('{a="b"} | json | json first="items[0]", ua=`req.headers["User-Agent"]`, level | logfmt | logfmt --strict --keep-empty msg, d="duration" | regexp `(?P<ip>\\S+)` | pattern "<ip> - <_>" | unpack').stages).toEqual([
      { kind: 'json', params: [] },
      {
        kind: 'json',
        params: [
          { name: 'first', expression: 'items[0]' },
          { name: 'ua', expression: 'req.headers["User-Agent"]' },
          { name: 'level', expression: 'level' },
        ],
      },
      { kind: 'logfmt', strict: false, keepEmpty: false, params: [] },
      { kind: 'logfmt', strict: true, keepEmpty: true, params: [{ name: 'msg', expression: 'msg' }, { name: 'd', expression: 'duration' }] },
      { kind: 'regexp', pattern: '(?P<ip>\\S+)' },
      { kind: 'pattern', pattern: '<ip> - <_>' },
      { kind: 'unpack' },
    ]);
  });

  it('parses label filters: strings, regexes, numbers, durations, bytes', () => {
    const st = log('{a="b"} | level="error" | msg=~"tim.*" | status >= 500 | code == 200 | code = -1 | latency > 250ms | size <= 1KiB | x != 2').stages;
    expect(st.map((s) => s.kind === 'labelFilter' && s.filter)).toEqual([
      { kind: 'string', matcher: { name: 'level', op: '=', value: 'error' } },
      { kind: 'string', matcher: { name: 'msg', op: '=~', value: 'tim.*' } },
      { kind: 'number', name: 'status', op: '>=', value: 500 },
      { kind: 'number', name: 'code', op: '==', value: 200 },
      { kind: 'number', name: 'code', op: '==', value: -1 },
      { kind: 'duration', name: 'latency', op: '>', value: 250_000_000 },
      { kind: 'bytes', name: 'size', op: '<=', value: 1024 },
      { kind: 'number', name: 'x', op: '!=', value: 2 },
    ]);
  });

  it('combines label filters: and binds tighter than or; parentheses; "," and juxtaposition as in Loki', () => {
    const f = (q: string) => {
      const s = log(`{a="b"} | ${q}`).stages[0]!;
      if (s.kind !== 'labelFilter') throw new Error('not a label filter');
      const show = (x: LabelFilterExpr): string => {
        if (x.kind === 'and' || x.kind === 'or') return `(${show(x.left)} ${x.kind} ${show(x.right)})`;
        return x.kind === 'string' ? x.matcher.name : x.name;
      };
      return show(s.filter);
    };
    expect(f('a="1" or b="2" and c="3"')).toBe('(a or (b and c))');
    expect(f('a="1" and b="2" or c="3"')).toBe('((a and b) or c)');
    expect(f('(a="1" or b="2") and c="3"')).toBe('((a or b) and c)');
    expect(f('a="1", b="2" or c="3"')).toBe('(a and (b or c))');
    expect(f('a="1" b="2"')).toBe('(a and b)');
    expect(f('a > 1 or b > 2, c > 3')).toBe('(a or (b and c))');
  });

  it('parses line_format, label_format, drop, keep, decolorize', () => {
    expect(log('{a="b"} | line_format "{{.level}} {{ .msg }}" | label_format new=old, x="{{.a}}-{{.b}}" | drop a, b="x", c=~"y.*" | keep c, d!="" | decolorize').stages).toEqual([
      { kind: 'lineFormat', template: '{{.level}} {{ .msg }}' },
      { kind: 'labelFormat', formats: [{ name: 'new', rename: true, value: 'old' }, { name: 'x', rename: false, value: '{{.a}}-{{.b}}' }] },
      { kind: 'drop', labels: [{ name: 'a' }, { name: 'b', matcher: { name: 'b', op: '=', value: 'x' } }, { name: 'c', matcher: { name: 'c', op: '=~', value: 'y.*' } }] },
      { kind: 'keep', labels: [{ name: 'c' }, { name: 'd', matcher: { name: 'd', op: '!=', value: '' } }] },
      { kind: 'decolorize' },
    ]);
  });

  it('accepts a parenthesised log query and comments', () => {
    expect(parseLogQL('({app="x"} |= "a") # trailing comment')).toEqual(parseLogQL('{app="x"} |= "a"'));
  });
});

describe('LogQL parser: metric queries', () => {
  it('parses range aggregations with range, offset and grouping', () => {
    expect(parseLogQL('count_over_time({app="api"} |= "x" [5m] offset 1h)')).toEqual({
      kind: 'rangeAggregation',
      op: 'count_over_time',
      range: {
        log: { kind: 'log', matchers: [{ name: 'app', op: '=', value: 'api' }], stages: [{ kind: 'lineFilter', op: '|=', values: ['x'] }] },
        rangeNs: 300_000_000_000n,
        offsetNs: 3_600_000_000_000n,
      },
    });
    for (const op of ['rate', 'bytes_over_time', 'bytes_rate']) {
      expect(parseLogQL(`${op}({a="b"}[1m])`)).toMatchObject({ kind: 'rangeAggregation', op });
    }
  });

  it('accepts the range before the pipeline and parenthesised forms, like Loki', () => {
    const want = parseLogQL('count_over_time({a="b"} | json [1m])');
    expect(parseLogQL('count_over_time({a="b"}[1m] | json)')).toEqual(want);
    expect(parseLogQL('count_over_time(({a="b"} | json)[1m])')).toEqual(want);
    expect(parseLogQL('count_over_time(({a="b"} | json [1m]))')).toEqual(want);
  });

  it('parses unwrap with conversions and post filters', () => {
    expect(parseLogQL('quantile_over_time(0.99, {app="api"} | json | unwrap duration(latency) | __error__="" [5m]) by (route)')).toEqual({
      kind: 'rangeAggregation',
      op: 'quantile_over_time',
      param: 0.99,
      grouping: { without: false, labels: ['route'] },
      range: {
        log: { kind: 'log', matchers: [{ name: 'app', op: '=', value: 'api' }], stages: [{ kind: 'json', params: [] }] },
        rangeNs: 300_000_000_000n,
        offsetNs: 0n,
        unwrap: { label: 'latency', conversion: 'duration', postFilters: [{ kind: 'string', matcher: { name: '__error__', op: '=', value: '' } }] },
      },
    });
    expect(parseLogQL('sum_over_time({a="b"} | logfmt | unwrap bytes(size) [1m])')).toMatchObject({
      range: { unwrap: { label: 'size', conversion: 'bytes', postFilters: [] } },
    });
    expect(parseLogQL('avg_over_time({a="b"} | unwrap latency [1m])')).toMatchObject({ range: { unwrap: { label: 'latency', conversion: 'float' } } });
  });

  it('parses vector aggregations with grouping before or after, and topk/bottomk', () => {
    const inner = parseLogQL('count_over_time({a="b"}[1m])');
    expect(parseLogQL('sum by (app, pod) (count_over_time({a="b"}[1m]))')).toEqual({
      kind: 'vectorAggregation', op: 'sum', expr: inner, grouping: { without: false, labels: ['app', 'pod'] },
    });
    expect(parseLogQL('sum(count_over_time({a="b"}[1m])) without (pod)')).toEqual({
      kind: 'vectorAggregation', op: 'sum', expr: inner, grouping: { without: true, labels: ['pod'] },
    });
    expect(parseLogQL('avg(count_over_time({a="b"}[1m]))')).toEqual({ kind: 'vectorAggregation', op: 'avg', expr: inner });
    expect(parseLogQL('topk(3, count_over_time({a="b"}[1m])) by (app)')).toEqual({
      kind: 'vectorAggregation', op: 'topk', param: 3, expr: inner, grouping: { without: false, labels: ['app'] },
    });
    for (const op of ['min', 'max', 'count', 'stddev', 'stdvar', 'bottomk']) {
      expect(parseLogQL(`${op}(${op === 'bottomk' ? '1, ' : ''}count_over_time({a="b"}[1m]))`)).toMatchObject({ op });
    }
  });

  it('parses binary operators with precedence, bool, on/ignoring and folds scalars', () => {
    const e = parseLogQL('sum(rate({a="b"}[1m])) / sum(rate({a="c"}[1m])) * 100 + 2 ^ 3 ^ 2');
    const show = (x: LogQLExpr): string =>
      x.kind === 'binary' ? `(${show(x.left)} ${x.op} ${show(x.right)})` : x.kind === 'literal' ? String(x.value) : x.kind;
    expect(show(e)).toBe('(((vectorAggregation / vectorAggregation) * 100) + 512)');
    expect(parseLogQL('count_over_time({a="b"}[1m]) > bool 2')).toMatchObject({ kind: 'binary', op: '>', returnBool: true });
    expect(parseLogQL('count_over_time({a="b"}[1m]) / on (app) count_over_time({a="c"}[1m])')).toMatchObject({ matching: { on: true, labels: ['app'] } });
    expect(parseLogQL('-1 + 3 * 2')).toEqual({ kind: 'literal', value: 5 });
    expect(parseLogQL('vector(0)')).toEqual({ kind: 'vector', value: 0 });
    expect(show(parseLogQL('count_over_time({a="b"}[1m]) or vector(0) and count_over_time({a="c"}[1m])'))).toBe('(rangeAggregation or (vector and rangeAggregation))');
  });
});

describe('LogQL parser: errors', () => {
  const cases: Array<[string, number, number, string]> = [
    ['{app=foo}', 1, 6, 'syntax error: unexpected IDENTIFIER, expecting STRING'],
    ['{foo="bar"', 1, 11, 'syntax error: unexpected $end, expecting } or ,'],
    ['{foo="bar"} |~', 1, 15, 'syntax error: unexpected $end, expecting STRING or ip'],
    ['{foo="bar"} "foo"', 1, 13, 'syntax error: unexpected STRING'],
    ['{foo="bar"} foo', 1, 13, 'syntax error: unexpected IDENTIFIER'],
    ['{foo="bar}', 1, 6, 'literal not terminated'],
    ['{foo}', 1, 5, 'syntax error: unexpected }, expecting = or =~ or !~ or !='],
    ['count without (rate({namespace="apps"}[15s]))', 1, 16, 'syntax error: unexpected RATE, expecting IDENTIFIER or )'],
    ['stddev({ foo = "bar" })', 1, 23, 'syntax error: unexpected )'],
    ['min({ foo = "bar" }[5m])', 1, 20, 'syntax error: unexpected RANGE'],
    ['unk({ foo = "bar" }[5m])', 1, 1, 'syntax error: unexpected IDENTIFIER'],
    ['bottomk(he,count_over_time({ foo = "bar" }[5h]))', 1, 9, 'syntax error: unexpected IDENTIFIER'],
    ['#{app="foo"} | json', 1, 20, 'syntax error: unexpected $end'],
    ['rate({ foo = "bar" }[5)', 1, 21, "missing closing ']' in duration"],
    ['rate({ foo = "bar" }[5minutes])', 1, 21, 'not a valid duration string: "5minutes"'],
    ['{app="api"} | unwrap latency', 1, 15, 'syntax error: unexpected unwrap'],
    ['{app="api"} | json | status >= "x"', 1, 32, 'syntax error: unexpected STRING'],
    ['{a=~"("}', 1, 5, 'error parsing regexp'],
    ['{a="b"} | regexp "(\\\\w+)"', 1, 18, 'at least one named capture must be supplied'],
    ['{a="b"} | pattern "<a><b>"', 1, 19, "found consecutive capture '<a><b>'"],
    ['{a="b"} | line_format "{{.a"', 1, 23, 'invalid line template: unclosed action'],
    ['{a="b"} | line_format "{{ range .x }}"', 1, 23, 'invalid line template: "range" is not supported'],
    ['{a=~".*"}', 1, 1, 'queries require at least one regexp or equality matcher that does not have an empty-compatible value'],
    ['{}', 1, 1, 'queries require at least one'],
    ['topk(count_over_time({ foo = "bar" }[5h]))', 1, 1, 'parameter required for operation topk'],
    ['topk(1.5, count_over_time({ foo = "bar" }[5h]))', 1, 6, 'invalid parameter topk(1.5,'],
    ['count_over_time({a="b"}[5m]) by (a)', 1, 1, 'grouping not allowed for count_over_time aggregation'],
    ['sum_over_time({a="b"}[5m])', 1, 1, 'invalid aggregation sum_over_time without unwrap'],
    ['count_over_time({a="b"} | unwrap x [5m])', 1, 1, 'invalid aggregation count_over_time with unwrap'],
    ['quantile_over_time({a="b"} | unwrap x [5m])', 1, 1, 'parameter required for operation quantile_over_time'],
    ['count_over_time({a="b"}[5m]) + {a="b"}', 1, 30, 'unexpected type for right leg of binary operation (+): log query'],
    ['count_over_time({a="b"}[5m]) or 1', 1, 30, 'unexpected literal for right leg of logical/set binary operation (or): 1.000000'],
    ['count_over_time({a="b"})', 1, 24, 'syntax error: unexpected )'],
    ['', 1, 1, 'syntax error: unexpected $end'],
  ];
  it.each(cases)('%s → line %i col %i: %s', (q, line, column, msg) => {
    const e = parseError(q);
    expect(e.detail.startsWith(msg) || e.detail === msg).toBe(true);
    expect({ line: e.line, column: e.column }).toEqual({ line, column });
    expect(e.position).toBe(column - 1);
    expect(e.message).toBe(`parse error at line ${line}, col ${column}: ${e.detail}`);
  });

  it('counts lines and columns in multi-line queries', () => {
    const e = parseError('{app="api"}\n  | json\n  | level=');
    expect([e.line, e.column, e.position]).toEqual([3, 11, 31]);
    expect(e.detail).toBe('syntax error: unexpected $end');
  });

  it('renders the offending line with a caret under the column', () => {
    expect(formatLogQLError(parseError('{app=foo}'))).toBe(
      'parse error at line 1, col 6: syntax error: unexpected IDENTIFIER, expecting STRING\n{app=foo}\n     ^',
    );
    expect(formatLogQLError(parseError('{app="api"}\n| json |~ "("'))).toBe(
      'parse error at line 2, col 11: error parsing regexp: Invalid regular expression: /(/: Unterminated group\n| json |~ "("\n          ^',
    );
  });
});
