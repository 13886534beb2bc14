// The labelled corpus of real clusters (issue 11, sections 1, 2, 3 and 5), run from corpus.test.ts:
// which container, which workload, where the heap setting that wins lives, and the number.
import { containerSpec, pickContainer, resolveWorkload } from '../../../src/adapters/kubernetes-objects';
import { parseQuantity } from '../../../src/core/quantity';
import { recommend } from '../../../src/core/recommend';
import { limitAbovePeak } from '../../../src/core/recommend-limit';
import { evaluateRuntimeMemory } from '../../../src/core/runtime-evaluator';
import type { Classification, Recommendation } from '../../../src/core/types';
import { applyStrategicMergePatch } from '../../fakes/strategic-merge';
import { containerCases, heapCases, peakCases, workloadCases } from '../../support/scenarios-real-clusters';
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
    const r = mustRecommend(
      recommend(evidence({ containers: [containerSpec(raw, 'app', maps)] }), heapTooLarge),
    );
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
