import { describe, expect, it } from 'vitest';
import { RetryableError } from '../../../src/core/errors.js';
import { RejectedError, sendSplitting } from '../../../src/sinks/shared/http.js';

/** A receiver that refuses any request holding a multiple of 17, counting what it accepted. */
function receiver(opts: { delayMs?: number; failOnce?: number } = {}) {
  const accepted: number[] = [];
  let inFlight = 0;
  let peak = 0;
  let requests = 0;
  let failOnce = opts.failOnce;
  const send = async (items: number[]): Promise<void> => {
    requests++;
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((r) => setTimeout(r, opts.delayMs ?? 1));
    inFlight--;
    if (failOnce !== undefined && items.includes(failOnce)) {
      failOnce = undefined;
      throw new RetryableError('store restarting');
    }
    if (items.some((i) => i % 17 === 0)) throw new RejectedError(400, 'bad entry');
    accepted.push(...items);
  };
  return { send, accepted, stats: () => ({ peak, requests }) };
}

describe('sendSplitting', () => {
  const items = Array.from({ length: 200 }, (_, i) => i + 1);

  it('refuses exactly the bad events, delivers every other one once and in order', async () => {
    const r = receiver();
    const refused: number[] = [];
    await sendSplitting(items, r.send, async (part, err) => {
      expect(err.status).toBe(400);
      refused.push(...part);
    });
    expect(refused.sort((a, b) => a - b)).toEqual(items.filter((i) => i % 17 === 0));
    // In order, one request at a time: an offset-deduplicating receiver depends on it.
    expect(r.accepted).toEqual(items.filter((i) => i % 17 !== 0));
    expect(r.stats().peak).toBe(1);
    // 11 bad events among 200: far fewer requests than one per event.
    expect(r.stats().requests).toBeLessThan(120);
  });

  it('stops at a retryable failure and raises it: nothing after it is sent, the runner retries the whole write', async () => {
    const r = receiver({ failOnce: 150 });
    const p = sendSplitting(items, r.send, async () => undefined);
    await expect(p).rejects.toBeInstanceOf(RetryableError);
    expect(Math.max(...r.accepted)).toBeLessThan(150);
    const before = r.stats().requests;
    await new Promise((res) => setTimeout(res, 20));
    expect(r.stats().requests).toBe(before);
  });
});
