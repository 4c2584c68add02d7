import { describe, expect, it } from 'vitest';
import { tokenize, tokenName, type Token } from '../../src/logql/lexer.js';

const brief = (toks: Token[]) => toks.map((t) => `${t.type}:${t.text}`);

describe('LogQL lexer', () => {
  it('tokenizes a metric query: functions, keywords, ranges, durations', () => {
    const toks = tokenize('sum by (app) (rate({app="x"}[5m] offset 1h))');
    expect(brief(toks)).toEqual([
      'FUNCTION:sum', 'KEYWORD:by', 'KEYWORD:(', 'IDENTIFIER:app', 'KEYWORD:)', 'KEYWORD:(',
      'FUNCTION:rate', 'KEYWORD:(', 'KEYWORD:{', 'IDENTIFIER:app', 'KEYWORD:=', 'STRING:x', 'KEYWORD:}',
      'RANGE:[5m]', 'KEYWORD:offset', 'DURATION:1h', 'KEYWORD:)', 'KEYWORD:)', 'EOF:',
    ]);
    expect(toks.find((t) => t.type === 'RANGE')!.ns).toBe(300_000_000_000n);
    expect(toks.find((t) => t.type === 'DURATION')!.ns).toBe(3_600_000_000_000n);
    expect(toks.map((t) => t.pos).slice(0, 4)).toEqual([0, 4, 7, 8]);
  });

  it('treats function names as identifiers unless a call follows (count, bytes, sum by (…)(…))', () => {
    expect(brief(tokenize('{count="1", bytes="2"}')).slice(1, 6)).toEqual(['IDENTIFIER:count', 'KEYWORD:=', 'STRING:1', 'KEYWORD:,', 'IDENTIFIER:bytes']);
    expect(tokenize('sum without (a) (x)')[0]!.type).toBe('FUNCTION');
    expect(tokenize('sum + 1')[0]!.type).toBe('IDENTIFIER');
    expect(tokenize('bytes(size)')[0]).toMatchObject({ type: 'FUNCTION', text: 'bytes' });
    expect(tokenName(tokenize('rate(')[0]!)).toBe('RATE');
    expect(tokenName(tokenize('bytes(')[0]!)).toBe('BYTES_CONV');
  });

  it('reads keywords case-insensitively and operators longest-first', () => {
    expect(brief(tokenize('| JSON |= != =~ !~ |~ |> !> == >= <= > <'))).toEqual([
      'KEYWORD:|', 'KEYWORD:json', 'KEYWORD:|=', 'KEYWORD:!=', 'KEYWORD:=~', 'KEYWORD:!~', 'KEYWORD:|~',
      'KEYWORD:|>', 'KEYWORD:!>', 'KEYWORD:==', 'KEYWORD:>=', 'KEYWORD:<=', 'KEYWORD:>', 'KEYWORD:<', 'EOF:',
    ]);
  });

  it('glues units to numbers: durations first, then byte sizes, else a NUMBER', () => {
    const toks = tokenize('250ms 1.5s 1h30m 1KB 1KiB 1.5MB 10B 500 0.99 1e3');
    expect(toks.map((t) => [t.type, t.ns ?? t.num])).toEqual([
      ['DURATION', 250_000_000n],
      ['DURATION', 1_500_000_000n],
      ['DURATION', 5_400_000_000_000n],
      ['BYTES', 1000],
      ['BYTES', 1024],
      ['BYTES', 1_500_000],
      ['BYTES', 10],
      ['NUMBER', 500],
      ['NUMBER', 0.99],
      ['NUMBER', 1000],
      ['EOF', undefined],
    ]);
  });

  it('unquotes Go strings and keeps backtick strings raw', () => {
    const toks = tokenize('"a\\"b\\n\\t\\u00e9\\x41" `raw \\d+ "q"`');
    expect(toks[0]).toMatchObject({ type: 'STRING', text: 'a"b\n\té\x41'.replace('\x41', 'A') });
    expect(toks[1]).toMatchObject({ type: 'STRING', text: 'raw \\d+ "q"' });
  });

  it('skips # comments to the end of the line', () => {
    expect(brief(tokenize('{a="b"} # | json\n|= "x"'))).toEqual([
      'KEYWORD:{', 'IDENTIFIER:a', 'KEYWORD:=', 'STRING:b', 'KEYWORD:}', 'KEYWORD:|=', 'STRING:x', 'EOF:',
    ]);
  });

  it('reads parser flags', () => {
    expect(brief(tokenize('| logfmt --strict --keep-empty')).slice(2, 4)).toEqual(['FUNCTION_FLAG:--strict', 'FUNCTION_FLAG:--keep-empty']);
  });

  it('turns lexical problems into one ERROR token at the problem', () => {
    expect(tokenize('{a="b}').at(-2)).toMatchObject({ type: 'ERROR', pos: 3, error: 'literal not terminated' });
    expect(tokenize('x[5m').at(-2)).toMatchObject({ type: 'ERROR', pos: 1, error: "missing closing ']' in duration" });
    expect(tokenize('x[5x]').at(-2)).toMatchObject({ type: 'ERROR', pos: 1, error: 'not a valid duration string: "5x"' });
    expect(tokenize('"bad \\q"').at(-2)).toMatchObject({ type: 'ERROR', error: 'invalid syntax' });
  });
});
