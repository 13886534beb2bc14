// Web and worker roles as separate processes sharing Redis; health in every role; Socket Mode
// against the fake's apps.connections.open and WebSocket.
import type { RunningBot } from '../../../src/bot/app';
import {
  ALERT_CHANNEL,
  ALERTMANAGER_TOKEN,
  buttonPress,
  oomAlert,
  slashCommand,
  startServices,
  startTestBot,
  type Services,
} from '../../support/bot-harness';
import { demoSpecs } from '../../support/scenarios';

jest.setTimeout(60_000);

let services: Services;

beforeAll(async () => {
  services = await startServices(demoSpecs().slice(0, 2));
});

afterAll(async () => {
  await services?.stop();
});

it('runs web and worker as separate roles on one Redis queue, each answering health probes', async () => {
  const queueName = `roles-${Date.now()}`;
  const { bot: web } = await startTestBot(services, { role: 'web', overrides: { queueName } });
  const { bot: worker } = await startTestBot(services, { role: 'worker', overrides: { queueName } });
  try {
    for (const bot of [web, worker]) {
      expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${bot.url}/readyz`);
      // Only what this role needs to take work decides readiness; Slack is reported, never decisive.
      const body = (await ready.json()) as {
        status: string;
        checks: Record<string, boolean>;
        dependencies: Record<string, { ok: boolean }>;
      };
      expect(body.status).toBe('ready');
      expect(body.checks).toEqual({ queue: true, store: true });
      expect(body.dependencies.slack?.ok).toBe(true);
      expect(ready.status).toBe(200);
    }
    // The worker serves no webhook; the web role does, and does not process jobs itself.
    expect((await fetch(`${worker.url}/alertmanager`, { method: 'POST' })).status).toBe(404);
    const target = services.cluster.scenarios[0]?.target ?? { namespace: '', pod: '', container: '' };
    const alert = oomAlert(target);
    const response = await fetch(`${web.url}/alertmanager`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ALERTMANAGER_TOKEN}` },
      body: JSON.stringify({
        version: '4',
        groupKey: 'roles',
        status: 'firing',
        receiver: 'r',
        groupLabels: {},
        commonLabels: alert.labels,
        commonAnnotations: {},
        alerts: [{ ...alert, status: 'firing', fingerprint: 'abc123roles' }],
      }),
    });
    expect(response.status).toBe(200);
    await services.slack.waitFor(() => services.slack.files.some((f) => f.channel === ALERT_CHANNEL), 30_000);
  } finally {
    await web.stop();
    await worker.stop();
  }
});

it('takes /oom and buttons over Socket Mode when SLACK_APP_TOKEN is set, and still serves the webhook over HTTP', async () => {
  let bot: RunningBot | undefined;
  try {
    ({ bot } = await startTestBot(services, {
      env: { SLACK_APP_TOKEN: 'xapp-test', SLACK_SIGNING_SECRET: '' },
    }));
    const { namespace, pod } = services.cluster.scenarios[1]?.target ?? { namespace: '', pod: '' };
    const command = slashCommand(`${namespace}/${pod}`);
    const { ackPayload } = await services.slack.sendSocketEnvelope({
      type: 'slash_commands',
      payload: command,
    });
    expect(JSON.stringify(ackPayload)).toContain(`${namespace}/${pod}`);
    await services.slack.waitFor(
      () => services.slack.files.some((f) => f.channel === 'C0TEAM' && f.filename.includes(pod)),
      30_000,
    );

    // Buttons arrive over the socket too: Re-run posts a fresh reply in the same thread.
    const slack = services.slack;
    const parent = slack.messages.find(
      (m) => m.channel === 'C0TEAM' && !m.thread_ts && JSON.stringify(m.blocks).includes(pod),
    );
    const replies = () => slack.thread('C0TEAM', parent?.ts ?? '');
    const before = replies().length;
    const press = buttonPress({
      actionId: 'oom_rerun',
      value: JSON.stringify({ namespace, pod, container: services.cluster.scenarios[1]?.target.container }),
      channel: 'C0TEAM',
      messageTs: replies()[0]?.ts ?? '',
      threadTs: parent?.ts ?? '',
    });
    await slack.sendSocketEnvelope({ type: 'interactive', payload: JSON.parse(press.payload ?? '{}') });
    await slack.waitFor(
      () =>
        replies().length === before + 1 && JSON.stringify(replies()[before]?.blocks).includes('OOMKilled'),
      20_000,
    );

    expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
    expect(
      (
        await fetch(`${bot.url}/alertmanager`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: '{}',
        })
      ).status,
    ).toBe(401);
  } finally {
    await bot?.stop();
  }
});
