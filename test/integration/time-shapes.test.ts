// Time shapes through the whole engine (issue 11, section 4): diagnose() against the fake Kubernetes
// API and a real Prometheus backfilled with a week of history. A leak under a daily cycle is only told
// from the cycle by widening the look-back (one more query, within 1,440 points and 12 requests);
// an HA pair's duplicates count once; the same pod name in another cluster and an earlier pod under
// the same name are kept out of the history, and said.
import * as fs from 'node:fs';
import * as path from 'node:path';
import axios from 'axios';
import { KubernetesReader, loadKubeConfig } from '../../src/adapters/kubernetes';
import { PrometheusSource } from '../../src/adapters/prometheus';
import type { Diagnosis } from '../../src/core/types';
import { diagnose } from '../../src/diagnose';
import { FakeKubeApi, type KubeObject } from '../fakes/kube-api';
import { startPrometheus, type GeneratedSeries, type RunningPrometheus } from '../support/prometheus';
import { demoSpecs, generateScenario, GiB, MiB, type Scenario } from '../support/scenarios';
import { HISTORY_MS, timeShapeCases } from '../support/scenarios-time-shapes';
import { makeTempDir, type TempDir } from '../support/services';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const SCRAPE = 2 * MINUTE;

let kube: FakeKubeApi;
let prometheus: RunningPrometheus;
let tmp: TempDir;
let kubeconfig: string;
let now: number;
const scenarios: Record<'leak' | 'touch' | 'burst' | 'foreign' | 'current' | 'earlier', Scenario> =
  {} as never;

const within = (series: GeneratedSeries, from: number, to: number): GeneratedSeries => ({
  ...series,
  samples: series.samples.filter(([at]) => at >= from && at <= to),
});

beforeAll(async () => {
  now = Math.floor(Date.now() / SCRAPE) * SCRAPE;
  const cases = timeShapeCases(now);
  const pick = (id: string, configMapEnv?: Record<string, string>) => {
    const c = cases.find((x) => x.id === id);
    if (!c) throw new Error(id);
    // Each in its own namespace, so pod names cannot collide by accident.
    const namespace = id.split('@')[0] ?? 'x';
    const runtime = configMapEnv ? { runtime: { ...c.spec.runtime, configMapEnv } } : {};
    return generateScenario(
      { ...c.spec, namespace, ...runtime },
      { now, windowMs: HISTORY_MS, scrapeMs: SCRAPE, seed: c.seed },
    );
  };
  // With an env var from a ConfigMap: one more read, the request budget's worst case.
  scenarios.leak = pick('leak-under-daily-cycle@2048Mi#1', { APP_MODE: 'production' });
  scenarios.touch = pick('daily-cycle-peaks-touch-limit@512Mi#3');
  scenarios.burst = pick('burst-over-daily-cycle@6144Mi#1');
  // The same namespace, pod and container name in another cluster, using far more memory.
  const plateau = demoSpecs(8 * GiB).find((s) => s.id === 'limit-too-small');
  if (!plateau) throw new Error('no plateau demo');
  scenarios.foreign = generateScenario(
    {
      ...plateau,
      namespace: 'burst-over-daily-cycle',
      app: 'storefront',
      container: 'web',
      workloadKind: 'StatefulSet',
    },
    { now, windowMs: DAY + HOUR, scrapeMs: SCRAPE, seed: 99 },
  );
  // A StatefulSet pod re-created under the same name: an earlier incarnation with a 4 GiB limit,
  // then the current one with 512 MiB.
  const kafka = {
    ...plateau,
    namespace: 'data',
    app: 'kafka',
    container: 'broker',
    workloadKind: 'StatefulSet' as const,
  };
  scenarios.earlier = generateScenario(
    { ...kafka, limit: 4 * GiB, request: 2 * GiB },
    { now, windowMs: DAY + HOUR, scrapeMs: SCRAPE, seed: 5 },
  );
  scenarios.current = generateScenario(
    { ...kafka, limit: 512 * MiB, request: 256 * MiB },
    { now, windowMs: DAY + HOUR, scrapeMs: SCRAPE, seed: 6 },
  );

  const series: GeneratedSeries[] = [
    ...scenarios.leak.series,
    // An HA pair: every series twice, once per replica.
    ...scenarios.touch.series.flatMap((s) => [
      { ...s, labels: { ...s.labels, prometheus_replica: 'prometheus-k8s-0' } },
      { ...s, labels: { ...s.labels, prometheus_replica: 'prometheus-k8s-1' } },
    ]),
    ...scenarios.burst.series.map((s) => ({ ...s, labels: { ...s.labels, cluster: 'eu-1' } })),
    ...scenarios.foreign.series.map((s) => ({ ...s, labels: { ...s.labels, cluster: 'us-2' } })),
    ...scenarios.earlier.series.map((s) => within(s, now - 24 * HOUR, now - 19 * HOUR)),
    ...scenarios.current.series.map((s) => within(s, now - 18 * HOUR, now)),
  ];
  const objects: KubeObject[] = [
    ...scenarios.leak.objects,
    ...scenarios.touch.objects,
    ...scenarios.burst.objects,
    ...scenarios.current.objects,
  ];
  tmp = makeTempDir('oomdoctor-time-shapes');
  kube = await FakeKubeApi.start({ objects });
  prometheus = await startPrometheus({ series: series.map(({ help: _help, ...s }) => s) });
  kubeconfig = path.join(tmp.path, 'kubeconfig.yaml');
  fs.writeFileSync(kubeconfig, kube.kubeconfigYaml('time-shapes'));
}, 180_000);

afterAll(async () => {
  await Promise.all([kube?.stop(), prometheus?.stop()]);
  await tmp?.remove();
});

interface Run {
  diagnosis: Diagnosis;
  requests: number;
  points: number[];
}

async function run(scenario: Scenario, cluster?: { label: string; name: string }): Promise<Run> {
  const http = axios.create({ baseURL: prometheus.url, timeout: 10_000 });
  const points: number[] = [];
  let prometheusRequests = 0;
  http.interceptors.request.use((config) => {
    prometheusRequests++;
    const params = new URLSearchParams(String(config.data ?? ''));
    const span = Number(params.get('end')) - Number(params.get('start'));
    points.push(Math.floor(span / Number(String(params.get('step')).replace(/s$/, ''))) + 1);
    return config;
  });
  const kubeBefore = kube.requests.length;
  const diagnosis = await diagnose(
    {
      target: { kind: 'pod', namespace: scenario.target.namespace, pod: scenario.target.pod },
      windowMs: DAY,
    },
    {
      cluster: new KubernetesReader(loadKubeConfig({ kubeconfig })),
      metrics: new PrometheusSource({ url: prometheus.url, http, ...(cluster ? { cluster } : {}) }),
      now: () => new Date(now),
    },
  );
  return { diagnosis, requests: kube.requests.length - kubeBefore + prometheusRequests, points };
}

describe('through a real Prometheus', () => {
  it('a leak under a daily cycle: the look-back is widened to 7 days, within 1,440 points a query and 12 requests', async () => {
    const { diagnosis, requests, points } = await run(scenarios.leak);
    expect(diagnosis.verdict).toBe('cgroup-oom');
    expect(diagnosis.causes[0]?.id).toBe('memory-leak');
    expect(Date.parse(diagnosis.window.end) - Date.parse(diagnosis.window.start)).toBe(7 * DAY);
    expect(diagnosis.verdictEvidence.join('\n')).toMatch(/Look-back widened from 24 h to 7 d/);
    expect(diagnosis.causes[0]?.evidence.join('\n')).toMatch(/per hour .* across daily cycles/);
    // One range query for the day, one for the week (working set and context together).
    expect(points).toHaveLength(2);
    for (const p of points) expect(p).toBeLessThanOrEqual(1440);
    expect(kube.requests.some((r) => /\/configmaps\/[^/]+-env$/.test(r.path))).toBe(true);
    expect(requests).toBeLessThanOrEqual(12);
  });

  it("an HA pair's duplicate series count once: the peak is not doubled and the cause holds", async () => {
    const { diagnosis } = await run(scenarios.touch);
    expect(diagnosis.causes[0]?.id).toBe('limit-too-small');
    const peak = Math.max(...diagnosis.series.points.map(([, v]) => v));
    expect(peak).toBeLessThanOrEqual(512 * MiB);
    expect(peak).toBeGreaterThan(0.9 * 512 * MiB);
    expect(diagnosis.kills.filter((k) => k.reason === 'OOMKilled').length).toBe(4);
  });

  it('the same pod name in another cluster: only the cluster holding this pod is read, and missing says so', async () => {
    const { diagnosis } = await run(scenarios.burst);
    const peak = Math.max(...diagnosis.series.points.map(([, v]) => v));
    expect(peak).toBeLessThan(6 * GiB); // the other cluster's pod sits near 8 GiB
    expect(diagnosis.causes[0]?.id).toBe('burst-allocation');
    expect(diagnosis.missing.join('\n')).toMatch(
      /also has series in another cluster \(cluster="us-2"\); only cluster="eu-1", where this pod's uid is, was read\. Set PROMETHEUS_CLUSTER_LABEL=cluster with CLUSTER_NAME/,
    );
  });

  it('with the cluster selector set, every query reads that cluster and nothing is left to say', async () => {
    const { diagnosis } = await run(scenarios.burst, { label: 'cluster', name: 'eu-1' });
    expect(diagnosis.causes[0]?.id).toBe('burst-allocation');
    expect(diagnosis.missing.join('\n')).not.toMatch(/cluster/);
    const other = await run(scenarios.burst, { label: 'cluster', name: 'nowhere' });
    expect(other.diagnosis.series.points).toEqual([]);
    expect(other.diagnosis.missing.join('\n')).toMatch(/no container_memory_working_set_bytes series/);
  });

  it('a StatefulSet pod re-created under the same name: the earlier pod is left out of the history, and named', async () => {
    const { diagnosis } = await run(scenarios.current);
    expect(diagnosis.series.limitBytes).toBe(512 * MiB);
    const peak = Math.max(...diagnosis.series.points.map(([, v]) => v));
    expect(peak).toBeLessThanOrEqual(512 * MiB); // the earlier pod ran near 3.7 GiB
    expect(Math.min(...diagnosis.series.points.map(([at]) => at))).toBeGreaterThanOrEqual(
      now - 18 * HOUR - SCRAPE,
    );
    const earlierUid = String(
      (scenarios.earlier.objects.find((o) => o.kind === 'Pod') as KubeObject).metadata.uid,
    );
    expect(diagnosis.verdictEvidence.join('\n')).toContain(
      `An earlier pod with the same name (uid ${earlierUid}, limit 4 GiB)`,
    );
    expect(diagnosis.causes[0]?.id).toBe('limit-too-small');
  });
});
