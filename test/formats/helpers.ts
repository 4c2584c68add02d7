import type { LogEvent } from '../../src/core/event.js';
import { makeRng } from '../../src/sim/random.js';
import { createFramer, type FramerOptions, type LineFramer } from '../../src/formats/index.js';

export const TS = '2026-11-22T00:00:00.000000123Z';
export const MALFORMED_TS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

export function cri(msg: string, stream = 'stdout', tag = 'F', ts = TS): string {
  return `${ts} ${stream} ${tag} ${msg}\n`;
}

/** JSON string as Go's encoder writes it (HTML-safe escapes). */
export function goJson(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function docker(log: string, stream = 'stdout', ts = TS): string {
  return `{"log":${goJson(log)},"stream":"${stream}","time":"${ts}"}\n`;
}

/** Builds a file from records and remembers each record's end offset. */
export class FileBuilder {
  private parts: Buffer[] = [];
  size = 0;
  add(rec: string | Buffer): number {
    const b = typeof rec === 'string' ? Buffer.from(rec) : rec;
    this.parts.push(b);
    this.size += b.length;
    return this.size;
  }
  get buf(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export function opts(o: Partial<FramerOptions> = {}): FramerOptions {
  return { format: 'auto', maxLineBytes: 64 * 1024, multiline: null, ...o };
}

/** Seeded PRNG: the simulator's, so tests and generated data share one implementation. */
export const rng = makeRng;

export type Split = 'one' | 'byte' | { seed: number; max: number };

/**
 * Feed `input` to a framer in chunks copied into a reused buffer that is scribbled over
 * after each push (so kept references into it would show up as corrupt events).
 */
export function feed(framer: LineFramer, input: Buffer, split: Split = 'one', out: LogEvent[] = [], base = 0): LogEvent[] {
  const scratch = Buffer.alloc(input.length + 1);
  const next = split === 'one' ? () => input.length : split === 'byte' ? () => 1 : (() => {
    const r = rng(split.seed);
    return () => 1 + Math.floor(r() * split.max);
  })();
  let off = 0;
  while (off < input.length) {
    const n = Math.min(next(), input.length - off);
    input.copy(scratch, 0, off, off + n);
    framer.push(scratch.subarray(0, n), base + off, out);
    scratch.fill(0x58, 0, n); // 'X'
    off += n;
  }
  return out;
}

export function frame(input: Buffer | string, o: Partial<FramerOptions> = {}, split: Split = 'one'): { f: LineFramer; events: LogEvent[] } {
  const f = createFramer(opts(o));
  const events = feed(f, typeof input === 'string' ? Buffer.from(input) : input, split);
  return { f, events };
}

export function ev(line: string, offset: number, stream = 'stdout', flags = 0, ts = TS): LogEvent {
  return { ts, stream: stream as LogEvent['stream'], line, flags, offset };
}

/** Per-stream offsets strictly increasing. */
export function checkOrder(events: LogEvent[]): void {
  const last: Record<string, number> = { stdout: -1, stderr: -1 };
  for (const e of events) {
    if (!(e.offset > last[e.stream])) throw new Error(`offset ${e.offset} after ${last[e.stream]} on ${e.stream}`);
    last[e.stream] = e.offset;
  }
}

/** Malformed events carry the current time: blank it for comparisons. */
export function normalize(events: LogEvent[]): LogEvent[] {
  return events.map((e) => (e.flags & 4 ? { ...e, ts: 'now' } : e));
}
