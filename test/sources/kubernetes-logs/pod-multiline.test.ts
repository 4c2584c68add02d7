import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { agentFixture, append, capturingLogger, cri, podLog, readOut, runAgent } from '../../helpers/agent.js';
import { kubeApiFixture, pod } from '../../helpers/kube-api.js';
import { waitFor } from '../../helpers/proc.js';

const JAVA = [
  '2026-11-23 10:00:00 ERROR request failed',
  'java.lang.IllegalStateException: cart is empty',
  '\tat shop.Cart.checkout(Cart.java:42)',
  '\tat shop.Api.handle(Api.java:7)',
];
const lines = (ls: string[]) => ls.map((l) => cri(l)).join('');

/** `loggy.io/multiline` on pods, read through the pod cache a kube_metadata transform keeps. */
describe('kubernetes_logs multiline by pod annotation', () => {
  const fx = agentFixture('loggy-podml-');
  const kube = kubeApiFixture(fx);

  const start = (source: Record<string, unknown> = {}, log = silentLogger) => runAgent({
    root: fx.root, dataDir: fx.dataDir, out: fx.out, log, source,
    transform: { type: 'kube_metadata', node_name: 'node-1', kubeconfig: kube.api.writeKubeconfig(fx.tmpDir), sync_timeout: 3000 },
  });
  const from = (p: string, c = 'app') => readOut(fx.out).filter((e) => e.labels.pod === p && e.labels.container === c);

  it('groups each pod\'s lines by its own rule; a container can opt out; pods without one keep the source setting', async () => {
    kube.api.addPod(pod({ name: 'java-1', uid: 'uid-java', annotations: { 'loggy.io/multiline': 'java', 'loggy.io/multiline.proxy': 'none' }, containers: { app: 'a', proxy: 'p' } }));
    kube.api.addPod(pod({ name: 'dated-1', uid: 'uid-dated', annotations: { 'loggy.io/multiline': String.raw`^\d{4}-\d{2}-\d{2} ` } }));
    kube.api.addPod(pod({ name: 'plain-1', uid: 'uid-plain' }));
    append(podLog(fx.root, 'shop', 'java-1', 'app', 0, 'uid-java'), lines([...JAVA, 'next event']));
    append(podLog(fx.root, 'shop', 'java-1', 'proxy', 0, 'uid-java'), lines(JAVA));
    append(podLog(fx.root, 'shop', 'dated-1', 'app', 0, 'uid-dated'), lines(['2026-11-23 10:00:01 config:', '  port: 80', '  tls: off', '2026-11-23 10:00:02 ready']));
    append(podLog(fx.root, 'shop', 'plain-1', 'app', 0, 'uid-plain'), lines(JAVA));
    fx.agent = await start();
    await waitFor(() => from('java-1').length === 2 && from('java-1', 'proxy').length === 4 && from('dated-1').length === 2 && from('plain-1').length === 4, 5000, 'all files read');
    expect(from('java-1').map((e) => e.line)).toEqual([JAVA.join('\n'), 'next event']);
    expect(from('java-1')[0]!.flags).toEqual(['multiline']);
    expect(from('java-1', 'proxy').map((e) => e.line)).toEqual(JAVA);
    expect(from('dated-1').map((e) => e.line)).toEqual(['2026-11-23 10:00:01 config:\n  port: 80\n  tls: off', '2026-11-23 10:00:02 ready']);
    expect(from('plain-1').map((e) => e.line)).toEqual(JAVA);
  });

  it('switches rule when the annotation changes on a running pod', async () => {
    kube.api.addPod(pod({ name: 'late-1', uid: 'uid-late' }));
    const file = podLog(fx.root, 'shop', 'late-1', 'app', 0, 'uid-late');
    append(file, lines(JAVA));
    fx.agent = await start();
    await waitFor(() => from('late-1').length === 4, 5000, 'ungrouped lines');
    kube.api.updatePod(pod({ name: 'late-1', uid: 'uid-late', annotations: { 'loggy.io/multiline': 'java' } }));
    await new Promise((r) => setTimeout(r, 300));
    append(file, lines([...JAVA, 'after']));
    await waitFor(() => from('late-1').length === 6, 5000, 'grouped lines');
    expect(from('late-1').slice(4).map((e) => e.line)).toEqual([JAVA.join('\n'), 'after']);
  });

  it('refuses a regex with nested quantifiers (a tenant must not stall the node\'s agent), says why once, and reads the lines ungrouped', async () => {
    const { log, records } = capturingLogger();
    kube.api.addPod(pod({ name: 'evil-1', uid: 'uid-evil', annotations: { 'loggy.io/multiline': '^(a+)+$' } }));
    kube.api.addPod(pod({ name: 'broken-1', uid: 'uid-broken', annotations: { 'loggy.io/multiline': '^(unclosed' } }));
    append(podLog(fx.root, 'shop', 'evil-1', 'app', 0, 'uid-evil'), lines(['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', 'b']));
    append(podLog(fx.root, 'shop', 'broken-1', 'app', 0, 'uid-broken'), lines(['x', 'y']));
    fx.agent = await start({}, log);
    await waitFor(() => from('evil-1').length === 2 && from('broken-1').length === 2, 5000, 'lines');
    const said = records.filter((r) => r.annotation === 'loggy.io/multiline');
    expect(said.map((r) => r.pod).sort()).toEqual(['shop/broken-1', 'shop/evil-1']);
    expect(String(said.find((r) => r.pod === 'shop/evil-1')!.problem)).toMatch(/nested quantifiers/);
    expect(String(said.find((r) => r.pod === 'shop/broken-1')!.problem)).toMatch(/invalid regex/);
    expect(await fx.agent.metrics.total('loggy_kube_annotation_errors_total')).toBe(2);
  });

  it('reads no annotation when turned off', async () => {
    kube.api.addPod(pod({ name: 'java-2', uid: 'uid-java2', annotations: { 'loggy.io/multiline': 'java' } }));
    append(podLog(fx.root, 'shop', 'java-2', 'app', 0, 'uid-java2'), lines(JAVA));
    fx.agent = await start({ annotations: false });
    await waitFor(() => from('java-2').length === 4, 5000, 'ungrouped lines');
    expect(from('java-2').map((e) => e.line)).toEqual(JAVA);
  });
});
