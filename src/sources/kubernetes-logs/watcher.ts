import { watch, type FSWatcher } from 'node:fs';

/**
 * fs.watch on the directories discovery cares about. Watching is an accelerator only: when
 * it fails (inotify watches exhausted, unsupported filesystem) discovery falls back to the
 * periodic rescan and tailers to polling, and `onFallback` reports it once.
 */
export class DirWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private failed = false;

  constructor(
    private readonly enabled: boolean,
    /** `rename`: an entry appeared, went or moved; `change`: a file was written to. */
    private readonly onEvent: (dir: string, file: string | null, type: 'rename' | 'change') => void,
    private readonly onFallback: (reason: string) => void,
  ) {}

  get active(): boolean {
    return this.enabled && !this.failed;
  }

  add(dir: string): void {
    if (!this.active || this.watchers.has(dir)) return;
    try {
      const w = watch(dir, { persistent: false }, (type, file) => this.onEvent(dir, file ? file.toString() : null, type === 'change' ? 'change' : 'rename'));
      w.on('error', () => this.remove(dir));
      this.watchers.set(dir, w);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      this.failed = true;
      this.onFallback(`${code ?? ''} ${(err as Error).message}`.trim());
      this.close();
    }
  }

  remove(dir: string): void {
    this.watchers.get(dir)?.close();
    this.watchers.delete(dir);
  }

  /** Drop watches on directories not seen in the last scan (deleted pods). */
  retain(seen: Set<string>): void {
    for (const dir of [...this.watchers.keys()]) if (!seen.has(dir)) this.remove(dir);
  }

  close(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
