import type { MatrixSeries } from './lib/histogram.js';
import type { StreamResult } from './lib/rows.js';

/** The Loki API of the server that served this page, with the user's token if one is set. */

const TOKEN_KEY = 'loggy.token';

export function getToken(): string {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

export function setToken(token: string): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

type Params = Record<string, string | number | undefined | string[]>;

async function get<T>(path: string, params: Params, signal?: AbortSignal): Promise<T> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) for (const x of v) qs.append(k, x);
    else if (v !== undefined && v !== '') qs.set(k, String(v));
  }
  const token = getToken();
  const res = await fetch(`${path}?${qs}`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal });
  if (!res.ok) throw new ApiError(res.status, (await res.text()).trim() || `${res.status} ${res.statusText}`);
  const body = (await res.json()) as { data: T };
  return body.data;
}

export interface RangeParams {
  query: string;
  start: string;
  end: string;
  limit?: number;
  direction?: 'forward' | 'backward';
  step?: string;
}

export async function queryLogs(p: RangeParams, signal?: AbortSignal): Promise<StreamResult[]> {
  let data: { resultType: string; result: StreamResult[] };
  try {
    data = await get<{ resultType: string; result: StreamResult[] }>('/loki/api/v1/query_range', { ...p }, signal);
  } catch (err) {
    // A shared link may ask for more lines than this store serves per query: take its maximum.
    const max = err instanceof ApiError && err.status === 400 ? /over the maximum of (\d+) lines/.exec(err.message) : null;
    if (!max || Number(max[1]) >= Number(p.limit)) throw err;
    data = await get<{ resultType: string; result: StreamResult[] }>('/loki/api/v1/query_range', { ...p, limit: Number(max[1]) }, signal);
  }
  if (data.resultType !== 'streams') throw new ApiError(400, 'expected a log query: this view shows lines');
  return data.result;
}

export async function queryMatrix(p: RangeParams, signal?: AbortSignal): Promise<MatrixSeries[]> {
  const data = await get<{ resultType: string; result: MatrixSeries[] }>('/loki/api/v1/query_range', { ...p }, signal);
  return data.resultType === 'matrix' ? data.result : [];
}

export function labelNames(start: string, end: string, query?: string, signal?: AbortSignal): Promise<string[]> {
  return get<string[]>('/loki/api/v1/labels', { start, end, query }, signal).then((d) => d ?? []);
}

export function labelValues(name: string, start: string, end: string, query?: string, signal?: AbortSignal): Promise<string[]> {
  return get<string[]>(`/loki/api/v1/label/${encodeURIComponent(name)}/values`, { start, end, query }, signal).then((d) => d ?? []);
}

export function series(match: string, start: string, end: string, signal?: AbortSignal): Promise<Array<Record<string, string>>> {
  return get<Array<Record<string, string>>>('/loki/api/v1/series', { 'match[]': [match], start, end }, signal);
}

/** Browsers cannot set headers on a WebSocket: the tail route alone takes the token as a parameter. */
export function tailUrl(query: string, startNs: string, limit: number): string {
  const qs = new URLSearchParams({ query, start: startNs, limit: String(limit) });
  const token = getToken();
  if (token) qs.set('token', token);
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}/loki/api/v1/tail?${qs}`;
}
