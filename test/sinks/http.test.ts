import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBatch } from '../../src/core/batch.js';
import { RetryableError } from '../../src/core/errors.js';
import { EventFlags, makeSource, type LogEvent } from '../../src/core/event.js';
import { silentLogger } from '../../src/core/logger.js';
import { AgentMetrics } from '../../src/core/metrics.js';
import { HttpSink, httpSinkSchema } from '../../src/sinks/http/index.js';
import { sinkSchema } from '../../src/sinks/index.js';
import { agentFixture, append, cri, podLog, runAgent, type OutEvent } from '../helpers/agent.js';
import { waitFor } from '../helpers/proc.js';
import { receivers, type ReceivedRequest } from '../helpers/receiver.js';

type Req = ReceivedRequest;
const receiver = receivers();

/** A collector keeping every request (body decompressed), answering with `answer` ('bad event' on errors). */
function collector(answer: (req: Req, n: number) => [number, Record<string, string>?] = () => [200]): Promise<{ url: string; reqs: Req[] }> {
  return receiver((r, n) => {
    const [status, headers] = answer(r, n);
    return [status, status >= 400 ? 'bad event' : '', headers];
  }, '/ingest/logs?x=1');
}

const source = makeSource('1:2:ab', 'node', { namespace: 'shop', pod: 'web-1', container: 'nginx' });
const other = makeSource('1:3:cd', 'node', { namespace: 'pay', pod: 'api-0', container: 'app' });
let seq = 0;
function ev(line: string, extra: Partial<LogEvent> = {}): LogEvent {
  seq++;
  return { ts: `2026-11-22T10:00:00.${String(seq).padStart(9, '0')}Z`, stream: 'stdout', line, flags: 0, offset: seq * 10, ...extra };
}

function sinkFor(cfg: Record<string, unknown>, dataDir = '/nonexistent') {
  const ctx = { name: 'out', dataDir, log: silentLogger, metrics: new AgentMetrics(), shared: new Map<string, unknown>() };
  return { sink: new HttpSink(httpSinkSchema.parse({ type: 'http', inputs: ['node'], ...cfg }), ctx), ctx };
}

describe('http sink: the request', () => {
  it('POSTs NDJSON, gzip by default, one Loggy object per line in order, with bearer token and headers', async () => {
    const c = await collector();
    const { sink, ctx } = sinkFor({ endpoint: c.url, token: 's3cret', headers: { 'x-team': 'a' } });
    const events = [ev('GET / 200'), ev('line with "quotes" and \\ and é', { stream: 'stderr', flags: EventFlags.Truncated }), ev('{"level":"info"}', { fields: { level: 'info' } })];
    await sink.write([new EventBatch(source, events.slice(0, 2)), new EventBatch(other, events.slice(2))]);
    expect(c.reqs).toHaveLength(1);
    const r = c.reqs[0]!;
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/ingest/logs?x=1');
    expect(r.headers['content-type']).toBe('application/x-ndjson');
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.headers.authorization).toBe('Bearer s3cret');
    expect(r.headers['x-team']).toBe('a');
    expect(r.raw.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(r.text.endsWith('\n')).toBe(true);
    const lines = r.text.trimEnd().split('\n').map((l) => JSON.parse(l) as OutEvent);
    expect(lines).toEqual([
      { ts: events[0]!.ts, stream: 'stdout', line: 'GET / 200', labels: source.labels },
      { ts: events[1]!.ts, stream: 'stderr', line: 'line with "quotes" and \\ and é', labels: source.labels, flags: ['truncated'] },
      { ts: events[2]!.ts, stream: 'stdout', line: '{"level":"info"}', labels: other.labels, fields: { level: 'info' } },
    ]);
    expect(await ctx.metrics.total('loggy_sink_events_total')).toBe(3);
  });

  it('PUTs a JSON array without compression, with basic auth', async () => {
    const c = await collector();
    const { sink } = sinkFor({ endpoint: c.url, method: 'PUT', encoding: 'json', compression: 'none', auth: { strategy: 'basic', user: 'loggy', password: 'p:w é' } });
    const events = [ev('one'), ev('two\nlines'), ev('three')];
    await sink.write([new EventBatch(source, events)]);
    const r = c.reqs[0]!;
    expect(r.method).toBe('PUT');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.headers.authorization).toBe(`Basic ${Buffer.from('loggy:p:w é').toString('base64')}`);
    const arr = JSON.parse(r.text) as OutEvent[];
    expect(arr.map((e) => e.line)).toEqual(['one', 'two\nlines', 'three']);
    expect(arr[1]).toEqual({ ts: events[1]!.ts, stream: 'stdout', line: 'two\nlines', labels: source.labels });
    expect(r.text.startsWith('[{"ts":')).toBe(true);
    expect(r.text.endsWith('}]')).toBe(true);
  });

  it('cuts a write over max_body_bytes into several requests under it, in order', async () => {
    const c = await collector();
    const { sink, ctx } = sinkFor({ endpoint: c.url, compression: 'none', max_body_bytes: 1000 });
    const events = Array.from({ length: 20 }, (_, i) => ev(`event ${i} ${'x'.repeat(100)}`));
    await sink.write([new EventBatch(source, events.slice(0, 7)), new EventBatch(source, events.slice(7))]);
    expect(c.reqs.length).toBeGreaterThan(3);
    for (const r of c.reqs) expect(r.raw.length).toBeLessThanOrEqual(1000);
    const got = c.reqs.flatMap((r) => r.text.trimEnd().split('\n').map((l) => (JSON.parse(l) as OutEvent).line));
    expect(got).toEqual(events.map((e) => e.line));
    expect(await ctx.metrics.total('loggy_sink_events_total')).toBe(20);
  });

  it('json bodies stay under the cap too, and an event bigger than the cap goes alone', async () => {
    const c = await collector();
    const { sink } = sinkFor({ endpoint: c.url, compression: 'none', encoding: 'json', max_body_bytes: 500 });
    const events = [ev('a'.repeat(100)), ev('b'.repeat(100)), ev('c'.repeat(100)), ev('big'.repeat(300)), ev('d')];
    await sink.write([new EventBatch(source, events)]);
    const bodies = c.reqs.map((r) => (JSON.parse(r.text) as OutEvent[]).map((e) => e.line));
    // Each small event is ~240 bytes: two fit in 500, a third does not.
    expect(bodies).toEqual([[events[0]!.line, events[1]!.line], [events[2]!.line], ['big'.repeat(300)], ['d']]);
    expect(c.reqs.map((r) => r.raw.length > 500)).toEqual([false, false, true, false]);
  });

  it('a 5xx or 429 is a retryable failure carrying Retry-After', async () => {
    const c = await collector((_, n) => (n === 1 ? [503] : [429, { 'retry-after': '3' }]));
    const { sink } = sinkFor({ endpoint: c.url });
    const b = [new EventBatch(source, [ev('a')])];
    const e1 = await sink.write(b).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(RetryableError);
    const e2 = await sink.write(b).catch((e: unknown) => e);
    expect((e2 as RetryableError).retryAfterMs).toBe(3000);
  });

  it('refuses token and basic auth together, and unknown auth strategies', () => {
    expect(sinkSchema.safeParse({ type: 'http', inputs: ['a'], endpoint: 'http://x/', token: 't', auth: { strategy: 'basic', user: 'u', password: 'p' } }).success).toBe(false);
    expect(sinkSchema.safeParse({ type: 'http', inputs: ['a'], endpoint: 'http://x/', auth: { strategy: 'digest', user: 'u', password: 'p' } }).success).toBe(false);
    expect(sinkSchema.safeParse({ type: 'http', inputs: ['a'], endpoint: 'http://x/', method: 'PATCH' }).success).toBe(false);
    expect(sinkSchema.safeParse({ type: 'http', inputs: ['a'], endpoint: 'http://x/', auth: { strategy: 'basic', user: 'u', password: 'p' } }).success).toBe(true);
  });
});

describe('http sink through the agent', () => {
  const fx = agentFixture('loggy-http-sink-');

  function writePod(lines: string[]): void {
    const p = podLog(fx.root, 'shop', 'web-1', 'nginx', 0, 'uid-1');
    append(p, lines.map((l, i) => cri(l, i % 2 ? 'stderr' : 'stdout')).join(''));
  }
  const bodyLines = (reqs: Req[]) => reqs.flatMap((r) => r.text.trimEnd().split('\n').map((l) => JSON.parse(l) as OutEvent));

  it('delivers a real log file, labels included, in file order', async () => {
    const c = await collector();
    writePod(['GET / 200', 'oops', 'GET /cart 200']);
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out, sink: { type: 'http', endpoint: c.url } });
    await waitFor(() => bodyLines(c.reqs).length === 3, 5000, 'three lines');
    const got = bodyLines(c.reqs);
    expect(got.map((e) => [e.stream, e.line])).toEqual([['stdout', 'GET / 200'], ['stderr', 'oops'], ['stdout', 'GET /cart 200']]);
    expect(got[1]!.labels).toMatchObject({ namespace: 'shop', pod: 'web-1', container: 'nginx', pod_uid: 'uid-1' });
    expect(got[0]!.ts).toMatch(/^2026-11-22T10:00:00\.\d{9}Z$/);
  });

  it('retries a 5xx then a 429 (after its Retry-After) and delivers once', async () => {
    const c = await collector((_, n) => (n === 1 ? [503] : n === 2 ? [429, { 'retry-after': '1' }] : [204]));
    writePod(['only once']);
    const t0 = Date.now();
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out, sink: { type: 'http', endpoint: c.url } });
    await waitFor(async () => (await fx.agent!.metrics.total('loggy_sink_events_total')) === 1, 10_000, 'delivered');
    expect(c.reqs).toHaveLength(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(c.reqs.map((r) => r.text)).toEqual(Array(3).fill(c.reqs[0]!.text));
    expect(bodyLines([c.reqs[2]!]).map((e) => e.line)).toEqual(['only once']);
    expect(await fx.agent.metrics.total('loggy_sink_errors_total')).toBe(2);
    await new Promise((r) => setTimeout(r, 300));
    expect(c.reqs).toHaveLength(3);
  });

  it('a 400 on a batch with one bad event dead-letters only that event; the rest is delivered in order', async () => {
    const delivered: string[] = [];
    const c = await collector((r) => {
      const lines = r.text.trimEnd().split('\n').map((l) => (JSON.parse(l) as OutEvent).line);
      if (lines.includes('BAD event')) return [400];
      delivered.push(...lines);
      return [200];
    });
    writePod(['ok 1', 'ok 2', 'BAD event', 'ok 3', 'ok 4']);
    fx.agent = await runAgent({ root: fx.root, dataDir: fx.dataDir, out: fx.out, sink: { type: 'http', endpoint: c.url } });
    await waitFor(async () => (await fx.agent!.metrics.total('loggy_dead_letter_events_total')) === 1, 5000, 'dead-lettered');
    await waitFor(() => delivered.length === 4, 5000, 'good lines');
    expect(delivered).toEqual(['ok 1', 'ok 2', 'ok 3', 'ok 4']);
    expect(await fx.agent.metrics.total('loggy_sink_rejected_events_total')).toBe(1);
    const dead = readFileSync(join(fx.dataDir, 'dead-letter', 'out.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ sink: 'out', status: 400, line: 'BAD event', stream: 'stdout', labels: { namespace: 'shop', pod: 'web-1' } });
    expect(String(dead[0]!.reason)).toContain('bad event');
  });
});
