/**
 * Kubernetes label selectors, in the syntax kubectl takes (`-l`): `app=web`, `tier!=db`,
 * `env in (prod,staging)`, `env notin (dev)`, `canary` (key exists), `!canary`, joined by
 * commas, all of which must hold. Written here because it is a few dozen lines and the
 * Kubernetes client ships no parser for it.
 */
export type LabelSelector = (labels: Readonly<Record<string, string>>) => boolean;

export type Requirement =
  | { key: string; op: 'in' | 'notin'; values: Set<string> }
  | { key: string; op: 'exists' | '!exists' };

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const VALUE = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?)?$/;

export class SelectorError extends Error {}

/** The requirements of a selector, all of which must hold (for callers that translate them). */
export function parseSelectorRequirements(text: string): Requirement[] {
  return splitTerms(text).map(parseTerm);
}

export function parseLabelSelector(text: string): LabelSelector {
  const reqs = parseSelectorRequirements(text);
  return (labels) => reqs.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    switch (r.op) {
      case 'exists': return has;
      case '!exists': return !has;
      case 'in': return has && r.values.has(labels[r.key]!);
      case 'notin': return !has || !r.values.has(labels[r.key]!);
    }
  });
}

/** Commas separate terms, except inside `( )`. */
function splitTerms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0) throw new SelectorError(`unbalanced ")" in selector "${text}"`);
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (depth !== 0) throw new SelectorError(`unbalanced "(" in selector "${text}"`);
  out.push(cur.trim());
  if (out.some((t) => t === '')) throw new SelectorError(`empty term in selector "${text}"`);
  return out;
}

function parseTerm(term: string): Requirement {
  let m = /^(\S+?)\s*(==|!=|=)\s*(\S*)$/.exec(term);
  if (m) {
    const [, key, op, value] = m as unknown as [string, string, string, string];
    checkKey(key, term);
    checkValue(value, term);
    return { key, op: op === '!=' ? 'notin' : 'in', values: new Set([value]) };
  }
  m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
  if (m) {
    const [, key, op, list] = m as unknown as [string, string, 'in' | 'notin', string];
    checkKey(key, term);
    const values = list.split(',').map((v) => v.trim());
    for (const v of values) checkValue(v, term);
    return { key, op, values: new Set(values) };
  }
  if (term.startsWith('!')) {
    const key = term.slice(1).trim();
    checkKey(key, term);
    return { key, op: '!exists' };
  }
  checkKey(term, term);
  return { key: term, op: 'exists' };
}

function checkKey(key: string, term: string): void {
  if (!KEY.test(key) || key.length > 316) throw new SelectorError(`invalid label key "${key}" in "${term}"`);
}

function checkValue(value: string, term: string): void {
  if (!VALUE.test(value) || value.length > 63) throw new SelectorError(`invalid label value "${value}" in "${term}"`);
}
