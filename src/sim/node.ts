import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { ContainerWriter, type RotationOptions } from './container-writer.js';
import { encodeMessage, type LogFormat } from './encode.js';
import { writeManifestFile, type Manifest, type ManifestEntry } from './manifest.js';
import { DEFAULT_MIX, MessageGenerator, type MessageMix } from './messages.js';
import { containerId, counterPod, planPod, type PodSpec } from './names.js';
import { makeRng, pick, type Rng } from './random.js';

export interface SimulationOptions {
  /** Directory standing in for the node's `/`: files go to ROOT/var/log/... */
  root: string;
  /** Generated pods besides the always-present `default/counter`. Default 4. */
  pods?: number;
  /** Per-pod log format; `mixed` alternates CRI and docker. Default `cri`. */
  format?: LogFormat | 'mixed';
  /** Logical messages per second over all containers. Default 200. */
  rate?: number;
  /** Stop after this many seconds. Default: run until stop(). */
  durationSec?: number;
  /** Stop after exactly this many logical messages in total. */
  lines?: number;
  /** Rotate a container's file once larger than this. Default 10 MiB. */
  rotateBytes?: number;
  /** Files kept per container, the current one included. Default 5. */
  keepFiles?: number;
  /** Rotate by copy + truncate instead of rename + reopen. */
  copytruncate?: boolean;
  /** Move deleted log files to this directory (as `<dev>-<ino>`) instead of deleting them. */
  keepDeleted?: string;
  /** Restart a random container this often. Default off. */
  restartEverySec?: number;
  /** Replace a random pod (not the counter) this often. Default off. */
  churnEverySec?: number;
  /** Where to write the manifest (at start, every `manifestEverySec`, at the end). */
  manifestPath?: string;
  manifestEverySec?: number;
  /** Seed for names and message content. Default: random. */
  seed?: number;
  /** Write period. Default 50 ms. */
  tickMs?: number;
  /** Message mix overrides (tests raise long lines and stack traces). */
  mix?: Partial<MessageMix>;
}

/** A running simulation, also usable in-process by tests and the demo. */
export interface Simulation {
  readonly root: string;
  /** Settles once stopped (limit reached, duration over, stop() called); rejects on failure. */
  readonly done: Promise<Manifest>;
  /** Snapshot of what has been written so far. */
  manifest(): Manifest;
  /** Stops writing, waits for background rotation work, fsyncs, writes the manifest. */
  stop(): Promise<Manifest>;
  /** Restarts the container `key` (random when omitted); returns its key. */
  restartContainer(key?: string): string | undefined;
  /** Deletes a random non-counter pod and creates a new one; returns the removed `ns/pod`. */
  churnPod(): string | undefined;
}

interface Active {
  key: string;
  entry: ManifestEntry;
  writer: ContainerWriter;
  gen: MessageGenerator;
  /** Relative chattiness among the non-counter containers. */
  weight: number;
  pending: Buffer[];
}

interface ActivePod {
  spec: PodSpec;
  containers: Active[];
  isCounter: boolean;
}

const MiB = 1024 * 1024;

/** Options with defaults applied (the ones read after start-up). */
interface Settings extends RotationOptions {
  pods: number;
  format: LogFormat | 'mixed';
  rate: number;
  manifestEverySec: number;
  tickMs: number;
  durationSec?: number;
  lines?: number;
  manifestPath?: string;
}

export function startSimulation(options: SimulationOptions): Simulation {
  return new SimNode(options);
}

class SimNode implements Simulation {
  readonly root: string;
  readonly done: Promise<Manifest>;
  private readonly opts: Settings;
  private readonly rng: Rng;
  private readonly mix: MessageMix;
  private readonly entries = new Map<string, ManifestEntry>();
  private readonly taken = new Set<string>();
  private pods: ActivePod[] = [];
  private podCount = 0;
  private total = 0;
  private counterLines = 0;
  private readonly t0 = performance.now();
  /** Wall-clock origin of message timestamps: line k is stamped within [k, k+1)/rate after it. */
  private readonly epochNs = BigInt(Date.now()) * 1_000_000n;
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private readonly removals = new Set<Promise<void>>();
  private failure: unknown;
  private stopping: Promise<Manifest> | undefined;
  private settle!: { resolve: (m: Manifest) => void; reject: (e: unknown) => void };

  constructor(o: SimulationOptions) {
    this.root = o.root;
    this.opts = {
      pods: o.pods ?? 4,
      format: o.format ?? 'cri',
      rate: o.rate ?? 200,
      rotateBytes: o.rotateBytes ?? 10 * MiB,
      keepFiles: o.keepFiles ?? 5,
      copytruncate: o.copytruncate ?? false,
      keepDeleted: o.keepDeleted,
      manifestEverySec: o.manifestEverySec ?? 1,
      tickMs: o.tickMs ?? 50,
      durationSec: o.durationSec,
      lines: o.lines,
      manifestPath: o.manifestPath,
    };
    validate(this.opts);
    if (this.opts.keepDeleted) mkdirSync(this.opts.keepDeleted, { recursive: true });
    this.rng = makeRng(o.seed ?? Math.floor(Math.random() * 2 ** 32));
    this.mix = { ...DEFAULT_MIX, ...o.mix };
    this.done = new Promise<Manifest>((resolve, reject) => (this.settle = { resolve, reject }));
    // stop() and done share one outcome; keep an unobserved rejection from crashing the process.
    this.done.catch(() => {});

    this.addPod(counterPod(this.rng, this.taken), true);
    for (let i = 0; i < this.opts.pods; i++) this.addPod(planPod(this.rng, this.taken), false);
    this.saveManifest();

    const every = (sec: number, fn: () => void): void => {
      this.timers.push(setInterval(fn, sec * 1000));
    };
    this.timers.push(setInterval(() => this.guard(() => this.tick()), this.opts.tickMs));
    if (this.opts.manifestPath) every(this.opts.manifestEverySec, () => this.guard(() => this.saveManifest()));
    if (o.restartEverySec) every(o.restartEverySec, () => this.restartContainer());
    if (o.churnEverySec) every(o.churnEverySec, () => this.churnPod());
    if (o.durationSec !== undefined) this.timers.push(setTimeout(() => this.finish(), o.durationSec * 1000));
  }

  manifest(): Manifest {
    const containers: Record<string, ManifestEntry> = {};
    for (const [key, e] of this.entries) containers[key] = { ...e };
    return { containers, total: this.total };
  }

  stop(): Promise<Manifest> {
    this.stopping ??= this.shutdown().then(
      (m) => {
        this.settle.resolve(m);
        return m;
      },
      (err: unknown) => {
        this.settle.reject(err);
        throw err;
      },
    );
    return this.stopping;
  }

  restartContainer(key?: string): string | undefined {
    if (this.stopping) return undefined;
    const all = this.pods.flatMap((p) => p.containers);
    const c = key === undefined ? (all.length ? pick(this.rng, all) : undefined) : all.find((a) => a.key === key);
    if (!c) return undefined;
    this.guard(() => {
      const id = containerId(this.rng);
      c.writer.restartContainer(id);
      c.entry.restarts++;
      c.entry.container_id = id;
    });
    return c.key;
  }

  churnPod(): string | undefined {
    if (this.stopping) return undefined;
    const candidates = this.pods.filter((p) => !p.isCounter);
    if (candidates.length === 0) return undefined;
    const victim = pick(this.rng, candidates);
    this.pods = this.pods.filter((p) => p !== victim);
    for (const c of victim.containers) c.entry.deleted = true;
    // kubelet removes the pod's log dir once the pod is gone; the runtime its containers.
    const removal = (async () => {
      for (const c of victim.containers) await c.writer.dispose();
      const dir = victim.containers[0]?.writer.podDir;
      if (dir) await rm(dir, { recursive: true, force: true });
    })();
    const tracked = removal.catch((err: unknown) => this.fail(err)).finally(() => this.removals.delete(tracked));
    this.removals.add(tracked);
    this.guard(() => this.addPod(planPod(this.rng, this.taken, victim.spec.namespace), false));
    return `${victim.spec.namespace}/${victim.spec.name}`;
  }

  private addPod(spec: PodSpec, isCounter: boolean): void {
    const format: LogFormat = this.opts.format === 'mixed' ? (this.podCount % 2 === 0 ? 'cri' : 'docker') : this.opts.format;
    this.podCount++;
    const pod: ActivePod = { spec, containers: [], isCounter };
    for (const cs of spec.containers) {
      const key = `${spec.namespace}/${spec.name}/${cs.name}`;
      const id = containerId(this.rng);
      const meta = { namespace: spec.namespace, pod: spec.name, podUid: spec.uid, container: cs.name, format };
      const writer = new ContainerWriter(this.root, meta, this.opts, id);
      writer.open();
      const entry: ManifestEntry = { lines: 0, namespace: spec.namespace, pod: spec.name, pod_uid: spec.uid, container: cs.name, format, restarts: 0, container_id: id };
      this.entries.set(key, entry);
      const gen = new MessageGenerator(key, cs.style, this.rng, this.mix);
      pod.containers.push({ key, entry, writer, gen, weight: 0.2 + this.rng() * 2.8, pending: [] });
    }
    this.pods.push(pod);
  }

  /** Emits what is due since the start at `rate`, in one batch of writes per container. */
  private tick(): void {
    if (this.stopping) return;
    const { rate, lines } = this.opts;
    const elapsed = (performance.now() - this.t0) / 1000;
    let target = Math.floor(elapsed * rate);
    if (lines !== undefined) target = Math.min(target, lines);
    // After a stall, catch up gradually rather than in one giant burst.
    const due = Math.min(target - this.total, Math.max(100, Math.ceil(rate / 4)));
    if (due > 0) this.emit(due, elapsed);
    for (const p of this.pods) for (const c of p.containers) if (c.writer.failure !== undefined) throw c.writer.failure;
    if (lines !== undefined && this.total >= lines) this.finish();
  }

  private emit(due: number, elapsed: number): void {
    const counter = this.pods.find((p) => p.isCounter)?.containers[0];
    const others = this.pods.filter((p) => !p.isCounter).flatMap((p) => p.containers);
    // The counter prints once a second at the default rate (200/s), proportionally otherwise.
    let forCounter = 0;
    if (counter) {
      forCounter = others.length === 0 ? due : Math.max(0, Math.min(due, Math.floor((elapsed * this.opts.rate) / 200) - this.counterLines));
    }
    const cumulative: number[] = [];
    let sum = 0;
    for (const c of others) cumulative.push((sum += c.weight));
    const touched = new Set<Active>();
    for (let i = 0; i < due; i++) {
      let c: Active | undefined;
      if (i < forCounter || others.length === 0) c = counter;
      else {
        const r = this.rng() * sum;
        let j = 0;
        while (cumulative[j] <= r && j < others.length - 1) j++;
        c = others[j];
      }
      if (!c) break;
      if (c === counter) this.counterLines++;
      // Jitter inside the line's slot keeps stamps increasing without looking machine-made.
      const ns = this.epochNs + BigInt(Math.floor(((this.total + this.rng() * 0.999) * 1e9) / this.opts.rate));
      const n = c.entry.lines++;
      this.total++;
      c.pending.push(encodeMessage(c.entry.format, ns, c.gen.next(n, ns)));
      touched.add(c);
    }
    for (const c of touched) {
      const msgs = c.pending;
      c.pending = [];
      c.writer.write(msgs);
    }
  }

  private saveManifest(): void {
    if (this.opts.manifestPath) writeManifestFile(this.opts.manifestPath, this.manifest());
  }

  private finish(): void {
    this.stop().catch(() => {});
  }

  /** Runs a step; a failure stops the simulation (and rejects `done`). */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    this.finish();
  }

  private async shutdown(): Promise<Manifest> {
    for (const t of this.timers) clearInterval(t);
    await Promise.all([...this.removals]);
    for (const p of this.pods) {
      for (const c of p.containers) {
        try {
          await c.writer.close();
        } catch (err) {
          this.failure ??= err;
        }
      }
    }
    const m = this.manifest();
    if (this.opts.manifestPath) writeManifestFile(this.opts.manifestPath, m);
    if (this.failure !== undefined) throw this.failure;
    return m;
  }
}

function validate(o: Settings): void {
  const check = (ok: boolean, what: string): void => {
    if (!ok) throw new RangeError(`simulate: ${what}`);
  };
  check(Number.isInteger(o.pods) && o.pods >= 0, 'pods must be a non-negative integer');
  check(Number.isFinite(o.rate) && o.rate > 0, 'rate must be positive');
  check(Number.isInteger(o.rotateBytes) && o.rotateBytes > 0, 'rotate bytes must be a positive integer');
  check(Number.isInteger(o.keepFiles) && o.keepFiles >= 1, 'keep files must be at least 1');
  check(o.tickMs > 0, 'tick must be positive');
  check(o.lines === undefined || (Number.isInteger(o.lines) && o.lines >= 0), 'lines must be a non-negative integer');
  check(o.durationSec === undefined || o.durationSec >= 0, 'duration must be non-negative');
}
