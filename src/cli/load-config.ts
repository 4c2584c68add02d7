import { ConfigError } from '../core/errors.js';

/**
 * Load a configuration; a ConfigError (already located: file, line, key) goes to stderr as is
 * and yields null, so the command can exit 2. Anything else is a bug and propagates.
 */
export async function loadOrReport<T>(load: () => Promise<T>): Promise<T | null> {
  try {
    return await load();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return null;
    }
    throw err;
  }
}
