import { existsSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';

/**
 * The UI renders untrusted log lines, so the page may only talk to this server, load its own
 * hashed assets, and never be framed. Vite's output has no inline script or style element;
 * Preact sets styles through the CSSOM, which style-src does not restrict. `connect-src 'self'`
 * covers this origin's ws:/wss: in current browsers; `ws: wss:` would let any host in.
 */
export const UI_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
});

/**
 * Paths that belong to the API (or are files): never answered with index.html. `/_…` and
 * `/es/…` are the Elasticsearch-compatible API's, `/otlp/…` and `/v1/…` the OTLP receiver's
 * (an agent probing `/_ilm/policy/x` must get a 404, not a page).
 */
const NOT_CLIENT_ROUTE = /^\/(?:loki|api|assets|metrics|ready|es|otlp|v1|_[^/]*)(?:\/|$)|\.[A-Za-z0-9]+$/;

/**
 * `/` for requests that are not for the page (see routes/elasticsearch.ts: Elasticsearch
 * clients probe `GET /` for JSON), with the test that tells them apart.
 */
export interface ApiRoot {
  wantsPage: (req: FastifyRequest) => boolean;
  handler: (req: FastifyRequest, reply: FastifyReply) => unknown;
}

/**
 * The built UI: dist/ui next to the compiled server (dist/server/routes/ → dist/ui/). Run
 * from source (vitest, tsx) this module sits in src/server/routes/, where ../../ui/ is the
 * UI's source; the build output is then the repository's dist/ui.
 */
export function defaultUiDir(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  return fileURLToPath(new URL(fromSource ? '../../../dist/ui/' : '../../ui/', import.meta.url));
}

/** Returns whether the UI took the route `/` (then `apiRoot` answers the non-page requests there). */
export async function registerUiRoutes(app: FastifyInstance, ctx: ServerContext, apiRoot?: ApiRoot): Promise<boolean> {
  const cfg = ctx.config.ui;
  if (!cfg.enabled) return false;
  const dir = cfg.dir ?? defaultUiDir();
  const notPage = (req: FastifyRequest) => apiRoot !== undefined && !apiRoot.wantsPage(req);
  if (!existsSync(`${dir}/index.html`)) {
    app.get('/', async (req, reply) => notPage(req) ? apiRoot!.handler(req, reply) :
      reply.code(503).header('cache-control', 'no-store').type('text/plain; charset=utf-8')
        .send(`The web UI is not built (no ${dir}/index.html): run \`npm run build\`.\n`));
    return true;
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    // One route per file at startup: unknown paths fall through to the API's 404 or the
    // client-route fallback below instead of a filesystem lookup per request.
    wildcard: false,
    index: false,
    cacheControl: false,
    setHeaders: (res, path) => {
      for (const [k, v] of Object.entries(UI_SECURITY_HEADERS)) res.setHeader(k, v);
      // Vite names assets by content hash, so they never change; index.html names the current ones.
      // Judged on the path inside the UI directory: the directory's own path may hold "assets".
      res.setHeader('cache-control', relative(dir, path).startsWith(`assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  app.get('/', (req, reply) => notPage(req) ? apiRoot!.handler(req, reply) : reply.sendFile('index.html'));
  app.get('/*', (req, reply) => {
    const path = req.url.split('?')[0]!;
    if (NOT_CLIENT_ROUTE.test(path)) return reply.callNotFound();
    return reply.sendFile('index.html');
  });
  return true;
}
