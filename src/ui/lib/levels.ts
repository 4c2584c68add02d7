/** Log levels as the server's detected_level names them, in stacking order (bottom first). */
export const LEVELS = ['fatal', 'critical', 'error', 'warn', 'info', 'debug', 'trace', 'unknown'] as const;
export type Level = (typeof LEVELS)[number];

const ALIASES: Record<string, Level> = {
  trace: 'trace', trc: 'trace', debug: 'debug', dbg: 'debug', info: 'info', inf: 'info', notice: 'info',
  warn: 'warn', warning: 'warn', wrn: 'warn', error: 'error', err: 'error', critical: 'critical', crit: 'critical',
  panic: 'critical', fatal: 'fatal', ftl: 'fatal',
};

export function normalizeLevel(v: string | undefined): Level {
  return (v && ALIASES[v.toLowerCase()]) || 'unknown';
}

const KEYED = /(?:^|[\s{,"])"?(?:level|lvl|severity|loglevel|log_level)"?\s*[:=]\s*"?([A-Za-z]{3,8})\b/i;
const WORD = /\b(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|ERR|CRITICAL|CRIT|FATAL|PANIC)\b/;

/**
 * A line's level: the server's detected_level when it sent one. Live-tail frames carry only
 * stream labels, so the same rules as the server's ingest are applied to the line's head.
 */
export function levelOf(labels: Record<string, string>, line: string): Level {
  const given = labels.detected_level ?? labels.level;
  if (given) return normalizeLevel(given);
  const head = line.length > 512 ? line.slice(0, 512) : line;
  const k = KEYED.exec(head);
  if (k && ALIASES[k[1]!.toLowerCase()]) return normalizeLevel(k[1]);
  const w = WORD.exec(head);
  return w ? normalizeLevel(w[1]) : 'unknown';
}
