// A job bull fails by itself, where our handler never sees the failure: one whose worker keeps
// freezing, so it stalls more than maxStalledCount times. It must still end visible: the alert's
// reply and its parent's line say what failed and what to do. Real Redis; bull's lock is made short
// and never renewed here, so each run of the job stalls within a second.
import type { ClusterReader } from '../../../src/adapters/kubernetes';
import { KubernetesReader, loadKubeConfig } from '../../../src/adapters/kubernetes';
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

it("a job that stalls past maxStalledCount is said in the alert's thread and its parent's line", async () => {
  const real = new KubernetesReader(loadKubeConfig({ kubeconfig: services.cluster.kubeconfigPath }));
  // Every run of the diagnosis freezes while reading the pod's events, as a blocked worker would.
  const frozen: Array<(error: Error) => void> = [];
  const freezing: ClusterReader = Object.assign(Object.create(real) as KubernetesReader, {
    podEvents: () => new Promise<never>((_, reject) => frozen.push(reject)),
  });
  const { bot } = await startTestBot(services, {
    overrides: {
      cluster: freezing,
      // The lock lapses after 1 s and is never renewed: each run is found stalled by the next check.
      queueTimings: { lockDurationMs: 1000, lockRenewMs: 600_000, stalledIntervalMs: 500 },
      closeGraceMs: 500,
    },
  });
  try {
    const target = services.cluster.scenarios[0]?.target ?? { namespace: '', pod: '', container: '' };
    const alert = oomAlert(target);
    const response = await fetch(`${bot.url}/alertmanager`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ALERTMANAGER_TOKEN}` },
      body: JSON.stringify({
        version: '4',
        groupKey: 'stalls',
        status: 'firing',
        receiver: 'oomdoctor',
        groupLabels: {},
        commonLabels: alert.labels,
        commonAnnotations: {},
        alerts: [{ ...alert, status: 'firing', fingerprint: 'stalls01' }],
      }),
    });
    expect(response.status).toBe(200);

    const slack = services.slack;
    const parent = () => slack.messages.find((m) => m.channel === ALERT_CHANNEL && !m.thread_ts);
    const replies = () => slack.thread(ALERT_CHANNEL, parent()?.ts ?? '');
    await slack.waitFor(
      () => replies().some((m) => JSON.stringify(m.blocks).includes('stopped or froze mid-job')),
      30_000,
    );
    // Bull ran it three times (the first run and two takeovers) before giving up on it.
    expect(frozen.length).toBe(3);
    const reply = JSON.stringify(replies()[0]?.blocks);
    expect(replies()).toHaveLength(1);
    expect(reply).toContain(`:x: Could not diagnose \`${target.namespace}/${target.pod}\``);
    expect(reply).toContain('job stalled more than allowable limit');
    expect(reply).toContain('Check the oomdoctor worker pods for restarts and OOM kills');
    await slack.waitFor(
      () => JSON.stringify(parent()?.blocks).includes('could not diagnose: the worker running it stopped'),
      10_000,
    );
  } finally {
    await bot.stop();
    for (const reject of frozen) reject(new Error('test over'));
  }
});
