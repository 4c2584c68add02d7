import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openDuckDbEngine } from '../../src/store/duckdb/index.js';
import { MemoryEngine } from '../../src/store/memory/index.js';
import { describeLogQLConformance } from './logql-conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'loggy-logql-conf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeLogQLConformance('memory', async () => new MemoryEngine());
describeLogQLConformance('duckdb', () => openDuckDbEngine({ dataDir: dir }));
