import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { z } from 'zod';
import { tlsSchema } from '../../core/tls.js';
import { byteSize, duration } from '../../config/schema-helpers.js';
import type { EventBatch } from '../../core/batch.js';
import type { ComponentContext, Sink } from '../../core/component.js';
import { errorMessage, RetryableError } from '../../core/errors.js';
import { sinkCommon } from '../shared/common.js';
import { FACILITIES, Rfc5424Encoder, SEVERITIES, type FacilityName } from './format.js';

const facilityNames = Object.keys(FACILITIES) as [FacilityName, ...FacilityName[]];
const severity = z.enum(SEVERITIES);

/** The largest UDP payload over IPv4 (65535 − 8 − 20); IPv6 allows 20 more, not worth a case. */
const UDP_MAX = 65_507;

export const syslogSinkSchema = z.strictObject({
  type: z.literal('syslog'),
  ...sinkCommon,
  /** host:port of the receiver (rsyslog, syslog-ng, a SIEM's collector). */
  address: z.string().regex(/^(\[[^\]]+\]|[^:\s]+):\d+$/, 'expected "host:port" ([v6]:port for IPv6)'),
  /** tcp (RFC 6587), udp (RFC 5426: one message a datagram) or tls (RFC 5425). */
  protocol: z.enum(['tcp', 'udp', 'tls']).default('tcp'),
  /** TCP and TLS: octet_counting (`LEN SP MSG`, any byte allowed) or lf (each LF in a line becomes a space). */
  framing: z.enum(['octet_counting', 'lf']).default('octet_counting'),
  /** A name (user, daemon, local0 ... local7) or a number 0–23. */
  facility: z.union([z.enum(facilityNames), z.number().int().min(0).max(23)]).default('user'),
  severity: z.strictObject({
    /** Event fields, then source labels, whose value is a level word (error, WARN, 3, ...). */
    keys: z.array(z.string().min(1)).default(['level', 'severity', 'detected_level', 'lvl']),
    /** Events without one: stderr lines get this severity, stdout lines `default`. */
    stderr: severity.default('err'),
    default: severity.default('info'),
  }).prefault({}),
  /** `{label}` replaced by the label's value, `{a|b}` by the first non-empty; empty → `-`. */
  hostname: z.string().default('{node|pod}'),
  app_name: z.string().default('{container}'),
  procid: z.string().default(''),
  msgid: z.string().default(''),
  /** SD-ID of the element holding the labels; 32473 is RFC 5612's documentation number: use your own PEN if you have one. */
  sd_id: z.string().regex(/^[!#-\\^-~]{1,32}$/, 'an SD-ID: 1 to 32 printable ASCII characters, no space, =, ] or "').default('k8s@32473'),
  /** Globs on the label names put in the SD element; [] for no structured data. */
  sd_labels: z.array(z.string().min(1)).default(['*']),
  /** Start each MSG with a UTF-8 BOM (RFC 5424 MSG-UTF8). Off: many receivers show it as text. */
  bom: z.boolean().default(false),
  /** Whole messages (header and SD included) are cut to this; truncations are counted. UDP is capped at 65507. */
  max_message_bytes: byteSize.pipe(z.number().int().min(480, 'at least 480 bytes (RFC 5426)')).default(8192),
  /**
   * TCP and TLS: what was written in this window before a connection broke is written again
   * on the next one, first. A receiver that stops (restart, crash) loses what it had not read
   * yet from the kernel; this sends it again at the cost of duplicates. 0 turns it off.
   */
  resend_window: duration.default(2000),
  /** At most this much of the latest writes is kept for resending (the oldest goes first). */
  resend_max_bytes: byteSize.default(4 * 1024 * 1024),
  /** Connecting, and flushing one write to the socket, give up after this (the write is retried). */
  timeout: duration.default(10_000),
  /** PEM CA, client certificate, name to verify (the HTTP sinks' settings); read at each connect, so rotated certificates apply. */
  tls: tlsSchema.optional(),
}).superRefine((c, ctx) => {
  if (c.tls && c.protocol !== 'tls') ctx.addIssue({ code: 'custom', path: ['tls'], message: 'tls settings need protocol: tls' });
});
export type SyslogSinkConfig = z.infer<typeof syslogSinkSchema>;

/**
 * Sends events as RFC 5424 messages over TCP, TLS or UDP.
 *
 * Delivery: syslog has no acknowledgements. Over TCP and TLS a write resolves once its bytes
 * were handed to the kernel (the socket flushed them); that is what "delivered" means here,
 * and all it can mean. A write that fails (connection refused, reset, closed by the receiver,
 * no flush within `timeout`) is retried whole on a new connection with the runner's backoff,
 * so its messages may arrive twice (at least once). A connection the receiver closed is
 * noticed when it closes, not at the next write, so a receiver restarted between writes
 * loses nothing; bytes already flushed into the kernel when a receiver dies are lost with it.
 * Over UDP a write resolves once the datagrams are sent: loss on the way is not seen.
 */
export class SyslogSink implements Sink {
  private readonly enc: Rfc5424Encoder;
  private readonly host: string;
  private readonly port: number;
  private readonly maxBytes: number;
  private socket: Socket | null = null;
  private udp: UdpSocket | null = null;
  private udpAddress: { address: string; family: number } | null = null;
  /** Why the current connection ended, when it did so between writes. */
  private broken: string | null = null;
  /** When the last connection was seen to break (ms), for the resend window. */
  private brokeAt = 0;
  /** Copies of the latest writes on the connection, for resending after it breaks. */
  private recent: Array<{ at: number; bytes: Buffer; events: number }> = [];
  private recentBytes = 0;

  constructor(private readonly cfg: SyslogSinkConfig, private readonly ctx: ComponentContext) {
    const i = cfg.address.lastIndexOf(':');
    this.host = cfg.address.slice(0, i).replace(/^\[(.*)\]$/, '$1');
    this.port = Number(cfg.address.slice(i + 1));
    this.maxBytes = cfg.protocol === 'udp' ? Math.min(cfg.max_message_bytes, UDP_MAX) : cfg.max_message_bytes;
    const facility = typeof cfg.facility === 'number' ? cfg.facility : FACILITIES[cfg.facility];
    this.enc = new Rfc5424Encoder({
      facility,
      hostname: cfg.hostname,
      app_name: cfg.app_name,
      procid: cfg.procid,
      msgid: cfg.msgid,
      sd_id: cfg.sd_id,
      sd_labels: cfg.sd_labels,
      severity_keys: cfg.severity.keys,
      severity_stderr: SEVERITIES.indexOf(cfg.severity.stderr),
      severity_default: SEVERITIES.indexOf(cfg.severity.default),
      bom: cfg.bom,
      max_message_bytes: this.maxBytes,
      no_lf: cfg.protocol !== 'udp' && cfg.framing === 'lf',
    });
  }

  async write(batches: EventBatch[]): Promise<void> {
    const enc = this.enc;
    enc.reset();
    const framing = this.cfg.protocol === 'udp' ? 'none' : this.cfg.framing;
    let events = 0;
    for (const b of batches) {
      for (const ev of b.events) enc.add(ev, b.source, framing);
      events += b.events.length;
    }
    if (events === 0) return;
    const name = this.ctx.name;
    if (this.cfg.protocol === 'udp') await this.sendDatagrams();
    else {
      const resend = this.cfg.resend_window > 0;
      // Kept for resending: a copy, as the encoder's buffer is reused by the next write.
      const bytes = resend ? Buffer.from(enc.bytes()) : enc.bytes();
      await this.sendStream(await this.connection(), bytes);
      if (resend) this.remember(bytes, events);
    }
    // Counted once delivered, so a retried write counts its events once.
    if (enc.truncated > 0) this.ctx.metrics.sinkTruncated.inc({ component: name }, enc.truncated);
    this.ctx.metrics.sinkEvents.inc({ component: name }, events);
    this.ctx.metrics.sinkBytes.inc({ component: name }, enc.length);
  }

  private sendStream(socket: Socket, bytes: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (err?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket.off('close', onClose);
        if (!err) return resolve();
        // The first break counts: a failed resend must not move the window past what it resends.
        if (this.brokeAt === 0) this.brokeAt = Date.now();
        this.drop(socket);
        reject(new RetryableError(`syslog ${this.cfg.protocol}://${this.cfg.address}: ${err.message}`));
      };
      const onClose = () => finish(new Error(this.broken ?? 'connection closed while writing'));
      const timer = setTimeout(() => finish(new Error(`write not flushed within ${this.cfg.timeout} ms`)), this.cfg.timeout);
      socket.once('close', onClose);
      // The callback runs once the bytes are in the kernel (or with the error that stopped them).
      socket.write(bytes, (err) => finish(err ?? undefined));
    });
  }

  /** The open connection, or a new one; rejects (retryably) when the receiver cannot be reached. */
  private async connection(): Promise<Socket> {
    if (this.socket && this.broken === null && !this.socket.destroyed) return this.socket;
    if (this.socket) {
      this.ctx.log.warn({ sink: this.ctx.name, address: this.cfg.address, reason: this.broken }, 'syslog connection lost; reconnecting');
      this.drop(this.socket);
    }
    const socket = await this.connect();
    const resend = this.resendable();
    if (resend.length > 0) {
      let events = 0;
      for (const r of resend) events += r.events;
      this.ctx.log.warn({ sink: this.ctx.name, address: this.cfg.address, events }, 'syslog connection re-established; writing again what was sent just before it broke (the receiver may not have read it)');
      for (const r of resend) await this.sendStream(socket, r.bytes);
      // Written again: they are now the latest writes of this connection.
      this.recent = [];
      this.recentBytes = 0;
      for (const r of resend) this.remember(r.bytes, r.events);
      this.ctx.metrics.sinkResent.inc({ component: this.ctx.name }, events);
    }
    this.brokeAt = 0;
    return socket;
  }

  /** The writes made within resend_window before the connection broke. */
  private resendable(): Array<{ at: number; bytes: Buffer; events: number }> {
    if (this.brokeAt === 0 || this.recent.length === 0) return [];
    const from = this.brokeAt - this.cfg.resend_window;
    return this.recent.filter((r) => r.at >= from);
  }

  private remember(bytes: Buffer, events: number): void {
    const now = Date.now();
    this.recent.push({ at: now, bytes, events });
    this.recentBytes += bytes.length;
    while (this.recent.length > 0 && (this.recentBytes > this.cfg.resend_max_bytes || this.recent[0]!.at < now - this.cfg.resend_window)) {
      this.recentBytes -= this.recent.shift()!.bytes.length;
    }
  }

  private async connect(): Promise<Socket> {
    const socket = this.cfg.protocol === 'tls' ? await this.tlsSocket() : tcpConnect({ host: this.host, port: this.port });
    await new Promise<void>((resolve, reject) => {
      const ready = this.cfg.protocol === 'tls' ? 'secureConnect' : 'connect';
      const timer = setTimeout(() => fail(new Error(`no connection within ${this.cfg.timeout} ms`)), this.cfg.timeout);
      const fail = (err: Error) => {
        clearTimeout(timer);
        socket.off(ready, ok);
        socket.destroy();
        reject(new RetryableError(`syslog ${this.cfg.protocol}://${this.cfg.address}: cannot connect: ${err.message}`));
      };
      const ok = () => {
        clearTimeout(timer);
        socket.off('error', fail);
        resolve();
      };
      socket.once('error', fail);
      socket.once(ready, ok);
    });
    socket.setKeepAlive(true, 30_000);
    this.broken = null;
    // A receiver says nothing on a syslog connection; reading is how its close (FIN or RST)
    // shows up between writes, before the next write would go into a dead connection.
    socket.on('data', () => undefined);
    socket.on('end', () => this.markBroken(socket, 'closed by the receiver'));
    socket.on('error', (err) => this.markBroken(socket, err.message));
    socket.on('close', () => this.markBroken(socket, 'connection closed'));
    this.socket = socket;
    return socket;
  }

  private markBroken(socket: Socket, why: string): void {
    if (socket !== this.socket || this.broken !== null) return;
    this.broken = why;
    if (this.brokeAt === 0) this.brokeAt = Date.now();
  }

  private drop(socket: Socket): void {
    socket.destroy();
    if (socket === this.socket) {
      this.socket = null;
      this.broken = null;
    }
  }

  private async tlsSocket(): Promise<Socket> {
    const t = this.cfg.tls;
    const read = async (file: string | undefined, what: string) => {
      if (!file) return undefined;
      try {
        return await readFile(file);
      } catch (err) {
        // A mounted Secret may not be there yet: retried like an unreachable receiver.
        throw new RetryableError(`syslog tls: cannot read ${what} ${file}: ${errorMessage(err)}`);
      }
    };
    const [ca, cert, key] = await Promise.all([read(t?.ca_file, 'ca_file'), read(t?.cert_file, 'cert_file'), read(t?.key_file, 'key_file')]);
    const servername = t?.server_name ?? (isIP(this.host) ? undefined : this.host);
    // Node checks the certificate against `servername` when given, else against `host`.
    return tlsConnect({ host: this.host, port: this.port, ca, cert, key, servername, rejectUnauthorized: !(t?.insecure_skip_verify ?? false) });
  }

  private async sendDatagrams(): Promise<void> {
    const { address, family } = await this.udpTarget();
    if (!this.udp) {
      const udp = createSocket(family === 6 ? 'udp6' : 'udp4');
      // Errors of an unconnected socket concern one send, which reports them itself.
      udp.on('error', () => undefined);
      this.udp = udp;
    }
    const udp = this.udp;
    const bytes = this.enc.bytes();
    const ends = this.enc.ends;
    let start = 0;
    const sends: Array<Promise<void>> = [];
    for (const end of ends) {
      const dgram = bytes.subarray(start, end);
      start = end;
      sends.push(new Promise<void>((resolve, reject) => udp.send(dgram, this.port, address, (err) => (err ? reject(err) : resolve()))));
    }
    try {
      await Promise.all(sends);
    } catch (err) {
      this.udpAddress = null;
      throw new RetryableError(`syslog udp://${this.cfg.address}: ${errorMessage(err)}`);
    }
  }

  /** The receiver's address, looked up once (and again after a failed send). */
  private async udpTarget(): Promise<{ address: string; family: number }> {
    if (this.udpAddress) return this.udpAddress;
    try {
      this.udpAddress = await lookup(this.host);
    } catch (err) {
      throw new RetryableError(`syslog udp://${this.cfg.address}: cannot resolve ${this.host}: ${errorMessage(err)}`);
    }
    return this.udpAddress;
  }

  async stop(): Promise<void> {
    const socket = this.socket;
    this.socket = null;
    if (socket && !socket.destroyed) await new Promise<void>((r) => socket.end(() => r()));
    socket?.destroy();
    this.udp?.close();
    this.udp = null;
  }
}
