// `npm run bench`: the engine's figures for a 24h window at the default resolution.
//   1. classification time per diagnosis (classify + recommend over prepared evidence), for the
//      24 h window and for the look-back widened to 7 days (daily cycles)
//   2. HTTP requests per diagnosis (Kubernetes and Prometheus together), also for the worst case: a
//      look-back widened to 7 days of a container with an env var from a ConfigMap
//   3. end-to-end diagnose() time against the local Prometheus and the fake Kubernetes API
// Targets (issue 2): under 5 ms; at most 12 requests; under 1 s.
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import axios from 'axios';
import { KubernetesReader, loadKubeConfig } from '../../src/adapters/kubernetes';
import { PrometheusSource, stepFor } from '../../src/adapters/prometheus';
import { classify } from '../../src/core/classify';
import { recommend } from '../../src/core/recommend';
import type { Evidence, Sample } from '../../src/core/types';
import { diagnose } from '../../src/diagnose';
import { demoSpecs, generateScenario } from '../support/scenarios';
import { scenarioEvidence } from '../support/scenario-evidence';
import {
  diagnosedEvidence,
  generateTimeShape,
  HISTORY_MS,
  timeShapeCases,
} from '../support/scenarios-time-shapes';
import { startSimulatedCluster, type SimulatedCluster } from '../support/simulated-cluster';

const WINDOW = 24 * 3_600_000;
const run = promisify(execFile);

function stats(values: number[]): { mean: number; p50: number; p95: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return {
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    p50: at(0.5),
    p95: at(0.95),
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 0)} ms`;

/** Downsamples a history to the step Prometheus would answer with, keeping each step's peak. */
function atDefaultResolution(samples: Sample[], stepMs: number): Sample[] {
  const byStep = new Map<number, number>();
  for (const s of samples) {
    const at = Math.ceil(s.at / stepMs) * stepMs;
    byStep.set(at, Math.max(byStep.get(at) ?? 0, s.value));
  }
  return [...byStep.entries()].sort((a, b) => a[0] - b[0]).map(([at, value]) => ({ at, value }));
}

/**
 * classify + recommend over prepared evidence, warmed up first; the figures of every run. Each run
 * gets its own evidence object, as each diagnosis does: what the engine works out once per evidence
 * (the lifetimes, the days) is shared by classify and recommend, never carried from one run to the next.
 */
function timeClassification(evidences: Evidence[], rounds: number): number[] {
  const once = (e: Evidence) => {
    const fresh = { ...e };
    recommend(fresh, classify(fresh));
  };
  for (let i = 0; i < 50; i++) for (const e of evidences) once(e); // warm-up
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const e of evidences) {
      const started = performance.now();
      once(e);
      times.push(performance.now() - started);
    }
  }
  return times;
}

/** The default 24 h window at its step, one history per demo scenario. */
async function dayEvidence(now: number): Promise<Evidence[]> {
  const stepMs = stepFor(WINDOW, 1440);
  return Promise.all(
    demoSpecs().map(async (spec, i) => {
      const scenario = generateScenario(spec, { now, windowMs: WINDOW, scrapeMs: 30_000, seed: 11 + i });
      const evidence = await scenarioEvidence(scenario, { start: now - WINDOW, end: now });
      if (evidence.metrics)
        evidence.metrics = {
          ...evidence.metrics,
          workingSet: atDefaultResolution(evidence.metrics.workingSet, stepMs),
          stepMs,
        };
      return evidence;
    }),
  );
}

/**
 * The widened look-back: the labelled time shapes (daily cycles, a leak under one) whose 24 h window
 * is ambiguous, as diagnose() widens them to 7 days at the coarser step.
 */
async function weekEvidence(now: number): Promise<Evidence[]> {
  const widened: Evidence[] = [];
  for (const c of timeShapeCases(now)) {
    if (!c.expectWidened) continue;
    const { evidence, widened: wasWidened } = await diagnosedEvidence(generateTimeShape(c, now), now);
    if (wasWidened) widened.push(evidence);
  }
  return widened;
}

function printClassification(label: string, evidences: Evidence[], times: number[]): void {
  const s = stats(times);
  const metrics = evidences[0]?.metrics;
  const points = metrics?.workingSet.length ?? 0;
  console.log(
    `  ${label} (${points} points, step ${(metrics?.stepMs ?? 0) / 1000}s), ${times.length} runs over ${evidences.length} histories:`,
  );
  console.log(
    `    mean ${ms(s.mean)}, p50 ${ms(s.p50)}, p95 ${ms(s.p95)}, max ${ms(s.max)}   (target: under 5 ms p95)`,
  );
}

async function classifierTime(): Promise<void> {
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  const day = await dayEvidence(now);
  const week = await weekEvidence(now);
  if (week.length === 0) throw new Error('no time shape was widened: the 7-day path was not measured');
  console.log('classification (classify + recommend) per diagnosis:');
  printClassification('24 h history', day, timeClassification(day, 200));
  printClassification('7 d widened look-back', week, timeClassification(week, 60));
}

/** The engine's adapters on the simulated cluster, with Prometheus' requests counted. */
function countedDeps(cluster: SimulatedCluster) {
  let count = 0;
  const http = axios.create({ baseURL: cluster.prometheus.url, timeout: 10_000 });
  http.interceptors.request.use((config) => {
    count++;
    return config;
  });
  const deps = {
    cluster: new KubernetesReader(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath })),
    metrics: new PrometheusSource({ url: cluster.prometheus.url, http }),
  };
  return { deps, prometheusRequests: () => count };
}

async function endToEnd(): Promise<void> {
  const cluster = await startSimulatedCluster({ specs: demoSpecs() });
  try {
    const { deps, prometheusRequests } = countedDeps(cluster);
    const requests: number[] = [];
    const times: number[] = [];
    for (let round = 0; round < 6; round++) {
      for (const scenario of cluster.scenarios) {
        const kubeBefore = cluster.kube.requests.length;
        const promBefore = prometheusRequests();
        const started = performance.now();
        await diagnose(
          {
            target: { kind: 'pod', namespace: scenario.target.namespace, pod: scenario.target.pod },
            windowMs: WINDOW,
          },
          deps,
        );
        const elapsed = performance.now() - started;
        if (round > 0) times.push(elapsed); // the first round warms connections and the JIT
        requests.push(cluster.kube.requests.length - kubeBefore + prometheusRequests() - promBefore);
      }
    }
    const r = stats(requests);
    console.log(
      `HTTP requests per diagnosis (Kubernetes + Prometheus): mean ${r.mean.toFixed(1)}, max ${r.max}   (target: at most 12)`,
    );
    const kubeOnly = cluster.kube.requests.length / requests.length;
    console.log(
      `  of which Kubernetes ${kubeOnly.toFixed(1)} and Prometheus ${(prometheusRequests() / requests.length).toFixed(1)} on average`,
    );
    const t = stats(times);
    console.log(
      `end-to-end diagnose() in-process, ${times.length} runs: mean ${ms(t.mean)}, p50 ${ms(t.p50)}, p95 ${ms(t.p95)}, max ${ms(t.max)}   (target: under 1 s)`,
    );

    const cliTimes: number[] = [];
    const cli = join(resolve(__dirname, '..', '..', '..'), 'dist', 'cli.js');
    for (const scenario of cluster.scenarios) {
      const started = performance.now();
      await run(
        process.execPath,
        [
          cli,
          'diagnose',
          `${scenario.target.namespace}/${scenario.target.pod}`,
          '--json',
          '--prometheus-url',
          cluster.prometheus.url,
          '--kubeconfig',
          cluster.kubeconfigPath,
        ],
        { maxBuffer: 2 ** 26 },
      );
      cliTimes.push(performance.now() - started);
    }
    const c = stats(cliTimes);
    console.log(
      `the oomdoctor command as a process (node start-up included), ${cliTimes.length} runs: p50 ${ms(c.p50)}, max ${ms(c.max)}`,
    );
  } finally {
    await cluster.stop();
  }
}

/**
 * The request budget's worst case: a diagnosis whose 24 h window is ambiguous, so the look-back is
 * widened to 7 days (one more range query), of a container with an env var from a ConfigMap (one
 * more Kubernetes read). Every time shape that widens, against a real Prometheus holding a week.
 */
async function widenedRequests(): Promise<void> {
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  const specs = timeShapeCases(now)
    .filter((c) => c.expectWidened)
    .map((c, i) => ({
      ...c.spec,
      namespace: `widened-${i}`,
      runtime: { ...c.spec.runtime, configMapEnv: { APP_MODE: 'production' } },
    }));
  const cluster = await startSimulatedCluster({ specs, windowMs: HISTORY_MS, scrapeMs: 120_000 });
  try {
    const { deps, prometheusRequests } = countedDeps(cluster);
    const requests: number[] = [];
    for (const scenario of cluster.scenarios) {
      const kubeBefore = cluster.kube.requests.length;
      const promBefore = prometheusRequests();
      const d = await diagnose(
        {
          target: { kind: 'pod', namespace: scenario.target.namespace, pod: scenario.target.pod },
          windowMs: WINDOW,
        },
        deps,
      );
      // Only the diagnoses that did widen measure the worst case.
      if (Date.parse(d.window.end) - Date.parse(d.window.start) > WINDOW)
        requests.push(cluster.kube.requests.length - kubeBefore + prometheusRequests() - promBefore);
    }
    if (requests.length === 0) throw new Error('no diagnosis was widened: the worst case was not measured');
    const r = stats(requests);
    console.log(
      `HTTP requests per diagnosis widened to 7 d, with a ConfigMap env (${requests.length} of ${cluster.scenarios.length} time shapes widened): mean ${r.mean.toFixed(1)}, max ${r.max}   (target: at most 12)`,
    );
  } finally {
    await cluster.stop();
  }
}

async function main(): Promise<void> {
  console.log(`oomdoctor bench on ${process.version}, ${new Date().toISOString()}\n`);
  await classifierTime();
  await endToEnd();
  await widenedRequests();
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${(error as Error).message}`);
  process.exitCode = 1;
});
