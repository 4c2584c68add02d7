import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../src/core/event.js';
import { createFramer, type FramerOptions } from '../../src/formats/index.js';
import { checkOrder, cri, docker, feed, normalize, opts, rng, type Split } from './helpers.js';

/** A file exercising every path: chains, interleaving, multi-byte cuts, escapes, malformed lines, truncation, traces. */
function corpus(format: 'cri' | 'docker'): Buffer {
  const r = rng(7);
  const parts: Buffer[] = [];
  const rec = (msg: string, stream: string, last: boolean): void => {
    if (format === 'cri') parts.push(Buffer.from(cri(msg, stream, last ? 'F' : 'P', `2026-11-22T00:00:${String(parts.length % 60).padStart(2, '0')}.${parts.length}Z`)));
    else parts.push(Buffer.from(docker(last ? `${msg}\n` : msg, stream, `2026-11-22T00:00:00.${parts.length}Z`)));
  };
  const texts = ['plain text line', 'JSON {"a":"b","n":1} <&>', 'ünïcödé 😀 text', '', '\tat com.x.Foo.bar(Foo.java:1)',
    'Exception in thread "main" java.lang.RuntimeException: x', 'Caused by: java.io.IOException: y', '\t... 3 more', 'x'.repeat(300)];
  for (let i = 0; i < 400; i++) {
    const stream = r() < 0.7 ? 'stdout' : 'stderr';
    const msg = texts[Math.floor(r() * texts.length)];
    const k = r();
    if (k < 0.1) {
      // A chain of 2–4 pieces; CRI pieces cut by bytes (possibly inside a character).
      const whole = Buffer.from(`${msg} ${'€'.repeat(Math.floor(r() * 50))} end`);
      const n = 2 + Math.floor(r() * 3);
      let at = 0;
      for (let j = 0; j < n; j++) {
        let end = j === n - 1 ? whole.length : Math.min(whole.length, at + Math.floor(whole.length / n));
        if (format === 'docker') while (end < whole.length && (whole[end] & 0xc0) === 0x80) end--;
        if (format === 'cri') {
          parts.push(Buffer.concat([Buffer.from(`2026-11-22T00:00:00.${parts.length}Z ${stream} ${j === n - 1 ? 'F' : 'P'} `), whole.subarray(at, end), Buffer.from('\n')]));
        } else {
          rec(whole.toString('utf8', at, end), stream, j === n - 1);
        }
        at = end;
      }
    } else if (k < 0.13) {
      parts.push(Buffer.from(`garbage line ${i} \u0000 \xff\n`));
    } else if (k < 0.15) {
      parts.push(Buffer.concat([Buffer.from(format === 'cri' ? `2026-11-22T00:00:00Z stdout F bad utf8 ` : '{"log":"bad '), Buffer.from([0xe2, 0x82, 0xff, 0xc3]), Buffer.from(format === 'cri' ? '\n' : `\\n","stream":"stdout","time":"2026-11-22T00:00:00Z"}\n`)]));
    } else {
      rec(msg, stream, true);
    }
  }
  return Buffer.concat(parts);
}

function run(input: Buffer, o: Partial<FramerOptions>, split: Split): { events: LogEvent[]; stats: object; resume: number } {
  const f = createFramer(opts(o));
  const events = feed(f, input, split);
  const resume = f.resumeOffset();
  f.flush(events, Date.now() + 1e9, true);
  checkOrder(events);
  return { events: normalize(events), stats: { ...f.stats }, resume };
}

describe('chunk boundaries anywhere give the same events', () => {
  for (const format of ['cri', 'docker'] as const) {
    for (const [name, o] of [
      ['plain', { maxLineBytes: 200 }],
      ['java multiline', { maxLineBytes: 4096, multiline: { preset: 'java', flushMs: 1000 } }],
    ] as const) {
      it(`${format}, ${name}: byte by byte and random chunk sizes`, () => {
        const input = corpus(format);
        const whole = run(input, o, 'one');
        expect(whole.events.length).toBeGreaterThan(100);
        expect(whole.stats).toMatchObject({ malformed: expect.any(Number) });
        expect(run(input, o, 'byte')).toEqual(whole);
        for (const seed of [1, 2, 3, 4]) expect(run(input, o, { seed, max: seed * 37 })).toEqual(whole);
        expect(run(input, o, { seed: 9, max: 5000 })).toEqual(whole);
      });
    }
  }

  it('every byte of the file is covered: the last event ends at the file end', () => {
    const input = corpus('cri');
    const { events } = run(input, { maxLineBytes: 200 }, { seed: 5, max: 100 });
    expect(Math.max(...events.map((e) => e.offset))).toBe(input.length);
  });
});
