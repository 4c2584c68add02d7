import { PRESETS, type Preset, type TimeRange } from './time.js';

/** Everything a shared link must reproduce. */
export interface UrlState {
  query: string;
  range: TimeRange;
  live: boolean;
  theme: 'dark' | 'light';
  /** Lines asked of the server per query. */
  limit: number;
}

export const DEFAULT_STATE: UrlState = {
  query: '',
  range: { kind: 'relative', preset: '1h' },
  live: false,
  theme: 'dark',
  limit: 1000,
};

const MAX_LIMIT = 100_000;

/**
 * Short, readable parameters (`?q={app="web"}&range=15m&live=1`); absolute ranges as ISO
 * times so a link reads the same in every time zone. Defaults are left out.
 */
export function encodeState(s: UrlState): string {
  const p = new URLSearchParams();
  if (s.query) p.set('q', s.query);
  if (s.range.kind === 'relative') {
    p.set('range', s.range.preset);
  } else {
    p.set('from', new Date(s.range.startMs).toISOString());
    p.set('to', new Date(s.range.endMs).toISOString());
  }
  if (s.live) p.set('live', '1');
  if (s.theme !== DEFAULT_STATE.theme) p.set('theme', s.theme);
  if (s.limit !== DEFAULT_STATE.limit) p.set('limit', String(s.limit));
  return p.toString();
}

/** Unknown or malformed parameters fall back to defaults rather than failing the page. */
export function decodeState(search: string): UrlState {
  const p = new URLSearchParams(search);
  const s: UrlState = { ...DEFAULT_STATE, query: p.get('q') ?? '' };
  const from = parseTime(p.get('from'));
  const to = parseTime(p.get('to'));
  const preset = p.get('range');
  if (from !== null && to !== null && from < to) s.range = { kind: 'absolute', startMs: from, endMs: to };
  else if (preset && (PRESETS as readonly string[]).includes(preset)) s.range = { kind: 'relative', preset: preset as Preset };
  s.live = p.get('live') === '1' || p.get('live') === 'true';
  const theme = p.get('theme');
  if (theme === 'light' || theme === 'dark') s.theme = theme;
  const limit = Number(p.get('limit'));
  if (Number.isInteger(limit) && limit > 0) s.limit = Math.min(limit, MAX_LIMIT);
  return s;
}

function parseTime(v: string | null): number | null {
  if (!v) return null;
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : null;
}
