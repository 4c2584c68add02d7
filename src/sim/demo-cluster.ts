import { appendFileSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerWriter } from './container-writer.js';
import { backupJob, counter, counterInfo, crashingGo, javaService, jsonWeb, logfmtApp, type DemoSpeaker } from './demo-messages.js';
import { encodeMessage } from './encode.js';
import { SimKubeApi, pod, type Pod } from './kube-api.js';
import { containerId, podUid } from './names.js';
import { makeRng, type Rng } from './random.js';

export const DEMO_NODE = 'demo-node';

export interface DemoClusterOptions {
  /** Directory standing in for the node's `/`. */
  root: string;
  /** Rotate container logs past this size (small, so rotation shows). Default 256 KiB. */
  rotateBytes?: number;
  /** Scales every pod's rate. Default 1. */
  speed?: number;
  seed?: number;
}

/** One thing a container says, at a rate, to its stdout/stderr or to a file in its pod. */
interface Voice {
  speak: DemoSpeaker;
  perSec: number;
  /** Not set: the container's stdout/stderr. Set: a file on the pod's emptyDir (node path). */
  file?: string;
  /** Also echoed by these writers (the seeds' streaming sidecars). */
  echo?: ContainerWriter[];
  n: number;
  due: number;
}

interface DemoPod {
  pod: Pod;
  writers: Map<string, ContainerWriter>;
  voices: Array<{ writer: ContainerWriter | null; voice: Voice }>;
  /** Restart the first container every this many lines of its voice (a crash loop). */
  crashEvery?: number;
  /** Finish after this many lines of its first voice (a Job), then vanish after `goneAfterMs`. */
  finishAfter?: number;
  finishedAt?: number;
}

/**
 * A small cluster for `loggy demo`: one simulated node whose pods tell a story worth
 * querying — the seeds' counter and two-file counter with streaming sidecars, a JSON web
 * service, a Java service with stack traces, a crash-looping worker, a legacy app whose
 * in-pod files are collected through `loggy.io/files`, and a backup Job that finishes and
 * whose pod is deleted (its logs are then only in the store). Files rotate at a small size,
 * and a simulated API server serves the pods, so the agent's Kubernetes metadata is real.
 */
export class DemoCluster {
  readonly api = new SimKubeApi();
  private readonly rng: Rng;
  private readonly pods: DemoPod[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly t0 = Date.now();
  private readonly rotateBytes: number;
  private readonly speed: number;
  private readonly kubelet: string;

  constructor(private readonly opts: DemoClusterOptions) {
    this.rng = makeRng(opts.seed ?? Date.now() & 0xffff);
    this.rotateBytes = opts.rotateBytes ?? 256 * 1024;
    this.speed = opts.speed ?? 1;
    this.kubelet = join(opts.root, 'var/lib/kubelet');
  }

  async start(): Promise<void> {
    await this.api.start();
    this.api.putNamespace('default', { 'kubernetes.io/metadata.name': 'default' });
    this.api.putNamespace('shop', { 'kubernetes.io/metadata.name': 'shop', team: 'storefront' });
    this.api.putNamespace('billing', { 'kubernetes.io/metadata.name': 'billing', team: 'finance' });
    this.plan();
    this.timer = setInterval(() => this.tick(), 100);
  }

  /** Pod names as `namespace/name`, for the hints the demo prints. */
  podNames(): string[] {
    return this.pods.map((p) => `${p.pod.metadata.namespace}/${p.pod.metadata.name}`);
  }

  /** Stops writing (the files and the API stay). */
  pause(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async stop(): Promise<void> {
    this.pause();
    await Promise.all(this.removals);
    for (const p of this.pods) for (const w of p.writers.values()) await w.close();
    await this.api.stop();
  }

  private suffix(n: number): string {
    const abc = 'bcdfghjklmnpqrstvwxz2456789';
    let s = '';
    for (let i = 0; i < n; i++) s += abc[Math.floor(this.rng() * abc.length)];
    return s;
  }

  private plan(): void {
    const rng = this.rng;
    const busybox = 'docker.io/library/busybox:1.36';
    // The seeds' pods, as written there: a bare pod, no owner.
    this.add(pod({ name: 'counter', uid: podUid(rng), namespace: 'default', node: DEMO_NODE, labels: { app: 'counter' }, owner: null, containers: { count: busybox } }),
      { count: [{ speak: counter, perSec: 1 }] });

    const twoFiles = this.add(pod({
      name: 'counter-sidecar', uid: podUid(rng), namespace: 'default', node: DEMO_NODE, labels: { app: 'counter-sidecar' }, owner: null,
      containers: { count: busybox, 'count-log-1': busybox, 'count-log-2': busybox },
      mounts: { count: [{ name: 'varlog', mountPath: '/var/log' }], 'count-log-1': [{ name: 'varlog', mountPath: '/var/log' }], 'count-log-2': [{ name: 'varlog', mountPath: '/var/log' }] },
      volumes: [{ name: 'varlog', emptyDir: {} }],
    }), {});
    // `count` writes two files; each streaming sidecar (`tail -n+1 -F`) repeats one on its stdout.
    const varlog = this.emptyDir(twoFiles.pod, 'varlog');
    twoFiles.voices.push(
      { writer: null, voice: this.voice(counter, 1, { file: join(varlog, '1.log'), echo: [twoFiles.writers.get('count-log-1')!] }) },
      { writer: null, voice: this.voice(counterInfo, 1, { file: join(varlog, '2.log'), echo: [twoFiles.writers.get('count-log-2')!] }) },
    );

    const webHash = this.suffix(10);
    for (let i = 0; i < 2; i++) {
      const name = `web-${webHash}-${this.suffix(5)}`;
      this.add(pod({
        name, uid: podUid(rng), namespace: 'shop', node: DEMO_NODE, labels: { app: 'web', 'pod-template-hash': webHash, tier: 'frontend' },
        annotations: { 'loggy.io/parser': 'json' }, owner: { kind: 'ReplicaSet', name: `web-${webHash}` }, containers: { web: 'registry.example/shop/web:2.4.1' },
      }), { web: [{ speak: jsonWeb(rng), perSec: 4 }] });
    }

    const ordersHash = this.suffix(9);
    this.add(pod({
      name: `orders-${ordersHash}-${this.suffix(5)}`, uid: podUid(rng), namespace: 'shop', node: DEMO_NODE,
      labels: { app: 'orders', 'pod-template-hash': ordersHash, tier: 'backend' }, annotations: { 'loggy.io/multiline': 'java' },
      owner: { kind: 'ReplicaSet', name: `orders-${ordersHash}` }, containers: { orders: 'registry.example/shop/orders:1.12.0' },
    }), { orders: [{ speak: javaService(rng), perSec: 3 }] });

    const syncHash = this.suffix(10);
    const crash = this.add(pod({
      name: `sync-worker-${syncHash}-${this.suffix(5)}`, uid: podUid(rng), namespace: 'default', node: DEMO_NODE,
      labels: { app: 'sync-worker', 'pod-template-hash': syncHash }, annotations: { 'loggy.io/multiline': 'go' },
      owner: { kind: 'ReplicaSet', name: `sync-worker-${syncHash}` }, containers: { worker: 'registry.example/tools/sync-worker:1.8.2' },
    }), { worker: [{ speak: crashingGo(rng, 24), perSec: 2 }] });
    crash.crashEvery = 24;

    const billing = this.add(pod({
      name: 'invoicer-0', uid: podUid(rng), namespace: 'billing', node: DEMO_NODE, labels: { app: 'invoicer' },
      annotations: { 'loggy.io/files': 'invoicer:/var/log/invoicer/*.log' }, owner: { kind: 'StatefulSet', name: 'invoicer' },
      containers: { invoicer: 'registry.example/billing/invoicer:7.0.3' }, mounts: { invoicer: [{ name: 'logs', mountPath: '/var/log/invoicer' }] },
      volumes: [{ name: 'logs', emptyDir: {} }],
    }), { invoicer: [{ speak: (n, d) => ({ stream: 'stdout', lines: [`${d.toISOString()} invoicer ready, ${n} heartbeats`] }), perSec: 0.2 }] });
    const logs = this.emptyDir(billing.pod, 'logs');
    billing.voices.push(
      { writer: null, voice: this.voice(logfmtApp(rng, 'app'), 2, { file: join(logs, 'app.log') }) },
      { writer: null, voice: this.voice(logfmtApp(rng, 'audit'), 0.5, { file: join(logs, 'audit.log') }) },
    );

    const job = this.add(pod({
      name: `db-backup-29012345-${this.suffix(5)}`, uid: podUid(rng), namespace: 'shop', node: DEMO_NODE, labels: { app: 'db-backup', 'batch.kubernetes.io/job-name': 'db-backup-29012345' },
      owner: { kind: 'Job', name: 'db-backup-29012345' }, containers: { backup: 'registry.example/tools/pg-backup:16' },
    }), { backup: [{ speak: backupJob(30), perSec: 1 }] });
    job.finishAfter = 30;
  }

  private emptyDir(p: Pod, volume: string): string {
    const dir = join(this.kubelet, 'pods', p.metadata.uid, 'volumes', 'kubernetes.io~empty-dir', volume);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  private voice(speak: DemoSpeaker, perSec: number, extra: Partial<Voice> = {}): Voice {
    return { speak, perSec: perSec * this.speed, n: 0, due: 0, ...extra };
  }

  private add(p: Pod, voices: Record<string, Array<{ speak: DemoSpeaker; perSec: number }>>): DemoPod {
    const writers = new Map<string, ContainerWriter>();
    for (const c of p.spec?.containers ?? []) {
      const w = new ContainerWriter(this.opts.root, { namespace: p.metadata.namespace, pod: p.metadata.name, podUid: p.metadata.uid, container: c.name, format: 'cri' },
        { rotateBytes: this.rotateBytes, keepFiles: 5, copytruncate: false }, containerId(this.rng));
      w.open();
      writers.set(c.name, w);
    }
    const dp: DemoPod = { pod: this.api.addPod(p), writers, voices: [] };
    for (const [container, list] of Object.entries(voices)) {
      for (const v of list) dp.voices.push({ writer: writers.get(container)!, voice: this.voice(v.speak, v.perSec) });
    }
    this.pods.push(dp);
    return dp;
  }

  private tick(): void {
    const elapsed = (Date.now() - this.t0) / 1000;
    for (const p of [...this.pods]) {
      if (p.finishedAt !== undefined) {
        // kubelet removes a deleted pod's log directory; only the store remembers it now.
        if (Date.now() - p.finishedAt > 15_000 / this.speed) this.removeSoon(p);
        continue;
      }
      for (const { writer, voice } of p.voices) {
        while (voice.due <= elapsed * voice.perSec) {
          const now = new Date();
          const msg = voice.speak(voice.n, now);
          voice.n++;
          voice.due++;
          if (voice.file) {
            appendFileSync(voice.file, msg.lines.map((l) => `${l}\n`).join(''));
            for (const e of voice.echo ?? []) e.write([encodeMessage('cri', BigInt(now.getTime()) * 1_000_000n, msg)]);
          } else if (writer) {
            writer.write([encodeMessage('cri', BigInt(now.getTime()) * 1_000_000n, msg)]);
          }
          if (p.crashEvery && voice.n % p.crashEvery === 0 && writer) writer.restartContainer(containerId(this.rng));
          if (p.finishAfter && voice.n >= p.finishAfter) {
            p.finishedAt = Date.now();
            this.api.updatePod({ ...p.pod, status: { ...p.pod.status, phase: 'Succeeded' } });
            break;
          }
        }
      }
    }
  }

  /** Removal runs in the background; a failure is said, not thrown (the demo's process hosts the store too). */
  private removeSoon(p: DemoPod): void {
    this.pods.splice(this.pods.indexOf(p), 1);
    const job = this.remove(p)
      .catch((err: unknown) => process.stderr.write(`loggy demo: could not remove pod ${p.pod.metadata.name}: ${(err as Error).message}\n`))
      .finally(() => this.removals.delete(job));
    this.removals.add(job);
  }

  private readonly removals = new Set<Promise<unknown>>();

  private async remove(p: DemoPod): Promise<void> {
    for (const w of p.writers.values()) await w.dispose();
    this.api.deletePod(p.pod.metadata.uid);
    await rm(join(this.opts.root, 'var/log/pods', `${p.pod.metadata.namespace}_${p.pod.metadata.name}_${p.pod.metadata.uid}`), { recursive: true, force: true });
    await rm(join(this.kubelet, 'pods', p.pod.metadata.uid), { recursive: true, force: true });
  }
}
