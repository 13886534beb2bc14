// Slack answering like Slack does when things are not right: rate limits, a channel the bot has not
// joined, one that does not exist, a private channel for /oom. The bot must handle each.
import type { RunningBot } from '../../../src/bot/app';
import {
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

beforeAll(async () => {
  services = await startServices(demoSpecs().slice(0, 4), { redis: false });
});

afterAll(async () => {
  await services?.stop();
});

async function withBot<T>(env: Record<string, string>, work: (bot: RunningBot) => Promise<T>): Promise<T> {
  const { bot } = await startTestBot(services, { env });
  try {
    return await work(bot);
  } finally {
    await bot.stop();
  }
}

function webhookBody(target: { namespace: string; pod: string; container: string }, groupKey: string) {
  const alert = oomAlert(target);
  return {
    version: '4',
    groupKey,
    status: 'firing',
    receiver: 'oomdoctor',
    groupLabels: {},
    commonLabels: alert.labels,
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example',
    alerts: [
      { ...alert, status: 'firing', endsAt: '0001-01-01T00:00:00Z', fingerprint: `${groupKey.length}abc` },
    ],
  };
}

async function sendAlert(
  bot: RunningBot,
  target: { namespace: string; pod: string; container: string },
  groupKey: string,
): Promise<number> {
  const response = await fetch(`${bot.url}/alertmanager`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ALERTMANAGER_TOKEN}` },
    body: JSON.stringify(webhookBody(target, groupKey)),
  });
  return response.status;
}

const target = (i: number) =>
  services.cluster.scenarios[i]?.target ?? { namespace: '', pod: '', container: '' };

it('waits out a 429 with Retry-After and still posts the thread', async () => {
  const slack = services.slack;
  slack.rateLimitNext('chat.postMessage', 1, 1);
  await withBot({}, async (bot) => {
    expect(await sendAlert(bot, target(0), 'g-ratelimit')).toBe(200);
    await slack.waitFor(() => slack.files.some((f) => f.filename.includes(target(0).pod)), 30_000);
  });
  const posts = slack.callsTo('chat.postMessage');
  // The limited call and its retry at least a second apart.
  const limited = posts.findIndex((c, i) => i + 1 < posts.length && (posts[i + 1]?.at ?? 0) - c.at >= 900);
  expect(limited).toBeGreaterThanOrEqual(0);
});

it('joins a public channel it is not in, then posts', async () => {
  const slack = services.slack;
  await withBot({ SLACK_ALERT_CHANNEL: 'C0PUBLIC' }, async (bot) => {
    expect(await sendAlert(bot, target(1), 'g-join')).toBe(200);
    await slack.waitFor(() => slack.messages.some((m) => m.channel === 'C0PUBLIC'), 20_000);
  });
  expect(slack.callsTo('conversations.join').some((c) => c.args.channel === 'C0PUBLIC')).toBe(true);
});

it('gives up on a channel that does not exist without retrying, and says why in the log', async () => {
  const slack = services.slack;
  const before = slack.callsTo('chat.postMessage').length;
  const lines: string[] = [];
  const pino = (await import('pino')).default;
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  const { bot } = await startTestBot(services, {
    env: { SLACK_ALERT_CHANNEL: 'C0MISSING' },
    overrides: { logger },
  });
  try {
    expect(await sendAlert(bot, target(2), 'g-missing')).toBe(200);
    await slack.waitFor(() => lines.some((l) => l.includes('channel_not_found')), 10_000);
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    await bot.stop();
  }
  // One attempt: a permanent error is not retried.
  expect(slack.callsTo('chat.postMessage').length - before).toBe(1);
  expect(lines.find((l) => l.includes('channel_not_found'))).toContain('SLACK_ALERT_CHANNEL');
});

it('answers /oom in a private channel it is not in through response_url, as text', async () => {
  const responder = await startResponseUrl();
  const { received } = responder;
  try {
    await withBot({}, async (bot) => {
      const { namespace, pod } = target(3);
      const ack = await postToSlackEndpoint(
        bot.url,
        slashCommand(`${namespace}/${pod}`, { channel_id: 'G0PRIVATE' }, responder.url),
      );
      expect(ack.status).toBe(200);
      await services.slack.waitFor(() => received.length > 0, 20_000);
    });
  } finally {
    responder.stop();
  }
  expect(received[0]?.response_type).toBe('in_channel');
  expect(received[0]?.text).toContain('OOMKilled');
  expect(services.slack.messages.some((m) => m.channel === 'G0PRIVATE')).toBe(false);
});

it('a parent whose edits Slack refuses never holds up the diagnosis under it', async () => {
  const slack = services.slack;
  // Every edit refused for the rest of this test (last in the file: the fake keeps what is left).
  slack.failNext('chat.update', 'internal_error', 200);
  const editsBefore = slack.callsTo('chat.update').length;
  const { pod } = target(1);
  await withBot({}, async (bot) => {
    expect(await sendAlert(bot, target(0), 'g-edits-a')).toBe(200);
    expect(await sendAlert(bot, target(1), 'g-edits-b')).toBe(200);
    // The second workload's diagnosis still lands in a thread, with its chart.
    await slack.waitFor(
      () => slack.messages.some((m) => m.thread_ts && JSON.stringify(m.blocks ?? []).includes(pod)),
      30_000,
    );
    await slack.waitFor(() => slack.callsTo('chat.update').length > editsBefore, 40_000);
  });
  // The edits were tried and refused: the reply came in spite of them, not because none was made.
  const edits = slack.callsTo('chat.update').slice(editsBefore);
  expect(edits.length).toBeGreaterThan(0);
  expect(edits.every((c) => c.error === 'internal_error')).toBe(true);
});
