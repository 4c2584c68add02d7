import { isScalar, type Document, type Node } from 'yaml';
import { forEachLeaf } from './locate.js';

export type Env = Readonly<Record<string, string | undefined>>;

// `$$`, a complete `${...}`, or a `${` that never closes (reported rather than passed through silently).
const REFERENCE = /\$\$|\$\{([^}]*)\}|\$\{/g;
const BODY = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/**
 * Expands `${VAR}`, `${VAR:-default}` (default when unset or empty, as in sh) and `$$` (a literal `$`).
 * A lone `$` not followed by `{` or `$` is kept as is.
 */
export function expandEnv(text: string, env: Env): { value: string } | { error: string } {
  let error: string | undefined;
  const value = text.replace(REFERENCE, (match, body: string | undefined) => {
    if (match === '$$') return '$';
    if (body === undefined) {
      error ??= 'unterminated "${" (write "$$" for a literal "$")';
      return match;
    }
    const ref = BODY.exec(body);
    if (!ref) {
      error ??= `invalid environment reference "${match}" (expected \${NAME} or \${NAME:-default})`;
      return match;
    }
    const [, name, fallback] = ref;
    const set = env[name];
    if (set !== undefined && (set !== '' || fallback === undefined)) return set;
    if (fallback !== undefined) return fallback;
    error ??= `environment variable "${name}" is not set`;
    return match;
  });
  return error === undefined ? { value } : { error };
}

/**
 * Interpolates string scalar values in place (keys and non-strings are left alone). Working on the parsed
 * nodes, not the raw text, keeps every node's position intact for later error messages.
 */
export function interpolateDocument(
  doc: Document,
  env: Env,
): Array<{ node: Node; path: PropertyKey[]; error: string }> {
  const errors: Array<{ node: Node; path: PropertyKey[]; error: string }> = [];
  forEachLeaf(doc, (node, path) => {
    if (!isScalar(node) || typeof node.value !== 'string' || !node.value.includes('$')) return;
    const result = expandEnv(node.value, env);
    if ('error' in result) errors.push({ node, path, error: result.error });
    else node.value = result.value;
  });
  return errors;
}
