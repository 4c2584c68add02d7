import type { Writable } from 'node:stream';

/** Where a client command writes, and what it knows about the terminal. Injected by tests. */
export interface Io {
  /** Writes to stdout; resolves when the data may be followed by more (backpressure). */
  out(text: string): Promise<void>;
  err(text: string): void;
  stdoutTTY: boolean;
  stderrTTY: boolean;
  env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM (follow mode stops cleanly). */
  signal?: AbortSignal;
}

/**
 * The process's own streams. A closed stdout (`| head`) ends the command quietly: `ac` is
 * aborted, which stops paging and following.
 */
export function processIo(ac: AbortController): Io & { closed: () => boolean } {
  let closed = false;
  const signal = ac.signal;
  const stdout = process.stdout as Writable & { isTTY?: boolean };
  stdout.on('error', (err: NodeJS.ErrnoException) => {
    closed = true;
    if (err.code !== 'EPIPE') process.stderr.write(`loggy: cannot write to stdout: ${err.message}\n`);
    ac.abort();
  });
  return {
    async out(text) {
      if (closed || text === '') return;
      if (!stdout.write(text)) {
        await new Promise<void>((r) => {
          const done = () => { stdout.off('drain', done); stdout.off('error', done); stdout.off('close', done); r(); };
          stdout.once('drain', done);
          stdout.once('error', done);
          stdout.once('close', done);
        });
      }
    },
    err: (text) => void process.stderr.write(text),
    stdoutTTY: process.stdout.isTTY === true,
    stderrTTY: process.stderr.isTTY === true,
    env: process.env,
    signal,
    closed: () => closed,
  };
}

/** Captures everything (tests). */
export function captureIo(opts: { env?: NodeJS.ProcessEnv; tty?: boolean; signal?: AbortSignal } = {}): Io & { stdout: () => string; stderr: () => string } {
  let o = '';
  let e = '';
  return {
    async out(text) { o += text; },
    err(text) { e += text; },
    stdoutTTY: opts.tty ?? false,
    stderrTTY: opts.tty ?? false,
    env: opts.env ?? {},
    signal: opts.signal,
    stdout: () => o,
    stderr: () => e,
  };
}

/**
 * A spinner on stderr for work that takes over a second, on a terminal only: "⠋ querying
 * the store… 2.4s, 15000 lines". Erased when done so it never mixes into the output.
 */
export class Progress {
  private timer: NodeJS.Timeout | null = null;
  private readonly started = Date.now();
  private lines = 0;
  private frame = 0;
  private shown = false;

  constructor(private readonly io: Io, private readonly what: string) {
    if (!io.stderrTTY) return;
    this.timer = setInterval(() => this.draw(), 100);
    this.timer.unref();
  }

  add(lines: number): void {
    this.lines += lines;
  }

  private draw(): void {
    const secs = (Date.now() - this.started) / 1000;
    if (secs < 1) return;
    const frames = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
    this.shown = true;
    this.io.err(`\r\x1b[2K${frames[this.frame++ % frames.length]} ${this.what}… ${secs.toFixed(1)}s${this.lines ? `, ${this.lines} lines` : ''}`);
  }

  /** Erases the indicator (call before writing output and at the end). */
  clear(): void {
    if (this.shown) this.io.err('\r\x1b[2K');
    this.shown = false;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.clear();
  }
}
