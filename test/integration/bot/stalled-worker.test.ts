// A worker dies in the middle of a diagnosis: another worker takes the stalled job over and edits the
// same placeholder, so the diagnosis still appears exactly once in the thread.
import type Bull from 'bull';
import type { ClusterReader } from '../../../src/adapters/kubernetes';
import { KubernetesReader, loadKubeConfig } from '../../../src/adapters/kubernetes';
import type { RunningBot } from '../../../src/bot/app';
import {
  ALERT_CHANNEL,
  ALERTMANAGER_TOKEN,
  oomAlert,
  startServices,
  startTestBot,
  type Services,
} from '../../support/bot-harness';
import { demoSpecs } from '../../support/scenarios';

jest.setTimeout(60_000);

let services: Services;

beforeAll(async () => {
  services = await startServices(demoSpecs().slice(0, 1));
});

afterAll(async () => {
  await services?.stop();
});

it("hands a dead worker's job to another worker, which finishes it in the same reply", async () => {
  const queueName = `stalled-${Date.now()}`;
  const real = new KubernetesReader(loadKubeConfig({ kubeconfig: services.cluster.kubeconfigPath }));
  // Worker A hangs while reading the pod's events, after it has posted its placeholder.
  let hung = false;
  let release: () => void = () => undefined;
  const hanging: ClusterReader = {
    ...bind(real),
    podEvents: () => {
      hung = true;
      return new Promise((resolve) => (release = () => resolve([])));
    },
  };
  const { bot: a } = await startTestBot(services, {
    overrides: { queueName, cluster: hanging, queueStalledMs: 1000, closeGraceMs: 500 },
  });
  let b: RunningBot | undefined;
  try {
    const target = services.cluster.scenarios[0]?.target ?? { namespace: '', pod: '', container: '' };
    const alert = oomAlert(target);
    const response = await fetch(`${a.url}/alertmanager`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ALERTMANAGER_TOKEN}` },
      body: JSON.stringify({
        version: '4',
        groupKey: 'stalled',
        status: 'firing',
        receiver: 'r',
        groupLabels: {},
        commonLabels: alert.labels,
        commonAnnotations: {},
        alerts: [{ ...alert, status: 'firing', fingerprint: 'deadbeef01' }],
      }),
    });
    expect(response.status).toBe(200);
    const slack = services.slack;
    await slack.waitFor(
      () => hung && slack.messages.some((m) => m.thread_ts && m.channel === ALERT_CHANNEL),
      20_000,
    );

    // A dies: its Redis connections drop, so its lock on the job is no longer renewed.
    for (const client of (a.queue as unknown as { queue: Bull.Queue }).queue.clients) client.disconnect();

    ({ bot: b } = await startTestBot(services, {
      role: 'worker',
      overrides: { queueName, queueStalledMs: 1000 },
    }));
    await slack.waitFor(() => slack.files.some((f) => f.channel === ALERT_CHANNEL), 30_000);
    const parent = slack.messages.find((m) => m.channel === ALERT_CHANNEL && !m.thread_ts);
    const replies = slack.thread(ALERT_CHANNEL, parent?.ts ?? '');
    expect(replies).toHaveLength(1);
    expect(JSON.stringify(replies[0]?.blocks)).toContain('OOMKilled');
    expect(slack.files.filter((f) => f.channel === ALERT_CHANNEL)).toHaveLength(1);
  } finally {
    await b?.stop();
    // Let A's abandoned handler end, so nothing of it outlives the test (a dead process would not linger).
    release();
    await a.stop().catch(() => undefined);
  }
});

/** The reader's methods bound to it, so a test can replace one of them. */
function bind(reader: KubernetesReader): ClusterReader {
  return {
    description: reader.description,
    readPod: (ns, name) => reader.readPod(ns, name),
    listPods: (ns, selector) => reader.listPods(ns, selector),
    listPodsAllNamespaces: (selector) => reader.listPodsAllNamespaces(selector),
    podEvents: (ns, pod) => reader.podEvents(ns, pod),
    nodeEvents: (node) => reader.nodeEvents(node),
    readNode: (name) => reader.readNode(name),
    readWorkload: (kind, ns, name) => reader.readWorkload(kind, ns, name),
    readConfigMap: (ns, name) => reader.readConfigMap(ns, name),
    listLimitRanges: (ns) => reader.listLimitRanges(ns),
    listResourceQuotas: (ns) => reader.listResourceQuotas(ns),
    podMetrics: (ns, name) => reader.podMetrics(ns, name),
  };
}
