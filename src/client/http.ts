import WebSocket from 'ws';
import type { ClientConfig } from './config.js';
import { ClientError, QueryError } from './errors.js';

export type Labels = Record<string, string>;

/** One log line as the client handles it. `labels` may still include structured metadata. */
export interface Entry {
  tsNs: bigint;
  labels: Labels;
  line: string;
}

export interface StreamsData { resultType: 'streams'; result: Array<{ stream: Labels; values: Array<[string, string]> }> }
export interface MatrixData { resultType: 'matrix'; result: Array<{ metric: Labels; values: Array<[number, string]> }> }
export interface VectorData { resultType: 'vector'; result: Array<{ metric: Labels; value: [number, string] }> }
export type QueryData = StreamsData | MatrixData | VectorData | { resultType: 'scalar' | 'string'; result: [number, string] };

type Params = Record<string, string | string[] | undefined>;

/** Which setting to change, worded for the message. */
function addrHint(cfg: ClientConfig): string {
  switch (cfg.addrFrom) {
    case 'flag': return 'check --addr';
    case 'env': return 'check LOGGY_ADDR (or pass --addr)';
    case 'file': return `check addr in ${cfg.file} (or pass --addr / set LOGGY_ADDR)`;
    default: return `none was configured, so the default was used: pass --addr, set LOGGY_ADDR, or put "addr:" in ~/.config/loggy/client.yaml`;
  }
}

function tokenHint(cfg: ClientConfig): string {
  switch (cfg.tokenFrom) {
    case 'flag': return 'check the value of --token';
    case 'env': return 'check LOGGY_TOKEN';
    case 'file': return `check token in ${cfg.file}`;
    default: return 'pass one with --token or set LOGGY_TOKEN';
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A Prometheus sample: [unix seconds, "value"]. */
function isSample(v: unknown): boolean {
  return Array.isArray(v) && typeof v[0] === 'number' && Number.isFinite(v[0]) && Math.abs(v[0]) < 1e11 && typeof v[1] === 'string';
}

function isLabels(v: unknown): v is Labels {
  return isRecord(v) && Object.values(v).every((x) => typeof x === 'string');
}

/** The store's HTTP API (Loki's), with every failure turned into a message that says what to do. */
export class StoreClient {
  constructor(readonly cfg: ClientConfig, private readonly fetchImpl: typeof fetch = fetch) {}

  private headers(): Record<string, string> {
    const h: Record<string, string> = {};
    if (this.cfg.token) h.authorization = `Bearer ${this.cfg.token}`;
    if (this.cfg.tenant) h['x-scope-orgid'] = this.cfg.tenant;
    return h;
  }

  /** A failed request's status and body → a ClientError saying what to do about it. */
  httpError(status: number, body: string, query?: string): ClientError {
    const msg = body.trim().slice(0, 2000) || `HTTP ${status}`;
    const at = this.cfg.addr;
    if (status === 401) {
      if (!this.cfg.token) return new ClientError(`the store at ${at} requires a token (${msg}): ${tokenHint(this.cfg)}`);
      return new ClientError(`the store at ${at} rejected the token (${msg}): ${tokenHint(this.cfg)}`);
    }
    if (status === 403) return new ClientError(`the store at ${at} refused: ${msg}`);
    if (status === 400 && /X-Scope-OrgID is required/.test(msg)) return new ClientError(`the store at ${at} needs a tenant: ${msg}; pass --tenant or set LOGGY_TENANT`);
    if (status === 400 && query !== undefined && /parse error|syntax error|unexpected|invalid|expected/i.test(msg)) return new QueryError(msg, query);
    if (status === 400) return new ClientError(`the store at ${at} refused the request: ${msg}`);
    if (status === 404) return new ClientError(`the store at ${at} has no such endpoint (${msg}): is this a Loggy or Loki server? ${addrHint(this.cfg)}`);
    const e = status === 429
      ? new ClientError(`the store at ${at} is overloaded (429): ${msg}; try again shortly`)
      : new ClientError(`the store at ${at} failed (HTTP ${status}): ${msg}`);
    e.retryable = status === 429 || status >= 500;
    return e;
  }

  unreachable(err: unknown): ClientError {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    const e = new ClientError(`cannot reach the store at ${this.cfg.addr} (${why}): is "loggy server" running there? ${addrHint(this.cfg)}`);
    e.retryable = true;
    return e;
  }

  async getJson(path: string, params: Params, query?: string): Promise<unknown> {
    const url = new URL(this.cfg.addr + path);
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined) continue;
      for (const x of Array.isArray(v) ? v : [v]) url.searchParams.append(k, x);
    }
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(url, { headers: this.headers() });
      text = await res.text();
    } catch (err) {
      throw this.unreachable(err);
    }
    if (!res.ok) throw this.httpError(res.status, text, query);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ClientError(`unexpected answer from the store at ${this.cfg.addr}${path} (HTTP ${res.status}, not JSON): ${JSON.stringify(text.slice(0, 120))}`);
    }
    // Loki leaves `data` out of empty label and series answers (omitempty).
    if (!isRecord(body) || body.status !== 'success') {
      throw new ClientError(`unexpected answer from the store at ${this.cfg.addr}${path}: ${JSON.stringify(text.slice(0, 120))}`);
    }
    return body.data;
  }

  private garbage(path: string, what: string): ClientError {
    return new ClientError(`unexpected answer from the store at ${this.cfg.addr}${path}: ${what}`);
  }

  async query(kind: 'range' | 'instant', params: { query: string; start?: bigint; end?: bigint; time?: bigint; limit?: number; direction?: 'forward' | 'backward'; step?: string }): Promise<QueryData> {
    const path = kind === 'range' ? '/loki/api/v1/query_range' : '/loki/api/v1/query';
    const data = await this.getJson(path, {
      query: params.query,
      start: params.start?.toString(),
      end: params.end?.toString(),
      time: params.time?.toString(),
      limit: params.limit?.toString(),
      direction: params.direction,
      step: params.step,
    }, params.query);
    if (!isRecord(data) || typeof data.resultType !== 'string' || !Array.isArray(data.result)) throw this.garbage(path, 'no resultType/result');
    if (data.resultType === 'streams') {
      for (const s of data.result as unknown[]) {
        if (!isRecord(s) || !isLabels(s.stream) || !Array.isArray(s.values) || !s.values.every((v) => Array.isArray(v) && typeof v[0] === 'string' && /^\d+$/.test(v[0]) && typeof v[1] === 'string')) {
          throw this.garbage(path, 'malformed stream in result');
        }
      }
    } else if (data.resultType === 'matrix') {
      for (const s of data.result as unknown[]) {
        if (!isRecord(s) || !isLabels(s.metric) || !Array.isArray(s.values) || !s.values.every(isSample)) throw this.garbage(path, 'malformed series in result');
      }
    } else if (data.resultType === 'vector') {
      for (const s of data.result as unknown[]) {
        if (!isRecord(s) || !isLabels(s.metric) || !isSample(s.value)) throw this.garbage(path, 'malformed sample in result');
      }
    } else if (!isSample(data.result)) {
      throw this.garbage(path, `unknown result type ${JSON.stringify(data.resultType).slice(0, 40)}`);
    }
    return data as unknown as QueryData;
  }

  async labels(params: { start?: bigint; end?: bigint; query?: string }): Promise<string[]> {
    const data = (await this.getJson('/loki/api/v1/labels', { start: params.start?.toString(), end: params.end?.toString(), query: params.query }, params.query)) ?? [];
    if (!Array.isArray(data) || !data.every((x) => typeof x === 'string')) throw this.garbage('/loki/api/v1/labels', 'expected a list of names');
    return data;
  }

  async labelValues(name: string, params: { start?: bigint; end?: bigint; query?: string }): Promise<string[]> {
    const path = `/loki/api/v1/label/${encodeURIComponent(name)}/values`;
    const data = (await this.getJson(path, { start: params.start?.toString(), end: params.end?.toString(), query: params.query }, params.query)) ?? [];
    if (!Array.isArray(data) || !data.every((x) => typeof x === 'string')) throw this.garbage(path, 'expected a list of values');
    return data;
  }

  async series(match: string, params: { start?: bigint; end?: bigint }): Promise<Labels[]> {
    const data = (await this.getJson('/loki/api/v1/series', { 'match[]': match, start: params.start?.toString(), end: params.end?.toString() }, match)) ?? [];
    if (!Array.isArray(data) || !data.every(isLabels)) throw this.garbage('/loki/api/v1/series', 'expected a list of label sets');
    return data;
  }

  /** Opens the live tail WebSocket (Loki's `/loki/api/v1/tail`). */
  tail(params: { query: string; start: bigint; limit: number }): WebSocket {
    const url = new URL(this.cfg.addr.replace(/^http/, 'ws') + '/loki/api/v1/tail');
    url.searchParams.set('query', params.query);
    url.searchParams.set('start', params.start.toString());
    url.searchParams.set('limit', String(params.limit));
    return new WebSocket(url, { headers: this.headers(), handshakeTimeout: 10_000 });
  }
}

/** The entries of a streams result, by time (stable: equal times keep the store's order). */
export function flattenStreams(data: StreamsData, direction: 'forward' | 'backward' = 'forward'): Entry[] {
  const out: Entry[] = [];
  for (const s of data.result) for (const [ts, line] of s.values) out.push({ tsNs: BigInt(ts), labels: s.stream, line });
  const back = direction === 'backward';
  out.sort((a, b) => (a.tsNs === b.tsNs ? 0 : (a.tsNs < b.tsNs) !== back ? -1 : 1));
  return out;
}

/** Parses one tail frame ({streams, dropped_entries}); throws on garbage. */
export function parseTailFrame(text: string): { entries: Entry[]; dropped: number } {
  const f = JSON.parse(text) as unknown;
  if (!isRecord(f) || !Array.isArray(f.streams)) throw new Error('tail frame without streams');
  const entries: Entry[] = [];
  for (const s of f.streams as unknown[]) {
    if (!isRecord(s) || !isLabels(s.stream) || !Array.isArray(s.values)) throw new Error('malformed stream in tail frame');
    for (const v of s.values as unknown[]) {
      if (!Array.isArray(v) || typeof v[0] !== 'string' || !/^\d+$/.test(v[0]) || typeof v[1] !== 'string') throw new Error('malformed entry in tail frame');
      entries.push({ tsNs: BigInt(v[0]), labels: s.stream, line: v[1] });
    }
  }
  entries.sort((a, b) => (a.tsNs === b.tsNs ? 0 : a.tsNs < b.tsNs ? -1 : 1));
  const dropped = Array.isArray(f.dropped_entries) ? f.dropped_entries.length : 0;
  return { entries, dropped };
}
