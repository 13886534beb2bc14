// A whole simulated cluster on loopback: the fake Kubernetes API holding every scenario's objects,
// and a real Prometheus holding their histories. Used by the integration tests, the demo and the benchmarks.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeKubeApi } from '../fakes/kube-api';
import { startPrometheus, type RunningPrometheus } from './prometheus';
import { generateScenario, type Scenario, type ScenarioSpec } from './scenarios';
import { makeTempDir } from './services';

export interface SimulatedCluster {
  kube: FakeKubeApi;
  prometheus: RunningPrometheus;
  scenarios: Scenario[];
  kubeconfigPath: string;
  now: number;
  stop(): Promise<void>;
}

export interface SimulatedClusterOptions {
  specs: ScenarioSpec[];
  windowMs?: number;
  scrapeMs?: number;
  seed?: number;
  /** Keep only these labels on every series (large benchmarks; the engine reads few of them). */
  keepLabels?: string[];
}

export async function startSimulatedCluster(options: SimulatedClusterOptions): Promise<SimulatedCluster> {
  const scrapeMs = options.scrapeMs ?? 30_000;
  // The newest sample must be recent: Prometheus' instant queries look back 5 minutes only.
  const now = Math.floor(Date.now() / scrapeMs) * scrapeMs;
  const windowMs = options.windowMs ?? 24 * 3_600_000;
  const scenarios = options.specs.map((spec, i) =>
    generateScenario(spec, {
      now,
      windowMs: windowMs + 3_600_000,
      scrapeMs,
      seed: (options.seed ?? 42) + i * 101,
    }),
  );
  const tmp = makeTempDir('oomdoctor-cluster');
  const kube = await FakeKubeApi.start({ objects: scenarios.flatMap((s) => s.objects) });
  let prometheus: RunningPrometheus;
  try {
    const keep = options.keepLabels;
    const series = scenarios.flatMap((s) => s.series);
    const lean = keep
      ? series.map(({ help: _help, ...s }) => ({
          ...s,
          labels: Object.fromEntries(Object.entries(s.labels).filter(([k]) => keep.includes(k))),
        }))
      : series;
    prometheus = await startPrometheus({ series: lean });
  } catch (error) {
    await kube.stop();
    await tmp.remove();
    throw error;
  }
  const kubeconfigPath = join(tmp.path, 'kubeconfig.yaml');
  writeFileSync(kubeconfigPath, kube.kubeconfigYaml('simulated'));
  return {
    kube,
    prometheus,
    scenarios,
    kubeconfigPath,
    now,
    async stop() {
      await Promise.all([kube.stop(), prometheus.stop()]);
      await tmp.remove();
    },
  };
}
