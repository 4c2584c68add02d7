import { describe, expect, it } from 'vitest';
import { EventFlags, type LogEvent } from '../../src/core/event.js';
import { createFramer } from '../../src/formats/index.js';
import { cri, ev, feed, FileBuilder, frame, opts, TS } from './helpers.js';

describe('CRI framing', () => {
  it('parses ts, stream and message, keeping the nanosecond ts verbatim', () => {
    const fb = new FileBuilder();
    const o1 = fb.add(cri('hello world', 'stdout', 'F', '2026-11-22T00:00:00.000000123Z'));
    const o2 = fb.add(cri('to stderr', 'stderr', 'F', '2026-11-22T00:00:01.5Z'));
    const o3 = fb.add(cri('zoned', 'stdout', 'F', '2026-11-22T01:00:00.123456789+01:00'));
    const { f, events } = frame(fb.buf);
    expect(f.format).toBe('cri');
    expect(events).toEqual([
      ev('hello world', o1, 'stdout', 0, '2026-11-22T00:00:00.000000123Z'),
      ev('to stderr', o2, 'stderr', 0, '2026-11-22T00:00:01.5Z'),
      ev('zoned', o3, 'stdout', 0, '2026-11-22T01:00:00.123456789+01:00'),
    ]);
    expect(f.stats).toMatchObject({ events: 3, malformed: 0, truncated: 0 });
  });

  it('handles empty messages, longer tag fields, and keeps spaces, tabs and \\r', () => {
    const input = `${TS} stdout F \n${TS} stdout F\n${TS} stdout F:x:y tagged\n${TS} stderr F  two  spaces\ttab\r\n`;
    const { events } = frame(input);
    expect(events.map((e) => [e.line, e.stream, e.flags])).toEqual([
      ['', 'stdout', 0], ['', 'stdout', 0], ['tagged', 'stdout', 0], [' two  spaces\ttab\r', 'stderr', 0],
    ]);
  });

  it('reassembles P…F into one logical line with the first ts and the last offset', () => {
    const fb = new FileBuilder();
    fb.add(cri('part one, ', 'stdout', 'P', '2026-11-22T00:00:00.1Z'));
    fb.add(cri('part two, ', 'stdout', 'P', '2026-11-22T00:00:00.2Z'));
    const end = fb.add(cri('end', 'stdout', 'F', '2026-11-22T00:00:00.3Z'));
    const after = fb.add(cri('next'));
    const { events } = frame(fb.buf);
    expect(events).toEqual([
      ev('part one, part two, end', end, 'stdout', 0, '2026-11-22T00:00:00.1Z'),
      ev('next', after),
    ]);
  });

  it('joins bytes, not strings: a character split across P records survives', () => {
    const bytes = Buffer.from('é😀');
    const head = Buffer.concat([Buffer.from(`${TS} stdout P `), bytes.subarray(0, 3), Buffer.from('\n')]);
    const tail = Buffer.concat([Buffer.from(`${TS} stdout F `), bytes.subarray(3), Buffer.from('\n')]);
    const { events } = frame(Buffer.concat([head, tail]));
    expect(events.map((e) => e.line)).toEqual(['é😀']);
  });

  it('keeps interleaved stdout and stderr P chains apart', () => {
    const fb = new FileBuilder();
    fb.add(cri('out-1 ', 'stdout', 'P', '2026-11-22T00:00:01Z'));
    fb.add(cri('err-1 ', 'stderr', 'P', '2026-11-22T00:00:02Z'));
    fb.add(cri('out-2 ', 'stdout', 'P', '2026-11-22T00:00:03Z'));
    const e1 = fb.add(cri('err-2', 'stderr', 'F', '2026-11-22T00:00:04Z'));
    const o1 = fb.add(cri('out-3', 'stdout', 'F', '2026-11-22T00:00:05Z'));
    const { events } = frame(fb.buf);
    expect(events).toEqual([
      ev('err-1 err-2', e1, 'stderr', 0, '2026-11-22T00:00:02Z'),
      ev('out-1 out-2 out-3', o1, 'stdout', 0, '2026-11-22T00:00:01Z'),
    ]);
  });

  it('reports exact byte offsets and the resume offset of what is pending', () => {
    const f = createFramer(opts());
    const fb = new FileBuilder();
    const a = fb.add(cri('a'));
    const pStart = fb.size;
    fb.add(cri('chain ', 'stderr', 'P'));
    const b = fb.add(cri('b'));
    const buf = fb.buf;
    const out = feed(f, buf);
    expect(out.map((e) => e.offset)).toEqual([a, b]);
    // The stderr chain is open: a restart must re-read from its first record.
    expect(f.resumeOffset()).toBe(pStart);

    // An unterminated physical line: resume from its start, even once the chain closes.
    const tailStart = buf.length;
    const more = Buffer.from(`${cri('done', 'stderr')}${TS} stdout F unterminat`);
    const out2 = feed(f, more, 'one', [], buf.length);
    expect(out2).toEqual([ev('chain done', tailStart + cri('done', 'stderr').length, 'stderr')]);
    expect(f.resumeOffset()).toBe(tailStart + cri('done', 'stderr').length);
    const rest = Buffer.from('ed\n');
    const out3 = feed(f, rest, 'one', [], buf.length + more.length);
    expect(out3).toEqual([ev('unterminated', buf.length + more.length + 3)]);
    // Nothing pending: the end of consumed input.
    expect(f.resumeOffset()).toBe(buf.length + more.length + 3);
  });

  it('truncates a long line to maxLineBytes and counts it; the next line is fine', () => {
    const { f, events } = frame(cri('abcdefghijklmnop') + cri('ok'), { maxLineBytes: 10 });
    expect(events.map((e) => [e.line, e.flags])).toEqual([['abcdefghij', EventFlags.Truncated], ['ok', 0]]);
    expect(f.stats.truncated).toBe(1);
  });

  it('cuts on a UTF-8 character boundary', () => {
    // 'é' is 2 bytes at 8..9, '😀' is 4 bytes at 8..11: a cut at 9 must back off to 8.
    const { events } = frame(cri('aaaaaaaaé') + cri('aaaaaaaa😀') + cri('aaaaaaaaaé'), { maxLineBytes: 9 });
    expect(events.map((e) => e.line)).toEqual(['aaaaaaaa', 'aaaaaaaa', 'aaaaaaaaa']);
    expect(events.every((e) => e.flags === EventFlags.Truncated)).toBe(true);
  });

  it('truncates a P chain that exceeds maxLineBytes and drops the rest of it', () => {
    const fb = new FileBuilder();
    fb.add(cri('0123456789', 'stdout', 'P'));
    fb.add(cri('abcdefghij', 'stdout', 'P'));
    const end = fb.add(cri('ABCDEFGHIJ', 'stdout', 'F'));
    const next = fb.add(cri('next'));
    const { f, events } = frame(fb.buf, { maxLineBytes: 15 });
    expect(events).toEqual([ev('0123456789abcde', end, 'stdout', EventFlags.Truncated), ev('next', next)]);
    expect(f.stats.truncated).toBe(1);
  });

  it('a 1 MiB physical line with maxLineBytes 16 KiB: one truncated event, bounded memory, next line fine', () => {
    const max = 16384;
    const f = createFramer(opts({ maxLineBytes: max }));
    const big = Buffer.from(cri('x'.repeat(1024 * 1024)));
    const input = Buffer.concat([big, Buffer.from(cri('after', 'stderr'))]);
    const out: LogEvent[] = [];
    let peak = 0;
    for (let off = 0; off < input.length; off += 65536) {
      f.push(input.subarray(off, Math.min(off + 65536, input.length)), off, out);
      peak = Math.max(peak, f.bufferedBytes);
    }
    expect(out).toEqual([
      ev('x'.repeat(max), big.length, 'stdout', EventFlags.Truncated),
      ev('after', input.length, 'stderr'),
    ]);
    expect(peak).toBeLessThanOrEqual(max + 64 * 1024 + 4096);
    expect(f.stats.truncated).toBe(1);
  });

  it('stays bounded while a gigantic line has no newline yet, and a P record of it keeps the chain', () => {
    const max = 1000;
    const f = createFramer(opts({ maxLineBytes: max }));
    const out: LogEvent[] = [];
    let off = 0;
    const push = (b: Buffer): void => {
      f.push(b, off, out);
      off += b.length;
    };
    const start = off;
    push(Buffer.from(`${TS} stdout P `));
    const chunk = Buffer.alloc(100_000, 'y');
    for (let i = 0; i < 50; i++) push(chunk); // 5 MB without a newline
    expect(f.bufferedBytes).toBeLessThanOrEqual(max + 64 * 1024 + 4096);
    expect(f.resumeOffset()).toBe(start);
    push(Buffer.from('\n'));
    expect(out).toEqual([]); // P: the logical line goes on
    push(Buffer.from(cri('tail', 'stdout', 'F')));
    expect(out).toEqual([ev('y'.repeat(max), off, 'stdout', EventFlags.Truncated)]);
    expect(f.stats.truncated).toBe(1);
    // Nothing is kept once the line is done: thousands of files may sit open after one.
    expect(f.bufferedBytes).toBe(0);
  });
});
