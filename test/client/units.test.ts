import { describe, expect, it } from 'vitest';
import { parseCount, parseGoDuration, parseTimeFlag } from '../../src/client/duration.js';
import { UsageError, renderQueryError } from '../../src/client/errors.js';
import { DEFAULT_ADDR, normalizeAddr, resolveClientConfig } from '../../src/client/config.js';

describe('Go durations (--since)', () => {
  it('parses what kubectl accepts', () => {
    expect(parseGoDuration('5s')).toBe(5000);
    expect(parseGoDuration('1h30m')).toBe(5_400_000);
    expect(parseGoDuration('1.5h')).toBe(5_400_000);
    expect(parseGoDuration('250ms')).toBe(250);
    expect(parseGoDuration('2m3s4ms')).toBe(123_004);
    expect(parseGoDuration('0')).toBe(0);
  });

  it('refuses the rest as usage errors', () => {
    for (const bad of ['', '5', '-5s', '1d', 'h', '5s ago', '1h 30m', 'abc']) expect(() => parseGoDuration(bad), bad).toThrow(UsageError);
  });

  it('--since-time takes RFC3339 with nanoseconds and offsets', () => {
    expect(parseTimeFlag('2026-11-22T10:00:00.000000001Z')).toBe(1795341600000000001n);
    expect(parseTimeFlag('2026-11-22T11:00:00+01:00')).toBe(1795341600000000000n);
    expect(() => parseTimeFlag('yesterday')).toThrow(/expected an RFC3339 time/);
  });

  it('counts', () => {
    expect(parseCount('10', '--tail')).toBe(10);
    expect(parseCount('0', '--tail', true)).toBe(0);
    expect(() => parseCount('0', '--limit')).toThrow(UsageError);
    expect(() => parseCount('1e3', '--limit')).toThrow(UsageError);
    expect(() => parseCount('-2', '--tail', true)).toThrow(UsageError);
  });
});

describe('client config precedence', () => {
  const files = (content: Record<string, string>) => (p: string) => content[p] ?? null;
  const home = '/home/u';
  const file = '/home/u/.config/loggy/client.yaml';

  it('flag > env > file > default', () => {
    const readFile = files({ [file]: 'addr: file:1\ntoken: file-token\n' });
    expect(resolveClientConfig({ flags: {}, env: {}, home, readFile: () => null })).toMatchObject({ addr: DEFAULT_ADDR, addrFrom: 'default', token: undefined });
    expect(resolveClientConfig({ flags: {}, env: {}, home, readFile })).toMatchObject({ addr: 'http://file:1', addrFrom: 'file', token: 'file-token', tokenFrom: 'file', file });
    expect(resolveClientConfig({ flags: {}, env: { LOGGY_ADDR: 'env:2', LOGGY_TOKEN: 'env-token' }, home, readFile })).toMatchObject({ addr: 'http://env:2', addrFrom: 'env', token: 'env-token' });
    expect(resolveClientConfig({ flags: { addr: 'https://flag:3/', token: 'flag-token' }, env: { LOGGY_ADDR: 'env:2', LOGGY_TOKEN: 'env-token' }, home, readFile })).toMatchObject({ addr: 'https://flag:3', addrFrom: 'flag', token: 'flag-token', tokenFrom: 'flag' });
  });

  it('uses $LOGGY_CONFIG and XDG_CONFIG_HOME, and reports bad files with their path', () => {
    expect(resolveClientConfig({ flags: {}, env: { LOGGY_CONFIG: '/etc/c.yaml' }, home, readFile: files({ '/etc/c.yaml': 'addr: x:9' }) }).addr).toBe('http://x:9');
    expect(resolveClientConfig({ flags: {}, env: { XDG_CONFIG_HOME: '/xdg' }, home, readFile: files({ '/xdg/loggy/client.yaml': 'token: t' }) }).token).toBe('t');
    expect(() => resolveClientConfig({ flags: {}, env: { LOGGY_CONFIG: '/nope.yaml' }, home, readFile: () => null })).toThrow(/LOGGY_CONFIG names \/nope.yaml, which does not exist/);
    expect(() => resolveClientConfig({ flags: {}, env: {}, home, readFile: files({ [file]: 'adr: x' }) })).toThrow(`${file}: unknown key "adr" (expected addr, token, tenant)`);
    expect(() => resolveClientConfig({ flags: {}, env: {}, home, readFile: files({ [file]: 'addr: [1' }) })).toThrow(/not valid YAML/);
    expect(() => resolveClientConfig({ flags: {}, env: {}, home, readFile: files({ [file]: 'addr: 3100' }) })).toThrow(/addr must be a string/);
    expect(resolveClientConfig({ flags: {}, env: {}, home, readFile: files({ [file]: '' }) }).addr).toBe(DEFAULT_ADDR);
  });

  it('refuses tokens and tenants a header cannot carry', () => {
    expect(() => resolveClientConfig({ flags: { token: 'a b' }, env: {}, home, readFile: () => null })).toThrow('the token from --token has spaces or characters a header cannot carry');
    expect(() => resolveClientConfig({ flags: {}, env: { LOGGY_TOKEN: 'x\ny' }, home, readFile: () => null })).toThrow(/LOGGY_TOKEN/);
    expect(() => resolveClientConfig({ flags: { tenant: 'a/b' }, env: {}, home, readFile: () => null })).toThrow(UsageError);
  });

  it('tenant: flag > env > file', () => {
    const readFile = files({ [file]: 'tenant: from-file\n' });
    expect(resolveClientConfig({ flags: {}, env: {}, home, readFile }).tenant).toBe('from-file');
    expect(resolveClientConfig({ flags: {}, env: { LOGGY_TENANT: 'env' }, home, readFile }).tenant).toBe('env');
    expect(resolveClientConfig({ flags: { tenant: 'flag' }, env: { LOGGY_TENANT: 'env' }, home, readFile }).tenant).toBe('flag');
  });

  it('normalises addresses and refuses other schemes', () => {
    expect(normalizeAddr('localhost:3100', 'x')).toBe('http://localhost:3100');
    expect(normalizeAddr('http://h:1/prefix/', 'x')).toBe('http://h:1/prefix');
    expect(() => normalizeAddr('ftp://h', '--addr')).toThrow(/only http/);
    expect(() => normalizeAddr('http://h:1?x=1', '--addr')).toThrow(UsageError);
  });
});

describe('bad query rendering', () => {
  it('marks the column with a caret under the query', () => {
    expect(renderQueryError('parse error at line 1, col 12: syntax error: unexpected IDENTIFIER, expecting STRING', '{namespace=shop}')).toBe(
      'bad query: parse error at line 1, col 12: syntax error: unexpected IDENTIFIER, expecting STRING\n  {namespace=shop}\n             ^');
  });

  it('picks the right line of a multi-line query and clamps a column past its end', () => {
    expect(renderQueryError('parse error at line 2, col 3: x', '{a="b"}\n|= \n')).toBe('bad query: parse error at line 2, col 3: x\n  |= \n    ^');
    expect(renderQueryError('parse error at line 1, col 99: x', '{a')).toBe('bad query: parse error at line 1, col 99: x\n  {a\n    ^');
  });

  it('without a position, shows the message and the query', () => {
    expect(renderQueryError('queries require at least one regexp or equality matcher', '{a=~".*"}')).toBe('bad query: queries require at least one regexp or equality matcher\n  {a=~".*"}');
  });
});
