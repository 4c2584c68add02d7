import { useEffect, useRef } from 'preact/hooks';
import type { Row } from '../lib/rows.js';
import { formatTs } from '../lib/time.js';

export interface ContextState {
  row: Row;
  selector: string;
  before: Row[];
  after: Row[];
  loading: boolean;
  error?: string;
}

/** The lines around one line in its own stream: older ones above, newer below. */
export function ContextPanel({ ctx, onClose }: { ctx: ContextState; onClose(): void }) {
  const target = useRef<HTMLDivElement>(null);
  // The line asked about sits mid-panel once its neighbours have arrived.
  useEffect(() => {
    if (!ctx.loading) target.current?.scrollIntoView({ block: 'center' });
  }, [ctx.loading]);
  const line = (r: Row, cls: string) => (
    <div key={`${cls}-${r.id}`} ref={cls === 'target' ? target : undefined} class={`ctx-line lvl-${r.level} ${cls}`}>
      <span class="ts">{formatTs(r.tsNs)}</span>
      <span class="line">{r.line}</span>
    </div>
  );
  return (
    <aside class="context-panel" aria-label="line context">
      <header>
        <strong>Context</strong>
        <code class="selector">{ctx.selector}</code>
        <button type="button" class="close" onClick={onClose} aria-label="close context">×</button>
      </header>
      {ctx.loading && <div class="muted">Loading…</div>}
      {ctx.error && <div class="query-error">{ctx.error}</div>}
      <div class="ctx-lines">
        {!ctx.loading && ctx.before.length === 0 && <div class="muted">no earlier lines in this stream within the window</div>}
        {ctx.before.map((r) => line(r, 'before'))}
        {line(ctx.row, 'target')}
        {ctx.after.map((r) => line(r, 'after'))}
        {!ctx.loading && ctx.after.length === 0 && <div class="muted">no later lines in this stream within the window</div>}
      </div>
    </aside>
  );
}
