import type { Labels, LogRow, StoredRow, StoreEngine } from '../../src/store/engine.js';
import { makeRng } from '../../src/sim/random.js';

/**
 * The conformance data set: three UTC days (2026-11-20..22), lines on both sides of midnight,
 * streams with different label sets (one without `level`, one whose empty `env` is dropped,
 * unicode names and values), lines with %, _, quotes, backslashes and regex metacharacters.
 * Every line starts with an id (L01...) so expectations read as lists of ids.
 */

export const NS_PER_S = 1_000_000_000n;
export const DAY_NS = 86_400n * NS_PER_S;
/** 2026-11-20T00:00:00Z */
export const D0 = BigInt(Date.UTC(2026, 10, 20)) * 1_000_000n;

/** `day` days after D0 at hh:mm:ss (UTC) plus `ns`. */
export function at(day: number, hms = '00:00:00', ns = 0n): bigint {
  const [h, m, s] = hms.split(':').map(Number) as [number, number, number];
  return D0 + BigInt(day) * DAY_NS + BigInt(h * 3600 + m * 60 + s) * NS_PER_S + ns;
}

export const START = at(0);
export const END = at(3);

export const S = {
  A: { app: 'api', env: 'prod', level: 'info' },
  B: { app: 'api', env: 'prod', level: 'error' },
  C: { app: 'web', env: 'dev' },
  D: { app: 'api-gateway', env: 'staging', level: 'info' },
  E: { app: 'worker', env: 'prod', team: 'data_eng' },
  F: { app: 'ünï', region: '日本' },
  /** Pushed with env="" — stored (and returned) as {app="blank"}. */
  G: { app: 'blank', env: '' },
} satisfies Record<string, Labels>;
export const G_STORED: Labels = { app: 'blank' };

type Line = [id: string, stream: keyof typeof S, ts: bigint, text: string];

export const ACME_LINES: Line[] = [
  ['L01', 'A', at(0, '10:00:00'), 'GET /api/items 200'],
  ['L02', 'B', at(0, '10:00:01'), 'error: connection refused'],
  ['L03', 'C', at(0, '12:00:00'), '100% done'],
  ['L04', 'D', at(0, '23:59:59', 999_999_999n), 'gateway: upstream timeout'],
  ['L05', 'A', at(1, '00:00:00'), 'GET /api/cart 200'],
  ['L06', 'E', at(1, '00:00:00', 1n), 'user_name=bob ok'],
  ['L07', 'B', at(1, '06:30:00'), 'error: disk full 95%'],
  ['L08', 'F', at(1, '08:00:00'), 'unicode: José Zoë 田中 🚀'],
  ['L09', 'C', at(1, '09:00:00'), 'quotes \' " \\ and\ttab'],
  ['L10', 'A', at(1, '12:00:00'), 'regex meta .*+?()[]{}|^$ literal'],
  ['L11', 'G', at(1, '13:00:00'), 'blank env stream'],
  ['L12', 'A', at(2, '00:00:00', 500_000_000n), 'GET /api/orders 500'],
  ['L13', 'B', at(2, '01:00:00'), "error: '; DROP TABLE streams; --"],
  ['L14', 'E', at(2, '02:00:00'), 'user-name=alice ok'],
  ['L15', 'D', at(2, '03:00:00'), 'gateway: ok'],
  ['L16', 'A', at(2, '04:00:00'), 'GET /api/items 200 again'],
];

export const GLOBEX_LINES: Line[] = [
  ['M01', 'A', at(1, '10:00:00'), 'globex api secret'],
];
export const GLOBEX_BILLING: LogRow = { tsNs: at(1, '11:00:00'), labels: { app: 'billing' }, line: 'M02 globex billing' };

export const byId = new Map(ACME_LINES.map((l) => [l[0], l]));

export function rowOf([id, stream, ts, text]: Line): LogRow {
  return { tsNs: ts, labels: S[stream], line: `${id} ${text}` };
}

/** Loads the data set in a few batches (so a stream spans batches and partitions). */
export async function loadFixture(engine: StoreEngine): Promise<void> {
  const acme = ACME_LINES.map(rowOf);
  await engine.append('acme', acme.slice(0, 7), [{ source: 'f1|stdout', offset: 100 }]);
  await engine.append('acme', acme.slice(7), [{ source: 'f1|stdout', offset: 50 }, { source: 'f2|stderr', offset: 10 }]);
  await engine.append('globex', [...GLOBEX_LINES.map(rowOf), GLOBEX_BILLING], [{ source: 'f1|stdout', offset: 7 }]);
}

/** Collects a scan. */
export async function collect(it: AsyncIterable<StoredRow[]>): Promise<StoredRow[]> {
  const out: StoredRow[] = [];
  for await (const batch of it) out.push(...batch);
  return out;
}

/** The ids (first word) of scanned lines. */
export const ids = (rows: StoredRow[]): string[] => rows.map((r) => r.line.split(' ')[0]!);

/** Ids of fixture lines whose stream is one of `streams`, in timestamp order. */
export function idsOfStreams(...streams: Array<keyof typeof S>): string[] {
  return ACME_LINES.filter((l) => streams.includes(l[1]))
    .sort((a, b) => (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0))
    .map((l) => l[0]);
}

export const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Deterministic PRNG: the simulator's, one implementation for all test data. */
export const prng = makeRng;

/** Sorts label sets by their JSON text so order-free results compare. */
export const canon = (ls: Labels[]): string[] => ls.map((l) => JSON.stringify(Object.entries(l).sort())).sort();
