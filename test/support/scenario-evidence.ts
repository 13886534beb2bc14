// Builds the engine's Evidence straight from a generated scenario, without any HTTP: the pure
// classifier and recommender are tested on exactly what the adapters would have produced.
import {
  namespaceLimits,
  nodeEvidence,
  podEvidence,
  resolveWorkload,
  type ApiObject,
} from '../../src/adapters/kubernetes-objects';
import type { Evidence } from '../../src/core/types';
import type { Scenario } from './scenarios';

export async function scenarioEvidence(
  scenario: Scenario,
  window: { start: number; end: number },
): Promise<Evidence> {
  const objects = scenario.objects as ApiObject[];
  const of = (kind: string) => objects.filter((o) => o.kind === kind);
  const pod = of('Pod')[0] as ApiObject;
  const events = of('Event');
  const configMaps = new Map<string, Record<string, string>>(
    of('ConfigMap').map((c) => [String(c.metadata.name), c.data as Record<string, string>]),
  );
  const node = of('Node')[0] as ApiObject;
  const workload = await resolveWorkload(
    pod,
    async (kind, namespace, name) =>
      objects.find(
        (o) => o.kind === kind && o.metadata.namespace === namespace && o.metadata.name === name,
      ) ?? null,
  );
  return {
    target: scenario.target,
    window: { start: new Date(window.start), end: new Date(window.end) },
    pod: podEvidence(
      pod,
      events.filter((e) => e.involvedObject.kind === 'Pod' && e.involvedObject.name === pod.metadata.name),
      configMaps,
    ),
    workload,
    node: nodeEvidence(
      node,
      events.filter((e) => e.involvedObject.kind === 'Node'),
    ),
    namespaceLimits: namespaceLimits(of('LimitRange'), of('ResourceQuota')),
    metrics: {
      ...scenario.metrics,
      workingSet: scenario.metrics.workingSet.filter((s) => s.at >= window.start && s.at <= window.end),
    },
    missing: [],
  };
}
