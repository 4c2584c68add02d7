import { z } from 'zod';
import { describeValue } from './format-issue.js';

export const nonEmptyString = z.string().min(1);

// k/M/G/T are decimal and Ki/Mi/Gi/Ti binary, as in Kubernetes quantities; the trailing "B" is optional
// and case is ignored, so "512k", "16KiB", "10mib" and "1.5GB" all read as a user would expect.
const BYTE_UNITS = new Map<string, number>([['', 1], ['b', 1]]);
['k', 'm', 'g', 't'].forEach((prefix, i) => {
  BYTE_UNITS.set(prefix, 1000 ** (i + 1)).set(`${prefix}b`, 1000 ** (i + 1));
  BYTE_UNITS.set(`${prefix}i`, 1024 ** (i + 1)).set(`${prefix}ib`, 1024 ** (i + 1));
});

/** Bytes for "16KiB", "1.5GB", "512k", "4096"; undefined if it is not a size. */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? BYTE_UNITS.get(m[2].toLowerCase()) : undefined;
  if (!m || unit === undefined) return undefined;
  const bytes = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

const DURATION_UNITS = new Map([['ms', 1], ['s', 1000], ['m', 60_000], ['h', 3_600_000], ['d', 86_400_000]]);
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/** Milliseconds for "250ms", "5s", "1m", "2h", "1h30m"; undefined otherwise (a bare "500" is ambiguous). */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (!/^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/.test(s)) return undefined;
  let ms = 0;
  for (const [, n, unit] of s.matchAll(DURATION_PART)) ms += Number(n) * (DURATION_UNITS.get(unit) ?? 0);
  return Math.round(ms);
}

/** A number or unit string, converted by `parse`; every failure gets the same "expected …, got …" sentence. */
function unitValue(what: string, parse: (text: string) => number | undefined) {
  const message = (input: unknown) => `expected ${what}, got ${describeValue(input)}`;
  return z.union([z.number(), z.string()], { error: (iss) => message(iss.input) }).transform((value, ctx) => {
    const n = typeof value === 'number' ? (Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined) : parse(value);
    if (n === undefined) {
      ctx.issues.push({ code: 'custom', input: value, message: message(value) });
      return z.NEVER;
    }
    return n;
  });
}

/** Bytes: a number, or a string like "16KiB", "10MiB", "1.5GB", "512k". */
export const byteSize = unitValue('a byte size such as 1048576, "512KiB", "10MiB" or "1.5GB"', parseByteSize);

/** Milliseconds: a number, or a string like "250ms", "5s", "1m", "2h". */
export const duration = unitValue('a duration such as 250ms, 5s, 1m or 2h', parseDuration);

/** One glob or a list of them, always returned as a list. */
export const globList = z.union([nonEmptyString.transform((s) => [s]), z.array(nonEmptyString)], {
  error: (iss) => `expected a glob pattern or a list of them, got ${describeValue(iss.input)}`,
});

/** A JavaScript regular expression given as a string; compiled once here to report syntax errors at load time. */
export const regexString = z.string().superRefine((s, ctx) => {
  try {
    new RegExp(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(err as Error).message}` });
  }
});
