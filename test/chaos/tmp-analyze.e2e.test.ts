import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'vitest';
import { lossReports, openedFiles, Store, storedMarkers, unreportedGaps } from './harness.js';

it('analyze kept dir', async () => {
  const dir = process.env.KEPT!;
  const yaml = readFileSync(join(dir, 'store/server.yaml'), 'utf8');
  const port = Number(/listen: 127\.0\.0\.1:(\d+)/.exec(yaml)![1]);
  const s = new Store(join(dir, 'store'), port);
  await s.start();
  const markers = await storedMarkers(s, BigInt(Date.now() - 3 * 3600_000) * 1_000_000n);
  await s.stop();
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  try { const ct = JSON.parse(readFileSync(join(dir, 'manifest-ct.json'), 'utf8')); for (const [k, c] of Object.entries(ct.containers)) if (!k.startsWith('default/counter/')) m.containers[k] = c; } catch { /* none */ }
  const gaps = [];
  for (const [key, c] of Object.entries(m.containers) as Array<[string, { lines: number }]>) {
    let from = -1;
    for (let i = 0; i <= c.lines; i++) {
      const have = i === c.lines || markers.has(`seq=${key}:${i}`);
      if (!have && from < 0) from = i;
      if (have && from >= 0) { gaps.push({ container: key, from, to: i - 1 }); from = -1; }
    }
  }
  const logs = readFileSync(join(dir, 'agent.log'), 'utf8').split('\n--- restart ---\n');
  const r = unreportedGaps(gaps, lossReports(logs), join(dir, 'deleted'), openedFiles(logs));
  console.log('SILENT', JSON.stringify(r.silent, null, 1));
  console.log('GAPS', JSON.stringify(gaps.filter((g) => g.container === process.env.CONT)));
}, 120_000);
