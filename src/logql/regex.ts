/**
 * Go RE2 regular expressions (what LogQL users write) run as JavaScript RegExps. Translates the
 * common differences — leading flag groups `(?i)`/`(?s)`/`(?m)`, `(?P<name>…)`, `\A`, `\z`,
 * `\Q…\E`, POSIX classes `[[:alpha:]]` — and caches compiled expressions.
 */

const cache = new Map<string, RegExp>();
const CACHE_MAX = 1024;

/**
 * Compiles a Go regex. `anchored` wraps it as `^(?:re)$` (label matchers match the whole value);
 * otherwise it searches (line filters). Throws an Error with the JS engine's reason on bad input.
 */
export function compileRegex(re: string, anchored: boolean): RegExp {
  const key = (anchored ? '^' : '~') + re;
  let r = cache.get(key);
  if (r) return r;
  const { source, flags } = translate(re);
  r = new RegExp(anchored ? `^(?:${source})$` : source, flags);
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(key, r);
  return r;
}

/** Like compileRegex but returns the problem as a string (for parse-time validation). */
export function regexError(re: string): string | null {
  try {
    compileRegex(re, false);
    return null;
  } catch (e) {
    return `error parsing regexp: ${(e as Error).message}`;
  }
}

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

export function translate(re: string): { source: string; flags: string } {
  let flags = '';
  let i = 0;
  // Leading flag groups: (?i) (?is) (?s) (?m) …
  for (;;) {
    const m = /^\(\?([imsU]+)\)/.exec(re.slice(i));
    if (!m) break;
    for (const f of m[1]!) {
      if (f === 'U') continue; // ungreedy swap: not supported, ignore
      if (!flags.includes(f)) flags += f;
    }
    i += m[0].length;
  }
  let out = '';
  let inClass = false;
  while (i < re.length) {
    const c = re[i]!;
    if (c === '\\') {
      const n = re[i + 1];
      if (n === undefined) {
        out += '\\\\';
        i++;
        continue;
      }
      if (!inClass && n === 'A') {
        out += '^';
        i += 2;
        continue;
      }
      if (!inClass && n === 'z') {
        out += '$(?![\\s\\S])';
        i += 2;
        continue;
      }
      if (n === 'Q') {
        const end = re.indexOf('\\E', i + 2);
        const lit = re.slice(i + 2, end < 0 ? re.length : end);
        out += lit.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
        i = end < 0 ? re.length : end + 2;
        continue;
      }
      out += c + n;
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === '[' && re[i + 1] === ':') {
        const end = re.indexOf(':]', i + 2);
        if (end > 0) {
          let name = re.slice(i + 2, end);
          const neg = name.startsWith('^');
          if (neg) name = name.slice(1);
          const cls = POSIX[name];
          if (cls !== undefined && !neg) {
            out += cls;
            i = end + 2;
            continue;
          }
        }
      }
      if (c === '[') {
        out += '\\[';
        i++;
        continue;
      }
      if (c === ']') inClass = false;
      out += c;
      i++;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      i++;
      // A leading ']' (or '^]') is a literal in RE2.
      if (re[i] === '^') {
        out += '^';
        i++;
      }
      if (re[i] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(' && re.startsWith('(?P<', i)) {
      out += '(?<';
      i += 4;
      continue;
    }
    out += c;
    i++;
  }
  return { source: out, flags };
}

/** Escapes a string for use as a literal inside a RegExp source. */
export function escapeRegex(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}
