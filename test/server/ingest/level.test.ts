import { describe, expect, it } from 'vitest';
import { detectLevel, LEVEL_METADATA, withDetectedLevel } from '../../../src/server/ingest/level.js';

describe('detected_level', () => {
  it('reads JSON fields and logfmt keys near the start of the line', () => {
    expect(detectLevel('{"level":"warn","msg":"slow"}')).toBe('warn');
    expect(detectLevel('{"ts":1,"severity":"ERROR","msg":"x"}')).toBe('error');
    expect(detectLevel('{"lvl": "dbg"}')).toBe('debug');
    expect(detectLevel('ts=1 level=info msg="ok"')).toBe('info');
    expect(detectLevel('level="warning" msg=x')).toBe('warn');
    expect(detectLevel('time=1 lvl=crit')).toBe('critical');
  });

  it('falls back to an upper-case level word', () => {
    expect(detectLevel('2026-11-22T10:00:00Z ERROR db: connection refused')).toBe('error');
    expect(detectLevel('[WARN] disk 91% full')).toBe('warn');
    expect(detectLevel('I0102 15:04:05 INFO started')).toBe('info');
    expect(detectLevel('Exception in thread "main" java.lang.IllegalStateException')).toBeUndefined();
    // Lower-case words in prose are not levels.
    expect(detectLevel('no error here, just info about things')).toBeUndefined();
    expect(detectLevel('')).toBeUndefined();
  });

  it('ignores unknown values and very long lines past their start', () => {
    expect(detectLevel('level=banana msg=x')).toBeUndefined();
    expect(detectLevel('x'.repeat(40_000) + ' ERROR')).toBeUndefined();
  });

  it('prefers a level label or metadata, and keeps a client-set detected_level', () => {
    expect(detectLevel('ERROR boom', { app: 'a', level: 'info' })).toBe('info');
    expect(detectLevel('ERROR boom', { app: 'a' }, { severity: 'debug' })).toBe('debug');
    expect(withDetectedLevel('ERROR boom', { app: 'a' }, { detected_level: 'custom' })).toEqual({ detected_level: 'custom' });
    expect(withDetectedLevel('ERROR boom', { app: 'a', detected_level: 'x' }, undefined)).toBeUndefined();
    expect(withDetectedLevel('ERROR boom', { app: 'a' }, undefined)).toBe(LEVEL_METADATA.error);
    expect(withDetectedLevel('ERROR boom', { app: 'a' }, { trace_id: 't' })).toEqual({ trace_id: 't', detected_level: 'error' });
    expect(withDetectedLevel('nothing', { app: 'a' }, undefined)).toBeUndefined();
  });
});
