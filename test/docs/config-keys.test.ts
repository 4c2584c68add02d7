import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agentConfigSchema } from '../../src/agent/config.js';
import { serverConfigSchema } from '../../src/server/config.js';

interface JsonSchema { properties?: Record<string, JsonSchema>; anyOf?: JsonSchema[]; oneOf?: JsonSchema[]; allOf?: JsonSchema[]; items?: JsonSchema; additionalProperties?: JsonSchema | boolean }

/** Every key the schema accepts, as `path → key`, components and nested objects included. */
function keys(j: JsonSchema, path = '', out = new Map<string, string>()): Map<string, string> {
  for (const alt of [...(j.anyOf ?? []), ...(j.oneOf ?? []), ...(j.allOf ?? [])]) keys(alt, path, out);
  if (j.items) keys(j.items, `${path}[]`, out);
  if (j.additionalProperties && typeof j.additionalProperties === 'object') keys(j.additionalProperties, `${path}.*`, out);
  for (const [k, v] of Object.entries(j.properties ?? {})) {
    out.set(`${path}.${k}`, k);
    keys(v, `${path}.${k}`, out);
  }
  return out;
}

const doc = (name: string) => readFileSync(join(import.meta.dirname, '../../docs', name), 'utf8');

// The role pages promise every configuration key; a key added to a schema without a word in
// its page fails here, naming the key.
describe('docs name every configuration key', () => {
  it.each([
    ['agent.md', agentConfigSchema],
    ['server.md', serverConfigSchema],
  ] as const)('%s', (page, schema) => {
    const text = doc(page);
    const all = keys(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema);
    expect(all.size).toBeGreaterThan(20);
    const missing = [...all].filter(([, k]) => !new RegExp(`(\`${k}\\b|\\b${k}:)`).test(text)).map(([p]) => p);
    expect(missing).toEqual([]);
  });
});
