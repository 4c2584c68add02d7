import { writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';

export interface SimKubeApiOptions {
  /** Serve HTTPS with this key and certificate (and put the certificate in the kubeconfig as the CA). */
  tls?: { key: string; cert: string };
  /** The bearer token clients must send. Default `sim-token`. */
  token?: string;
}

/**
 * A Kubernetes API server for pods and namespaces, on 127.0.0.1, over TLS when given a
 * certificate (its CA goes in the kubeconfig) and with a bearer token, as in a cluster,
 * speaking the real API's JSON: `PodList` with
 * a resourceVersion, watch streams (`?watch=true`, one JSON event per line, bookmarks when
 * asked), `410 Gone` for a compacted resourceVersion (as an ERROR event, as the API server
 * does, or as an HTTP status), field selectors on spec.nodeName, dropped connections.
 * The agent talks to it through @kubernetes/client-node, unmodified.
 */
export class SimKubeApi {
  constructor(private readonly opts: SimKubeApiOptions = {}) {}

  private server: Server | null = null;
  private readonly sockets = new Set<{ destroy(): void; on(e: 'close', f: () => void): unknown }>();
  private readonly watchers = new Set<{ resource: Resource; node: string | null; res: ServerResponse; bookmarks: boolean }>();
  private readonly pods = new Map<string, Pod>();
  private readonly namespaces = new Map<string, Namespace>();
  /** Every change, for watches that resume from an older resourceVersion (as etcd keeps them until compaction). */
  private readonly history: Array<{ rv: number; type: string; resource: Resource; obj: Pod | Namespace }> = [];
  private rv = 100;
  /** Watches from a resourceVersion below this get 410 Gone. */
  private compactedBelow = 0;
  /** 'event': 200 + ERROR event with a Status 410 (what the API server does); 'status': HTTP 410. */
  goneStyle: 'event' | 'status' = 'event';
  /** Answer every request with 503 (an API server down behind its load balancer). */
  down = false;
  lists = 0;
  watches = 0;
  url = '';

  async start(): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    this.server = this.opts.tls ? createHttpsServer(this.opts.tls, handler) : createHttpServer(handler);
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const addr = this.server.address();
    if (!addr || typeof addr === 'string') throw new Error('no address');
    this.url = `${this.opts.tls ? 'https' : 'http'}://127.0.0.1:${addr.port}`;
  }

  /** A kubeconfig pointing at this server, as kubectl would read it. */
  writeKubeconfig(dir: string): string {
    const file = join(dir, 'kubeconfig');
    writeFileSync(file, [
      'apiVersion: v1', 'kind: Config', 'current-context: test',
      'clusters:', `- name: test`, '  cluster:', `    server: ${this.url}`,
      // Plain HTTP on loopback (the demo): the client refuses http:// unless told to skip TLS checks.
      this.opts.tls ? `    certificate-authority-data: ${Buffer.from(this.opts.tls.cert).toString('base64')}` : '    insecure-skip-tls-verify: true',
      'users:', '- name: agent', '  user:', `    token: ${this.token}`,
      'contexts:', '- name: test', '  context:', '    cluster: test', '    user: agent', '',
    ].join('\n'));
    return file;
  }

  async stop(): Promise<void> {
    for (const w of this.watchers) w.res.end();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  addPod(pod: Pod): Pod {
    return this.put('ADDED', pod);
  }

  updatePod(pod: Pod): Pod {
    return this.put('MODIFIED', pod);
  }

  deletePod(uid: string): void {
    const p = [...this.pods.values()].find((x) => x.metadata.uid === uid);
    if (!p) return;
    this.pods.delete(uid);
    const gone = { ...p, metadata: { ...p.metadata, resourceVersion: String(++this.rv) } };
    this.broadcast('DELETED', 'pods', gone);
  }

  /** A namespace (cluster-scoped: every agent sees all of them). */
  putNamespace(name: string, labels: Record<string, string>): Namespace {
    const type = this.namespaces.has(name) ? 'MODIFIED' : 'ADDED';
    const ns: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name, uid: `ns-${name}`, labels, resourceVersion: String(++this.rv) }, status: { phase: 'Active' } };
    this.namespaces.set(name, ns);
    this.broadcast(type, 'namespaces', ns);
    return ns;
  }

  deleteNamespace(name: string): void {
    const ns = this.namespaces.get(name);
    if (!ns) return;
    this.namespaces.delete(name);
    this.broadcast('DELETED', 'namespaces', { ...ns, metadata: { ...ns.metadata, resourceVersion: String(++this.rv) } });
  }

  /** Etcd compaction: watches resuming from before now get 410 Gone. */
  compact(): void {
    this.compactedBelow = this.rv + 1;
  }

  /** Cut every watch connection (an API server restart, a load balancer timeout). */
  dropWatches(): void {
    for (const w of this.watchers) w.res.socket?.destroy();
    this.watchers.clear();
  }

  bookmark(): void {
    for (const w of this.watchers) if (w.bookmarks) w.res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { kind: w.resource === 'pods' ? 'Pod' : 'Namespace', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) } } })}\n`);
  }

  private get token(): string {
    return this.opts.token ?? 'sim-token';
  }

  get resourceVersion(): number {
    return this.rv;
  }

  private put(type: 'ADDED' | 'MODIFIED', pod: Pod): Pod {
    const stored: Pod = { ...pod, metadata: { ...pod.metadata, resourceVersion: String(++this.rv) } };
    this.pods.set(stored.metadata.uid, stored);
    this.broadcast(type, 'pods', stored);
    return stored;
  }

  private broadcast(type: string, resource: Resource, obj: Pod | Namespace): void {
    this.history.push({ rv: Number(obj.metadata.resourceVersion), type, resource, obj });
    for (const w of this.watchers) if (matches(w, resource, obj)) w.res.write(`${JSON.stringify({ type, object: obj })}\n`);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (this.down) return this.status(res, 503, 'ServiceUnavailable', 'apiserver is down');
    if (req.headers.authorization !== `Bearer ${this.token}`) return this.status(res, 401, 'Unauthorized', 'Unauthorized');
    if (url.pathname === '/api/v1/namespaces') {
      if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') return this.watch(url, 'namespaces', null, res);
      this.lists++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
        kind: 'NamespaceList', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) }, items: [...this.namespaces.values()],
      }));
      return;
    }
    if (url.pathname !== '/api/v1/pods') return this.status(res, 404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
    const selector = url.searchParams.get('fieldSelector') ?? '';
    const m = /^spec\.nodeName=(.*)$/.exec(selector);
    if (selector && !m) return this.status(res, 400, 'BadRequest', `unsupported field selector ${selector}`);
    const node = m ? m[1]! : null;
    if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') return this.watch(url, 'pods', node, res);
    this.lists++;
    const items = [...this.pods.values()].filter((p) => node === null || p.spec?.nodeName === node);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) }, items,
    }));
  }

  private watch(url: URL, resource: Resource, node: string | null, res: ServerResponse): void {
    this.watches++;
    const from = Number(url.searchParams.get('resourceVersion') ?? '0');
    if (from && from < this.compactedBelow) {
      const msg = `too old resource version: ${from} (${this.compactedBelow})`;
      if (this.goneStyle === 'status') return this.status(res, 410, 'Expired', msg);
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: msg, reason: 'Expired', code: 410 } })}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const w = { resource, node, res, bookmarks: url.searchParams.get('allowWatchBookmarks') === 'true' };
    // Changes after the version asked for come first, as the API server replays them.
    for (const e of this.history) if (e.rv > from && matches(w, e.resource, e.obj)) res.write(`${JSON.stringify({ type: e.type, object: e.obj })}\n`);
    this.watchers.add(w);
    res.on('close', () => this.watchers.delete(w));
  }

  private status(res: ServerResponse, code: number, reason: string, message: string): void {
    res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
  }
}

type Resource = 'pods' | 'namespaces';

function matches(w: { resource: Resource; node: string | null }, resource: Resource, obj: Pod | Namespace): boolean {
  if (w.resource !== resource) return false;
  return resource !== 'pods' || w.node === null || (obj as Pod).spec?.nodeName === w.node;
}

export interface Namespace {
  apiVersion: string;
  kind: string;
  metadata: { name: string; uid: string; labels: Record<string, string>; resourceVersion: string };
  status: { phase: string };
}

export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata: {
    uid: string;
    name: string;
    namespace: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
  };
  spec?: {
    nodeName?: string;
    containers: Array<{ name: string; image: string; volumeMounts?: Array<{ name: string; mountPath: string; subPath?: string }> }>;
    initContainers?: Array<{ name: string; image: string }>;
    volumes?: Array<{ name: string; emptyDir?: Record<string, never>; hostPath?: { path: string }; configMap?: { name: string } }>;
  };
  status?: { podIP?: string; phase?: string };
}

/** A pod as the API returns it (a Deployment's, unless `owner` says otherwise; null: a bare pod). */
export function pod(o: { name: string; uid: string; namespace?: string; node?: string; labels?: Record<string, string>; annotations?: Record<string, string>;
  owner?: { kind: string; name: string } | null; containers?: Record<string, string>; ip?: string;
  mounts?: Record<string, Array<{ name: string; mountPath: string; subPath?: string }>>; volumes?: NonNullable<Pod['spec']>['volumes'] }): Pod {
  const labels = o.labels ?? { app: o.name.split('-')[0]!, 'pod-template-hash': '5d8f7c9b6f' };
  const owner = o.owner === undefined ? { kind: 'ReplicaSet', name: `${o.name.split('-')[0]}-5d8f7c9b6f` } : o.owner;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      uid: o.uid, name: o.name, namespace: o.namespace ?? 'shop', labels, annotations: o.annotations ?? {},
      ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: `owner-${owner.name}`, controller: true }] } : {}),
    },
    spec: {
      nodeName: o.node ?? 'node-1',
      containers: Object.entries(o.containers ?? { app: 'registry.example/shop/app:1.4.2' }).map(([name, image]) => ({ name, image, ...(o.mounts?.[name] ? { volumeMounts: o.mounts[name] } : {}) })),
      ...(o.volumes ? { volumes: o.volumes } : {}),
    },
    status: { podIP: o.ip ?? '10.0.0.7', phase: 'Running' },
  };
}
