// The labelled corpus of real clusters (issue 11, sections 1, 2, 3 and 5), run from corpus.test.ts:
// which container, which workload, where the heap setting that wins lives (and the JVM flags that
// size a heap without -Xmx, named as the cause), and the number.
import { containerSpec, resolveWorkload, type ApiObject } from '../../../src/adapters/kubernetes-objects';
import { pickContainer } from '../../../src/adapters/container-choice';
import { classify } from '../../../src/core/classify';
import { formatBytes, parseQuantity } from '../../../src/core/quantity';
import { recommend } from '../../../src/core/recommend';
import { limitAbovePeak } from '../../../src/core/recommend-limit';
import { evaluateRuntimeMemory } from '../../../src/core/runtime-evaluator';
import type { Classification, Recommendation } from '../../../src/core/types';
import { applyStrategicMergePatch } from '../../fakes/strategic-merge';
import { scenarioEvidence } from '../../support/scenario-evidence';
import {
  containerCases,
  generateJvmHeapScenario,
  heapCases,
  jvmHeapCases,
  peakCases,
  workloadCases,
  type JvmHeapCase,
} from '../../support/scenarios-real-clusters';
import { container, evidence, flatMetrics } from './evidence-builders';

const killedAtLimit: Classification = {
  verdict: 'cgroup-oom',
  headline: '',
  verdictEvidence: [],
  kills: [],
  causes: [{ id: 'limit-too-small', confidence: 0.9, evidence: [] }],
};
const heapTooLarge: Classification = {
  ...killedAtLimit,
  causes: [{ id: 'runtime-heap-misconfigured', confidence: 0.9, evidence: [] }],
};

function mustRecommend(r: Recommendation | null): Recommendation {
  if (!r) throw new Error('expected a recommendation');
  return r;
}

describe('real clusters, class 1: which container (an injected sidecar listed first)', () => {
  it.each(containerCases().map((c) => [c.id, c] as const))('%s', (_id, c) => {
    expect(pickContainer(c.pod, { oomEventsByContainer: c.oomEvents, nodeEvents: c.nodeEvents })).toBe(
      c.expect.container,
    );
  });
});

describe('real clusters, class 2: which workload (controllers that are not Deployments)', () => {
  it.each(workloadCases().map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const workload = await resolveWorkload(
      c.pod,
      async (kind, _ns, name) => c.objects.find((o) => o.kind === kind && o.metadata.name === name) ?? null,
    );
    expect(workload).toMatchObject({ kind: c.expect.kind, name: c.expect.name });
    expect(workload.owner?.kind).toBe(c.expect.owner);
    const r = mustRecommend(
      recommend(
        evidence({ containers: [container({ limit: '1Gi', request: null })], workload }),
        killedAtLimit,
      ),
    );
    const type = /--type (\w+)/.exec(r.kubectl)?.[1] ?? null;
    expect(type).toBe(c.expect.kubectlType);
    if (workload.kind === 'ReplicaSet') expect(r.kubectl).not.toMatch(/patch replicaset/);
  });
});

describe('real clusters, class 3: the heap setting that wins is fixed, read the way the runtime reads it', () => {
  it.each(heapCases().map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const maps = new Map(Object.entries(c.configMaps));
    const quantity = `${c.limitBytes / 2 ** 20}Mi`;
    const raw = { ...c.raw, name: 'api', resources: { limits: { memory: quantity } } };
    const killed = evidence({ containers: [containerSpec(raw, 'app', maps)] });
    // The classifier names it from the setting in force, read where the runtime reads it.
    expect(classify(killed).causes[0]?.id).toBe('runtime-heap-misconfigured');
    const r = mustRecommend(recommend(killed, heapTooLarge));
    const deployment = { spec: { template: { spec: { containers: [raw] } } } };
    const patched = (applyStrategicMergePatch(deployment, r.patch) as typeof deployment).spec.template.spec
      .containers[0]!;
    const context = { configMaps: maps, limitBytes: c.limitBytes, nodeMemoryBytes: 64 * 2 ** 30 };
    const budget = (container: typeof raw) => {
      const m = evaluateRuntimeMemory(container, context);
      return c.runtime === 'jvm'
        ? m.jvm.maxHeapBytes
        : c.runtime === 'node'
          ? m.nodeOldSpaceBytes
          : m.goMemLimitBytes;
    };
    const share = c.runtime === 'go' ? 0.97 : 0.8;
    expect(budget(raw)).toBeGreaterThan(share * c.limitBytes);
    const after = budget(patched);
    expect(after).toBeGreaterThan(0.5 * c.limitBytes);
    expect(after).toBeLessThanOrEqual(share * c.limitBytes);
    expect(parseQuantity(r.resources.limits.memory)).toBe(c.limitBytes); // the limit stays: the heap has to fit
  });
});

describe('real clusters, class 5: the number, 30–50% above a known peak', () => {
  it.each(peakCases().map((c) => [c.id, c] as const))('%s', (_id, { peakBytes }) => {
    const limit = limitAbovePeak(peakBytes);
    expect(limit / peakBytes).toBeGreaterThanOrEqual(1.3);
    expect(limit / peakBytes).toBeLessThanOrEqual(1.5);
    // And through the recommender: an eviction of a container without a limit.
    const r = mustRecommend(
      recommend(
        evidence({
          containers: [container({ limit: null, request: '64Mi' })],
          podReason: 'Evicted',
          podMessage: 'The node was low on resource: memory.',
          metrics: flatMetrics(peakBytes - 6 * 2 ** 20, null),
          node: null,
        }),
        { ...killedAtLimit, verdict: 'node-pressure-eviction', causes: [] },
      ),
    );
    expect(r.resources.limits.memory).toMatch(/^\d+(Mi|Gi)$/);
  });
});

describe('real clusters, class 3: JVM flags that size the heap without an -Xmx are the ranked cause', () => {
  const NOW = Date.parse('2026-11-28T12:00:00Z');
  const WINDOW = 24 * 3_600_000;
  const cases = jvmHeapCases();

  it('has every class at three limits and three seeds, the flags in several places', () => {
    const classes = new Set(cases.map((c) => c.jvmClass));
    expect(classes.size).toBe(7);
    for (const jvmClass of classes) {
      const ofClass = cases.filter((c) => c.jvmClass === jvmClass);
      expect(new Set(ofClass.map((c) => c.spec.limit)).size).toBe(3);
      expect(ofClass.length).toBe(9);
    }
  });

  it.each(cases.map((c) => [c.jvmClass, c.id, c] as const))('%s: %s', async (_class, _id, c) => {
    const scenario = generateJvmHeapScenario(c, NOW, WINDOW);
    const evidence = await scenarioEvidence(scenario, { start: NOW - WINDOW, end: NOW });
    const limit = c.spec.limit as number;

    // The label is what the JVM itself makes of the flags (its precedence), not what the text contains.
    const pod = scenario.objects.find((o) => o.kind === 'Pod') as ApiObject;
    const raw = (pod.spec.containers as ApiObject[]).find((k) => k.name === c.spec.container) as ApiObject;
    const configMaps = new Map(
      scenario.objects
        .filter((o) => o.kind === 'ConfigMap')
        .map((o) => [String(o.metadata.name), o.data as Record<string, string>]),
    );
    const nodeMemoryBytes = evidence.node?.capacityBytes ?? null;
    const jvm = evaluateRuntimeMemory(raw, { configMaps, limitBytes: limit, nodeMemoryBytes }).jvm;
    expect(jvm.containerSupport).toBe(c.jvm.containerSupport);
    expect(jvm.alwaysPreTouch).toBe(c.jvm.alwaysPreTouch);
    expect((jvm.initialHeapBytes ?? 0) >= limit).toBe(c.jvm.initialHeapAtLimit);
    const heapPastSane = Math.max(jvm.maxHeapBytes ?? 0, jvm.initialHeapBytes ?? 0) > 0.8 * limit;
    expect(heapPastSane).toBe(c.expect.topCause === 'runtime-heap-misconfigured');

    const result = classify(evidence);
    expect(result.verdict).toBe('cgroup-oom');
    expect(result.causes[0]?.id).toBe(c.expect.topCause);
    const heap = result.causes.find((cause) => cause.id === 'runtime-heap-misconfigured');
    if (c.expect.topCause !== 'runtime-heap-misconfigured') {
      expect(heap).toBeUndefined();
      return;
    }
    const said = heap?.evidence.join('\n') ?? '';
    expect(said).not.toMatch(/s3cret|spring\.profiles/);
    const limitText = formatBytes(limit);
    switch (c.jvmClass) {
      case 'container-support-off':
        expect(said).toContain(
          `-XX:-UseContainerSupport (${sourceOf(c)}) makes the JVM size its heap from the node's memory`,
        );
        expect(said).toContain(
          `25% of the node's 17 GiB is a heap of ${formatBytes(Math.floor((17 * 2 ** 30) / 4))}, ${Math.round(((17 * 2 ** 30) / 4 / limit) * 100)}% of the ${limitText} limit`,
        );
        break;
      case 'xms-at-limit-with-pre-touch':
        expect(said).toMatch(
          new RegExp(
            `-Xms\\d+m \\(${escape(sourceOf(c))}\\) is at or above the ${escape(limitText)} limit; with -XX:\\+AlwaysPreTouch \\((env|configmap|command|args).*?\\) the JVM touches all of it at start`,
          ),
        );
        // Seconds from start to kill, and next to no history: the start-up crash loop, said with its numbers.
        expect(said).toMatch(
          /The last run lived \d+ s from start to OOM kill, one of \d+ restarts in the last 24 h/,
        );
        expect(evidence.metrics?.workingSet.length ?? 0).toBeLessThan(100);
        break;
      case 'xms-past-limit':
        expect(said).toMatch(new RegExp(`-Xms\\d+m \\(.+\\) is at or above the ${escape(limitText)} limit`));
        break;
      case 'max-ram-percentage-near-100':
        expect(said).toMatch(
          /-XX:MaxRAMPercentage=\d+\.0 \(.+\) gives the heap \d+% of whatever the limit is: a larger limit only makes a larger heap/,
        );
        break;
      default:
        throw new Error(`no evidence check for ${c.jvmClass}`);
    }

    // And the fix, applied to the pod template, leaves a JVM that fits the limit it keeps.
    const r = mustRecommend(recommend(evidence, result));
    const deployment = { spec: { template: { spec: { containers: [raw] } } } };
    const patched = (applyStrategicMergePatch(deployment, r.patch) as typeof deployment).spec.template.spec
      .containers[0]!;
    const limitAfter = parseQuantity(r.resources.limits.memory);
    const after = evaluateRuntimeMemory(patched, { configMaps, limitBytes: limitAfter, nodeMemoryBytes }).jvm;
    expect(after.containerSupport).toBe(true);
    expect(after.maxHeapBytes ?? 0).toBeLessThanOrEqual(0.8 * limitAfter);
    expect(after.initialHeapBytes ?? 0).toBeLessThanOrEqual(0.8 * limitAfter);
  });
});

/** Where placed() put the flags, as the evidence names it. */
function sourceOf(c: JvmHeapCase): string {
  const runtime = c.spec.runtime ?? {};
  if (runtime.env?.[0]) return `env ${runtime.env[0].name}`;
  if (runtime.configMapEnv) return 'configmap ledger-env key JDK_JAVA_OPTIONS';
  if (runtime.command) return 'command[1]';
  return 'args[0]';
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
