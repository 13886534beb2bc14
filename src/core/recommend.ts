// The fixes from the field guide, sized from measured usage and the limit in force, and bounded by
// what the cluster would accept. Pure: the same evidence and classification give the same patch.
// The parts live beside it: the numbers (recommend-limit), the runtime's budget (recommend-runtime),
// the patch (recommend-patch), the advice (recommend-advice), and the thresholds they share.
import { targetSpec } from './classify';
import { toQuantity } from './quantity';
import { causeAdvice } from './recommend-advice';
import { sizeResources, type SizingOptions } from './recommend-limit';
import { workloadPatch } from './recommend-patch';
import { runtimeFix } from './recommend-runtime';
import type { Classification, Evidence, Recommendation, WorkloadKind } from './types';

export { shellQuote } from './recommend-patch';

export type RecommendOptions = SizingOptions;

export function recommend(
  evidence: Evidence,
  classification: Classification,
  options: RecommendOptions = {},
): Recommendation | null {
  const { verdict } = classification;
  if (verdict === 'sigkill-not-oom' || verdict === 'no-oom-found') return null;
  const spec = targetSpec(evidence);
  if (!spec) return null;
  const notes: string[] = [];
  const { newLimit, newRequest } = sizeResources(evidence, classification, options, notes);
  const runtime =
    newLimit !== null
      ? runtimeFix(spec, newLimit, notes)
      : { env: [], replacesReference: [], args: null, command: null };
  notes.push(...causeAdvice(evidence, classification, spec, newLimit));

  const workload = evidence.workload ?? {
    kind: 'Pod' as WorkloadKind,
    namespace: evidence.target.namespace,
    name: evidence.target.pod,
    generation: 0,
  };
  const resources = {
    requests: { memory: newRequest !== null ? toQuantity(newRequest) : '' },
    limits: { memory: newLimit !== null ? toQuantity(newLimit) : '' },
  };
  const rendered = workloadPatch(workload, spec, {
    requestsMemory: resources.requests.memory,
    limitsMemory: resources.limits.memory,
    env: runtime.env,
    replacesReference: runtime.replacesReference,
    args: runtime.args,
    command: runtime.command,
  });
  notes.push(...rendered.notes);
  return {
    workload: {
      kind: workload.kind,
      namespace: workload.namespace,
      name: workload.name,
      generation: workload.generation,
      ...('owner' in workload && workload.owner ? { owner: workload.owner } : {}),
    },
    container: spec.name,
    resources,
    env: runtime.env,
    args: runtime.args,
    command: runtime.command,
    patch: rendered.patch,
    kubectl: rendered.kubectl,
    yaml: rendered.yaml,
    notes,
  };
}
