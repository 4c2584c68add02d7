import type { Stream } from '../core/event.js';
import { chance, hex, pick, randInt, type Rng } from './random.js';
import { MAX_RECORD_BYTES } from './encode.js';

/** How a container's application formats its lines. */
export type Style = 'plain' | 'json' | 'logfmt' | 'klog' | 'python' | 'counter';

/** Probabilities per logical message (each independent of the container's style). */
export interface MessageMix {
  /** Share of messages written to stderr (stack traces always go there). */
  stderr: number;
  /** Share of single lines longer than 16 KiB, which the runtime splits into partials. */
  longLines: number;
  /** Share of multi-line stack traces (Java or Python). */
  stackTraces: number;
}

export const DEFAULT_MIX: MessageMix = { stderr: 0.1, longLines: 0.002, stackTraces: 0.01 };

/** One write by the application: its physical lines (no `\n`), all on one stream. */
export interface LogicalMessage {
  stream: Stream;
  lines: string[];
}

/** The marker every logical message carries (`seq=<key>:<n>`); receivers parse it back. */
export function marker(key: string, n: number): string {
  return `seq=${key}:${n}`;
}

/** Matches a marker; keys are `<ns>/<pod>/<container>` (DNS names: no spaces, no colons). */
export const MARKER_RE = /seq=([a-z0-9./-]+):(\d+)/;

const PATHS = ['/api/v1/items', '/api/v1/cart', '/checkout', '/healthz', '/metrics', '/api/v1/orders', '/login', '/search?q=shoes&page=2'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const USERS = ['alice', 'bob', 'José', 'Zoë', 'mallory', '田中'];
const LEVELS = ['INFO', 'INFO', 'INFO', 'INFO', 'DEBUG', 'WARN', 'ERROR'] as const;
const THREADS = ['main', 'http-nio-8080-exec-3', 'scheduling-1', 'kafka-consumer-2'];
const JAVA_LOGGERS = ['c.e.shop.CartController', 'c.e.orders.OrderService', 'o.s.web.servlet.DispatcherServlet', 'c.z.h.pool.HikariPool'];
const GO_FILES = ['reflector.go:255', 'controller.go:118', 'server.go:87', 'leaderelection.go:258', 'proxier.go:812'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Source of payload text for long lines (sliced at random offsets). */
const ASCII_RUN = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris';

const pad = (v: number, w = 2): string => String(v).padStart(w, '0');

/**
 * Produces a container's logical messages. `next(n, ns)` is called with consecutive n
 * (0, 1, 2, ...) so the marker sequence is gapless per container.
 */
export class MessageGenerator {
  constructor(
    readonly key: string,
    private readonly style: Style,
    private readonly rng: Rng,
    private readonly mix: MessageMix = DEFAULT_MIX,
  ) {}

  next(n: number, ns: bigint): LogicalMessage {
    const m = marker(this.key, n);
    const date = new Date(Number(ns / 1_000_000n));
    if (this.style === 'counter') return { stream: 'stdout', lines: [`${n}: ${unixDate(date)} ${m}`] };
    const r = this.rng();
    if (r < this.mix.stackTraces) return { stream: 'stderr', lines: this.stackTrace(m, date) };
    if (r < this.mix.stackTraces + this.mix.longLines) return { stream: this.stream(), lines: [this.longLine(m)] };
    // Mostly the container's own style, sometimes another (startup banners, libraries).
    const style = chance(this.rng, 0.8) ? this.style : pick(this.rng, ['plain', 'json', 'logfmt', 'python'] as const);
    return { stream: this.stream(), lines: [this.line(style, m, date)] };
  }

  private stream(): Stream {
    return chance(this.rng, this.mix.stderr) ? 'stderr' : 'stdout';
  }

  private line(style: Exclude<Style, 'counter'>, m: string, date: Date): string {
    const rng = this.rng;
    const level = pick(rng, LEVELS);
    const base = pick(rng, PATHS);
    const path = base.includes('?') ? base : `${base}/${randInt(rng, 1, 9999)}`;
    const ms = randInt(rng, 1, 900);
    switch (style) {
      case 'plain':
        return `${date.toISOString().replace('T', ' ').slice(0, 23)} ${level.padStart(5)} 1 --- [${pick(rng, THREADS)}] ${pick(rng, JAVA_LOGGERS)} : ${m} ${pick(rng, METHODS)} ${path} completed in ${ms}ms user=${pick(rng, USERS)}`;
      case 'json':
        return JSON.stringify({
          ts: date.toISOString(),
          level: level.toLowerCase(),
          marker: m,
          msg: 'request completed',
          method: pick(rng, METHODS),
          path,
          status: pick(rng, [200, 200, 200, 201, 304, 404, 500]),
          duration_ms: Math.round((ms + rng()) * 1000) / 1000,
          user: pick(rng, USERS),
          trace_id: hex(rng, 32),
        });
      case 'logfmt':
        return `time="${date.toISOString()}" level=${level.toLowerCase()} ${m} msg="handled request" method=${pick(rng, METHODS)} path=${path} duration=${ms}ms bytes=${randInt(rng, 100, 90000)}`;
      case 'klog': {
        const sev = level[0] === 'D' ? 'I' : level[0];
        const time = `${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}.${pad(date.getUTCMilliseconds(), 3)}${pad(randInt(rng, 0, 999), 3)}`;
        return `${sev}${time}       1 ${pick(rng, GO_FILES)}] ${m} "Listing and watching" type="*v1.Pod" reflector="k8s.io/client-go/informers/factory.go:150" err=<nil>`;
      }
      case 'python':
        return `${level}:app.${pick(rng, ['views', 'tasks', 'db'])}:${m} 10.0.${randInt(rng, 0, 255)}.${randInt(rng, 1, 254)} - - "${pick(rng, METHODS)} ${path} HTTP/1.1" ${pick(rng, [200, 200, 204, 404, 500])} -`;
    }
  }

  /** Multi-line trace: only the first physical line carries the marker. */
  private stackTrace(m: string, date: Date): string[] {
    const rng = this.rng;
    if (chance(rng, 0.5)) {
      const lines = [`Traceback (most recent call last):`];
      const frames = randInt(rng, 2, 6);
      for (let i = 0; i < frames; i++) {
        lines.push(`  File "/app/${pick(rng, ['views', 'tasks', 'db', 'models'])}.py", line ${randInt(rng, 10, 900)}, in ${pick(rng, ['checkout', 'handle', 'run', 'execute'])}`);
        lines.push(`    ${pick(rng, ['result = fn(*args)', 'return self.cursor.execute(sql)', 'order = Order.get(order_id)'])}`);
      }
      lines.push(`ValueError: invalid literal for int() with base 10: '${hex(rng, 6)}'`);
      return [`ERROR:app.views:${m} Exception on ${pick(rng, PATHS)} [POST]`, ...lines];
    }
    const lines = [
      `${date.toISOString().replace('T', ' ').slice(0, 23)} ERROR 1 --- [${pick(rng, THREADS)}] ${pick(rng, JAVA_LOGGERS)} : ${m} Request processing failed`,
      `java.lang.IllegalStateException: Order ${randInt(rng, 1, 99999)} not found`,
    ];
    const frames = randInt(rng, 4, 14);
    for (let i = 0; i < frames; i++) {
      lines.push(`\tat com.example.${pick(rng, ['orders.OrderService', 'shop.CartController', 'db.Repository'])}.${pick(rng, ['process', 'find', 'lambda$run$0'])}(${pick(rng, ['OrderService', 'CartController', 'Repository'])}.java:${randInt(rng, 20, 400)})`);
    }
    if (chance(rng, 0.5)) {
      lines.push('Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available');
      lines.push(`\tat com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:${randInt(rng, 100, 200)})`);
      lines.push(`\t... ${randInt(rng, 5, 60)} more`);
    }
    return lines;
  }

  /**
   * A single physical line over 16 KiB (so the runtime must split it). It states its own
   * byte length (`bytes=`), so a reader can check reassembly without knowing the original.
   * Lengths include the exact record size and one byte over, the edge cases of splitting;
   * the payload has some multi-byte characters so a byte-exact split may cut one in half.
   */
  private longLine(m: string): string {
    const rng = this.rng;
    const length = pick(rng, [MAX_RECORD_BYTES, MAX_RECORD_BYTES + 1, 2 * MAX_RECORD_BYTES, randInt(rng, 16500, 80000)]);
    const head = `${m} level=debug msg="response body" bytes=${String(length).padStart(6, '0')} body=`;
    const parts: string[] = [head];
    let size = Buffer.byteLength(head);
    while (size < length) {
      const room = length - size;
      // Mostly ASCII runs, with a 2- or 3-byte character now and then.
      if (room >= 3 && chance(rng, 0.05)) {
        const c = chance(rng, 0.5) ? '€' : 'é';
        parts.push(c);
        size += Buffer.byteLength(c);
        continue;
      }
      const run = Math.min(room, randInt(rng, 16, 128));
      const at = randInt(rng, 0, ASCII_RUN.length - run);
      parts.push(ASCII_RUN.slice(at, at + run));
      size += run;
    }
    return parts.join('');
  }
}

/** `date` output of busybox/coreutils in UTC: `Wed Jun 12 10:00:00 UTC 2024`. */
export function unixDate(d: Date): string {
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}
