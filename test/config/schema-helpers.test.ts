import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { byteSize, duration, globList, nonEmptyString, parseConfig } from '../../src/config/index.js';
import { configErrorOf } from './helpers.js';

const schema = z.strictObject({
  size: byteSize.optional(),
  every: duration.optional(),
  globs: globList.optional(),
  name: nonEmptyString.optional(),
});
const parse = (text: string) => parseConfig(text, 'c.yaml', schema, { env: {} });
const errorOf = (text: string) => configErrorOf(() => parse(text)).message;

describe('byteSize', () => {
  it.each([
    ['4096', 4096],
    ['"4096"', 4096],
    ['16KiB', 16 * 1024],
    ['10MiB', 10 * 1024 * 1024],
    ['10mib', 10 * 1024 * 1024],
    ['2Gi', 2 * 1024 ** 3],
    ['1.5GB', 1_500_000_000],
    ['512k', 512_000],
    ['100 B', 100],
    ['0', 0],
  ])('%s → %d bytes', (text, bytes) => {
    expect(parse(`size: ${text}`).size).toBe(bytes);
  });

  it.each([
    ['12 parsecs', 'a string ("12 parsecs")'],
    ['-1', 'a number (-1)'],
    ['10XiB', 'a string ("10XiB")'],
    ['true', 'a boolean (true)'],
  ])('rejects %s', (text, got) => {
    expect(errorOf(`\nsize: ${text}`)).toBe(
      `c.yaml:2:7: size: expected a byte size such as 1048576, "512KiB", "10MiB" or "1.5GB", got ${got}`,
    );
  });
});

describe('duration', () => {
  it.each([
    ['250', 250],
    ['250ms', 250],
    ['5s', 5000],
    ['1.5s', 1500],
    ['1m', 60_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parse(`every: ${text}`).every).toBe(ms);
  });

  it.each([
    ['"500"', 'a string ("500")'],
    ['5 sec', 'a string ("5 sec")'],
    ['[1]', 'a list'],
  ])('rejects %s', (text, got) => {
    expect(errorOf(`every: ${text}`)).toBe(`c.yaml:1:8: every: expected a duration such as 250ms, 5s, 1m or 2h, got ${got}`);
  });
});

describe('globList and nonEmptyString', () => {
  it('turns one glob into a list and keeps a list', () => {
    expect(parse('globs: "*.log"').globs).toEqual(['*.log']);
    expect(parse('globs: ["*.log", "*.txt"]').globs).toEqual(['*.log', '*.txt']);
  });

  it('rejects other shapes and empty strings', () => {
    expect(errorOf('globs: {a: 1}')).toBe('c.yaml:1:8: globs: expected a glob pattern or a list of them, got a mapping');
    expect(errorOf('globs: ""')).toBe('c.yaml:1:8: globs: must not be empty');
    expect(errorOf('globs: [a, ""]')).toBe('c.yaml:1:12: globs[1]: must not be empty');
    expect(errorOf('name: ""')).toBe('c.yaml:1:7: name: must not be empty');
  });
});
