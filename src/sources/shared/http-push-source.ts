import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { z } from 'zod';
import { byteSize, duration } from '../../config/schema-helpers.js';
import type { Source, SourceContext } from '../../core/component.js';
import { AckWaiters } from './acks.js';
import { PushEmitter } from './push-emitter.js';
import { closePush, listenPush } from './push-server.js';
import { bearerHeader } from './request-checks.js';
import { RoomGate } from './room.js';

/** Config keys every HTTP push source has (spread into its schema), with the same meaning. */
export const httpPushCommon = {
  /** Request bodies larger than this (after gzip decompression too) are refused with 413. */
  max_body_bytes: byteSize.default(10 * 1024 * 1024),
  /** Longer lines are truncated, flagged "truncated" and counted, as for files. */
  max_line_bytes: byteSize.default(256 * 1024),
  /** Optional bearer token: requests without `Authorization: Bearer <token>` get 401. */
  token: z.string().min(1).optional(),
  /** true: answer success once every sink delivered the events or wrote them to its disk buffer; false: once accepted. */
  ack: z.boolean().default(true),
  /** With ack: how long a request waits for its acknowledgement before a 504 (the events may still be delivered). */
  ack_timeout: duration.default(30_000),
  /** How long a request waits for room in a full pipeline before a 429 with Retry-After. */
  backpressure_wait: duration.default(1000),
};

/** The settings every HTTP push source has. */
export interface HttpPushSettings {
  address: string;
  token?: string;
  ack_timeout: number;
  backpressure_wait: number;
}

/**
 * What the HTTP push sources (http, otlp) share besides the modules they build on: listening,
 * the request counter, and the way they stop — new requests refused while the sinks drain,
 * the requests still waiting for their acknowledgement answered 503 at close. Each source
 * keeps its own protocol: its path, its body format and its answers (`handle`).
 */
export abstract class HttpPushSource implements Source {
  protected server: Server | null = null;
  protected stopping = false;
  protected readonly emitter: PushEmitter;
  protected readonly room: RoomGate;
  protected readonly acks: AckWaiters;
  protected readonly token: Buffer | null;

  constructor(kind: string, private readonly settings: HttpPushSettings, protected readonly ctx: SourceContext) {
    this.token = bearerHeader(settings.token);
    this.emitter = new PushEmitter(kind, ctx);
    this.room = new RoomGate(() => ctx.waitForRoom(), settings.backpressure_wait);
    this.acks = new AckWaiters(settings.ack_timeout);
  }

  /** Answers one request (never throws). */
  protected abstract handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** The path requests are taken on (for the "listening" log line). */
  protected abstract path(): string;

  async start(): Promise<void> {
    const { server, address } = await listenPush(this.settings.address, (req, res) => void this.handle(req, res));
    this.server = server;
    this.ctx.log.info({ address, path: this.path() }, `${this.emitter.kind} source listening`);
  }

  protected count(result: string): void {
    this.ctx.metrics.httpRequests.inc({ component: this.ctx.name, result });
  }

  /** Nothing to read to an end: a push source is drained at once. */
  async drained(): Promise<void> {}

  /** New requests get 503; requests waiting for their acknowledgement still get it (until close). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.server?.closeIdleConnections();
  }

  /** After the sinks drained (or the grace expired): whoever still waits gets 503, and the server closes. */
  async close(): Promise<void> {
    this.acks.releaseAll();
    const server = this.server;
    if (!server) return;
    this.server = null;
    await closePush(server);
  }
}
