import { describe, expect, it } from 'vitest';
import { parseLogQL, planLogQuery, type LogQueryExpr } from '../../src/logql/index.js';
import type { Labels } from '../../src/store/engine.js';

const STREAM: Labels = { app: 'api', namespace: 'prod', level: 'stream-level' };

function pipe(query: string) {
  const { pipeline } = planLogQuery(parseLogQL(`{app="api"} ${query}`) as LogQueryExpr);
  return (line: string, labels: Labels = STREAM, ts = 1_700_000_000_123_456_789n) => pipeline.process(line, labels, ts);
}
const labelsOf = (query: string, line: string, labels?: Labels) => pipe(query)(line, labels)?.labels ?? null;
const keeps = (query: string, lines: string[], labels?: Labels) => lines.filter((l) => pipe(query)(l, labels) !== null);

const APP = [
  '{"ts":"2026-01-01T00:00:00Z","level":"error","msg":"upstream timeout \\"db\\"","status":503,"latency":"1.2s","size":"2KB","req":{"method":"GET","path":"/api/v1/items","headers":{"User-Agent":"curl/8"}},"retries":[1,2],"user":null,"cached":false,"ratio":1.50}',
  '{"ts":"2026-01-01T00:00:01Z","level":"info","msg":"ok","status":200,"latency":"35ms","size":"512B","req":{"method":"POST","path":"/login"}}',
  '{"ts":"2026-01-01T00:00:02Z","level":"warn","msg":"slow","status":499,"latency":"300ms","size":"1.5MB"}',
];
const NGINX = [
  '192.168.1.10 - alice [10/Oct/2025:13:55:36 +0000] "GET /index.html HTTP/1.1" 200 2326 "-" "Mozilla/5.0"',
  '10.0.0.7 - - [10/Oct/2025:13:55:37 +0000] "POST /api/login HTTP/2.0" 502 157 "https://example.com/" "curl/8.4.0"',
  '10.0.0.8 - - [10/Oct/2025:13:55:38 +0000] "GET /favicon.ico HTTP/1.1" 404 0 "-" "Mozilla/5.0"',
];

describe('json', () => {
  it('flattens nested objects with _, keeps numbers verbatim, skips arrays and nulls, suffixes clashes with _extracted', () => {
    expect(labelsOf('| json', APP[0]!)).toEqual({
      app: 'api',
      namespace: 'prod',
      level: 'stream-level',
      level_extracted: 'error',
      ts: '2026-01-01T00:00:00Z',
      msg: 'upstream timeout "db"',
      status: '503',
      latency: '1.2s',
      size: '2KB',
      req_method: 'GET',
      req_path: '/api/v1/items',
      req_headers_User_Agent: 'curl/8',
      cached: 'false',
      ratio: '1.50',
    });
  });

  it('sanitizes keys: leading digits get _, other characters become _', () => {
    expect(labelsOf('| json', '{"1st":"a","a-b":"c","x.y":"d","é":"e","  ":"f"}', { app: 'x' })).toEqual({
      app: 'x', _1st: 'a', a_b: 'c', x_y: 'd', _: 'e',
    });
  });

  it('sets __error__/__error_details__ on malformed input and keeps what it found', () => {
    const l = labelsOf('| json', '{"level":"info","msg":"trunc', { app: 'x' })!;
    expect(l).toMatchObject({ app: 'x', level: 'info', __error__: 'JSONParserErr' });
    expect(l.__error_details__).toMatch(/unterminated string/);
    expect(labelsOf('| json', 'plain text line', { app: 'x' })).toMatchObject({ __error__: 'JSONParserErr' });
  });

  it('filters parser errors with __error__ and drops the error labels with drop', () => {
    const lines = [APP[1]!, 'not json', '{"broken":'];
    expect(keeps('| json | __error__=""', lines)).toEqual([APP[1]]);
    expect(keeps('| json | __error__!=""', lines)).toEqual(['not json', '{"broken":']);
    expect(keeps('| json | __error__="JSONParserErr"', lines)).toEqual(['not json', '{"broken":']);
    expect(labelsOf('| json | drop __error__, __error_details__', 'not json', { app: 'x' })).toEqual({ app: 'x' });
  });

  it('extracts only the given paths with json parameters', () => {
    expect(labelsOf('| json method="req.method", ua=`req.headers["User-Agent"]`, first_retry="retries[0]", req="req.headers", nope="a.b", status', APP[0]!)).toEqual({
      ...STREAM,
      method: 'GET',
      ua: 'curl/8',
      first_retry: '1',
      req: '{"User-Agent":"curl/8"}',
      nope: '',
      status: '503',
    });
  });

  it('unpack: string fields become labels and _entry replaces the line', () => {
    expect(pipe('| unpack')('{"_entry":"original line","pod":"p1","n":3}', { app: 'x' })).toEqual({ line: 'original line', labels: { app: 'x', pod: 'p1' } });
  });
});

describe('logfmt', () => {
  const LINE = 'ts=2026-01-01T00:00:00Z level=warn caller=main.go:42 msg="retrying \\"db\\" in 2s" attempt=3 dur=1.5s app=worker empty= flag';
  it('parses bare and quoted values with escapes, drops empty values, suffixes clashes', () => {
    expect(labelsOf('| logfmt', LINE, { app: 'api' })).toEqual({
      app: 'api', app_extracted: 'worker', ts: '2026-01-01T00:00:00Z', level: 'warn', caller: 'main.go:42', msg: 'retrying "db" in 2s', attempt: '3', dur: '1.5s',
    });
  });

  it('--keep-empty keeps empty values; --strict reports the first syntax error', () => {
    expect(labelsOf('| logfmt --keep-empty', 'a=1 b= c', { app: 'x' })).toEqual({ app: 'x', a: '1', b: '', c: '' });
    expect(labelsOf('| logfmt', 'a=1 =oops b=2', { app: 'x' })).toEqual({ app: 'x', a: '1', b: '2' });
    expect(labelsOf('| logfmt --strict', 'a=1 =oops b=2', { app: 'x' })).toEqual({
      app: 'x', a: '1', __error__: 'LogfmtParserErr', __error_details__: 'logfmt syntax error at pos 5 : unexpected "="',
    });
  });

  it('extracts only the given keys with parameters, creating missing ones', () => {
    expect(labelsOf('| logfmt lvl="level", msg, missing', LINE, { app: 'api' })).toEqual({ app: 'api', lvl: 'warn', msg: 'retrying "db" in 2s', missing: '' });
  });
});

describe('pattern and regexp on nginx access lines', () => {
  const PATTERN = '| pattern `<ip> - <user> [<_>] "<method> <path> <_>" <status> <size> "<referer>" "<agent>"`';
  it('pattern extracts named captures and skips <_>', () => {
    expect(labelsOf(PATTERN, NGINX[0]!, { job: 'nginx' })).toEqual({
      job: 'nginx', ip: '192.168.1.10', user: 'alice', method: 'GET', path: '/index.html', status: '200', size: '2326', referer: '-', agent: 'Mozilla/5.0',
    });
    expect(keeps(`${PATTERN} | status >= 500`, NGINX)).toEqual([NGINX[1]]);
    expect(labelsOf('| pattern "<a> x <b>"', 'no literal here', { job: 'n' })).toEqual({ job: 'n', a: 'no literal here' });
  });

  it('regexp extracts named groups (Go (?P<name>) syntax) and leaves non-matching lines alone', () => {
    const RE = '| regexp `^(?P<ip>\\S+) \\S+ (?P<user>\\S+) \\[[^\\]]+\\] "(?P<method>[A-Z]+) (?P<path>\\S+) [^"]*" (?P<status>\\d{3}) (?P<size>\\d+)`';
    expect(labelsOf(RE, NGINX[1]!, { job: 'nginx' })).toEqual({ job: 'nginx', ip: '10.0.0.7', user: '-', method: 'POST', path: '/api/login', status: '502', size: '157' });
    expect(labelsOf(RE, 'garbage', { job: 'nginx' })).toEqual({ job: 'nginx' });
    expect(keeps(`${RE} | status >= 400 and status < 500`, NGINX)).toEqual([NGINX[2]]);
  });

  it('|> and !> test whole lines against a pattern', () => {
    expect(keeps('|> `<_> "GET <_>" <_>`', NGINX)).toEqual([NGINX[0], NGINX[2]]);
    expect(keeps('!> `<_> "GET <_>" <_>`', NGINX)).toEqual([NGINX[1]]);
  });
});

describe('label filters', () => {
  it('compares numbers, durations and byte sizes after converting the label value', () => {
    expect(keeps('| json | status >= 499', APP)).toEqual([APP[0], APP[2]]);
    expect(keeps('| json | status == 200', APP)).toEqual([APP[1]]);
    expect(keeps('| json | status != 200', APP)).toEqual([APP[0], APP[2]]);
    expect(keeps('| json | latency > 250ms', APP)).toEqual([APP[0], APP[2]]);
    expect(keeps('| json | latency <= 1s', APP)).toEqual([APP[1], APP[2]]);
    expect(keeps('| json | size > 1KB', APP)).toEqual([APP[0], APP[2]]);
    expect(keeps('| json | size < 1KiB', APP)).toEqual([APP[1]]);
  });

  it('combines with and / or / "," and parentheses', () => {
    expect(keeps('| json | level_extracted="error" or status < 300', APP)).toEqual([APP[0], APP[1]]);
    expect(keeps('| json | (level_extracted="warn" or level_extracted="info") and latency > 100ms', APP)).toEqual([APP[2]]);
    expect(keeps('| json | status >= 400, latency < 1s', APP)).toEqual([APP[2]]);
    expect(keeps('| json | level_extracted=~"warn|info"', APP)).toEqual([APP[1], APP[2]]);
    expect(keeps('| json | level_extracted!~"warn|info"', APP)).toEqual([APP[0]]);
  });

  it('drops lines whose label is missing for numeric filters, treats it as "" for string filters', () => {
    expect(keeps('| json | nope > 1', APP)).toEqual([]);
    expect(keeps('| json | nope=""', APP)).toEqual(APP);
    expect(keeps('| json | nope!=""', APP)).toEqual([]);
  });

  it('keeps a line whose value does not convert, with __error__=LabelFilterErr', () => {
    const l = labelsOf('| logfmt | latency > 250ms', 'latency=slow', { app: 'x' });
    expect(l).toMatchObject({ latency: 'slow', __error__: 'LabelFilterErr' });
    expect(l!.__error_details__).toMatch(/invalid duration/);
    expect(labelsOf('| logfmt | n > 1 | __error__=""', 'n=abc', { app: 'x' })).toBeNull();
  });

  it('applies to stream labels before any parser', () => {
    expect(keeps('| namespace="prod"', ['x'])).toEqual(['x']);
    expect(keeps('| namespace="dev"', ['x'])).toEqual([]);
  });
});

describe('line_format, label_format, drop, keep, decolorize', () => {
  it('line_format renders labels with the Go-template subset', () => {
    const f = pipe('| json | line_format "{{.level_extracted}} {{ .req_method }} {{.req_path}} {{ .msg | ToUpper }} {{.missing}}|"');
    expect(f(APP[0]!)?.line).toBe('error GET /api/v1/items UPSTREAM TIMEOUT "DB" |');
    expect(pipe('| logfmt | line_format `{{ default "-" .user }} {{ ToLower .level }} {{ printf "%05d" .n }} {{ __line__ }}`')('level=WARN n=42', { app: 'x' })?.line).toBe(
      '- warn 00042 level=WARN n=42',
    );
    expect(pipe('| logfmt | line_format `{{ if eq .level "error" }}E{{ else if .level }}{{ .level | upper }}{{ else }}?{{ end }}`')('level=info', { app: 'x' })?.line).toBe('INFO');
  });

  it('line_format sets TemplateFormatErr on a runtime error and keeps the line', () => {
    const r = pipe('| line_format `{{ regexReplaceAll "(" .app "x" }}`')('line', { app: 'x' });
    expect(r).toMatchObject({ line: 'line', labels: { __error__: 'TemplateFormatErr' } });
  });

  it('line filters after line_format see the new line', () => {
    expect(keeps('| json | line_format "{{.status}}" |= "50"', APP)).toEqual([APP[0]]);
  });

  it('label_format renames and renders; drop removes by name or matcher; keep keeps', () => {
    expect(labelsOf('| logfmt | label_format lvl=level, where="{{.namespace}}/{{.app}}"', 'level=info msg=hi', { app: 'a', namespace: 'n' })).toEqual({
      app: 'a', namespace: 'n', lvl: 'info', msg: 'hi', where: 'n/a',
    });
    expect(labelsOf('| logfmt | drop msg, level="debug"', 'level=debug msg=x t=1', { app: 'a' })).toEqual({ app: 'a', t: '1' });
    expect(labelsOf('| logfmt | drop msg, level="debug"', 'level=info msg=x t=1', { app: 'a' })).toEqual({ app: 'a', level: 'info', t: '1' });
    expect(labelsOf('| logfmt | keep level, t="2"', 'level=info msg=x t=1', { app: 'a', pod: 'p' })).toEqual({ level: 'info' });
    expect(labelsOf('| logfmt | keep app', 'x=1 =bad', { app: 'a' })).toEqual({ app: 'a' });
  });

  it('decolorize strips ANSI colour codes', () => {
    expect(pipe('| decolorize')('\x1b[31mERROR\x1b[0m done', { app: 'x' })?.line).toBe('ERROR done');
  });
});

describe('pipeline execution strategies give the same answers', () => {
  const lines = [
    ...APP,
    '{"level":"error","level":"info"}',
    '{"msg":"no level","status":500}',
    '{"level":"error","status":"abc"}',
    '{"level":"error","x":',
    'level=error status=500',
    '',
  ];
  // A `drop` of a label that never exists disables the parser+filter fusion without changing results.
  const pairs: Array<[string, string]> = [
    ['| json | level_extracted="error"', '| json | drop zz | level_extracted="error"'],
    ['| json | status >= 500', '| json | drop zz | status >= 500'],
    ['| json | status > 100 or msg="no level"', '| json | drop zz | status > 100 or msg="no level"'],
    ['| logfmt | level="error" | status >= 500', '| logfmt | drop zz | level="error" | status >= 500'],
    ['| json | level_extracted="error" |= "x"', '| json | drop zz | level_extracted="error" |= "x"'],
  ];
  it.each(pairs)('%s', (fused, plain) => {
    const a = pipe(fused);
    const b = pipe(plain);
    for (const l of lines) expect(a(l), l).toEqual(b(l));
  });

  it('a pipeline reused over lines of changing shapes answers as a fresh one per line', () => {
    const shapes = [
      '{"a":{"b":1},"c":"x"}',
      '{"a":1,"b":2,"c":"y"}',
      '{"a":{"b":{"c":3}}}',
      '{"a":{"bb":1},"c":"z"}',
      '{"a\\"q":1,"a":{"b":2}}',
      '{"a":{"b":1},"c":"x"}',
      '{"ab":1}',
      '{"a":2}',
    ];
    const shared = pipe('| json');
    for (const round of [1, 2]) {
      for (const l of shapes) expect(shared(l, { app: 'x' }), `${round}: ${l}`).toEqual(pipe('| json')(l, { app: 'x' }));
    }
    expect(shared('{"a":{"b":1},"c":"x"}', { app: 'x' })?.labels).toEqual({ app: 'x', a_b: '1', c: 'x' });
    expect(shared('{"a":1,"b":2,"c":"y"}', { app: 'x' })?.labels).toEqual({ app: 'x', a: '1', b: '2', c: 'y' });
  });

  it('line filters are moved before parsers but never across line_format', () => {
    const f = pipe('| json | line_format "{{.msg}}" |= "ok"');
    expect(f(APP[1]!)?.line).toBe('ok');
    expect(f(APP[0]!)).toBeNull();
    expect(pipe('| json | line_format "{{.msg}}" |= "status"')(APP[1]!)).toBeNull();
    expect(pipe('| json |= `"ok"` | line_format "{{.msg}}"')(APP[1]!)?.line).toBe('ok');
  });

  it('first value wins for duplicate keys', () => {
    expect(labelsOf('| json', '{"a":"1","a":"2"}', { app: 'x' })).toEqual({ app: 'x', a: '1' });
  });
});
