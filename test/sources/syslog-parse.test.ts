import { describe, expect, it } from 'vitest';
import { SyslogFramer, type FrameEnd } from '../../src/sources/syslog/framing.js';
import { parseSyslog } from '../../src/sources/syslog/parse.js';

const NOW = new Date('2026-11-23T12:00:00Z');
const BOM = '\ufeff';

describe('RFC 5424 parsing: the RFC\'s examples', () => {
  it('§6.5 example 1: no SD, BOM', () => {
    expect(parseSyslog(`<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - ${BOM}'su root' failed for lonvick on /dev/pts/8`, NOW)).toEqual({
      format: 'rfc5424', facility: 4, severity: 2, ts: '2003-10-11T22:14:15.003000000Z', hostname: 'mymachine.example.com', appName: 'su', msgid: 'ID47',
      msg: '\'su root\' failed for lonvick on /dev/pts/8',
    });
  });

  it('§6.5 example 2: offset, microseconds, procid', () => {
    expect(parseSyslog('<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It\'s time to make the do-nuts.', NOW)).toEqual({
      format: 'rfc5424', facility: 20, severity: 5, ts: '2003-08-24T12:14:15.000003000Z', hostname: '192.0.2.1', appName: 'myproc', procid: '8710', msg: '%% It\'s time to make the do-nuts.',
    });
  });

  it('§6.5 examples 3 and 4: structured data, one or two elements, no MSG', () => {
    const m = parseSyslog(`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] ${BOM}An application event log entry...`, NOW);
    expect(m.sd).toEqual({ exampleSDID_32473_iut: '3', exampleSDID_32473_eventSource: 'Application', exampleSDID_32473_eventID: '1011' });
    expect(m.msg).toBe('An application event log entry...');
    const m4 = parseSyslog('<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]', NOW);
    expect(m4).toMatchObject({ format: 'rfc5424', msg: '', sd: { exampleSDID_32473_iut: '3', examplePriority_32473_class: 'high' } });
  });

  it('SD escapes, nil timestamp, empty message', () => {
    const m = parseSyslog('<14>1 - - - - - [k8s@32473 q="a \\"b\\" \\\\c\\] d" x="\\n"] hi', NOW);
    expect(m).toEqual({ format: 'rfc5424', facility: 1, severity: 6, ts: null, sd: { k8s_32473_q: 'a "b" \\c] d', k8s_32473_x: '\\n' }, msg: 'hi' });
    expect(parseSyslog('<14>1 2026-01-01T00:00:00Z h a p m -', NOW)).toMatchObject({ format: 'rfc5424', msg: '', hostname: 'h', appName: 'a', procid: 'p', msgid: 'm' });
  });

  it('malformed 5424 is delivered raw, with the PRI it had', () => {
    for (const bad of ['<14>1 yesterday h a p m - x', '<14>1 2026-01-01T00:00:00Z h a p m [unterminated x="y" msg', '<14>1 2026-01-01T00:00:00Z h a p m [id x=y] m', '<14>1 2026-01-01T00:00:00Z h', '<14>1 2026-01-01T00:00:00Z h a p m -x']) {
      expect(parseSyslog(bad, NOW)).toEqual({ format: 'malformed', facility: 1, severity: 6, ts: null, msg: bad });
    }
  });
});

describe('RFC 3164 parsing', () => {
  it('§5.4 example 1, and logger\'s form with a PID', () => {
    expect(parseSyslog('<34>Oct 11 22:14:15 mymachine su: \'su root\' failed for lonvick on /dev/pts/8', NOW)).toEqual({
      format: 'rfc3164', facility: 4, severity: 2, ts: '2026-10-11T22:14:15.000000000Z', hostname: 'mymachine', appName: 'su', msg: '\'su root\' failed for lonvick on /dev/pts/8',
    });
    expect(parseSyslog('<13>Nov  3 09:01:40 vm root[123]: hello', NOW)).toMatchObject({ ts: '2026-11-03T09:01:40.000000000Z', hostname: 'vm', appName: 'root', procid: '123', msg: 'hello' });
  });

  it('no hostname (a local sender), no tag, an ISO timestamp, fractions', () => {
    expect(parseSyslog('<13>Nov 23 19:01:40 cron[7]: job done', NOW)).toMatchObject({ appName: 'cron', procid: '7', msg: 'job done' });
    expect(parseSyslog('<13>Nov 23 19:01:40 sshd: x', NOW)).toMatchObject({ appName: 'sshd', msg: 'x' });
    expect(parseSyslog('<13>Nov 23 19:01:40 host just words', NOW)).toEqual({ format: 'rfc3164', facility: 1, severity: 5, ts: '2026-11-23T19:01:40.000000000Z', hostname: 'host', msg: 'just words' });
    expect(parseSyslog('<13>2026-11-23T19:01:40.123+01:00 host app: m', NOW)).toMatchObject({ ts: '2026-11-23T18:01:40.123000000Z', hostname: 'host', appName: 'app', msg: 'm' });
    expect(parseSyslog('<13>Nov 23 19:01:40.250 host app: m', NOW)).toMatchObject({ ts: '2026-11-23T19:01:40.250000000Z' });
  });

  it('no year: the one closest to now (December read in January is last year\'s)', () => {
    expect(parseSyslog('<13>Dec 31 23:59:59 h a: m', new Date('2027-01-01T00:00:05Z')).ts).toBe('2026-12-31T23:59:59.000000000Z');
    expect(parseSyslog('<13>Jan  1 00:00:01 h a: m', new Date('2026-12-31T23:59:58Z')).ts).toBe('2027-01-01T00:00:01.000000000Z');
    expect(parseSyslog('<13>Jun  1 00:00:00 h a: m', NOW).ts).toBe('2026-06-01T00:00:00.000000000Z');
    // Feb 29 exists in 2028 only, among 2025–2027 none: content, not a date.
    expect(parseSyslog('<13>Feb 29 00:00:00 h a: m', NOW)).toMatchObject({ ts: null, msg: 'Feb 29 00:00:00 h a: m' });
  });

  it('RFC 3164 §5.4\'s odd ones: what is not a timestamp is content', () => {
    expect(parseSyslog('<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That\'s All Folks!', NOW)).toEqual({
      format: 'rfc3164', facility: 0, severity: 0, ts: null, msg: '1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That\'s All Folks!',
    });
    expect(parseSyslog('<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It\'s time', NOW)).toMatchObject({ format: 'rfc3164', hostname: 'CST', msg: '1987 mymachine myproc[10]: %% It\'s time' });
  });

  it('no PRI: malformed, raw', () => {
    for (const bad of ['Use the BFG!', '<192>Oct 11 22:14:15 h a: m', '<>x', '<1234>x', '', '<', '<13', '\u0000\u0001']) {
      expect(parseSyslog(bad, NOW)).toEqual({ format: 'malformed', facility: -1, severity: -1, ts: null, msg: bad });
    }
  });

  it('never throws on random input', () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const alphabet = '<>[]"\\= -:0123456789abcJanFebDec T.Z+\n\u0000é';
    for (let k = 0; k < 5000; k++) {
      const len = Math.floor(rnd() * 80);
      let s = rnd() < 0.5 ? '<14>1 ' : rnd() < 0.5 ? '<13>Nov 23 19:01:40 ' : '';
      for (let i = 0; i < len; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      const m = parseSyslog(s, NOW);
      expect(typeof m.msg).toBe('string');
    }
  });
});

describe('TCP framing (RFC 6587)', () => {
  function frames(chunks: Array<string | Buffer>, max = 1000, end = true): Array<[string, FrameEnd]> {
    const f = new SyslogFramer(max);
    const out: Array<[string, FrameEnd]> = [];
    const sink = (b: Buffer, s: number, e: number, how: FrameEnd) => out.push([b.toString('utf8', s, e), how]);
    for (const c of chunks) f.push(Buffer.isBuffer(c) ? c : Buffer.from(c), sink);
    if (end) f.end(sink);
    return out;
  }

  it('octet counting, split anywhere, with LFs and anything inside', () => {
    const msgs = ['<14>1 - - - - - a\nb', '<14>1 - - - - - ü', '<13>x'];
    const stream = Buffer.concat(msgs.map((m) => Buffer.from(`${Buffer.byteLength(m)} ${m}`)));
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(frames([stream.subarray(0, cut), stream.subarray(cut)]).map((x) => x[0])).toEqual(msgs);
    }
    expect(frames([...stream].map((b) => Buffer.from([b]))).map((x) => x[0])).toEqual(msgs);
  });

  it('LF framing, CRLF, a last message without LF, and both framings on one connection', () => {
    expect(frames(['<13>a\r\n<13>b\n\n<13', '>c'])).toEqual([['<13>a', 'whole'], ['<13>b', 'whole'], ['<13>c', 'whole']]);
    expect(frames(['5 <13>a<13>b\n3 xyz'])).toEqual([['<13>a', 'whole'], ['<13>b', 'whole'], ['xyz', 'whole']]);
  });

  it('too long: cut to the maximum, the rest skipped; a count cut short by the end is partial', () => {
    const long = 'x'.repeat(2500);
    expect(frames([`2500 ${long.slice(0, 1200)}`, `${long.slice(1200)}5 <13>z`], 1000)).toEqual([['x'.repeat(1000), 'truncated'], ['<13>z', 'whole']]);
    expect(frames([`<13>${long}`, '\n<13>next\n'], 1000)).toEqual([[`<13>${long}`.slice(0, 1000), 'truncated'], ['<13>next', 'whole']]);
    expect(frames(['100 <13>only part'])).toEqual([['<13>only part', 'partial']]);
    expect(frames(['12345678901234567890 not a count\n'])).toEqual([['12345678901234567890 not a count', 'whole']]);
  });

  it('holds at most one maximum frame, whatever arrives', () => {
    const f = new SyslogFramer(1000);
    let n = 0;
    for (let i = 0; i < 100; i++) f.push(Buffer.alloc(777, 0x61), () => n++);
    expect(f.pending).toBeLessThanOrEqual(1000);
    expect(n).toBe(1);
  });
});
