// Jobs that fail where our handlers never see the failure. Bull fails one whose worker keeps
// freezing, so it stalls more than maxStalledCount times; the worker refuses one whose data it
// cannot read. Each must still end visible: the alert's reply and its parent's line, or the /oom
// thread or response_url, say what failed and what to do. Real Redis; bull's lock is made short and
// never renewed here, so each run of a frozen job stalls within a second.
//
// One bot for the file, so the tests share its worker: a frozen run keeps its slot after its test,
// until the 20 s diagnosis deadline (and bull's loop then pauses 5 s on the lock it lost). With
// WORKER_CONCURRENCY's default of 4, the three runs the first test leaves frozen left the next
// test's takeovers waiting for a slot (when bull's job slots were the diagnosis slots, its job then
// sat in the wait list, stalled no more and was not given up within 30 s). So each test has slots
// of its own, and every run of each test freezes where the test froze it.
import type { ClusterReader } from '../../../src/adapters/kubernetes';
import { KubernetesReader, loadKubeConfig } from '../../../src/adapters/kubernetes';
import type { RunningBot } from '../../../src/bot/app';
import type { BotJob } from '../../../src/bot/jobs';
import {
  ALERT_CHANNEL,
  ALERTMANAGER_TOKEN,
  oomAlert,
  postToSlackEndpoint,
  slashCommand,
  startResponseUrl,
  startServices,
  startTestBot,
  type Services,
} from '../../support/bot-harness';
import { demoSpecs } from '../../support/scenarios';

jest.setTimeout(60_000);

let services: Services;
let bot: RunningBot;
/** The frozen runs, by pod: each waits forever on the pod's events, as a blocked worker would. */
const frozen = new Map<string, Array<(error: Error) => void>>();
let over = false;

beforeAll(async () => {
  services = await startServices(demoSpecs().slice(0, 2));
  const real = new KubernetesReader(loadKubeConfig({ kubeconfig: services.cluster.kubeconfigPath }));
  const freezing: ClusterReader = Object.assign(Object.create(real) as KubernetesReader, {
    podEvents: (_namespace: string, pod: string) =>
      new Promise<never>((_, reject) =>
        over ? reject(new Error('test over')) : frozen.set(pod, [...(frozen.get(pod) ?? []), reject]),
      ),
  });
  ({ bot } = await startTestBot(services, {
    // Three frozen runs in each of two tests, and room to spare.
    env: { WORKER_CONCURRENCY: '8' },
    overrides: {
      cluster: freezing,
      // The lock lapses after 1.5 s and is never renewed: each run is found stalled by the next check.
      queueTimings: { lockDurationMs: 1500, lockRenewMs: 600_000, stalledIntervalMs: 500 },
      closeGraceMs: 500,
    },
  }));
});

afterAll(async () => {
  // The abandoned runs end first (and any run still waiting to start), so the bot's stop finds no
  // running job to give up on: bull then closes its Redis clients once, and nothing outlives the test.
  over = true;
  for (const rejects of frozen.values()) for (const reject of rejects) reject(new Error('test over'));
  await bot?.stop();
  await services?.stop();
});

const target = (i: number) =>
  services.cluster.scenarios[i]?.target ?? { namespace: '', pod: '', container: '' };

it("a job that stalls past maxStalledCount is said in the alert's thread and its parent's line", async () => {
  const target0 = target(0);
  const alert = oomAlert(target0);
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
  expect(frozen.get(target0.pod)).toHaveLength(3);
  const reply = JSON.stringify(replies()[0]?.blocks);
  expect(replies()).toHaveLength(1);
  expect(reply).toContain(`:x: Could not diagnose \`${target0.namespace}/${target0.pod}\``);
  expect(reply).toContain('job stalled more than allowable limit');
  expect(reply).toContain('Check the oomdoctor worker pods for restarts and OOM kills');
  await slack.waitFor(
    () => JSON.stringify(parent()?.blocks).includes('could not diagnose: the worker running it stopped'),
    10_000,
  );
});

it('an /oom whose job stalls past maxStalledCount is answered in its thread', async () => {
  const { namespace, pod } = target(1);
  const responder = await startResponseUrl();
  try {
    const ack = await postToSlackEndpoint(bot.url, slashCommand(`${namespace}/${pod}`, {}, responder.url));
    expect(ack.status).toBe(200);
    const slack = services.slack;
    const parent = () =>
      slack.messages.find(
        (m) => m.channel === 'C0TEAM' && !m.thread_ts && JSON.stringify(m.blocks).includes(pod),
      );
    const replies = () => slack.thread('C0TEAM', parent()?.ts ?? '');
    await slack.waitFor(
      () => replies().some((m) => JSON.stringify(m.blocks).includes('stopped or froze mid-job')),
      30_000,
    );
    // The first run and two takeovers, as for an alert.
    expect(frozen.get(pod)).toHaveLength(3);
    expect(replies()).toHaveLength(1);
    expect(JSON.stringify(replies()[0]?.blocks)).toContain('job stalled more than allowable limit');
    // Said once, in the thread: nothing more through response_url.
    expect(responder.received).toEqual([]);
  } finally {
    responder.stop();
  }
});

it('a queued /oom this version cannot read is answered through its response_url', async () => {
  const responder = await startResponseUrl();
  try {
    // As another version might have queued it: a field longer than this version accepts.
    const unreadable = {
      kind: 'command',
      receivedAt: Date.now(),
      channel: 'C0TEAM',
      userId: 'U0ALICE',
      text: `shop/${'a'.repeat(400)}`,
      responseUrl: responder.url,
    } as BotJob;
    expect(await bot.queue.add(unreadable, `unreadable-${Date.now()}`)).toBe('added');
    await services.slack.waitFor(() => responder.received.length > 0, 20_000);
    expect(responder.received).toHaveLength(1);
    expect(responder.received[0]?.response_type).toBe('ephemeral');
    expect(responder.received[0]?.text).toMatch(
      // The name as typed, cut to what a message shows (the same words as the handler's own failure).
      /^:x: Could not diagnose `shop\/a+…`: the queued job could not be read by this version of oomdoctor \(text: .*\); it was probably queued by another version during an upgrade/,
    );
  } finally {
    responder.stop();
  }
});
