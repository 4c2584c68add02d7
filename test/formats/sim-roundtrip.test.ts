// Round trip with the project's log generator (src/sim): what it writes, the framer must
// give back message for message, in both formats, with and without multiline presets.
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/core/event.js';
import { createFramer, type MultilineOptions } from '../../src/formats/index.js';
import { encodeMessage } from '../../src/sim/encode.js';
import { MessageGenerator, type Style } from '../../src/sim/messages.js';
import { makeRng } from '../../src/sim/random.js';
import { feed } from './helpers.js';

const NS = 1_700_000_000_000_000_000n;

function roundTrip(format: 'cri' | 'docker', style: Style, multiline: MultilineOptions | null): { want: string[]; got: LogEvent[]; malformed: number } {
  const g = new MessageGenerator('ns/pod/c', style, makeRng(3), { stderr: 0.3, longLines: 0.02, stackTraces: 0.05 });
  const parts: Buffer[] = [];
  const want: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const m = g.next(i, NS + BigInt(i) * 1000n);
    parts.push(encodeMessage(format, NS + BigInt(i) * 1000n, m));
    if (multiline) want.push(`${m.stream} ${m.lines.join('\n')}`);
    else for (const l of m.lines) want.push(`${m.stream} ${l}`);
  }
  const f = createFramer({ maxLineBytes: 1 << 20, multiline });
  const got = feed(f, Buffer.concat(parts), { seed: 1, max: 70000 });
  f.flush(got, 0, true);
  return { want, got, malformed: f.stats.malformed };
}

describe('round trip with the log generator', () => {
  for (const format of ['cri', 'docker'] as const) {
    it(`${format}: every physical line back, in order per stream`, () => {
      for (const style of ['plain', 'json', 'logfmt', 'klog', 'python'] as const) {
        const { want, got, malformed } = roundTrip(format, style, null);
        expect(malformed).toBe(0);
        const byStream = (xs: string[], s: string): string[] => xs.filter((x) => x.startsWith(s));
        const lines = got.map((e) => `${e.stream} ${e.line}`);
        expect(byStream(lines, 'stdout')).toEqual(byStream(want, 'stdout'));
        expect(byStream(lines, 'stderr')).toEqual(byStream(want, 'stderr'));
      }
    });
  }

  for (const preset of ['java', 'python'] as const) {
    it(`multiline preset ${preset}: each generated ${preset} trace is one event`, () => {
      const { want, got } = roundTrip('cri', preset === 'java' ? 'plain' : 'python', { preset, flushMs: 10 });
      const lines = new Set(got.map((e) => `${e.stream} ${e.line}`));
      const traces = want.filter((w) => (preset === 'java' ? w.includes('\n\tat ') : w.includes('\nTraceback')));
      expect(traces.length).toBeGreaterThan(20);
      expect(traces.filter((t) => !lines.has(t))).toEqual([]);
      // Single-line messages are untouched.
      expect(want.filter((w) => !w.includes('\n') && !lines.has(w))).toEqual([]);
    });
  }
});
