import { z } from 'zod';
import type { ComponentContext, Sink } from '../core/component.js';
import { BlackholeSink, blackholeSinkSchema } from './blackhole/index.js';
import { ClickhouseSink, clickhouseSinkSchema } from './clickhouse/index.js';
import { ConsoleSink, consoleSinkSchema } from './console/index.js';
import { ElasticsearchSink, elasticsearchSinkSchema } from './elasticsearch/index.js';
import { FileSink, fileSinkSchema } from './file/index.js';
import { HttpSink, httpSinkSchema } from './http/index.js';
import { LokiSink, lokiSinkSchema } from './loki/index.js';
import { LoggySink, loggySinkSchema } from './loggy/index.js';
import { OtlpSink, otlpSinkSchema } from './otlp/index.js';
import { SyslogSink, syslogSinkSchema } from './syslog/index.js';

/** The one place sinks are registered: schema for the config, constructor for the topology. */
export const sinkSchema = z.discriminatedUnion('type', [blackholeSinkSchema, clickhouseSinkSchema, consoleSinkSchema, elasticsearchSinkSchema, fileSinkSchema, httpSinkSchema, loggySinkSchema, lokiSinkSchema, otlpSinkSchema, syslogSinkSchema]);
export type SinkConfig = z.infer<typeof sinkSchema>;

export function createSink(cfg: SinkConfig, ctx: ComponentContext): Sink {
  switch (cfg.type) {
    case 'blackhole': return new BlackholeSink(cfg, ctx);
    case 'clickhouse': return new ClickhouseSink(cfg, ctx);
    case 'console': return new ConsoleSink(cfg, ctx);
    case 'elasticsearch': return new ElasticsearchSink(cfg, ctx);
    case 'file': return new FileSink(cfg, ctx);
    case 'http': return new HttpSink(cfg, ctx);
    case 'loggy': return new LoggySink(cfg, ctx);
    case 'loki': return new LokiSink(cfg, ctx);
    case 'otlp': return new OtlpSink(cfg, ctx);
    case 'syslog': return new SyslogSink(cfg, ctx);
  }
}
