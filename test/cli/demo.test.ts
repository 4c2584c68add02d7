import { describe, expect, it } from 'vitest';
import { loggy } from '../helpers/proc.js';

describe('loggy demo', () => {
  it('runs a simulated node through the agent to the console and stops cleanly', async () => {
    const p = loggy(['demo', '--duration', '2', '--rate', '50']);
    const { code } = await p.exited;
    expect(code).toBe(0);
    const lines = p.stdout().split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(20);
    for (const l of lines) expect(l).toMatch(/^[a-z0-9-]+\/[a-z0-9-]+\/[a-z0-9-]+ \[(stdout|stderr)\]: /);
    const m = /the simulator wrote (\d+) lines, the agent delivered (\d+) events/.exec(p.stderr());
    expect(m).not.toBeNull();
    // Every line written was delivered (stack traces add events: one per physical line).
    expect(Number(m![2])).toBeGreaterThanOrEqual(Number(m![1]));
  });
});
