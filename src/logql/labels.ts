/**
 * The per-line label state of a pipeline (Loki's LabelsBuilder): the stream labels as a base,
 * labels set by stages, deletions, and the `__error__`/`__error_details__` pair. One builder is
 * reused for every line of a query; a line's final label set is materialised only when it
 * survives the pipeline.
 */
import type { Labels } from '../store/engine.js';

export const ERROR_LABEL = '__error__';
export const ERROR_DETAILS_LABEL = '__error_details__';
export const EXTRACTED_SUFFIX = '_extracted';

const hasOwn = Object.prototype.hasOwnProperty;
const EMPTY: Labels = Object.freeze({});

export class LabelsBuilder {
  base: Labels = EMPTY;
  // Labels set by stages (Loki's "parsed" category; they win over stream labels), as parallel
  // arrays: a line has few of them, and clearing is free.
  private pNames: string[] = [];
  private pValues: string[] = [];
  private pCount = 0;
  private readonly deleted: string[] = [];
  err = '';
  errDetails = '';

  reset(base: Labels): void {
    this.base = base;
    this.pCount = 0;
    if (this.deleted.length !== 0) this.deleted.length = 0;
    this.err = '';
    this.errDetails = '';
  }

  /** Is `name` a non-empty stream label? (Parsers then add `_extracted` to their name.) */
  baseHas(name: string): boolean {
    return hasOwn.call(this.base, name) && this.base[name] !== '';
  }

  private indexOf(name: string): number {
    const names = this.pNames;
    for (let i = 0; i < this.pCount; i++) if (names[i] === name) return i;
    return -1;
  }

  /** Has a stage set this label? */
  hasParsed(name: string): boolean {
    return this.indexOf(name) >= 0;
  }

  /** The current value, or undefined when absent. `__error__` and its details included. */
  get(name: string): string | undefined {
    const i = this.indexOf(name);
    if (i >= 0) return this.pValues[i];
    if (name === ERROR_LABEL) return this.err === '' ? undefined : this.err;
    if (name === ERROR_DETAILS_LABEL) return this.errDetails === '' ? undefined : this.errDetails;
    if (this.deleted.length !== 0 && this.deleted.includes(name)) return undefined;
    if (!hasOwn.call(this.base, name)) return undefined;
    const v = this.base[name]!;
    return v === '' ? undefined : v;
  }

  /** The value, "" when absent. */
  value(name: string): string {
    return this.get(name) ?? '';
  }

  set(name: string, value: string): void {
    const i = this.indexOf(name);
    if (i >= 0) {
      this.pValues[i] = value;
      return;
    }
    this.pNames[this.pCount] = name;
    this.pValues[this.pCount] = value;
    this.pCount++;
  }

  /** Set by a parser: `_extracted` on a clash with a stream label; the first value wins. */
  setExtracted(name: string, value: string): void {
    const key = this.baseHas(name) ? name + EXTRACTED_SUFFIX : name;
    if (this.indexOf(key) < 0) {
      this.pNames[this.pCount] = key;
      this.pValues[this.pCount] = value;
      this.pCount++;
    }
  }

  del(name: string): void {
    if (name === ERROR_LABEL) {
      this.err = '';
      return;
    }
    if (name === ERROR_DETAILS_LABEL) {
      this.errDetails = '';
      return;
    }
    const i = this.indexOf(name);
    if (i >= 0) {
      this.pNames.splice(i, 1);
      this.pValues.splice(i, 1);
      this.pCount--;
    }
    if (!this.deleted.includes(name)) this.deleted.push(name);
  }

  setErr(err: string, details?: string): void {
    this.err = err;
    if (details !== undefined) this.errDetails = details;
  }

  /** How many labels stages set, and each (not the stream labels), in the order they were set. */
  get parsedCount(): number {
    return this.pCount;
  }

  parsedName(i: number): string {
    return this.pNames[i]!;
  }

  parsedValue(i: number): string {
    return this.pValues[i]!;
  }

  /** Has any stage changed the stream labels? */
  get changed(): boolean {
    return this.pCount !== 0 || this.deleted.length !== 0 || this.err !== '' || this.errDetails !== '';
  }

  /** Every current label name (unsorted). */
  names(): string[] {
    const out: string[] = [];
    for (const k in this.base) {
      if (!hasOwn.call(this.base, k) || this.base[k] === '') continue;
      if (this.indexOf(k) >= 0 || (this.deleted.length !== 0 && this.deleted.includes(k))) continue;
      out.push(k);
    }
    for (let i = 0; i < this.pCount; i++) out.push(this.pNames[i]!);
    if (this.err !== '' && this.indexOf(ERROR_LABEL) < 0) out.push(ERROR_LABEL);
    if (this.errDetails !== '' && this.indexOf(ERROR_DETAILS_LABEL) < 0) out.push(ERROR_DETAILS_LABEL);
    return out;
  }

  // Scratch arrays: the current labels sorted by name (insertion sort: a line has few labels).
  private readonly sn: string[] = [];
  private readonly sv: string[] = [];

  private insert(n: number, k: string, v: string): number {
    const sn = this.sn;
    const sv = this.sv;
    let j = n;
    while (j > 0 && sn[j - 1]! > k) {
      sn[j] = sn[j - 1]!;
      sv[j] = sv[j - 1]!;
      j--;
    }
    sn[j] = k;
    sv[j] = v;
    return n + 1;
  }

  /** Fills sn/sv with the current labels sorted by name; returns how many. */
  private collectSorted(): number {
    let n = 0;
    const base = this.base;
    for (const k in base) {
      const v = base[k]!;
      if (v === '' || !hasOwn.call(base, k) || this.indexOf(k) >= 0) continue;
      if (this.deleted.length !== 0 && this.deleted.includes(k)) continue;
      n = this.insert(n, k, v);
    }
    for (let i = 0; i < this.pCount; i++) n = this.insert(n, this.pNames[i]!, this.pValues[i]!);
    if (this.err !== '' && this.indexOf(ERROR_LABEL) < 0) n = this.insert(n, ERROR_LABEL, this.err);
    if (this.errDetails !== '' && this.indexOf(ERROR_DETAILS_LABEL) < 0) n = this.insert(n, ERROR_DETAILS_LABEL, this.errDetails);
    return n;
  }

  /** A fresh label object (keys sorted), or the base object itself when nothing changed. */
  labels(): Labels {
    if (!this.changed) return this.base;
    const n = this.collectSorted();
    const out: Record<string, string> = {};
    for (let i = 0; i < n; i++) setLabel(out, this.sn[i]!, this.sv[i]!);
    return out;
  }

  /** seriesKey() of labels(), without materialising them. */
  key(): string {
    if (!this.changed) return seriesKey(this.base);
    const n = this.collectSorted();
    let k = '';
    for (let i = 0; i < n; i++) {
      const v = this.sv[i]!;
      k += this.sn[i]! + '=' + v.length + ':' + v + ',';
    }
    return k;
  }

  /** seriesKey() of grouped(names, without). */
  groupedKey(names: readonly string[], without: boolean): string {
    let k = '';
    if (without) {
      const n = this.collectSorted();
      for (let i = 0; i < n; i++) {
        if (names.includes(this.sn[i]!)) continue;
        const v = this.sv[i]!;
        k += this.sn[i]! + '=' + v.length + ':' + v + ',';
      }
      return k;
    }
    for (const name of sortedCopy(names)) {
      const v = this.get(name);
      if (v !== undefined) k += name + '=' + v.length + ':' + v + ',';
    }
    return k;
  }

  /** Only the given labels (`by`) or all but them (`without`). */
  grouped(names: readonly string[], without: boolean): Labels {
    const out: Record<string, string> = {};
    if (without) {
      const n = this.collectSorted();
      for (let i = 0; i < n; i++) if (!names.includes(this.sn[i]!)) setLabel(out, this.sn[i]!, this.sv[i]!);
      return out;
    }
    for (const name of sortedCopy(names)) {
      const v = this.get(name);
      if (v !== undefined) setLabel(out, name, v);
    }
    return out;
  }
}

const sortedNames = new WeakMap<readonly string[], string[]>();
function sortedCopy(names: readonly string[]): string[] {
  let s = sortedNames.get(names);
  if (!s) {
    s = [...names].sort();
    sortedNames.set(names, s);
  }
  return s;
}

/** Assigns a label without tripping over `__proto__`. */
export function setLabel(obj: Record<string, string>, name: string, value: string): void {
  if (name === '__proto__') Object.defineProperty(obj, name, { value, enumerable: true, writable: true, configurable: true });
  else obj[name] = value;
}

export function hasLabel(labels: Labels, name: string): boolean {
  return hasOwn.call(labels, name);
}

const seriesKeyCache = new WeakMap<object, string>();

/**
 * A compact, unambiguous identity for a label set (sorted `name=len:value,`), for grouping.
 * Cached per object. Not for display: see labelsKey().
 */
export function seriesKey(labels: Labels): string {
  let k = seriesKeyCache.get(labels);
  if (k === undefined) {
    k = '';
    for (const n of Object.keys(labels).sort()) {
      const v = labels[n]!;
      k += n + '=' + v.length + ':' + v + ',';
    }
    seriesKeyCache.set(labels, k);
  }
  return k;
}

const keyCache = new WeakMap<object, string>();

/** Prometheus' text form, labels sorted by name: `{app="api", level="error"}`. Cached per object. */
export function labelsKey(labels: Labels): string {
  let k = keyCache.get(labels);
  if (k === undefined) {
    const names = Object.keys(labels).sort();
    k = '{';
    for (let i = 0; i < names.length; i++) {
      const n = names[i]!;
      if (i > 0) k += ', ';
      k += `${n}=${JSON.stringify(labels[n])}`;
    }
    k += '}';
    keyCache.set(labels, k);
  }
  return k;
}

/** Prometheus' labels.Compare: by name, then value, pairwise in sorted order. */
export function compareLabels(a: Labels, b: Labels): number {
  const an = Object.keys(a).sort();
  const bn = Object.keys(b).sort();
  const n = Math.min(an.length, bn.length);
  for (let i = 0; i < n; i++) {
    if (an[i] !== bn[i]) return an[i]! < bn[i]! ? -1 : 1;
    const av = a[an[i]!]!;
    const bv = b[bn[i]!]!;
    if (av !== bv) return av < bv ? -1 : 1;
  }
  return an.length - bn.length;
}

/** Stream labels plus structured metadata (metadata wins), as Loki's pipelines see them. */
export function withMetadata(labels: Labels, metadata: Labels | undefined): Labels {
  if (!metadata) return labels;
  let any = false;
  for (const k in metadata) {
    if (hasOwn.call(metadata, k)) {
      any = true;
      break;
    }
  }
  if (!any) return labels;
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels)) setLabel(out, k, labels[k]!);
  for (const k of Object.keys(metadata)) setLabel(out, k, metadata[k]!);
  return out;
}
