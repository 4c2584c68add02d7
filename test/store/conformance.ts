import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CountQuery, LabelMatcher, LineFilter, LogRow, ScanQuery, StoreEngine } from '../../src/store/engine.js';
import { MemoryEngine } from '../../src/store/memory/index.js';
import {
  ACME_LINES,
  at,
  byId,
  canon,
  collect,
  DAY_NS,
  END,
  G_STORED,
  GLOBEX_BILLING,
  ids,
  idsOfStreams,
  loadFixture,
  NS_PER_S,
  prng,
  S,
  START,
  utf8,
} from './fixture.js';

/**
 * The StoreEngine contract as one vitest block, run against every engine. The in-memory engine
 * passes it by construction; other engines must agree with it, including on the randomized
 * comparison at the end (which also pins the tie order on equal timestamps: stream id, then
 * insertion order).
 */

export interface ConformanceOptions {
  /** Engine-specific close (e.g. also delete its data directory). Default: engine.close(). */
  close?: (engine: StoreEngine) => Promise<void>;
}

const m = (name: string, op: LabelMatcher['op'], value: string): LabelMatcher => ({ name, op, value });
const f = (op: LineFilter['op'], value: string): LineFilter => ({ op, value });
const ALL: LabelMatcher[] = [m('app', '=~', '.+')];

export function describeEngineConformance(name: string, open: () => Promise<StoreEngine>, opts: ConformanceOptions = {}): void {
  const close = opts.close ?? ((e: StoreEngine) => e.close());

  /** Opens a fresh engine for a test that mutates, closing it afterwards. */
  async function withEngine(fn: (e: StoreEngine) => Promise<void>): Promise<void> {
    const e = await open();
    try {
      await fn(e);
    } finally {
      await close(e);
    }
  }

  describe(`StoreEngine conformance: ${name}`, () => {
    let e: StoreEngine;
    const scan = (q: Partial<ScanQuery> & { matchers: LabelMatcher[] }) =>
      collect(e.scan({ tenant: 'acme', startNs: START, endNs: END, lineFilters: [], direction: 'forward', ...q }));
    const scanIds = async (q: Partial<ScanQuery> & { matchers: LabelMatcher[] }) => ids(await scan(q));

    beforeAll(async () => {
      e = await open();
      await loadFixture(e);
    });
    afterAll(async () => {
      if (e) await close(e);
    });

    describe('append', () => {
      it('returns rows and UTF-8 line bytes', async () => {
        await withEngine(async (x) => {
          const rows: LogRow[] = [
            { tsNs: at(0), labels: { app: 'a' }, line: 'héllo' },
            { tsNs: at(0, '00:00:01'), labels: { app: 'a' }, line: '🚀' },
          ];
          expect(await x.append('t', rows)).toEqual({ rows: 2, bytes: 6 + 4 });
          expect(await x.append('t', [])).toEqual({ rows: 0, bytes: 0 });
        });
      });

      it('stores nothing from a batch with an invalid row (tsNs not a bigint)', async () => {
        await withEngine(async (x) => {
          const bad = [
            { tsNs: at(0), labels: { app: 'a' }, line: 'ok 1' },
            { tsNs: at(1), labels: { app: 'new' }, line: 'ok 2' },
            { tsNs: 5 as unknown as bigint, labels: { app: 'a' }, line: 'bad' },
          ];
          await expect(x.append('t', bad, [{ source: 's', offset: 9 }])).rejects.toThrow(/invalid row 2/);
          expect((await x.stats('t')).rows).toBe(0);
          expect(await collect(x.scan({ tenant: 't', matchers: ALL, startNs: START, endNs: END, lineFilters: [], direction: 'forward' }))).toEqual([]);
          expect(await x.labelValues('t', 'app', START, END)).toEqual([]);
          expect(await x.committedOffsets('t', ['s'])).toEqual(new Map());
          // The engine is still usable, and the rejected batch's new stream appears only now.
          await x.append('t', bad.slice(0, 2));
          expect(await x.labelValues('t', 'app', START, END)).toEqual(['a', 'new']);
        });
      });

      it('rejects other invalid input with clear errors', async () => {
        await withEngine(async (x) => {
          const ok = { tsNs: at(0), labels: { app: 'a' }, line: 'x' };
          await expect(x.append('', [ok])).rejects.toThrow(/tenant/);
          await expect(x.append('t', [{ ...ok, labels: { 'bad-name': 'v' } }])).rejects.toThrow(/invalid row 0: label name "bad-name"/);
          await expect(x.append('t', [{ ...ok, labels: { app: '' } }])).rejects.toThrow(/at least one non-empty label/);
          await expect(x.append('t', [{ ...ok, line: 3 as unknown as string }])).rejects.toThrow(/invalid row 0: line/);
          await expect(x.append('t', [{ ...ok, tsNs: -1n }])).rejects.toThrow(/invalid row 0: tsNs/);
          await expect(x.append('t', [ok], [{ source: 's', offset: -1 }])).rejects.toThrow(/invalid offset 0/);
          expect((await x.stats()).rows).toBe(0);
        });
      });

      it('round-trips metadata, unicode and empty-label normalization', async () => {
        const rows = await scan({ matchers: [m('app', '=~', 'ünï|blank')] });
        expect(rows.map((r) => r.labels)).toEqual([S.F, G_STORED]);
        expect(rows[0]!.line).toBe('L08 unicode: José Zoë 田中 🚀');
        expect(rows[0]!.metadata).toBeUndefined();
        await withEngine(async (x) => {
          const md = { trace_id: 'abc123', 'ключ': 'значение' };
          await x.append('t', [{ tsNs: at(0), labels: { app: 'a' }, line: 'with md', metadata: md }, { tsNs: at(0, '00:00:01'), labels: { app: 'a' }, line: 'without' }]);
          const got = await collect(x.scan({ tenant: 't', matchers: ALL, startNs: START, endNs: END, lineFilters: [], direction: 'forward' }));
          expect(got[0]).toEqual({ tsNs: at(0), labels: { app: 'a' }, line: 'with md', metadata: md });
          expect(got[1]!.metadata).toBeUndefined();
        });
      });

      it('stores detected_level metadata, returns it, and counts by it', async () => {
        await withEngine(async (x) => {
          const lines: Array<{ md: Record<string, string> | undefined; line: string }> = [
            { md: { detected_level: 'error', trace_id: 't1' }, line: 'e1' },
            { md: { detected_level: 'info' }, line: 'i1' },
            { md: undefined, line: 'none' },
            { md: { detected_level: 'error' }, line: 'e2' },
          ];
          await x.append('t', lines.map((l, i) => ({ tsNs: at(0, `00:00:0${i}`), labels: { app: 'a' }, line: l.line, metadata: l.md })));
          await x.append('t', [{ tsNs: at(0, '00:00:09'), labels: { app: 'b', detected_level: 'stream' }, line: 'b', metadata: { detected_level: 'ignored' } }]);
          const got = await collect(x.scan({ tenant: 't', matchers: [m('app', '=', 'a')], startNs: START, endNs: END, lineFilters: [], direction: 'forward' }));
          expect(got.map((r) => r.metadata)).toEqual(lines.map((l) => l.md));
          const counts = await x.count({ tenant: 't', matchers: ALL, startNs: at(0), endNs: at(0, '00:01:00'), lineFilters: [], direction: 'forward', stepNs: 60n * NS_PER_S, by: ['detected_level'] });
          // A stream label detected_level wins over the metadata; lines without one group apart.
          expect(counts.map((c) => [c.labels, c.points.map((p) => p[1])])).toEqual([
            [{ detected_level: 'error' }, [2]],
            [{ detected_level: 'info' }, [1]],
            [{ detected_level: 'stream' }, [1]],
            [{}, [1]],
          ]);
        });
      });

      it('treats label names like __proto__ and constructor as ordinary names', async () => {
        await withEngine(async (x) => {
          const labels = Object.fromEntries([['__proto__', 'p'], ['app', 'x']]) as Record<string, string>;
          await x.append('t', [{ tsNs: at(0), labels, line: 'proto' }]);
          const rows = await collect(x.scan({ tenant: 't', matchers: [m('__proto__', '=', 'p'), m('constructor', '=', '')], startNs: START, endNs: END, lineFilters: [], direction: 'forward' }));
          expect(rows).toHaveLength(1);
          expect(Object.keys(rows[0]!.labels).sort()).toEqual(['__proto__', 'app']);
          expect(await x.labelNames('t', START, END)).toEqual(['__proto__', 'app']);
          expect(await x.labelValues('t', 'constructor', START, END)).toEqual([]);
        });
      });

      it('keeps push order for lines of one stream with equal timestamps', async () => {
        await withEngine(async (x) => {
          const t = at(1, '05:00:00');
          await x.append('t', ['a', 'b'].map((l) => ({ tsNs: t, labels: { app: 'x' }, line: l })));
          await x.append('t', ['c', 'd'].map((l) => ({ tsNs: t, labels: { app: 'x' }, line: l })));
          const q: ScanQuery = { tenant: 't', matchers: ALL, startNs: START, endNs: END, lineFilters: [], direction: 'forward' };
          expect((await collect(x.scan(q))).map((r) => r.line)).toEqual(['a', 'b', 'c', 'd']);
          expect((await collect(x.scan({ ...q, direction: 'backward' }))).map((r) => r.line)).toEqual(['d', 'c', 'b', 'a']);
        });
      });
    });

    describe('label matchers', () => {
      it('= and != (absent label reads as "")', async () => {
        expect(await scanIds({ matchers: [m('app', '=', 'api')] })).toEqual(idsOfStreams('A', 'B'));
        expect(await scanIds({ matchers: [m('app', '!=', 'api')] })).toEqual(idsOfStreams('C', 'D', 'E', 'F', 'G'));
        expect(await scanIds({ matchers: [m('level', '=', '')] })).toEqual(idsOfStreams('C', 'E', 'F', 'G'));
        expect(await scanIds({ matchers: [m('level', '!=', '')] })).toEqual(idsOfStreams('A', 'B', 'D'));
        expect(await scanIds({ matchers: [m('env', '=', '')] })).toEqual(idsOfStreams('F', 'G'));
        expect(await scanIds({ matchers: [m('app', '=', 'api'), m('level', '=', 'error')] })).toEqual(idsOfStreams('B'));
        expect(await scanIds({ matchers: [m('region', '=', '日本')] })).toEqual(idsOfStreams('F'));
        expect(await scanIds({ matchers: [m('nope', '=', 'x')] })).toEqual([]);
      });

      it('=~ and !~ are anchored at both ends', async () => {
        expect(await scanIds({ matchers: [m('app', '=~', 'api')] })).toEqual(idsOfStreams('A', 'B'));
        expect(await scanIds({ matchers: [m('app', '=~', 'pi')] })).toEqual([]);
        expect(await scanIds({ matchers: [m('app', '=~', 'api.*')] })).toEqual(idsOfStreams('A', 'B', 'D'));
        expect(await scanIds({ matchers: [m('app', '=~', 'api|api-gateway')] })).toEqual(idsOfStreams('A', 'B', 'D'));
        expect(await scanIds({ matchers: [m('app', '!~', 'api|web')] })).toEqual(idsOfStreams('D', 'E', 'F', 'G'));
        expect(await scanIds({ matchers: [m('app', '=~', 'ünï')] })).toEqual(idsOfStreams('F'));
        expect(await scanIds({ matchers: [m('team', '=~', 'data_eng')] })).toEqual(idsOfStreams('E'));
      });

      it('regexes see absent labels as ""', async () => {
        expect(await scanIds({ matchers: [m('env', '=~', '')] })).toEqual(idsOfStreams('F', 'G'));
        expect(await scanIds({ matchers: [m('env', '!~', '.+')] })).toEqual(idsOfStreams('F', 'G'));
        expect(await scanIds({ matchers: [m('env', '=~', '.*')] })).toEqual(idsOfStreams('A', 'B', 'C', 'D', 'E', 'F', 'G'));
        expect(await scanIds({ matchers: [m('env', '=~', 'prod|')] })).toEqual(idsOfStreams('A', 'B', 'E', 'F', 'G'));
      });

      it('rejects an invalid regex with "invalid regex"', async () => {
        await expect(scan({ matchers: [m('app', '=~', '(')] })).rejects.toThrow(/^invalid regex/);
        await expect(e.labelNames('acme', START, END, [m('app', '!~', 'a[')])).rejects.toThrow(/^invalid regex/);
      });
    });

    describe('line filters', () => {
      const q = (...lineFilters: LineFilter[]) => scanIds({ matchers: ALL, lineFilters });

      it('|= and != are literal substrings (%, _, quotes, SQL)', async () => {
        expect(await q(f('|=', '%'))).toEqual(['L03', 'L07']);
        expect(await q(f('|=', '_'))).toEqual(['L06']);
        expect(await q(f('|=', 'user_name'))).toEqual(['L06']);
        expect(await q(f('|=', "'; DROP TABLE streams; --"))).toEqual(['L13']);
        expect(await q(f('|=', '.*+?()[]{}|^$'))).toEqual(['L10']);
        expect(await q(f('|=', '"'))).toEqual(['L09']);
        expect(await q(f('|=', '\\'))).toEqual(['L09']);
        expect(await q(f('|=', '\t'))).toEqual(['L09']);
        expect(await q(f('|=', '田中'))).toEqual(['L08']);
        expect(await q(f('|=', 'get'))).toEqual([]);
        expect(await q(f('|=', ''))).toEqual(ACME_LINES.map((l) => l[0]));
        expect(await q(f('!=', 'o'))).toEqual(ACME_LINES.filter((l) => !`${l[0]} ${l[3]}`.includes('o')).map((l) => l[0]));
      });

      it('|~ and !~ are unanchored RE2 regexes', async () => {
        expect(await q(f('|~', 'user.name'))).toEqual(['L06', 'L14']);
        expect(await q(f('|~', '\\.\\*\\+'))).toEqual(['L10']);
        expect(await q(f('|~', '^L0[12] '))).toEqual(['L01', 'L02']);
        expect(await q(f('|~', 'Jos. Zo. '))).toEqual(['L08']);
        expect(await q(f('|~', '(?i)get /'))).toEqual(['L01', 'L05', 'L12', 'L16']);
        expect(await q(f('|~', '500$'))).toEqual(['L12']);
        expect(await q(f('!~', '[a-z]'))).toEqual([]);
      });

      it('chains all four, all must hold', async () => {
        expect(await q(f('|=', 'GET'), f('!=', '500'), f('|~', 'items|cart'), f('!~', 'again'))).toEqual(['L01', 'L05']);
        expect(await q(f('|~', 'error'), f('!=', 'disk'))).toEqual(['L02', 'L13']);
      });

      it('rejects an invalid regex with "invalid regex"', async () => {
        await expect(q(f('|~', 'a('))).rejects.toThrow(/^invalid regex/);
        await expect(q(f('!~', '*'))).rejects.toThrow(/^invalid regex/);
      });
    });

    describe('direction, limit and time range', () => {
      const api = [m('app', '=', 'api')];
      it('orders by timestamp in both directions and applies the limit in that order', async () => {
        const fwd = idsOfStreams('A', 'B');
        expect(await scanIds({ matchers: api, direction: 'backward' })).toEqual([...fwd].reverse());
        expect(await scanIds({ matchers: api, direction: 'backward', limit: 3 })).toEqual(['L16', 'L13', 'L12']);
        expect(await scanIds({ matchers: api, limit: 2 })).toEqual(['L01', 'L02']);
        expect(await scanIds({ matchers: api, limit: 0 })).toEqual([]);
        expect(await scanIds({ matchers: api, limit: 1000 })).toEqual(fwd);
        const rows = await scan({ matchers: api });
        expect(rows.map((r) => r.tsNs)).toEqual(fwd.map((id) => byId.get(id)![2]));
      });

      it('start is inclusive, end exclusive, to the nanosecond', async () => {
        const ts = (id: string) => byId.get(id)![2];
        expect(await scanIds({ matchers: ALL, startNs: ts('L04'), endNs: ts('L06') })).toEqual(['L04', 'L05']);
        expect(await scanIds({ matchers: ALL, startNs: ts('L04') + 1n, endNs: ts('L06') + 1n })).toEqual(['L05', 'L06']);
        expect(await scanIds({ matchers: ALL, startNs: ts('L05'), endNs: ts('L05') })).toEqual([]);
        expect(await scanIds({ matchers: ALL, startNs: END, endNs: START })).toEqual([]);
        expect(await scanIds({ matchers: ALL, startNs: at(1), endNs: at(2) })).toEqual(['L05', 'L06', 'L07', 'L08', 'L09', 'L10', 'L11']);
        expect(await scanIds({ matchers: ALL, startNs: at(1), endNs: at(2), direction: 'backward', limit: 2 })).toEqual(['L11', 'L10']);
        expect(await scanIds({ matchers: ALL, startNs: at(10), endNs: at(11) })).toEqual([]);
      });
    });

    describe('count', () => {
      const bytes = (...lineIds: string[]) => lineIds.reduce((s, id) => s + utf8(`${id} ${byId.get(id)![3]}`), 0);
      const cq = (q: Partial<CountQuery>): CountQuery => ({
        tenant: 'acme', matchers: [m('app', '=~', 'api|web')], startNs: START, endNs: END, lineFilters: [], direction: 'forward', stepNs: DAY_NS, by: [], ...q,
      });
      const sorted = <T extends { labels: object }>(xs: T[]) => [...xs].sort((a, b) => JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)));

      it('counts lines and bytes per step', async () => {
        expect(await e.count(cq({}))).toEqual([
          { labels: {}, points: [[at(0), 3, bytes('L01', 'L02', 'L03')], [at(1), 4, bytes('L05', 'L07', 'L09', 'L10')], [at(2), 3, bytes('L12', 'L13', 'L16')]] },
        ]);
      });

      it('groups by labels (a missing label is left out of the group)', async () => {
        expect(sorted(await e.count(cq({ by: ['level'] })))).toEqual(sorted([
          { labels: {}, points: [[at(0), 1, bytes('L03')], [at(1), 1, bytes('L09')]] },
          { labels: { level: 'error' }, points: [[at(0), 1, bytes('L02')], [at(1), 1, bytes('L07')], [at(2), 1, bytes('L13')]] },
          { labels: { level: 'info' }, points: [[at(0), 1, bytes('L01')], [at(1), 2, bytes('L05', 'L10')], [at(2), 2, bytes('L12', 'L16')]] },
        ]));
        const two = await e.count(cq({ by: ['env', 'app'], matchers: ALL, startNs: at(2), endNs: END }));
        expect(sorted(two)).toEqual(sorted([
          { labels: { app: 'api', env: 'prod' }, points: [[at(2), 3, bytes('L12', 'L13', 'L16')]] },
          { labels: { app: 'worker', env: 'prod' }, points: [[at(2), 1, bytes('L14')]] },
          { labels: { app: 'api-gateway', env: 'staging' }, points: [[at(2), 1, bytes('L15')]] },
        ]));
      });

      it('buckets start at startNs + k*step, with filters and time bounds applied', async () => {
        const start = at(0, '10:00:00', 500_000_000n);
        const hour = 3600n * NS_PER_S;
        expect(await e.count(cq({ startNs: start, endNs: at(1, '07:00:00'), stepNs: hour, lineFilters: [f('|=', 'error')] }))).toEqual([
          { labels: {}, points: [[start, 1, bytes('L02')], [start + 20n * hour, 1, bytes('L07')]] },
        ]);
        expect(await e.count(cq({ startNs: at(5), endNs: at(6) }))).toEqual([]);
        expect(await e.count(cq({ matchers: [m('app', '=', 'nope')] }))).toEqual([]);
        await expect(e.count(cq({ stepNs: 0n }))).rejects.toThrow(/stepNs/);
      });
    });

    describe('labels and series', () => {
      it('labelNames over a time range, optionally matched', async () => {
        expect(await e.labelNames('acme', START, END)).toEqual(['app', 'env', 'level', 'region', 'team']);
        expect(await e.labelNames('acme', at(2), END)).toEqual(['app', 'env', 'level', 'team']);
        const l08 = byId.get('L08')![2];
        expect(await e.labelNames('acme', l08, l08 + 1n)).toEqual(['app', 'region']);
        expect(await e.labelNames('acme', l08 + 1n, byId.get('L09')![2])).toEqual([]);
        expect(await e.labelNames('acme', START, END, [m('app', '=', 'web')])).toEqual(['app', 'env']);
        expect(await e.labelNames('acme', at(7), at(8))).toEqual([]);
      });

      it('labelValues over a time range, optionally matched', async () => {
        expect(await e.labelValues('acme', 'app', START, END)).toEqual(['api', 'api-gateway', 'blank', 'web', 'worker', 'ünï']);
        expect(await e.labelValues('acme', 'level', START, at(1))).toEqual(['error', 'info']);
        expect(await e.labelValues('acme', 'env', START, END, [m('level', '!=', '')])).toEqual(['prod', 'staging']);
        expect(await e.labelValues('acme', 'env', START, END)).toEqual(['dev', 'prod', 'staging']);
        expect(await e.labelValues('acme', 'nope', START, END)).toEqual([]);
        // The boundary line L04 (23:59:59.999999999) is the only api-gateway line of day 0.
        expect(await e.labelValues('acme', 'app', byId.get('L04')![2], at(1))).toEqual(['api-gateway']);
        expect(await e.labelValues('acme', 'app', byId.get('L04')![2] + 1n, at(1))).toEqual([]);
      });

      it('series: distinct label sets matching any matcher set', async () => {
        expect(canon(await e.series('acme', [[m('app', '=', 'api')], [m('app', '=', 'web')]], START, END))).toEqual(canon([S.A, S.B, S.C]));
        expect(canon(await e.series('acme', [ALL], START, at(1)))).toEqual(canon([S.A, S.B, S.C, S.D]));
        expect(canon(await e.series('acme', [[m('env', '=', '')]], START, END))).toEqual(canon([S.F, G_STORED]));
        expect(canon(await e.series('acme', [[m('app', '=', 'api'), m('level', '=', 'info')], [m('app', '=', 'api')]], START, END))).toEqual(canon([S.A, S.B]));
        expect(await e.series('acme', [ALL], at(4), at(5))).toEqual([]);
        expect(await e.series('acme', [], START, END)).toEqual([]);
      });
    });

    describe('offsets', () => {
      it('keeps the maximum committed offset per tenant and source', async () => {
        expect(await e.committedOffsets('acme', ['f1|stdout', 'f2|stderr', 'never'])).toEqual(new Map([['f1|stdout', 100], ['f2|stderr', 10]]));
        expect(await e.committedOffsets('globex', ['f1|stdout', 'f2|stderr'])).toEqual(new Map([['f1|stdout', 7]]));
        expect(await e.committedOffsets('initech', ['f1|stdout'])).toEqual(new Map());
        await withEngine(async (x) => {
          await x.append('t', [], [{ source: 's', offset: 5 }, { source: 's', offset: 3 }]);
          expect(await x.committedOffsets('t', ['s'])).toEqual(new Map([['s', 5]]));
          await x.append('t', [{ tsNs: at(0), labels: { app: 'a' }, line: 'x' }], [{ source: 's', offset: 4 }]);
          expect(await x.committedOffsets('t', ['s'])).toEqual(new Map([['s', 5]]));
          await x.append('t', [], [{ source: 's', offset: 2 ** 40 }]);
          expect(await x.committedOffsets('t', ['s'])).toEqual(new Map([['s', 2 ** 40]]));
        });
      });
    });

    describe('tenant isolation', () => {
      it('never returns another tenant\'s rows, labels, series, counts or offsets', async () => {
        const q: ScanQuery = { tenant: 'globex', matchers: [m('app', '=', 'api')], startNs: START, endNs: END, lineFilters: [], direction: 'forward' };
        expect(ids(await collect(e.scan(q)))).toEqual(['M01']);
        expect(ids(await collect(e.scan({ ...q, matchers: ALL })))).toEqual(['M01', 'M02']);
        expect(ids(await collect(e.scan({ ...q, tenant: 'initech', matchers: ALL })))).toEqual([]);
        expect(await e.labelNames('globex', START, END)).toEqual(['app', 'env', 'level']);
        expect(await e.labelValues('globex', 'app', START, END)).toEqual(['api', 'billing']);
        expect(canon(await e.series('globex', [ALL], START, END))).toEqual(canon([S.A, GLOBEX_BILLING.labels]));
        const c = await e.count({ ...q, matchers: ALL, stepNs: DAY_NS, by: [] });
        expect(c).toEqual([{ labels: {}, points: [[at(1), 2, utf8('M01 globex api secret') + utf8(GLOBEX_BILLING.line)]] }]);
        for (const t of ['initech', 'ACME', 'acme ']) {
          expect(await e.labelNames(t, START, END)).toEqual([]);
          expect(await e.series(t, [ALL], START, END)).toEqual([]);
          expect(await e.count({ ...q, tenant: t, matchers: ALL, stepNs: DAY_NS, by: [] })).toEqual([]);
          expect(await e.committedOffsets(t, ['f1|stdout'])).toEqual(new Map());
          expect((await e.stats(t)).rows).toBe(0);
        }
      });

      it('stats per tenant and overall', async () => {
        const acmeRaw = ACME_LINES.reduce((s, l) => s + utf8(`${l[0]} ${l[3]}`), 0);
        const acme = await e.stats('acme');
        expect(acme).toMatchObject({ rows: 16, rawBytes: acmeRaw, streams: 7, partitions: 3 });
        expect(acme.diskBytes).toBeGreaterThan(0);
        const globex = await e.stats('globex');
        expect(globex).toMatchObject({ rows: 2, streams: 2, partitions: 1 });
        const all = await e.stats();
        expect(all).toMatchObject({ rows: 18, rawBytes: acmeRaw + globex.rawBytes, streams: 9, partitions: 3 });
        expect(all.diskBytes).toBeGreaterThanOrEqual(acme.diskBytes);
      });
    });

    describe('retention', () => {
      it('drops partitions whose newest line is older than now - maxAge', async () => {
        await withEngine(async (x) => {
          await loadFixture(x);
          // Day 0's newest line is 23:59:59.999999999: kept by a cutoff at that instant, dropped 1ns later.
          const now = at(2);
          expect(await x.applyRetention({ maxAgeNs: now - byId.get('L04')![2] }, now)).toEqual({ droppedPartitions: 0 });
          expect(await x.applyRetention({ maxAgeNs: now - byId.get('L04')![2] - 1n }, now)).toEqual({ droppedPartitions: 1 });
          expect(ids(await collect(x.scan({ tenant: 'acme', matchers: ALL, startNs: START, endNs: END, lineFilters: [], direction: 'forward' })))).toEqual(
            ACME_LINES.filter((l) => l[2] >= at(1)).map((l) => l[0]),
          );
          expect(await x.labelValues('acme', 'app', START, at(1))).toEqual([]);
          expect(await x.stats()).toMatchObject({ rows: 18 - 4, partitions: 2 });
          // Streams left without lines are gone everywhere.
          await x.applyRetention({ maxAgeNs: DAY_NS }, at(3, '03:00:00'));
          expect(await x.stats()).toMatchObject({ rows: 5, partitions: 1, streams: 4 });
          expect(await x.labelValues('acme', 'app', START, END)).toEqual(['api', 'api-gateway', 'worker']);
          expect(await x.labelValues('globex', 'app', START, END)).toEqual([]);
          // Partitions are recreated by later appends.
          await x.append('acme', [{ tsNs: at(0), labels: S.C, line: 'late' }]);
          expect(await x.labelValues('acme', 'app', START, at(1))).toEqual(['web']);
        });
      });

      it('drops the oldest partitions first until the size is at most maxBytes', async () => {
        await withEngine(async (x) => {
          for (let day = 0; day < 3; day++) {
            const rows = Array.from({ length: 300 }, (_, i) => ({
              tsNs: at(day, '01:00:00') + BigInt(i) * NS_PER_S,
              labels: { app: `app${i % 3}` },
              line: `day=${day} line=${i} ${'x'.repeat(80)}`,
            }));
            await x.append('t', rows);
          }
          const days = async () => {
            const rows = await collect(x.scan({ tenant: 't', matchers: ALL, startNs: START, endNs: END, lineFilters: [], direction: 'forward' }));
            return [...new Set(rows.map((r) => Number((r.tsNs - START) / DAY_NS)))];
          };
          expect(await x.applyRetention({ maxBytes: Number.MAX_SAFE_INTEGER }, at(3))).toEqual({ droppedPartitions: 0 });
          expect(await days()).toEqual([0, 1, 2]);
          let limit = (await x.stats()).diskBytes;
          let sawPartial = false;
          for (let i = 0; i < 60 && (await days()).length > 0; i++) {
            limit = Math.floor(limit * 0.8);
            await x.applyRetention({ maxBytes: limit }, at(3));
            const left = await days();
            // Always a suffix: the newest days survive longest.
            expect(left).toEqual([0, 1, 2].slice(3 - left.length));
            if (left.length > 0 && left.length < 3) sawPartial = true;
          }
          expect(sawPartial).toBe(true);
          expect(await days()).toEqual([]);
          expect(await x.stats()).toMatchObject({ rows: 0, partitions: 0, streams: 0 });
        });
      });
    });

    describe('matches the in-memory reference engine on random data and queries', () => {
      it('scan, count, labels and series agree', async () => {
        const rnd = prng(42);
        const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
        const apps = ['api', 'web', 'db', 'api-v2', 'cache'];
        const tenants = ['t1', 't2', 't3'];
        const words = ['GET', 'POST', 'error', 'warn', '50%', 'a_b', 'x.y', 'ü', 'timeout', 'ok'];
        await withEngine(async (x) => {
          const oracle = new MemoryEngine();
          for (let b = 0; b < 20; b++) {
            const tenant = pick(tenants);
            const rows: LogRow[] = Array.from({ length: 100 }, () => {
              const labels: Record<string, string> = { app: pick(apps) };
              if (rnd() < 0.6) labels.level = pick(['info', 'warn', 'error']);
              if (rnd() < 0.3) labels.zone = pick(['a', 'b', '']);
              // Coarse timestamps over 4 days: many equal ones, across streams and batches.
              const tsNs = START + BigInt(Math.floor(rnd() * 4 * 24 * 12)) * 300n * NS_PER_S;
              return { tsNs, labels, line: `${pick(words)} ${pick(words)} ${pick(words)}` };
            });
            await x.append(tenant, rows);
            await oracle.append(tenant, rows);
          }
          const matcherPool: LabelMatcher[] = [
            m('app', '=', 'api'), m('app', '!=', 'web'), m('app', '=~', 'api.*'), m('app', '!~', 'db|cache'),
            m('level', '=', ''), m('level', '!=', ''), m('zone', '=~', 'a|'), m('level', '!~', 'info'),
          ];
          const filterPool: LineFilter[] = [f('|=', 'GET'), f('!=', 'error'), f('|~', 'x.y|a_b'), f('!~', '^ok'), f('|=', '%')];
          for (let i = 0; i < 60; i++) {
            const matchers = [pick(matcherPool), ...(rnd() < 0.4 ? [pick(matcherPool)] : [])];
            const lineFilters = Array.from({ length: Math.floor(rnd() * 3) }, () => pick(filterPool));
            const s0 = START + BigInt(Math.floor(rnd() * 3 * 24)) * 3600n * NS_PER_S;
            const q: ScanQuery = {
              tenant: pick(tenants), matchers, lineFilters, startNs: s0, endNs: s0 + BigInt(1 + Math.floor(rnd() * 48)) * 3600n * NS_PER_S,
              direction: rnd() < 0.5 ? 'forward' : 'backward', limit: rnd() < 0.5 ? 1 + Math.floor(rnd() * 300) : undefined,
            };
            const ctx = JSON.stringify(q, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
            expect(await collect(x.scan(q)), ctx).toEqual(await collect(oracle.scan(q)));
            const cq: CountQuery = { ...q, stepNs: BigInt(1 + Math.floor(rnd() * 6)) * 3600n * NS_PER_S, by: rnd() < 0.5 ? ['level'] : ['app', 'zone'] };
            expect(await x.count(cq), ctx).toEqual(await oracle.count(cq));
            expect(await x.labelNames(q.tenant, q.startNs, q.endNs, matchers), ctx).toEqual(await oracle.labelNames(q.tenant, q.startNs, q.endNs, matchers));
            expect(await x.labelValues(q.tenant, 'level', q.startNs, q.endNs, matchers), ctx).toEqual(await oracle.labelValues(q.tenant, 'level', q.startNs, q.endNs, matchers));
            const sets = [matchers, [pick(matcherPool)]];
            expect(await x.series(q.tenant, sets, q.startNs, q.endNs), ctx).toEqual(await oracle.series(q.tenant, sets, q.startNs, q.endNs));
          }
          for (const t of tenants) expect(await x.stats(t)).toMatchObject({ ...(await oracle.stats(t)), diskBytes: expect.any(Number) });
        });
      });
    });
  });
}
