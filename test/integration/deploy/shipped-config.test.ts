// The configuration files the product ships, checked by the real tools that will read them:
// promtool runs the alert rule against series in which a container is OOM-killed, and amtool checks
// the receiver. The Slack manifest is checked against what the bot serves.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { ensureDebianPackages, requireBinary } from '../../support/services';

const run = promisify(execFile);
const deploy = join(__dirname, '..', '..', '..', 'deploy');
let dir: string;

beforeAll(async () => {
  await ensureDebianPackages([
    { pkg: 'prometheus', binary: 'promtool' },
    { pkg: 'prometheus-alertmanager', binary: 'amtool' },
  ]);
  dir = mkdtempSync(join(tmpdir(), 'oomdoctor-deploy-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('fires ContainerOOMKilled once a container restarts after an OOM kill, with the labels the bot reads', async () => {
  const test = {
    rule_files: [join(deploy, 'prometheus-rules.yaml')],
    evaluation_interval: '1m',
    tests: [
      {
        interval: '1m',
        input_series: [
          // Restarted at minute 20 (0 → 1), after an OOM kill. kube-state-metrics exports the reason
          // gauge only once there is a last termination, and only for that reason: absent before ("_").
          {
            series:
              'kube_pod_container_status_restarts_total{namespace="shop",pod="api-1",container="api",job="kube-state-metrics"}',
            values: '0x20 1x30',
          },
          {
            series:
              'kube_pod_container_status_last_terminated_reason{namespace="shop",pod="api-1",container="api",reason="OOMKilled",job="kube-state-metrics"}',
            values: '_x19 1x31',
          },
          // Another container restarted after an error: no alert.
          {
            series:
              'kube_pod_container_status_restarts_total{namespace="shop",pod="web-1",container="web",job="kube-state-metrics"}',
            values: '0x20 1x30',
          },
          {
            series:
              'kube_pod_container_status_last_terminated_reason{namespace="shop",pod="web-1",container="web",reason="Error",job="kube-state-metrics"}',
            values: '_x19 1x31',
          },
        ],
        alert_rule_test: [
          { eval_time: '15m', alertname: 'ContainerOOMKilled', exp_alerts: [] },
          {
            eval_time: '25m',
            alertname: 'ContainerOOMKilled',
            exp_alerts: [
              {
                exp_labels: {
                  severity: 'warning',
                  namespace: 'shop',
                  pod: 'api-1',
                  container: 'api',
                },
                exp_annotations: {
                  summary: 'Container api in shop/api-1 was OOMKilled',
                  description:
                    'The container hit its memory limit and was killed by the kernel (exit 137). oomdoctor answers this alert in Slack with the cause and a fix.',
                },
              },
            ],
          },
          // Ten minutes after the restart it has stopped firing: one alert per kill.
          { eval_time: '45m', alertname: 'ContainerOOMKilled', exp_alerts: [] },
        ],
      },
    ],
  };
  const file = join(dir, 'rules-test.yaml');
  writeFileSync(file, stringify(test));
  const { stdout } = await run(requireBinary('promtool'), ['test', 'rules', file]);
  expect(stdout).toContain('SUCCESS');
});

it('ships an Alertmanager receiver that amtool accepts, pointing at the webhook with a bearer token', async () => {
  const file = join(deploy, 'alertmanager-receiver.yaml');
  const { stdout } = await run(requireBinary('amtool'), ['check-config', file]);
  expect(stdout).toContain('SUCCESS');
  const config = parse(readFileSync(file, 'utf8')) as {
    receivers: Array<{
      name: string;
      webhook_configs?: Array<{
        url: string;
        send_resolved: boolean;
        http_config: { authorization: { type: string } };
      }>;
    }>;
  };
  const hook = config.receivers.find((r) => r.name === 'oomdoctor')?.webhook_configs?.[0];
  expect(hook?.url).toMatch(/\/alertmanager$/);
  expect(hook?.send_resolved).toBe(true);
  expect(hook?.http_config.authorization.type).toBe('Bearer');
});

it('ships a Slack app manifest whose command and URLs match what the bot serves', () => {
  const manifest = parse(readFileSync(join(deploy, 'slack-app-manifest.yaml'), 'utf8')) as {
    features: { slash_commands: Array<{ command: string; url: string }> };
    settings: { interactivity: { request_url: string } };
    oauth_config: { scopes: { bot: string[] } };
  };
  expect(manifest.features.slash_commands[0]?.command).toBe('/oom');
  expect(manifest.features.slash_commands[0]?.url).toMatch(/\/slack\/events$/);
  expect(manifest.settings.interactivity.request_url).toMatch(/\/slack\/events$/);
  // What the bot calls: chat.postMessage/update, conversations.join, files.uploadV2, usergroups.users.list.
  expect(manifest.oauth_config.scopes.bot).toEqual(
    expect.arrayContaining([
      'chat:write',
      'channels:join',
      'commands',
      'files:write',
      'usergroups:read',
      'channels:history',
      'groups:history',
    ]),
  );
});
