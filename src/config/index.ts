export { parseConfig, loadConfigFile, type ParseOptions } from './load.js';
export { expandEnv, type Env } from './interpolate.js';
export { formatPath } from './locate.js';
export { describeValue } from './format-issue.js';
export { byteSize, duration, globList, nonEmptyString, parseByteSize, parseDuration } from './schema-helpers.js';
