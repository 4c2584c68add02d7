import picomatch from 'picomatch';

export interface SelectConfig {
  include: { namespaces: string[]; pods: string[]; containers: string[] };
  exclude: { namespaces: string[]; pods: string[]; containers: string[] };
  kube_system: boolean;
  exclude_self: boolean;
}

/** Who the agent itself is, from the downward API, so it never tails its own output. */
export interface SelfIdentity {
  namespace?: string;
  pod?: string;
  pod_uid?: string;
}

export function selfFromEnv(env: NodeJS.ProcessEnv = process.env): SelfIdentity {
  return { namespace: env.POD_NAMESPACE || undefined, pod: env.POD_NAME || undefined, pod_uid: env.POD_UID || undefined };
}

type Match = (s: string) => boolean;
const any = (globs: string[]): Match | null => (globs.length ? picomatch(globs, { dot: true }) : null);

/** Include/exclude decisions, compiled once. Checked per directory, not per line. */
export class Selector {
  private readonly inc: { ns: Match | null; pod: Match | null; c: Match | null };
  private readonly exc: { ns: Match | null; pod: Match | null; c: Match | null };

  constructor(private readonly cfg: SelectConfig, private readonly self: SelfIdentity) {
    this.inc = { ns: any(cfg.include.namespaces), pod: any(cfg.include.pods), c: any(cfg.include.containers) };
    this.exc = { ns: any(cfg.exclude.namespaces), pod: any(cfg.exclude.pods), c: any(cfg.exclude.containers) };
  }

  pod(namespace: string, pod: string, uid: string): boolean {
    if (!this.cfg.kube_system && namespace === 'kube-system') return false;
    if (this.cfg.exclude_self && this.isSelf(namespace, pod, uid)) return false;
    if (this.inc.ns && !this.inc.ns(namespace)) return false;
    if (this.inc.pod && !this.inc.pod(pod)) return false;
    if (this.exc.ns?.(namespace)) return false;
    if (this.exc.pod?.(pod)) return false;
    return true;
  }

  container(name: string): boolean {
    if (this.inc.c && !this.inc.c(name)) return false;
    return !this.exc.c?.(name);
  }

  private isSelf(namespace: string, pod: string, uid: string): boolean {
    const s = this.self;
    if (s.pod_uid && uid && s.pod_uid === uid) return true;
    return !!s.pod && !!s.namespace && s.pod === pod && s.namespace === namespace;
  }
}
