/**
 * Durations and byte sizes as LogQL reads them: Prometheus durations for ranges (`[5m]`,
 * `[1h30m]`), Go durations for label values (`250ms`, `1.5s`), humanized byte sizes (`1KB`,
 * `1.5MiB`). Each parser returns a number or throws an Error with a Go-like message.
 */

const NS_PER: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3, // U+00B5
  'μs': 1e3, // U+03BC
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's time.ParseDuration, in nanoseconds (a float for sub-ns fractions, as Go rounds down). */
export function parseGoDuration(s: string): number {
  const orig = s;
  let i = 0;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    i = 1;
  }
  if (s.slice(i) === '0') return 0;
  if (i >= s.length) throw new Error(`time: invalid duration ${JSON.stringify(orig)}`);
  let total = 0;
  while (i < s.length) {
    const start = i;
    while (i < s.length && isDigit(s.charCodeAt(i))) i++;
    let hasFrac = false;
    if (s[i] === '.') {
      i++;
      const fs = i;
      while (i < s.length && isDigit(s.charCodeAt(i))) i++;
      hasFrac = i > fs;
    }
    const num = s.slice(start, i);
    if (num === '' || num === '.' || (!hasFrac && num.endsWith('.') && num.length === 1)) {
      throw new Error(`time: invalid duration ${JSON.stringify(orig)}`);
    }
    const us = i;
    while (i < s.length && s[i] !== '.' && !isDigit(s.charCodeAt(i))) i++;
    const unit = s.slice(us, i);
    if (unit === '') throw new Error(`time: missing unit in duration ${JSON.stringify(orig)}`);
    const mult = NS_PER[unit];
    if (mult === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(orig)}`);
    total += Number(num) * mult;
  }
  return neg ? -total : total;
}

const PROM_UNITS: Array<[string, bigint]> = [
  ['y', 365n * 24n * 3600n * 1_000_000_000n],
  ['w', 7n * 24n * 3600n * 1_000_000_000n],
  ['d', 24n * 3600n * 1_000_000_000n],
  ['h', 3600n * 1_000_000_000n],
  ['m', 60n * 1_000_000_000n],
  ['s', 1_000_000_000n],
  ['ms', 1_000_000n],
];

/** Prometheus' model.ParseDuration (integer units y w d h m s ms, largest first), in ns. */
export function parsePromDuration(s: string): bigint {
  if (s === '0') return 0n;
  if (s === '') throw new Error('empty duration string');
  let i = 0;
  let total = 0n;
  let lastUnit = -1;
  while (i < s.length) {
    const start = i;
    while (i < s.length && isDigit(s.charCodeAt(i))) i++;
    if (i === start) throw new Error(`not a valid duration string: ${JSON.stringify(s)}`);
    const n = BigInt(s.slice(start, i));
    const us = i;
    while (i < s.length && !isDigit(s.charCodeAt(i))) i++;
    const unit = s.slice(us, i);
    const idx = PROM_UNITS.findIndex(([u]) => u === unit);
    if (idx < 0) throw new Error(`not a valid duration string: ${JSON.stringify(s)}`);
    if (idx <= lastUnit) throw new Error(`not a valid duration string: ${JSON.stringify(s)}`);
    lastUnit = idx;
    total += n * PROM_UNITS[idx]![1];
  }
  return total;
}

/** A duration token as Loki's lexer reads it: Prometheus style first, then Go's. In ns. */
export function parseQueryDuration(s: string): bigint {
  try {
    return parsePromDuration(s);
  } catch {
    return BigInt(Math.trunc(parseGoDuration(s)));
  }
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  ki: 1024,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1e12,
  tb: 1e12,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
  p: 1e15,
  pb: 1e15,
  pi: 1024 ** 5,
  pib: 1024 ** 5,
  e: 1e18,
  eb: 1e18,
  ei: 1024 ** 6,
  eib: 1024 ** 6,
};

/** go-humanize's ParseBytes: "42", "42 MB", "1.5GiB", "1,000kB". In bytes (integral). */
export function parseBytes(s: string): number {
  let i = 0;
  let hasComma = false;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (!(isDigit(c) || c === 46 /* . */ || c === 44) /* , */) break;
    if (c === 44) hasComma = true;
    i++;
  }
  const num = hasComma ? s.slice(0, i).replace(/,/g, '') : s.slice(0, i);
  if (!/^(\d+\.?\d*|\.\d+)$/.test(num)) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(num)}: invalid syntax`);
  const unit = s.slice(i).trim().toLowerCase();
  const mult = BYTE_UNITS[unit];
  if (mult === undefined) throw new Error(`unhandled size name: ${unit}`);
  const v = Number(num) * mult;
  if (v >= 2 ** 64) throw new Error(`too large: ${s}`);
  return Math.trunc(v);
}

/** Go's strconv.ParseFloat for label values: decimal/exponent forms, Inf, NaN; no trailing junk. */
export function parseGoFloat(s: string): number {
  if (FLOAT_RE.test(s)) return Number(s);
  const l = s.toLowerCase();
  if (l === 'inf' || l === '+inf' || l === 'infinity' || l === '+infinity') return Infinity;
  if (l === '-inf' || l === '-infinity') return -Infinity;
  if (l === 'nan') return NaN;
  if (/^[+-]?0x[0-9a-f]+$/i.test(s)) return Number.parseInt(s, 16);
  throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(s)}: invalid syntax`);
}
const FLOAT_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
