import { z } from 'zod';
import type { Source, SourceContext } from '../core/component.js';
import { FileSource, fileSourceSchema } from './file/index.js';
import { JournaldSource, journaldSourceSchema } from './journald/index.js';
import { HttpSource, httpSourceSchema } from './http/index.js';
import { KubernetesLogsSource, kubernetesLogsSchema } from './kubernetes-logs/index.js';
import { KubernetesPodFilesSource, kubernetesPodFilesSchema } from './kubernetes-pod-files/index.js';
import { OtlpSource, otlpSourceSchema } from './otlp/index.js';
import { SyslogSource, syslogSourceSchema } from './syslog/index.js';

/** The one place sources are registered. */
export const sourceSchema = z.discriminatedUnion('type', [kubernetesLogsSchema, fileSourceSchema, kubernetesPodFilesSchema, httpSourceSchema, otlpSourceSchema, syslogSourceSchema, journaldSourceSchema]);
export type SourceConfig = z.infer<typeof sourceSchema>;

export async function createSource(cfg: SourceConfig, ctx: SourceContext): Promise<Source> {
  switch (cfg.type) {
    case 'kubernetes_logs': return new KubernetesLogsSource(cfg, ctx);
    case 'file': return FileSource.fromConfig(cfg, ctx);
    case 'kubernetes_pod_files': return new KubernetesPodFilesSource(cfg, ctx);
    case 'http': return new HttpSource(cfg, ctx);
    case 'otlp': return new OtlpSource(cfg, ctx);
    case 'syslog': return new SyslogSource(cfg, ctx);
    case 'journald': return new JournaldSource(cfg, ctx);
  }
}
