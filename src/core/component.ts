import type { EventBatch } from './batch.js';
import type { Logger } from './logger.js';
import type { AgentMetrics } from './metrics.js';

/** What every component gets from the topology that built it. */
export interface ComponentContext {
  /** The user's name for the component (key under sources/transforms/sinks). */
  readonly name: string;
  readonly dataDir: string;
  readonly log: Logger;
  readonly metrics: AgentMetrics;
  /** Resources components of one agent share (e.g. one pod cache for metadata and in-pod files). */
  readonly shared: Map<string, unknown>;
}

export interface SourceContext extends ComponentContext {
  /** Hand a batch downstream. Never blocks: a source asks for room before it reads. */
  emit(batch: EventBatch): void;
  /**
   * Resolves when the pipeline below this source has room for more. A source awaits it
   * before reading: that is how a full sink buffer pauses file reading, and doing it before
   * the read (not after the emit) bounds memory by the buffer, whatever the number of files.
   */
  waitForRoom(): Promise<void>;
  /** Whether the agent was asked to exit once every input is read to its end (benchmarks, tests). */
  readonly exitWhenDrained: boolean;
}

export interface Source {
  start(): Promise<void>;
  /** Stop reading. Events already emitted are still in flight; their acknowledgements still count. */
  stop(): Promise<void>;
  /** After the sinks drained: persist the final checkpoints and release files. */
  close(): Promise<void>;
  /** Resolves once every input has been read to its end (only meaningful with exitWhenDrained). */
  drained(): Promise<void>;
}

export interface Transform {
  /** Returns the events to pass on (possibly the same array), or null to pass nothing. */
  process(batch: EventBatch): EventBatch | null;
  /** Before any source starts (e.g. fill a metadata cache, so the first lines get it). */
  start?(): Promise<void>;
  /** After the sources and sinks stopped. */
  stop?(): Promise<void>;
}

export interface Sink {
  /**
   * Deliver batches. Resolves only when the events are delivered (written, sent and
   * confirmed); the topology acknowledges the batches then. Rejects to be retried.
   */
  write(batches: EventBatch[]): Promise<void>;
  stop(): Promise<void>;
}

/** A registry entry: how to build a component of one `type` from its validated config. */
export interface ComponentFactory<C, T, Ctx extends ComponentContext = ComponentContext> {
  create(config: C, ctx: Ctx): T | Promise<T>;
}
