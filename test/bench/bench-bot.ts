// `npm run bench:bot`: 100 alerts for 100 different workloads at 5 per second, posted as Alertmanager
// posts them, against the local services (real Redis and Prometheus, fake Kubernetes API and Slack).
// Prints: the webhook's acknowledgement time, the time from the POST to the diagnosis in the thread
// (p50, p95) and the last one against the floor Slack's rate limits set (about one post a second in
// a channel), and the bot's resident memory. Targets (issue 3): ack p95 < 50 ms, diagnosis p95 < 2 s
// (only where Slack allows it: 5 alerts a second into one channel queue for Slack whatever the bot
// does, so there the last diagnosis is held to 1.3 × the floor, as in bench:storm), resident memory
// < 150 MiB. The bot runs as its own process, as in production.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ALERTMANAGER_TOKEN, botEnvironment, startServices } from '../support/bot-harness';
import { demoSpecs, type ScenarioSpec } from '../support/scenarios';
import { freePort, waitForHttp } from '../support/services';

const ALERTS = Number(process.env.BENCH_ALERTS ?? 100);
const RATE_PER_SECOND = 5;

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

/** The node flags of `npm start`, so the bench measures the bot as it is run. */
function startFlags(): string[] {
  const pkg = JSON.parse(
    readFileSync(join(resolve(__dirname, '..', '..', '..'), 'package.json'), 'utf8'),
  ) as { scripts: Record<string, string> };
  const start = pkg.scripts.start ?? '';
  return start.split(/\s+/).filter((word) => word.startsWith('--'));
}

function specs(): ScenarioSpec[] {
  const base = demoSpecs().filter((s) => s.ending === 'oom');
  return Array.from({ length: ALERTS }, (_, i) => {
    const spec = base[i % base.length] as ScenarioSpec;
    return { ...spec, id: `${spec.id}-${i}`, app: `${spec.app}-${i}`, namespace: `team-${i % 10}` };
  });
}

async function main(): Promise<void> {
  console.log(`oomdoctor bot bench: ${ALERTS} alerts for ${ALERTS} workloads at ${RATE_PER_SECOND}/s\n`);
  const setupStarted = performance.now();
  // One sample a minute and only the labels the engine reads: 100 full histories fit in one backfill.
  const services = await startServices(specs(), {
    scrapeMs: 60_000,
    keepLabels: ['namespace', 'pod', 'container', 'id', 'resource', 'unit'],
  });
  console.log(
    `services ready in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s (Prometheus with ${ALERTS} 24h histories, Redis, fake Kubernetes API and Slack)`,
  );
  // The bot runs as `npm start` runs it: the same node flags (read from package.json), its own process.
  const flags = startFlags();
  const split = process.env.BENCH_SPLIT === '1';
  const port = await freePort();
  const cli = join(resolve(__dirname, '..', '..', '..'), 'dist', 'cli.js');
  const env = { ...process.env, ...botEnvironment(services, { PORT: String(port), LOG_LEVEL: 'warn' }) };
  const bot = spawn(process.execPath, [...flags, cli, 'serve', '--role', split ? 'web' : 'all'], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const workerPort = await freePort();
  const worker = split
    ? spawn(process.execPath, [...flags, cli, 'serve', '--role', 'worker'], {
        env: { ...env, PORT: String(workerPort) },
        stdio: ['ignore', 'ignore', 'inherit'],
      })
    : null;
  console.log(
    `bot: node ${flags.join(' ')} dist/cli.js serve --role ${split ? 'web, and a second process with --role worker' : 'all'}`,
  );
  try {
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, { timeoutMs: 30_000 });
    if (worker) await waitForHttp(`http://127.0.0.1:${workerPort}/readyz`, { timeoutMs: 30_000 });
    const idle = memoryOf(bot.pid as number);
    const workerIdle = worker ? memoryOf(worker.pid as number) : null;
    let workerPeak = workerIdle?.rss ?? 0;
    const sentAt = new Map<string, number>();
    const acks: number[] = [];
    const scenarios = services.cluster.scenarios;
    const started = performance.now();
    let peakRss = idle.rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, memoryOf(bot.pid as number).rss);
      if (worker) workerPeak = Math.max(workerPeak, memoryOf(worker.pid as number).rss);
    }, 100);
    await Promise.all(
      scenarios.map(async (scenario, i) => {
        await new Promise((r) => setTimeout(r, (i * 1000) / RATE_PER_SECOND));
        const { namespace, pod, container } = scenario.target;
        const labels = { alertname: 'ContainerOOMKilled', namespace, pod, container, severity: 'warning' };
        const body = JSON.stringify({
          receiver: 'oomdoctor',
          status: 'firing',
          alerts: [
            {
              status: 'firing',
              labels,
              annotations: {},
              startsAt: new Date(Date.now() - 60_000).toISOString(),
              endsAt: '0001-01-01T00:00:00Z',
              generatorURL: '',
              fingerprint: `bench${i.toString(16).padStart(11, '0')}`,
            },
          ],
          groupLabels: labels,
          commonLabels: labels,
          commonAnnotations: {},
          externalURL: 'http://alertmanager.local',
          version: '4',
          groupKey: `{}:{alertname="ContainerOOMKilled", namespace="${namespace}", pod="${pod}"}`,
          truncatedAlerts: 0,
        });
        const sent = Date.now();
        const t0 = performance.now();
        const response = await fetch(`http://127.0.0.1:${port}/alertmanager`, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            Authorization: `Bearer ${ALERTMANAGER_TOKEN}`,
            'User-Agent': 'Alertmanager/0.25.0',
          },
          body,
        });
        acks.push(performance.now() - t0);
        if (response.status !== 200) throw new Error(`webhook answered ${response.status} for ${pod}`);
        sentAt.set(pod, sent);
      }),
    );
    // The diagnosis is in the thread when a message with the Re-run button is posted or edited in.
    const done = () =>
      services.slack.calls.filter(
        (c) =>
          (c.method === 'chat.update' || c.method === 'chat.postMessage') &&
          c.status === 200 &&
          JSON.stringify(c.args.blocks ?? '').includes('oom_rerun'),
      );
    await services.slack
      .waitFor(
        () =>
          new Set(done().map((c) => JSON.stringify(c.args.blocks).match(/"pod\\":\\"([^\\]+)\\"/)?.[1]))
            .size >= ALERTS,
        120_000,
      )
      .catch(() => undefined);
    clearInterval(sampler);
    const latencies: number[] = [];
    const firstSent = Math.min(...sentAt.values());
    let lastVisible = firstSent;
    for (const [pod, sent] of sentAt) {
      const first = done().find((c) => JSON.stringify(c.args.blocks).includes(pod));
      if (!first) continue;
      latencies.push(first.at - sent);
      lastVisible = Math.max(lastVisible, first.at);
    }
    const total = (performance.now() - started) / 1000;
    const after = memoryOf(bot.pid as number);
    console.log(
      `\nwebhook acknowledged: p50 ${percentile(acks, 0.5).toFixed(1)} ms, p95 ${percentile(acks, 0.95).toFixed(1)} ms, max ${Math.max(...acks).toFixed(1)} ms   (target: p95 under 50 ms)`,
    );
    console.log(
      `POST to diagnosis in the thread: ${latencies.length}/${ALERTS} posted, p50 ${percentile(latencies, 0.5).toFixed(0)} ms, p95 ${percentile(latencies, 0.95).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms`,
    );
    // Slack lets a channel take about one post a second, thread replies included: alerts arriving
    // faster than that queue for Slack whatever the bot does, so the pace is judged against that floor.
    const posts = services.slack.calls.filter((c) => c.method === 'chat.postMessage' && c.status === 200);
    const lastDiagnosis = lastVisible - firstSent;
    console.log(
      `  the last diagnosis came ${(lastDiagnosis / 1000).toFixed(1)} s after the first alert; ${posts.length} posts in the channel at 1 a second need ${posts.length} s (${(lastDiagnosis / 1000 / posts.length).toFixed(2)} × that floor; target ≤ 1.3; the 2 s p95 of issue 3 holds only for alerts slower than 1 a second)`,
    );
    const mib = (n: number) => (n / 2 ** 20).toFixed(0);
    console.log(
      `bot${split ? ' (web role)' : ''} resident memory: ${mib(idle.rss)} MiB idle, ${mib(peakRss)} MiB at the peak of the run (sampled), high-water mark ${mib(after.peak)} MiB   (target: under 150 MiB)`,
    );
    if (worker && workerIdle)
      console.log(
        `worker role resident memory: ${mib(workerIdle.rss)} MiB idle, ${mib(workerPeak)} MiB at the peak (sampled), high-water mark ${mib(memoryOf(worker.pid as number).peak)} MiB`,
      );
    console.log(
      `Slack Web API calls: ${services.slack.calls.length} for ${ALERTS} alerts; run took ${total.toFixed(1)} s`,
    );
  } finally {
    for (const child of [bot, worker]) {
      if (!child) continue;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await services.stop();
  }
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${(error as Error).message}`);
  process.exitCode = 1;
});
