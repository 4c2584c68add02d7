import { describe, expect, it } from 'vitest';
import { formatLabelSet, LabelSetSyntaxError, parseLabelSet } from '../../../src/protocols/loki/index.js';
import { rng } from './helpers.js';

function parseError(s: string): LabelSetSyntaxError {
  try {
    parseLabelSet(s);
  } catch (err) {
    expect(err).toBeInstanceOf(LabelSetSyntaxError);
    return err as LabelSetSyntaxError;
  }
  throw new Error(`parsed: ${s}`);
}

describe('parseLabelSet', () => {
  it('parses the usual forms', () => {
    expect(parseLabelSet('{app="web", namespace="shop"}')).toEqual({ app: 'web', namespace: 'shop' });
    expect(parseLabelSet('{app="web",namespace="shop"}')).toEqual({ app: 'web', namespace: 'shop' });
    expect(parseLabelSet('  { app = "web" ,\n\tnamespace="shop" }  ')).toEqual({ app: 'web', namespace: 'shop' });
    expect(parseLabelSet('{}')).toEqual({});
    expect(parseLabelSet('{a="1",}')).toEqual({ a: '1' });
    expect(parseLabelSet('{_x9="", B_="v"}')).toEqual({ _x9: '', B_: 'v' });
    expect(parseLabelSet('{raw=`a\\b"c`}')).toEqual({ raw: 'a\\b"c' });
  });

  it('decodes Go string escapes', () => {
    expect(parseLabelSet('{a="x\\"y"}')).toEqual({ a: 'x"y' });
    expect(parseLabelSet('{a="back\\\\slash"}')).toEqual({ a: 'back\\slash' });
    expect(parseLabelSet('{a="l1\\nl2\\tt\\rr"}')).toEqual({ a: 'l1\nl2\tt\rr' });
    expect(parseLabelSet('{a="\\a\\b\\f\\v\\\'"}')).toEqual({ a: "\x07\b\f\v'" });
    expect(parseLabelSet('{a="\\x1b[0m"}')).toEqual({ a: '\x1b[0m' });
    expect(parseLabelSet('{a="\\xe2\\x82\\xac = euro"}')).toEqual({ a: '€ = euro' }); // UTF-8 bytes
    expect(parseLabelSet('{a="\\342\\202\\254"}')).toEqual({ a: '€' }); // octal bytes
    expect(parseLabelSet('{a="\\u00e9\\U0001F389"}')).toEqual({ a: 'é🎉' });
    expect(parseLabelSet('{a="日本 🎉"}')).toEqual({ a: '日本 🎉' });
  });

  it('keeps __proto__ as an ordinary own label', () => {
    const l = parseLabelSet('{__proto__="x", a="1"}');
    expect(Object.keys(l)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(l)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(l, '__proto__')?.value).toBe('x');
  });

  it.each([
    ['app="web"}', "expected '{' at position 0, found 'a'", 0],
    ['', "expected '{' at position 0, found end of input", 0],
    ['{app="web"', "expected ',' or '}' after label value at position 10, found end of input", 10],
    ['{app web}', "expected '=' after label name at position 5, found 'w'", 5],
    ['{app:="w"}', "expected '=' after label name at position 4, found ':'", 4],
    ['{app=web}', 'expected \'"\' to start the value of label "app" at position 5, found \'w\'', 5],
    ['{app!="web"}', "expected '=' after label name at position 4, found '!'", 4],
    ['{1app="x"}', "expected label name at position 1, found '1'", 1],
    ['{a="1",,}', "expected label name at position 7, found ','", 7],
    ['{a="1" b="2"}', "expected ',' or '}' after label value at position 7, found 'b'", 7],
    ['{a="1"} x', "expected end of input after '}' at position 8, found 'x'", 8],
    ['{a="1", a="2"}', 'duplicate label name "a" at position 8', 8],
    ['{a="unterminated}', 'unterminated label value starting at position 3', 3],
    ['{a="bad \\q"}', "invalid escape '\\q' at position 8", 8],
    ['{a="\\x4"}', 'expected 2 hex digits after \\x at position 7, found \'"\'', 7],
    ['{a="\\xg0"}', "expected 2 hex digits after \\x at position 6, found 'g'", 6],
    ['{a="\\u12"}', 'expected 4 hex digits after \\u at position 8, found \'"\'', 8],
    ['{a="\\18"}', "expected 3 octal digits after \\ at position 6, found '8'", 6],
    ['{a="\\ud800"}', 'invalid Unicode code point in escape at position 4', 4],
    ['{a="\\400"}', 'octal escape out of range at position 4', 4],
    ['{a=`raw}', 'unterminated label value starting at position 3', 3],
    ['{a="x\\', 'unterminated label value starting at position 3', 3],
    ['{a="\u0001"x}', "expected ',' or '}' after label value at position 6, found 'x'", 6],
    ['{a="1"}\u0000', 'expected end of input after \'}\' at position 7, found "\\u0000"', 7],
  ])('rejects %j: %s', (input, message, position) => {
    const err = parseError(input);
    expect(err.message).toBe(message);
    expect(err.position).toBe(position);
  });
});

describe('formatLabelSet', () => {
  it('sorts names and escapes values', () => {
    expect(formatLabelSet({ namespace: 'shop', app: 'web' })).toBe('{app="web", namespace="shop"}');
    expect(formatLabelSet({ a: 'q"b\\n\nt\tr\r\x1b\x7f é' })).toBe('{a="q\\"b\\\\n\\nt\\tr\\r\\x1b\\x7f é"}');
    expect(formatLabelSet({})).toBe('{}');
  });

  it('refuses names that would not parse back', () => {
    expect(() => formatLabelSet({ 'a-b': 'x' })).toThrow('invalid label name "a-b": must match [a-zA-Z_][a-zA-Z0-9_]*');
    expect(() => formatLabelSet({ '': 'x' })).toThrow(RangeError);
  });

  it('round-trips random label sets', () => {
    const r = rng(7);
    const alphabet = ['a', 'Z', '0', ' ', '"', '\\', '\n', '\t', '\r', '\x00', '\x1b', '\x7f', 'é', '日', '🎉', '`', '{', '}', ',', '='];
    const nameChars = 'abcXYZ_019';
    for (let iter = 0; iter < 500; iter++) {
      const labels: Record<string, string> = {};
      const n = 1 + Math.floor(r() * 5);
      for (let i = 0; i < n; i++) {
        let name = 'abcXYZ_'[Math.floor(r() * 7)]!;
        for (let k = Math.floor(r() * 6); k > 0; k--) name += nameChars[Math.floor(r() * nameChars.length)];
        let value = '';
        for (let k = Math.floor(r() * 12); k > 0; k--) value += alphabet[Math.floor(r() * alphabet.length)];
        labels[name] = value;
      }
      const text = formatLabelSet(labels);
      expect(parseLabelSet(text)).toEqual(labels);
      expect(formatLabelSet(parseLabelSet(text))).toBe(text);
    }
  });
});
