// The shipped ContainerOOMKilled rule, run by promtool against the series kube-state-metrics and
// cAdvisor export for each way a container is killed by OOM: it must fire soon after the kill
// whatever the restart policy, once per kill, with the labels the bot reads.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { ensureDebianPackages, makeTempDir, requireBinary, type TempDir } from '../../support/services';

const run = promisify(execFile);
const rules = join(__dirname, '..', '..', '..', 'deploy', 'prometheus-rules.yaml');
let tmp: TempDir;

beforeAll(async () => {
  await ensureDebianPackages([{ pkg: 'prometheus', binary: 'promtool' }]);
  tmp = makeTempDir('oomdoctor-oom-rule');
});
afterAll(async () => {
  await tmp?.remove();
});

const KSM = 'job="kube-state-metrics"';

function fired(namespace: string, pod: string, container: string) {
  return {
    exp_labels: { severity: 'warning', namespace, pod, container },
    exp_annotations: {
      summary: `Container ${container} in ${namespace}/${pod} was OOMKilled`,
      description:
        'The container hit its memory limit and was killed by the kernel (exit 137). oomdoctor answers this alert in Slack with the cause and a fix.',
    },
  };
}

async function promtoolTest(
  name: string,
  inputSeries: Array<{ series: string; values: string }>,
  checks: Array<{ at: string; alerts: Array<ReturnType<typeof fired>> }>,
): Promise<string> {
  const file = join(tmp.path, `${name}.yaml`);
  writeFileSync(
    file,
    stringify({
      rule_files: [rules],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: inputSeries,
          alert_rule_test: checks.map((c) => ({
            eval_time: c.at,
            alertname: 'ContainerOOMKilled',
            exp_alerts: c.alerts,
          })),
        },
      ],
    }),
  );
  const result = await run(requireBinary('promtool'), ['test', 'rules', file]).catch(
    (error: { stdout?: string; stderr?: string }) => ({
      stdout: `${error.stdout ?? ''}${error.stderr ?? ''}`,
    }),
  );
  return result.stdout;
}

it('fires for a Job pod that never restarts (restartPolicy Never), and stops 10 minutes later', async () => {
  const out = await promtoolTest(
    'job-never',
    [
      // Killed at minute 5 (`_x5`: no sample at minutes 0-4): the container stays terminated; no
      // restart, no last state.
      {
        series: `kube_pod_container_status_restarts_total{namespace="batch",pod="report-28711-x7k",container="report",${KSM}}`,
        values: '0x40',
      },
      {
        series: `kube_pod_container_status_terminated_reason{namespace="batch",pod="report-28711-x7k",container="report",reason="OOMKilled",${KSM}}`,
        values: '_x5 1x35',
      },
      // Another Job's pod failed with an error: no alert.
      {
        series: `kube_pod_container_status_terminated_reason{namespace="batch",pod="etl-1-abc",container="etl",reason="Error",${KSM}}`,
        values: '_x5 1x35',
      },
    ],
    [
      { at: '4m', alerts: [] },
      { at: '5m', alerts: [fired('batch', 'report-28711-x7k', 'report')] },
      { at: '14m', alerts: [fired('batch', 'report-28711-x7k', 'report')] },
      { at: '15m', alerts: [] },
    ],
  );
  expect(out).toContain('SUCCESS');
});

it('fires within a minute for a kill one minute after the pod started, not 10 minutes later', async () => {
  const out = await promtoolTest(
    'young-pod',
    [
      // Started at minute 0, OOM-killed and restarted at minute 1.
      {
        series: `kube_pod_container_status_restarts_total{namespace="shop",pod="api-new",container="api",${KSM}}`,
        values: '0 1x30',
      },
      {
        series: `kube_pod_container_status_last_terminated_reason{namespace="shop",pod="api-new",container="api",reason="OOMKilled",${KSM}}`,
        values: '_ 1x30',
      },
      // Killed before kube-state-metrics first saw it: its first sample already counts a restart.
      {
        series: `kube_pod_container_status_restarts_total{namespace="shop",pod="api-newer",container="api",${KSM}}`,
        values: '_x3 1x27',
      },
      {
        series: `kube_pod_container_status_last_terminated_reason{namespace="shop",pod="api-newer",container="api",reason="OOMKilled",${KSM}}`,
        values: '_x3 1x27',
      },
    ],
    [
      { at: '1m', alerts: [fired('shop', 'api-new', 'api')] },
      { at: '3m', alerts: [fired('shop', 'api-new', 'api'), fired('shop', 'api-newer', 'api')] },
      { at: '14m', alerts: [] },
    ],
  );
  expect(out).toContain('SUCCESS');
});

it('fires once for a restart after a kill, though the container was briefly seen terminated too', async () => {
  const out = await promtoolTest(
    'restart-once',
    [
      {
        series: `kube_pod_container_status_restarts_total{namespace="shop",pod="web-1",container="web",${KSM}}`,
        values: '0x20 1x30',
      },
      {
        series: `kube_pod_container_status_last_terminated_reason{namespace="shop",pod="web-1",container="web",reason="OOMKilled",${KSM}}`,
        values: '_x20 1x30',
      },
      {
        series: `kube_pod_container_status_terminated_reason{namespace="shop",pod="web-1",container="web",reason="OOMKilled",${KSM}}`,
        values: '_x20 1 _x30',
      },
      {
        series: `container_oom_events_total{namespace="shop",pod="web-1",container="web",id="/kubepods/a"}`,
        values: '0x19 1',
      },
    ],
    [
      { at: '18m', alerts: [] },
      { at: '21m', alerts: [fired('shop', 'web-1', 'web')] },
      { at: '40m', alerts: [] },
    ],
  );
  expect(out).toContain('SUCCESS');
});

it('fires when the kernel kills a process inside a container that keeps running', async () => {
  const out = await promtoolTest(
    'inside',
    [
      {
        series: `kube_pod_container_status_restarts_total{namespace="ci",pod="runner-0",container="runner",${KSM}}`,
        values: '0x40',
      },
      {
        series: `container_oom_events_total{namespace="ci",pod="runner-0",container="runner",id="/kubepods/b"}`,
        values: '0x10 1x30',
      },
      // The pod-level cgroup (container="") is not a container: never alerted on its own.
      {
        series: `container_oom_events_total{namespace="ci",pod="runner-0",container="",id="/kubepods/b0"}`,
        values: '0x10 1x30',
      },
    ],
    [
      { at: '10m', alerts: [] },
      { at: '12m', alerts: [fired('ci', 'runner-0', 'runner')] },
      { at: '25m', alerts: [] },
    ],
  );
  expect(out).toContain('SUCCESS');
});
