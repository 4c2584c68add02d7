import { tailUrl } from './api.js';
import type { StreamResult } from './lib/rows.js';

export interface TailFrame {
  streams: StreamResult[] | null;
  dropped_entries: Array<{ labels: Record<string, string>; timestamp: string }> | null;
}

export interface TailHandlers {
  onFrame(frame: TailFrame): void;
  onStatus(status: 'connecting' | 'open' | 'closed', reason?: string): void;
}

/**
 * A live tail that reconnects after drops (servers restart, proxies time out idle sockets),
 * resuming from the last line it saw so the gap is filled from history.
 */
export function openTail(query: string, startNs: string, limit: number, h: TailHandlers): () => void {
  let ws: WebSocket | null = null;
  let stopped = false;
  let lastNs = startNs;
  let retry: ReturnType<typeof setTimeout> | null = null;

  const connect = () => {
    h.onStatus('connecting');
    ws = new WebSocket(tailUrl(query, lastNs, limit));
    ws.onopen = () => h.onStatus('open');
    ws.onmessage = (ev) => {
      const frame = JSON.parse(String(ev.data)) as TailFrame;
      for (const s of frame.streams ?? []) {
        for (const v of s.values) if (v[0].length > lastNs.length || (v[0].length === lastNs.length && v[0] > lastNs)) lastNs = v[0];
      }
      h.onFrame(frame);
    };
    ws.onclose = (ev) => {
      ws = null;
      if (stopped) return;
      // 4400: the server refused the query or token; retrying would not change its mind.
      if (ev.code === 4400) {
        h.onStatus('closed', ev.reason || 'refused');
        return;
      }
      h.onStatus('closed', ev.reason || 'connection lost, reconnecting');
      lastNs = (BigInt(lastNs) + 1n).toString();
      retry = setTimeout(connect, 2000);
    };
  };
  connect();
  return () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    ws?.close();
  };
}
