/** A container's output stream. Reassembly and multiline state are kept per stream. */
export type Stream = 'stdout' | 'stderr';

/** Bit flags on an event: how it was shaped on the way in. Never dropped silently. */
export const EventFlags = {
  /** The line was longer than max_line_bytes; the rest was discarded (and counted). */
  Truncated: 1,
  /** A partial line (CRI `P` chain or Docker line without `\n`) flushed without its end. */
  Partial: 2,
  /** The physical line did not match the file's format; delivered raw. */
  Malformed: 4,
  /** Several physical lines joined by the multiline stage. */
  Multiline: 8,
  /** Not a line of the container: the rate limit's "N lines dropped" report. */
  RateLimitSummary: 16,
  /** A parse transform was asked to parse the line and could not; delivered as it was. */
  ParseFailed: 32,
} as const;

/**
 * One log event as the agent moves it. Hot path: kept flat and small; labels live on
 * the batch (one file per batch), not on every event.
 */
export interface LogEvent {
  /** RFC3339Nano timestamp exactly as the runtime wrote it (nanoseconds kept). */
  ts: string;
  stream: Stream;
  /** The message without the trailing newline. */
  line: string;
  /** EventFlags bits. */
  flags: number;
  /**
   * Byte offset in the source file just past the last physical line of this event.
   * Strictly increasing per (file, stream); used for checkpoints and replay dedupe.
   */
  offset: number;
  /**
   * Fields a parse transform extracted from the line (JSON, logfmt, regex): sent as structured
   * metadata, so a query can filter on them without a parser stage. Absent on most events.
   */
  fields?: Labels;
}

export type Labels = Readonly<Record<string, string>>;

/** What produced a batch: stable identity plus the labels shared by all its events. */
export interface EventSource {
  /** Stable identity of the input (for files: "<dev>:<ino>:<fingerprint>"). */
  readonly id: string;
  /** Component name from the config. */
  readonly component: string;
  readonly labels: Labels;
  /** JSON of `labels`, computed once: sinks splice it into every serialized event. */
  readonly labelsJson: string;
}

export function makeSource(id: string, component: string, labels: Labels): EventSource {
  return { id, component, labels, labelsJson: JSON.stringify(labels) };
}
