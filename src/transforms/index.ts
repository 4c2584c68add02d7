import { z } from 'zod';
import type { ComponentContext, Transform } from '../core/component.js';
import { FilterTransform, filterTransformSchema } from './filter/index.js';
import { KubeMetadataTransform, kubeMetadataTransformSchema } from './kube-metadata/index.js';
import { ParseTransform, parseTransformSchema } from './parse/index.js';
import { RateLimitTransform, rateLimitTransformSchema } from './rate-limit/index.js';

/** The one place transforms are registered. */
export const transformSchema = z.discriminatedUnion('type', [filterTransformSchema, rateLimitTransformSchema, kubeMetadataTransformSchema, parseTransformSchema]);
export type TransformConfig = z.infer<typeof transformSchema>;

export function createTransform(cfg: TransformConfig, ctx: ComponentContext): Transform {
  switch (cfg.type) {
    case 'filter': return new FilterTransform(cfg, ctx);
    case 'rate_limit': return new RateLimitTransform(cfg, ctx);
    case 'kube_metadata': return new KubeMetadataTransform(cfg, ctx);
    case 'parse': return new ParseTransform(cfg, ctx);
  }
}
