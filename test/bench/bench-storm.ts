// `npm run bench:storm`: an OOM storm through the real Alertmanager, against the fake Slack that
// enforces Slack's limits (chat.postMessage about 1/s per channel, Tier 3 chat.update 50/min...).
// 1,000 alerts for 50 Deployments × 20 pods in 20 namespaces, then 200 duplicate deliveries straight
// to the webhook. Run twice: Alertmanager grouping by namespace, then by pod. Prints, per run: the
// parents posted, diagnoses visible per workload (each must be exactly one), the time to the last
// one against the floor (posts needed at 1/s per channel), Slack calls per method and per workload,
// 429s and early re-sends, the webhook's ack p95 for the direct deliveries, and the bot's peak RSS.
// Targets (issues 8, 9): last diagnosis within 1.3 × the floor; at most 3 writes per workload plus
// 1 per parent per 30 s; 0 early re-sends; ack p95 < 50 ms; RSS < 200 MiB; parents at most one per
// namespace (or one storm message plus the incidents opened before it folded).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startAlertmanager } from '../support/alertmanager';
import { ALERT_CHANNEL, ALERTMANAGER_TOKEN, botEnvironment, startServices } from '../support/bot-harness';
import { demoSpecs, type ScenarioSpec } from '../support/scenarios';
import { freePort, waitForHttp } from '../support/services';

const WORKLOADS = 50;
const PODS_PER_WORKLOAD = 20;
const NAMESPACES = 20;
const DUPLICATES = 200;

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0; // the bot has exited: the run reports it
  }
}

function startFlags(): string[] {
  const pkg = JSON.parse(
    readFileSync(join(resolve(__dirname, '..', '..', '..'), 'package.json'), 'utf8'),
  ) as {
    scripts: Record<string, string>;
  };
  return (pkg.scripts.start ?? '').split(/\s+/).filter((word) => word.startsWith('--'));
}

function specs(): ScenarioSpec[] {
  const base = demoSpecs().filter((s) => s.ending === 'oom');
  return Array.from({ length: WORKLOADS }, (_, i) => {
    const spec = base[i % base.length] as ScenarioSpec;
    const tag = `w${String(i).padStart(2, '0')}`;
    return {
      ...spec,
      id: `${spec.id}-${tag}`,
      app: `${spec.app}-${tag}`,
      namespace: `team-${i % NAMESPACES}`,
    };
  });
}

async function run(groupBy: 'namespace' | 'pod'): Promise<void> {
  const services = await startServices(specs(), {
    scrapeMs: 60_000,
    keepLabels: ['namespace', 'pod', 'container', 'id', 'resource', 'unit', 'uid'],
  });
  const port = await freePort();
  const cli = join(resolve(__dirname, '..', '..', '..'), 'dist', 'cli.js');
  const env = { ...process.env, ...botEnvironment(services, { PORT: String(port), LOG_LEVEL: 'warn' }) };
  const bot = spawn(process.execPath, [...startFlags(), cli, 'serve', '--role', 'all'], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let stopping = false;
  bot.on('exit', (code, signal) => {
    // Stopped by us, it exits 0 after its graceful shutdown (or dies of the SIGTERM itself).
    if (!stopping) console.log(`THE BOT EXITED during the storm (code ${code}, signal ${signal})`);
  });
  const alertmanager = await startAlertmanager({
    webhookUrl: `http://127.0.0.1:${port}/alertmanager`,
    bearerToken: ALERTMANAGER_TOKEN,
    groupBy:
      groupBy === 'namespace' ? ['cluster', 'namespace', 'alertname'] : ['alertname', 'namespace', 'pod'],
  });
  try {
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, { timeoutMs: 30_000 });
    // 20 pods per workload: the scenario's pod and 19 replicas of it under other names.
    const pods: Array<{ namespace: string; pod: string; container: string; app: string }> = [];
    for (const [i, scenario] of services.cluster.scenarios.entries()) {
      const { namespace, pod, container } = scenario.target;
      const app = specs()[i]!.app;
      pods.push({ namespace, pod, container, app });
      const original = services.cluster.kube.get('Pod', namespace, pod) as {
        metadata: Record<string, unknown>;
      };
      for (let k = 1; k < PODS_PER_WORKLOAD; k++) {
        const name = `${pod}-r${k}`;
        services.cluster.kube.put('Pod', {
          ...original,
          metadata: { ...original.metadata, name, uid: randomUUID() },
        });
        pods.push({ namespace, pod: name, container, app });
      }
    }
    const readyRss = rssOf(bot.pid as number);
    let peakRss = readyRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssOf(bot.pid as number))), 100);
    const started = performance.now();
    const startsAt = new Date(Date.now() - 60_000).toISOString();
    for (let i = 0; i < pods.length; i += 100)
      await alertmanager.postAlerts(
        pods.slice(i, i + 100).map((p) => ({
          labels: {
            alertname: 'ContainerOOMKilled',
            namespace: p.namespace,
            pod: p.pod,
            container: p.container,
          },
          annotations: { summary: `${p.pod} was OOM-killed` },
          startsAt,
        })),
      );
    // Duplicate deliveries straight to the webhook, as a retrying Alertmanager would send them.
    const acks: number[] = [];
    for (let d = 0; d < DUPLICATES; d++) {
      const p = pods[(d * 7) % pods.length]!;
      const labels = {
        alertname: 'ContainerOOMKilled',
        namespace: p.namespace,
        pod: p.pod,
        container: p.container,
      };
      const body = JSON.stringify({
        receiver: 'oomdoctor',
        status: 'firing',
        alerts: [
          {
            status: 'firing',
            labels,
            annotations: {},
            startsAt,
            endsAt: '0001-01-01T00:00:00Z',
            generatorURL: '',
            fingerprint: `dup${d % 20}`,
          },
        ],
        groupLabels: labels,
        commonLabels: labels,
        commonAnnotations: {},
        externalURL: 'http://alertmanager.local',
        version: '4',
        groupKey: `{}:{pod="${p.pod}"}`,
        truncatedAlerts: 0,
      });
      const t0 = performance.now();
      const response = await fetch(`http://127.0.0.1:${port}/alertmanager`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ALERTMANAGER_TOKEN}` },
        body,
      });
      acks.push(performance.now() - t0);
      await response.arrayBuffer();
    }
    const apps = [...new Set(pods.map((p) => p.app))];
    const diagnosesOf = (app: string) =>
      services.slack.messages.filter(
        (m) =>
          m.thread_ts &&
          JSON.stringify(m.blocks ?? []).includes('oom_rerun') &&
          JSON.stringify(m.blocks).includes(app),
      ).length;
    const chartsOf = (app: string) =>
      services.slack.files.filter((f) => f.filename.startsWith(`memory-${app}`)).length;
    // Only each workload's first pod has a memory series in the bench's Prometheus (its 19 copies
    // exist in the API server only): a workload whose diagnosis names a copy has no chart to show.
    const firstPodOf = new Map(pods.filter((p) => !/-r\d+$/.test(p.pod)).map((p) => [p.app, p.pod]));
    const diagnosedFirstPod = (app: string) =>
      services.slack.messages.some((m) => {
        if (!m.thread_ts) return false;
        const json = JSON.stringify(m.blocks ?? []);
        const pod = firstPodOf.get(app) ?? '';
        return json.includes('oom_rerun') && new RegExp(`${pod}(?!-r\\d)`).test(json);
      });
    let lastAt = 0;
    let chartsAt = 0;
    await services.slack
      .waitFor(() => {
        const done = apps.every((app) => diagnosesOf(app) >= 1);
        if (done && !lastAt) lastAt = performance.now();
        const charted = apps.every((app) => !diagnosedFirstPod(app) || chartsOf(app) >= 1);
        if (charted && !chartsAt) chartsAt = performance.now();
        return done && charted;
      }, 600_000)
      .catch(() => undefined);
    await new Promise((r) => setTimeout(r, 35_000)); // the last parent edits (30 s apart) land
    clearInterval(sampler);
    const elapsed = ((lastAt || performance.now()) - started) / 1000;
    const stats = services.slack.stats();
    const parents = services.slack.messages.filter(
      (m) => m.channel === ALERT_CHANNEL && !m.thread_ts && m.user !== 'U0PERSON',
    );
    const counts = apps.map(diagnosesOf);
    const posts = stats.callsByMethod['chat.postMessage'] ?? 0;
    const floor = parents.length + WORKLOADS; // posts needed, at 1 a second in one channel
    const writes =
      (stats.callsByMethod['chat.update'] ?? 0) +
      posts +
      (stats.callsByMethod['files.getUploadURLExternal'] ?? 0) +
      (stats.callsByMethod['files.completeUploadExternal'] ?? 0);
    console.log(
      `\n== Alertmanager grouping by ${groupBy}: ${pods.length} alerts, ${WORKLOADS} workloads, ${NAMESPACES} namespaces`,
    );
    console.log(`parent messages posted: ${parents.length}`);
    console.log(
      `diagnoses visible per workload: ${counts.filter((c) => c === 1).length} exactly once, ${counts.filter((c) => c === 0).length} none, ${counts.filter((c) => c > 1).length} more than once`,
    );
    console.log(
      `last diagnosis visible after ${elapsed.toFixed(1)} s; floor ${floor} s (${(elapsed / floor).toFixed(2)} × floor; target ≤ 1.3)`,
    );
    const charted = apps.filter(diagnosedFirstPod);
    const charts = charted.map(chartsOf);
    const uncharted = apps.filter((app) => !diagnosedFirstPod(app)).map(chartsOf);
    console.log(
      `charts, of the ${charted.length} workloads whose diagnosed pod has a memory series: ${charts.filter((c) => c === 1).length} exactly one, ${charts.filter((c) => c === 0).length} none, ${charts.filter((c) => c > 1).length} more than one; the last after ${chartsAt ? ((chartsAt - started) / 1000).toFixed(1) : '(never)'} s. The other ${uncharted.length} (a copy without a series was diagnosed): ${uncharted.filter((c) => c > 0).length} with a chart`,
    );
    console.log(`Slack calls by method: ${JSON.stringify(stats.callsByMethod)}`);
    // The target: at most 3 writes per workload (its reply, its chart's two calls) plus, per parent,
    // its post and one edit per 30 s while the storm lasts.
    const parentTs = new Set(parents.map((m) => m.ts));
    const updates = services.slack.callsTo('chat.update').filter((c) => c.status === 200);
    const parentEdits = updates.filter((c) => parentTs.has(String(c.args.ts))).length;
    const firstParentAt = Math.min(
      ...services.slack
        .callsTo('chat.postMessage')
        .filter((c) => c.status === 200 && !c.args.thread_ts)
        .map((c) => c.at),
    );
    const lastCallAt = Math.max(...services.slack.calls.map((c) => c.at));
    const parentAllowance = parents.length * (1 + Math.ceil((lastCallAt - firstParentAt) / 30_000));
    const workloadWrites = writes - parentEdits - parents.length;
    console.log(
      `Slack writes per workload: ${(workloadWrites / WORKLOADS).toFixed(2)} (target ≤ 3); parents: ${parents.length} posts + ${parentEdits} edits (allowance ${parentAllowance}: 1 per parent per 30 s); all writes ${writes}`,
    );
    const postTimes = services.slack
      .callsTo('chat.postMessage')
      .filter((c) => c.status === 200)
      .map((c) => c.at)
      .sort((a, b) => a - b);
    const benchStart = Date.now() - (performance.now() - started);
    const gaps = postTimes.slice(1).map((t, i) => t - postTimes[i]!);
    console.log(
      `posts: first ${((postTimes[0]! - benchStart) / 1000).toFixed(1)} s after the first alert, last ${((postTimes.at(-1)! - benchStart) / 1000).toFixed(1)} s; gaps over 1.5 s: ${gaps.filter((g) => g > 1500).length} (${(gaps.filter((g) => g > 1500).reduce((a, b) => a + b, 0) / 1000).toFixed(1)} s in all)`,
    );
    console.log(
      `429s by method: ${JSON.stringify(stats.rateLimitedByMethod)}; early re-sends: ${stats.earlyResends.length}`,
    );
    console.log(
      `webhook ack (direct deliveries): p50 ${percentile(acks, 0.5).toFixed(1)} ms, p95 ${percentile(acks, 0.95).toFixed(1)} ms`,
    );
    console.log(
      `bot peak RSS: ${(peakRss / 1048576).toFixed(0)} MiB (${(readyRss / 1048576).toFixed(0)} MiB when it first answered /readyz)`,
    );
  } finally {
    stopping = true;
    bot.kill('SIGTERM');
    await alertmanager.stop();
    await services.stop();
  }
}

async function main(): Promise<void> {
  const runs = (process.env.BENCH_GROUP_BY ?? 'namespace,pod').split(',') as Array<'namespace' | 'pod'>;
  for (const groupBy of runs) await run(groupBy);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
