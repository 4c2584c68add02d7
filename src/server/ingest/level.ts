import type { Labels } from '../../store/engine.js';

/**
 * Log level detection at ingest, as Loki's distributor does it: each line gets a
 * `detected_level` structured metadata value, so level histograms (`sum by (detected_level)
 * (count_over_time(...))`, Grafana's logs volume) are counted by the engine without parsing
 * a single line at query time.
 *
 * Order: a `level`-like stream label or metadata value; then a JSON field or logfmt key
 * (level, lvl, severity, loglevel, log_level) near the start of the line; then a bare upper-case
 * level word (ERROR, WARN, ...). Nothing found: no detected_level (Loki would say "unknown").
 */

export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'critical', 'fatal'] as const;
export type Level = (typeof LEVELS)[number];

const ALIASES: Record<string, Level> = {
  trace: 'trace', trc: 'trace',
  debug: 'debug', dbg: 'debug',
  info: 'info', inf: 'info', information: 'info', informational: 'info', notice: 'info',
  warn: 'warn', warning: 'warn', wrn: 'warn',
  error: 'error', err: 'error', eror: 'error',
  critical: 'critical', crit: 'critical', alert: 'critical', emerg: 'critical', emergency: 'critical', panic: 'critical',
  fatal: 'fatal', ftl: 'fatal',
};

/** Shared, frozen metadata objects: a detected level costs no allocation per line. */
export const LEVEL_METADATA: Readonly<Record<Level, Labels>> = Object.freeze(
  Object.fromEntries(LEVELS.map((l): [Level, Labels] => [l, Object.freeze({ detected_level: l as string })])) as unknown as Record<Level, Labels>,
);

export function normalizeLevel(v: string): Level | undefined {
  return ALIASES[v.toLowerCase()];
}

// Only the start of a line is looked at: levels sit there, and a 40 KiB line must not cost more.
const HEAD = 512;
const KEYED = /(?:^|[\s{,"])"?(?:level|lvl|severity|loglevel|log_level|LEVEL|Level|Severity)"?\s*[:=]\s*"?([A-Za-z]{3,13})\b/;
const WORD = /\b(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|CRITICAL|CRIT|FATAL|PANIC)\b/;

export function detectLevel(line: string, labels?: Labels, metadata?: Labels): Level | undefined {
  for (const src of [metadata, labels]) {
    if (!src) continue;
    for (const key of ['level', 'lvl', 'severity']) {
      const v = Object.hasOwn(src, key) ? src[key] : undefined;
      if (v !== undefined) {
        const l = normalizeLevel(v);
        if (l) return l;
      }
    }
  }
  const head = line.length > HEAD ? line.slice(0, HEAD) : line;
  const k = KEYED.exec(head);
  if (k) {
    const l = normalizeLevel(k[1]!);
    if (l) return l;
  }
  const w = WORD.exec(head);
  return w ? normalizeLevel(w[1]!) : undefined;
}

/**
 * The metadata to store for a line: the client's, plus detected_level unless the client (or
 * the stream labels) already set one.
 */
export function withDetectedLevel(line: string, labels: Labels, metadata: Labels | undefined): Labels | undefined {
  if (metadata && Object.hasOwn(metadata, 'detected_level')) return metadata;
  if (Object.hasOwn(labels, 'detected_level')) return metadata;
  const level = detectLevel(line, labels, metadata);
  if (!level) return metadata;
  return metadata ? { ...metadata, detected_level: level } : LEVEL_METADATA[level];
}
