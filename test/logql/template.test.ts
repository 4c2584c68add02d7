import { describe, expect, it } from 'vitest';
import { compileTemplate, sprintf, TemplateError } from '../../src/logql/pipeline/template.js';

const ctx = (labels: Record<string, string>, line = 'the line', tsNs = 1_700_000_000_123_000_000n) => ({
  label: (n: string) => labels[n] ?? '',
  line,
  tsNs,
});
const render = (t: string, labels: Record<string, string> = {}, line?: string) => compileTemplate(t).render(ctx(labels, line));

describe('line_format templates', () => {
  it('substitutes fields with or without spaces; missing fields are empty', () => {
    expect(render('{{.level}} {{ .msg }}!{{.nope}}', { level: 'info', msg: 'hi' })).toBe('info hi!');
    expect(compileTemplate('{{ .msg }}').simpleField).toBe('msg');
    expect(compileTemplate('{{.msg}} x').simpleField).toBeUndefined();
  });

  it('calls functions directly and through pipes', () => {
    const l = { level: 'Warn', msg: '  padded  ', user: '' };
    expect(render('{{ .level | ToUpper }} {{ ToLower .level }} {{ .level | lower | upper }}', l)).toBe('WARN warn WARN');
    expect(render('[{{ .msg | trim }}] [{{ TrimSpace .msg }}]', l)).toBe('[padded] [padded]');
    expect(render('{{ .user | default "anonymous" }} {{ default "x" .level }}', l)).toBe('anonymous Warn');
    expect(render('{{ printf "%s=%d %5.1f %-4s|%q" .level 7 3.14159 "ab" "q" }}', l)).toBe('Warn=7   3.1 ab  |"q"');
    expect(render('{{ replace "a" "o" "banana" }} {{ Replace "banana" "a" "o" 2 }} {{ trunc 3 "abcdef" }} {{ substr 1 3 "abcdef" }}')).toBe('bonono bonona abc bc');
    expect(render('{{ regexReplaceAll "(\\\\d+)ms" .d "${1} milliseconds" }}', { d: 'took 25ms' })).toBe('took 25 milliseconds');
    expect(render('{{ add 1 2 }} {{ mulf 1.5 2 }} {{ div 7 2 }} {{ len "héllo" }}')).toBe('3 3 3 5');
    expect(render('{{ alignLeft 5 .a }}|{{ alignRight 5 .a }}|', { a: 'ab' })).toBe('ab   |   ab|');
    expect(render('{{ b64enc "hi" }} {{ b64dec "aGk=" }} {{ urlencode "a b&c" }}')).toBe('aGk= hi a+b%26c');
  });

  it('supports __line__, __timestamp__ and if/else/end with comparisons', () => {
    expect(render('{{ __line__ }}', {}, 'raw')).toBe('raw');
    expect(render('{{ __timestamp__ | unixEpoch }} {{ unixEpochMillis __timestamp__ }}')).toBe('1700000000 1700000000123');
    expect(render('{{ __timestamp__ }}')).toBe('2023-11-14 22:13:20.123 +0000 UTC');
    const t = '{{ if eq .status "500" "503" }}server{{ else if and .status (lt .status "400") }}ok{{ else }}other{{ end }}';
    expect(render(t, { status: '503' })).toBe('server');
    expect(render(t, { status: '200' })).toBe('ok');
    expect(render(t, { status: '404' })).toBe('other');
    expect(render('{{if .x}}x={{.x}}{{end}}.', {})).toBe('.');
  });

  it('honours trim markers and comments', () => {
    expect(render('a  {{- .x -}}  b {{/* note */}}c', { x: 'X' })).toBe('aXb c');
  });

  it('rejects what it does not support, at compile time', () => {
    for (const t of ['{{ .a', '{{ range .a }}{{ end }}', '{{ $x := 1 }}', '{{ nosuchfn .a }}', '{{ if .a }}', '{{ end }}', '{{ .a.b }}', '{{ . }}']) {
      expect(() => compileTemplate(t), t).toThrow(TemplateError);
    }
  });
});

describe('sprintf', () => {
  it('formats like Go fmt for the common verbs', () => {
    expect(sprintf('%s|%v|%d|%.2f|%x|%t|%%|%s', ['a', 1.5, '42', 2, 255, 'yes'])).toBe('a|1.5|42|2.00|ff|true|%|%!s(MISSING)');
  });
});
