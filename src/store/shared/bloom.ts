/**
 * Token bloom filters per block of lines, to find rare tokens (request ids, trace ids) without
 * reading every line: a substring filter `|= "rid-7f3a-91c2"` can only match a line that holds
 * each token lying *inside* the needle, so a block whose bloom lacks one of them is skipped.
 *
 * A token is a maximal run of [A-Za-z0-9_] (UTF-16 code units; anything else, non-ASCII
 * included, separates tokens). Filters are case-sensitive, like LogQL's `|=`.
 *
 * Layout (shared by the writer and the SQL that probes it): m bits, m a power of two, bit p is
 * byte p >> 3, mask 0x80 >> (p & 7) — the order DuckDB's BLOB-to-BIT cast and get_bit use.
 * A token sets bits (a + i·b) mod m for i = 0 … k−1, with (a, b) from tokenHashes(). Blocks
 * written before k was stored per block used k = 3 and folded to 25 % fill (1.6 % false
 * positives per probed token); new ones use k = 6 and fold to at most 35 % fill (at most
 * 0.2 %, typically well under 0.1 %) for about 1.3× the bits: with hundreds of blocks, every
 * false positive costs a block read, which dominated the time of a rare-token search.
 *
 * Hand-written, not a library: the loop runs over every character of every stored line, and
 * it must be a self-contained function so the worker thread can run the very same code.
 */

export interface Bloom {
  /** Number of bits, a power of two (at least 64). */
  m: number;
  /** Number of bits set per token. */
  k: number;
  bits: Uint8Array;
}

/** Bits per line to start from; the filter is then folded down while its fill stays under BLOOM_MAX_FILL. */
export const BLOOM_BITS_PER_LINE = 64;
export const BLOOM_HASHES = 6;
export const BLOOM_MAX_FILL = 0.35;

/**
 * Builds the bloom of a block of lines. Self-contained on purpose (no imports, no closures):
 * bloom-pool.ts ships its source text to a worker thread.
 */
export function buildBloom(lines: readonly string[], bitsPerLine: number, k: number, maxFill: number): { m: number; k: number; bits: Uint8Array } {
  let m = 64;
  const want = lines.length * bitsPerLine;
  while (m < want && m < 0x8000_0000) m *= 2;
  let bits = new Uint8Array(m >>> 3);
  const mask = m - 1;
  const fmix = (x: number): number => {
    x ^= x >>> 16;
    x = Math.imul(x, 0x85ebca6b);
    x ^= x >>> 13;
    x = Math.imul(x, 0xc2b2ae35);
    return (x ^ (x >>> 16)) >>> 0;
  };
  const add = (h: number): void => {
    const a = fmix(h);
    const b = fmix(h ^ 0x5bd1e995);
    for (let i = 0; i < k; i++) {
      const p = (a + i * b) & mask;
      bits[p >>> 3]! |= 0x80 >>> (p & 7);
    }
  };
  for (let j = 0; j < lines.length; j++) {
    const s = lines[j]!;
    const n = s.length;
    let h = 0x811c9dc5;
    let inToken = false;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      // [0-9A-Z_a-z]
      if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 95 || (c >= 97 && c <= 122)) {
        h = Math.imul(h ^ c, 0x01000193);
        inToken = true;
      } else if (inToken) {
        add(h);
        h = 0x811c9dc5;
        inToken = false;
      }
    }
    if (inToken) add(h);
  }
  // Fold while the result stays sparse: (p mod m) mod m/2 = p mod m/2, so OR-ing the upper
  // half onto the lower keeps every token's bits. (a + i·b) is exact in doubles and m divides
  // 2^32, so `& mask` here and `% m` in SQL over the unsigned values agree.
  for (;;) {
    if (m <= 64) break;
    const half = bits.length >>> 1;
    let set = 0;
    for (let i = 0; i < half; i++) {
      let v = bits[i]! | bits[i + half]!;
      v -= (v >>> 1) & 0x55;
      v = (v & 0x33) + ((v >>> 2) & 0x33);
      set += (v + (v >>> 4)) & 0x0f;
    }
    if (set > (m >>> 1) * maxFill) break;
    const folded = new Uint8Array(half);
    for (let i = 0; i < half; i++) folded[i] = bits[i]! | bits[i + half]!;
    bits = folded;
    m >>>= 1;
  }
  return { m, k, bits };
}

const isTokenChar = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 95 || (c >= 97 && c <= 122);

/**
 * Tokens a line must contain whole for it to contain `needle`: every token of the needle except
 * a first one touching the needle's start and a last one touching its end (in a line those may
 * be longer, e.g. "id-42" inside "rid-42"). Distinct, in order.
 */
export function needleTokens(needle: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= needle.length; i++) {
    const tok = i < needle.length && isTokenChar(needle.charCodeAt(i));
    if (tok && start < 0) start = i;
    else if (!tok && start >= 0) {
      if (start > 0 && i < needle.length) out.push(needle.slice(start, i));
      start = -1;
    }
  }
  return [...new Set(out)];
}

/** (a, b) of a token: the filter holds bits (a + k·b) mod m, k = 0..2. Matches buildBloom. */
export function tokenHashes(token: string): [number, number] {
  let h = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), 0x01000193);
  // The same finalizer as in buildBloom, which cannot share it: it runs as source text in a worker.
  const fmix = (x: number): number => {
    x ^= x >>> 16;
    x = Math.imul(x, 0x85ebca6b);
    x ^= x >>> 13;
    x = Math.imul(x, 0xc2b2ae35);
    return (x ^ (x >>> 16)) >>> 0;
  };
  return [fmix(h), fmix(h ^ 0x5bd1e995)];
}

/** Whether the bloom may hold the token (false: certainly not). */
export function bloomMayContain(bloom: Bloom, token: string): boolean {
  return bloomMayContainHashes(bloom, tokenHashes(token));
}

/** bloomMayContain for a token already hashed (probing many blocks for one token). */
export function bloomMayContainHashes(bloom: Bloom, [a, b]: readonly [number, number]): boolean {
  for (let i = 0; i < bloom.k; i++) {
    const p = (a + i * b) % bloom.m;
    if ((bloom.bits[p >>> 3]! & (0x80 >>> (p & 7))) === 0) return false;
  }
  return true;
}
