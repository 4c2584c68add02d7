import { describe, expect, it } from 'vitest';
import { escapeParamValue, quoteIdent, quoteString } from '../../../src/protocols/clickhouse/sql.js';
import { containsPattern } from '../../../src/store/clickhouse/predicates.js';
import { Sql } from '../../../src/store/clickhouse/sql.js';

/**
 * The one quoting module. What the server makes of these strings is checked end to end in
 * test/store/clickhouse.e2e.test.ts (hostile tenants, labels, filters on 18.16 and 26); here,
 * the exact text, so a change to the escaping shows up as a diff.
 */
describe('clickhouse quoting', () => {
  it('quotes string literals: only backslash and quote need escaping', () => {
    expect(quoteString("it's")).toBe("'it\\'s'");
    expect(quoteString('a\\')).toBe("'a\\\\'");
    expect(quoteString("\\'; DROP TABLE x; --")).toBe("'\\\\\\'; DROP TABLE x; --'");
    expect(quoteString('tab\there\nnl')).toBe("'tab\there\nnl'");
  });

  it('quotes identifiers in backquotes', () => {
    expect(quoteIdent('logs')).toBe('`logs`');
    expect(quoteIdent('a`b\\')).toBe('`a\\`b\\\\`');
  });

  it('escapes query parameter values as TSV text', () => {
    expect(escapeParamValue("it's")).toBe("it's");
    expect(escapeParamValue('a\\b\tc\nd\re\u0000')).toBe('a\\\\b\\tc\\nd\\re\\0');
    expect(escapeParamValue('{p0:String}')).toBe('{p0:String}');
  });

  it('binds strings as parameters or literals, integers as checked literals', () => {
    const p = new Sql(true);
    expect(p.str("x'")).toBe('{p0:String}');
    expect(p.str('y\t')).toBe('{p1:String}');
    expect(p.params).toEqual({ p0: "x'", p1: 'y\\t' });
    const l = new Sql(false);
    expect(l.str("x'")).toBe("'x\\''");
    expect(l.params).toEqual({});
    expect(l.i64(5n)).toBe('toInt64(5)');
    expect(l.i64(2n ** 70n)).toBe('toInt64(9223372036854775807)');
    expect(l.i64(-(2n ** 70n))).toBe('toInt64(-9223372036854775807 - 1)');
    expect(() => l.u64(-1n)).toThrow(/UInt64/);
  });

  it('rewrites regexes with inline flags only where the server needs it', () => {
    expect(new Sql(false, true).regex('(?i)get')).toBe("'(?:(?i)get)|[^\\\\x00-\\\\x{10FFFF}]'");
    expect(new Sql(false, true).regex('get')).toBe("'get'");
    expect(new Sql(false, false).regex('(?i)get')).toBe("'(?i)get'");
  });

  it('builds LIKE patterns that match the needle literally', () => {
    expect(containsPattern('50%_a\\b')).toBe('%50\\%\\_a\\\\b%');
    expect(containsPattern('')).toBe('%%');
  });
});
