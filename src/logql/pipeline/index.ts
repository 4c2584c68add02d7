/**
 * Compiles pipeline stages into one Pipeline: each stage is a closure over a shared per-query
 * state (current line, timestamp, LabelsBuilder), so processing a line allocates nothing until a
 * line survives and its labels are materialised.
 */
import type { Labels } from '../../store/engine.js';
import type { DropStage, JsonStage, KeepStage, LabelFilterExpr, LabelFormatStage, LogfmtStage, PipelineStage } from '../ast.js';
import { ERROR_DETAILS_LABEL, ERROR_LABEL, LabelsBuilder } from '../labels.js';
import { compileRegex } from '../regex.js';
import { compileLabelFilter, compileLineFilter, compileMatcher, labelFilterNames } from './filters.js';
import { JsonExpressionParser, JsonParser, sanitizeLabelKey, UnpackParser } from './json.js';
import { LogfmtExpressionParser, LogfmtParser } from './logfmt.js';
import { compilePattern } from './pattern.js';
import { compileTemplate, TemplateError, type TemplateContext } from './template.js';

export const TEMPLATE_FORMAT_ERR = 'TemplateFormatErr';

/** Runs a query's non-pushed-down stages on one row. */
export interface Pipeline {
  readonly hasStages: boolean;
  /** null when a stage drops the line; otherwise the (possibly rewritten) line and its labels (stream + extracted). */
  process(line: string, labels: Labels, tsNs: bigint): { line: string; labels: Labels } | null;
}

/** Shared mutable state of one compiled pipeline. */
class State implements TemplateContext {
  line = '';
  tsNs = 0n;
  readonly b = new LabelsBuilder();
  label(name: string): string {
    return this.b.value(name);
  }
}

type StageFn = (s: State) => boolean;

export class CompiledPipeline implements Pipeline {
  readonly hasStages: boolean;
  private readonly st = new State();
  private readonly fns: StageFn[];

  /** `requiredLabels`: the only labels read after the pipeline (metric grouping); lets parsers skip the rest. */
  constructor(stages: readonly PipelineStage[], requiredLabels?: ReadonlySet<string>) {
    this.fns = compileStages(stages, requiredLabels);
    this.hasStages = this.fns.length > 0;
  }

  /** The builder holding the last line's labels (valid until the next run). */
  get builder(): LabelsBuilder {
    return this.st.b;
  }

  /** The last line after the stages. */
  get line(): string {
    return this.st.line;
  }

  /** Runs the stages, leaving the result in `line` and `builder`. False when dropped. */
  run(line: string, labels: Labels, tsNs: bigint): boolean {
    const st = this.st;
    st.line = line;
    st.tsNs = tsNs;
    st.b.reset(labels);
    const fns = this.fns;
    for (let i = 0; i < fns.length; i++) if (!fns[i]!(st)) return false;
    return true;
  }

  process(line: string, labels: Labels, tsNs: bigint): { line: string; labels: Labels } | null {
    if (!this.run(line, labels, tsNs)) return null;
    return { line: this.st.line, labels: this.st.b.labels() };
  }
}

export function compilePipeline(stages: readonly PipelineStage[], requiredLabels?: ReadonlySet<string>): CompiledPipeline {
  return new CompiledPipeline(stages, requiredLabels);
}

/** Stages that leave stream and parsed labels alone (they may set `__error__` or change the line). */
const LABEL_NEUTRAL = new Set<PipelineStage['kind']>(['lineFilter', 'labelFilter', 'lineFormat', 'decolorize']);

function compileStages(input: readonly PipelineStage[], required: ReadonlySet<string> | undefined): StageFn[] {
  const stages = hoistLineFilters(input);
  const fns: StageFn[] = [];
  const hinted = required ? hintedParser(stages) : -1;
  let clean = true;
  for (let i = 0; i < stages.length; i++) {
    const st = stages[i]!;
    if (i === hinted && (st.kind === 'json' || st.kind === 'logfmt')) {
      const names = new Set(required);
      for (const f of stages.slice(i + 1)) if (f.kind === 'labelFilter') for (const n of labelFilterNames(f.filter)) names.add(n);
      const earlyExit = !names.has(ERROR_LABEL) && !names.has(ERROR_DETAILS_LABEL);
      const p = st.kind === 'json' ? new JsonParser() : new LogfmtParser(st.strict, st.keepEmpty);
      fns.push((s) => (p.process(s.line, s.b, names, earlyExit), true));
      clean = false;
      continue;
    }
    if (clean && hinted < 0 && (st.kind === 'json' || st.kind === 'logfmt') && st.params.length === 0) {
      const filters: LabelFilterExpr[] = [];
      for (let j = i + 1; j < stages.length; j++) {
        const f = stages[j]!;
        if (f.kind !== 'labelFilter') break;
        filters.push(f.filter);
      }
      const names = new Set(filters.flatMap(labelFilterNames));
      if (filters.length > 0 && !names.has(ERROR_LABEL) && !names.has(ERROR_DETAILS_LABEL)) {
        fns.push(fuseParserAndFilters(st, filters, names));
        i += filters.length;
        clean = false;
        continue;
      }
    }
    if (!LABEL_NEUTRAL.has(st.kind)) clean = false;
    fns.push(compileStage(st));
  }
  return fns;
}

/** Stages that change the line: line filters must not move across them. */
const LINE_CHANGING = new Set<PipelineStage['kind']>(['lineFormat', 'unpack', 'decolorize']);

/**
 * Moves line filters ahead of label-only stages (parsers, label filters, label_format, drop,
 * keep) up to the previous line-changing stage: they read only the line, which those stages do
 * not touch, so lines are dropped before paying for parsing. The result is unchanged.
 */
function hoistLineFilters(stages: readonly PipelineStage[]): PipelineStage[] {
  const out: PipelineStage[] = [];
  let segment: PipelineStage[] = [];
  const flush = () => {
    out.push(...segment.filter((s) => s.kind === 'lineFilter'), ...segment.filter((s) => s.kind !== 'lineFilter'));
    segment = [];
  };
  for (const st of stages) {
    if (LINE_CHANGING.has(st.kind)) {
      flush();
      out.push(st);
    } else {
      segment.push(st);
    }
  }
  flush();
  return out;
}

/**
 * With metric hints: the index of the last json/logfmt parser (without parameters) when only
 * line and label filters follow it, so it need extract only what they and the caller read.
 */
function hintedParser(stages: readonly PipelineStage[]): number {
  for (let i = stages.length - 1; i >= 0; i--) {
    const st = stages[i]!;
    if (st.kind === 'lineFilter' || st.kind === 'labelFilter') continue;
    if ((st.kind === 'json' || st.kind === 'logfmt') && st.params.length === 0) return i;
    return -1;
  }
  return -1;
}

/**
 * `| json | level="error"` (or logfmt): first a probe that extracts only the labels the filters
 * read and stops scanning once it has them; lines the filters reject are dropped right there.
 * Survivors are parsed in full and filtered again, so the result is exactly that of the two
 * stages run one after the other. Only used while no earlier stage has set labels (so the
 * probe's labels can be discarded by a reset) and when the filters do not read `__error__`.
 */
function fuseParserAndFilters(parser: JsonStage | LogfmtStage, filters: LabelFilterExpr[], names: ReadonlySet<string>): StageFn {
  const p = parser.kind === 'json' ? new JsonParser() : new LogfmtParser(parser.strict, parser.keepEmpty);
  const tests = filters.map(compileLabelFilter);
  return (s) => {
    const b = s.b;
    const err = b.err;
    const details = b.errDetails;
    p.process(s.line, b, names);
    for (let i = 0; i < tests.length; i++) if (!tests[i]!(b)) return false;
    b.reset(b.base);
    b.err = err;
    b.errDetails = details;
    p.process(s.line, b);
    for (let i = 0; i < tests.length; i++) if (!tests[i]!(b)) return false;
    return true;
  };
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

function compileStage(stage: PipelineStage): StageFn {
  switch (stage.kind) {
    case 'lineFilter': {
      const t = compileLineFilter(stage);
      return (s) => t(s.line);
    }
    case 'labelFilter': {
      const t = compileLabelFilter(stage.filter);
      return (s) => t(s.b);
    }
    case 'json': {
      if (stage.params.length > 0) {
        const p = new JsonExpressionParser(stage.params);
        return (s) => (p.process(s.line, s.b), true);
      }
      const p = new JsonParser();
      return (s) => (p.process(s.line, s.b), true);
    }
    case 'logfmt': {
      if (stage.params.length > 0) {
        const p = new LogfmtExpressionParser(stage.params, stage.strict);
        return (s) => (p.process(s.line, s.b), true);
      }
      const p = new LogfmtParser(stage.strict, stage.keepEmpty);
      return (s) => (p.process(s.line, s.b), true);
    }
    case 'regexp': {
      const re = compileRegex(stage.pattern, false);
      const names = [...re.source.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1]!);
      const labels = names.map((n) => sanitizeLabelKey(n, true));
      return (s) => {
        const m = re.exec(s.line);
        if (m?.groups) {
          for (let i = 0; i < names.length; i++) s.b.setExtracted(labels[i]!, m.groups[names[i]!] ?? '');
        }
        return true;
      };
    }
    case 'pattern': {
      const p = compilePattern(stage.pattern, true);
      const names = p.names;
      return (s) => {
        const caps = p.matches(s.line);
        if (caps) for (let i = 0; i < caps.length; i++) s.b.setExtracted(names[i]!, caps[i]!);
        return true;
      };
    }
    case 'unpack': {
      const p = new UnpackParser();
      return (s) => {
        s.line = p.process(s.line, s.b);
        return true;
      };
    }
    case 'lineFormat': {
      const t = compileTemplate(stage.template);
      return (s) => {
        try {
          s.line = t.render(s);
        } catch (e) {
          if (!(e instanceof TemplateError)) throw e;
          s.b.setErr(TEMPLATE_FORMAT_ERR, e.message);
        }
        return true;
      };
    }
    case 'labelFormat':
      return compileLabelFormat(stage);
    case 'drop':
      return compileDrop(stage);
    case 'keep':
      return compileKeep(stage);
    case 'decolorize':
      return (s) => {
        if (s.line.includes('\x1b[')) s.line = s.line.replace(ANSI, '');
        return true;
      };
  }
}

function compileLabelFormat(stage: LabelFormatStage): StageFn {
  const items = stage.formats.map((f) => ({ ...f, tmpl: f.rename ? null : compileTemplate(f.value) }));
  return (s) => {
    for (const f of items) {
      if (f.tmpl === null) {
        const v = s.b.get(f.value);
        if (v !== undefined) {
          s.b.set(f.name, v);
          if (f.value !== f.name) s.b.del(f.value);
        }
        continue;
      }
      try {
        s.b.set(f.name, f.tmpl.render(s));
      } catch (e) {
        if (!(e instanceof TemplateError)) throw e;
        s.b.setErr(TEMPLATE_FORMAT_ERR, e.message);
      }
    }
    return true;
  };
}

function compileDrop(stage: DropStage): StageFn {
  const items = stage.labels.map((l) => ({ name: l.name, test: l.matcher ? compileMatcher(l.matcher) : null }));
  return (s) => {
    for (const it of items) {
      if (it.test === null || it.test(s.b.value(it.name))) s.b.del(it.name);
    }
    return true;
  };
}

const SPECIAL = new Set([ERROR_LABEL, ERROR_DETAILS_LABEL, '__preserve_error__']);

function compileKeep(stage: KeepStage): StageFn {
  const items = stage.labels.map((l) => ({ name: l.name, test: l.matcher ? compileMatcher(l.matcher) : null }));
  return (s) => {
    for (const n of s.b.names()) {
      if (SPECIAL.has(n)) continue;
      const v = s.b.value(n);
      if (!items.some((it) => it.name === n && (it.test === null || it.test(v)))) s.b.del(n);
    }
    return true;
  };
}
