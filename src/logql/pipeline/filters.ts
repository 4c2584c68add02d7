/**
 * Line filters (`|= != |~ !~ |> !>`) and label filters (`| level="error"`, `| status >= 500`,
 * `| latency > 250ms`, `| size > 1KB`, `and`/`or`), compiled to closures.
 */
import type { LabelMatcher } from '../../store/engine.js';
import type { CompareOp, LabelFilterExpr, LineFilterStage } from '../ast.js';
import { ERROR_LABEL, LabelsBuilder } from '../labels.js';
import { compileRegex } from '../regex.js';
import { parseBytes, parseGoDuration, parseGoFloat } from '../units.js';
import { compilePattern } from './pattern.js';

export const LABEL_FILTER_ERR = 'LabelFilterErr';

export type LineTest = (line: string) => boolean;

/** One line filter stage. With several `or` values: any of them (`|=`, `|~`, `|>`), none of them (negations). */
export function compileLineFilter(f: LineFilterStage): LineTest {
  const tests = f.values.map((v) => positiveTest(f.op, v));
  const negate = f.op === '!=' || f.op === '!~' || f.op === '!>';
  if (tests.length === 1) {
    const t = tests[0]!;
    return negate ? (l) => !t(l) : t;
  }
  return negate ? (l) => !tests.some((t) => t(l)) : (l) => tests.some((t) => t(l));
}

function positiveTest(op: LineFilterStage['op'], v: string): LineTest {
  switch (op) {
    case '|=':
    case '!=':
      return v === '' ? () => true : (l) => l.includes(v);
    case '|~':
    case '!~': {
      const re = compileRegex(v, false);
      return (l) => re.test(l);
    }
    default: {
      const p = compilePattern(v, false);
      return (l) => p.test(l);
    }
  }
}

export type LabelTest = (b: LabelsBuilder) => boolean;

/** A stream-selector style matcher against a label value ("" when absent). */
export function compileMatcher(m: LabelMatcher): (value: string) => boolean {
  const v = m.value;
  switch (m.op) {
    case '=':
      return (x) => x === v;
    case '!=':
      return (x) => x !== v;
    case '=~': {
      const re = compileRegex(v, true);
      return (x) => re.test(x);
    }
    case '!~': {
      const re = compileRegex(v, true);
      return (x) => !re.test(x);
    }
  }
}

export function compileLabelFilter(f: LabelFilterExpr): LabelTest {
  switch (f.kind) {
    case 'and': {
      const l = compileLabelFilter(f.left);
      const r = compileLabelFilter(f.right);
      return (b) => l(b) && r(b);
    }
    case 'or': {
      const l = compileLabelFilter(f.left);
      const r = compileLabelFilter(f.right);
      return (b) => l(b) || r(b);
    }
    case 'string': {
      const name = f.matcher.name;
      const m = compileMatcher(f.matcher);
      if (name === ERROR_LABEL) return (b) => m(b.err);
      return (b) => m(b.value(name));
    }
    case 'number':
      return conversionFilter(f.name, f.op, f.value, parseGoFloat);
    case 'duration':
      return conversionFilter(f.name, f.op, f.value, parseGoDuration);
    case 'bytes':
      return conversionFilter(f.name, f.op, f.value, parseBytes);
  }
}

/**
 * Loki's numeric/duration/bytes filters: a missing label drops the line; a value that does not
 * convert keeps it and sets `__error__="LabelFilterErr"` (unless an error is already set).
 */
function conversionFilter(name: string, op: CompareOp, want: number, convert: (s: string) => number): LabelTest {
  const cmp = comparator(op);
  return (b) => {
    const v = b.get(name);
    if (v === undefined) return false;
    let x: number;
    try {
      x = convert(v);
    } catch (e) {
      if (b.err === '') b.setErr(LABEL_FILTER_ERR, (e as Error).message);
      return true;
    }
    return cmp(x, want);
  };
}

export function comparator(op: CompareOp): (a: number, b: number) => boolean {
  switch (op) {
    case '==':
      return (a, b) => a === b;
    case '!=':
      return (a, b) => a !== b;
    case '>':
      return (a, b) => a > b;
    case '>=':
      return (a, b) => a >= b;
    case '<':
      return (a, b) => a < b;
    case '<=':
      return (a, b) => a <= b;
  }
}

/** The label names a filter reads. */
export function labelFilterNames(f: LabelFilterExpr): string[] {
  switch (f.kind) {
    case 'and':
    case 'or':
      return [...labelFilterNames(f.left), ...labelFilterNames(f.right)];
    case 'string':
      return [f.matcher.name];
    default:
      return [f.name];
  }
}
