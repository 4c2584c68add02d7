import { z } from 'zod';
import { EventBatch } from '../../core/batch.js';
import type { ComponentContext, Transform } from '../../core/component.js';
import { EventFlags, type LogEvent } from '../../core/event.js';
import { regexString } from '../../config/schema-helpers.js';
import { AnnotationWarnings, Annotations, annotationFor, podOf } from '../../kube/annotations.js';
import type { PodCache } from '../../kube/pod-cache.js';
import { podCacheLookup } from '../../kube/shared.js';
import { LabelsBuilder } from '../../logql/labels.js';
import { keyMatcher } from '../kube-metadata/index.js';
import { collectFields, jsonLineParser, logfmtLineParser, namedGroups, parseParserSpec, regexLineParser, specName, type LineParser, type ParserSpec } from './parsers.js';

const parserSetting = z.string().superRefine((v, ctx) => {
  const s = parseParserSpec(v);
  if (typeof s === 'string') ctx.addIssue({ code: 'custom', message: s });
});

export const parseTransformSchema = z.strictObject({
  type: z.literal('parse'),
  inputs: z.array(z.string().min(1)).min(1),
  /** The parser for lines of pods without a `loggy.io/parser` annotation: none, json, logfmt or regex:<name>. */
  format: parserSetting.default('none'),
  /** Named regexes for `regex:<name>` (here and in annotations): their named groups become fields. */
  patterns: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'pattern names are letters, digits, ".", "_" and "-"'), regexString.refine((s) => namedGroups(s).length > 0, {
    message: 'a pattern needs at least one named group, (?<name>...), to extract',
  })).default({}),
  /** Honour the `loggy.io/parser` pod annotation (uses the pod cache of a kube_metadata or kubernetes_pod_files component). */
  annotations: z.boolean().default(true),
  /** Which extracted fields to keep (globs on the field name). */
  fields: z.array(z.string().min(1)).default(['*']),
  /** At most this many fields per line; the rest are left in the line only. */
  max_fields: z.number().int().positive().default(32),
  /** Field values longer than this (characters) are cut: the full value stays in the line. */
  max_value_length: z.number().int().positive().default(1024),
}).superRefine((c, ctx) => {
  const s = parseParserSpec(c.format);
  if (typeof s !== 'string' && s.kind === 'regex' && !Object.hasOwn(c.patterns, s.name)) {
    ctx.addIssue({ code: 'custom', path: ['format'], message: `regex:${s.name} names no pattern (define it under patterns)` });
  }
});
export type ParseTransformConfig = z.infer<typeof parseTransformSchema>;

/**
 * Extracts fields from lines (JSON, logfmt, or a named regex) into each event's structured
 * metadata, so queries can filter on `status` or `level` with no parser stage and the Loki and
 * Elasticsearch sinks get them as fields. The line itself is never changed. The parser is the
 * pod's `loggy.io/parser` (or `loggy.io/parser.<container>`) annotation, else `format`: each
 * application says how its lines look, the agent's config does not grow with every app.
 *
 * A line that does not parse is delivered as it was, flagged `parse_failed` and counted
 * (`loggy_parse_failures_total`). An annotation the agent cannot use is logged once per pod,
 * counted, and `format` applies.
 */
export class ParseTransform implements Transform {
  private readonly fallback: ParserSpec;
  private readonly parsers = new Map<string, LineParser>();
  /** Per input (file): the parser chosen, until the pod cache changes. */
  private readonly chosen = new Map<string, { generation: number; spec: ParserSpec }>();
  private readonly b = new LabelsBuilder();
  private readonly keep: (name: string) => boolean;

  private readonly podCache: () => PodCache | null;
  constructor(private readonly cfg: ParseTransformConfig, private readonly ctx: ComponentContext) {
    this.fallback = parseParserSpec(cfg.format) as ParserSpec; // validated by the schema
    this.keep = keyMatcher(cfg.fields);
    this.warnings = new AnnotationWarnings(ctx, Annotations.parser);
    this.podCache = podCacheLookup(ctx, Annotations.parser);
  }

  private readonly warnings: AnnotationWarnings;

  process(batch: EventBatch): EventBatch | null {
    const spec = this.specFor(batch);
    if (spec.kind === 'none') return batch;
    const name = specName(spec);
    const parse = this.parserFor(spec);
    const b = this.b;
    const labels = batch.source.labels;
    const { max_fields: maxFields, max_value_length: maxValue } = this.cfg;
    let ok = 0;
    let failed = 0;
    // New event objects: a batch may also go down another branch of the pipeline unparsed.
    const out: LogEvent[] = new Array<LogEvent>(batch.events.length);
    batch.events.forEach((ev, i) => {
      if (ev.flags & EventFlags.RateLimitSummary) {
        out[i] = ev;
        return;
      }
      b.reset(labels);
      if (parse(ev.line, b)) {
        ok++;
        const fields = collectFields(b, this.keep, maxFields, maxValue);
        out[i] = fields ? { ts: ev.ts, stream: ev.stream, line: ev.line, flags: ev.flags, offset: ev.offset, fields } : ev;
      } else {
        failed++;
        out[i] = { ts: ev.ts, stream: ev.stream, line: ev.line, flags: ev.flags | EventFlags.ParseFailed, offset: ev.offset };
      }
    });
    const { metrics } = this.ctx;
    if (ok) metrics.parsed.inc({ component: this.ctx.name, parser: name }, ok);
    if (failed) metrics.parseFailed.inc({ component: this.ctx.name, parser: name }, failed);
    return new EventBatch(batch.source, out);
  }

  private specFor(batch: EventBatch): ParserSpec {
    if (!this.cfg.annotations) return this.fallback;
    const cache = this.podCache();
    if (!cache) return this.fallback;
    const src = batch.source;
    const seen = this.chosen.get(src.id);
    if (seen && seen.generation === cache.generation) return seen.spec;
    const pod = podOf(cache, src.labels);
    const value = pod ? annotationFor(pod, Annotations.parser, src.labels.container) : undefined;
    let spec = this.fallback;
    if (pod && value !== undefined) {
      const s = parseParserSpec(value);
      const problem = typeof s === 'string' ? s : s.kind === 'regex' && !Object.hasOwn(this.cfg.patterns, s.name) ? `regex:${s.name} names no pattern in the agent's parse transform (known: ${Object.keys(this.cfg.patterns).join(', ') || 'none'})` : null;
      if (problem === null) spec = s as ParserSpec;
      else this.warnings.warn(pod, value, { problem, using: specName(this.fallback) });
    }
    if (this.chosen.size > 50_000) this.chosen.clear(); // files come and go; rebuilt on demand
    this.chosen.set(src.id, { generation: cache.generation, spec });
    return spec;
  }

  private parserFor(spec: ParserSpec): LineParser {
    const key = specName(spec);
    let p = this.parsers.get(key);
    if (!p) {
      p = spec.kind === 'json' ? jsonLineParser() : spec.kind === 'logfmt' ? logfmtLineParser() : regexLineParser(new RegExp(this.cfg.patterns[(spec as { name: string }).name]!));
      this.parsers.set(key, p);
    }
    return p;
  }
}
