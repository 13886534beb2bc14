// The fix as the owning workload takes it: the patch, the kubectl line that sends it, and YAML.
import { stringify } from 'yaml';
import type { ContainerSpecEvidence, WorkloadKind } from './types';

export interface ContainerChange {
  requestsMemory: string;
  limitsMemory: string;
  env: Array<{ name: string; value: string }>;
  /** Variables whose current entry is a configMapKeyRef: the patch drops that valueFrom. */
  replacesReference: string[];
  args: string[] | null;
  command: string[] | null;
}

export interface WorkloadPatch {
  patch: Record<string, unknown>;
  kubectl: string;
  yaml: string;
  notes: string[];
}

export function workloadPatch(
  workload: { kind: WorkloadKind; namespace: string; name: string },
  spec: ContainerSpecEvidence,
  change: ContainerChange,
): WorkloadPatch {
  const notes: string[] = [];
  const resources: Record<string, unknown> = {};
  if (change.requestsMemory) resources.requests = { memory: change.requestsMemory };
  if (change.limitsMemory) resources.limits = { memory: change.limitsMemory };
  const containerPatch: Record<string, unknown> = { name: spec.name, resources };
  if (change.env.length > 0)
    containerPatch.env = change.env.map((e) =>
      // A strategic merge keeps fields the patch does not name: value beside valueFrom is refused.
      change.replacesReference.includes(e.name) ? { ...e, valueFrom: null } : e,
    );
  if (change.command) containerPatch.command = change.command;
  if (change.args) containerPatch.args = change.args;
  const listName = spec.kind === 'app' ? 'containers' : 'initContainers';
  const patch = wrapPodSpec(workload.kind, { [listName]: [containerPatch] });
  let kubectl: string;
  if (workload.kind === 'Pod') {
    kubectl = `# ${workload.namespace}/${workload.name} is a bare pod: its resources cannot be patched in place. Change its manifest and recreate it.`;
    notes.push('This pod has no controller: the patch shows the change to make in its manifest.');
  } else if (workload.kind === 'Job') {
    // A Job's spec.template is immutable: the API server refuses any patch to it.
    kubectl = `# ${workload.namespace}/${workload.name} is a Job: its pod template cannot be changed; change the manifest and re-create it.`;
    notes.push(
      'This Job has no CronJob: its pod template cannot be patched, so the patch shows the change to make in its manifest before you re-create it.',
    );
  } else {
    kubectl = `kubectl -n ${workload.namespace} patch ${workload.kind.toLowerCase()} ${workload.name} --type strategic -p ${shellQuote(JSON.stringify(patch))}`;
  }
  return { patch, kubectl, yaml: stringify(patch), notes };
}

function wrapPodSpec(kind: WorkloadKind, podSpec: Record<string, unknown>): Record<string, unknown> {
  switch (kind) {
    case 'Pod':
      return { spec: podSpec };
    case 'CronJob':
      return { spec: { jobTemplate: { spec: { template: { spec: podSpec } } } } };
    default:
      return { spec: { template: { spec: podSpec } } };
  }
}

/** Single-quotes for POSIX shells: the only character needing care inside is the quote itself. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
