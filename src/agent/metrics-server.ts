import { createServer, type Server } from 'node:http';
import type { AgentMetrics } from '../core/metrics.js';

/**
 * GET /metrics in Prometheus text format; GET /healthz (alias /health) while the process
 * serves; GET /readyz once every component started (sources reading, metadata listed).
 */
export async function startMetricsServer(address: string, metrics: AgentMetrics, ready: () => boolean = () => true): Promise<Server> {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i) || '0.0.0.0';
  const port = Number(address.slice(i + 1));
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      metrics.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    } else if (req.method === 'GET' && (req.url === '/health' || req.url === '/healthz')) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (req.method === 'GET' && req.url === '/readyz') {
      if (ready()) res.writeHead(200, { 'content-type': 'text/plain' }).end('ready\n');
      else res.writeHead(503, { 'content-type': 'text/plain' }).end('starting\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
