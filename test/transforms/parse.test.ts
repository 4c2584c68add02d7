import { describe, expect, it } from 'vitest';
import { EventBatch } from '../../src/core/batch.js';
import { EventFlags, makeSource, type LogEvent } from '../../src/core/event.js';
import { silentLogger } from '../../src/core/logger.js';
import { AgentMetrics } from '../../src/core/metrics.js';
import { ParseTransform, parseTransformSchema } from '../../src/transforms/parse/index.js';
import { agentFixture, append, capturingLogger, cri, podLog, readOut, runAgent } from '../helpers/agent.js';
import { kubeApiFixture, pod } from '../helpers/kube-api.js';
import { waitFor } from '../helpers/proc.js';

const ev = (line: string, offset = 1): LogEvent => ({ ts: '2026-11-23T10:00:00.000000001Z', stream: 'stdout', line, flags: 0, offset });

function transform(cfg: Record<string, unknown>) {
  const metrics = new AgentMetrics();
  const t = new ParseTransform(parseTransformSchema.parse({ type: 'parse', inputs: ['x'], annotations: false, ...cfg }), { name: 'p', dataDir: '/nonexistent', log: silentLogger, metrics, shared: new Map() });
  const run = (...lines: string[]) => t.process(new EventBatch(makeSource('f1', 'node', { namespace: 'shop', pod: 'web', container: 'app' }), lines.map((l, i) => ev(l, i + 1))))!.events;
  return { t, metrics, run };
}

describe('parse transform', () => {
  it('extracts JSON fields into the event, nested keys joined and names made label-safe, the line unchanged', () => {
    const { run, metrics } = transform({ format: 'json' });
    const [e] = run('{"level":"error","http":{"status":503,"path":"/pay"},"user-id":"u1","tags":["a"],"namespace":"spoof"}');
    expect(e!.line).toBe('{"level":"error","http":{"status":503,"path":"/pay"},"user-id":"u1","tags":["a"],"namespace":"spoof"}');
    // A field named like a stream label does not shadow it (LogQL's `_extracted` rule).
    expect(e!.fields).toEqual({ level: 'error', http_status: '503', http_path: '/pay', user_id: 'u1', namespace_extracted: 'spoof' });
    expect(e!.flags).toBe(0);
    return metrics.total('loggy_parsed_events_total').then((n) => expect(n).toBe(1));
  });

  it('flags and counts lines that are not in the format, and passes them on unchanged', async () => {
    const { run, metrics } = transform({ format: 'json' });
    const out = run('not json at all', '{"truncated":', '{"ok":true}');
    expect(out.map((e) => e.line)).toEqual(['not json at all', '{"truncated":', '{"ok":true}']);
    expect(out.map((e) => e.flags)).toEqual([EventFlags.ParseFailed, EventFlags.ParseFailed, 0]);
    expect(out[0]!.fields).toBeUndefined();
    expect(await metrics.total('loggy_parse_failures_total')).toBe(2);
    expect(await metrics.total('loggy_parsed_events_total')).toBe(1);
  });

  it('parses logfmt; a line without any key=value pair is not logfmt', () => {
    const { run } = transform({ format: 'logfmt' });
    const [a, b] = run('level=warn msg="disk almost full" used=91%', 'plain words here');
    expect(a!.fields).toEqual({ level: 'warn', msg: 'disk almost full', used: '91%' });
    expect(b!.flags & EventFlags.ParseFailed).toBeTruthy();
  });

  it('runs a named regex: named groups become fields', () => {
    const { run } = transform({
      format: 'regex:nginx',
      patterns: { nginx: String.raw`^(?<remote_addr>\S+) \S+ \S+ \[[^\]]+\] "(?<method>\S+) (?<path>\S+) [^"]*" (?<status>\d{3}) (?<bytes>\d+)` },
    });
    const [a, b] = run('10.1.2.3 - - [23/Nov/2026:10:00:00 +0000] "GET /health HTTP/1.1" 200 17', 'nginx: [emerg] bind() failed');
    expect(a!.fields).toEqual({ remote_addr: '10.1.2.3', method: 'GET', path: '/health', status: '200', bytes: '17' });
    expect(b!.flags).toBe(EventFlags.ParseFailed);
  });

  it('keeps only the chosen fields, at most max_fields, values cut to max_value_length', () => {
    const { run } = transform({ format: 'json', fields: ['level', 'http_*'], max_fields: 2, max_value_length: 4 });
    const [e] = run('{"msg":"hello","level":"information","http_status":200,"http_path":"/x"}');
    expect(e!.fields).toEqual({ level: 'info', http_status: '200' });
  });

  it('leaves the rate limit\'s summary events alone', () => {
    const { t } = transform({ format: 'json' });
    const summary: LogEvent = { ...ev('loggy: 5 lines dropped'), flags: EventFlags.RateLimitSummary };
    const [e] = t.process(new EventBatch(makeSource('f', 'n', {}), [summary]))!.events;
    expect(e).toBe(summary);
  });

  it('refuses bad settings with a message that says what is wrong', () => {
    const bad = (cfg: Record<string, unknown>) => parseTransformSchema.safeParse({ type: 'parse', inputs: ['x'], ...cfg });
    expect(bad({ format: 'xml' }).error?.issues[0]?.message).toMatch(/unknown parser "xml"/);
    expect(bad({ format: 'regex:apache' }).error?.issues[0]?.message).toMatch(/regex:apache names no pattern/);
    expect(bad({ patterns: { p: '^(\\d+)$' } }).error?.issues[0]?.message).toMatch(/named group/);
    expect(bad({ patterns: { p: '(' } }).error?.issues[0]?.message).toMatch(/invalid regular expression/);
  });
});

/** End to end: the pod's `loggy.io/parser` annotation, read through the pod cache, picks the parser. */
describe('parse transform with pod annotations', () => {
  const fx = agentFixture('loggy-parse-');
  const kube = kubeApiFixture(fx);

  const start = (log = silentLogger) => runAgent({
    root: fx.root, dataDir: fx.dataDir, out: fx.out, log,
    transforms: [
      { type: 'kube_metadata', node_name: 'node-1', kubeconfig: kube.api.writeKubeconfig(fx.tmpDir), sync_timeout: 3000 },
      { type: 'parse', format: 'none', patterns: { kv: String.raw`^(?<key>\w+)=(?<value>\w+)$` } },
    ],
  });
  const byLine = () => new Map(readOut(fx.out).map((e) => [e.line, e]));

  it('parses each pod (and container) as its annotations say, and follows a change without restart', async () => {
    kube.api.addPod(pod({ name: 'api-1', uid: 'uid-api', annotations: { 'loggy.io/parser': 'json', 'loggy.io/parser.proxy': 'regex:kv' }, containers: { app: 'a', proxy: 'p' } }));
    kube.api.addPod(pod({ name: 'legacy-1', uid: 'uid-legacy' }));
    append(podLog(fx.root, 'shop', 'api-1', 'app', 0, 'uid-api'), cri('{"level":"info","took_ms":12}'));
    append(podLog(fx.root, 'shop', 'api-1', 'proxy', 0, 'uid-api'), cri('upstream=up2'));
    const legacy = podLog(fx.root, 'shop', 'legacy-1', 'app', 0, 'uid-legacy');
    append(legacy, cri('{"level":"info","not":"parsed"}'));
    fx.agent = await start();
    await waitFor(() => byLine().size >= 3, 5000, 'three lines');
    expect(byLine().get('{"level":"info","took_ms":12}')?.fields).toEqual({ level: 'info', took_ms: '12' });
    expect(byLine().get('upstream=up2')?.fields).toEqual({ key: 'upstream', value: 'up2' });
    expect(byLine().get('{"level":"info","not":"parsed"}')?.fields).toBeUndefined();

    kube.api.updatePod(pod({ name: 'legacy-1', uid: 'uid-legacy', annotations: { 'loggy.io/parser': 'logfmt' } }));
    await new Promise((r) => setTimeout(r, 300));
    append(legacy, cri('level=warn msg=slow'));
    await waitFor(() => byLine().has('level=warn msg=slow'), 5000, 'line after the annotation changed');
    expect(byLine().get('level=warn msg=slow')?.fields).toEqual({ level: 'warn', msg: 'slow' });
  });

  it('ignores an annotation it cannot use, says so once, counts it, and still delivers the lines', async () => {
    const { log, records } = capturingLogger();
    kube.api.addPod(pod({ name: 'odd-1', uid: 'uid-odd', annotations: { 'loggy.io/parser': 'regex:undefined-pattern' } }));
    const file = podLog(fx.root, 'shop', 'odd-1', 'app', 0, 'uid-odd');
    append(file, cri('one'));
    fx.agent = await start(log);
    await waitFor(() => byLine().has('one'), 5000, 'line');
    append(file, cri('two'));
    await waitFor(() => byLine().has('two'), 5000, 'second line');
    const warnings = records.filter((r) => r.msg === 'pod annotation ignored');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ pod: 'shop/odd-1', value: 'regex:undefined-pattern' });
    expect(String(warnings[0]!.problem)).toMatch(/names no pattern.*known: kv/);
    expect(byLine().get('one')?.fields).toBeUndefined();
    expect(await fx.agent.metrics.total('loggy_kube_annotation_errors_total')).toBe(1);
  });
});
