import pc from 'picocolors';
import { formatRfc3339Nano } from '../core/time.js';
import { detectLevel } from '../server/ingest/level.js';
import type { Entry, Labels } from './http.js';

export type Colors = ReturnType<typeof pc.createColors>;

/** Colours on a terminal, none when piped, with NO_COLOR set (any value) or TERM=dumb. */
export function useColor(isTTY: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== '') return true;
  return isTTY === true && env.TERM !== 'dumb';
}

export function colors(enabled: boolean): Colors {
  return pc.createColors(enabled);
}

export interface LineFormat {
  timestamps: boolean;
  prefix: boolean;
  json: boolean;
  color: boolean;
}

/** Stream labels and the line's structured metadata, told apart (see splitMetadata). */
export interface SplitEntry {
  tsNs: bigint;
  labels: Labels;
  metadata: Labels;
  line: string;
}

const PALETTE = ['cyan', 'green', 'magenta', 'blue', 'yellow', 'cyanBright', 'greenBright', 'magentaBright', 'blueBright', 'yellowBright'] as const;

/** A stable colour per pod/container, so interleaved pods are told apart at a glance. */
export function prefixColor(c: Colors, key: string): (s: string) => string {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
  return c[PALETTE[h % PALETTE.length]!];
}

/** kubectl's `--prefix`: `[pod/NAME/CONTAINER]`. */
export function prefixOf(labels: Labels): string {
  return `[pod/${labels.pod ?? '?'}/${labels.container ?? '?'}]`;
}

function levelOf(e: SplitEntry): string | undefined {
  return e.metadata.detected_level ?? e.labels.detected_level ?? detectLevel(e.line, e.labels);
}

/** One line of `loggy logs` output (without the newline). */
export function formatLine(e: SplitEntry, f: LineFormat, c: Colors): string {
  if (f.json) {
    return JSON.stringify({ ts: formatRfc3339Nano(e.tsNs), labels: e.labels, line: e.line, metadata: e.metadata });
  }
  let out = '';
  if (f.prefix) {
    const p = prefixOf(e.labels);
    out += (f.color ? prefixColor(c, p)(p) : p) + ' ';
  }
  if (f.timestamps) {
    const t = formatRfc3339Nano(e.tsNs);
    out += (f.color ? c.dim(t) : t) + ' ';
  }
  if (!f.color) return out + e.line;
  switch (levelOf(e)) {
    case 'error': case 'critical': case 'fatal': return out + c.red(e.line);
    case 'warn': return out + c.yellow(e.line);
    case 'debug': case 'trace': return out + c.dim(e.line);
    default: return out + e.line;
  }
}

/**
 * Splits a query result's labels into stream labels and structured metadata: the store (like
 * Loki) returns them merged. The stream's own labels are those of the matching series; what
 * else is there is metadata. Without a matching series, `detected_level` is taken as metadata.
 */
export class MetadataSplitter {
  private readonly cache = new Map<string, { labels: Labels; metadata: Labels }>();
  constructor(private series: Labels[]) {}

  setSeries(series: Labels[]): void {
    this.series = series;
    this.cache.clear();
  }

  /** Whether some known series fits these labels (else the caller may refresh the series). */
  knows(labels: Labels): boolean {
    return this.find(labels) !== null;
  }

  private find(labels: Labels): Labels | null {
    let best: Labels | null = null;
    let bestSize = -1;
    for (const s of this.series) {
      const keys = Object.keys(s);
      if (keys.length > bestSize && keys.every((k) => labels[k] === s[k])) {
        best = s;
        bestSize = keys.length;
      }
    }
    return best;
  }

  split(labels: Labels): { labels: Labels; metadata: Labels } {
    const key = JSON.stringify(labels);
    let r = this.cache.get(key);
    if (r) return r;
    const s = this.find(labels);
    const own: Labels = {};
    const metadata: Labels = {};
    for (const [k, v] of Object.entries(labels)) {
      if (s ? Object.hasOwn(s, k) : k !== 'detected_level') own[k] = v;
      else metadata[k] = v;
    }
    r = { labels: own, metadata };
    this.cache.set(key, r);
    return r;
  }

  entry(e: Entry): SplitEntry {
    const { labels, metadata } = this.split(e.labels);
    return { tsNs: e.tsNs, labels, metadata, line: e.line };
  }
}

/** A plain table: columns padded to their widest cell, the header optionally dimmed. */
export function renderTable(header: string[], rows: string[][], c: Colors, color: boolean): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  const head = fmt(header);
  return [color ? c.bold(head) : head, ...rows.map(fmt)].join('\n') + '\n';
}

