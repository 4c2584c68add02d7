import type { Rec } from './record.js';

/** RFC3339Nano with a zone offset is 35 bytes; anything much longer is not a timestamp. */
const MAX_TS = 48;
/** Longest tag field accepted (`F`, `P`, or a future `F:x:y`). */
const MAX_TAG = 32;

/**
 * Parse one CRI physical line buf[s, e) (e = index of its '\n', or the end of a buffer
 * holding just this line): `<ts> <stdout|stderr> <P|F>[:...] <message>`.
 *
 * Hand-written byte matching instead of a regex or split(): this runs once per line,
 * millions of times per second, and must not allocate. Only byte ranges are recorded;
 * nothing is decoded here. Never reads a byte at or past `e` in a way that could make
 * a line match (buf[e] is '\n' or outside the buffer, and '\n' is in no pattern).
 */
export function parseCri(buf: Buffer, s: number, e: number, rec: Rec): boolean {
  // Timestamp: up to the first space, OR-ing the bytes to check they are all ASCII.
  const lim = e - s > MAX_TS ? s + MAX_TS : e;
  let i = s;
  let acc = 0;
  for (; i < lim; i++) {
    const c = buf[i];
    if (c === 32) break;
    acc |= c;
  }
  // A cheap shape check of 2006-01-02T15:04:05: enough to reject non-CRI lines.
  if (i >= lim || i - s < 20 || (acc & 0x80) !== 0) return false;
  if (buf[s + 4] !== 45 || buf[s + 7] !== 45 || buf[s + 10] !== 84 || buf[s + 13] !== 58) return false;

  // Stream: exactly "stdout" or "stderr", then a space.
  const p = i + 1;
  if (p + 6 >= e || buf[p] !== 115 || buf[p + 1] !== 116 || buf[p + 2] !== 100 || buf[p + 6] !== 32) return false;
  let err: boolean;
  const c3 = buf[p + 3];
  if (c3 === 111 && buf[p + 4] === 117 && buf[p + 5] === 116) err = false; // out
  else if (c3 === 101 && buf[p + 4] === 114 && buf[p + 5] === 114) err = true; // err
  else return false;

  // Tag: first char P or F; the field may be longer (':'-separated); the message follows one space.
  const t = p + 7;
  if (t >= e) return false;
  const tag = buf[t];
  if (tag !== 80 && tag !== 70) return false;
  let m: number;
  if (t + 1 >= e) {
    m = e; // "… stdout F" with nothing after: empty message
  } else if (buf[t + 1] === 32) {
    m = t + 2;
  } else {
    const tl = e - t > MAX_TAG ? t + MAX_TAG : e;
    let j = t + 1;
    let a = 0;
    for (; j < tl; j++) {
      const c = buf[j];
      if (c === 32) break;
      a |= c;
    }
    if ((a & 0x80) !== 0) return false;
    if (j < tl) m = j + 1;
    else if (j === e) m = e;
    else return false;
  }

  rec.setRaw(buf, err, tag === 80, s, e, s, i, m, e);
  return true;
}
