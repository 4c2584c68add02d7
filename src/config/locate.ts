import { isAlias, isMap, isScalar, isSeq, visit, type Document, type LineCounter, type Node } from 'yaml';

export type ConfigPath = readonly PropertyKey[];

/** A problem pinned to a place in the user's file; `path` is already in display form. */
export interface Located {
  line: number;
  column: number;
  path: string;
  text: string;
}

/** `sinks.out.inputs[0]`; keys that would read ambiguously with dots are quoted: `sources["app.log"]`. */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_][\w-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/**
 * Where `path` is written in the document. `at: 'key'` points at the mapping key itself (for unknown keys),
 * `at: 'value'` at the value. When the path does not exist (a missing key), we point at the deepest part
 * that does — the parent's key — and report only that part as the path, since that is where the user must look.
 */
export function locate(
  doc: Document,
  lineCounter: LineCounter,
  path: ConfigPath,
  at: 'key' | 'value',
): { line: number; column: number; path: string } {
  let node: unknown = doc.contents;
  let keyNode: unknown;
  let depth = 0;
  for (const seg of path) {
    // Positions of aliased content are reported where the anchor defines it.
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(seg));
      if (!pair) break;
      keyNode = pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
      node = node.items[seg];
      keyNode = node;
    } else {
      break;
    }
    depth++;
  }
  const found = depth === path.length;
  const target = found && at === 'value' ? (node ?? keyNode) : (keyNode ?? node);
  const { line, col } = lineCounter.linePos(rangeStart(target));
  return { line, column: col, path: formatPath(path.slice(0, depth)) };
}

function rangeStart(node: unknown): number {
  return (node as Node | null | undefined)?.range?.[0] ?? 0;
}

export function positionOf(node: Node, lineCounter: LineCounter): { line: number; column: number } {
  const { line, col } = lineCounter.linePos(rangeStart(node));
  return { line, column: col };
}

/** Visits every value leaf (scalars and aliases, not keys) with its path. */
export function forEachLeaf(doc: Document, visit: (node: Node, path: PropertyKey[]) => void): void {
  const walk = (node: unknown, path: PropertyKey[]): void => {
    if (isMap(node)) for (const pair of node.items) walk(pair.value, [...path, keyText(pair.key)]);
    else if (isSeq(node)) node.items.forEach((item, i) => walk(item, [...path, i]));
    else if (isScalar(node) || isAlias(node)) visit(node, path);
  };
  walk(doc.contents, []);
}

/** The text of the mapping key that starts at `offset`, if any. */
export function keyAt(doc: Document, offset: number): string | undefined {
  let found: string | undefined;
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
        found = String(pair.key.value);
        return visit.BREAK;
      }
    },
  });
  return found;
}
