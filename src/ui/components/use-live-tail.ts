import { useEffect, useRef, useState } from 'preact/hooks';
import { flattenStreams, prependCapped, type Row } from '../lib/rows.js';
import { msToNs } from '../lib/time.js';
import { openTail } from '../tail.js';

export interface LiveTail {
  status: string;
  paused: boolean;
  setPaused(p: boolean): void;
  /** Lines the server dropped for this client, and lines this page discarded to stay within its cap. */
  dropped: { server: number; ui: number };
  resetDropped(): void;
}

interface Options {
  enabled: boolean;
  query: string;
  /** Most rows kept: older ones fall off the bottom and are counted. */
  cap: number;
  rows: { current: Row[] };
  setRows(rows: Row[]): void;
  nextId: { current: number };
}

/** Live tail into the result rows: newest on top, capped, pausable. */
export function useLiveTail({ enabled, query, cap, rows, setRows, nextId }: Options): LiveTail {
  const [status, setStatus] = useState('');
  const [paused, setPaused] = useState(false);
  const [dropped, setDropped] = useState({ server: 0, ui: 0 });
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  const held = useRef<Row[]>([]);
  const flush = useRef<(() => void) | null>(null);

  useEffect(() => {
    if (!enabled) {
      setStatus('');
      return;
    }
    const take = (incoming: Row[]) => {
      const r = prependCapped(rows.current, incoming, cap);
      rows.current = r.rows;
      setRows(r.rows);
      if (r.discarded) setDropped((d) => ({ ...d, ui: d.ui + r.discarded }));
    };
    const stop = openTail(query, msToNs(Date.now()), 100, {
      onFrame(f) {
        const incoming = flattenStreams(f.streams ?? [], 'backward', nextId.current);
        for (const row of incoming) row.live = true;
        nextId.current += incoming.length;
        const serverDropped = f.dropped_entries?.length ?? 0;
        if (serverDropped) setDropped((d) => ({ ...d, server: d.server + serverDropped }));
        if (!pausedRef.current) {
          if (incoming.length) take(incoming);
          return;
        }
        // While paused, hold at most a buffer's worth; older held lines are dropped.
        held.current = incoming.concat(held.current);
        const over = held.current.length - cap;
        if (over > 0) {
          held.current.length = cap;
          setDropped((d) => ({ ...d, ui: d.ui + over }));
        }
      },
      onStatus(s, reason) {
        setStatus(s === 'open' ? 'live' : s === 'connecting' ? 'connecting…' : `closed: ${reason ?? ''}`);
      },
    });
    flush.current = () => {
      if (held.current.length) take(held.current);
      held.current = [];
    };
    return () => {
      stop();
      held.current = [];
      flush.current = null;
    };
  }, [enabled, query, cap]);

  useEffect(() => {
    if (!paused) flush.current?.();
  }, [paused]);

  return { status, paused, setPaused, dropped, resetDropped: () => setDropped({ server: 0, ui: 0 }) };
}
