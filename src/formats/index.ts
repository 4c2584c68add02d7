/**
 * Container log framing: raw bytes of a CRI or Docker json-file log → LogEvents.
 * See Framer for the contract the tailer relies on.
 */
export type { FramerOptions, FramerStats, LogFormat, MultilineOptions } from './types.js';
export { Framer, createFramer, type LineFramer } from './framer.js';
export { RawFramer } from './raw.js';
export { detectFormat } from './detect.js';
export { PRESETS, buildRuleTable, type Rule, type RuleTable } from './multiline.js';
