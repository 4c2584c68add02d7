import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, getToken, labelNames, queryLogs, queryMatrix, series, setToken } from '../api.js';
import { stackBuckets, type Bucket } from '../lib/histogram.js';
import { contextQueries, errorPosition, flattenStreams, offsetOf, prependCapped, streamOf, type Row } from '../lib/rows.js';
import { addFilter, formatSelector, splitQuery } from '../lib/selector.js';
import { chooseStepMs, formatStep, msToNs, nsToMs, resolveRange, type TimeRange } from '../lib/time.js';
import { decodeState, encodeState, type UrlState } from '../lib/url-state.js';
import { openTail } from '../tail.js';
import { ContextPanel, type ContextState } from './ContextPanel.js';
import { Histogram } from './Histogram.js';
import { LogList, type FilterKind } from './LogList.js';
import { Pickers } from './Pickers.js';
import { QueryBar, type QueryError } from './QueryBar.js';
import { TimeRangePicker } from './TimeRangePicker.js';

const CONTEXT_LINES = 10;
const CONTEXT_SPAN_MS = 3_600_000;

function toQueryError(err: unknown, query: string): QueryError {
  const message = err instanceof Error ? err.message : String(err);
  const pos = errorPosition(message);
  if (!pos || pos.line !== 1) return { message };
  return { message, column: pos.column, offset: offsetOf(query, pos.line, pos.column) };
}

const volumeQuery = (query: string, step: string) => `sum by (detected_level) (count_over_time(${query} [${step}]))`;

export function App() {
  const [url, setUrl] = useState<UrlState>(() => decodeState(location.search));
  const [draft, setDraft] = useState(url.query);
  const [runSeq, setRunSeq] = useState(0);
  const [resolved, setResolved] = useState(() => resolveRange(url.range, Date.now()));
  const [rows, setRows] = useState<Row[]>([]);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<QueryError | null>(null);
  const [hist, setHist] = useState<{ buckets: Bucket[]; max: number; startMs: number; endMs: number; step: string } | null>(null);
  const [streamLabels, setStreamLabels] = useState<ReadonlySet<string>>(new Set());
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(new Set());
  const [ctx, setCtx] = useState<ContextState | null>(null);
  const [liveStatus, setLiveStatus] = useState<string>('');
  const [paused, setPaused] = useState(false);
  const [dropped, setDropped] = useState({ server: 0, ui: 0 });
  const [showToken, setShowToken] = useState(false);
  const [tokenDraft, setTokenDraft] = useState(getToken);
  const nextId = useRef(0);
  const rowsRef = useRef(rows);
  rowsRef.current = rows;
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  const pending = useRef<Row[]>([]);
  const flushPending = useRef<(() => void) | null>(null);

  // The URL is the state: every change is a history entry, and back/forward restore it.
  useEffect(() => {
    const enc = encodeState(url);
    if (enc !== location.search.replace(/^\?/, '')) history.pushState(null, '', enc ? `?${enc}` : location.pathname);
  }, [url]);
  useEffect(() => {
    const onPop = () => {
      const s = decodeState(location.search);
      setUrl(s);
      setDraft(s.query);
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  useEffect(() => {
    document.documentElement.dataset.theme = url.theme;
  }, [url.theme]);

  const update = useCallback((patch: Partial<UrlState>) => setUrl((u) => ({ ...u, ...patch })), []);
  const runQuery = (query: string) => {
    setDraft(query);
    update({ query });
    setRunSeq((n) => n + 1);
  };

  // Run the query (lines, volume histogram, which labels are stream labels) on every change.
  useEffect(() => {
    const query = url.query.trim();
    const r = resolveRange(url.range, Date.now());
    setResolved(r);
    setCtx(null);
    if (!query) {
      setRows([]);
      setHist(null);
      setError(null);
      return;
    }
    const ac = new AbortController();
    const start = msToNs(r.startMs);
    const end = msToNs(r.endMs);
    setLoading(true);
    setError(null);
    queryLogs({ query, start, end, limit: url.limit, direction: 'backward' }, ac.signal)
      .then((streams) => {
        const out = flattenStreams(streams, 'backward', nextId.current);
        nextId.current += out.length;
        setRows(out);
        setExpanded(new Set());
        setDropped({ server: 0, ui: 0 });
      })
      .catch((err: unknown) => {
        if (ac.signal.aborted) return;
        setRows([]);
        setError(toQueryError(err, query));
      })
      .finally(() => !ac.signal.aborted && setLoading(false));

    const split = splitQuery(query);
    if (split) {
      const stepMs = chooseStepMs(r.endMs - r.startMs);
      const step = formatStep(stepMs);
      // Samples at aligned step ends; the last bucket reaches past "now" so no line is left out.
      const first = Math.ceil(r.startMs / stepMs) * stepMs;
      const last = Math.ceil(r.endMs / stepMs) * stepMs;
      queryMatrix({ query: volumeQuery(query, step), start: msToNs(first), end: msToNs(last), step }, ac.signal)
        .then((s) => setHist({ ...stackBuckets(s, first, last, stepMs), startMs: first - stepMs, endMs: last, step }))
        .catch(() => !ac.signal.aborted && setHist(null));
      const positive = split.matchers.filter((m) => !(m.op === '=~' && m.value === '.+'));
      labelNames(start, end, positive.length ? formatSelector(positive) : undefined, ac.signal)
        .then((names) => setStreamLabels(new Set(names)))
        .catch(() => undefined);
    } else {
      setHist(null);
    }
    return () => ac.abort();
  }, [url.query, url.range, url.limit, runSeq]);

  // Live tail: new lines on top, the buffer capped at the query's line limit.
  useEffect(() => {
    if (!url.live || !url.query.trim() || !splitQuery(url.query)) {
      setLiveStatus('');
      return;
    }
    const cap = url.limit;
    const take = (incoming: Row[]) => {
      const r = prependCapped(rowsRef.current, incoming, cap);
      rowsRef.current = r.rows;
      setRows(r.rows);
      if (r.discarded) setDropped((d) => ({ ...d, ui: d.ui + r.discarded }));
    };
    const stop = openTail(url.query, msToNs(Date.now()), 100, {
      onFrame(f) {
        const incoming = flattenStreams(f.streams ?? [], 'backward', nextId.current);
        nextId.current += incoming.length;
        const serverDropped = f.dropped_entries?.length ?? 0;
        if (serverDropped) setDropped((d) => ({ ...d, server: d.server + serverDropped }));
        if (pausedRef.current) {
          // While paused, hold at most a buffer's worth; older held lines are dropped.
          pending.current = incoming.concat(pending.current);
          const over = pending.current.length - cap;
          if (over > 0) {
            pending.current.length = cap;
            setDropped((d) => ({ ...d, ui: d.ui + over }));
          }
        } else if (incoming.length) take(incoming);
      },
      onStatus(s, reason) {
        setLiveStatus(s === 'open' ? 'live' : s === 'connecting' ? 'connecting…' : `closed: ${reason ?? ''}`);
      },
    });
    flushPending.current = () => {
      if (pending.current.length) take(pending.current);
      pending.current = [];
    };
    return () => {
      stop();
      pending.current = [];
      flushPending.current = null;
    };
  }, [url.live, url.query, url.limit]);

  useEffect(() => {
    if (!paused) flushPending.current?.();
  }, [paused]);

  const onFilter = (key: string, value: string, kind: FilterKind) => runQuery(addFilter(url.query, key, value, kind));

  const onToggle = (row: Row) =>
    setExpanded((s) => {
      const n = new Set(s);
      if (n.has(row.id)) n.delete(row.id);
      else n.add(row.id);
      return n;
    });

  const onContext = async (row: Row) => {
    const ms = nsToMs(row.tsNs);
    setCtx({ row, selector: '', before: [], after: [], loading: true });
    try {
      const split = splitQuery(url.query);
      const byNames = Object.fromEntries(Object.entries(row.labels).filter(([k]) => streamLabels.has(k)));
      const match = split && split.matchers.some((m) => m.op === '=') ? formatSelector(split.matchers) : formatSelector(Object.entries(byNames).map(([name, value]) => ({ name, op: '=', value })));
      const candidates = await series(match, msToNs(ms - CONTEXT_SPAN_MS), msToNs(ms + CONTEXT_SPAN_MS));
      const stream = streamOf(row.labels, candidates) ?? byNames;
      const q = contextQueries(stream, row.tsNs, CONTEXT_SPAN_MS, CONTEXT_LINES);
      const [b, a] = await Promise.all([queryLogs(q.before), queryLogs(q.after)]);
      const before = flattenStreams(b, 'forward', nextId.current);
      const after = flattenStreams(a, 'forward', nextId.current + before.length);
      nextId.current += before.length + after.length;
      const self = after.findIndex((r) => r.tsNs === row.tsNs && r.line === row.line);
      if (self >= 0) after.splice(self, 1);
      setCtx({ row, selector: q.selector, before, after: after.slice(0, CONTEXT_LINES), loading: false });
    } catch (err) {
      setCtx({ row, selector: '', before: [], after: [], loading: false, error: err instanceof ApiError || err instanceof Error ? err.message : String(err) });
    }
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setCtx(null);
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const setRange = (range: TimeRange) => update({ range });
  const status = useMemo(() => {
    if (loading) return 'Running…';
    if (error) return 'Query failed: see the message under the query.';
    if (!url.query.trim()) return 'Pick a namespace or type a LogQL query, then press Enter.';
    const n = rows.length;
    return `${n.toLocaleString()} line${n === 1 ? '' : 's'}${!url.live && n >= url.limit ? ` (limit ${url.limit.toLocaleString()} reached: narrow the range or query)` : ''}`;
  }, [rows, loading, error, url.query, url.limit, url.live]);

  return (
    <div class="app">
      <header class="top">
        <span class="brand">Loggy</span>
        <QueryBar draft={draft} onDraft={setDraft} onRun={() => runQuery(draft)} error={error} loading={loading} />
        <div class="controls">
          <button type="button" class={`live-toggle${url.live ? ' active' : ''}`} aria-pressed={url.live} onClick={() => { setPaused(false); update({ live: !url.live }); }}>
            {url.live ? '● Live' : 'Live'}
          </button>
          {url.live && (
            <button type="button" class="pause-toggle" aria-pressed={paused} onClick={() => setPaused(!paused)}>
              {paused ? 'Resume' : 'Pause'}
            </button>
          )}
          {url.live && (
            <span class="live-status" title="dropped by the server (client too slow) / discarded by this page (buffer cap)">
              {liveStatus} · dropped <span class="dropped-server">{dropped.server}</span> server, <span class="dropped-ui">{dropped.ui}</span> buffer
            </span>
          )}
          <button type="button" class="theme-toggle" onClick={() => update({ theme: url.theme === 'dark' ? 'light' : 'dark' })} title="switch theme">
            {url.theme === 'dark' ? 'Light' : 'Dark'}
          </button>
          <button type="button" class="token-toggle" onClick={() => setShowToken(!showToken)} aria-expanded={showToken}>
            Token{getToken() ? ' ✓' : ''}
          </button>
        </div>
      </header>
      {showToken && (
        <form class="token-form" onSubmit={(e) => { e.preventDefault(); setToken(tokenDraft.trim()); setShowToken(false); setRunSeq((n) => n + 1); }}>
          <label>
            Bearer token (kept in this browser's localStorage, sent with each API call)
            <input type="password" name="token" autocomplete="off" value={tokenDraft} onInput={(e) => setTokenDraft((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit">Save</button>
        </form>
      )}
      <div class="filters">
        <Pickers query={url.query} start={msToNs(resolved.startMs)} end={msToNs(resolved.endMs)} onChange={runQuery} />
        <TimeRangePicker range={url.range} resolved={resolved} onChange={setRange} />
      </div>
      {hist && (
        <Histogram buckets={hist.buckets} max={hist.max} startMs={hist.startMs} endMs={hist.endMs} stepLabel={hist.step}
          onZoom={(r) => setRange({ kind: 'absolute', startMs: r.startMs, endMs: r.endMs })} />
      )}
      <div class="status" role="status">{status}</div>
      <main class="results">
        <LogList rows={rows} expanded={expanded} streamLabels={streamLabels} onToggle={onToggle} onFilter={onFilter} onContext={(r) => void onContext(r)} />
        {ctx && <ContextPanel ctx={ctx} onClose={() => setCtx(null)} />}
      </main>
    </div>
  );
}
