import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bearerFromElasticAuth } from '../auth.js';
import type { ServerContext } from '../context.js';
import { HttpError } from '../errors.js';
import { decodeBody } from '../ingest/body.js';
import { bulkResponse, markRejected, parseBulk } from '../ingest/elasticsearch.js';
import { ingest } from '../ingest/submit.js';

/** The Elasticsearch version announced: 8.x clients (Filebeat 8, Vector) accept it, 7.x ones too. */
export const ES_VERSION = '8.11.0';
const PRODUCT = { 'x-elastic-product': 'Elasticsearch' };

/**
 * An Elasticsearch-compatible ingest API, so Fluent Bit's `es` output, Filebeat and Vector's
 * `elasticsearch` sink write into Loggy unchanged: `_bulk` (index/create actions, see
 * ingest/elasticsearch.ts for how a document becomes labels and a line) and the probes they
 * make before sending (`GET /`, `_license`, templates, ILM policies, cluster health), which
 * answer fixed stubs. Every answer carries `X-Elastic-Product: Elasticsearch` (8.x clients
 * refuse a server without it).
 *
 * Mounted twice: under `/es` (the whole API there, `GET /es` included) and at the root,
 * where most agents look by default. At the root `GET /` is shared with the web UI: the UI
 * answers requests that accept text/html or send `Accept: * / *` (browsers, curl, fetch),
 * and hands the rest (`Accept: application/json`, or no Accept at all) to `esRoot`. A client
 * that gets the page there can be pointed at `/es`.
 *
 * The probes need no token (they reveal nothing); `_bulk` needs a token with the write right,
 * given as ES clients can (see bearerFromElasticAuth).
 */
export async function registerElasticsearchRoutes(app: FastifyInstance, ctx: ServerContext, opts: { rootOwnedByUi: boolean }): Promise<void> {
  await app.register(async (es) => routes(es, ctx, true), { prefix: '/es' });
  await app.register(async (es) => routes(es, ctx, !opts.rootOwnedByUi));
}

/** `GET /`'s Elasticsearch answer (also used by the UI's `/` route for non-browser clients). */
export function esRoot(_req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.headers(PRODUCT).type('application/json').send({
    name: 'loggy',
    cluster_name: 'loggy',
    cluster_uuid: 'loggy-0000000000000000000',
    version: {
      number: ES_VERSION,
      build_flavor: 'default',
      build_type: 'loggy',
      build_hash: 'loggy',
      build_date: '2023-11-04T10:04:57.184859352Z',
      build_snapshot: false,
      lucene_version: '9.8.0',
      minimum_wire_compatibility_version: '7.17.0',
      minimum_index_compatibility_version: '7.0.0',
    },
    tagline: 'You Know, for Search',
  });
}

/** Whether `GET /` from this request is for the web page rather than the Elasticsearch info. */
export function wantsPage(req: FastifyRequest): boolean {
  const accept = req.headers.accept;
  if (accept === undefined) return false;
  return /text\/html|\*\/\*/i.test(accept);
}

function routes(app: FastifyInstance, ctx: ServerContext, withRoot: boolean): void {
  const { limits } = ctx.config;
  app.addHook('onRequest', async (_req, reply) => {
    reply.headers(PRODUCT);
  });
  // ES clients read JSON errors: `{"error":{"type","reason"},"status"}`.
  app.setErrorHandler((e, _req, reply) => {
    const err = e instanceof Error ? e : new Error(String(e));
    const status = err instanceof HttpError ? err.status : ((err as { statusCode?: number }).statusCode ?? 500);
    if (status >= 500) ctx.log.error({ err: err.message, stack: err.stack }, 'elasticsearch request failed');
    const reason = status === 413 && !(err instanceof HttpError) ? `request body over ${limits.max_body_bytes} bytes` : err.message;
    const type = status === 401 ? 'security_exception' : status === 413 ? 'content_too_long_exception' : status === 429 ? 'es_rejected_execution_exception' : 'illegal_argument_exception';
    const error = { root_cause: [{ type, reason }], type, reason };
    return reply.code(status).headers(err instanceof HttpError ? err.headers : {}).type('application/json').send({ error, status });
  });

  if (withRoot) app.get('/', esRoot);

  const ack = async () => ({ acknowledged: true });
  app.get('/_license', async () => ({
    license: {
      status: 'active', uid: '00000000-0000-0000-0000-000000000000', type: 'basic', issue_date: '2023-11-04T00:00:00.000Z',
      issue_date_in_millis: 1699056000000, max_nodes: 1000, max_resource_units: null, issued_to: 'loggy', issuer: 'elasticsearch', start_date_in_millis: -1,
    },
  }));
  app.get('/_xpack', async () => ({
    build: { hash: 'loggy', date: '2023-11-04T10:04:57.184859352Z' },
    license: { uid: '00000000-0000-0000-0000-000000000000', type: 'basic', mode: 'basic', status: 'active' },
    features: {},
  }));
  app.get('/_cluster/health', async () => ({
    cluster_name: 'loggy', status: 'green', timed_out: false, number_of_nodes: 1, number_of_data_nodes: 1,
    active_primary_shards: 0, active_shards: 0, relocating_shards: 0, initializing_shards: 0, unassigned_shards: 0,
    delayed_unassigned_shards: 0, number_of_pending_tasks: 0, number_of_in_flight_fetch: 0, task_max_waiting_in_queue_millis: 0,
    active_shards_percent_as_number: 100.0,
  }));
  // Templates and ILM policies: every one "exists" (GET/HEAD 200), and creating one is
  // acknowledged and forgotten. Loggy has no mappings; agents that install them carry on.
  app.get<{ Params: { name: string } }>('/_index_template/:name', async (req) => ({
    index_templates: [{ name: req.params.name, index_template: { index_patterns: [`${req.params.name}*`], composed_of: [], template: {} } }],
  }));
  app.put('/_index_template/:name', ack);
  app.post('/_index_template/:name', ack);
  app.get<{ Params: { name: string } }>('/_template/:name', async (req) => ({
    [req.params.name]: { order: 0, index_patterns: [`${req.params.name}*`], settings: {}, mappings: {}, aliases: {} },
  }));
  app.put('/_template/:name', ack);
  app.post('/_template/:name', ack);
  app.get<{ Params: { name: string } }>('/_ilm/policy/:name', async (req) => ({
    [req.params.name]: { version: 1, modified_date: '2023-11-04T00:00:00.000Z', policy: { phases: {} } },
  }));
  app.put('/_ilm/policy/:name', ack);

  const bulk = async (req: FastifyRequest<{ Params: { index?: string } }>, reply: FastifyReply) => {
    const started = Date.now();
    const org = req.headers['x-scope-orgid'];
    const tenant = ctx.auth.tenantFor(bearerFromElasticAuth(req.headers.authorization), Array.isArray(org) ? org[0] : org, 'write');
    if (!Buffer.isBuffer(req.body)) throw new HttpError(400, 'request body is required');
    const enc = req.headers['content-encoding'];
    const body = decodeBody(req.body, Array.isArray(enc) ? enc[0] : enc, limits.max_body_bytes);
    const parsed = parseBulk(body, req.params.index, limits.max_entries_per_push);
    if (parsed.streams.length > 0) {
      // Entries breaking a limit (too old, too long) are refused in their items; the rest is written.
      const result = await ingest(ctx, tenant, parsed.streams, { partial: true });
      markRejected(parsed, result.rejected);
    }
    return reply.type('application/json').send(bulkResponse(parsed.items, Date.now() - started));
  };
  app.post('/_bulk', bulk);
  app.put('/_bulk', bulk);
  app.post('/:index/_bulk', bulk);
  app.put('/:index/_bulk', bulk);
}
