// The bot misconfigured as users misconfigure it: a kubeconfig whose credentials cannot be used, a
// Prometheus whose metrics were relabelled, a missing RBAC permission, a Slack token Slack refuses.
// Each is said where it is first seen (start-up or /readyz; the parts readiness.test.ts already
// checks are not repeated here), and a job against it leaves a message where its asker looks: the
// alert's thread and the /oom response. One set of services for the whole file.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { RunningBot } from '../../../src/bot/app';
import {
  ALERT_CHANNEL,
  botEnvironment,
  oomAlert,
  postToSlackEndpoint,
  sendFiringGroup,
  slashCommand,
  startResponseUrl,
  startServices,
  startTestBot,
  type Services,
} from '../../support/bot-harness';
import { cliCommand } from '../../support/cli-process';
import { demoSpecs } from '../../support/scenarios';

jest.setTimeout(60_000);

let services: Services;
let dir: string;
const bots: RunningBot[] = [];

beforeAll(async () => {
  services = await startServices(demoSpecs().slice(0, 4));
  dir = mkdtempSync(join(tmpdir(), 'oomdoctor-misconfig-'));
});

afterAll(async () => {
  for (const bot of bots) await bot.stop().catch(() => undefined);
  await services?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function bot(options: Parameters<typeof startTestBot>[1] = {}): Promise<RunningBot> {
  const started = (await startTestBot(services, options)).bot;
  bots.push(started);
  return started;
}

const target = (i: number) =>
  services.cluster.scenarios[i]?.target ?? { namespace: '', pod: '', container: '' };

async function sendAlert(to: RunningBot, alerted: { namespace: string; pod: string; container: string }) {
  const groupKey = `misconfig-${randomUUID()}`;
  await sendFiringGroup(to.url, groupKey, [{ ...oomAlert(alerted), fingerprint: groupKey }]);
}

/** The alert channel's messages that name a pod (its parent's line while it names the pod, its reply). */
async function alertThreadAbout(pod: string, done: (text: string) => boolean): Promise<string> {
  const slack = services.slack;
  const said = () =>
    slack.messages
      .filter((m) => m.channel === ALERT_CHANNEL)
      .map((m) => JSON.stringify([m.text, m.blocks]))
      .filter((text) => text.includes(pod))
      .join('\n');
  await slack.waitFor(() => done(said()), 30_000);
  return said();
}

/** /oom <namespace>/<pod> in #team, with its response_url recorded. */
async function slashOom(to: RunningBot, text: string) {
  const responder = await startResponseUrl();
  const ack = await postToSlackEndpoint(to.url, slashCommand(text, {}, responder.url));
  expect(ack.status).toBe(200);
  return responder;
}

async function metricValue(of: RunningBot, line: RegExp): Promise<number> {
  const text = await (await fetch(`${of.url}/metrics`)).text();
  const match = text.split('\n').find((l) => line.test(l));
  return match ? Number(match.split(' ').pop()) : 0;
}

async function readyz(of: RunningBot) {
  const response = await fetch(`${of.url}/readyz`);
  return {
    status: response.status,
    body: (await response.json()) as { dependencies: Record<string, { ok: boolean; problems: string[] }> },
  };
}

describe('a kubeconfig whose credentials cannot be used (its exec plugin fails)', () => {
  let kubeconfig: string;
  let worker: RunningBot;

  beforeAll(async () => {
    // What an expired cloud login looks like: the plugin is there, and fails on every request.
    const plugin = join(dir, 'expired-login');
    writeFileSync(
      plugin,
      '#!/bin/sh\necho "error: the SSO session has expired; run: cloud login" >&2\nexit 1\n',
    );
    chmodSync(plugin, 0o755);
    kubeconfig = join(dir, 'exec-kubeconfig.json');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'sim', cluster: { server: services.cluster.kube.url } }],
        users: [
          {
            name: 'sso',
            user: {
              exec: {
                apiVersion: 'client.authentication.k8s.io/v1beta1',
                command: plugin,
                interactiveMode: 'Never',
              },
            },
          },
        ],
        contexts: [{ name: 'sim', context: { cluster: 'sim', user: 'sso' } }],
        'current-context': 'sim',
      }),
    );
    worker = await bot({ env: { KUBECONFIG: kubeconfig } });
  });

  it('is named in /readyz with the plugin and what to do, and the pod stays ready', async () => {
    const { status, body } = await readyz(worker);
    expect(status).toBe(200);
    expect(body.dependencies.kubernetes?.problems.join('\n')).toMatch(
      /the credential plugin ".*expired-login" failed: error: the SSO session has expired; run: cloud login; run ".*expired-login" yourself/,
    );
  });

  it("says so in the alert's thread and in the parent's line for the pod", async () => {
    const alerted = target(0);
    await sendAlert(worker, alerted);
    const said = await alertThreadAbout(alerted.pod, (text) => text.includes(':x: Could not diagnose'));
    expect(said).toMatch(/:x: Could not diagnose .*the credential plugin .*expired-login\\" failed/);
    expect(said).toContain('could not diagnose: kubeconfig');
    // Said once, by the job's handler: the queue's own failure listener leaves a handler's failure alone.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = await alertThreadAbout(alerted.pod, () => true);
    expect(after.match(/:x: Could not diagnose/g)).toHaveLength(1);
    expect(after).not.toContain('stopped or froze');
  });

  it('says so to the /oom caller through response_url', async () => {
    const { namespace, pod } = target(1);
    const responder = await slashOom(worker, `${namespace}/${pod}`);
    try {
      await services.slack.waitFor(() => responder.received.length > 0, 20_000);
    } finally {
      responder.stop();
    }
    expect(responder.received[0]?.text).toMatch(
      new RegExp(
        `^:x: Could not diagnose \`${namespace}/${pod}\`: kubeconfig .*the credential plugin .* failed: error: the SSO session has expired`,
      ),
    );
  });
});

describe('a Prometheus whose working-set metric was relabelled', () => {
  // /readyz naming OOMDOCTOR_METRIC_WORKING_SET is checked in readiness.test.ts.
  let relabelled: RunningBot;

  beforeAll(async () => {
    relabelled = await bot({ env: { OOMDOCTOR_METRIC_WORKING_SET: 'container_memory_working_set' } });
  });

  it("the alert's reply says the memory history is missing and why", async () => {
    const alerted = target(2);
    await sendAlert(relabelled, alerted);
    const said = await alertThreadAbout(alerted.pod, (text) => text.includes('Could not gather'));
    expect(said).toContain(
      `prometheus: no container_memory_working_set series for ${alerted.namespace}/${alerted.pod} container ${alerted.container}`,
    );
    // With the setting that fixes it, as /readyz words it.
    expect(said).toContain(
      'Prometheus has no series named container_memory_working_set at all; if your setup names it differently, set OOMDOCTOR_METRIC_WORKING_SET',
    );
  });

  it('the /oom reply says it too', async () => {
    const { namespace, pod } = target(3);
    const responder = await slashOom(relabelled, `${namespace}/${pod}`);
    responder.stop();
    const slack = services.slack;
    const said = () =>
      slack.messages
        .filter((m) => m.channel === 'C0TEAM' && JSON.stringify(m.blocks ?? '').includes(pod))
        .flatMap((p) => [p, ...slack.thread('C0TEAM', p.ts)])
        .map((m) => JSON.stringify([m.text, m.blocks]))
        .join('\n');
    await slack.waitFor(() => said().includes('Could not gather'), 30_000);
    expect(said()).toContain(`prometheus: no container_memory_working_set series for ${namespace}/${pod}`);
    expect(said()).toContain('set OOMDOCTOR_METRIC_WORKING_SET');
  });
});

describe('a missing RBAC permission (get pods)', () => {
  let forbidden: RunningBot;

  beforeAll(async () => {
    // /readyz naming a missing permission is checked in readiness.test.ts.
    services.cluster.kube.forbid({ verb: 'get', resource: 'pods' });
    forbidden = await bot();
  });

  afterAll(() => services.cluster.kube.allowAll());

  it("the alert's thread and the parent's line name the permission and the RBAC file", async () => {
    const alerted = target(1);
    await sendAlert(forbidden, alerted);
    const said = await alertThreadAbout(alerted.pod, (text) => text.includes(':x: Could not diagnose'));
    expect(said).toMatch(
      /:x: Could not diagnose .*the Kubernetes API refused: pods .* is forbidden: .* cannot get resource .*pods.*deploy\/kubernetes\/rbac\.yaml grants what diagnosing needs/,
    );
    expect(said).toContain('could not diagnose: the Kubernetes API refused');
  });

  it('the /oom caller is told the same through response_url', async () => {
    const { namespace, pod } = target(2);
    const responder = await slashOom(forbidden, `${namespace}/${pod}`);
    try {
      await services.slack.waitFor(() => responder.received.length > 0, 20_000);
    } finally {
      responder.stop();
    }
    expect(responder.received[0]?.text).toMatch(
      new RegExp(
        `^:x: Could not diagnose \`${namespace}/${pod}\`: the Kubernetes API refused: .*cannot get resource "pods".*deploy/kubernetes/rbac\\.yaml`,
      ),
    );
  });
});

describe('a Slack token Slack refuses', () => {
  it('stops `oomdoctor serve` with one line saying so and what to do, exit 2', async () => {
    const run = await cliCommand(
      ['serve'],
      botEnvironment(services, { PORT: '0', SLACK_BOT_TOKEN: 'xoxb-revoked-token' }),
    );
    expect(run.stderr).toBe(
      `oomdoctor cannot start: Slack refused SLACK_BOT_TOKEN (invalid_auth): copy the bot token (xoxb-…) again from the app's "OAuth & Permissions" page, or reinstall the app to the workspace if it was revoked\n`,
    );
    expect(run.code).toBe(2);
  });

  it('an app token (Socket Mode) Slack refuses stops `oomdoctor serve` the same way', async () => {
    const run = await cliCommand(
      ['serve'],
      botEnvironment(services, {
        PORT: '0',
        SLACK_APP_TOKEN: 'xapp-1-A0TEST-revoked',
        SLACK_SIGNING_SECRET: '',
      }),
    );
    expect(run.stderr).toBe(
      `oomdoctor cannot start: Slack refused SLACK_APP_TOKEN (invalid_auth): create an app-level token (xapp-…) with the connections:write scope on the app's "Basic Information" page, and set it again\n`,
    );
    expect(run.code).toBe(2);
  });

  it('an app token of the wrong shape stops `oomdoctor serve` with one line, exit 2', async () => {
    const run = await cliCommand(
      ['serve'],
      botEnvironment(services, {
        PORT: '0',
        SLACK_APP_TOKEN: 'xoxb-not-an-app-token',
        SLACK_SIGNING_SECRET: '',
      }),
    );
    expect(run.stderr).toBe(
      'oomdoctor cannot start:\n  - SLACK_APP_TOKEN must be an app-level token starting with xapp- (Basic Information, App-Level Tokens, with connections:write)\n',
    );
    expect(run.code).toBe(2);
  });

  it('a Slack that cannot be reached at start-up does not stop the web role: /readyz says why', async () => {
    const web = await bot({ role: 'web', env: { SLACK_API_URL: 'http://127.0.0.1:9/api/' } });
    const { status, body } = await readyz(web);
    expect(status).toBe(200);
    expect(body.dependencies.slack?.problems).toEqual([
      expect.stringMatching(
        /^cannot reach Slack at http:\/\/127\.0\.0\.1:9\/api\/ .*check the network path to Slack/,
      ),
    ]);
  });

  it('a worker with it: /readyz says so, the /oom caller is told through response_url, and the alert channel failure is counted', async () => {
    const queueName = `misconfig-${randomUUID()}`;
    const web = await bot({ role: 'web', overrides: { queueName } });
    const worker = await bot({
      role: 'worker',
      env: { SLACK_BOT_TOKEN: 'xoxb-revoked-token' },
      overrides: { queueName },
    });
    const { body } = await readyz(worker);
    expect(body.dependencies.slack?.problems).toEqual([
      expect.stringMatching(/^Slack refused SLACK_BOT_TOKEN \(invalid_auth\)/),
    ]);

    const { namespace, pod } = target(0);
    const responder = await slashOom(web, `${namespace}/${pod}`);
    try {
      await services.slack.waitFor(() => responder.received.length > 0, 20_000);
    } finally {
      responder.stop();
    }
    expect(responder.received[0]?.text).toMatch(
      /^:x: Could not diagnose .*Slack refused chat\.postMessage: invalid_auth \(SLACK_BOT_TOKEN is not valid\)/,
    );

    const untold = /^oomdoctor_user_notification_failures_total\{via="channel"\}/;
    const before = await metricValue(worker, untold);
    await sendAlert(web, target(3));
    const deadline = Date.now() + 20_000;
    while ((await metricValue(worker, untold)) === before && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    expect(await metricValue(worker, untold)).toBe(before + 1);
  });
});
