import type { LabelMatcher, Labels } from '../store/engine.js';

/**
 * Compile stream matchers into one predicate over a label set, with Prometheus semantics:
 * regexes match the whole value, and a missing label reads as "".
 */
export function compileMatchers(matchers: LabelMatcher[]): (labels: Labels) => boolean {
  const tests = matchers.map((m) => {
    if (m.op === '=') return (l: Labels) => (l[m.name] ?? '') === m.value;
    if (m.op === '!=') return (l: Labels) => (l[m.name] ?? '') !== m.value;
    const re = new RegExp(`^(?:${m.value})$`, 'u');
    return m.op === '=~' ? (l: Labels) => re.test(l[m.name] ?? '') : (l: Labels) => !re.test(l[m.name] ?? '');
  });
  return (labels) => tests.every((t) => t(labels));
}
