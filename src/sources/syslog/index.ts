import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import { z } from 'zod';
import { byteSize } from '../../config/schema-helpers.js';
import { EventBatch } from '../../core/batch.js';
import type { Source, SourceContext } from '../../core/component.js';
import { EventFlags, makeSource, type EventSource, type Labels, type LogEvent } from '../../core/event.js';
import { formatRfc3339Nano, nowNs } from '../../core/time.js';
import { utf8 } from '../../formats/bytes.js';
import { SyslogFramer, type FrameEnd } from './framing.js';
import { FACILITY_NAMES, parseSyslog, SEVERITY_NAMES } from './parse.js';

const labelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'expected a label name: letters, digits and "_", not starting with a digit');

export const syslogSourceSchema = z.strictObject({
  type: z.literal('syslog'),
  /**
   * host:port to listen on, for UDP and TCP alike. Loopback by default: syslog has no
   * authentication, so anyone who reaches the port can write logs under any hostname.
   */
  address: z.string().regex(/^(\[[^\]]+\]|[^:\s]*):\d+$/, 'expected "host:port" ([v6]:port for IPv6)').default('127.0.0.1:5514'),
  /** Which transports to listen on. */
  protocols: z.array(z.enum(['udp', 'tcp'])).min(1).default(['udp', 'tcp']),
  /** Longer messages are cut to this, flagged "truncated" and counted. */
  max_message_bytes: byteSize.pipe(z.number().int().min(480, 'at least 480 bytes (RFC 5426)')).default(64 * 1024),
  /** TCP connections beyond this are closed at once (counted). */
  max_connections: z.number().int().positive().default(256),
  /** Added to every event; the message's own hostname, app_name and facility labels win. */
  labels: z.record(labelName, z.string()).default({}),
});
export type SyslogSourceConfig = z.infer<typeof syslogSourceSchema>;

/** Events gathered for one label set until the next flush. */
interface Pending { source: EventSource; events: LogEvent[] }

const FLUSH_EVENTS = 1000;

/**
 * Receives syslog over UDP and TCP: RFC 5424 and RFC 3164 (BSD) messages, TCP framing
 * recognised per frame (octet counting or LF). Labels: `hostname`, `app_name`, `facility`
 * (few values per node: fit for stream labels); fields: `severity`, `procid`, `msgid` and each
 * SD param (`<SD-ID>_<name>`), which vary per message. severity emerg…err → stream stderr.
 *
 * Guarantee: syslog has no acknowledgements, so none can be given back. Over TCP, a pipeline
 * without room pauses reading the connections, and the senders' kernels then hold back (their
 * own buffers fill: rsyslog queues, `logger` blocks). Over UDP nothing can hold a sender back:
 * datagrams that arrive while the pipeline is full are dropped and counted
 * (`loggy_syslog_source_dropped_total{reason="backpressure"}`), and those the kernel drops
 * before the agent reads them are not seen at all (the host's UDP RcvbufErrors).
 *
 * Identity and offsets, as for the http source: `syslog:<component>:<boot>:<labels hash>`, a
 * fresh `boot` per start, offsets from one counter in emission order, so the store's replay
 * dedupe never takes a new message for a replay.
 */
export class SyslogSource implements Source {
  private tcp: Server | null = null;
  private udp: UdpSocket | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly paused = new Set<Socket>();
  private readonly boot = randomBytes(6).toString('hex');
  private readonly sources = new Map<string, EventSource>();
  private pending = new Map<string, Pending>();
  private pendingEvents = 0;
  private flushScheduled = false;
  private offset = 0;
  /** Set after each flush until the pipeline says it has room (a microtask when it has). */
  private full = false;
  private stopping = false;
  private readonly host: string;
  private readonly port: number;

  constructor(private readonly cfg: SyslogSourceConfig, private readonly ctx: SourceContext) {
    const i = cfg.address.lastIndexOf(':');
    this.host = cfg.address.slice(0, i).replace(/^\[(.*)\]$/, '$1') || '0.0.0.0';
    this.port = Number(cfg.address.slice(i + 1));
  }

  /** The ports actually bound (port 0 in the config picks one), for tests and logs. */
  get addresses(): { tcp?: number; udp?: number } {
    const tcp = this.tcp?.address();
    return { tcp: typeof tcp === 'object' && tcp ? tcp.port : undefined, udp: this.udp ? this.udp.address().port : undefined };
  }

  async start(): Promise<void> {
    let port = this.port;
    if (this.cfg.protocols.includes('tcp')) {
      const server = createServer((s) => this.accept(s));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, this.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', (err) => this.ctx.log.warn({ err: err.message }, 'syslog source: tcp server error'));
      this.tcp = server;
      // With port 0, UDP takes the port TCP got, so both are one address.
      port = (server.address() as { port: number }).port;
    }
    if (this.cfg.protocols.includes('udp')) {
      const udp = createSocket({ type: isIPv6(this.host) ? 'udp6' : 'udp4' });
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, this.host, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      udp.on('error', (err) => this.ctx.log.warn({ err: err.message }, 'syslog source: udp socket error'));
      udp.on('message', (msg) => this.datagram(msg));
      this.udp = udp;
    }
    this.ctx.log.info({ address: `${this.host}:${port}`, protocols: this.cfg.protocols }, 'syslog source listening');
  }

  private accept(socket: Socket): void {
    const name = this.ctx.name;
    if (this.stopping || this.sockets.size >= this.cfg.max_connections) {
      this.ctx.metrics.syslogConnectionsRefused.inc({ component: name });
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    this.ctx.metrics.syslogConnections.set({ component: name }, this.sockets.size);
    const framer = new SyslogFramer(this.cfg.max_message_bytes);
    const frame = (buf: Buffer, s: number, e: number, how: FrameEnd) => this.message(buf, s, e, how);
    socket.on('data', (chunk: Buffer) => {
      this.ctx.metrics.bytesIn.inc({ component: name }, chunk.length);
      framer.push(chunk, frame);
      // The chunk in hand is taken; the next waits until the pipeline has room.
      if (this.full || this.stopping) this.pause(socket);
    });
    socket.on('end', () => framer.end(frame));
    socket.on('error', () => undefined); // a reset by the sender: 'close' follows
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.paused.delete(socket);
      this.ctx.metrics.syslogConnections.set({ component: name }, this.sockets.size);
    });
  }

  private pause(socket: Socket): void {
    if (this.paused.has(socket)) return;
    socket.pause();
    this.paused.add(socket);
  }

  private datagram(msg: Buffer): void {
    const name = this.ctx.name;
    this.ctx.metrics.bytesIn.inc({ component: name }, msg.length);
    if (this.stopping || this.full) {
      this.ctx.metrics.syslogDropped.inc({ component: name, reason: this.stopping ? 'stopping' : 'backpressure' });
      return;
    }
    let end = msg.length;
    // A trailing LF (or NUL) is framing some senders add even over UDP.
    while (end > 0 && (msg[end - 1] === 0x0a || msg[end - 1] === 0 || msg[end - 1] === 0x0d)) end--;
    if (end === 0) return;
    const cut = end > this.cfg.max_message_bytes;
    this.message(msg, 0, cut ? this.cfg.max_message_bytes : end, cut ? 'truncated' : 'whole');
  }

  /** One message → one event, queued under its labels until the flush. Never throws. */
  private message(buf: Buffer, s: number, e: number, how: FrameEnd): void {
    const name = this.ctx.name;
    let flags = 0;
    if (how === 'truncated') {
      flags |= EventFlags.Truncated;
      e = utf8Boundary(buf, s, e);
      this.ctx.metrics.truncated.inc({ component: name });
    } else if (how === 'partial') {
      flags |= EventFlags.Partial;
      this.ctx.metrics.partialFlushed.inc({ component: name });
    }
    // A trailing LF inside a counted frame is framing too: rsyslog's own RFC 5424 templates
    // (RSYSLOG_SyslogProtocol23Format) end with one, octet-counted or not.
    if (how === 'whole' && e > s && buf[e - 1] === 0x0a) e -= e - 1 > s && buf[e - 2] === 0x0d ? 2 : 1;
    const m = parseSyslog(utf8(buf, s, e));
    if (m.format === 'malformed') {
      flags |= EventFlags.Malformed;
      this.ctx.metrics.malformed.inc({ component: name });
    }
    let fields: Record<string, string> | undefined;
    if (m.severity >= 0) (fields ??= {}).severity = SEVERITY_NAMES[m.severity]!;
    if (m.procid !== undefined) (fields ??= {}).procid = m.procid;
    if (m.msgid !== undefined) (fields ??= {}).msgid = m.msgid;
    if (m.sd) fields = { ...fields, ...m.sd };
    const ev: LogEvent = {
      ts: m.ts ?? formatRfc3339Nano(nowNs()),
      stream: m.severity >= 0 && m.severity <= 3 ? 'stderr' : 'stdout',
      line: m.msg,
      flags,
      offset: 0,
    };
    if (fields) ev.fields = fields;
    const facility = m.facility >= 0 ? FACILITY_NAMES[m.facility]! : '';
    const key = `${m.hostname ?? ''}\u0000${m.appName ?? ''}\u0000${facility}`;
    let p = this.pending.get(key);
    if (!p) {
      const labels: Record<string, string> = { ...this.cfg.labels };
      if (m.hostname !== undefined) labels.hostname = m.hostname;
      if (m.appName !== undefined) labels.app_name = m.appName;
      if (facility) labels.facility = facility;
      this.pending.set(key, (p = { source: this.sourceFor(key, labels), events: [] }));
    }
    p.events.push(ev);
    if (++this.pendingEvents >= FLUSH_EVENTS) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private sourceFor(key: string, labels: Labels): EventSource {
    let s = this.sources.get(key);
    if (!s) {
      // Bounded: a sender inventing hostnames must not grow memory without end.
      if (this.sources.size > 10_000) this.sources.clear();
      const hash = createHash('sha256').update(key).digest('hex').slice(0, 16);
      s = makeSource(`syslog:${this.ctx.name}:${this.boot}:${hash}`, this.ctx.name, labels);
      this.sources.set(key, s);
    }
    return s;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pendingEvents === 0) return;
    const groups = this.pending;
    const n = this.pendingEvents;
    this.pending = new Map();
    this.pendingEvents = 0;
    for (const { source, events } of groups.values()) {
      for (const ev of events) ev.offset = ++this.offset;
      this.ctx.emit(new EventBatch(source, events));
    }
    this.ctx.metrics.eventsIn.inc({ component: this.ctx.name }, n);
    this.full = true;
    void this.ctx.waitForRoom().then(() => {
      this.full = false;
      if (this.stopping) return;
      for (const s of this.paused) s.resume();
      this.paused.clear();
    });
  }

  /** Nothing to read to an end: a push source is drained at once. */
  async drained(): Promise<void> {}

  /** Stops listening and reading; what was received is flushed into the pipeline. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const s of this.sockets) this.pause(s);
    this.flush();
    // No new connections; open ones stay (paused) until close(): close()'s callback would
    // wait for them.
    this.tcp?.close();
    this.tcp = null;
    const udp = this.udp;
    this.udp = null;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}

/** `e`, or the start of the character a cut at `e` would split (a cut frame must not end in half a character). */
export function utf8Boundary(buf: Buffer, s: number, e: number): number {
  for (let k = 1; k <= 3 && e - k >= s; k++) {
    const b = buf[e - k]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > k ? e - k : e;
  }
  return e;
}
