import { readFile } from 'node:fs/promises';
import { isAlias, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, errorMessage } from '../core/errors.js';
import { describeIssue, liftUnionIssues } from './format-issue.js';
import { interpolateDocument, type Env } from './interpolate.js';
import { forEachLeaf, formatPath, keyAt, locate, positionOf, type Located } from './locate.js';

export interface ParseOptions {
  /** Variables for `${VAR}` interpolation; defaults to process.env. */
  env?: Env;
}

/** One ConfigError for all problems, one `FILE:LINE:COL: path: text` line each, in file order. */
function fail(file: string, problems: Located[]): never {
  const sorted = [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
  const lines = sorted.map((p) => `${file}:${p.line}:${p.column}: ${p.path ? `${p.path}: ` : ''}${p.text}`);
  const first = sorted[0];
  throw new ConfigError(lines.join('\n'), file, first.line, first.column, first.path || undefined);
}

/** Parses YAML `text` (named `file` in messages), expands `${VAR}`s and validates it against `schema`. */
export function parseConfig<T>(text: string, file: string, schema: z.ZodType<T>, options: ParseOptions = {}): T {
  const lineCounter = new LineCounter();
  // uniqueKeys (on by default) makes duplicate keys an error; prettyErrors off keeps yaml's message to one
  // short sentence, since we print our own location.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    fail(
      file,
      doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        // yaml's "Map keys must be unique" does not say which key; the key node at its position does.
        const key = e.code === 'DUPLICATE_KEY' ? keyAt(doc, e.pos[0]) : undefined;
        const message = key !== undefined ? `duplicate key "${key}"` : e.message.split('\n')[0];
        return { line, column: col, path: '', text: message.replace(/[:.]\s*$/, '') };
      }),
    );
  }

  const problems: Located[] = [];
  forEachLeaf(doc, (node, path) => {
    // yaml accepts an alias to an undefined anchor and only throws, without position, in toJS().
    if (isAlias(node) && !node.resolve(doc)) {
      problems.push({ ...positionOf(node, lineCounter), path: formatPath(path), text: `unknown alias "*${node.source}"` });
    }
  });
  for (const { node, path, error } of interpolateDocument(doc, options.env ?? process.env)) {
    problems.push({ ...positionOf(node, lineCounter), path: formatPath(path), text: error });
  }
  if (problems.length > 0) fail(file, problems);

  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    throw new ConfigError(`${file}: ${errorMessage(err)}`, file);
  }
  const result = schema.safeParse(data ?? {}, { error: describeIssue });
  if (result.success) return result.data;

  fail(
    file,
    result.error.issues.flatMap(liftUnionIssues).flatMap((issue): Located[] => {
      if (issue.code === 'unrecognized_keys') {
        // describeIssue wrote one line per key; a schema's own message may be a single line for all of them.
        const texts = issue.message.split('\n');
        return issue.keys.map((key, i) => ({
          ...locate(doc, lineCounter, [...issue.path, key], 'key'),
          text: texts.length === issue.keys.length ? texts[i] : issue.message,
        }));
      }
      const at = issue.code === 'invalid_key' ? 'key' : 'value';
      return [{ ...locate(doc, lineCounter, issue.path, at), text: issue.message }];
    }),
  );
}

/** Reads `file` and parses it with {@link parseConfig}; an unreadable file is a ConfigError too. */
export async function loadConfigFile<T>(file: string, schema: z.ZodType<T>, options: ParseOptions = {}): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    // "ENOENT: no such file or directory, open 'x'" → "no such file or directory (ENOENT)"
    const code = (err as NodeJS.ErrnoException).code;
    const reason = errorMessage(err).replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/s, '');
    throw new ConfigError(`${file}: cannot read config file: ${reason}${code ? ` (${code})` : ''}`, file);
  }
  return parseConfig(text, file, schema, options);
}
