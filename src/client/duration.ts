import { parseRfc3339Nano } from '../core/time.js';
import { parseGoDuration as parseGoNs } from '../logql/units.js';
import { UsageError } from './errors.js';

/**
 * A Go duration as kubectl's `--since` takes it: `5s`, `1h30m`, `250ms`, `1.5h`, parsed by
 * LogQL's Go-duration parser. A sign is refused (a look-back is never negative). Returns ms.
 */
export function parseGoDuration(text: string, flag = '--since'): number {
  const t = text.trim();
  let ns: number;
  try {
    if (/^[-+]/.test(t)) throw new Error('signed');
    ns = parseGoNs(t);
  } catch {
    throw new UsageError(`invalid ${flag} "${text}": expected a duration such as 5s, 2m, 1h30m (units ns, us, ms, s, m, h)`);
  }
  const total = ns / 1e6;
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
