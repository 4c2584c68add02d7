import { describe, expect, it } from 'vitest';
import { EventFlags, type LogEvent } from '../../src/core/event.js';
import { createFramer, detectFormat } from '../../src/formats/index.js';
import { checkOrder, cri, docker, ev, feed, FileBuilder, frame, opts, rng, TS } from './helpers.js';

describe('robustness', () => {
  it('never throws on random bytes, in any format and chunking', () => {
    const r = rng(11);
    const alphabet = Buffer.from('{}":,\\nu0123456789abcdefTZ-. \n\t\r\x00stdouterrPF\xc3\xa9\xff\xfe\xe2\x82');
    for (let round = 0; round < 30; round++) {
      const n = 1 + Math.floor(r() * 5000);
      const buf = Buffer.alloc(n);
      for (let i = 0; i < n; i++) buf[i] = r() < 0.5 ? Math.floor(r() * 256) : alphabet[Math.floor(r() * alphabet.length)];
      if (round % 3 === 0) buf[0] = 0x7b; // '{': docker
      for (const format of ['auto', 'cri', 'docker'] as const) {
        const f = createFramer(opts({ format, maxLineBytes: 1 + Math.floor(r() * 200), multiline: round % 2 ? { preset: 'go', flushMs: 5 } : null }));
        const out: LogEvent[] = [];
        expect(() => {
          feed(f, buf, { seed: round, max: 300 }, out);
          f.flush(out, Date.now() + 10);
          f.flush(out, Date.now() + 10, true);
        }).not.toThrow();
        checkOrder(out);
        for (const e of out) {
          expect(typeof e.line).toBe('string');
          expect(e.stream === 'stdout' || e.stream === 'stderr').toBe(true);
        }
        expect(f.resumeOffset()).toBe(n);
        if (out.length > 0) expect(Math.max(...out.map((e) => e.offset))).toBeLessThanOrEqual(n);
      }
    }
  });

  it('invalid UTF-8 becomes U+FFFD without shifting the fields around it', () => {
    const bad = Buffer.from([0x61, 0xe2, 0x82, 0xff, 0xc3]);
    const c = Buffer.concat([Buffer.from(`${TS} stderr F `), bad, Buffer.from('\n')]);
    expect(frame(c).events).toEqual([ev('a\ufffd\ufffd\ufffd', c.length, 'stderr')]);
    // Docker: the ts after the message must still be exact.
    const d = Buffer.concat([Buffer.from('{"log":"'), bad, Buffer.from(`\\n","stream":"stdout","time":"${TS}"}\n`)]);
    expect(frame(d).events).toEqual([ev('a\ufffd\ufffd\ufffd', d.length)]);
  });

  it('NUL bytes: a leading NUL hole (copytruncate) is skipped, NULs inside a message are kept', () => {
    const fb = new FileBuilder();
    fb.add(Buffer.alloc(5000)); // hole
    const a = fb.add(cri('after hole'));
    const b = fb.add(cri('nul\u0000inside'));
    const { f, events } = frame(fb.buf, {}, { seed: 3, max: 700 });
    expect(f.format).toBe('cri');
    expect(events).toEqual([ev('after hole', a), ev('nul\u0000inside', b)]);
  });

  it('\\r\\n: CRI keeps the \\r as content, Docker records still decode', () => {
    expect(frame(`${TS} stdout F win\r\n`).events.map((e) => e.line)).toEqual(['win\r']);
    const d = docker('x\n').replace(/\n$/, '\r\n');
    expect(frame(d).events.map((e) => [e.line, e.flags])).toEqual([['x', 0]]);
  });

  it('detects the format from the first non-empty line', () => {
    expect(detectFormat(Buffer.from('\n\r\n  {"log"'))).toBe('docker');
    expect(detectFormat(Buffer.from('\n2026-'))).toBe('cri');
    expect(detectFormat(Buffer.from('\n\n'))).toBeNull();
    const f = createFramer(opts());
    expect(f.format).toBeNull();
    f.push(Buffer.from('\n'), 0, []);
    expect(f.format).toBeNull();
    const out = feed(f, Buffer.from(docker('d\n')), 'one', [], 1);
    expect(f.format).toBe('docker');
    expect(out.map((e) => e.line)).toEqual(['d']);
    // An explicit format is not second-guessed: docker lines in a CRI file are malformed.
    const { f: g, events } = frame(docker('d\n'), { format: 'cri' });
    expect(g.format).toBe('cri');
    expect(events[0].flags).toBe(EventFlags.Malformed);
  });

  it('malformed CRI lines are delivered raw and counted', () => {
    const bad = ['hello', `${TS} stdin F x`, `${TS} stdout X x`, `${TS} stdout`, 'not-a-time stdout F x', `${TS}stdout F x`];
    const fb = new FileBuilder();
    const offs = bad.map((l) => fb.add(`${l}\n`));
    const ok = fb.add(cri('fine'));
    const { f, events } = frame(fb.buf);
    expect(events.map((e) => [e.line, e.flags, e.offset, e.stream])).toEqual([
      ...bad.map((l, i) => [l, EventFlags.Malformed, offs[i], 'stdout']),
      ['fine', 0, ok, 'stdout'],
    ]);
    expect(f.stats.malformed).toBe(bad.length);
  });

  it('does not keep references into the pushed chunk', () => {
    const f = createFramer(opts());
    const chunk = Buffer.from(`${cri('first')}${TS} stdout P par`);
    const out: LogEvent[] = [];
    f.push(chunk, 0, out);
    chunk.fill(0x21);
    f.push(Buffer.from(`tial\n${cri('rest')}`), chunk.length, out);
    expect(out.map((e) => e.line)).toEqual(['first', 'partialrest']);
  });

  it('reset() forgets carry, chains and groups and restarts detection at the given offset', () => {
    const f = createFramer(opts({ multiline: { preset: 'java', flushMs: 10 } }));
    const out: LogEvent[] = [];
    f.push(Buffer.from(`${cri('chain', 'stderr', 'P')}${cri('grouped')}${TS} stdout F unterminated`), 0, out);
    expect(f.resumeOffset()).toBe(0);
    expect(f.nextFlushDue()).not.toBeNull();
    f.reset(0);
    expect(f.format).toBeNull();
    expect(f.resumeOffset()).toBe(0);
    expect(f.nextFlushDue()).toBeNull();
    const d = Buffer.from(docker('fresh\n', 'stderr'));
    f.push(d, 0, out);
    f.flush(out, Date.now(), true);
    expect(out).toEqual([ev('fresh', d.length, 'stderr')]);
    expect(f.format).toBe('docker');
  });

  it('stats count events, truncations and malformed lines cumulatively', () => {
    const { f } = frame(`${cri('a')}junk\n${cri('0123456789abc')}`, { maxLineBytes: 10 });
    expect(f.stats).toEqual({ events: 3, truncated: 1, malformed: 1, partialFlushed: 0, multilineGroups: 0 });
  });
});
