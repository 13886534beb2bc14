// The fault test of issue 10: a worker run as its own process, with the default queue settings (not
// shortened for the test), is killed with SIGKILL in the middle of a job; another worker takes the
// job over and posts the diagnosis once, within 30 s of the kill.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { RunningBot } from '../../../src/bot/app';
import { QUEUE_TIMING_DEFAULTS } from '../../../src/bot/queue';
import { freePort } from '../../support/services';
import {
  ALERT_CHANNEL,
  ALERTMANAGER_TOKEN,
  botEnvironment,
  oomAlert,
  startServices,
  startTestBot,
  type Services,
} from '../../support/bot-harness';
import { demoSpecs } from '../../support/scenarios';

jest.setTimeout(90_000);

const ROOT = resolve(__dirname, '..', '..', '..');
const QUEUE = 'oomdoctor-diagnoses'; // the default queue name: the worker process is not told another

let services: Services;
let workerA: ChildProcess | undefined;
const bots: RunningBot[] = [];

beforeAll(async () => {
  services = await startServices(demoSpecs().slice(0, 1));
});

afterAll(async () => {
  workerA?.kill('SIGKILL');
  for (const bot of bots) await bot.stop().catch(() => undefined);
  await services?.stop();
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('takes a killed worker process’s job over within 30 s with the default settings, and posts once', async () => {
  expect(QUEUE_TIMING_DEFAULTS.lockDurationMs + QUEUE_TIMING_DEFAULTS.stalledIntervalMs).toBeLessThanOrEqual(
    20_000,
  );
  const port = await freePort();
  let log = '';
  workerA = spawn(
    process.execPath,
    [
      '-r',
      join(ROOT, 'test', 'support', 'register-ts.js'),
      '-e',
      `process.argv.splice(1, 0, 'oomdoctor'); require(${JSON.stringify(join(ROOT, 'src', 'cli.ts'))}).main()`,
      'serve',
      '--role',
      'worker',
    ],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        ...botEnvironment(services, { PORT: String(port), LOG_LEVEL: 'warn' }),
      },
    },
  );
  workerA.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  workerA.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  await waitFor(
    () =>
      fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      ),
    30_000,
    `worker A to start (its output: ${log})`,
  );

  // The web role takes the alert; only A works. Every Kubernetes read A makes from now on hangs.
  const { bot: web } = await startTestBot(services, { role: 'web', overrides: { queueName: QUEUE } });
  bots.push(web);
  const kube = services.cluster.kube;
  const before = kube.requests.length;
  kube.hangNext(1000);
  const target = services.cluster.scenarios[0]?.target ?? { namespace: '', pod: '', container: '' };
  const alert = oomAlert(target);
  const response = await fetch(`${web.url}/alertmanager`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ALERTMANAGER_TOKEN}` },
    body: JSON.stringify({
      version: '4',
      groupKey: 'sigkill',
      status: 'firing',
      receiver: 'r',
      groupLabels: {},
      commonLabels: alert.labels,
      commonAnnotations: {},
      alerts: [{ ...alert, status: 'firing', fingerprint: 'deadbeef02' }],
    }),
  });
  expect(response.status).toBe(200);
  await waitFor(() => kube.requests.length > before, 20_000, 'worker A to be in the middle of the job');

  workerA.kill('SIGKILL');
  const killedAt = Date.now();
  kube.stopHanging();
  const { bot: b } = await startTestBot(services, { role: 'worker', overrides: { queueName: QUEUE } });
  bots.push(b);
  const slack = services.slack;
  await waitFor(() => slack.files.some((f) => f.channel === ALERT_CHANNEL), 45_000, 'the diagnosis');
  const takenOverMs = Date.now() - killedAt;
  process.stdout.write(
    `stalled job taken over and posted ${(takenOverMs / 1000).toFixed(1)} s after SIGKILL\n`,
  );
  expect(takenOverMs).toBeLessThan(30_000);

  const parent = slack.messages.find((m) => m.channel === ALERT_CHANNEL && !m.thread_ts);
  const replies = slack.thread(ALERT_CHANNEL, parent?.ts ?? '');
  expect(replies).toHaveLength(1);
  expect(JSON.stringify(replies[0]?.blocks)).toContain('OOMKilled');
  expect(slack.files.filter((f) => f.channel === ALERT_CHANNEL)).toHaveLength(1);
});
