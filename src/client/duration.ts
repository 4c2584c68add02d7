import { parseRfc3339Nano } from '../core/time.js';
import { UsageError } from './errors.js';

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A Go duration as kubectl's `--since` takes it: `5s`, `1h30m`, `250ms`, `1.5h`. A sign or a
 * bare number is refused (Go requires a unit except for "0"). Returns milliseconds.
 */
export function parseGoDuration(text: string, flag = '--since'): number {
  const t = text.trim();
  if (t === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(t)) !== null) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  if (pos === 0 || pos !== t.length) {
    throw new UsageError(`invalid ${flag} "${text}": expected a duration such as 5s, 2m, 1h30m (units ns, us, ms, s, m, h)`);
  }
  if (!Number.isFinite(total) || total > 1e15) throw new UsageError(`invalid ${flag} "${text}": too large`);
  return total;
}

/** An RFC3339 time (`2026-11-22T10:00:00Z`, fractions and offsets allowed) as unix nanoseconds. */
export function parseTimeFlag(text: string, flag = '--since-time'): bigint {
  const ns = parseRfc3339Nano(text.trim());
  if (ns === null || ns < 0n) throw new UsageError(`invalid ${flag} "${text}": expected an RFC3339 time such as 2026-11-22T10:00:00Z`);
  return ns;
}

/** A positive (or zero, when allowed) integer flag. */
export function parseCount(text: string, flag: string, allowZero = false): number {
  const t = text.trim();
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n) || (n === 0 && !allowZero)) throw new UsageError(`invalid ${flag} "${text}": expected a ${allowZero ? 'non-negative' : 'positive'} integer`);
  return n;
}
