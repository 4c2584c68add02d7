import type { Labels } from '../store/engine.js';

export interface TailEntry {
  tsNs: bigint;
  labels: Labels;
  line: string;
  /** Structured metadata (detected_level among it), as stored with the line. */
  metadata?: Labels;
}

export type TailListener = (entries: TailEntry[]) => void;

/**
 * Fans appended lines out to live-tail subscribers of the same tenant. Subscribers filter
 * for themselves (their LogQL pipeline); the hub only routes by tenant.
 */
export class TailHub {
  private readonly subs = new Map<string, Set<TailListener>>();

  subscribe(tenant: string, fn: TailListener): () => void {
    let set = this.subs.get(tenant);
    if (!set) this.subs.set(tenant, (set = new Set()));
    set.add(fn);
    return () => {
      set!.delete(fn);
      if (set!.size === 0) this.subs.delete(tenant);
    };
  }

  hasSubscribers(tenant: string): boolean {
    return this.subs.has(tenant);
  }

  publish(tenant: string, entries: TailEntry[]): void {
    const set = this.subs.get(tenant);
    if (!set || entries.length === 0) return;
    for (const fn of set) fn(entries);
  }
}
