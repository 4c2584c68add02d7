import type { LogFormat } from './types.js';

/**
 * Format of a container log from its first non-empty line: `{` → docker, anything else
 * → CRI. Skips newlines, blanks and NUL bytes (a copytruncate'd file written without
 * O_APPEND starts with a hole of NULs). Returns null if buf[from, to) has only those.
 */
export function detectFormat(buf: Uint8Array, from = 0, to = buf.length): LogFormat | null {
  for (let i = from; i < to; i++) {
    const c = buf[i];
    if (c === 10 || c === 13 || c === 32 || c === 9 || c === 0) continue;
    return c === 123 ? 'docker' : 'cri';
  }
  return null;
}
