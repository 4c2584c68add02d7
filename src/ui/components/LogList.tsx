import { useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { parseLine, type ParsedLine } from '../lib/fields.js';
import type { Row } from '../lib/rows.js';
import { formatTs } from '../lib/time.js';
import { visibleWindow } from '../lib/virtual.js';
import { useSize } from './use-size.js';

export type FilterKind = 'stream' | 'metadata' | 'json' | 'logfmt';

export const ROW_HEIGHT = 22;
const ITEM = 20;
const MAX_DETAIL = 420;
/** A row shows one line's start; a 256 KiB line would cost layout for text nobody sees. */
const MAX_ROW_CHARS = 2000;

/**
 * Details have a height known before rendering (one fixed-height line per label and field,
 * the full line in a box of at most six lines), so the list can place rows without
 * measuring them; a long detail scrolls inside its box.
 */
export function detailHeight(row: Row, parsed: ParsedLine | null, streamLabels: ReadonlySet<string>): number {
  const keys = Object.keys(row.labels);
  const items = keys.length + (parsed?.fields.length ?? 0);
  const sections = labelSections(keys, streamLabels).filter((x) => x.keys.length > 0).length + (parsed ? 1 : 0);
  const lineBox = Math.min(6, Math.ceil(row.line.length / 120)) * 16 + 12;
  return Math.min(MAX_DETAIL, 36 + lineBox + sections * ITEM + items * ITEM + 8);
}

/** Stream labels first, then what is not one: structured metadata, or labels the query's parsers added. */
function labelSections(keys: string[], streamLabels: ReadonlySet<string>): Array<{ title: string; kind: FilterKind; keys: string[] }> {
  const sorted = [...keys].sort();
  return [
    { title: 'Stream labels', kind: 'stream', keys: sorted.filter((k) => streamLabels.has(k)) },
    { title: 'Metadata and parsed labels', kind: 'metadata', keys: sorted.filter((k) => !streamLabels.has(k)) },
  ];
}

const parsedCache = new WeakMap<Row, ParsedLine | null>();
export function parsedOf(row: Row): ParsedLine | null {
  let p = parsedCache.get(row);
  if (p === undefined) parsedCache.set(row, (p = parseLine(row.line)));
  return p;
}

interface Props {
  rows: Row[];
  expanded: ReadonlySet<number>;
  streamLabels: ReadonlySet<string>;
  onToggle(row: Row): void;
  onFilter(key: string, value: string, kind: FilterKind): void;
  onContext(row: Row): void;
}

/** Only rows in view are in the DOM: a spacer as tall as the whole list keeps the scrollbar true. */
export function LogList({ rows, expanded, streamLabels, onToggle, onFilter, onContext }: Props) {
  const [ref, { height }] = useSize<HTMLDivElement>();
  const [scrollTop, setScrollTop] = useState(0);
  const extras = useMemo(() => {
    const m = new Map<number, number>();
    if (expanded.size === 0) return m;
    rows.forEach((r, i) => {
      if (expanded.has(r.id)) m.set(i, detailHeight(r, parsedOf(r), streamLabels));
    });
    return m;
  }, [rows, expanded, streamLabels]);
  // Live lines arrive on top. A reader scrolled down into the list keeps seeing the same
  // lines: the scroll position moves down by what was inserted above them.
  const prevFirst = useRef<number | null>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    const before = prevFirst.current;
    prevFirst.current = rows.length ? rows[0]!.id : null;
    if (!el || before === null || el.scrollTop === 0 || rows[0]?.id === before) return;
    const inserted = rows.findIndex((r) => r.id === before);
    // Not found: a new result set, read from its top.
    el.scrollTop = inserted > 0 ? el.scrollTop + inserted * ROW_HEIGHT : 0;
    setScrollTop(el.scrollTop);
  }, [rows]);
  const win = visibleWindow({ rowHeight: ROW_HEIGHT, count: rows.length, expanded: extras }, scrollTop, height || 600);
  const visible = rows.slice(win.first, win.last);

  return (
    <div class="loglist" ref={ref} onScroll={(e) => setScrollTop((e.currentTarget as HTMLElement).scrollTop)} data-rows={rows.length}>
      <div class="spacer" style={{ height: `${win.totalHeight}px` }}>
        <div class="window" style={{ transform: `translateY(${win.offset}px)` }}>
          {visible.map((r, k) => {
            const open = expanded.has(r.id);
            return (
              <div key={r.id} class={`entry lvl-${r.level}${open ? ' open' : ''}`} data-index={win.first + k}>
                <div class="row" style={{ height: `${ROW_HEIGHT}px` }} onClick={() => onToggle(r)} title="click to expand">
                  <span class="ts">{formatTs(r.tsNs)}</span>
                  <span class="lvl">{r.level === 'unknown' ? '' : r.level}</span>
                  <span class="line">{r.line.length > MAX_ROW_CHARS ? `${r.line.slice(0, MAX_ROW_CHARS)}…` : r.line}</span>
                </div>
                {open && <Details row={r} height={extras.get(win.first + k) ?? 0} streamLabels={streamLabels} onFilter={onFilter} onContext={onContext} />}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

function Details({ row, height, streamLabels, onFilter, onContext }: { row: Row; height: number; streamLabels: ReadonlySet<string>; onFilter: Props['onFilter']; onContext(row: Row): void }) {
  const parsed = parsedOf(row);
  const item = (key: string, value: string, kind: FilterKind) => (
    <div class="kv" key={`${kind}:${key}`}>
      <span class="k">{key}</span>
      <button type="button" class={`v filter-${kind}`} data-key={key} title={`add ${key}="${value}" to the query`} onClick={() => onFilter(key, value, kind)}>
        {value}
      </button>
    </div>
  );
  return (
    <div class="details" style={{ height: `${height}px` }}>
      <div class="actions">
        <button type="button" class="context-btn" onClick={() => onContext(row)}>Show context</button>
        <span class="muted">{row.tsNs} ns</span>
      </div>
      <pre class="full-line">{row.line}</pre>
      {labelSections(Object.keys(row.labels), streamLabels).filter((x) => x.keys.length > 0).map((x) => [
        <div class="section" key={x.title}>{x.title}</div>,
        ...x.keys.map((k) => item(k, row.labels[k]!, x.kind)),
      ])}
      {parsed && <div class="section">Fields <span class="muted">({parsed.format})</span></div>}
      {parsed?.fields.map((f) => item(f.key, f.value, parsed.format))}
    </div>
  );
}
