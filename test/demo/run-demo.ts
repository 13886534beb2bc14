// `npm run demo`: a simulated cluster on loopback (the fake Kubernetes API and a real Prometheus with
// generated memory histories), and `oomdoctor diagnose` run on one pod of each verdict and cause.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Diagnosis } from '../../src/core/types';
import { chartInput } from '../../jobs/publish';
import { renderMemoryChartPng } from '../../src/render/chart';
import { diagnosisMessage } from '../../src/slack/blocks';
import { demoSpecs } from '../support/scenarios';
import { startSimulatedCluster } from '../support/simulated-cluster';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');

async function main(): Promise<void> {
  const outDir = resolve(process.env.OOMDOCTOR_DEMO_OUT ?? join(ROOT, '.oomdoctor-demo'));
  mkdirSync(outDir, { recursive: true });
  process.stdout.write(
    'Starting a simulated cluster: a fake Kubernetes API and a real Prometheus with 24h of generated memory history...\n',
  );
  let cluster;
  try {
    cluster = await startSimulatedCluster({ specs: demoSpecs() });
  } catch (error) {
    process.stderr.write(`\nThe demo could not start its services: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  try {
    for (const scenario of cluster.scenarios) {
      const { namespace, pod } = scenario.target;
      const command = [
        'diagnose',
        `${namespace}/${pod}`,
        '--prometheus-url',
        cluster.prometheus.url,
        '--kubeconfig',
        cluster.kubeconfigPath,
      ];
      process.stdout.write(
        `\n${'='.repeat(78)}\n${scenario.spec.title} (expected: ${scenario.spec.expect.verdict}${scenario.spec.expect.topCause ? `, ${scenario.spec.expect.topCause}` : ''})\n$ oomdoctor ${command.join(' ')}\n${'='.repeat(78)}\n`,
      );
      const { stdout } = await run(process.execPath, [CLI, ...command], { maxBuffer: 16 * 2 ** 20 });
      process.stdout.write(stdout);
      // What the Slack bot would post for the same pod: the message as Block Kit JSON, and the chart.
      const json = await run(process.execPath, [CLI, ...command, '--json'], { maxBuffer: 64 * 2 ** 20 });
      const diagnosis = JSON.parse(json.stdout) as Diagnosis;
      const message = diagnosisMessage(diagnosis, {
        applyEnabled: false,
        rerunValue: JSON.stringify(diagnosis.target),
      });
      writeFileSync(
        join(outDir, `${scenario.spec.id}.blocks.json`),
        `${JSON.stringify({ text: message.text, blocks: message.blocks }, null, 2)}\n`,
      );
      if (diagnosis.series.points.length > 1) {
        writeFileSync(
          join(outDir, `${scenario.spec.id}.png`),
          await renderMemoryChartPng(chartInput(diagnosis)),
        );
      }
    }
    process.stdout.write(
      `\nWhat the Slack bot would post for each pod (Block Kit JSON, paste into Slack's Block Kit Builder; and the chart as PNG) is in ${outDir}\n`,
    );
    process.stdout.write(
      `\nDone. Point oomdoctor at your own cluster with: oomdoctor diagnose <namespace>/<pod> --prometheus-url <url>\n`,
    );
  } finally {
    await cluster.stop();
  }
}

void main();
