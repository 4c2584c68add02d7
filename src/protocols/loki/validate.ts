/** Shared validation helpers for label names and label objects. */

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export const LABEL_NAME_PATTERN = '[a-zA-Z_][a-zA-Z0-9_]*';

export function isValidLabelName(name: string): boolean {
  return LABEL_NAME_RE.test(name);
}

/**
 * Sets an own, enumerable property even for the name `__proto__` (a valid label name that a
 * plain assignment would turn into a prototype change).
 */
export function setLabel(target: Record<string, string>, name: string, value: string): void {
  if (name === '__proto__') {
    Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[name] = value;
  }
}

/** Quotes a string for an error message (JSON-style, truncated). */
export function quoteForError(s: string, max = 64): string {
  return s.length > max ? `${JSON.stringify(s.slice(0, max))}…` : JSON.stringify(s);
}

/**
 * Final form of a stream's labels: empty values dropped (in Prometheus and LogQL an empty value
 * is the same as an absent label), and at least one label left.
 */
export function finishStreamLabels(raw: Record<string, string>, path: string, onError: (msg: string) => never): Record<string, string> {
  let count = 0;
  let hasEmpty = false;
  for (const k in raw) {
    if (!Object.prototype.hasOwnProperty.call(raw, k)) continue;
    if (raw[k] === '') hasEmpty = true;
    else count++;
  }
  if (count === 0) onError(`${path}: stream has no labels`);
  if (!hasEmpty) return raw;
  const out: Record<string, string> = {};
  for (const k of Object.keys(raw)) if (raw[k] !== '') setLabel(out, k, raw[k]!);
  return out;
}
