import type { ComponentContext } from '../../core/component.js';
import { EventFlags } from '../../core/event.js';
import { truncateString } from '../../formats/bytes.js';

/**
 * A pushed line held to max_line_bytes: cut on a character boundary, flagged `truncated` and
 * counted (`loggy_lines_truncated_total`), as file sources do with over-long lines.
 */
export function capLine(line: string, maxBytes: number, ctx: ComponentContext): { line: string; flags: number } {
  const cut = truncateString(line, maxBytes);
  if (cut === null) return { line, flags: 0 };
  ctx.metrics.truncated.inc({ component: ctx.name });
  return { line: cut, flags: EventFlags.Truncated };
}
