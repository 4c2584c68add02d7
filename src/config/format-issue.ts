import { z } from 'zod';

type RawIssue = z.core.$ZodRawIssue;
type Issue = z.core.$ZodIssue;

/** How a value the user wrote reads in a message: `a number (42)`, `a string ("x")`, `a list`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`;
    case 'number':
    case 'bigint':
      return `a number (${value})`;
    case 'boolean':
      return `a boolean (${value})`;
    case 'object':
      return 'a mapping';
    default:
      return typeof value;
  }
}

// zod's `expected` names, in YAML vocabulary.
const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  bigint: 'an integer',
  boolean: 'a boolean (true or false)',
  object: 'a mapping',
  record: 'a mapping',
  map: 'a mapping',
  array: 'a list',
  tuple: 'a list',
  set: 'a list',
  null: 'an empty value',
  date: 'a date',
  nonoptional: 'a value',
};

function expectedName(expected: string): string {
  return Object.hasOwn(EXPECTED, expected) ? EXPECTED[expected] : expected;
}

function quoteAll(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
}

function sizeBound(iss: { origin: string; inclusive?: boolean; exact?: boolean }, bound: number | bigint, small: boolean): string {
  const n = Number(bound);
  switch (iss.origin) {
    case 'string':
      if (iss.exact) return `must be exactly ${n} characters long`;
      if (small && n === 1) return 'must not be empty';
      return `must be ${small ? 'at least' : 'at most'} ${n} characters long`;
    case 'array':
    case 'set':
      if (iss.exact) return `must have exactly ${n} item${n === 1 ? '' : 's'}`;
      if (small && n === 1) return 'must not be empty';
      return `must have ${small ? 'at least' : 'at most'} ${n} item${n === 1 ? '' : 's'}`;
    default:
      if (iss.inclusive === false) return `must be ${small ? 'greater' : 'less'} than ${n}`;
      return `must be ${small ? 'at least' : 'at most'} ${n}`;
  }
}

function withGot(text: string, input: unknown): string {
  if (text === 'must not be empty') return text;
  if (Array.isArray(input)) return `${text}, got ${input.length} item${input.length === 1 ? '' : 's'}`;
  if (typeof input === 'string' && input.length > 0) return `${text}, got ${describeValue(input)}`;
  if (typeof input === 'number' || typeof input === 'bigint') return `${text}, got ${input}`;
  return text;
}

/** True when a union branch failed only because the value as a whole had the wrong type. */
function failedOnType(branch: readonly Issue[]): boolean {
  return branch.every((i) => i.code === 'invalid_type' && i.path.length === 0);
}

/**
 * A zod error map: turns each issue into a sentence saying what is wrong and what was expected. Used as the
 * parse-level map, so messages a schema sets itself (refine, `{ error }`) still take precedence.
 */
export function describeIssue(iss: RawIssue): string {
  const last = iss.path?.at(-1);
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined && last !== undefined) return `missing required key "${String(last)}"`;
      return `expected ${expectedName(iss.expected)}, got ${describeValue(iss.input)}`;
    case 'unrecognized_keys': {
      // One line per key, in `keys` order: the loader reports each unknown key at its own position.
      const allowed = iss.inst instanceof z.core.$ZodObject ? Object.keys(iss.inst._zod.def.shape) : undefined;
      const hint = allowed ? ` (allowed: ${allowed.join(', ')})` : '';
      return iss.keys.map((k) => `unknown key "${k}"${hint}`).join('\n');
    }
    case 'invalid_union': {
      if (iss.discriminator !== undefined) {
        const options = `(expected one of: ${quoteAll((iss.options as unknown[] | undefined) ?? [])})`;
        const input = iss.input as Record<string, unknown> | null | undefined;
        const value = typeof input === 'object' && input !== null ? input[iss.discriminator] : undefined;
        if (value === undefined) return `missing required key "${iss.discriminator}" ${options}`;
        return `unknown ${iss.discriminator} ${JSON.stringify(value)} ${options}`;
      }
      if (iss.errors.length > 0 && iss.errors.every(failedOnType)) {
        const expected = [...new Set(iss.errors.flat().map((i) => expectedName((i as z.core.$ZodIssueInvalidType).expected)))];
        return `expected ${expected.join(' or ')}, got ${describeValue(iss.input)}`;
      }
      if (iss.inclusive === false) return 'matches more than one of the allowed forms';
      return `does not match any allowed form: ${iss.errors.map((b) => b[0]?.message.replace(/\n/g, '; ')).join('; or ')}`;
    }
    case 'invalid_value':
      if (iss.values.length === 1) return `expected ${JSON.stringify(iss.values[0])}, got ${describeValue(iss.input)}`;
      return `invalid value ${JSON.stringify(iss.input)} (expected one of: ${quoteAll(iss.values)})`;
    case 'too_small':
      return withGot(sizeBound(iss, iss.minimum, true), iss.input);
    case 'too_big':
      return withGot(sizeBound(iss, iss.maximum, false), iss.input);
    case 'invalid_format': {
      const f = iss as z.core.$ZodStringFormatIssues;
      const want =
        f.format === 'regex' ? `a string matching ${f.pattern}`
        : f.format === 'starts_with' ? `a string starting with ${JSON.stringify(f.prefix)}`
        : f.format === 'ends_with' ? `a string ending with ${JSON.stringify(f.suffix)}`
        : f.format === 'includes' ? `a string containing ${JSON.stringify(f.includes)}`
        : `a valid ${f.format}`;
      return `expected ${want}, got ${describeValue(iss.input)}`;
    }
    case 'not_multiple_of':
      return `must be a multiple of ${iss.divisor}, got ${String(iss.input)}`;
    case 'invalid_key':
      return `invalid key ${JSON.stringify(last)}: ${iss.issues.map((i) => i.message).join('; ')}`;
    case 'invalid_element':
      return `invalid entry: ${iss.issues.map((i) => i.message).join('; ')}`;
    default:
      return 'is invalid';
  }
}

/**
 * When exactly one branch of a plain union got past the type check (say, the list form of "string or list of
 * strings"), its issues say far more than "matches no form" — report them instead, at their own paths.
 */
export function liftUnionIssues(issue: Issue): Issue[] {
  if (issue.code !== 'invalid_union' || issue.discriminator !== undefined) return [issue];
  const candidates = issue.errors.filter((branch) => !failedOnType(branch));
  if (candidates.length !== 1) return [issue];
  return candidates[0].flatMap((inner) => liftUnionIssues({ ...inner, path: [...issue.path, ...inner.path] }));
}
