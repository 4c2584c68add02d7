import { describe, expect, it } from 'vitest';
import { EventFlags, type LogEvent } from '../../src/core/event.js';
import { createFramer } from '../../src/formats/index.js';

describe('raw framer (plain text files)', () => {
  const raw = (max = 100) => createFramer({ format: 'raw', maxLineBytes: max });

  it('makes one event per line, offsets at line ends, CRLF trimmed, in any chunking', () => {
    const text = Buffer.from('first\nsecond\r\nthird é\n');
    for (const cut of [1, 3, 7, text.length]) {
      const f = raw();
      const out: LogEvent[] = [];
      for (let at = 0; at < text.length; at += cut) f.push(text.subarray(at, at + cut), at, out);
      expect(out.map((e) => [e.line, e.offset, e.stream, e.flags])).toEqual([['first', 6, 'stdout', 0], ['second', 14, 'stdout', 0], ['third é', text.length, 'stdout', 0]]);
      expect(f.resumeOffset()).toBe(text.length);
    }
  });

  it('holds a line without its newline (resume offset at its start) until the newline, or until forced', () => {
    const f = raw();
    const out: LogEvent[] = [];
    f.push(Buffer.from('done\nhalf a li'), 0, out);
    expect(out.map((e) => e.line)).toEqual(['done']);
    expect(f.resumeOffset()).toBe(5);
    f.flush(out, Date.now());
    expect(out).toHaveLength(1);
    f.push(Buffer.from('ne\n'), 14, out);
    expect(out.map((e) => e.line)).toEqual(['done', 'half a line']);
    f.push(Buffer.from('never ends'), 17, out);
    f.flush(out, Date.now(), true);
    expect(out[2]).toMatchObject({ line: 'never ends', offset: 27, flags: EventFlags.Partial });
    expect(f.stats.partialFlushed).toBe(1);
  });

  it('cuts long lines to maxLineBytes on a character boundary, flags and counts them, in bounded memory', () => {
    const f = raw(10);
    const out: LogEvent[] = [];
    f.push(Buffer.from('ééééééé and more\nshort\n'), 0, out);
    expect(out[0]!.line).toBe('ééééé');
    expect(out[0]!.flags & EventFlags.Truncated).toBeTruthy();
    expect(out[1]!.line).toBe('short');
    // A 1 MiB unfinished line keeps only max + 1 bytes.
    f.push(Buffer.alloc(1024 * 1024, 'x'), 27, out);
    expect(f.bufferedBytes).toBeLessThanOrEqual(11);
    expect(f.stats.truncated).toBe(1);
  });
});
