import { useEffect, useMemo, useState } from 'preact/hooks';
import { getToken, setToken } from '../api.js';
import { loadContext } from '../load-context.js';
import type { Row } from '../lib/rows.js';
import { addFilter, splitQuery } from '../lib/selector.js';
import { msToNs, type TimeRange } from '../lib/time.js';
import { ContextPanel, type ContextState } from './ContextPanel.js';
import { Histogram } from './Histogram.js';
import { LogList, type FilterKind } from './LogList.js';
import { Pickers } from './Pickers.js';
import { QueryBar } from './QueryBar.js';
import { TimeRangePicker } from './TimeRangePicker.js';
import { useHistogram } from './use-histogram.js';
import { useLiveTail } from './use-live-tail.js';
import { useQuery } from './use-query.js';
import { useUrlState } from './use-url-state.js';

export function App() {
  const [url, update] = useUrlState((s) => setDraft(s.query));
  // What is typed; it becomes the query (and the URL) when run.
  const [draft, setDraft] = useState(url.query);
  const [runSeq, setRunSeq] = useState(0);
  const results = useQuery(url.query, url.range, url.limit, runSeq);
  const { rows, loading, error, streamLabels, resolved } = results;
  const hist = useHistogram(url.query, url.range, runSeq, url.live);
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(new Set());
  const [ctx, setCtx] = useState<ContextState | null>(null);
  const [showToken, setShowToken] = useState(false);
  const [tokenDraft, setTokenDraft] = useState(getToken);
  const live = useLiveTail({
    enabled: url.live && splitQuery(url.query) !== null && url.query.trim() !== '',
    query: url.query,
    cap: url.limit,
    rows: results.rowsRef,
    setRows: results.setRows,
    nextId: results.nextId,
  });

  // A new run starts a new reading: nothing expanded, no context, no dropped count.
  useEffect(() => {
    setExpanded(new Set());
    setCtx(null);
    live.resetDropped();
  }, [url.query, url.range, url.limit, runSeq]);
  useEffect(() => {
    document.documentElement.dataset.theme = url.theme;
  }, [url.theme]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setCtx(null);
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const runQuery = (query: string) => {
    setDraft(query);
    update({ query });
    setRunSeq((n) => n + 1);
  };
  const onFilter = (key: string, value: string, kind: FilterKind) => runQuery(addFilter(url.query, key, value, kind));
  const onToggle = (row: Row) =>
    setExpanded((s) => {
      const n = new Set(s);
      if (n.has(row.id)) n.delete(row.id);
      else n.add(row.id);
      return n;
    });
  const onContext = (row: Row) => {
    setCtx({ row, selector: '', before: [], after: [], loading: true });
    loadContext(row, url.query, streamLabels, results.nextId)
      .then((c) => setCtx({ row, ...c, loading: false }))
      .catch((err: unknown) => setCtx({ row, selector: '', before: [], after: [], loading: false, error: err instanceof Error ? err.message : String(err) }));
  };
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
          <button type="button" class={`live-toggle${url.live ? ' active' : ''}`} aria-pressed={url.live} onClick={() => { live.setPaused(false); update({ live: !url.live }); }}>
            {url.live ? '● Live' : 'Live'}
          </button>
          {url.live && (
            <button type="button" class="pause-toggle" aria-pressed={live.paused} onClick={() => live.setPaused(!live.paused)}>
              {live.paused ? 'Resume' : 'Pause'}
            </button>
          )}
          {url.live && (
            <span class="live-status" title="dropped by the server (this page too slow) / discarded by this page (buffer cap)">
              {live.status} · dropped <span class="dropped-server">{live.dropped.server}</span> server, <span class="dropped-ui">{live.dropped.ui}</span> buffer
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
        <LogList rows={rows} expanded={expanded} streamLabels={streamLabels} onToggle={onToggle} onFilter={onFilter} onContext={onContext} />
        {ctx && <ContextPanel ctx={ctx} onClose={() => setCtx(null)} />}
      </main>
    </div>
  );
}
