/**
 * A hand-written recursive-descent parser for the LogQL subset Loggy evaluates. It follows
 * Loki's grammar (pkg/logql/syntax/syntax.y) and reports errors the way Loki's yacc parser does:
 * "syntax error: unexpected <token>[, expecting <a> or <b>]" at the offending token.
 */
import type { LabelMatcher, LineFilterOp, MatchOp } from '../store/engine.js';
import type {
  BinaryOp,
  CompareOp,
  ExtractionParam,
  Grouping,
  LabelFilterExpr,
  LabelFormatItem,
  LogQLExpr,
  LogQueryExpr,
  LogRangeExpr,
  MetricExpr,
  NamedMatcher,
  PipelineStage,
  RangeOp,
  UnwrapConversion,
  UnwrapExpr,
  VectorMatching,
  VectorOp,
} from './ast.js';
import { LogQLSyntaxError } from './errors.js';
import { tokenize, tokenName, type Token } from './lexer.js';
import { compileRegex, regexError } from './regex.js';
import { scalarOp } from './ops.js';
import { compilePattern } from './pipeline/pattern.js';
import { compileTemplate } from './pipeline/template.js';
import { parseJsonPath } from './pipeline/json.js';

/** Parses a LogQL query (log or metric). Throws LogQLSyntaxError. */
export function parseLogQL(query: string): LogQLExpr {
  if (query.length > 131072) throw new LogQLSyntaxError(`input size too long (${query.length} > 131072)`, query, 0);
  return new Parser(query).parseRoot();
}

const RANGE_OPS = new Set<string>([
  'count_over_time', 'rate', 'bytes_over_time', 'bytes_rate', 'sum_over_time', 'avg_over_time',
  'min_over_time', 'max_over_time', 'stddev_over_time', 'stdvar_over_time', 'quantile_over_time',
  'first_over_time', 'last_over_time',
]);
const VECTOR_OPS = new Set<string>(['sum', 'avg', 'min', 'max', 'count', 'stddev', 'stdvar', 'topk', 'bottomk']);
const UNSUPPORTED_FUNCTIONS = new Set(['rate_counter', 'absent_over_time', 'sort', 'sort_desc', 'approx_topk', 'label_replace']);
/** Range aggregations that accept `by`/`without` (Loki's list). */
const GROUPABLE_RANGE_OPS = new Set<string>([
  'avg_over_time', 'stddev_over_time', 'stdvar_over_time', 'quantile_over_time', 'max_over_time',
  'min_over_time', 'first_over_time', 'last_over_time',
]);
const UNWRAP_RANGE_OPS = new Set<string>([
  'avg_over_time', 'sum_over_time', 'max_over_time', 'min_over_time', 'stddev_over_time',
  'stdvar_over_time', 'quantile_over_time', 'rate', 'first_over_time', 'last_over_time',
]);
const PLAIN_RANGE_OPS = new Set<string>(['bytes_over_time', 'bytes_rate', 'count_over_time', 'rate']);

const BIN_PREC: Record<string, number> = {
  or: 1, and: 2, unless: 2,
  '==': 3, '!=': 3, '>': 3, '>=': 3, '<': 3, '<=': 3,
  '+': 4, '-': 4,
  '*': 5, '/': 5, '%': 5,
  '^': 6,
};
const COMPARISONS = new Set(['==', '!=', '>', '>=', '<', '<=']);
const LINE_FILTER_OPS = new Set(['|=', '!=', '|~', '!~', '|>', '!>']);
const MATCH_OPS = new Set(['=', '!=', '=~', '!~']);

const EMPTY_MATCHER_MSG =
  'queries require at least one regexp or equality matcher that does not have an empty-compatible value. ' +
  'For instance, app=~".*" does not meet this requirement, but app=~".+" will';

class Parser {
  private readonly toks: Token[];
  private i = 0;

  constructor(private readonly query: string) {
    this.toks = tokenize(query);
  }

  parseRoot(): LogQLExpr {
    const e = this.parseExpr(0);
    if (this.peek().type !== 'EOF') this.fail(this.peek());
    return e;
  }

  // ---- token helpers ---------------------------------------------------------------------------

  private peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (t.type !== 'EOF') this.i++;
    return t;
  }

  private isKw(t: Token, text: string): boolean {
    return t.type === 'KEYWORD' && t.text === text;
  }

  private expectKw(text: string, expected: string[] = [text]): Token {
    const t = this.peek();
    if (!this.isKw(t, text)) this.fail(t, expected);
    return this.next();
  }

  private expectType(type: Token['type'], expected: string[] = [type]): Token {
    const t = this.peek();
    if (t.type !== type) this.fail(t, expected);
    return this.next();
  }

  private fail(t: Token, expected?: string[]): never {
    if (t.type === 'ERROR') throw new LogQLSyntaxError(t.error ?? 'syntax error', this.query, t.pos);
    let msg = `syntax error: unexpected ${tokenName(t)}`;
    if (expected && expected.length > 0 && expected.length <= 4) msg += `, expecting ${expected.join(' or ')}`;
    throw new LogQLSyntaxError(msg, this.query, t.pos);
  }

  private error(msg: string, at: Token | number): never {
    throw new LogQLSyntaxError(msg, this.query, typeof at === 'number' ? at : at.pos);
  }

  // ---- expressions -----------------------------------------------------------------------------

  private parseExpr(minPrec: number): LogQLExpr {
    let left = this.parseUnary();
    for (;;) {
      const t = this.peek();
      if (t.type !== 'KEYWORD') break;
      const prec = BIN_PREC[t.text];
      if (prec === undefined || prec < minPrec) break;
      this.next();
      const op = t.text as BinaryOp;
      let returnBool = false;
      if (this.isKw(this.peek(), 'bool')) {
        const b = this.next();
        if (!COMPARISONS.has(op)) this.error('bool modifier can only be used on comparison operators', b);
        returnBool = true;
      }
      let matching: VectorMatching | undefined;
      const m = this.peek();
      if (this.isKw(m, 'on') || this.isKw(m, 'ignoring')) {
        this.next();
        matching = { on: m.text === 'on', labels: this.parseLabelList() };
        const g = this.peek();
        if (this.isKw(g, 'group_left') || this.isKw(g, 'group_right')) this.error(`${g.text} is not supported`, g);
      }
      // '^' is right-associative; everything else left.
      const right = this.parseExpr(op === '^' ? prec : prec + 1);
      left = this.makeBinary(op, left, right, returnBool, matching, t);
    }
    return left;
  }

  private makeBinary(
    op: BinaryOp,
    left: LogQLExpr,
    right: LogQLExpr,
    returnBool: boolean,
    matching: VectorMatching | undefined,
    at: Token,
  ): MetricExpr {
    if (left.kind === 'log') this.error(`unexpected type for left leg of binary operation (${op}): log query`, at);
    if (right.kind === 'log') this.error(`unexpected type for right leg of binary operation (${op}): log query`, at);
    if (op === 'and' || op === 'or' || op === 'unless') {
      if (left.kind === 'literal') this.error(`unexpected literal for left leg of logical/set binary operation (${op}): ${left.value.toFixed(6)}`, at);
      if (right.kind === 'literal') this.error(`unexpected literal for right leg of logical/set binary operation (${op}): ${right.value.toFixed(6)}`, at);
    }
    // Constant folding of scalar arithmetic, as Loki does.
    if (left.kind === 'literal' && right.kind === 'literal' && !COMPARISONS.has(op)) {
      return { kind: 'literal', value: scalarOp(op, left.value, right.value) };
    }
    if (left.kind === 'literal' && right.kind === 'literal' && COMPARISONS.has(op) && !returnBool) {
      this.error('comparisons between scalars must use BOOL modifier', at);
    }
    const e: MetricExpr = { kind: 'binary', op, left, right, returnBool };
    if (matching) e.matching = matching;
    return e;
  }

  private parseUnary(): LogQLExpr {
    const t = this.peek();
    if (t.type === 'NUMBER') {
      this.next();
      return { kind: 'literal', value: t.num! };
    }
    if ((this.isKw(t, '-') || this.isKw(t, '+')) && this.peek(1).type === 'NUMBER') {
      this.next();
      const n = this.next().num!;
      return { kind: 'literal', value: t.text === '-' ? -n : n };
    }
    if (this.isKw(t, '(')) {
      this.next();
      const e = this.parseExpr(0);
      this.expectKw(')');
      return e;
    }
    if (this.isKw(t, '{')) return this.parseLogQuery();
    if (t.type === 'FUNCTION') {
      if (RANGE_OPS.has(t.text)) return this.parseRangeAggregation();
      if (VECTOR_OPS.has(t.text)) return this.parseVectorAggregation();
      if (t.text === 'vector') {
        this.next();
        this.expectKw('(');
        const n = this.expectType('NUMBER');
        this.expectKw(')');
        return { kind: 'vector', value: n.num! };
      }
      if (UNSUPPORTED_FUNCTIONS.has(t.text)) this.error(`${t.text} is not supported`, t);
    }
    return this.fail(t);
  }

  private parseLogQuery(): LogQueryExpr {
    const matchers = this.parseSelector();
    const stages = this.parsePipeline(false);
    return { kind: 'log', matchers, stages };
  }

  // ---- selector --------------------------------------------------------------------------------

  private parseSelector(): LabelMatcher[] {
    const open = this.expectKw('{');
    const matchers: LabelMatcher[] = [];
    if (this.isKw(this.peek(), '}')) {
      this.next();
    } else {
      for (;;) {
        matchers.push(this.parseMatcher());
        const t = this.peek();
        if (this.isKw(t, ',')) {
          this.next();
          continue;
        }
        if (this.isKw(t, '}')) {
          this.next();
          break;
        }
        this.fail(t, ['}', ',']);
      }
    }
    if (!matchers.some((m) => !matchesEmpty(m))) this.error(EMPTY_MATCHER_MSG, open);
    return matchers;
  }

  private parseMatcher(): LabelMatcher {
    const name = this.expectType('IDENTIFIER');
    const opTok = this.peek();
    if (opTok.type !== 'KEYWORD' || !MATCH_OPS.has(opTok.text)) this.fail(opTok, ['=', '=~', '!~', '!=']);
    this.next();
    const value = this.expectType('STRING');
    const m: LabelMatcher = { name: name.text, op: opTok.text as MatchOp, value: value.text };
    this.checkMatcherRegex(m, value);
    return m;
  }

  private checkMatcherRegex(m: LabelMatcher, at: Token): void {
    if (m.op !== '=~' && m.op !== '!~') return;
    const err = regexError(m.value);
    if (err) this.error(err, at);
  }

  // ---- pipeline --------------------------------------------------------------------------------

  private parsePipeline(allowUnwrap: boolean): PipelineStage[] {
    const stages: PipelineStage[] = [];
    for (;;) {
      const t = this.peek();
      if (t.type !== 'KEYWORD') break;
      if (LINE_FILTER_OPS.has(t.text)) {
        this.next();
        stages.push(this.parseLineFilter(t.text as LineFilterOp | '|>' | '!>'));
        continue;
      }
      if (t.text !== '|') break;
      const n = this.peek(1);
      if (this.isKw(n, 'unwrap')) {
        if (allowUnwrap) break;
        this.next();
        this.fail(n);
      }
      this.next();
      stages.push(this.parseStage());
    }
    return stages;
  }

  private parseLineFilter(op: LineFilterOp | '|>' | '!>'): PipelineStage {
    const values = [this.parseLineFilterValue(op)];
    while (this.isKw(this.peek(), 'or') && (this.peek(1).type === 'STRING' || this.peek(1).type === 'FUNCTION')) {
      this.next();
      values.push(this.parseLineFilterValue(op));
    }
    return { kind: 'lineFilter', op, values };
  }

  private parseLineFilterValue(op: string): string {
    const t = this.peek();
    if (t.type === 'FUNCTION' && t.text === 'ip') this.error('ip filters are not supported', t);
    const s = this.expectType('STRING', ['STRING', 'ip']);
    if (op === '|~' || op === '!~') {
      const err = regexError(s.text);
      if (err) this.error(err, s);
    } else if (op === '|>' || op === '!>') {
      try {
        compilePattern(s.text, false);
      } catch (e) {
        this.error((e as Error).message, s);
      }
    }
    return s.text;
  }

  private parseStage(): PipelineStage {
    const t = this.peek();
    if (t.type === 'KEYWORD') {
      switch (t.text) {
        case 'json':
          this.next();
          return { kind: 'json', params: this.parseExtractionParams(true) };
        case 'logfmt': {
          this.next();
          let strict = false;
          let keepEmpty = false;
          while (this.peek().type === 'FUNCTION_FLAG') {
            const f = this.next().text;
            if (f === '--strict') strict = true;
            else keepEmpty = true;
          }
          return { kind: 'logfmt', strict, keepEmpty, params: this.parseExtractionParams(false) };
        }
        case 'regexp': {
          this.next();
          const s = this.expectType('STRING');
          this.checkRegexpStage(s);
          return { kind: 'regexp', pattern: s.text };
        }
        case 'pattern': {
          this.next();
          const s = this.expectType('STRING');
          try {
            compilePattern(s.text, true);
          } catch (e) {
            this.error((e as Error).message, s);
          }
          return { kind: 'pattern', pattern: s.text };
        }
        case 'unpack':
          this.next();
          return { kind: 'unpack' };
        case 'decolorize':
          this.next();
          return { kind: 'decolorize' };
        case 'line_format': {
          this.next();
          const s = this.expectType('STRING');
          this.checkTemplate(s, 'invalid line template');
          return { kind: 'lineFormat', template: s.text };
        }
        case 'label_format':
          this.next();
          return { kind: 'labelFormat', formats: this.parseLabelFormats() };
        case 'drop':
          this.next();
          return { kind: 'drop', labels: this.parseNamedMatchers() };
        case 'keep':
          this.next();
          return { kind: 'keep', labels: this.parseNamedMatchers() };
        case '(':
          return { kind: 'labelFilter', filter: this.parseLabelFilter() };
        default:
          this.fail(t);
      }
    }
    if (t.type === 'IDENTIFIER') return { kind: 'labelFilter', filter: this.parseLabelFilter() };
    return this.fail(t);
  }

  private checkRegexpStage(s: Token): void {
    let re: RegExp;
    try {
      re = compileRegex(s.text, false);
    } catch (e) {
      return this.error(`error parsing regexp: ${(e as Error).message}`, s);
    }
    const names = /\(\?<([^>]+)>/.exec(re.source);
    if (!names) this.error('at least one named capture must be supplied', s);
  }

  private checkTemplate(s: Token, what: string): void {
    try {
      compileTemplate(s.text);
    } catch (e) {
      this.error(`${what}: ${(e as Error).message}`, s);
    }
  }

  /** `a="x.y", b` after json/logfmt (none when the next token is not an identifier). */
  private parseExtractionParams(json: boolean): ExtractionParam[] {
    const params: ExtractionParam[] = [];
    if (this.peek().type !== 'IDENTIFIER') return params;
    for (;;) {
      const name = this.expectType('IDENTIFIER');
      let expression = name.text;
      if (this.isKw(this.peek(), '=')) {
        this.next();
        const s = this.expectType('STRING');
        expression = s.text;
        if (json) {
          try {
            parseJsonPath(expression);
          } catch (e) {
            this.error(`cannot parse expression [${expression}]: ${(e as Error).message}`, s);
          }
        }
      }
      params.push({ name: name.text, expression });
      if (!this.isKw(this.peek(), ',')) break;
      this.next();
    }
    return params;
  }

  private parseLabelFormats(): LabelFormatItem[] {
    const out: LabelFormatItem[] = [];
    const seen = new Set<string>();
    for (;;) {
      const name = this.expectType('IDENTIFIER');
      if (name.text === '__error__') this.error('__error__ cannot be formatted', name);
      if (seen.has(name.text)) this.error(`multiple label name '${name.text}' not allowed in a single format operation`, name);
      seen.add(name.text);
      this.expectKw('=');
      const v = this.peek();
      if (v.type === 'IDENTIFIER') {
        this.next();
        out.push({ name: name.text, rename: true, value: v.text });
      } else if (v.type === 'STRING') {
        this.next();
        this.checkTemplate(v, `invalid template for label '${name.text}'`);
        out.push({ name: name.text, rename: false, value: v.text });
      } else {
        this.fail(v, ['IDENTIFIER', 'STRING']);
      }
      if (!this.isKw(this.peek(), ',')) break;
      this.next();
    }
    return out;
  }

  private parseNamedMatchers(): NamedMatcher[] {
    const out: NamedMatcher[] = [];
    for (;;) {
      const name = this.expectType('IDENTIFIER');
      const op = this.peek();
      if (op.type === 'KEYWORD' && MATCH_OPS.has(op.text)) {
        this.next();
        const v = this.expectType('STRING');
        const matcher: LabelMatcher = { name: name.text, op: op.text as MatchOp, value: v.text };
        this.checkMatcherRegex(matcher, v);
        out.push({ name: name.text, matcher });
      } else {
        out.push({ name: name.text });
      }
      if (!this.isKw(this.peek(), ',')) break;
      this.next();
    }
    return out;
  }

  // ---- label filters ---------------------------------------------------------------------------

  /**
   * `or` binds looser than `and`. A `,` or plain juxtaposition (also "and") behaves as in Loki's
   * yacc grammar, where it always shifts: its left operand is the filter just before it and its
   * right operand is everything after it (`a, b or c` is `a and (b or c)`).
   */
  private parseLabelFilter(): LabelFilterExpr {
    let left = this.parseLabelFilterAnd();
    while (this.isKw(this.peek(), 'or')) {
      this.next();
      left = { kind: 'or', left, right: this.parseLabelFilterAnd() };
    }
    return left;
  }

  private parseLabelFilterAnd(): LabelFilterExpr {
    let left = this.parseLabelFilterChain();
    while (this.isKw(this.peek(), 'and')) {
      this.next();
      left = { kind: 'and', left, right: this.parseLabelFilterChain() };
    }
    return left;
  }

  private parseLabelFilterChain(): LabelFilterExpr {
    const first = this.parseLabelFilterPrimary();
    const t = this.peek();
    if (this.isKw(t, ',')) this.next();
    else if (!(t.type === 'IDENTIFIER' || this.isKw(t, '('))) return first;
    return { kind: 'and', left: first, right: this.parseLabelFilter() };
  }

  private parseLabelFilterPrimary(): LabelFilterExpr {
    const t = this.peek();
    if (this.isKw(t, '(')) {
      this.next();
      const e = this.parseLabelFilter();
      this.expectKw(')');
      return e;
    }
    const name = this.expectType('IDENTIFIER', ['IDENTIFIER', '(']);
    const opTok = this.next();
    const ops = ['=', '!=', '=~', '!~', '==', '>', '>=', '<', '<='];
    if (opTok.type !== 'KEYWORD' || !ops.includes(opTok.text)) this.fail(opTok);
    const op = opTok.text;
    const v = this.peek();
    if (v.type === 'STRING' && MATCH_OPS.has(op)) {
      this.next();
      const matcher: LabelMatcher = { name: name.text, op: op as MatchOp, value: v.text };
      this.checkMatcherRegex(matcher, v);
      return { kind: 'string', matcher };
    }
    if (op === '=~' || op === '!~') this.fail(v, ['STRING']);
    const cmp: CompareOp = op === '=' ? '==' : (op as CompareOp);
    if (v.type === 'DURATION') {
      this.next();
      return { kind: 'duration', name: name.text, op: cmp, value: Number(v.ns!) };
    }
    if (v.type === 'BYTES') {
      this.next();
      return { kind: 'bytes', name: name.text, op: cmp, value: v.num! };
    }
    if (v.type === 'NUMBER') {
      this.next();
      return { kind: 'number', name: name.text, op: cmp, value: v.num! };
    }
    if ((this.isKw(v, '-') || this.isKw(v, '+')) && this.peek(1).type === 'NUMBER') {
      this.next();
      const n = this.next().num!;
      return { kind: 'number', name: name.text, op: cmp, value: v.text === '-' ? -n : n };
    }
    if (v.type === 'FUNCTION' && v.text === 'ip') this.error('ip label filters are not supported', v);
    return this.fail(v);
  }

  // ---- metric expressions ----------------------------------------------------------------------

  private parseRangeAggregation(): MetricExpr {
    const opTok = this.next();
    const op = opTok.text as RangeOp;
    this.expectKw('(');
    let param: number | undefined;
    if (this.peek().type === 'NUMBER' && this.isKw(this.peek(1), ',')) {
      const p = this.next();
      this.next();
      if (op !== 'quantile_over_time') this.error(`parameter ${p.text} not supported for operation ${op}`, p);
      param = p.num!;
    }
    const range = this.parseLogRange();
    this.expectKw(')');
    const grouping = this.parseOptionalGrouping();
    if (op === 'quantile_over_time' && param === undefined) this.error(`parameter required for operation ${op}`, opTok);
    if (grouping && !GROUPABLE_RANGE_OPS.has(op)) this.error(`grouping not allowed for ${op} aggregation`, opTok);
    if (range.unwrap && !UNWRAP_RANGE_OPS.has(op)) this.error(`invalid aggregation ${op} with unwrap`, opTok);
    if (!range.unwrap && !PLAIN_RANGE_OPS.has(op)) this.error(`invalid aggregation ${op} without unwrap`, opTok);
    const e: MetricExpr = { kind: 'rangeAggregation', op, range };
    if (param !== undefined) e.param = param;
    if (grouping) e.grouping = grouping;
    return e;
  }

  private parseLogRange(): LogRangeExpr {
    const parts = this.parseLogRangeParts();
    if (parts.rangeNs === undefined) this.fail(this.peek());
    const r: LogRangeExpr = { log: parts.log, rangeNs: parts.rangeNs, offsetNs: parts.offsetNs ?? 0n };
    if (parts.unwrap) r.unwrap = parts.unwrap;
    return r;
  }

  private parseLogRangeParts(): { log: LogQueryExpr; rangeNs?: bigint; offsetNs?: bigint; unwrap?: UnwrapExpr } {
    if (this.isKw(this.peek(), '(')) {
      this.next();
      const parts = this.parseLogRangeParts();
      this.expectKw(')');
      if (parts.rangeNs === undefined) {
        parts.rangeNs = this.expectType('RANGE').ns!;
        parts.offsetNs = this.parseOptionalOffset();
      }
      return parts;
    }
    const matchers = this.parseSelector();
    let stages = this.parsePipeline(true);
    let unwrap = this.parseOptionalUnwrap();
    let rangeNs: bigint | undefined;
    let offsetNs: bigint | undefined;
    if (this.peek().type === 'RANGE') {
      rangeNs = this.next().ns!;
      offsetNs = this.parseOptionalOffset();
      if (!unwrap) {
        if (stages.length === 0) stages = this.parsePipeline(true);
        unwrap = this.parseOptionalUnwrap();
      }
    }
    const out: { log: LogQueryExpr; rangeNs?: bigint; offsetNs?: bigint; unwrap?: UnwrapExpr } = {
      log: { kind: 'log', matchers, stages },
    };
    if (rangeNs !== undefined) out.rangeNs = rangeNs;
    if (offsetNs !== undefined) out.offsetNs = offsetNs;
    if (unwrap) out.unwrap = unwrap;
    return out;
  }

  private parseOptionalOffset(): bigint {
    if (!this.isKw(this.peek(), 'offset')) return 0n;
    this.next();
    return this.expectType('DURATION').ns!;
  }

  private parseOptionalUnwrap(): UnwrapExpr | undefined {
    if (!(this.isKw(this.peek(), '|') && this.isKw(this.peek(1), 'unwrap'))) return undefined;
    this.next();
    this.next();
    const t = this.peek();
    let conversion: UnwrapConversion = 'float';
    let label: string;
    if (t.type === 'FUNCTION' && (t.text === 'bytes' || t.text === 'duration' || t.text === 'duration_seconds')) {
      this.next();
      conversion = t.text;
      this.expectKw('(');
      label = this.expectType('IDENTIFIER').text;
      this.expectKw(')');
    } else {
      label = this.expectType('IDENTIFIER').text;
    }
    const postFilters: LabelFilterExpr[] = [];
    while (this.isKw(this.peek(), '|') && (this.peek(1).type === 'IDENTIFIER' || this.isKw(this.peek(1), '('))) {
      this.next();
      postFilters.push(this.parseLabelFilter());
    }
    return { label, conversion, postFilters };
  }

  private parseVectorAggregation(): MetricExpr {
    const opTok = this.next();
    const op = opTok.text as VectorOp;
    let grouping = this.parseOptionalGrouping();
    this.expectKw('(');
    let param: Token | undefined;
    if (this.peek().type === 'NUMBER' && this.isKw(this.peek(1), ',')) {
      param = this.next();
      this.next();
    }
    const inner = this.parseExpr(0);
    if (inner.kind === 'log') this.fail(this.peek());
    this.expectKw(')');
    grouping ??= this.parseOptionalGrouping();
    const e: MetricExpr = { kind: 'vectorAggregation', op, expr: inner };
    if (op === 'topk' || op === 'bottomk') {
      if (!param) this.error(`parameter required for operation ${op}`, opTok);
      if (!/^\d+$/.test(param.text)) this.error(`invalid parameter ${op}(${param.text},`, param);
      const k = Number(param.text);
      if (k <= 0) this.error(`invalid parameter (must be greater than 0) ${op}(${param.text}`, param);
      e.param = k;
    } else if (param) {
      this.error(`unsupported parameter for operation ${op}(${param.text},`, param);
    }
    if (grouping) e.grouping = grouping;
    return e;
  }

  private parseOptionalGrouping(): Grouping | undefined {
    const t = this.peek();
    if (!(this.isKw(t, 'by') || this.isKw(t, 'without'))) return undefined;
    this.next();
    return { without: t.text === 'without', labels: this.parseLabelList() };
  }

  /** `( a, b )` or `()`. */
  private parseLabelList(): string[] {
    this.expectKw('(');
    const labels: string[] = [];
    if (this.isKw(this.peek(), ')')) {
      this.next();
      return labels;
    }
    for (;;) {
      labels.push(this.expectType('IDENTIFIER', ['IDENTIFIER', ')']).text);
      const t = this.peek();
      if (this.isKw(t, ',')) {
        this.next();
        continue;
      }
      if (this.isKw(t, ')')) {
        this.next();
        return labels;
      }
      this.fail(t, [',', ')']);
    }
  }
}

/** Does this matcher accept the empty string (and so select every stream)? */
function matchesEmpty(m: LabelMatcher): boolean {
  switch (m.op) {
    case '=':
      return m.value === '';
    case '!=':
      return m.value !== '';
    case '=~':
      return compileRegex(m.value, true).test('');
    case '!~':
      return !compileRegex(m.value, true).test('');
  }
}
