import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventFlags, type LogEvent } from '../../src/core/event.js';
import { createFramer, type LineFramer, type MultilineOptions } from '../../src/formats/index.js';
import { cri, ev, feed, FileBuilder, opts, TS } from './helpers.js';

const T0 = 1_800_000_000_000;
const ML = EventFlags.Multiline;

function framer(m: MultilineOptions, maxLineBytes = 64 * 1024): LineFramer {
  return createFramer(opts({ maxLineBytes, multiline: m }));
}

/** Write lines as CRI records (each with its own ts) and remember offsets. */
function file(lines: string[], stream = 'stdout'): { buf: Buffer; ends: number[]; starts: number[] } {
  const fb = new FileBuilder();
  const starts: number[] = [];
  const ends = lines.map((l, i) => {
    starts.push(fb.size);
    return fb.add(cri(l, stream, 'F', `2026-11-22T00:00:00.${String(i + 1).padStart(9, '0')}Z`));
  });
  return { buf: fb.buf, ends, starts };
}
const tsOf = (i: number): string => `2026-11-22T00:00:00.${String(i + 1).padStart(9, '0')}Z`;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('multiline presets', () => {
  it('java: stack trace lines join the exception line', () => {
    const lines = [
      'starting',
      'Exception in thread "main" java.lang.IllegalStateException: boom',
      '\tat com.example.Foo.bar(Foo.java:10)',
      '\tat com.example.Main.main(Main.java:5)',
      'Caused by: java.io.IOException: disk',
      '\tat com.example.Io.read(Io.java:1)',
      '\t... 2 more',
      '\tSuppressed: java.lang.Exception: s',
      '\t\t... 12 common frames omitted',
      'next message',
    ];
    const { buf, ends, starts } = file(lines);
    const f = framer({ preset: 'java', flushMs: 1000 });
    const out = feed(f, buf);
    expect(out).toEqual([ev('starting', ends[0], 'stdout', 0, tsOf(0)), ev(lines.slice(1, 9).join('\n'), ends[8], 'stdout', ML, tsOf(1))]);
    expect(f.stats.multilineGroups).toBe(1);
    // 'next message' waits for a possible continuation.
    expect(f.resumeOffset()).toBe(starts[9]);
    expect(f.nextFlushDue()).toBe(T0 + 1000);
    f.flush(out, T0 + 999);
    expect(out).toHaveLength(2);
    f.flush(out, T0 + 1000);
    expect(out[2]).toEqual(ev('next message', ends[9], 'stdout', 0, tsOf(9)));
    expect(f.nextFlushDue()).toBeNull();
    expect(f.resumeOffset()).toBe(buf.length);
  });

  it('python: a traceback (and the log line announcing it) ends with its first non-indented line', () => {
    const lines = [
      'Traceback (most recent call last):',
      '  File "app.py", line 3, in <module>',
      '    main()',
      '  File "app.py", line 2, in main',
      '    raise ValueError("bad")',
      'ValueError: bad',
      'ERROR:app.views:Exception on /checkout [POST]',
      'Traceback (most recent call last):',
      '  File "/app/views.py", line 10, in checkout',
      '    return fn()',
      "KeyError: 'id'",
      'after',
      '  indented but no traceback',
    ];
    const { buf, ends } = file(lines);
    const f = framer({ preset: 'python', flushMs: 1000 });
    const out = feed(f, buf);
    // Both tracebacks are complete on their exception line: no wait for a flush.
    expect(out).toEqual([
      ev(lines.slice(0, 6).join('\n'), ends[5], 'stdout', ML, tsOf(0)),
      ev(lines.slice(6, 11).join('\n'), ends[10], 'stdout', ML, tsOf(6)),
      ev('after', ends[11], 'stdout', 0, tsOf(11)),
    ]);
    f.flush(out, T0 + 1000);
    expect(out[3]).toEqual(ev('  indented but no traceback', ends[12], 'stdout', 0, tsOf(12)));
    expect(f.nextFlushDue()).toBeNull();
  });

  it('java: the logger line, the exception class line and its frames form one event', () => {
    const lines = [
      '2026-11-22 10:00:00.000 ERROR 1 --- [main] c.e.OrderService : Request processing failed',
      'java.lang.IllegalStateException: Order 42 not found',
      '\tat com.example.OrderService.find(OrderService.java:20)',
      'Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available',
      '\tat com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:155)',
      '\t... 5 more',
      '2026-11-22 10:00:01.000  INFO 1 --- [main] c.e.OrderService : ok',
      'NotAnExceptionError: not qualified, not a continuation',
    ];
    const { buf, ends } = file(lines);
    const f = framer({ preset: 'java', flushMs: 1000 });
    const out = feed(f, buf);
    f.flush(out, T0, true);
    expect(out.map((e) => [e.line, e.offset])).toEqual([
      [lines.slice(0, 6).join('\n'), ends[5]], [lines[6], ends[6]], [lines[7], ends[7]],
    ]);
  });

  it('go: panic, goroutine dump, function lines, signal and exit status', () => {
    const lines = [
      'panic: runtime error: invalid memory address or nil pointer dereference',
      '[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4553e2]',
      '',
      'goroutine 1 [running]:',
      'main.(*Server).handle(0xc000010000, {0x4b2f60, 0x1})',
      '\t/app/server.go:42 +0x22',
      'main.main()',
      '\t/app/main.go:10 +0x1d',
      'exit status 2',
      'level=info msg=restarted',
      'goroutine 7 [chan receive]:',
      'net/http.(*conn).serve(0xc0000a8000)',
      '\t/usr/local/go/src/net/http/server.go:1 +0x1',
    ];
    const { buf, ends } = file(lines);
    const f = framer({ preset: 'go', flushMs: 500 });
    const out = feed(f, buf);
    f.flush(out, T0, true);
    expect(out).toEqual([
      ev(lines.slice(0, 9).join('\n'), ends[8], 'stdout', ML, tsOf(0)),
      ev('level=info msg=restarted', ends[9], 'stdout', 0, tsOf(9)),
      ev(lines.slice(10).join('\n'), ends[12], 'stdout', ML, tsOf(10)),
    ]);
  });
});

describe('custom multiline rules', () => {
  it('start only: every non-start line continues', () => {
    const lines = ['2024-01-01 first', 'cont a', '  cont b', '2024-01-02 second', 'cont c'];
    const { buf, ends } = file(lines);
    const f = framer({ start: '^\\d{4}-\\d\\d-\\d\\d ', flushMs: 100 });
    const out = feed(f, buf);
    f.flush(out, T0 + 100);
    expect(out).toEqual([
      ev('2024-01-01 first\ncont a\n  cont b', ends[2], 'stdout', ML, tsOf(0)),
      ev('2024-01-02 second\ncont c', ends[4], 'stdout', ML, tsOf(3)),
    ]);
  });

  it('continuation only: any other line starts a new group', () => {
    const lines = ['a', ' b', ' c', 'd', 'e', ' f'];
    const { buf, ends } = file(lines);
    const f = framer({ continuation: '^\\s', flushMs: 100 });
    const out = feed(f, buf);
    f.flush(out, T0, true);
    expect(out.map((e) => [e.line, e.flags, e.offset])).toEqual([
      ['a\n b\n c', ML, ends[2]], ['d', 0, ends[3]], ['e\n f', ML, ends[5]],
    ]);
  });

  it('start and continuation: a line matching neither is emitted alone and closes the group', () => {
    const lines = ['BEGIN 1', '+ x', 'other', '+ orphan', 'BEGIN 2', '+ y'];
    const { buf } = file(lines);
    const f = framer({ start: '^BEGIN', continuation: '^\\+', flushMs: 100 });
    const out = feed(f, buf);
    f.flush(out, T0, true);
    expect(out.map((e) => e.line)).toEqual(['BEGIN 1\n+ x', 'other', '+ orphan', 'BEGIN 2\n+ y']);
  });

  it('maxLines emits a group when it reaches the limit', () => {
    const lines = ['head', ' 1', ' 2', ' 3', ' 4'];
    const { buf, ends } = file(lines);
    const f = framer({ continuation: '^\\s', flushMs: 100, maxLines: 3 });
    const out = feed(f, buf);
    expect(out.map((e) => [e.line, e.offset])).toEqual([['head\n 1\n 2', ends[2]]]);
    f.flush(out, T0, true);
    expect(out.map((e) => e.line)).toEqual(['head\n 1\n 2', ' 3\n 4']);
  });

  it('a group is emitted before it would exceed maxLineBytes', () => {
    const lines = ['head', ' aaaa', ' bbbb', ' cccc'];
    const { buf } = file(lines);
    const f = framer({ continuation: '^\\s', flushMs: 100 }, 15); // 'head\n aaaa' is 10 bytes, + '\n bbbb' would be 16
    const out = feed(f, buf);
    f.flush(out, T0, true);
    expect(out.map((e) => e.line)).toEqual(['head\n aaaa', ' bbbb\n cccc']);
  });
});

describe('multiline state and flushing', () => {
  it('works on reassembled lines, per stream, with flags OR-ed into the group', () => {
    const fb = new FileBuilder();
    const s0 = fb.size;
    fb.add(cri('Exception: ', 'stdout', 'P', tsOf(0)));
    fb.add(cri('interleaved err', 'stderr', 'F', tsOf(1)));
    fb.add(cri('boom', 'stdout', 'F', tsOf(2)));
    fb.add(cri('  at x.y(Z.java:1)', 'stdout', 'P', tsOf(3)));
    const errEnd = fb.add(cri('  at stderr.too(Z.java:2)', 'stderr', 'F', tsOf(4)));
    const last = fb.add(cri('', 'stdout', 'F', tsOf(5)));
    const f = framer({ preset: 'java', flushMs: 1000 });
    const out: LogEvent[] = feed(f, fb.buf);
    expect(out).toEqual([]);
    expect(f.resumeOffset()).toBe(s0);
    f.flush(out, T0 + 1000);
    expect(out).toEqual([
      ev('Exception: boom\n  at x.y(Z.java:1)', last, 'stdout', ML, tsOf(0)),
      ev('interleaved err\n  at stderr.too(Z.java:2)', errEnd, 'stderr', ML, tsOf(1)),
    ]);
  });

  it('flush timing follows the last line added; nextFlushDue reports the oldest group', () => {
    const f = framer({ preset: 'java', flushMs: 1000 });
    const out: LogEvent[] = [];
    let off = 0;
    const push = (s: string): void => {
      const b = Buffer.from(s);
      f.push(b, off, out);
      off += b.length;
    };
    expect(f.nextFlushDue()).toBeNull();
    push(cri('Exception: x'));
    vi.setSystemTime(T0 + 600);
    push(cri('\tat a.b(C.java:1)'));
    vi.setSystemTime(T0 + 700);
    push(cri('err line', 'stderr'));
    expect(f.nextFlushDue()).toBe(T0 + 1600);
    f.flush(out, T0 + 1599);
    expect(out).toEqual([]);
    f.flush(out, T0 + 1600);
    expect(out.map((e) => e.line)).toEqual(['Exception: x\n\tat a.b(C.java:1)']);
    expect(f.nextFlushDue()).toBe(T0 + 1700);
  });

  it('flush() without force leaves unfinished P chains and unterminated lines alone; force emits them flagged Partial', () => {
    const fb = new FileBuilder();
    fb.add(cri('half of it ', 'stderr', 'P'));
    fb.add(cri('java head'));
    const carryStart = fb.size;
    fb.add(`${TS} stdout F no newline yet`);
    const f = framer({ preset: 'java', flushMs: 10 });
    const out = feed(f, fb.buf);
    f.flush(out, T0 + 10_000);
    expect(out.map((e) => e.line)).toEqual(['java head']);
    expect(f.resumeOffset()).toBe(0);
    f.flush(out, T0 + 10_000, true);
    expect(out.slice(1)).toEqual([
      ev('no newline yet', fb.size, 'stdout', EventFlags.Partial),
      ev('half of it ', carryStart - cri('java head').length, 'stderr', EventFlags.Partial),
    ]);
    expect(f.stats.partialFlushed).toBe(2);
    expect(f.resumeOffset()).toBe(fb.size);
    expect(f.nextFlushDue()).toBeNull();
  });

  it('a malformed line closes the stdout group first, keeping offsets in order', () => {
    const fb = new FileBuilder();
    fb.add(cri('Exception: x'));
    const a = fb.add(cri('\tat a.b(C.java:1)'));
    const b = fb.add('garbage\n');
    const f = framer({ preset: 'java', flushMs: 10 });
    const out = feed(f, fb.buf);
    expect(out.map((e) => [e.line, e.offset, e.flags])).toEqual([
      ['Exception: x\n\tat a.b(C.java:1)', a, ML], ['garbage', b, EventFlags.Malformed],
    ]);
  });
});
