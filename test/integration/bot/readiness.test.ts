// Start-up checks that mean something: a relabelled Prometheus, a missing RBAC permission, an
// invalid Slack token and a private alert channel the bot was not invited to are each named in
// /readyz's body with what to do, while /readyz stays 200 (only Redis and the queue make it 503).
// An unusable kubeconfig stops `oomdoctor serve` with one line and exit 4.
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { RunningBot } from '../../../src/bot/app';
import { readBotConfig } from '../../../src/config/bot';
import { checkSlack, readinessChecks } from '../../../src/bot/readiness';
import { startServices, startTestBot, botEnvironment, type Services } from '../../support/bot-harness';
import { demoSpecs } from '../../support/scenarios';

jest.setTimeout(60_000);

const ROOT = resolve(__dirname, '..', '..', '..');
let services: Services;
const bots: RunningBot[] = [];

beforeAll(async () => {
  services = await startServices(demoSpecs().slice(0, 1), { redis: false });
});

afterAll(async () => {
  for (const bot of bots) await bot.stop().catch(() => undefined);
  await services?.stop();
});

interface Readyz {
  status: string;
  dependencies: Record<string, { ok: boolean; problems: string[] }>;
}

async function readyz(env: Record<string, string> = {}) {
  const { bot } = await startTestBot(services, { env });
  bots.push(bot);
  const response = await fetch(`${bot.url}/readyz`);
  return { status: response.status, body: (await response.json()) as Readyz };
}

it('all is well: ready, with each dependency checked and passing', async () => {
  const { status, body } = await readyz();
  expect(status).toBe(200);
  expect(Object.keys(body.dependencies).sort()).toEqual(['kubernetes', 'prometheus', 'slack']);
  for (const result of Object.values(body.dependencies))
    expect(result).toMatchObject({ ok: true, problems: [] });
});

it('a relabelled metric names the OOMDOCTOR_METRIC_* setting to use, and the pod stays ready', async () => {
  const { status, body } = await readyz({ OOMDOCTOR_METRIC_WORKING_SET: 'container_memory_working_set' });
  expect(status).toBe(200);
  expect(body.dependencies.prometheus?.problems).toEqual([
    expect.stringMatching(
      /has no series named container_memory_working_set: if your setup names it differently, set OOMDOCTOR_METRIC_WORKING_SET$/,
    ),
  ]);
});

it('a relabelled label names the OOMDOCTOR_LABEL_* setting', async () => {
  const { body } = await readyz({ OOMDOCTOR_LABEL_POD: 'pod_name' });
  expect(body.dependencies.prometheus?.problems).toEqual([
    expect.stringMatching(/has no "pod_name" label: if your setup relabels it, set OOMDOCTOR_LABEL_POD$/),
  ]);
});

it('a missing RBAC permission is named with the file that grants it', async () => {
  services.cluster.kube.forbid({ verb: 'list', resource: 'events' });
  try {
    const { status, body } = await readyz();
    expect(status).toBe(200);
    expect(body.dependencies.kubernetes?.problems).toEqual([
      "the bot's identity may not list events cluster-wide; deploy/kubernetes/rbac.yaml grants it",
    ]);
  } finally {
    services.cluster.kube.allowAll();
  }
});

it('an invalid Slack token is named, with where to get the right one', async () => {
  // Checked alone: the bot itself may already refuse to start with such a token.
  const config = readBotConfig(botEnvironment(services, { SLACK_BOT_TOKEN: 'xoxb-revoked-token' }));
  expect(await checkSlack(config)).toEqual([
    expect.stringMatching(/^Slack refused SLACK_BOT_TOKEN \(invalid_auth\): copy the bot token/),
  ]);
});

it('the web role checks Slack and Prometheus but not Kubernetes (it loads no Kubernetes client)', () => {
  const config = readBotConfig(botEnvironment(services, { REDIS_URL: 'redis://127.0.0.1:1' }), 'web');
  expect(
    readinessChecks(config)
      .map((c) => c.name)
      .sort(),
  ).toEqual(['prometheus', 'slack']);
  expect(readinessChecks({ ...config, role: 'worker' }).map((c) => c.name)).toContain('kubernetes');
});

it('an unusable kubeconfig stops `oomdoctor serve` with one line naming it, exit 4', async () => {
  const child = spawn(
    process.execPath,
    [
      '-r',
      join(ROOT, 'test', 'support', 'register-ts.js'),
      '-e',
      `process.argv.splice(1, 0, 'oomdoctor'); require(${JSON.stringify(join(ROOT, 'src', 'cli.ts'))}).main()`,
      'serve',
    ],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        ...botEnvironment(services, { PORT: '0', KUBECONFIG: '/nonexistent/kubeconfig' }),
      },
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  expect(stderr).toMatch(
    /^oomdoctor cannot start: the kubeconfig \/nonexistent\/kubeconfig does not exist; check the path given with --kubeconfig or KUBECONFIG\n$/m,
  );
  expect(code).toBe(4);
});
