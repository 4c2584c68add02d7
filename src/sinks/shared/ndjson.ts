import { EventFlags, type LogEvent, type EventSource } from '../../core/event.js';

const flagNames: Array<[number, string]> = [
  [EventFlags.Truncated, 'truncated'],
  [EventFlags.Partial, 'partial'],
  [EventFlags.Malformed, 'malformed'],
  [EventFlags.Multiline, 'multiline'],
];

export function flagList(flags: number): string[] {
  const out: string[] = [];
  for (const [bit, name] of flagNames) if (flags & bit) out.push(name);
  return out;
}

/**
 * One event as a line of Loggy's NDJSON: {"ts","stream","line","labels",["flags"]}.
 * Hand-assembled instead of JSON.stringify(object): the labels are serialized once per
 * source, so the per-event work is one string escape of the line.
 */
export function eventToJson(ev: LogEvent, source: EventSource): string {
  const flags = ev.flags === 0 ? '' : `,"flags":${JSON.stringify(flagList(ev.flags))}`;
  return `{"ts":${JSON.stringify(ev.ts)},"stream":"${ev.stream}","line":${JSON.stringify(ev.line)},"labels":${source.labelsJson}${flags}}`;
}
