import { useEffect, useState } from 'preact/hooks';
import { fromLocalInput, PRESETS, toLocalInput, type Preset, type TimeRange } from '../lib/time.js';

interface Props {
  range: TimeRange;
  resolved: { startMs: number; endMs: number };
  onChange(range: TimeRange): void;
}

/** Presets that follow "now", or absolute bounds (also what a histogram drag sets). */
export function TimeRangePicker({ range, resolved, onChange }: Props) {
  const [from, setFrom] = useState(toLocalInput(resolved.startMs));
  const [to, setTo] = useState(toLocalInput(resolved.endMs));
  useEffect(() => {
    setFrom(toLocalInput(resolved.startMs));
    setTo(toLocalInput(resolved.endMs));
  }, [resolved.startMs, resolved.endMs]);
  const absolute = range.kind === 'absolute';
  const apply = () => {
    const a = fromLocalInput(from);
    const b = fromLocalInput(to);
    if (a !== null && b !== null && a < b) onChange({ kind: 'absolute', startMs: a, endMs: b });
  };
  return (
    <div class="timerange">
      <div class="presets" role="group" aria-label="time range">
        {PRESETS.map((p: Preset) => (
          <button
            key={p}
            type="button"
            class={range.kind === 'relative' && range.preset === p ? 'active' : ''}
            aria-pressed={range.kind === 'relative' && range.preset === p}
            onClick={() => onChange({ kind: 'relative', preset: p })}
          >
            {p}
          </button>
        ))}
      </div>
      <form class={`absolute${absolute ? ' active' : ''}`} onSubmit={(e) => { e.preventDefault(); apply(); }}>
        <input type="datetime-local" name="from" aria-label="from" value={from} onInput={(e) => setFrom((e.target as HTMLInputElement).value)} />
        <span>→</span>
        <input type="datetime-local" name="to" aria-label="to" value={to} onInput={(e) => setTo((e.target as HTMLInputElement).value)} />
        <button type="submit">Apply</button>
      </form>
    </div>
  );
}
