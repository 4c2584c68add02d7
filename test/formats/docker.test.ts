import { describe, expect, it } from 'vitest';
import { EventFlags, type LogEvent } from '../../src/core/event.js';
import { createFramer } from '../../src/formats/index.js';
import { docker, ev, feed, FileBuilder, frame, MALFORMED_TS, opts, TS } from './helpers.js';

describe('Docker json-file framing', () => {
  it('decodes the common record; ts verbatim', () => {
    const fb = new FileBuilder();
    const a = fb.add(docker('hello world\n'));
    const b = fb.add(docker('oops\n', 'stderr', '2026-11-22T00:00:01.5Z'));
    const { f, events } = frame(fb.buf);
    expect(f.format).toBe('docker');
    expect(events).toEqual([ev('hello world', a), ev('oops', b, 'stderr', 0, '2026-11-22T00:00:01.5Z')]);
  });

  it('unescapes \\" \\\\ \\t, Go HTML escapes and surrogate pairs', () => {
    const msg = 'say "hi" \\ back\\slash\t<b>&amp;</b> é 😀 ctrl\u0001 \u2028 end\\';
    const { events } = frame(docker(`${msg}\n`) + docker('x"\n'));
    expect(events.map((e) => e.line)).toEqual([msg, 'x"']);
    // Escapes written by hand: \u003c, a surrogate pair, a lone surrogate, \/ and \b\f\r.
    const raw = `{"log":"\\u003ctag\\u003e \\ud83d\\ude00 \\ud800! \\/ \\b\\f\\r \\u00e9\\n","stream":"stdout","time":"${TS}"}\n`;
    const { events: e2 } = frame(raw);
    expect(e2.map((e) => e.line)).toEqual(['<tag> 😀 \ufffd! / \b\f\r é']);
  });

  it('a log ending in an escaped backslash before n is not a newline', () => {
    // JSON "a\\n" is a, backslash, n: a partial record without \n.
    const fb = new FileBuilder();
    fb.add(`{"log":"a\\\\n","stream":"stdout","time":"${TS}"}\n`);
    const end = fb.add(docker('b\n'));
    const { events } = frame(fb.buf);
    expect(events).toEqual([ev('a\\nb', end)]);
  });

  it('joins partial records (no trailing \\n) per stream, first ts, last offset', () => {
    const fb = new FileBuilder();
    fb.add(docker('out-1 ', 'stdout', '2026-11-22T00:00:01Z'));
    fb.add(docker('err-1 "q" ', 'stderr', '2026-11-22T00:00:02Z'));
    fb.add(docker('out-2 <x> ', 'stdout', '2026-11-22T00:00:03Z'));
    const e = fb.add(docker('err-2\n', 'stderr', '2026-11-22T00:00:04Z'));
    const o = fb.add(docker('out-3\n', 'stdout', '2026-11-22T00:00:05Z'));
    const { events } = frame(fb.buf);
    expect(events).toEqual([
      ev('err-1 "q" err-2', e, 'stderr', 0, '2026-11-22T00:00:02Z'),
      ev('out-1 out-2 <x> out-3', o, 'stdout', 0, '2026-11-22T00:00:01Z'),
    ]);
  });

  it('decodes other field orders, extra fields and Python-style separators with raw UTF-8', () => {
    const fb = new FileBuilder();
    const a = fb.add(`{"stream":"stderr","time":"${TS}","log":"reordered\\n"}\n`);
    const b = fb.add(`{"log":"attrs\\n","stream":"stdout","attrs":{"k":"v"},"time":"${TS}"}\n`);
    const c = fb.add(`{"log": "héllo \\"py\\" ✓\\n", "stream": "stdout", "time": "${TS}"}\n`);
    const d = fb.add(`{"log": "raw ünïcode\\n", "stream": "stderr", "time": "${TS}"}\n`);
    const e = fb.add(`{"log":"no time\\n","stream":"stdout"}\n`);
    const { f, events } = frame(fb.buf);
    expect(events.slice(0, 4)).toEqual([
      ev('reordered', a, 'stderr'), ev('attrs', b), ev('héllo "py" ✓', c), ev('raw ünïcode', d, 'stderr'),
    ]);
    expect(events[4]).toMatchObject({ line: 'no time', offset: e, flags: 0 });
    expect(events[4].ts).toMatch(MALFORMED_TS);
    expect(f.stats.malformed).toBe(0);
  });

  it('delivers malformed lines raw on stdout, flagged and counted', () => {
    const lines = [
      'not json at all',
      `{"log":"x\\n","stream":"stdout","time":"${TS}"`, // cut short
      `{"log":1,"stream":"stdout","time":"${TS}"}`,
      `{"log":"x\\n","stream":"other","time":"${TS}"}`,
      `{"log":"bad \\x escape\\n","stream":"stderr","time":"${TS}"}`,
      `{"stream":"stdout","time":"${TS}"}`,
      '[1,2]',
    ];
    const fb = new FileBuilder();
    const first = fb.add(docker('ok\n'));
    const offs = lines.map((l) => fb.add(`${l}\n`));
    const { f, events } = frame(fb.buf);
    expect(events[0]).toEqual(ev('ok', first));
    expect(events.slice(1).map((e) => [e.line, e.stream, e.flags, e.offset])).toEqual(
      lines.map((l, i) => [l, 'stdout', EventFlags.Malformed, offs[i]]),
    );
    for (const e of events.slice(1)) expect(e.ts).toMatch(MALFORMED_TS);
    expect(f.stats.malformed).toBe(lines.length);
  });

  it('truncates escaped and partial-joined messages on a character boundary', () => {
    const fb = new FileBuilder();
    fb.add(docker('"""""é\n')); // 5 quotes + é = 7 bytes: cut at 6 backs off to 5
    fb.add(docker('abcdefgh'));
    fb.add(docker('ijklmnop'));
    fb.add(docker('qrst\n'));
    fb.add(docker('fine\n'));
    const { f, events } = frame(fb.buf, { maxLineBytes: 6 });
    expect(events.map((e) => [e.line, e.flags])).toEqual([
      ['"""""', EventFlags.Truncated], ['abcdef', EventFlags.Truncated], ['fine', 0],
    ]);
    expect(f.stats.truncated).toBe(2);
  });

  it('an oversized physical record: message head, stream and time from its end, bounded memory', () => {
    const max = 16384;
    const f = createFramer(opts({ maxLineBytes: max }));
    const fb = new FileBuilder();
    const big = 'é"'.repeat(400_000); // ~1.6 MB escaped, no newline inside the 64 KiB reads
    const a = fb.add(docker(`${big}\n`, 'stderr', '2026-11-22T00:00:09Z'));
    fb.add(docker('x'.repeat(300_000), 'stdout', '2026-11-22T00:00:10Z')); // partial, oversized
    const b = fb.add(docker('tail\n', 'stdout', '2026-11-22T00:00:11Z'));
    const c = fb.add(docker('next\n'));
    const input = fb.buf;
    const out: LogEvent[] = [];
    let peak = 0;
    for (let off = 0; off < input.length; off += 65536) {
      f.push(input.subarray(off, Math.min(off + 65536, input.length)), off, out);
      peak = Math.max(peak, f.bufferedBytes);
    }
    expect(peak).toBeLessThanOrEqual(2 * (max + 64 * 1024 + 4096));
    const want = Buffer.from(big).subarray(0, max);
    expect(out).toEqual([
      ev(want.toString('utf8', 0, (want[max - 1] & 0xc0) === 0xc0 ? max - 1 : max), a, 'stderr', EventFlags.Truncated, '2026-11-22T00:00:09Z'),
      ev('x'.repeat(max), b, 'stdout', EventFlags.Truncated, '2026-11-22T00:00:10Z'),
      ev('next', c),
    ]);
  });

  it('feeding one byte at a time gives the same events', () => {
    const fb = new FileBuilder();
    fb.add(docker('a "b" <c>\n'));
    fb.add(docker('part '));
    fb.add(docker('😀\n', 'stderr'));
    fb.add(docker('end\n'));
    const f = createFramer(opts());
    expect(feed(f, fb.buf, 'byte')).toEqual(frame(fb.buf).events);
  });
});
