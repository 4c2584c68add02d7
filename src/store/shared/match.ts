import type { LabelMatcher, Labels, LineFilter } from '../engine.js';
import { labelValue } from './labels.js';
import { compileRegex } from './regex.js';

/** Matchers and line filters as JS predicates (the in-memory engine's evaluator). */

export type LabelsPredicate = (labels: Labels) => boolean;
export type LinePredicate = (line: string) => boolean;

export function labelsPredicate(matchers: readonly LabelMatcher[]): LabelsPredicate {
  const tests = matchers.map((m): LabelsPredicate => {
    switch (m.op) {
      case '=':
        return (l) => labelValue(l, m.name) === m.value;
      case '!=':
        return (l) => labelValue(l, m.name) !== m.value;
      case '=~': {
        const re = compileRegex(m.value, true);
        return (l) => re.test(labelValue(l, m.name));
      }
      case '!~': {
        const re = compileRegex(m.value, true);
        return (l) => !re.test(labelValue(l, m.name));
      }
    }
  });
  return (l) => tests.every((t) => t(l));
}

export function linePredicate(filters: readonly LineFilter[]): LinePredicate {
  const tests = filters.map((f): LinePredicate => {
    switch (f.op) {
      case '|=':
        return (s) => s.includes(f.value);
      case '!=':
        return (s) => !s.includes(f.value);
      case '|~': {
        const re = compileRegex(f.value, false);
        return (s) => re.test(s);
      }
      case '!~': {
        const re = compileRegex(f.value, false);
        return (s) => !re.test(s);
      }
    }
  });
  return (s) => tests.every((t) => t(s));
}
