import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfigFile, parseConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/core/errors.js';
import { agentSchema } from './fixture.js';
import { configErrorOf } from './helpers.js';

const parse = (text: string, env: Record<string, string> = {}) => parseConfig(text, 'agent.yaml', agentSchema, { env });
const errorOf = (text: string, env: Record<string, string> = {}) => configErrorOf(() => parse(text, env));

const VALID = `
sources:
  pods:
    type: kubernetes_logs
  app:
    type: file
    include: /var/log/app/*.log
sinks:
  out:
    type: file
    inputs: [pods, app]
    path: /var/log/loggy/out.log
    max_bytes: 16KiB
  tty:
    type: console
    inputs:
      - pods
`;

describe('parseConfig', () => {
  it('returns the schema output with defaults applied', () => {
    expect(parse(VALID)).toEqual({
      data_dir: '/var/lib/loggy',
      flush_interval: 1000,
      sources: {
        pods: { type: 'kubernetes_logs', root: '/' },
        app: { type: 'file', include: ['/var/log/app/*.log'] },
      },
      sinks: {
        out: { type: 'file', inputs: ['pods', 'app'], path: '/var/log/loggy/out.log', max_bytes: 16 * 1024 },
        tty: { type: 'console', inputs: ['pods'], format: 'text' },
      },
    });
  });

  it('reports an unknown nested key at the key, with the allowed keys', () => {
    const err = errorOf(VALID.replace('    path: /var', '    pth: /var'));
    expect(err.message.split('\n')).toContain(
      'agent.yaml:12:5: sinks.out.pth: unknown key "pth" (allowed: type, inputs, path, max_bytes)',
    );
    expect(err).toBeInstanceOf(ConfigError);
  });

  it('reports a wrong type at the value, and fills the error fields from the first issue', () => {
    const err = errorOf('sources:\n  pods:\n    type: kubernetes_logs\n    root:   42\nsinks: {}\n');
    expect(err.message).toBe('agent.yaml:4:13: sources.pods.root: expected a string, got a number (42)');
    expect({ file: err.file, line: err.line, column: err.column, path: err.path }).toEqual({
      file: 'agent.yaml',
      line: 4,
      column: 13,
      path: 'sources.pods.root',
    });
  });

  it('reports a missing required key at the parent mapping', () => {
    const err = errorOf(VALID.replace('    path: /var/log/loggy/out.log\n', ''));
    expect(err.message).toBe('agent.yaml:9:3: sinks.out: missing required key "path"');
    expect(err.path).toBe('sinks.out');
  });

  it('reports a missing top-level key at the top of the file', () => {
    expect(errorOf('sources: {}\n').message).toBe('agent.yaml:1:1: missing required key "sinks"');
  });

  it('names the existing types for an unknown discriminated-union type', () => {
    const err = errorOf(VALID.replace('type: console', 'type: consol'));
    expect(err.message).toBe(
      'agent.yaml:15:11: sinks.tty.type: unknown type "consol" (expected one of: file, console, blackhole)',
    );
  });

  it('reports a missing discriminator at its mapping', () => {
    const err = errorOf('sources:\n  pods: {root: /}\nsinks: {}\n');
    expect(err.message).toBe(
      'agent.yaml:2:3: sources.pods: missing required key "type" (expected one of: kubernetes_logs, file)',
    );
  });

  it('reports every issue, one per line, in file order', () => {
    const text = `
sinks:
  out:
    type: file
    inputs: []
    path: 7
    extra: 1
    other: 2
  tty:
    type: console
    inputs: [pods, 3]
    format: yaml
sources:
  pods:
    type: kubernetes_logs
    root: [a]
`;
    expect(errorOf(text).message.split('\n')).toEqual([
      'agent.yaml:5:13: sinks.out.inputs: must not be empty',
      'agent.yaml:6:11: sinks.out.path: expected a string, got a number (7)',
      'agent.yaml:7:5: sinks.out.extra: unknown key "extra" (allowed: type, inputs, path, max_bytes)',
      'agent.yaml:8:5: sinks.out.other: unknown key "other" (allowed: type, inputs, path, max_bytes)',
      'agent.yaml:11:20: sinks.tty.inputs[1]: expected a string, got a number (3)',
      'agent.yaml:12:13: sinks.tty.format: invalid value "yaml" (expected one of: text, json)',
      'agent.yaml:16:11: sources.pods.root: expected a string, got a list',
    ]);
  });

  it('reports the deepest failing branch of a plain union at its own position', () => {
    const err = errorOf('sources:\n  app:\n    type: file\n    include:\n      - a.log\n      - 5\nsinks: {}\n');
    expect(err.message).toBe('agent.yaml:6:9: sources.app.include[1]: expected a string, got a number (5)');
  });

  it('quotes keys that would be ambiguous in a dotted path', () => {
    const err = errorOf('sources:\n  "app.log": {type: file, include: 5}\nsinks: {}\n');
    expect(err.message).toBe(
      'agent.yaml:2:36: sources["app.log"].include: expected a glob pattern or a list of them, got a number (5)',
    );
  });

  it('reports YAML syntax errors with their location', () => {
    const err = errorOf('sources:\n  pods:\n    type: kubernetes_logs\n   root: /\nsinks: {}\n');
    expect(err.message).toBe('agent.yaml:4:1: All mapping items must start at the same column');
    expect([err.file, err.line, err.column]).toEqual(['agent.yaml', 4, 1]);
    expect(errorOf('sources: {}\nsinks: {a: b: c}\n').message).toMatch(/^agent\.yaml:2:12: /);
  });

  it('rejects duplicate keys, pointing at the second one', () => {
    const err = errorOf('sources: {}\nsinks:\n  out: {type: blackhole, inputs: [a]}\n  "out": {type: blackhole, inputs: [b]}\n');
    expect(err.message).toBe('agent.yaml:4:3: duplicate key "out"');
  });

  it('reports an alias to an undefined anchor at the alias', () => {
    const err = errorOf('sources: {}\nsinks: *nope\n');
    expect(err.message).toBe('agent.yaml:2:8: sinks: unknown alias "*nope"');
  });

  it('treats an empty file as an empty mapping and lets the schema decide', () => {
    const allDefaults = z.strictObject({ data_dir: z.string().default('/var/lib/loggy') });
    expect(parseConfig('', 'a.yaml', allDefaults)).toEqual({ data_dir: '/var/lib/loggy' });
    expect(parseConfig('# only a comment\n', 'a.yaml', allDefaults)).toEqual({ data_dir: '/var/lib/loggy' });
    expect(errorOf('').message).toBe('agent.yaml:1:1: missing required key "sources"\nagent.yaml:1:1: missing required key "sinks"');
  });

  it('reports a non-mapping document', () => {
    expect(errorOf('- a\n').message).toBe('agent.yaml:1:1: expected a mapping, got a list');
  });
});

describe('environment interpolation', () => {
  const sink = (path: string) => `sources: {}\nsinks:\n  out:\n    type: file\n    inputs: [x]\n    path: ${path}\n`;
  const pathOf = (text: string, env: Record<string, string>) => {
    const cfg = parse(text, env);
    const out = cfg.sinks.out;
    return out.type === 'file' ? out.path : undefined;
  };

  it('expands ${VAR}, ${VAR:-default} and $$', () => {
    expect(pathOf(sink('${DIR}/out.log'), { DIR: '/data' })).toBe('/data/out.log');
    expect(pathOf(sink('${DIR:-/tmp}/out.log'), {})).toBe('/tmp/out.log');
    expect(pathOf(sink('${DIR:-/tmp}/out.log'), { DIR: '' })).toBe('/tmp/out.log');
    expect(pathOf(sink('${DIR:-/tmp}/out.log'), { DIR: '/set' })).toBe('/set/out.log');
    expect(pathOf(sink('"/cost$$/${DIR}"'), { DIR: 'x' })).toBe('/cost$/x');
    expect(pathOf(sink('"/literal/$${DIR}"'), { DIR: 'x' })).toBe('/literal/${DIR}');
  });

  it('reports an unset variable at the value', () => {
    const err = errorOf(sink('${FOO}/out.log'));
    expect(err.message).toBe('agent.yaml:6:11: sinks.out.path: environment variable "FOO" is not set');
    expect(err.path).toBe('sinks.out.path');
  });

  it('expands values only, after parsing, so the result is never re-read as YAML', () => {
    const text = 'sources: {}\nsinks:\n  ${NAME}:\n    type: file\n    inputs: [x]\n    path: ${P}\n';
    const cfg = parse(text, { NAME: 'renamed', P: 'a: b\n# c' });
    expect(Object.keys(cfg.sinks)).toEqual(['${NAME}']);
    expect(cfg.sinks['${NAME}']).toMatchObject({ path: 'a: b\n# c' });
  });

  it('uses process.env by default', () => {
    process.env.LOGGY_TEST_CONFIG_DIR = '/from/env';
    try {
      const cfg = parseConfig('data_dir: ${LOGGY_TEST_CONFIG_DIR}\nsources: {}\nsinks: {}\n', 'a.yaml', agentSchema);
      expect(cfg.data_dir).toBe('/from/env');
    } finally {
      delete process.env.LOGGY_TEST_CONFIG_DIR;
    }
  });
});

describe('loadConfigFile', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads and parses a file, naming it in errors', async () => {
    dir = await mkdtemp(join(tmpdir(), 'loggy-config-'));
    const file = join(dir, 'agent.yaml');
    await writeFile(file, VALID);
    await expect(loadConfigFile(file, agentSchema)).resolves.toMatchObject({ data_dir: '/var/lib/loggy' });
    await writeFile(file, 'sources: {}\nsinks: 5\n');
    await expect(loadConfigFile(file, agentSchema)).rejects.toThrow(`${file}:2:8: sinks: expected a mapping, got a number (5)`);
  });

  it('turns a missing file into a ConfigError naming the file and the reason', async () => {
    const file = join(tmpdir(), 'loggy-no-such-dir', 'agent.yaml');
    const err = await loadConfigFile(file, agentSchema).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe(`${file}: cannot read config file: no such file or directory (ENOENT)`);
    expect((err as ConfigError).file).toBe(file);
  });
});
