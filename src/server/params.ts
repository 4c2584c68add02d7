import { nowNs, parseRfc3339Nano } from '../core/time.js';
import { HttpError } from './errors.js';

export type Query = Record<string, string | string[] | undefined>;

export function one(q: Query, name: string): string | undefined {
  const v = q[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

export function many(q: Query, name: string): string[] {
  const v = q[name] ?? q[`${name}[]`];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

const MAX_NS = (1n << 63n) - 1n;

/** A Loki API time: unix nanoseconds (integer), unix seconds (with a fraction) or RFC3339. */
export function parseTime(text: string, name: string): bigint {
  const ns = parseTimeUnchecked(text, name);
  if (ns < 0n || ns > MAX_NS) throw new HttpError(400, `invalid ${name} "${text}": out of range (0 to 2^63-1 nanoseconds)`);
  return ns;
}

function parseTimeUnchecked(text: string, name: string): bigint {
  const t = text.trim();
  if (/^\d+$/.test(t)) {
    // Loki's rule: integers are nanoseconds, but small ones (seconds) are accepted too.
    return t.length > 12 ? BigInt(t) : BigInt(t) * 1_000_000_000n;
  }
  if (/^\d+\.\d+$/.test(t)) {
    const [s, f] = t.split('.');
    return BigInt(s) * 1_000_000_000n + BigInt((f + '000000000').slice(0, 9));
  }
  const ns = parseRfc3339Nano(t);
  if (ns === null) throw new HttpError(400, `invalid ${name} "${text}": expected unix nanoseconds, unix seconds or RFC3339`);
  return ns;
}

const UNITS: Record<string, bigint> = { ns: 1n, us: 1000n, µs: 1000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n, d: 86_400_000_000_000n, w: 604_800_000_000_000n, y: 31_536_000_000_000_000n };

/** A Prometheus duration ("15s", "1h30m") or a number of seconds ("15", "0.5"). */
export function parseDurationNs(text: string, name: string): bigint {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return BigInt(Math.round(Number(t) * 1e9));
  const re = /(\d+)(ns|us|µs|ms|s|m|h|d|w|y)/gy;
  let total = 0n;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(t)) !== null) {
    total += BigInt(m[1]) * UNITS[m[2]];
    pos = re.lastIndex;
  }
  if (pos !== t.length || pos === 0) throw new HttpError(400, `invalid ${name} "${text}": expected a duration such as 15s, 1m, 1h30m or a number of seconds`);
  return total;
}

export interface Range {
  startNs: bigint;
  endNs: bigint;
}

/** start/end with Loki's defaults: the last hour. */
export function parseRange(q: Query, defaultSpanNs = 3_600_000_000_000n): Range {
  const endText = one(q, 'end');
  const endNs = endText ? parseTime(endText, 'end') : nowNs();
  const startText = one(q, 'start');
  const startNs = startText ? parseTime(startText, 'start') : endNs - defaultSpanNs;
  if (startNs > endNs) throw new HttpError(400, 'invalid time range: start is after end');
  return { startNs, endNs };
}

export function parseLimit(q: Query, def: number, max: number): number {
  const t = one(q, 'limit');
  if (t === undefined || t === '') return def;
  const n = Number(t);
  if (!Number.isInteger(n) || n <= 0) throw new HttpError(400, `invalid limit "${t}": expected a positive integer`);
  if (n > max) throw new HttpError(400, `limit ${n} is over the maximum of ${max} lines per query`);
  return n;
}

export function parseDirection(q: Query): 'forward' | 'backward' {
  const d = (one(q, 'direction') ?? 'backward').toLowerCase();
  if (d !== 'forward' && d !== 'backward') throw new HttpError(400, `invalid direction "${d}": expected forward or backward`);
  return d;
}
