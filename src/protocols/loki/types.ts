import type { Labels } from '../../store/engine.js';

export type { Labels };

/** One log line of a push request. */
export interface PushEntry {
  /** Unix nanoseconds, 0 ≤ tsNs ≤ 2^63-1. */
  tsNs: bigint;
  line: string;
  /** Loki structured metadata; absent when the entry has none. */
  metadata?: Labels;
}

/** One stream of a push request: a non-empty label set and its entries, in request order. */
export interface PushStream {
  labels: Labels;
  entries: PushEntry[];
}

/** Limits enforced while decoding, before the whole request is materialised where possible. */
export interface PushDecodeLimits {
  /** Total entries over all streams; more → 413. */
  maxEntries?: number;
  /** UTF-8 bytes of one line; longer → 400 (as Loki's max_line_size). */
  maxLineBytes?: number;
  /**
   * Bytes of the body after Content-Encoding and snappy decompression (checked at each layer,
   * before allocating where the format declares the size); more → 413. Guards against
   * decompression bombs. Default 100 MiB (Loki's default max receive size).
   */
  maxBytes?: number;
}

export const DEFAULT_MAX_BYTES = 100 * 1024 * 1024;

/** Largest representable timestamp (int64 nanoseconds, as Loki and the store use). */
export const MAX_TS_NS = (1n << 63n) - 1n;
