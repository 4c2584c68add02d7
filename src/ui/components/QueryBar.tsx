import { useEffect, useRef } from 'preact/hooks';

export interface QueryError {
  message: string;
  /** 1-based column on the query's first line, when the server gave a position. */
  column?: number;
  offset?: number;
}

interface Props {
  draft: string;
  onDraft(text: string): void;
  onRun(): void;
  error: QueryError | null;
  loading: boolean;
}

/** The LogQL input. `/` anywhere focuses it; Enter runs; a syntax error marks its column. */
export function QueryBar({ draft, onDraft, onRun, error, loading }: Props) {
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
      e.preventDefault();
      input.current?.focus();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // Put the cursor on the error, so the input scrolls there even for a long query.
  useEffect(() => {
    if (error?.offset !== undefined && input.current) {
      input.current.focus();
      input.current.setSelectionRange(error.offset, Math.min(draft.length, error.offset + 1));
    }
  }, [error]);

  const col = error?.column;
  return (
    <form class="querybar" onSubmit={(e) => { e.preventDefault(); onRun(); }}>
      <div class={`query-wrap${error ? ' has-error' : ''}`}>
        <input
          ref={input}
          class="query-input"
          name="query"
          spellcheck={false}
          autocomplete="off"
          placeholder='{namespace="default"} |= "error"   — press / to focus, Enter to run'
          value={draft}
          onInput={(e) => onDraft((e.target as HTMLInputElement).value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'query-error' : undefined}
        />
        {col !== undefined && <span class="error-mark" data-column={col} style={{ left: `calc(${col - 1}ch + var(--input-pad))` }} aria-hidden="true" />}
      </div>
      <button type="submit" class="primary" disabled={loading}>{loading ? 'Running…' : 'Run'}</button>
      {error && (
        <div id="query-error" class="query-error" role="alert">
          {col !== undefined ? (
            <pre>{`${error.message}\n${draft}\n${' '.repeat(Math.max(0, col - 1))}^`}</pre>
          ) : (
            <pre>{error.message}</pre>
          )}
        </div>
      )}
    </form>
  );
}
