import { detectLevel, normalizeLevel as serverNormalize } from '../../server/ingest/level.js';

/** Log levels as the server's detected_level names them, in stacking order (bottom first). */
export const LEVELS = ['fatal', 'critical', 'error', 'warn', 'info', 'debug', 'trace', 'unknown'] as const;
export type Level = (typeof LEVELS)[number];

/** A level name or alias (`warning`, `ERR`, `emerg`...) by the server's own table. */
export function normalizeLevel(v: string | undefined): Level {
  return (v && serverNormalize(v)) || 'unknown';
}

/**
 * A line's level: the server's detected_level when it sent one; otherwise (a server with
 * detect_level off) the server's ingest rules applied here, so the list and the histogram
 * never disagree about a line.
 */
export function levelOf(labels: Record<string, string>, line: string): Level {
  const given = labels.detected_level ?? labels.level;
  if (given) return normalizeLevel(given);
  return detectLevel(line) ?? 'unknown';
}
