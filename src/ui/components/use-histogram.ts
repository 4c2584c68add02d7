import { useEffect, useState } from 'preact/hooks';
import { queryMatrix } from '../api.js';
import { stackBuckets, type Bucket } from '../lib/histogram.js';
import { splitQuery } from '../lib/selector.js';
import { chooseStepMs, formatStep, msToNs, resolveRange, type TimeRange } from '../lib/time.js';

export interface HistogramData {
  buckets: Bucket[];
  max: number;
  startMs: number;
  endMs: number;
  step: string;
}

/** While tailing a range that ends "now", the histogram is redrawn this often so it keeps up. */
const LIVE_REFRESH_MS = 10_000;

const volumeQuery = (query: string, step: string) => `sum by (detected_level) (count_over_time(${query} [${step}]))`;

/**
 * Lines per step by level, counted by the server (detected_level is stored with each line,
 * so a plain selector is counted without reading lines). Log queries only.
 */
export function useHistogram(query: string, range: TimeRange, runSeq: number, live: boolean): HistogramData | null {
  const [hist, setHist] = useState<HistogramData | null>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    if (!live || range.kind !== 'relative') return;
    const t = setInterval(() => setTick((n) => n + 1), LIVE_REFRESH_MS);
    return () => clearInterval(t);
  }, [live, range]);

  useEffect(() => {
    const q = query.trim();
    if (!q || !splitQuery(q)) {
      setHist(null);
      return;
    }
    const r = resolveRange(range, Date.now());
    const stepMs = chooseStepMs(r.endMs - r.startMs);
    const step = formatStep(stepMs);
    // Samples at aligned step ends; the last bucket reaches past "now" so no line is left out.
    const first = Math.ceil(r.startMs / stepMs) * stepMs;
    const last = Math.ceil(r.endMs / stepMs) * stepMs;
    const ac = new AbortController();
    queryMatrix({ query: volumeQuery(q, step), start: msToNs(first), end: msToNs(last), step }, ac.signal)
      .then((s) => setHist({ ...stackBuckets(s, first, last, stepMs), startMs: first - stepMs, endMs: last, step }))
      .catch(() => !ac.signal.aborted && setHist(null));
    return () => ac.abort();
  }, [query, range, runSeq, tick]);

  return hist;
}
