import { describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../src/agent/config.js';
import { EventBatch } from '../../src/core/batch.js';
import { EventFlags, makeSource, type LogEvent } from '../../src/core/event.js';
import { silentLogger } from '../../src/core/logger.js';
import { AgentMetrics } from '../../src/core/metrics.js';
import { RateLimitTransform, rateLimitTransformSchema } from '../../src/transforms/rate-limit/index.js';
import { agentFixture, append, capturingLogger, cri, podLog, readOut, runAgent } from '../helpers/agent.js';
import { kubeApiFixture, pod } from '../helpers/kube-api.js';
import { waitFor } from '../helpers/proc.js';

const src = (pod: string) => makeSource(`1:${pod}:fp`, 'node', { namespace: 'shop', pod, container: 'app' });
let offset = 0;
const events = (n: number, line = 'x'.repeat(10)): LogEvent[] =>
  Array.from({ length: n }, () => ({ ts: '2026-11-22T10:00:00.000000000Z', stream: 'stdout' as const, line, flags: 0, offset: (offset += 100) }));

function setup(cfg: Record<string, unknown>) {
  let now = 1_000_000;
  const metrics = new AgentMetrics();
  const t = new RateLimitTransform(rateLimitTransformSchema.parse({ type: 'rate_limit', inputs: ['node'], ...cfg }), { name: 'limit', dataDir: '/tmp', log: silentLogger, metrics, shared: new Map<string, unknown>() }, () => now);
  return { t, metrics, advance: (ms: number) => { now += ms; } };
}

describe('rate_limit transform', () => {
  it('lets a burst through, then drops per container, and says so once in the stream', async () => {
    const { t, metrics, advance } = setup({ lines_per_sec: 10, burst: '2s', summary_interval: '10s' });
    const out = t.process(new EventBatch(src('web'), events(30)))!;
    // 20 fit the bucket (10/s × 2 s); of the 10 dropped, the last is replaced by the report.
    expect(out.events).toHaveLength(21);
    const summary = out.events[20]!;
    expect(summary.flags).toBe(EventFlags.RateLimitSummary);
    expect(summary.line).toBe('loggy: 10 lines (100 bytes) dropped from shop/web/app by rate limit (10 lines/s)');
    // It takes the last dropped event's offset: offsets still rise.
    expect(out.events.map((e) => e.offset)).toEqual([...out.events.map((e) => e.offset)].sort((a, b) => a - b));
    expect(await metrics.total('loggy_rate_limited_events_total')).toBe(10);
    // Another container has its own bucket.
    expect(t.process(new EventBatch(src('api'), events(5)))!.events).toHaveLength(5);
    // Within the summary interval, drops are counted, not reported again...
    advance(500);
    const again = t.process(new EventBatch(src('web'), events(10)))!;
    expect(again.events).toHaveLength(5);
    expect(again.events.every((e) => e.flags === 0)).toBe(true);
    // ...and the next report carries them.
    advance(10_000);
    const later = t.process(new EventBatch(src('web'), events(40)))!;
    expect(later.events.at(-1)!.line).toMatch(/^loggy: 25 lines \(250 bytes\) dropped/);
    expect(await metrics.total('loggy_rate_limited_events_total')).toBe(10 + 5 + 20);
  });

  it('limits bytes too, and refills with time', () => {
    const { t, advance } = setup({ bytes_per_sec: 100, burst: '1s' });
    expect(t.process(new EventBatch(src('web'), events(3, 'y'.repeat(40))))!.events.filter((e) => e.flags === 0)).toHaveLength(2);
    advance(1000);
    expect(t.process(new EventBatch(src('web'), events(2, 'y'.repeat(40))))!.events.filter((e) => e.flags === 0)).toHaveLength(2);
  });

  it('passes batches under the limit through untouched', () => {
    const { t } = setup({ lines_per_sec: 1000 });
    const b = new EventBatch(src('web'), events(5));
    expect(t.process(b)).toBe(b);
  });

  it('needs a limit', () => {
    const r = agentConfigSchema.safeParse({
      sources: { node: { type: 'kubernetes_logs' } },
      transforms: { limit: { type: 'rate_limit', inputs: ['node'], annotations: false } },
      sinks: { out: { type: 'blackhole', inputs: ['limit'] } },
    });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message).join()).toContain('give lines_per_sec, bytes_per_sec or both');
  });
});

/** `loggy.io/rate-limit` through the pod cache of a real (local) API server. */
describe('rate_limit transform with pod annotations', () => {
  const fx = agentFixture('loggy-ratelimit-');
  const kube = kubeApiFixture(fx);

  const start = (limit: Record<string, unknown>, log = silentLogger) => runAgent({
    root: fx.root, dataDir: fx.dataDir, out: fx.out, log,
    transforms: [
      { type: 'kube_metadata', node_name: 'node-1', kubeconfig: kube.api.writeKubeconfig(fx.tmpDir), sync_timeout: 3000 },
      { type: 'rate_limit', burst: '1s', summary_interval: '1m', ...limit },
    ],
  });
  const lines = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => cri(`${prefix} ${i}`)).join('');
  const from = (pod: string) => readOut(fx.out).filter((e) => e.labels.pod === pod);

  it('limits only the pods that ask, each at its own rate, and a change applies without restart', async () => {
    kube.api.addPod(pod({ name: 'chatty-1', uid: 'uid-chatty', annotations: { 'loggy.io/rate-limit': '5' } }));
    kube.api.addPod(pod({ name: 'calm-1', uid: 'uid-calm' }));
    const chatty = podLog(fx.root, 'shop', 'chatty-1', 'app', 0, 'uid-chatty');
    append(chatty, lines('chatty', 200));
    append(podLog(fx.root, 'shop', 'calm-1', 'app', 0, 'uid-calm'), lines('calm', 200));
    // lines_per_sec 0: no limit but what annotations ask for.
    fx.agent = await start({ lines_per_sec: 0 });
    await waitFor(() => from('calm-1').length === 200 && from('chatty-1').some((e) => e.flags?.includes('rate_limit_summary')), 5000, 'both pods read');
    const kept = from('chatty-1');
    // A 5-line bucket (5/s × 1 s), plus what refilled while reading, plus the summary.
    expect(kept.length).toBeLessThan(15);
    expect(kept.at(-1)!.line).toMatch(/^loggy: \d+ lines \(\d+ bytes\) dropped from shop\/chatty-1\/app by rate limit \(5 lines\/s\)$/);

    kube.api.updatePod(pod({ name: 'chatty-1', uid: 'uid-chatty', annotations: { 'loggy.io/rate-limit': '100000' } }));
    await new Promise((r) => setTimeout(r, 300));
    const before = from('chatty-1').length;
    append(chatty, lines('later', 100));
    await waitFor(() => from('chatty-1').length === before + 100, 5000, 'all 100 lines under the new rate');
  });

  it('lowers an annotation above the ceiling, ignores a bad one, and says so once each', async () => {
    const { log, records } = capturingLogger();
    kube.api.addPod(pod({ name: 'greedy-1', uid: 'uid-greedy', annotations: { 'loggy.io/rate-limit': '1000000' } }));
    kube.api.addPod(pod({ name: 'typo-1', uid: 'uid-typo', annotations: { 'loggy.io/rate-limit': 'fast' } }));
    append(podLog(fx.root, 'shop', 'greedy-1', 'app', 0, 'uid-greedy'), lines('greedy', 100));
    append(podLog(fx.root, 'shop', 'typo-1', 'app', 0, 'uid-typo'), lines('typo', 100));
    fx.agent = await start({ lines_per_sec: 3, max_annotated_lines_per_sec: 10 }, log);
    await waitFor(() => from('greedy-1').some((e) => e.flags?.includes('rate_limit_summary')) && from('typo-1').some((e) => e.flags?.includes('rate_limit_summary')), 5000, 'both limited');
    expect(from('greedy-1').at(-1)!.line).toContain('(10 lines/s)');
    expect(from('typo-1').at(-1)!.line).toContain('(3 lines/s)');
    const said = records.filter((r) => r.annotation === 'loggy.io/rate-limit');
    expect(said.map((r) => [r.pod, r.msg, r.using])).toEqual(expect.arrayContaining([
      ['shop/greedy-1', 'pod annotation lowered to the ceiling', '10 lines/s'],
      ['shop/typo-1', 'pod annotation ignored', '3 lines/s'],
    ]));
    expect(said).toHaveLength(2);
    expect(await fx.agent.metrics.total('loggy_kube_annotation_errors_total')).toBe(2);
  });
});
