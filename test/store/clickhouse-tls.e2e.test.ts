import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverConfigSchema } from '../../src/server/config.js';
import { openEngine } from '../../src/server/run.js';
import { makeCerts } from '../helpers/certs.js';
import { startClickHouse, type TestClickHouse } from '../helpers/clickhouse.js';
import { tempDir } from '../helpers/proc.js';

/**
 * The ClickHouse engine over HTTPS with a private CA, configured as the server is
 * (engine.clickhouse.tls), against a real ClickHouse 18.16 serving HTTPS.
 */
const tmp = tempDir('loggy-ch-tls-');
const certs = makeCerts(tmp.dir);
let ch: TestClickHouse;
beforeAll(async () => {
  ch = await startClickHouse(join(tmp.dir, 'clickhouse'), { https: { cert: certs.serverCert, key: certs.serverKey } });
}, 60_000);
afterAll(async () => {
  await ch?.stop();
  tmp.cleanup();
});

const config = (tls?: Record<string, unknown>) => serverConfigSchema.parse({
  engine: { type: 'clickhouse', clickhouse: { url: ch.httpsUrl, user: ch.user, password: ch.password, database: 'tls', ...(tls ? { tls } : {}) } },
});

describe('ClickHouse engine over TLS', () => {
  it('verifies the server with engine.clickhouse.tls.ca_file, then stores and reads', async () => {
    const engine = await openEngine(config({ ca_file: certs.ca }));
    try {
      const t = 1_795_300_000_000_000_000n;
      await engine.append('acme', [{ tsNs: t, labels: { app: 'web' }, line: 'over https' }]);
      const rows = [];
      for await (const b of engine.scan({ tenant: 'acme', matchers: [{ name: 'app', op: '=', value: 'web' }], startNs: t - 1n, endNs: t + 1n, lineFilters: [], direction: 'forward' })) rows.push(...b);
      expect(rows.map((r) => r.line)).toEqual(['over https']);
    } finally {
      await engine.close();
    }
  });

  it('refuses a server its CA did not sign, naming the failure', async () => {
    await expect(openEngine(config())).rejects.toThrow(/clickhouse: .*(UNABLE_TO_VERIFY|SELF_SIGNED|unable to verify)/i);
  });
});
