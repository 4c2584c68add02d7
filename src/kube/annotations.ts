import safeRegex from 'safe-regex2';
import type { ComponentContext } from '../core/component.js';
import type { Labels } from '../core/event.js';
import type { MultilineOptions } from '../formats/types.js';
import type { PodCache } from './pod-cache.js';
import type { PodMeta } from './pod-meta.js';

/**
 * The pod annotations through which an application configures its own collection, so a new
 * app never means editing the agent's config. Each (but `files`, which names containers in its
 * value) has a per-container form, `<key>.<container>`, that wins over the pod-wide one:
 * container names are DNS labels, so they never contain the dot.
 */
export const Annotations = {
  exclude: 'loggy.io/exclude',
  parser: 'loggy.io/parser',
  multiline: 'loggy.io/multiline',
  rateLimit: 'loggy.io/rate-limit',
  files: 'loggy.io/files',
} as const;

/** The annotation's value for one container: `<key>.<container>`, else `<key>`; trimmed, undefined when empty. */
export function annotationFor(pod: PodMeta, key: string, container: string | undefined): string | undefined {
  const own = container ? pod.annotations[`${key}.${container}`] : undefined;
  const v = (own ?? pod.annotations[key])?.trim();
  return v ? v : undefined;
}

/** The pod a batch's path labels name: by UID (or a static pod's config hash), else by namespace and name. */
export function podOf(cache: PodCache, labels: Labels): PodMeta | undefined {
  return (labels.pod_uid ? cache.get(labels.pod_uid) : undefined) ?? (labels.namespace && labels.pod ? cache.getByName(labels.namespace, labels.pod) : undefined);
}

/**
 * A regex written by an application's author, run by the agent on every line of the node:
 * one with nested quantifiers (`(a+)+`) could take the agent's CPU away from every other pod.
 * Refused when its star height is above one (safe-regex2's test, which catches the common
 * catastrophic forms but not every one, e.g. `(a|a)*`; operators who do not trust their
 * tenants turn annotation regexes off). Returns the compiled regex or an error message.
 */
export function annotationRegex(source: string, what: string): RegExp | string {
  let re: RegExp;
  try {
    re = new RegExp(source);
  } catch (err) {
    return `${what}: invalid regex ${JSON.stringify(source)}: ${(err as Error).message}`;
  }
  if (!safeRegex(re)) return `${what}: regex ${JSON.stringify(source)} has nested quantifiers (catastrophic backtracking risk); refused`;
  return re;
}

/** What `loggy.io/multiline` may say: a preset, `none` (null: no grouping), or a regex for an event's first line. */
export type MultilineChoice = Pick<MultilineOptions, 'preset' | 'start'> | null;

/** The choice, or an error message. */
export function multilineFromAnnotation(value: string): MultilineChoice | string {
  if (value === 'java' || value === 'python' || value === 'go') return { preset: value };
  if (value === 'none') return null;
  const re = annotationRegex(value, Annotations.multiline);
  return typeof re === 'string' ? re : { start: value };
}

/**
 * Says once per pod and value that an annotation was not used as written, and counts it: the
 * choice is re-made whenever any pod changes, so without this one bad pod would flood the log.
 */
export class AnnotationWarnings {
  private readonly said = new Set<string>();

  constructor(private readonly ctx: ComponentContext, private readonly annotation: string) {}

  warn(pod: PodMeta, value: string, detail: Record<string, string>, msg = 'pod annotation ignored'): void {
    const key = `${pod.uid}|${value}`;
    if (this.said.has(key)) return;
    if (this.said.size > 10_000) this.said.clear();
    this.said.add(key);
    this.ctx.metrics.annotationErrors.inc({ component: this.ctx.name, annotation: this.annotation });
    this.ctx.log.warn({ pod: `${pod.namespace}/${pod.name}`, annotation: this.annotation, value, ...detail }, msg);
  }
}
