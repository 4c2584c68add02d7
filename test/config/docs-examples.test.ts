import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../src/agent/config.js';
import { parseConfig } from '../../src/config/index.js';

/** The configuration the docs show is the configuration the agent accepts. */
describe('docs examples', () => {
  it('the full agent configuration in docs/agent.md is valid', () => {
    const md = readFileSync(new URL('../../docs/agent.md', import.meta.url), 'utf8');
    const block = /## Configuration[\s\S]*?```yaml\n([\s\S]*?)```/.exec(md)?.[1];
    expect(block).toBeDefined();
    const cfg = parseConfig(block!, 'docs/agent.md', agentConfigSchema, { env: { NODE_NAME: 'node-1', LOGGY_TOKEN: 'secret', ES_API_KEY: 'id:key' } });
    expect(Object.keys(cfg.transforms)).toContain('fields');
    expect(cfg.sinks.out!.inputs).toEqual(['fields']);
  });
});
