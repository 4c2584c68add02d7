/**
 * RFC3339 with up to nanosecond precision → Unix nanoseconds. Hand-written because
 * Date.parse stops at milliseconds and the runtime's nanoseconds are the point; also used
 * per event, so it avoids regexes and allocations beyond the result.
 * Returns null for anything that is not a valid timestamp.
 */
export function parseRfc3339Nano(s: string): bigint | null {
  const t = parseRfc3339(s);
  return t === null ? null : BigInt(t.secs) * 1_000_000_000n + BigInt(t.nanos);
}

/** RFC3339 → whole seconds since the epoch and nanoseconds within the second (no BigInt, for writers of text). */
export function parseRfc3339(s: string): { secs: number; nanos: number } | null {
  // 2026-11-22T10:00:00[.fffffffff](Z|+hh:mm|-hh:mm)
  if (s.length < 20 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return null;
  const t = s.charCodeAt(10);
  if (t !== 84 && t !== 116 && t !== 32) return null;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const min = digits(s, 14, 2);
  const sec = digits(s, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 60) return null;
  let i = 19;
  let frac = 0;
  let fracDigits = 0;
  if (s.charCodeAt(i) === 46) {
    i++;
    while (i < s.length) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      if (fracDigits < 9) {
        frac = frac * 10 + c;
        fracDigits++;
      }
      i++;
    }
    if (fracDigits === 0) return null;
  }
  for (let k = fracDigits; k < 9; k++) frac *= 10;
  let offsetMin = 0;
  const z = s.charCodeAt(i);
  if ((z === 90 || z === 122) && i + 1 === s.length) {
    // Z
  } else if ((z === 43 || z === 45) && i + 6 === s.length && s.charCodeAt(i + 3) === 58) {
    const oh = digits(s, i + 1, 2);
    const om = digits(s, i + 4, 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return null;
    offsetMin = (z === 43 ? 1 : -1) * (oh * 60 + om);
  } else {
    return null;
  }
  const ms = Date.UTC(year, month - 1, day, hour, min, sec);
  if (!Number.isFinite(ms)) return null;
  return { secs: ms / 1000 - offsetMin * 60, nanos: frac };
}

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Unix nanoseconds → RFC3339 with 9 fractional digits, UTC. */
export function formatRfc3339Nano(ns: bigint): string {
  const secs = ns / 1_000_000_000n;
  let frac = ns % 1_000_000_000n;
  let s = secs;
  if (frac < 0n) {
    frac += 1_000_000_000n;
    s -= 1n;
  }
  const iso = new Date(Number(s) * 1000).toISOString(); // 2026-11-22T10:00:00.000Z
  return `${iso.slice(0, 19)}.${frac.toString().padStart(9, '0')}Z`;
}

export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
