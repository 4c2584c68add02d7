/** Time ranges: relative presets that follow "now", or absolute bounds in milliseconds. */

export const PRESETS = ['5m', '15m', '1h', '6h', '24h', '7d'] as const;
export type Preset = (typeof PRESETS)[number];

export type TimeRange = { kind: 'relative'; preset: Preset } | { kind: 'absolute'; startMs: number; endMs: number };

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function durationMs(d: string): number {
  const m = /^(\d+)([smhd])$/.exec(d);
  if (!m) throw new Error(`bad duration ${d}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

export function resolveRange(r: TimeRange, nowMs: number): { startMs: number; endMs: number } {
  return r.kind === 'relative' ? { startMs: nowMs - durationMs(r.preset), endMs: nowMs } : { startMs: r.startMs, endMs: r.endMs };
}

/** Steps a histogram may use: round numbers people read easily on an axis. */
const STEPS_MS = [1, 2, 5, 10, 15, 30].map((s) => s * 1000)
  .concat([1, 2, 5, 10, 15, 30].map((m) => m * 60_000))
  .concat([1, 2, 3, 6, 12].map((h) => h * 3_600_000))
  .concat([1, 2, 7].map((d) => d * 86_400_000));

/** The smallest round step giving at most `maxBars` buckets over the range. */
export function chooseStepMs(spanMs: number, maxBars = 120): number {
  for (const s of STEPS_MS) if (spanMs / s <= maxBars) return s;
  return STEPS_MS[STEPS_MS.length - 1]!;
}

export function formatStep(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.max(1, Math.round(ms / 1000))}s`;
}

/** Nanosecond timestamps (decimal strings) ↔ what the UI shows. */
export function nsToMs(ns: string): number {
  return Number(ns.length > 6 ? ns.slice(0, -6) : '0');
}

export function msToNs(ms: number): string {
  return `${Math.floor(ms)}000000`;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Local time with milliseconds: log readers compare neighbouring lines to the millisecond. */
export function formatTs(ns: string): string {
  const ms = nsToMs(ns);
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** For <input type="datetime-local"> (local time, minutes). */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromLocalInput(v: string): number | null {
  const t = new Date(v).getTime();
  return Number.isFinite(t) ? t : null;
}
