/** Public option and stats types of the framer (kept apart so importing them is free). */

/** On-disk format of a container log file. */
export type LogFormat = 'cri' | 'docker';

export interface MultilineOptions {
  /** A built-in rule table; ignored when `start` or `continuation` is given. */
  preset?: 'java' | 'python' | 'go';
  /** Regex (JS syntax) for the first line of an event. */
  start?: string;
  /** Regex for continuation lines (joined onto the current event). */
  continuation?: string;
  /** A pending group whose last line was added at least this long ago is flushed by flush(). */
  flushMs: number;
  /** Default 500; a group reaching it is emitted. */
  maxLines?: number;
}

export interface FramerOptions {
  /** Default 'auto': the first non-empty line decides (`{` → docker, else CRI). 'raw': plain text lines. */
  format?: LogFormat | 'auto' | 'raw';
  /**
   * Cap on a logical line's message bytes (UTF-8). A longer line keeps its first
   * maxLineBytes (cut on a character boundary) and is flagged Truncated. Also bounds
   * memory: at most ~maxLineBytes + 64 KiB is buffered per stream and for the carry.
   */
  maxLineBytes: number;
  multiline?: MultilineOptions | null;
}

/** Cumulative counters. */
export interface FramerStats {
  /** Events appended to `out`. */
  events: number;
  /** Logical lines cut to maxLineBytes. */
  truncated: number;
  /** Physical lines delivered raw because they did not match the format. */
  malformed: number;
  /** Lines emitted without their end (forced flush of a P chain / docker partial / unterminated line). */
  partialFlushed: number;
  /** Multiline groups of two or more lines emitted. */
  multilineGroups: number;
}
