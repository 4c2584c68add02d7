import type { LogEvent } from '../core/event.js';
import { EventFlags } from '../core/event.js';
import { makeEvent } from './record.js';
import type { StreamState } from './stream-state.js';
import type { FramerStats, MultilineOptions } from './types.js';

/** Next-state name that closes the group right after adding the line. */
export const END = '$end';

/** One rule: a line matching `re` (or not matching, with `negate`) moves to state `next`. */
export interface Rule {
  re: RegExp;
  next: string;
  negate?: boolean;
}

/**
 * A small state machine (the same model as fluent-bit's multiline parsers):
 * - no group open: the first `start` rule that matches opens a group in its `next`
 *   state; a line matching none is emitted on its own at once;
 * - group open in state S: the first rule of `states[S]` that matches appends the line
 *   and moves to its `next` (END: emit the group now); no match emits the group and
 *   the line is looked at again as if no group were open.
 */
export interface RuleTable {
  start: Rule[];
  states: Record<string, Rule[]>;
}

const ANY = /(?:)/;

function cont(next: string, ...res: RegExp[]): Rule[] {
  return res.map((re) => ({ re, next }));
}

const PY_TRACEBACK = /^Traceback \(most recent call last\):\s*$/;

/** Built-in presets, as data. */
export const PRESETS: Readonly<Record<'java' | 'python' | 'go', RuleTable>> = {
  // Any line may head a trace (the logger's "Request failed" line); the exception class
  // line (`java.lang.IllegalStateException: msg`), stack frames, "... N more",
  // "Caused by:" and "Suppressed:" continue it.
  java: {
    start: [{ re: ANY, next: 'trace' }],
    states: {
      trace: cont('trace',
        /^\s+at /,
        /^\s+\.\.\. \d+ (more|common frames omitted)/,
        /^\s*Caused by: /,
        /^\s+Suppressed: /,
        /^(?:[\w$]+\.)+[\w$]*(?:Exception|Error|Throwable)(?::\s.*)?$/),
    },
  },
  // `Traceback (most recent call last):` (alone, or right after the logger's line that
  // announces it), indented frames, then the first non-indented line (`ValueError: msg`),
  // which ends the group.
  python: {
    start: [{ re: PY_TRACEBACK, next: 'header' }, { re: ANY, next: 'line' }],
    states: {
      line: cont('header', PY_TRACEBACK),
      header: cont('body', /^\s/),
      body: [...cont('body', /^\s/), { re: /^\S/, next: END }],
    },
  },
  // A panic / fatal error or goroutine dump and everything Go's runtime prints after it.
  go: {
    start: cont('trace', /^panic: /, /^fatal error: /, /^goroutine \d+ .*\]:\s*$/),
    states: {
      trace: cont('trace',
        /^\s*$/, // blank separators
        /^goroutine \d+ /,
        /^\s/, // tab-indented file:line and register dumps
        /^[^\s(][^\s]*\(.*\)( \.\.\.)?$/, // function lines: main.main(), pkg.(*T).M(0x1, …)
        /^created by /,
        /^\[signal /,
        /^\.\.\.additional frames elided\.\.\.$/,
        /^exit status \d+/),
    },
  },
};

/** Rule table for options: custom `start`/`continuation` regexes win over `preset`. Throws on a bad regex (config error). */
export function buildRuleTable(o: MultilineOptions): RuleTable {
  const start = o.start !== undefined && o.start !== '' ? new RegExp(o.start) : null;
  const continuation = o.continuation !== undefined && o.continuation !== '' ? new RegExp(o.continuation) : null;
  if (start !== null && continuation !== null) {
    // A line matching neither is emitted on its own.
    return { start: [{ re: start, next: 'c' }], states: { c: [{ re: continuation, next: 'c' }] } };
  }
  if (continuation !== null) {
    return { start: [{ re: ANY, next: 'c' }], states: { c: [{ re: continuation, next: 'c' }] } };
  }
  if (start !== null) {
    return { start: [{ re: ANY, next: 'c' }], states: { c: [{ re: start, next: 'c', negate: true }] } };
  }
  if (o.preset !== undefined) return PRESETS[o.preset];
  throw new Error('multiline: one of preset, start or continuation is required');
}

/**
 * Merge consecutive rules that lead to the same state into one alternation: one regex
 * test per line instead of one per rule (the tables stay readable, the hot path short).
 */
export function compileRules(rules: Rule[]): Rule[] {
  const out: Rule[] = [];
  for (const r of rules) {
    const prev = out[out.length - 1];
    if (prev !== undefined && prev.next === r.next && prev.negate !== true && r.negate !== true && prev.re.flags === r.re.flags) {
      out[out.length - 1] = { re: new RegExp(`(?:${prev.re.source})|(?:${r.re.source})`, r.re.flags), next: r.next };
    } else {
      out.push(r);
    }
  }
  return out;
}

function compileTable(t: RuleTable): RuleTable {
  const states: Record<string, Rule[]> = {};
  for (const [k, v] of Object.entries(t.states)) states[k] = compileRules(v);
  return { start: compileRules(t.start), states };
}

function match(rules: Rule[] | undefined, line: string): string | null {
  if (rules === undefined) return null;
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    if (r.re.test(line) !== (r.negate === true)) return r.next;
  }
  return null;
}

/**
 * The multiline stage, applied per stream to logical lines (after P/F reassembly).
 * A group's event: first line's ts, lines joined with "\n", flags OR-ed (plus Multiline
 * for two or more lines), offset of its last line. A group is also emitted before it
 * would exceed `capBytes` (maxLineBytes), so no event is larger than a line may be.
 */
export class Multiline {
  private readonly table: RuleTable;
  readonly flushMs: number;
  private readonly maxLines: number;

  constructor(o: MultilineOptions, private readonly capBytes: number, private readonly stats: FramerStats) {
    this.table = compileTable(buildRuleTable(o));
    this.flushMs = Number.isFinite(o.flushMs) && o.flushMs >= 0 ? o.flushMs : 1000;
    this.maxLines = o.maxLines !== undefined && o.maxLines > 0 ? o.maxLines : 500;
  }

  add(st: StreamState, ts: string, line: string, flags: number, start: number, end: number, now: number, out: LogEvent[]): void {
    const group = st.group;
    if (group !== null) {
      const next = match(this.table.states[st.groupState], line);
      if (next !== null) {
        const bytes = st.groupBytes + 1 + Buffer.byteLength(line, 'utf8');
        if (bytes <= this.capBytes) {
          group.push(line);
          st.groupBytes = bytes;
          st.groupFlags |= flags;
          st.groupEnd = end;
          st.groupAt = now;
          st.groupState = next;
          if (next === END || group.length >= this.maxLines) this.emit(st, out);
          return;
        }
      }
      this.emit(st, out);
    }
    const next = match(this.table.start, line);
    if (next === null || next === END || this.maxLines <= 1) {
      out.push(makeEvent(ts, st.stream, line, flags, end));
      this.stats.events++;
      return;
    }
    st.group = [line];
    st.groupTs = ts;
    st.groupFlags = flags;
    st.groupStart = start;
    st.groupEnd = end;
    st.groupBytes = Buffer.byteLength(line, 'utf8');
    st.groupAt = now;
    st.groupState = next;
  }

  /** Emit the open group of `st`, if any. */
  emit(st: StreamState, out: LogEvent[]): void {
    const group = st.group;
    if (group === null) return;
    st.group = null;
    let flags = st.groupFlags;
    let line: string;
    if (group.length === 1) {
      line = group[0];
    } else {
      line = group.join('\n');
      flags |= EventFlags.Multiline;
      this.stats.multilineGroups++;
    }
    out.push(makeEvent(st.groupTs, st.stream, line, flags, st.groupEnd));
    this.stats.events++;
  }

  /** When the open group of `st` is due, or null. */
  due(st: StreamState): number | null {
    return st.group === null ? null : st.groupAt + this.flushMs;
  }
}
