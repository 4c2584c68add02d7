/**
 * Decoding of OTLP/HTTP logs requests (`ExportLogsServiceRequest`), binary protobuf or OTLP
 * JSON, into one typed shape both OTLP receivers map from (map.ts).
 *
 * JSON follows OTLP's JSON mapping: lowerCamelCase keys, 64-bit integers as decimal strings or
 * numbers, trace and span ids as hex, enums as integers. The spec says senders MUST NOT use the
 * proto's original snake_case names; protobuf's own JSON parsers (the Collector's included)
 * accept them anyway, so they are read here too rather than silently ignored as unknown keys.
 * Enum names (`"SEVERITY_NUMBER_INFO"`) are read for the same reason. Unknown keys are ignored,
 * as the spec requires.
 *
 * Two kinds of problems: an envelope that cannot be read (not protobuf, not JSON, a resource
 * or scope of the wrong shape) is an `OtlpDecodeError`, the whole request refused with 400; a
 * log record that can be read but not taken (a trace id of the wrong length, a body of the wrong
 * shape, a timestamp that is not a number) is marked `invalid` and refused alone, so the
 * receivers answer a partial success for it.
 */
import { otlpLogsTypes } from './proto.js';

export type OtlpValue =
  | { readonly kind: 'empty' }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'int'; readonly value: bigint }
  | { readonly kind: 'double'; readonly value: number }
  | { readonly kind: 'bytes'; readonly value: Buffer }
  | { readonly kind: 'array'; readonly values: readonly OtlpValue[] }
  | { readonly kind: 'kvlist'; readonly values: readonly OtlpKeyValue[] };

export interface OtlpKeyValue { readonly key: string; readonly value: OtlpValue }

export interface OtlpLogRecord {
  /** 0 when unset, as in the proto. */
  readonly timeUnixNano: bigint;
  readonly observedTimeUnixNano: bigint;
  readonly severityNumber: number;
  readonly severityText: string;
  readonly body: OtlpValue;
  readonly attributes: readonly OtlpKeyValue[];
  /** Lower-case hex, '' when unset. */
  readonly traceId: string;
  readonly spanId: string;
  readonly eventName: string;
  /** Why the record cannot be taken (it is refused alone); absent for a good record. */
  readonly invalid?: string;
  /** Where it was in the request, for error messages: `resourceLogs[0].scopeLogs[1].logRecords[2]`. */
  readonly at: string;
}

export interface OtlpScopeLogs { readonly scopeName: string; readonly scopeVersion: string; readonly logRecords: readonly OtlpLogRecord[] }
export interface OtlpResourceLogs { readonly attributes: readonly OtlpKeyValue[]; readonly scopeLogs: readonly OtlpScopeLogs[] }
export interface OtlpLogsRequest { readonly resourceLogs: readonly OtlpResourceLogs[]; /** Log records, invalid ones included. */ readonly records: number }

export type OtlpEncoding = 'protobuf' | 'json';

/** A request refused whole: `status` is what to answer (400, or 413 past `maxRecords`). */
export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError';
  constructor(message: string, readonly status: 400 | 413 = 400) {
    super(message);
  }
}

export interface OtlpDecodeOptions {
  /** More log records than this refuse the request with 413. */
  maxRecords?: number;
}

/**
 * The encoding a Content-Type names, or null for one OTLP/HTTP does not define (415).
 * `application/protobuf` is not in the spec but is what some clients send for it.
 */
export function otlpEncodingOf(contentType: string | undefined): OtlpEncoding | null {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return null;
}

/** Decodes an uncompressed body. Throws only `OtlpDecodeError`. */
export function decodeLogsRequest(body: Buffer, encoding: OtlpEncoding, opts: OtlpDecodeOptions = {}): OtlpLogsRequest {
  let doc: unknown;
  if (encoding === 'json') {
    try {
      doc = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new OtlpDecodeError(`body is not JSON: ${(err as Error).message}`);
    }
  } else {
    const { request } = otlpLogsTypes();
    try {
      // Longs as decimal strings (timestamps need all 64 bits) and bytes as base64: the object
      // is then OTLP JSON but for the ids' encoding, and goes through the same reader.
      doc = request.toObject(request.decode(body), { longs: String, enums: Number, bytes: String });
    } catch (err) {
      // protobufjs throws RangeErrors and plain Errors on truncated or malformed input (and a
      // RangeError for nesting deep enough to exhaust the stack): all mean "not readable".
      throw new OtlpDecodeError(`body is not a protobuf ExportLogsServiceRequest: ${(err as Error).message}`);
    }
  }
  return new Reader(encoding === 'json' ? 'hex' : 'base64', opts.maxRecords ?? Number.POSITIVE_INFINITY).request(doc);
}

type Obj = Record<string, unknown>;

/** A problem with one value; becomes a refused record or, outside records, a refused request. */
class Invalid extends Error {}

const MAX_DEPTH = 32;
const UINT64 = /^\d{1,20}$/;
const INT64 = /^-?\d{1,19}$/;
const HEX = /^[0-9a-fA-F]*$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const MAX_UINT64 = (1n << 64n) - 1n;
const SEVERITY_NAMES = ['UNSPECIFIED', 'TRACE', 'TRACE2', 'TRACE3', 'TRACE4', 'DEBUG', 'DEBUG2', 'DEBUG3', 'DEBUG4', 'INFO', 'INFO2', 'INFO3', 'INFO4',
  'WARN', 'WARN2', 'WARN3', 'WARN4', 'ERROR', 'ERROR2', 'ERROR3', 'ERROR4', 'FATAL', 'FATAL2', 'FATAL3', 'FATAL4'];

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value under its lowerCamelCase name, else under the proto's name. */
function get(o: Obj, camel: string, snake?: string): unknown {
  if (Object.hasOwn(o, camel)) return o[camel];
  if (snake !== undefined && Object.hasOwn(o, snake)) return o[snake];
  return undefined;
}

class Reader {
  private records = 0;

  constructor(private readonly ids: 'hex' | 'base64', private readonly maxRecords: number) {}

  request(doc: unknown): OtlpLogsRequest {
    if (!isObj(doc)) throw new OtlpDecodeError('expected an ExportLogsServiceRequest object');
    const resourceLogs = this.list(get(doc, 'resourceLogs', 'resource_logs'), 'resourceLogs').map((r, i) => this.resourceLogs(r, `resourceLogs[${i}]`));
    return { resourceLogs, records: this.records };
  }

  /** A repeated field of the envelope: absent or null is empty, anything but an array refuses the request. */
  private list(v: unknown, at: string): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw new OtlpDecodeError(`${at}: expected an array`);
    return v;
  }

  private envelope(v: unknown, at: string): Obj {
    if (v === undefined || v === null) return {};
    if (!isObj(v)) throw new OtlpDecodeError(`${at}: expected an object`);
    return v;
  }

  private resourceLogs(v: unknown, at: string): OtlpResourceLogs {
    const o = this.envelope(v, at);
    const resource = this.envelope(get(o, 'resource'), `${at}.resource`);
    let attributes: OtlpKeyValue[];
    try {
      attributes = keyValues(get(resource, 'attributes'), `${at}.resource.attributes`, 0);
    } catch (err) {
      if (err instanceof Invalid) throw new OtlpDecodeError(err.message);
      throw err;
    }
    const scopeLogs = this.list(get(o, 'scopeLogs', 'scope_logs'), `${at}.scopeLogs`).map((s, i) => this.scopeLogs(s, `${at}.scopeLogs[${i}]`));
    return { attributes, scopeLogs };
  }

  private scopeLogs(v: unknown, at: string): OtlpScopeLogs {
    const o = this.envelope(v, at);
    const scope = this.envelope(get(o, 'scope'), `${at}.scope`);
    const name = get(scope, 'name') ?? '';
    const version = get(scope, 'version') ?? '';
    if (typeof name !== 'string' || typeof version !== 'string') throw new OtlpDecodeError(`${at}.scope: name and version must be strings`);
    const list = this.list(get(o, 'logRecords', 'log_records'), `${at}.logRecords`);
    this.records += list.length;
    if (this.records > this.maxRecords) throw new OtlpDecodeError(`more than ${this.maxRecords} log records in one request`, 413);
    return { scopeName: name, scopeVersion: version, logRecords: list.map((r, i) => this.logRecord(r, `${at}.logRecords[${i}]`)) };
  }

  private logRecord(v: unknown, at: string): OtlpLogRecord {
    try {
      if (!isObj(v)) throw new Invalid('expected an object');
      const severity = get(v, 'severityNumber', 'severity_number');
      const text = get(v, 'severityText', 'severity_text') ?? '';
      if (typeof text !== 'string') throw new Invalid('severityText must be a string');
      const eventName = get(v, 'eventName', 'event_name') ?? '';
      if (typeof eventName !== 'string') throw new Invalid('eventName must be a string');
      return {
        timeUnixNano: uint64(get(v, 'timeUnixNano', 'time_unix_nano'), 'timeUnixNano'),
        observedTimeUnixNano: uint64(get(v, 'observedTimeUnixNano', 'observed_time_unix_nano'), 'observedTimeUnixNano'),
        severityNumber: severityNumber(severity),
        severityText: text,
        body: anyValue(get(v, 'body'), 'body', 0),
        attributes: keyValues(get(v, 'attributes'), 'attributes', 0),
        traceId: this.id(get(v, 'traceId', 'trace_id'), 'traceId', 16),
        spanId: this.id(get(v, 'spanId', 'span_id'), 'spanId', 8),
        eventName,
        at,
      };
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      return { timeUnixNano: 0n, observedTimeUnixNano: 0n, severityNumber: 0, severityText: '', body: EMPTY, attributes: [], traceId: '', spanId: '', eventName: '', invalid: err.message, at };
    }
  }

  /** A trace or span id: hex in JSON, base64 from protobuf; empty means unset. */
  private id(v: unknown, name: string, bytes: number): string {
    if (v === undefined || v === null || v === '') return '';
    if (typeof v !== 'string') throw new Invalid(`${name} must be a string`);
    let hex: string;
    if (this.ids === 'hex') {
      if (!HEX.test(v)) throw new Invalid(`${name} must be hex`);
      hex = v.toLowerCase();
    } else {
      if (!BASE64.test(v)) throw new Invalid(`${name} is not bytes`);
      hex = Buffer.from(v, 'base64').toString('hex');
    }
    if (hex.length !== bytes * 2) throw new Invalid(`${name} must be ${bytes} bytes (${bytes * 2} hex digits), got ${hex.length / 2}`);
    // All zeros is the spec's "invalid id": treated as unset rather than stored.
    return /^0+$/.test(hex) ? '' : hex;
  }
}

const EMPTY: OtlpValue = { kind: 'empty' };

function uint64(v: unknown, name: string): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'string' && UINT64.test(v)) {
    const n = BigInt(v);
    if (n <= MAX_UINT64) return n;
  }
  // Numbers are allowed by the JSON mapping; past 2^53 they have lost digits already.
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return BigInt(v);
  throw new Invalid(`${name} must be an unsigned 64-bit integer (a decimal string or a number), got ${JSON.stringify(v)?.slice(0, 40)}`);
}

function severityNumber(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31) return v;
  if (typeof v === 'string') {
    const i = SEVERITY_NAMES.indexOf(v.replace(/^SEVERITY_NUMBER_/, ''));
    if (i >= 0 && v.startsWith('SEVERITY_NUMBER_')) return i;
  }
  throw new Invalid(`severityNumber must be an integer, got ${JSON.stringify(v)?.slice(0, 40)}`);
}

function keyValues(v: unknown, at: string, depth: number): OtlpKeyValue[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Invalid(`${at}: expected an array of {key, value}`);
  return v.map((kv, i) => {
    if (!isObj(kv)) throw new Invalid(`${at}[${i}]: expected {key, value}`);
    const key = get(kv, 'key') ?? '';
    if (typeof key !== 'string') throw new Invalid(`${at}[${i}].key must be a string`);
    return { key, value: anyValue(get(kv, 'value'), `${at}[${i}].value`, depth + 1) };
  });
}

/** AnyValue: an object with at most one of its value fields; none (or null) is the empty value. */
function anyValue(v: unknown, at: string, depth: number): OtlpValue {
  if (v === undefined || v === null) return EMPTY;
  if (!isObj(v)) throw new Invalid(`${at}: expected an AnyValue object`);
  if (depth > MAX_DEPTH) throw new Invalid(`${at}: values nested deeper than ${MAX_DEPTH}`);
  const s = get(v, 'stringValue', 'string_value');
  if (s !== undefined && s !== null) {
    if (typeof s !== 'string') throw new Invalid(`${at}.stringValue must be a string`);
    return { kind: 'string', value: s };
  }
  const b = get(v, 'boolValue', 'bool_value');
  if (b !== undefined && b !== null) {
    if (typeof b !== 'boolean') throw new Invalid(`${at}.boolValue must be a boolean`);
    return { kind: 'bool', value: b };
  }
  const i = get(v, 'intValue', 'int_value');
  if (i !== undefined && i !== null) {
    if (typeof i === 'string' && INT64.test(i)) {
      const n = BigInt(i);
      if (n >= -(1n << 63n) && n < 1n << 63n) return { kind: 'int', value: n };
    }
    if (typeof i === 'number' && Number.isSafeInteger(i)) return { kind: 'int', value: BigInt(i) };
    throw new Invalid(`${at}.intValue must be a 64-bit integer`);
  }
  const d = get(v, 'doubleValue', 'double_value');
  if (d !== undefined && d !== null) {
    // The JSON mapping writes non-finite doubles as "NaN", "Infinity", "-Infinity".
    const n = typeof d === 'number' ? d : typeof d === 'string' && /^(NaN|-?Infinity|-?\d+(\.\d+)?([eE][-+]?\d+)?)$/.test(d) ? Number(d) : undefined;
    if (n === undefined) throw new Invalid(`${at}.doubleValue must be a number`);
    return { kind: 'double', value: n };
  }
  const arr = get(v, 'arrayValue', 'array_value');
  if (arr !== undefined && arr !== null) {
    if (!isObj(arr)) throw new Invalid(`${at}.arrayValue: expected {values: [...]}`);
    const values = get(arr, 'values') ?? [];
    if (!Array.isArray(values)) throw new Invalid(`${at}.arrayValue.values: expected an array`);
    return { kind: 'array', values: values.map((x, j) => anyValue(x, `${at}.arrayValue.values[${j}]`, depth + 1)) };
  }
  const kv = get(v, 'kvlistValue', 'kvlist_value');
  if (kv !== undefined && kv !== null) {
    if (!isObj(kv)) throw new Invalid(`${at}.kvlistValue: expected {values: [...]}`);
    return { kind: 'kvlist', values: keyValues(get(kv, 'values'), `${at}.kvlistValue.values`, depth) };
  }
  const bytes = get(v, 'bytesValue', 'bytes_value');
  if (bytes !== undefined && bytes !== null) {
    if (typeof bytes !== 'string' || !BASE64.test(bytes)) throw new Invalid(`${at}.bytesValue must be base64`);
    return { kind: 'bytes', value: Buffer.from(bytes, 'base64') };
  }
  return EMPTY;
}
