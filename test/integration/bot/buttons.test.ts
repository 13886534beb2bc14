// The buttons the bot posts: "Re-run diagnosis" posts a fresh reply in the same thread; the pod
// picker (for /oom <pod> matching several pods) diagnoses the one chosen. Driven by signed requests.
import type { RunningBot } from '../../../src/bot/app';
import {
  buttonPress,
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

beforeAll(async () => {
  // Two scenarios whose pods share a name in different namespaces: the picker's case.
  const [first] = demoSpecs();
  if (!first) throw new Error('no demo spec');
  services = await startServices(
    [
      { ...first, workloadKind: 'Pod', app: 'worker-0' },
      { ...first, id: 'twin', namespace: 'batch', workloadKind: 'Pod', app: 'worker-0' },
    ],
    { redis: false },
  );
  ({ bot } = await startTestBot(services));
});

afterAll(async () => {
  await bot?.stop();
  await services?.stop();
});

it('offers a choice when /oom <pod> matches pods in several namespaces, and diagnoses the one picked', async () => {
  const responder = await startResponseUrl();
  try {
    const ack = await postToSlackEndpoint(bot.url, slashCommand('worker-0', {}, responder.url));
    expect(ack.status).toBe(200);
    await services.slack.waitFor(() => responder.received.length > 0, 15_000);
    const picker = JSON.stringify(responder.received[0]);
    expect(picker).toContain('shop/worker-0');
    expect(picker).toContain('batch/worker-0');

    const press = await postToSlackEndpoint(
      bot.url,
      buttonPress({
        actionId: 'oom_pick_pod_1',
        value: 'batch/worker-0',
        channel: 'C0TEAM',
        messageTs: '1700000000.000100',
        responseUrl: responder.url,
      }),
    );
    expect(press.status).toBe(200);
    const slack = services.slack;
    await slack.waitFor(
      () =>
        slack.messages.some(
          (m) =>
            m.channel === 'C0TEAM' && !m.thread_ts && JSON.stringify(m.blocks).includes('batch/worker-0'),
        ),
      20_000,
    );
  } finally {
    responder.stop();
  }
});

it('re-runs a diagnosis into a fresh reply in the same thread, bypassing the dedupe', async () => {
  const slack = services.slack;
  const parent = await waitForParent();
  const before = slack.thread('C0TEAM', parent).length;
  const value = JSON.stringify({ namespace: 'batch', pod: 'worker-0', container: 'api' });
  const press = await postToSlackEndpoint(
    bot.url,
    buttonPress({
      actionId: 'oom_rerun',
      value,
      channel: 'C0TEAM',
      messageTs: slack.thread('C0TEAM', parent)[0]?.ts ?? '',
      threadTs: parent,
    }),
  );
  expect(press.status).toBe(200);
  await slack.waitFor(
    () =>
      slack.thread('C0TEAM', parent).length === before + 1 &&
      JSON.stringify(slack.thread('C0TEAM', parent)[before]?.blocks).includes('OOMKilled'),
    20_000,
  );
});

it('ignores a Re-run button whose value is not a target', async () => {
  const slack = services.slack;
  const parent = await waitForParent();
  const before = slack.messages.length;
  const responder = await startResponseUrl();
  try {
    const press = await postToSlackEndpoint(
      bot.url,
      buttonPress({
        actionId: 'oom_rerun',
        value: '{"namespace":"Kube System!","pod":"x"}',
        channel: 'C0TEAM',
        messageTs: parent,
        responseUrl: responder.url,
      }),
    );
    expect(press.status).toBe(200);
    await slack.waitFor(() => responder.received.length > 0, 10_000);
    expect(responder.received[0]?.text).toContain('no longer works');
    expect(slack.messages.length).toBe(before);
  } finally {
    responder.stop();
  }
});

async function waitForParent(): Promise<string> {
  const slack = services.slack;
  await slack.waitFor(() => slack.files.some((f) => f.channel === 'C0TEAM'), 20_000);
  const parent = slack.messages.find(
    (m) => m.channel === 'C0TEAM' && !m.thread_ts && JSON.stringify(m.blocks).includes('batch/worker-0'),
  );
  return parent?.ts ?? '';
}
