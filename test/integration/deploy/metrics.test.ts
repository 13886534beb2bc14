// GET /metrics as Prometheus sees it: a real Prometheus scrapes a running bot, and the bot's own
// alert rules are checked and exercised by promtool.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import type { RunningBot } from '../../../src/bot/app';
import { startServices, startTestBot, type Services } from '../../support/bot-harness';
import { startPrometheus, type RunningPrometheus } from '../../support/prometheus';
import { demoSpecs } from '../../support/scenarios';
import { makeTempDir, requireBinary, sleep, type TempDir } from '../../support/services';

jest.setTimeout(60_000);
const run = promisify(execFile);
const rules = join(__dirname, '..', '..', '..', 'deploy', 'prometheus-rules-oomdoctor.yaml');

let services: Services;
let bot: RunningBot;
let prometheus: RunningPrometheus;
let tmp: TempDir;

beforeAll(async () => {
  tmp = makeTempDir('oomdoctor-metrics');
  services = await startServices(demoSpecs().slice(0, 1));
  ({ bot } = await startTestBot(services, { role: 'web' }));
  prometheus = await startPrometheus({ series: [], scrapeTargets: [`127.0.0.1:${bot.port}`] });
});

afterAll(async () => {
  await bot?.stop();
  await prometheus?.stop();
  await services?.stop();
  await tmp?.remove();
});

async function query(
  expr: string,
): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const response = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await response.json()) as {
    data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  return body.data.result;
}

/** Polls until the query returns the value, or fails with what it last returned. */
async function expectEventually(expr: string, value: string): Promise<void> {
  let last: unknown = null;
  for (let i = 0; i < 100; i++) {
    const result = await query(expr);
    last = result;
    if (result.length === 1 && result[0]?.value[1] === value) return;
    await sleep(200);
  }
  throw new Error(`${expr}: expected one series with value ${value}, last got ${JSON.stringify(last)}`);
}

it('serves the Prometheus text format, and Prometheus scrapes it', async () => {
  const wrongToken = await fetch(`${bot.url}/alertmanager`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer wrong' },
    body: '{}',
  });
  expect(wrongToken.status).toBe(401);
  expect((await fetch(`${bot.url}/readyz`)).status).toBe(200);

  const metrics = await fetch(`${bot.url}/metrics`);
  expect(metrics.status).toBe(200);
  expect(metrics.headers.get('content-type')).toContain('text/plain');
  const text = await metrics.text();
  for (const name of [
    'oomdoctor_diagnoses_total',
    'oomdoctor_diagnosis_duration_seconds',
    'oomdoctor_jobs_total',
    'oomdoctor_queue_waiting_jobs',
    'oomdoctor_queue_oldest_waiting_seconds',
    'oomdoctor_slack_calls_total',
    'oomdoctor_kubernetes_request_errors_total',
    'oomdoctor_prometheus_request_errors_total',
    'oomdoctor_fixes_total',
    'oomdoctor_webhook_requests_total',
    'oomdoctor_readiness_check_up',
    'oomdoctor_process_resident_memory_bytes',
  ])
    expect(text).toContain(`# TYPE ${name} `);

  await expectEventually('up{job="scrape"}', '1');
  await expectEventually('oomdoctor_webhook_requests_total{status="401"}', '1');
  await expectEventually('oomdoctor_readiness_check_up{check="queue"}', '1');
  await expectEventually('oomdoctor_queue_waiting_jobs', '0');
});

it("ships the bot's own alert rules, which promtool accepts", async () => {
  const { stdout } = await run(requireBinary('promtool'), ['check', 'rules', rules]);
  expect(stdout).toContain('SUCCESS: 4 rules found');
});

it('alerts when jobs fail, the backlog ages, Slack errs, or alerts go unanswered', async () => {
  const file = join(tmp.path, 'self-rules-test.yaml');
  writeFileSync(
    file,
    stringify({
      rule_files: [rules],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            // Two diagnose-alert jobs given up at minute 10; command jobs all completed.
            { series: 'oomdoctor_jobs_total{kind="diagnose-alert",outcome="failed"}', values: '0x10 2x30' },
            { series: 'oomdoctor_jobs_total{kind="command",outcome="completed"}', values: '0+1x40' },
            // The oldest job waits longer and longer from minute 5.
            { series: 'oomdoctor_queue_oldest_waiting_seconds', values: '0x5 60+60x35' },
            // Slack answers 429 twice a minute from minute 20.
            {
              series: 'oomdoctor_slack_calls_total{method="chat.postMessage",outcome="rate_limited"}',
              values: '0x20 2+2x20',
            },
            {
              series: 'oomdoctor_slack_calls_total{method="chat.postMessage",outcome="ok"}',
              values: '0+5x40',
            },
            // Alerts keep arriving; answered until minute 10, then never again.
            { series: 'oomdoctor_alerts_received_total', values: '0+1x60' },
            { series: 'oomdoctor_alerts_answered_total', values: '0+1x10 10x50' },
          ],
          alert_rule_test: [
            { eval_time: '9m', alertname: 'OomdoctorJobsFailing', exp_alerts: [] },
            {
              eval_time: '17m',
              alertname: 'OomdoctorJobsFailing',
              exp_alerts: [
                {
                  exp_labels: { severity: 'warning', kind: 'diagnose-alert' },
                  exp_annotations: {
                    summary: 'oomdoctor gave up on 2 diagnose-alert job(s) in 15 minutes',
                    description:
                      "Jobs fail after their retries when the Kubernetes API, Prometheus or Slack keeps refusing. The bot's logs (component worker) say why, one line per job.",
                  },
                },
              ],
            },
            // 300 s is passed at minute 10; the alert waits 5 more minutes.
            { eval_time: '14m', alertname: 'OomdoctorBacklogGrowing', exp_alerts: [] },
            {
              eval_time: '16m',
              alertname: 'OomdoctorBacklogGrowing',
              exp_alerts: [
                {
                  exp_labels: { severity: 'warning' },
                  exp_annotations: {
                    summary: "oomdoctor's oldest waiting job has waited 11m 0s",
                    description:
                      'Diagnoses are queued faster than workers finish them, or no worker runs. Check that worker pods are ready, and add workers or raise WORKER_CONCURRENCY.',
                  },
                },
              ],
            },
            { eval_time: '19m', alertname: 'OomdoctorSlackErrors', exp_alerts: [] },
            {
              eval_time: '35m',
              alertname: 'OomdoctorSlackErrors',
              exp_alerts: [
                {
                  exp_labels: { severity: 'warning' },
                  exp_annotations: {
                    summary: "oomdoctor's calls to Slack fail (20 in 10 minutes)",
                    description:
                      "Rate limits (outcome rate_limited) or errors (a revoked token, a missing scope, a channel the bot was removed from). The bot's logs (component slack) name the method and error.",
                  },
                },
              ],
            },
            // The last answer leaves the 30-minute window at minute 40; the alert waits 10 more.
            { eval_time: '45m', alertname: 'OomdoctorAlertNotAnswered', exp_alerts: [] },
            {
              eval_time: '52m',
              alertname: 'OomdoctorAlertNotAnswered',
              exp_alerts: [
                {
                  exp_labels: { severity: 'critical' },
                  exp_annotations: {
                    summary: 'oomdoctor received OOM alerts but posted no diagnosis in 30 minutes',
                    description:
                      "Alerts are queued but nothing reaches Slack: workers down, Slack refusing, or jobs stuck. See OomdoctorJobsFailing and OomdoctorBacklogGrowing, and the bot's logs.",
                  },
                },
              ],
            },
          ],
        },
      ],
    }),
  );
  const result = await run(requireBinary('promtool'), ['test', 'rules', file]).catch(
    (error: { stdout?: string; stderr?: string }) => ({
      stdout: `${error.stdout ?? ''}${error.stderr ?? ''}`,
    }),
  );
  expect(result.stdout).toContain('SUCCESS');
});
