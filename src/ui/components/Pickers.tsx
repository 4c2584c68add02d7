import { useEffect, useState } from 'preact/hooks';
import { labelValues } from '../api.js';
import { LEVELS } from '../lib/levels.js';
import { formatSelector, levelsOf, setLevelFilter, setSelectorLabel, splitQuery, valuesOf } from '../lib/selector.js';

/** Stream labels the agent sets, in the order people narrow down by. */
export const PICKER_LABELS = ['namespace', 'workload', 'pod', 'container', 'stream'] as const;

interface Props {
  query: string;
  start: string;
  end: string;
  onChange(query: string): void;
}

/**
 * One select per label, each offering the values that exist under the rest of the current
 * selector (the label's own matcher left out, so it can be changed, not only narrowed).
 */
export function Pickers({ query, start, end, onChange }: Props) {
  const split = splitQuery(query);
  const matchers = split?.matchers ?? [];
  const [options, setOptions] = useState<Record<string, string[]>>({});
  const others = (name: string) => {
    const rest = matchers.filter((m) => m.name !== name && !(m.op === '=~' && m.value === '.+'));
    return rest.some((m) => m.op === '=' || (m.op === '=~' && m.value !== '')) ? formatSelector(rest) : undefined;
  };
  const key = PICKER_LABELS.map((n) => others(n) ?? '').join('\n');

  useEffect(() => {
    const ac = new AbortController();
    void Promise.all(PICKER_LABELS.map((n) => labelValues(n, start, end, others(n), ac.signal).catch(() => [] as string[])))
      .then((vals) => setOptions(Object.fromEntries(PICKER_LABELS.map((n, i) => [n, vals[i]!]))))
      .catch(() => undefined);
    return () => ac.abort();
  }, [key, start, end]);

  if (!split && query.trim()) return <div class="pickers muted">Pickers edit log queries; this is a metric query.</div>;
  const levels = levelsOf(query);
  return (
    <div class="pickers">
      {PICKER_LABELS.map((name) => {
        const picked = valuesOf(matchers.find((m) => m.name === name));
        const opts = options[name] ?? [];
        const all = [...new Set([...opts, ...picked])].sort();
        return (
          <label key={name} class="picker">
            <span>{name}</span>
            <select
              name={name}
              value={picked.length === 1 ? picked[0] : ''}
              onChange={(e) => {
                const v = (e.target as HTMLInputElement).value;
                onChange(setSelectorLabel(query, name, v ? [v] : []));
              }}
            >
              <option value="">{picked.length > 1 ? `${picked.length} picked` : 'any'}</option>
              {all.map((v) => <option key={v} value={v}>{v}</option>)}
            </select>
          </label>
        );
      })}
      <label class="picker">
        <span>level</span>
        <select
          name="level"
          value={levels.length === 1 ? levels[0] : ''}
          onChange={(e) => {
            const v = (e.target as HTMLInputElement).value;
            onChange(setLevelFilter(split ? query : setSelectorLabel(query, 'namespace', []), v ? [v] : []));
          }}
        >
          <option value="">{levels.length > 1 ? `${levels.length} picked` : 'any'}</option>
          {LEVELS.filter((l) => l !== 'unknown').map((l) => <option key={l} value={l}>{l}</option>)}
        </select>
      </label>
    </div>
  );
}
