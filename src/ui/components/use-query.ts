import { useEffect, useRef, useState } from 'preact/hooks';
import { labelNames, queryLogs } from '../api.js';
import { compareNs, errorPosition, flattenStreams, offsetOf, type Row } from '../lib/rows.js';
import { formatSelector, splitQuery } from '../lib/selector.js';
import { msToNs, resolveRange, type TimeRange } from '../lib/time.js';
import type { QueryError } from './QueryBar.js';

export interface QueryResults {
  rows: Row[];
  setRows(rows: Row[]): void;
  /** Always the latest rows, for the live tail to prepend to between renders. */
  rowsRef: { current: Row[] };
  nextId: { current: number };
  loading: boolean;
  error: QueryError | null;
  /** Names of stream labels under the query's selector (the rest of a row's labels are metadata or parsed). */
  streamLabels: ReadonlySet<string>;
  resolved: { startMs: number; endMs: number };
}

function toQueryError(err: unknown, query: string): QueryError {
  const message = err instanceof Error ? err.message : String(err);
  const pos = errorPosition(message);
  if (!pos || pos.line !== 1) return { message };
  return { message, column: pos.column, offset: offsetOf(query, pos.line, pos.column) };
}

/**
 * Runs the query whenever it, the range or the limit change (or `runSeq` does, to refresh a
 * relative range): the lines and which labels are stream labels, in parallel; a newer run
 * aborts an older one.
 */
export function useQuery(query: string, range: TimeRange, limit: number, runSeq: number): QueryResults {
  const [resolved, setResolved] = useState(() => resolveRange(range, Date.now()));
  const [rows, setRowsState] = useState<Row[]>([]);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<QueryError | null>(null);
  const [streamLabels, setStreamLabels] = useState<ReadonlySet<string>>(new Set());
  const rowsRef = useRef(rows);
  const nextId = useRef(0);
  const setRows = (r: Row[]) => {
    rowsRef.current = r;
    setRowsState(r);
  };

  useEffect(() => {
    const q = query.trim();
    const r = resolveRange(range, Date.now());
    setResolved(r);
    if (!q) {
      setRows([]);
      setError(null);
      return;
    }
    const ac = new AbortController();
    const start = msToNs(r.startMs);
    const end = msToNs(r.endMs);
    setLoading(true);
    setError(null);
    queryLogs({ query: q, start, end, limit, direction: 'backward' }, ac.signal)
      .then((streams) => {
        const out = flattenStreams(streams, 'backward', nextId.current);
        nextId.current += out.length;
        // Live lines the tail put on top while this query ran are newer than its end: keep them.
        const live = rowsRef.current.filter((row) => row.live === true && compareNs(row.tsNs, end) > 0);
        setRows(live.length ? live.concat(out) : out);
      })
      .catch((err: unknown) => {
        if (ac.signal.aborted) return;
        setRows([]);
        setError(toQueryError(err, q));
      })
      .finally(() => !ac.signal.aborted && setLoading(false));

    const split = splitQuery(q);
    if (!split) return () => ac.abort();
    const positive = split.matchers.filter((m) => !(m.op === '=~' && m.value === '.+'));
    labelNames(start, end, positive.length ? formatSelector(positive) : undefined, ac.signal)
      .then((names) => setStreamLabels(new Set(names)))
      .catch(() => undefined);
    return () => ac.abort();
  }, [query, range, limit, runSeq]);

  return { rows, setRows, rowsRef, nextId, loading, error, streamLabels, resolved };
}
