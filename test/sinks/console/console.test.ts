import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EventBatch } from '../../../src/core/batch.js';
import { EventFlags, makeSource } from '../../../src/core/event.js';
import { silentLogger } from '../../../src/core/logger.js';
import { AgentMetrics } from '../../../src/core/metrics.js';
import { ConsoleSink, consoleSinkSchema } from '../../../src/sinks/console/index.js';

function capture(): { out: Writable; text: () => string } {
  let text = '';
  const out = new Writable({ write(chunk: Buffer, _enc, cb) { text += chunk.toString(); cb(); } });
  return { out, text: () => text };
}

const source = makeSource('1:2:ab', 'node', { namespace: 'shop', pod: 'web-1', container: 'nginx' });
const batch = new EventBatch(source, [
  { ts: '2026-11-22T10:00:00.000000001Z', stream: 'stdout', line: 'GET / 200', flags: 0, offset: 10 },
  { ts: '2026-11-22T10:00:00.000000002Z', stream: 'stderr', line: 'x'.repeat(8), flags: EventFlags.Truncated, offset: 20 },
]);

describe('console sink', () => {
  const ctx = { name: 'tty', dataDir: '/tmp', log: silentLogger, metrics: new AgentMetrics(), shared: new Map<string, unknown>() };

  it('prints namespace/pod/container [stream]: line, like the seed', async () => {
    const c = capture();
    await new ConsoleSink(consoleSinkSchema.parse({ type: 'console', inputs: ['node'] }), ctx, c.out).write([batch]);
    expect(c.text()).toBe('shop/web-1/nginx [stdout]: GET / 200\nshop/web-1/nginx [stderr]: xxxxxxxx\n');
  });

  it('prints NDJSON with labels and flags when format is json', async () => {
    const c = capture();
    await new ConsoleSink(consoleSinkSchema.parse({ type: 'console', inputs: ['node'], format: 'json' }), ctx, c.out).write([batch]);
    const rows = c.text().trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(rows[0]).toEqual({ ts: '2026-11-22T10:00:00.000000001Z', stream: 'stdout', line: 'GET / 200', labels: source.labels });
    expect(rows[1].flags).toEqual(['truncated']);
  });
});
