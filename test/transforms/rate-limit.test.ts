import { describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../src/agent/config.js';
import { EventBatch } from '../../src/core/batch.js';
import { EventFlags, makeSource, type LogEvent } from '../../src/core/event.js';
import { silentLogger } from '../../src/core/logger.js';
import { AgentMetrics } from '../../src/core/metrics.js';
import { RateLimitTransform, rateLimitTransformSchema } from '../../src/transforms/rate-limit/index.js';

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
      transforms: { limit: { type: 'rate_limit', inputs: ['node'] } },
      sinks: { out: { type: 'blackhole', inputs: ['limit'] } },
    });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message).join()).toContain('give lines_per_sec, bytes_per_sec or both');
  });
});
