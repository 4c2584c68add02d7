/**
 * Loki's pattern language: literals and captures, `<ip> - <_> [<ts>] "<method> <path> <_>"`.
 * A capture takes everything up to the next literal's first occurrence; a trailing capture takes
 * the rest of the line. `<_>` matches without extracting. Used by `| pattern` (extraction) and
 * the `|>`/`!>` line filters (a whole-line test).
 */

type Node = { lit: string } | { cap: string };

export class PatternMatcher {
  /** Names of the named captures, in order. */
  readonly names: string[];
  private readonly nodes: Node[];
  private readonly caps: string[] = [];

  constructor(nodes: Node[]) {
    this.nodes = nodes;
    this.names = nodes.flatMap((n) => ('cap' in n && n.cap !== '_' ? [n.cap] : []));
  }

  /** The captured values (aligned with the first `length` names), or null when the line does not start with the leading literal. Reuses its result array. */
  matches(line: string): string[] | null {
    const caps = this.caps;
    caps.length = 0;
    if (line === '' || this.nodes.length === 0) return null;
    let k = 0;
    let pos = 0;
    const first = this.nodes[0]!;
    if ('lit' in first) {
      if (!line.startsWith(first.lit)) return null;
      pos = first.lit.length;
      k = 1;
    }
    if (k >= this.nodes.length) return null;
    while (k < this.nodes.length) {
      const cap = (this.nodes[k] as { cap: string }).cap;
      if (k === this.nodes.length - 1) {
        if (cap !== '_') caps.push(line.slice(pos));
        return caps;
      }
      const lit = (this.nodes[k + 1] as { lit: string }).lit;
      k += 2;
      const i = line.indexOf(lit, pos);
      if (i < 0) {
        if (cap !== '_') caps.push(line.slice(pos));
        return caps;
      }
      if (cap !== '_') caps.push(line.slice(pos, i));
      pos = i + lit.length;
    }
    return caps;
  }

  /** Whole-line test (`|>`): every literal found in order, no empty captures, nothing left over after a final literal. */
  test(line: string): boolean {
    const nodes = this.nodes;
    if (line === '' || nodes.length === 0) return line === '' && nodes.length === 0;
    let off = 0;
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i]!;
      if (!('lit' in n)) continue;
      const j = line.indexOf(n.lit, off);
      if (j < 0) return false;
      if (i !== 0 && j === off) return false;
      if (i === 0 && j !== 0) return false;
      off = j + n.lit.length;
    }
    const endsOnCapture = 'cap' in nodes[nodes.length - 1]!;
    return endsOnCapture === (off !== line.length);
  }
}

const CAPTURE = /<([A-Za-z_][A-Za-z0-9_]*)>/g;

/**
 * Compiles a pattern. `extraction`: at least one named capture, unique names (for `| pattern`);
 * otherwise only `<_>` is allowed (for `|>`). Consecutive captures are never allowed.
 */
export function compilePattern(pattern: string, extraction: boolean): PatternMatcher {
  const nodes: Node[] = [];
  let last = 0;
  CAPTURE.lastIndex = 0;
  for (let m = CAPTURE.exec(pattern); m; m = CAPTURE.exec(pattern)) {
    if (m.index > last) nodes.push({ lit: pattern.slice(last, m.index) });
    nodes.push({ cap: m[1]! });
    last = m.index + m[0].length;
  }
  if (last < pattern.length) nodes.push({ lit: pattern.slice(last) });
  for (let i = 0; i + 1 < nodes.length; i++) {
    const a = nodes[i]!;
    const b = nodes[i + 1]!;
    if ('cap' in a && 'cap' in b) throw new Error(`found consecutive capture '<${a.cap}><${b.cap}>': invalid expression`);
  }
  const m = new PatternMatcher(nodes);
  if (extraction) {
    if (m.names.length === 0) throw new Error('at least one capture is required');
    const seen = new Set<string>();
    for (const n of m.names) {
      if (seen.has(n)) throw new Error(`duplicate capture name (${n}): invalid expression`);
      seen.add(n);
    }
  } else if (m.names.length > 0) {
    throw new Error(`named captures are not allowed: found '<${m.names[0]}>'`);
  }
  return m;
}
