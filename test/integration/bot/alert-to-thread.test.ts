// End to end: a real Alertmanager routes an OOM alert to the bot; the bot queues it on a real Redis,
// diagnoses it against the simulated cluster, and answers in a thread of the fake Slack.
import { startAlertmanager, type RunningAlertmanager } from '../../support/alertmanager';
import {
  ALERT_CHANNEL,
  ALERTMANAGER_TOKEN,
  oomAlert,
  startServices,
  startTestBot,
  type Services,
} from '../../support/bot-harness';
import { demoSpecs } from '../../support/scenarios';
import type { RunningBot } from '../../../src/bot/app';

jest.setTimeout(60_000);

let services: Services;
let bot: RunningBot;
let alertmanager: RunningAlertmanager;

beforeAll(async () => {
  services = await startServices(demoSpecs());
  ({ bot } = await startTestBot(services));
  alertmanager = await startAlertmanager({
    webhookUrl: `${bot.url}/alertmanager`,
    bearerToken: ALERTMANAGER_TOKEN,
    groupBy: ['alertname', 'namespace', 'pod'],
  });
});

afterAll(async () => {
  await alertmanager?.stop();
  await bot?.stop();
  await services?.stop();
});

function scenario(id: string) {
  const found = services.cluster.scenarios.find((s) => s.spec.id === id);
  if (!found) throw new Error(`no scenario ${id}`);
  return found;
}

it('answers an OOM alert in a thread: parent message, one diagnosis reply, chart uploaded', async () => {
  const { target } = scenario('limit-too-small');
  await alertmanager.postAlerts([oomAlert(target)]);
  const slack = services.slack;
  await slack.waitFor(() => slack.files.some((f) => f.channel === ALERT_CHANNEL), 30_000);

  const parent = slack.messages.find((m) => m.channel === ALERT_CHANNEL && !m.thread_ts);
  expect(parent).toBeDefined();
  expect(JSON.stringify(parent?.blocks)).toContain('prod-eu');
  const replies = slack.thread(ALERT_CHANNEL, parent?.ts ?? '');
  expect(replies).toHaveLength(1);
  const reply = replies[0];
  // Ready within the placeholder's delay: posted as the diagnosis directly, never edited.
  expect(reply?.edits).toBe(0);
  const replyJson = JSON.stringify(reply?.blocks);
  expect(replyJson).toContain('OOMKilled');
  expect(replyJson).toContain('limit is too small');
  expect(replyJson).toContain('kubectl -n shop patch deployment checkout');
  const chart = slack.files.find((f) => f.channel === ALERT_CHANNEL);
  expect(chart?.thread_ts).toBe(parent?.ts);
  expect(chart?.bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  // The parent lists the workload with its one-line status.
  await slack.waitFor(
    () =>
      JSON.stringify(slack.messages.find((m) => m.ts === parent?.ts)?.blocks).includes('limit is too small'),
    10_000,
  );
});
