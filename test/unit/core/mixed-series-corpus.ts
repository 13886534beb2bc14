// The labelled corpus, mixed series (issue 11, section 4), run from corpus.test.ts: the same labelled
// histories as Prometheus holds them in real setups, each diagnosed whole (diagnose(), the Prometheus
// adapter's own queries answered in process, the widened look-back included):
// - an HA Prometheus pair: every series twice, under another replica label, one replica with a 3 h gap;
// - a Prometheus holding several clusters: the same pod name in another cluster, using far more memory,
//   without a cluster selector (the pod's uid picks the cluster, and missing says so) and with one;
// - a StatefulSet pod re-created under the same name with another limit (another pod uid).
// Each must give the answer of the clean history: the same verdict, causes and limit, the same peak,
// the label of the case, and at most 12 requests per diagnosis.
import { PrometheusSource, type ClusterSelector } from '../../../src/adapters/prometheus';
import type { Diagnosis } from '../../../src/core/types';
import { diagnose } from '../../../src/diagnose';
import { corpusCluster } from '../../support/corpus-cluster';
import { corpusPrometheus } from '../../support/corpus-prometheus';
import type { GeneratedSeries } from '../../support/prometheus';
import { demoSpecs, generateScenario, GiB, MiB, type Scenario } from '../../support/scenarios';
import { generateTimeShape, timeShapeCases } from '../../support/scenarios-time-shapes';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface Run {
  diagnosis: Diagnosis;
  requests: number;
  peak: number;
}

async function run(
  scenario: Scenario,
  series: readonly GeneratedSeries[],
  cluster: ClusterSelector | null = null,
): Promise<Run> {
  const kube = corpusCluster(scenario.objects);
  const prometheus = corpusPrometheus(series);
  const diagnosis = await diagnose(
    {
      target: { kind: 'pod', namespace: scenario.target.namespace, pod: scenario.target.pod },
      windowMs: DAY,
    },
    {
      cluster: kube,
      metrics: new PrometheusSource({
        url: 'http://127.0.0.1:9090',
        http: prometheus.http,
        retries: 0,
        cluster,
      }),
      now: () => new Date(NOW),
    },
  );
  const peak = Math.max(0, ...diagnosis.series.points.map(([, value]) => value));
  return { diagnosis, requests: kube.requests() + prometheus.requests(), peak };
}

/** What must not change when other series are mixed in. */
function answer(r: Run) {
  return {
    verdict: r.diagnosis.verdict,
    causes: r.diagnosis.causes.map((c) => c.id),
    limit: r.diagnosis.recommendation?.resources.limits.memory ?? null,
    peak: r.peak,
    window: r.diagnosis.window,
  };
}

const withLabels = (series: readonly GeneratedSeries[], labels: Record<string, string>): GeneratedSeries[] =>
  series.map((s) => ({ ...s, labels: { ...s.labels, ...labels } }));

describe('the labelled corpus: mixed series, diagnosed whole', () => {
  const cases = timeShapeCases(NOW);

  it.each(cases.map((c) => [c.shapeClass, c.id, c] as const))('%s: %s', async (_class, _id, c) => {
    const scenario = generateTimeShape(c, NOW);
    const clean = await run(scenario, scenario.series);
    expect(clean.diagnosis.verdict).toBe(c.expect.verdict);
    expect(clean.diagnosis.causes[0]?.id).toBe(c.expect.topCause);
    expect(clean.requests).toBeLessThanOrEqual(12);
    if (c.expectWidened) expect(Date.parse(clean.diagnosis.window.start)).toBe(NOW - 7 * DAY);

    // An HA pair: each series twice; the second replica misses three hours.
    const gapFrom = NOW - 30 * HOUR;
    const replicaB = withLabels(scenario.series, { prometheus_replica: 'prometheus-k8s-1' }).map((s) => ({
      ...s,
      samples: s.samples.filter(([at]) => at < gapFrom || at > gapFrom + 3 * HOUR),
    }));
    const ha = await run(scenario, [
      ...withLabels(scenario.series, { prometheus_replica: 'prometheus-k8s-0' }),
      ...replicaB,
    ]);
    expect(answer(ha)).toEqual(answer(clean));
    expect(ha.diagnosis.missing).toEqual(clean.diagnosis.missing);

    // The same namespace, pod and container name in another cluster of the same Prometheus.
    const foreign = generateScenario(
      { ...demoSpecs(c.spec.limit ?? GiB).find((s) => s.id === 'limit-too-small')!, ...sameNames(c.spec) },
      { now: NOW, windowMs: 8 * DAY, scrapeMs: 5 * 60_000, seed: c.seed + 1000 },
    );
    const shared = [
      ...withLabels(scenario.series, { cluster: 'eu-1' }),
      ...withLabels(
        foreign.series.map((s) =>
          s.name === 'container_memory_working_set_bytes'
            ? { ...s, samples: s.samples.map(([at, v]) => [at, v * 1.9] as [number, number]) }
            : s,
        ),
        { cluster: 'us-2' },
      ),
    ];
    const unselected = await run(scenario, shared);
    expect(answer(unselected)).toEqual(answer(clean));
    expect(unselected.diagnosis.missing.join('\n')).toMatch(
      /also has series in another cluster \(cluster="us-2"\); only cluster="eu-1", where this pod's uid is, was read/,
    );
    const selected = await run(scenario, shared, { label: 'cluster', name: 'eu-1' });
    expect(answer(selected)).toEqual(answer(clean));
    expect(selected.diagnosis.missing).toEqual(clean.diagnosis.missing);
  });

  // A StatefulSet pod re-created under the same name with another limit: the earlier pod ran until
  // 19 h ago, the current one started 18 h ago. Every demo verdict and cause, three limits, two seeds.
  const incarnations = [768 * MiB, 2 * GiB, 8 * GiB].flatMap((limit) =>
    demoSpecs(limit).flatMap((spec) =>
      [1, 2].map((seed) => ({
        id: `${spec.id}@${limit / MiB}Mi#${seed}`,
        spec: { ...spec, workloadKind: 'StatefulSet' as const, namespace: 'data', app: 'kafka' },
        seed,
      })),
    ),
  );

  it.each(incarnations.map((c) => [c.id, c] as const))(
    'a pod re-created under the same name: %s',
    async (_id, c) => {
      const current = generateScenario(c.spec, {
        now: NOW,
        windowMs: 18 * HOUR,
        scrapeMs: 60_000,
        seed: c.seed,
      });
      const earlierLimit = (c.spec.limit ?? GiB) * 2;
      const earlier = generateScenario(
        { ...c.spec, limit: earlierLimit, request: earlierLimit / 2 },
        { now: NOW - 19 * HOUR, windowMs: 5 * HOUR, scrapeMs: 60_000, seed: c.seed + 500 },
      );
      expect(earlier.target.pod).toBe(current.target.pod);
      const inWindow = (series: GeneratedSeries[], from: number, to: number) =>
        series.map((s) => ({ ...s, samples: s.samples.filter(([at]) => at >= from && at <= to) }));
      const mine = inWindow(current.series, NOW - 18 * HOUR, NOW);
      const clean = await run(current, mine);
      const mixed = await run(current, [...inWindow(earlier.series, NOW - DAY, NOW - 19 * HOUR), ...mine]);
      expect(answer(mixed)).toEqual(answer(clean));
      expect(mixed.requests).toBeLessThanOrEqual(12);
      if (c.spec.limit !== null) {
        const said = [...mixed.diagnosis.verdictEvidence, ...mixed.diagnosis.missing].join('\n');
        expect(said).toMatch(
          /An earlier pod with the same name \(uid [0-9a-f-]+, limit [\d.]+ [MG]iB\) ran from/,
        );
      }
    },
  );
});

/** Another cluster's pod under exactly this one's names. */
function sameNames(spec: Scenario['spec']): Partial<Scenario['spec']> {
  return {
    namespace: spec.namespace,
    app: spec.app,
    container: spec.container,
    workloadKind: spec.workloadKind,
  };
}
