import { unixDate, type LogicalMessage } from './messages.js';
import { chance, hex, pick, randInt, type Rng } from './random.js';

/**
 * What the demo's applications say. Unlike the test generator (messages.ts) these lines
 * carry no markers: they are for people to read, query and filter.
 */
export type DemoSpeaker = (n: number, date: Date) => LogicalMessage;

const PATHS = ['/', '/api/products', '/api/products/42', '/api/cart', '/api/checkout', '/healthz', '/static/app.js', '/api/search?q=boots'];
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'José', '田中'];
const pad = (v: number, w = 2): string => String(v).padStart(w, '0');
/** The seeds' counter: `i: $(date)`. */
export const counter: DemoSpeaker = (n, d) => ({ stream: 'stdout', lines: [`${n}: ${unixDate(d)}`] });

/** The seeds' second file: `$(date) INFO $i`. */
export const counterInfo: DemoSpeaker = (n, d) => ({ stream: 'stdout', lines: [`${unixDate(d)} INFO ${n}`] });

/** A JSON access log, mostly 2xx, some 4xx and a few slow 5xx. */
export function jsonWeb(rng: Rng): DemoSpeaker {
  return (_n, d) => {
    const status = pick(rng, [200, 200, 200, 200, 200, 201, 304, 404, 429, 500, 503]);
    const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    const ms = status >= 500 ? randInt(rng, 800, 3000) : randInt(rng, 2, 180);
    return {
      stream: 'stdout',
      lines: [JSON.stringify({
        ts: d.toISOString(), level, msg: status >= 500 ? 'upstream failed' : 'request completed',
        method: pick(rng, ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE']), path: pick(rng, PATHS), status, duration_ms: ms,
        user: pick(rng, USERS), trace_id: hex(rng, 32),
      })],
    };
  };
}

/** A Spring Boot service: one-line logs, and now and then a Java stack trace on stderr. */
export function javaService(rng: Rng): DemoSpeaker {
  const loggers = ['c.e.orders.OrderController', 'c.e.orders.OrderService', 'c.e.orders.PaymentClient', 'c.z.hikari.HikariPool'];
  const stamp = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 23);
  return (_n, d) => {
    if (chance(rng, 0.06)) {
      const id = randInt(rng, 10000, 99999);
      const lines = [
        `${stamp(d)} ERROR 1 --- [http-nio-8080-exec-${randInt(rng, 1, 9)}] c.e.orders.OrderController : Order ${id} failed`,
        `java.lang.IllegalStateException: payment declined for order ${id}`,
        `\tat com.example.orders.PaymentClient.charge(PaymentClient.java:${randInt(rng, 40, 120)})`,
        `\tat com.example.orders.OrderService.place(OrderService.java:${randInt(rng, 60, 200)})`,
        `\tat com.example.orders.OrderController.create(OrderController.java:${randInt(rng, 20, 90)})`,
        `\tat java.base/java.lang.Thread.run(Thread.java:1583)`,
        `Caused by: java.net.SocketTimeoutException: Read timed out`,
        `\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:288)`,
        `\t... 4 more`,
      ];
      return { stream: 'stderr', lines };
    }
    const level = pick(rng, ['INFO', 'INFO', 'INFO', 'INFO', 'DEBUG', 'WARN']);
    const what = pick(rng, [
      `Order ${randInt(rng, 10000, 99999)} placed by ${pick(rng, USERS)} total=${randInt(rng, 5, 900)}.${pad(randInt(rng, 0, 99))} EUR`,
      `Payment authorised in ${randInt(rng, 40, 400)} ms`,
      `HikariPool-1 - Pool stats (total=10, active=${randInt(rng, 0, 10)}, idle=${randInt(rng, 0, 10)}, waiting=0)`,
      `Inventory reserved for ${randInt(rng, 1, 6)} items`,
    ]);
    return { stream: 'stdout', lines: [`${stamp(d)} ${level.padStart(5)} 1 --- [http-nio-8080-exec-${randInt(rng, 1, 9)}] ${pick(rng, loggers)} : ${what}`] };
  };
}

/** A Go program that starts, works a little and panics: a crash loop. `crashAt` lines in, it dies. */
export function crashingGo(rng: Rng, crashAt: number): DemoSpeaker {
  return (n, d) => {
    const t = d.toISOString();
    const k = n % crashAt;
    if (k === 0) return { stream: 'stdout', lines: [`time="${t}" level=info msg="starting sync-worker" version=1.8.2 config=/etc/worker/config.yaml`] };
    if (k < crashAt - 1) return { stream: 'stdout', lines: [`time="${t}" level=${chance(rng, 0.2) ? 'warn' : 'info'} msg="syncing batch" batch=${randInt(rng, 1, 500)} items=${randInt(rng, 1, 100)}`] };
    return {
      stream: 'stderr',
      lines: [
        'panic: runtime error: invalid memory address or nil pointer dereference',
        '[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x4a2f1c]',
        '',
        'goroutine 1 [running]:',
        'main.(*Syncer).flush(0x0)',
        '\t/src/worker/sync.go:142 +0x1c',
        'main.main()',
        '\t/src/worker/main.go:57 +0x1d4',
      ],
    };
  };
}

/** A legacy app writing logfmt to its own files: the application log and an audit trail. */
export function logfmtApp(rng: Rng, file: 'app' | 'audit'): DemoSpeaker {
  return (_n, d) => {
    const t = d.toISOString();
    if (file === 'audit') {
      return { stream: 'stdout', lines: [`ts=${t} level=info actor=${pick(rng, USERS)} action=${pick(rng, ['invoice.create', 'invoice.void', 'refund.issue', 'login'])} invoice=INV-${randInt(rng, 1000, 9999)}`] };
    }
    const level = pick(rng, ['info', 'info', 'info', 'debug', 'warn', 'error']);
    return { stream: 'stdout', lines: [`ts=${t} level=${level} msg="${pick(rng, ['invoice rendered', 'batch settled', 'ledger reconciled', 'currency rates refreshed'])}" duration=${randInt(rng, 3, 900)}ms`] };
  };
}

/** A backup job's progress, ending in a summary. */
export function backupJob(total: number): DemoSpeaker {
  return (n, d) => {
    const t = d.toISOString();
    if (n === 0) return { stream: 'stdout', lines: [`${t} starting backup of database "shop" to s3://backups/shop/`] };
    if (n >= total - 1) return { stream: 'stdout', lines: [`${t} backup complete: ${total * 37} MiB in ${total} chunks`] };
    return { stream: 'stdout', lines: [`${t} uploaded chunk ${n}/${total - 1} (37 MiB)`] };
  };
}
