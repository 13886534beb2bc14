// /oom through Slack's signed HTTP requests, as Slack sends them (form-encoded, signed with the
// signing secret), and the ways it must refuse.
import type { RunningBot } from '../../../src/bot/app';
import {
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
  services = await startServices(demoSpecs().slice(0, 3), { redis: false });
  ({ bot } = await startTestBot(services));
});

afterAll(async () => {
  await bot?.stop();
  await services?.stop();
});

const target = (i: number) =>
  services.cluster.scenarios[i]?.target ?? { namespace: '', pod: '', container: '' };

it('acknowledges a signed /oom at once, then posts "/oom …, asked by" with the diagnosis in its thread', async () => {
  const { namespace, pod } = target(0);
  const response = await postToSlackEndpoint(bot.url, slashCommand(`${namespace}/${pod}`));
  expect(response.status).toBe(200);
  const ack = (await response.json()) as { response_type: string; text: string };
  expect(ack.response_type).toBe('ephemeral');
  expect(ack.text).toContain(`${namespace}/${pod}`);

  const slack = services.slack;
  await slack.waitFor(() => slack.files.some((f) => f.channel === 'C0TEAM'), 30_000);
  const parent = slack.messages.find((m) => m.channel === 'C0TEAM' && !m.thread_ts);
  expect(JSON.stringify(parent?.blocks)).toContain('<@U0ALICE>');
  const replies = slack.thread('C0TEAM', parent?.ts ?? '');
  expect(replies).toHaveLength(1);
  expect(JSON.stringify(replies[0]?.blocks)).toContain('OOMKilled');
});

it('refuses a request with a bad signature, and one signed too long ago', async () => {
  const forged = await postToSlackEndpoint(bot.url, slashCommand('shop/api-1'), { secret: 'not-the-secret' });
  expect(forged.status).toBe(401);
  const stale = await postToSlackEndpoint(bot.url, slashCommand('shop/api-1'), {
    timestamp: Math.floor(Date.now() / 1000) - 600,
  });
  expect(stale.status).toBe(401);
  // Neither reached the queue: nothing new was posted for them.
  expect(
    services.slack.messages.filter((m) => JSON.stringify(m.blocks ?? '').includes('shop/api-1')),
  ).toHaveLength(0);
});

it('answers bad input with one clear ephemeral line and queues nothing', async () => {
  const calls = services.slack.calls.length;
  for (const [text, expected] of [
    ['Shop/API', 'lower case'],
    ['shop/deploy/', 'expected'],
    ['a/b/c/d', 'expected'],
  ] as const) {
    const response = await postToSlackEndpoint(bot.url, slashCommand(text));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { text: string };
    expect(body.text).toMatch(/:warning:/);
    expect(body.text.toLowerCase()).toContain(expected);
  }
  await new Promise((r) => setTimeout(r, 300));
  expect(services.slack.calls.length).toBe(calls);
});

it('answers /oom help with the usage', async () => {
  const response = await postToSlackEndpoint(bot.url, slashCommand('help'));
  const body = JSON.stringify(await response.json());
  // Slack wants < and > escaped everywhere in mrkdwn, code spans included.
  expect(body).toContain('/oom &lt;namespace&gt;/&lt;pod&gt;');
  expect(body).toContain('deploy/');
});

it('tells the user when no pod has that name', async () => {
  const responder = await startResponseUrl();
  const { received } = responder;
  try {
    const response = await postToSlackEndpoint(
      bot.url,
      slashCommand('no-such-pod-anywhere', {}, responder.url),
    );
    expect(response.status).toBe(200);
    await services.slack.waitFor(() => received.length > 0, 15_000);
    expect(JSON.stringify(received[0])).toContain('No pod named');
  } finally {
    responder.stop();
  }
});
