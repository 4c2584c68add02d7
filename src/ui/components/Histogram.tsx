import { useRef, useState } from 'preact/hooks';
import { dragToRange, msToX, type Bucket } from '../lib/histogram.js';
import { useSize } from './use-size.js';

interface Props {
  buckets: Bucket[];
  max: number;
  startMs: number;
  endMs: number;
  stepLabel: string;
  onZoom(range: { startMs: number; endMs: number }): void;
}

const HEIGHT = 90;
const AXIS = 16;

const fmt = (ms: number, spanMs: number) => {
  const d = new Date(ms);
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  return spanMs > 86_400_000 ? `${d.getMonth() + 1}/${d.getDate()} ${hm}` : spanMs < 600_000 ? `${hm}:${String(d.getSeconds()).padStart(2, '0')}` : hm;
};

/** Lines per step over the range, stacked by level; drag across it to zoom into a sub-range. */
export function Histogram({ buckets, max, startMs, endMs, stepLabel, onZoom }: Props) {
  const [ref, { width }] = useSize<HTMLDivElement>();
  const [drag, setDrag] = useState<{ x0: number; x1: number } | null>(null);
  const svg = useRef<SVGSVGElement>(null);
  const plotH = HEIGHT - AXIS;
  const span = endMs - startMs;
  const xOf = (e: PointerEvent) => e.clientX - (svg.current?.getBoundingClientRect().left ?? 0);
  const nTicks = Math.max(2, Math.floor(width / 140));
  const ticks: number[] = width > 0 ? Array.from({ length: nTicks }, (_, i) => startMs + (span * i) / (nTicks - 1)) : [];
  const total = buckets.reduce((a, b) => a + b.total, 0);

  return (
    <div class="histogram" ref={ref}>
      <div class="histogram-meta">
        <span>{total.toLocaleString()} lines in range</span>
        <span class="muted">step {stepLabel} · drag to zoom</span>
      </div>
      {width > 0 && (
        <svg
          ref={svg}
          width={width}
          height={HEIGHT}
          class={drag ? 'dragging' : ''}
          onPointerDown={(e) => {
            (e.currentTarget as Element).setPointerCapture(e.pointerId);
            const x = xOf(e);
            setDrag({ x0: x, x1: x });
          }}
          onPointerMove={(e) => drag && setDrag({ ...drag, x1: xOf(e) })}
          onPointerUp={(e) => {
            if (!drag) return;
            const r = dragToRange(drag.x0, xOf(e), width, startMs, endMs);
            setDrag(null);
            if (r) onZoom(r);
          }}
        >
          <g class="bars">
            {buckets.map((b) => {
              const x = Math.max(0, msToX(b.startMs, width, startMs, endMs));
              const w = Math.max(1, msToX(b.endMs, width, startMs, endMs) - x - 1);
              return b.segments.map((s) => {
                const y1 = plotH - (s.y1 / (max || 1)) * plotH;
                const h = Math.max(1, ((s.y1 - s.y0) / (max || 1)) * plotH);
                return (
                  <rect key={`${b.endMs}-${s.level}`} class={`bar lvl-${s.level}`} x={x} y={y1} width={w} height={h}>
                    <title>{`${fmt(b.endMs, span)}  ${s.level}: ${s.count}`}</title>
                  </rect>
                );
              });
            })}
          </g>
          <g class="axis">
            {ticks.map((t, i) => (
              <text key={i} x={msToX(t, width, startMs, endMs)} y={HEIGHT - 3} text-anchor={i === 0 ? 'start' : i === ticks.length - 1 ? 'end' : 'middle'}>
                {fmt(t, span)}
              </text>
            ))}
          </g>
          {drag && <rect class="selection" x={Math.min(drag.x0, drag.x1)} y={0} width={Math.abs(drag.x1 - drag.x0)} height={plotH} />}
        </svg>
      )}
    </div>
  );
}
