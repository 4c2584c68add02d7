import type { CountQuery, LabelMatcher, LineFilter, LogRow, RetentionPolicy, ScanQuery, SourceOffset } from '../engine.js';
import { LABEL_NAME_RE, labelEntries, labelsKey, streamIdOf } from './labels.js';

/**
 * Input checks shared by every engine. Engines validate a whole batch before touching storage,
 * so a bad row rejects the batch without side effects and both engines reject the same inputs.
 */

const INT64_MAX = 0x7fff_ffff_ffff_ffffn;
const MATCH_OPS = new Set(['=', '!=', '=~', '!~']);
const FILTER_OPS = new Set(['|=', '!=', '|~', '!~']);

/** A row after validation, with its stream identity computed once. */
export interface NormalizedRow {
  tsNs: bigint;
  /** Sorted, without empty values. */
  entries: Array<[string, string]>;
  key: string;
  streamId: bigint;
  line: string;
  /** Sorted entries; undefined when the row has no metadata. */
  metadata?: Array<[string, string]>;
  /** The `detected_level` metadata value, which engines may keep in an indexed column. */
  level?: string;
  /** JSON object text of the metadata other than detected_level (undefined: none). */
  otherMetadataJson?: string;
  /** UTF-8 length of the line. */
  bytes: number;
}

export function checkTenant(tenant: unknown): asserts tenant is string {
  if (typeof tenant !== 'string' || tenant === '') throw new Error('tenant must be a non-empty string');
}

function isRecordOfStrings(v: unknown): v is Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  return Object.values(v).every((x) => typeof x === 'string');
}

interface StreamIdentity {
  entries: Array<[string, string]>;
  key: string;
  streamId: bigint;
}

/** Validates and normalizes a batch; throws on the first bad row, naming its index. */
export function normalizeRows(rows: readonly LogRow[]): NormalizedRow[] {
  if (!Array.isArray(rows)) throw new Error('rows must be an array');
  // Producers share one labels object across a stream's rows: validate, sort and hash each
  // object once (exact, since nothing can mutate it while this synchronous loop runs), and
  // each distinct label set once even when objects differ.
  const byObject = new Map<object, StreamIdentity>();
  const byKey = new Map<string, StreamIdentity>();
  const identity = (labels: unknown, bad: (why: string) => Error): StreamIdentity => {
    if (typeof labels === 'object' && labels !== null) {
      const hit = byObject.get(labels);
      if (hit) return hit;
    }
    if (!isRecordOfStrings(labels)) throw bad('labels must be an object of string values');
    for (const name of Object.keys(labels)) {
      if (!LABEL_NAME_RE.test(name)) throw bad(`label name ${JSON.stringify(name)} is not a valid label name`);
    }
    const entries = labelEntries(labels);
    if (entries.length === 0) throw bad('a stream needs at least one non-empty label');
    const key = labelsKey(entries);
    let id = byKey.get(key);
    if (!id) byKey.set(key, (id = { entries, key, streamId: streamIdOf(key) }));
    byObject.set(labels, id);
    return id;
  };
  // Metadata objects are often shared too (one frozen object per detected level).
  const metaByObject = new Map<object, { entries?: Array<[string, string]>; level?: string; json?: string } | null>();
  const normalizeMetadata = (metadata: unknown, bad: (why: string) => Error) => {
    if (typeof metadata === 'object' && metadata !== null) {
      const hit = metaByObject.get(metadata);
      if (hit !== undefined) return hit;
    }
    if (!isRecordOfStrings(metadata)) throw bad('metadata must be an object of string values');
    const md = Object.entries(metadata).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    if (md.some(([k]) => k === '')) throw bad('metadata names must be non-empty');
    const others = md.filter(([k]) => k !== 'detected_level');
    const out = md.length === 0 ? null : {
      entries: md,
      level: Object.hasOwn(metadata, 'detected_level') ? metadata.detected_level : undefined,
      json: others.length === 0 ? undefined : JSON.stringify(Object.fromEntries(others)),
    };
    metaByObject.set(metadata, out);
    return out;
  };
  return rows.map((row, i) => {
    const bad = (why: string): Error => new Error(`invalid row ${i}: ${why}`);
    if (typeof row !== 'object' || row === null) throw bad('not an object');
    const { tsNs, labels, line, metadata } = row;
    if (typeof tsNs !== 'bigint') throw bad('tsNs must be a bigint (Unix nanoseconds)');
    if (tsNs < 0n || tsNs > INT64_MAX) throw bad(`tsNs ${tsNs} is outside 0..2^63-1`);
    if (typeof line !== 'string') throw bad('line must be a string');
    const { entries, key, streamId } = identity(labels, bad);
    const md = metadata === undefined ? null : normalizeMetadata(metadata, bad);
    const bytes = Buffer.byteLength(line, 'utf8');
    if (!md) return { tsNs, entries, key, streamId, line, bytes };
    return { tsNs, entries, key, streamId, line, metadata: md.entries, level: md.level, otherMetadataJson: md.json, bytes };
  });
}

/** Validates offsets and folds duplicates of one source to their maximum. */
export function normalizeOffsets(offsets: readonly SourceOffset[] | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (offsets === undefined) return out;
  if (!Array.isArray(offsets)) throw new Error('offsets must be an array');
  offsets.forEach((o, i) => {
    if (typeof o?.source !== 'string' || o.source === '') throw new Error(`invalid offset ${i}: source must be a non-empty string`);
    if (!Number.isSafeInteger(o.offset) || o.offset < 0) throw new Error(`invalid offset ${i}: offset must be a non-negative integer`);
    out.set(o.source, Math.max(out.get(o.source) ?? 0, o.offset));
  });
  return out;
}

export function checkRange(startNs: unknown, endNs: unknown): void {
  if (typeof startNs !== 'bigint' || typeof endNs !== 'bigint') throw new Error('startNs and endNs must be bigints (Unix nanoseconds)');
}

export function checkMatchers(matchers: readonly LabelMatcher[]): void {
  if (!Array.isArray(matchers)) throw new Error('matchers must be an array');
  for (const m of matchers) {
    if (typeof m?.name !== 'string' || m.name === '') throw new Error('matcher name must be a non-empty string');
    if (!MATCH_OPS.has(m.op)) throw new Error(`unknown matcher op ${JSON.stringify(m.op)}`);
    if (typeof m.value !== 'string') throw new Error(`matcher ${m.name} value must be a string`);
  }
}

export function checkLineFilters(filters: readonly LineFilter[]): void {
  if (!Array.isArray(filters)) throw new Error('lineFilters must be an array');
  for (const f of filters) {
    if (!FILTER_OPS.has(f?.op)) throw new Error(`unknown line filter op ${JSON.stringify(f?.op)}`);
    if (typeof f.value !== 'string') throw new Error('line filter value must be a string');
  }
}

export function checkScanQuery(q: ScanQuery): void {
  checkTenant(q.tenant);
  checkRange(q.startNs, q.endNs);
  checkMatchers(q.matchers);
  checkLineFilters(q.lineFilters);
  if (q.direction !== 'forward' && q.direction !== 'backward') throw new Error(`direction must be forward or backward`);
  if (q.limit !== undefined && (!Number.isSafeInteger(q.limit) || q.limit < 0)) throw new Error('limit must be a non-negative integer');
}

export function checkCountQuery(q: CountQuery): void {
  checkScanQuery(q);
  if (typeof q.stepNs !== 'bigint' || q.stepNs <= 0n) throw new Error('stepNs must be a positive bigint');
  if (!Array.isArray(q.by) || q.by.some((b) => typeof b !== 'string' || b === '')) throw new Error('by must be an array of label names');
}

export function checkRetention(policy: RetentionPolicy, nowNs: bigint): void {
  if (typeof nowNs !== 'bigint') throw new Error('nowNs must be a bigint');
  if (policy.maxAgeNs !== undefined && (typeof policy.maxAgeNs !== 'bigint' || policy.maxAgeNs < 0n)) throw new Error('maxAgeNs must be a non-negative bigint');
  if (policy.maxBytes !== undefined && (!Number.isFinite(policy.maxBytes) || policy.maxBytes < 0)) throw new Error('maxBytes must be a non-negative number');
}
