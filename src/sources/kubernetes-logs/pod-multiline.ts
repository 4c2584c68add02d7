import type { ComponentContext } from '../../core/component.js';
import type { Labels } from '../../core/event.js';
import type { MultilineOptions } from '../../formats/index.js';
import { AnnotationWarnings, Annotations, annotationFor, multilineFromAnnotation, podOf } from '../../kube/annotations.js';
import type { PodCache } from '../../kube/pod-cache.js';

/** A file's multiline rule, and the annotation value it came from ('' for the source's own setting). */
export interface MultilineRule {
  key: string;
  opts: MultilineOptions | null;
}

/**
 * The multiline rule for a container's files: its pod's `loggy.io/multiline` (or
 * `loggy.io/multiline.<container>`) — `java`, `python`, `go`, `none`, or a regex that matches an
 * event's first line — else the source's `multiline` setting. Grouping happens in the source,
 * not in a transform, because a group must never straddle an acknowledged checkpoint.
 * An annotation the agent cannot use is logged once per pod and value, counted, and ignored.
 */
export class PodMultiline {
  private readonly warnings: AnnotationWarnings;

  constructor(private readonly pods: PodCache, private readonly base: MultilineOptions | null, ctx: ComponentContext) {
    this.warnings = new AnnotationWarnings(ctx, Annotations.multiline);
  }

  ruleFor(labels: Labels): MultilineRule {
    const fallback = { key: '', opts: this.base };
    const pod = podOf(this.pods, labels);
    const value = pod ? annotationFor(pod, Annotations.multiline, labels.container) : undefined;
    if (!pod || value === undefined) return fallback;
    const choice = multilineFromAnnotation(value);
    if (typeof choice === 'string') {
      this.warnings.warn(pod, value, { problem: choice });
      return fallback;
    }
    if (choice === null) return { key: value, opts: null };
    return { key: value, opts: { ...choice, flushMs: this.base?.flushMs ?? 1000, maxLines: this.base?.maxLines ?? 500 } };
  }
}
