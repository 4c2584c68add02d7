import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureIo, Progress } from '../../src/client/io.js';

describe('progress indicator', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('appears on a terminal after a second, counts lines, and is erased', () => {
    const io = captureIo({ tty: true });
    const p = new Progress(io, 'querying the store');
    vi.advanceTimersByTime(900);
    expect(io.stderr()).toBe('');
    p.add(5000);
    vi.advanceTimersByTime(300);
    const shown = io.stderr();
    expect(shown.startsWith('\r\x1b[2K')).toBe(true);
    expect(shown).toMatch(/querying the store… 1\.\ds, 5000 lines$/);
    p.stop();
    expect(io.stderr().endsWith('\r\x1b[2K')).toBe(true);
    const before = io.stderr();
    vi.advanceTimersByTime(5000);
    expect(io.stderr()).toBe(before);
  });

  it('never appears when stderr is not a terminal', () => {
    const io = captureIo({ tty: false });
    const p = new Progress(io, 'x');
    vi.advanceTimersByTime(5000);
    p.stop();
    expect(io.stderr()).toBe('');
  });
});
