const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * Parses a byte size: `1048576`, `512k`, `10MiB`, `10Mi`, `1.5M`. Units are binary
 * whatever the spelling, as kubelet's `10Mi` and docker's `max-size=10m` both mean MiB.
 */
export function parseBytes(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b|i)?\s*$/i.exec(text);
  if (!m) throw new RangeError(`invalid byte size "${text}" (examples: 1048576, 512k, 10MiB)`);
  const bytes = Math.round(Number(m[1]) * UNITS[m[2].toLowerCase()]);
  if (bytes <= 0) throw new RangeError(`byte size must be positive: "${text}"`);
  return bytes;
}
