import type { Labels } from '../../store/engine.js';
import { HttpError } from '../errors.js';
import type { IngestStream } from './writer.js';

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Loggy's native push (what the agent's `loggy` sink sends): JSON
 *   {"streams":[{"labels":{...},"source":"<file id>|<stream>","entries":[["<unix ns>","line",<offset>,{metadata}?],...]}]}
 * `source` and the per-entry byte offset let the store drop replays after an agent restart.
 * Every problem is reported with its path in the document.
 */
export function parseNativePush(body: Buffer, maxEntries: number): IngestStream[] {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `malformed JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc) || !Array.isArray(doc.streams)) throw new HttpError(400, 'expected {"streams":[...]}');
  const out: IngestStream[] = [];
  let total = 0;
  doc.streams.forEach((s: unknown, i: number) => {
    const at = `streams[${i}]`;
    if (!isObject(s)) throw new HttpError(400, `${at}: expected an object`);
    const labels = parseLabels(s.labels, `${at}.labels`);
    let source: string | undefined;
    if (s.source !== undefined) {
      if (typeof s.source !== 'string' || s.source.length === 0 || s.source.length > 512) throw new HttpError(400, `${at}.source: expected a non-empty string (at most 512 characters)`);
      source = s.source;
    }
    if (!Array.isArray(s.entries)) throw new HttpError(400, `${at}.entries: expected an array`);
    total += s.entries.length;
    if (total > maxEntries) throw new HttpError(413, `more than ${maxEntries} entries in one request`);
    const entries = s.entries.map((e: unknown, j: number) => {
      const eat = `${at}.entries[${j}]`;
      if (!Array.isArray(e) || e.length < 2 || e.length > 4) throw new HttpError(400, `${eat}: expected ["<unix ns>", "line", offset?, {metadata}?]`);
      const [ts, line, offset, metadata] = e as unknown[];
      if (typeof ts !== 'string' || !/^\d{1,19}$/.test(ts)) throw new HttpError(400, `${eat}[0]: timestamp must be a string of unix nanoseconds`);
      if (typeof line !== 'string') throw new HttpError(400, `${eat}[1]: line must be a string`);
      if (offset !== undefined && offset !== null && (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)) {
        throw new HttpError(400, `${eat}[2]: offset must be a non-negative integer`);
      }
      if (offset === undefined && source !== undefined) throw new HttpError(400, `${eat}[2]: an entry of a stream with a source needs its offset`);
      return {
        tsNs: BigInt(ts),
        line,
        offset: typeof offset === 'number' ? offset : undefined,
        metadata: metadata === undefined ? undefined : parseLabels(metadata, `${eat}[3]`, true),
      };
    });
    out.push({ labels, source, entries });
  });
  return out;
}

function parseLabels(v: unknown, at: string, allowEmpty = false): Labels {
  if (!isObject(v)) throw new HttpError(400, `${at}: expected an object of label names to string values`);
  // A null-prototype object: a label named "__proto__" must be a label, not a prototype change.
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, val] of Object.entries(v)) {
    if (!LABEL_NAME.test(k)) throw new HttpError(400, `${at}: invalid label name ${JSON.stringify(k)} (letters, digits and "_", not starting with a digit)`);
    if (typeof val !== 'string') throw new HttpError(400, `${at}.${k}: label values must be strings`);
    out[k] = val;
  }
  if (!allowEmpty && Object.keys(out).length === 0) throw new HttpError(400, `${at}: a stream needs at least one label`);
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
