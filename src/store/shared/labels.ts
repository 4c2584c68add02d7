import { createHash } from 'node:crypto';
import type { Labels } from '../engine.js';

/**
 * Stream identity shared by every engine, so that both order ties the same way and a stream
 * keeps its id across restarts and engines.
 */

/** Prometheus/Loki label names. Validated at append so a name is always safe as a map key. */
export const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Sorted [name, value] pairs without empty values (Prometheus: an empty label is no label). */
export function labelEntries(labels: Labels): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const name of Object.keys(labels)) {
    const value = labels[name]!;
    if (value !== '') out.push([name, value]);
  }
  // Code-unit order, not localeCompare: the key must not depend on the process locale.
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Builds a plain object safely (a label may be called `__proto__` or `constructor`). */
export function labelsFromEntries(entries: Iterable<readonly [string, string]>): Labels {
  return Object.fromEntries(entries);
}

/** The canonical text of a label set: `{a="x", b="y"}`, names sorted, values JSON-quoted. */
export function labelsKey(entries: ReadonlyArray<readonly [string, string]>): string {
  return `{${entries.map(([n, v]) => `${n}=${JSON.stringify(v)}`).join(', ')}}`;
}

/** A stable, non-negative 63-bit id of a stream: the first 8 bytes of sha256(labelsKey). */
export function streamIdOf(key: string): bigint {
  const digest = createHash('sha256').update(key).digest();
  return digest.readBigUInt64BE(0) & 0x7fff_ffff_ffff_ffffn;
}

/** Reads a label the Prometheus way: absent and empty are the same (""). */
export function labelValue(labels: Labels, name: string): string {
  return Object.hasOwn(labels, name) ? labels[name]! : '';
}

export const compareBigint = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
