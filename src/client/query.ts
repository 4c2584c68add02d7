import { formatRfc3339Nano, nowNs } from '../core/time.js';
import { resolveClientConfig } from './config.js';
import { parseCount, parseGoDuration, parseTimeFlag } from './duration.js';
import { UsageError } from './errors.js';
import { labelsKey } from '../logql/labels.js';
import { colors, formatLine, MetadataSplitter, renderTable, useColor } from './format.js';
import { flattenStreams, StoreClient, type QueryData } from './http.js';
import { Progress, type Io } from './io.js';
import { maxFromRefusal } from './paginate.js';

export interface QueryFlags {
  since?: string;
  from?: string;
  to?: string;
  limit?: string;
  output?: string;
  step?: string;
  instant?: boolean;
  forward?: boolean;
  addr?: string;
  token?: string;
  tenant?: string;
}

function range(flags: { since?: string; from?: string; to?: string }, defaultSince: string | null): { start?: bigint; end: bigint } {
  const end = flags.to !== undefined ? parseTimeFlag(flags.to, '--to') : nowNs();
  if (flags.since !== undefined && flags.from !== undefined) throw new UsageError('at most one of --since and --from may be given');
  let start: bigint | undefined;
  if (flags.from !== undefined) start = parseTimeFlag(flags.from, '--from');
  else if (flags.since !== undefined) start = end - BigInt(Math.round(parseGoDuration(flags.since) * 1e6));
  else if (defaultSince !== null) start = end - BigInt(Math.round(parseGoDuration(defaultSince) * 1e6));
  if (start !== undefined && start < 0n) start = 0n;
  if (start !== undefined && start > end) throw new UsageError('the start of the range is after its end');
  return { start, end };
}

const fmtValue = (v: string) => {
  const n = Number(v);
  return Number.isFinite(n) && !Number.isInteger(n) ? String(Math.round(n * 1e6) / 1e6) : v;
};
const fmtTime = (secs: number) => new Date(secs * 1000).toISOString().replace('.000Z', 'Z');

/** Renders a query result: log lines (text, or one JSON object each), or a table of series. */
export function renderResult(data: QueryData, output: 'table' | 'json' | 'raw', color: boolean, direction: 'forward' | 'backward'): string {
  const c = colors(color);
  if (output === 'json') return JSON.stringify(data) + '\n';
  if (data.resultType === 'streams') {
    const entries = flattenStreams(data, direction);
    if (output === 'raw') return entries.map((e) => e.line + '\n').join('');
    // The response merges stream labels and metadata; without the series at hand, show them as one set.
    const splitter = new MetadataSplitter([]);
    return entries.map((e) => {
      const s = splitter.entry(e);
      const ts = formatRfc3339Nano(e.tsNs);
      const lbl = labelsKey(e.labels);
      return `${color ? c.dim(ts) : ts} ${color ? c.cyan(lbl) : lbl} ${formatLine({ ...s, labels: {} }, { timestamps: false, prefix: false, json: false, color }, c)}\n`;
    }).join('');
  }
  if (data.resultType === 'matrix') {
    if (output === 'raw') return data.result.map((s) => s.values.map(([t, v]) => `${labelsKey(s.metric)} ${fmtTime(t)} ${fmtValue(v)}\n`).join('')).join('');
    const rows = data.result.flatMap((s) => s.values.map(([t, v]) => [labelsKey(s.metric), fmtTime(t), fmtValue(v)]));
    return rows.length ? renderTable(['SERIES', 'TIME', 'VALUE'], rows, c, color) : '';
  }
  if (data.resultType === 'vector') {
    if (output === 'raw') return data.result.map((s) => `${labelsKey(s.metric)} ${fmtValue(s.value[1])}\n`).join('');
    const rows = data.result.map((s) => [labelsKey(s.metric), fmtTime(s.value[0]), fmtValue(s.value[1])]);
    return rows.length ? renderTable(['SERIES', 'TIME', 'VALUE'], rows, c, color) : '';
  }
  return `${fmtValue(data.result[1])}\n`;
}

/** `loggy query '<LogQL>'`. */
export async function runQuery(query: string, flags: QueryFlags, io: Io): Promise<number> {
  const output = flags.output ?? 'table';
  if (output !== 'table' && output !== 'json' && output !== 'raw') throw new UsageError(`invalid -o "${output}": expected table, json or raw`);
  if (query.trim() === '') throw new UsageError('expected a LogQL query, e.g. loggy query \'{namespace="shop"} |= "error"\'');
  const limit = flags.limit !== undefined ? parseCount(flags.limit, '--limit') : 100;
  const cfg = resolveClientConfig({ flags: { addr: flags.addr, token: flags.token, tenant: flags.tenant }, env: io.env });
  const client = new StoreClient(cfg);
  const direction = flags.forward ? 'forward' : 'backward';
  const progress = new Progress(io, 'querying the store');
  let data: QueryData;
  const ask = (lim: number) => {
    if (flags.instant) {
      if (flags.since !== undefined || flags.from !== undefined) throw new UsageError('--instant evaluates at one time (--to, default now): --since and --from do not apply');
      const { end } = range(flags, null);
      return client.query('instant', { query, time: end, limit: lim, direction });
    }
    const { start, end } = range(flags, '1h');
    if (flags.step !== undefined) parseGoDuration(flags.step, '--step');
    return client.query('range', { query, start, end, limit: lim, direction, step: flags.step });
  };
  try {
    try {
      data = await ask(limit);
    } catch (err) {
      // The store allows fewer lines per query than asked: take its maximum, and say so
      // when it matters (log queries; metric queries ignore the limit).
      const max = maxFromRefusal(err);
      if (max === null || max <= 0) throw err;
      data = await ask(max);
      if (data.resultType === 'streams') io.err(`loggy: warning: the store returns at most ${max} lines per query; showing up to ${max}\n`);
    }
  } finally {
    progress.stop();
  }
  await io.out(renderResult(data, output, useColor(io.stdoutTTY, io.env), direction));
  return 0;
}

export interface LabelsFlags {
  since?: string;
  from?: string;
  to?: string;
  query?: string;
  addr?: string;
  token?: string;
  tenant?: string;
}

/** `loggy labels [NAME]`: label names, or the values of one. Default range: all time. */
export async function runLabels(name: string | undefined, flags: LabelsFlags, io: Io): Promise<number> {
  if (name !== undefined && !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) throw new UsageError(`invalid label name "${name}": names are letters, digits and "_", not starting with a digit`);
  const cfg = resolveClientConfig({ flags: { addr: flags.addr, token: flags.token, tenant: flags.tenant }, env: io.env });
  const client = new StoreClient(cfg);
  const { start, end } = range(flags, null);
  const params = { start: start ?? 0n, end, query: flags.query };
  const progress = new Progress(io, 'asking the store');
  let list: string[];
  try {
    list = name === undefined ? await client.labels(params) : await client.labelValues(name, params);
  } finally {
    progress.stop();
  }
  await io.out(list.map((x) => x + '\n').join(''));
  return 0;
}
