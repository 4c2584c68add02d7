import { describe, expect, it } from 'vitest';
import { makeSource, type LogEvent } from '../../src/core/event.js';
import { compileTemplate, headerField, Rfc5424Encoder, sdElement, sdName, sdValue, severityOf, type FormatOptions } from '../../src/sinks/syslog/format.js';

const opts: FormatOptions = {
  facility: 1, hostname: '{node|pod}', app_name: '{container}', procid: '', msgid: '', sd_id: 'k8s@32473', sd_labels: ['*'],
  severity_keys: ['level'], severity_stderr: 3, severity_default: 6, bom: false, max_message_bytes: 8192, no_lf: false,
};
const src = makeSource('a', 'c', { pod: 'p', container: 'app' });
const ev = (line: string, extra: Partial<LogEvent> = {}): LogEvent => ({ ts: '2026-11-22T10:00:00.123456789Z', stream: 'stdout', line, flags: 0, offset: 1, ...extra });

function encode(o: Partial<FormatOptions>, events: LogEvent[], framing: 'octet_counting' | 'lf' | 'none' = 'none', source = src): { text: string; enc: Rfc5424Encoder } {
  const enc = new Rfc5424Encoder({ ...opts, ...o });
  for (const e of events) enc.add(e, source, framing);
  return { text: enc.bytes().toString('utf8'), enc };
}

describe('RFC 5424 formatting', () => {
  it('writes the header, SD and message; nil values as -', () => {
    expect(encode({}, [ev('hello')]).text).toBe('<14>1 2026-11-22T10:00:00.123456Z p app - - [k8s@32473 pod="p" container="app"] hello');
    expect(encode({ sd_labels: [] }, [ev('')], 'none', makeSource('b', 'c', {})).text).toBe('<14>1 2026-11-22T10:00:00.123456Z - - - - -');
  });

  it('frames with octet counts (also when the guessed digit count is wrong) and LF', () => {
    const { text } = encode({}, [ev('a'), ev('é'.repeat(400))], 'octet_counting');
    const first = '<14>1 2026-11-22T10:00:00.123456Z p app - - [k8s@32473 pod="p" container="app"] a';
    expect(text.startsWith(`${first.length} ${first}`)).toBe(true);
    const rest = Buffer.from(text).subarray(Buffer.byteLength(`${first.length} ${first}`));
    const sp = rest.indexOf(0x20);
    const len = Number(rest.subarray(0, sp).toString());
    expect(len).toBe(rest.length - sp - 1);
    expect(rest.subarray(sp + 1).toString()).toMatch(/container="app"\] (é){400}$/);
    expect(encode({ no_lf: true }, [ev('x\ny'), ev('z')], 'lf').text).toBe(`${'<14>1 2026-11-22T10:00:00.123456Z p app - - [k8s@32473 pod="p" container="app"] x y'}\n<14>1 2026-11-22T10:00:00.123456Z p app - - [k8s@32473 pod="p" container="app"] z\n`);
  });

  it('timestamps: nanoseconds cut to microseconds, offsets kept, unreadable ones nil', () => {
    const t = (ts: string) => encode({ sd_labels: [] }, [ev('m', { ts })]).text.split(' ')[1];
    expect(t('2026-11-22T10:00:00.123456789Z')).toBe('2026-11-22T10:00:00.123456Z');
    expect(t('2026-11-22T10:00:00.12Z')).toBe('2026-11-22T10:00:00.12Z');
    expect(t('2026-11-22T10:00:00Z')).toBe('2026-11-22T10:00:00Z');
    expect(t('2026-11-22T10:00:00.5+05:30')).toBe('2026-11-22T10:00:00.5+05:30');
    expect(t('yesterday')).toBe('-');
    expect(t('2026-11-22T10:00:00.Z')).toBe('-');
  });

  it('severity: a level field, a level label, the stream, the default; facility in PRI', () => {
    const pri = (e: LogEvent, source = src) => encode({ facility: 16 }, [e], 'none', source).text.slice(0, 6);
    expect(pri(ev('x'))).toBe('<134>1');
    expect(pri(ev('x', { stream: 'stderr' }))).toBe('<131>1');
    expect(pri(ev('x', { stream: 'stderr', fields: { level: 'debug' } }))).toBe('<135>1');
    expect(pri(ev('x', { fields: { level: 'nonsense' } }))).toBe('<134>1');
    expect(pri(ev('x'), makeSource('l', 'c', { level: 'WARNING' }))).toBe('<132>1');
    expect([severityOf('emerg'), severityOf('FATAL'), severityOf('error'), severityOf('3'), severityOf('9'), severityOf('Information')]).toEqual([0, 2, 3, 3, -1, 6]);
  });

  it('header fields: printable US-ASCII only, length limits 255/48/128/32', () => {
    expect(headerField('', 48)).toBe('-');
    expect(headerField('my app', 48)).toBe('my_app');
    expect(headerField('ünï😀x', 48)).toBe('_n__x');
    expect(headerField('a'.repeat(300), 255)).toHaveLength(255);
    const labels = { node: 'h'.repeat(300), container: 'c'.repeat(60), pod: 'p'.repeat(200), ns: 'm'.repeat(40) };
    const { text } = encode({ procid: '{pod}', msgid: '{ns}', sd_labels: [] }, [ev('x')], 'none', makeSource('z', 'c', labels));
    const f = text.split(' ');
    expect([f[2]!.length, f[3]!.length, f[4]!.length, f[5]!.length]).toEqual([255, 48, 128, 32]);
  });

  it('structured data: names sanitized and cut to 32, values escaped (" \\ ])', () => {
    expect(sdValue('a"b\\c]d')).toBe('a\\"b\\\\c\\]d');
    expect(sdValue('plain [x]')).toBe('plain [x\\]');
    expect(sdName('a b=c]d"e')).toBe('a_b_c_d_e');
    expect(sdName('n'.repeat(40))).toHaveLength(32);
    expect(sdElement('k8s@32473', { a: '1', b: 'x"y' }, (k) => k !== 'a')).toBe('[k8s@32473 b="x\\"y"]');
    expect(sdElement('k8s@32473', { a: '1' }, () => false)).toBe('-');
    // Two names equal once cut: the first is kept.
    expect(sdElement('i', { [`${'n'.repeat(32)}1`]: 'a', [`${'n'.repeat(32)}2`]: 'b' }, () => true)).toBe(`[i ${'n'.repeat(32)}="a"]`);
  });

  it('templates: labels, alternatives, literal text', () => {
    expect(compileTemplate('{node|pod}')({ pod: 'p' })).toBe('p');
    expect(compileTemplate('{node|pod}')({ node: 'n', pod: 'p' })).toBe('n');
    expect(compileTemplate('k8s/{namespace}/{container}')({ namespace: 'ns', container: 'c' })).toBe('k8s/ns/c');
    expect(compileTemplate('{missing}')({})).toBe('');
    expect(compileTemplate('{toString}')({})).toBe('');
  });

  it('max_message_bytes: cut on a character boundary, counted; BOM inside the limit', () => {
    const { text, enc } = encode({ max_message_bytes: 480, bom: true, sd_labels: [] }, [ev('ü'.repeat(500)), ev('short')], 'lf');
    const [long, short] = text.split('\n');
    expect(Buffer.byteLength(long!)).toBeLessThanOrEqual(480);
    expect(Buffer.byteLength(long!)).toBeGreaterThanOrEqual(479);
    expect(long).toMatch(/^<14>1 \S+ p app - - - \ufeffü+$/);
    expect(short).toBe('<14>1 2026-11-22T10:00:00.123456Z p app - - - \ufeffshort');
    expect(enc.truncated).toBe(1);
    // An SD that leaves no room for the line is left out.
    const big = makeSource('big', 'c', { v: 'x'.repeat(600) });
    const r = encode({ max_message_bytes: 480 }, [ev('line')], 'none', big);
    expect(r.text).toBe('<14>1 2026-11-22T10:00:00.123456Z - - - - - line');
  });

  it('never throws on odd input', () => {
    const odd = ['\u0000', '\ud800', '\udfff\ud800', '\n\r\t', ']"\\', 'x'.repeat(100_000)];
    for (const line of odd) {
      for (const framing of ['octet_counting', 'lf', 'none'] as const) {
        const { enc } = encode({ max_message_bytes: 1000, no_lf: framing === 'lf' }, [ev(line, { ts: line })], framing, makeSource('o', 'c', { [line.slice(0, 10)]: line.slice(0, 50) }));
        expect(enc.length).toBeGreaterThan(0);
        expect(enc.length).toBeLessThanOrEqual(1000 + 6);
      }
    }
  });
});
