import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { openClickHouseEngine } from '../../src/store/clickhouse/index.js';
import { startChdbHttp } from '../helpers/chdb-http.js';
import { startClickHouse, type TestClickHouse } from '../helpers/clickhouse.js';
import { describeLogQLConformance } from './logql-conformance.js';

/** The LogQL suite, unchanged, on the ClickHouse engine: 18.16 (oldest supported) and 26 (chdb). */

const dir = mkdtempSync(join(tmpdir(), 'loggy-logql-ch-'));
let old: TestClickHouse;
let modern: Awaited<ReturnType<typeof startChdbHttp>>;

beforeAll(async () => {
  old = await startClickHouse(join(dir, 'ch18'));
  modern = await startChdbHttp(join(dir, 'chdb'));
}, 60_000);
afterAll(async () => {
  await old?.stop();
  await modern?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describeLogQLConformance('clickhouse 18.16', () => openClickHouseEngine({ url: old.url, user: old.user, password: old.password, database: 'logql' }));
describeLogQLConformance('clickhouse 26 (chdb)', () => openClickHouseEngine({ url: modern.url, database: 'logql' }));
