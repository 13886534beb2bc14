// The fix as the owning workload takes it: the patch, the kubectl line that sends it, and YAML.
import { stringify } from 'yaml';
import type { ContainerSpecEvidence, WorkloadKind, WorkloadRef } from './types';

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
  workload: { kind: WorkloadKind; namespace: string; name: string } & Pick<
    Partial<WorkloadRef>,
    'owner' | 'podTemplate'
  >,
  spec: ContainerSpecEvidence,
  change: ContainerChange,
): WorkloadPatch {
  if (workload.kind === 'Rollout') return rolloutPatch(workload, spec, change);
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
  if (workload.owner) {
    const { owner } = workload;
    const managed = `${workload.kind === 'Pod' ? 'pod' : workload.kind} ${workload.namespace}/${workload.name}`;
    const unreadRollout = owner.kind === 'Rollout' && owner.apiVersion.startsWith('argoproj.io/');
    kubectl = `# ${managed} is managed by ${owner.kind} ${workload.namespace}/${owner.name} (${owner.apiVersion}), ${unreadRollout ? 'which could not be read (see what could not be gathered)' : 'which oomdoctor does not know how to patch'}: make this change in its pod template.`;
    notes.push(
      `${owner.kind} ${owner.name} (${owner.apiVersion}) controls this ${workload.kind === 'Pod' ? 'pod' : workload.kind}: patching ${workload.kind === 'ReplicaSet' ? 'the ReplicaSet' : 'the pod'} would be undone by it, so no kubectl line is given. The YAML shows the container change to make wherever ${owner.kind} keeps its pod template.`,
    );
  } else if (workload.kind === 'Pod') {
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

/** One RFC 6902 operation. */
type JsonPatchOp = { op: 'test' | 'add' | 'replace'; path: string; value: unknown };

/**
 * An Argo Rollout: a custom resource takes no strategic merge patch (the API answers 415), and a
 * JSON merge patch would replace the whole containers list, so this is a JSON patch that addresses
 * the container by its index in the Rollout's template, guarded by a `test` of its name there.
 */
function rolloutPatch(
  workload: { namespace: string; name: string; podTemplate?: WorkloadRef['podTemplate'] },
  spec: ContainerSpecEvidence,
  change: ContainerChange,
): WorkloadPatch {
  const listName = spec.kind === 'app' ? 'containers' : 'initContainers';
  const list = (workload.podTemplate?.[listName] ?? []) as Array<Record<string, unknown>>;
  const index = list.findIndex((c) => c?.name === spec.name);
  const notes = [
    'Rollouts get no Apply button yet: Apply sends strategic merge patches, which a custom resource refuses; the kubectl line sends the JSON patch instead.',
  ];
  if (index === -1) {
    notes.push(
      `Container ${spec.name} is not in Rollout ${workload.name}'s own template (it may be injected, or the Rollout may reference a Deployment's template with workloadRef): change it where the template lives.`,
    );
    const patch = { spec: { template: { spec: { [listName]: [{ name: spec.name }] } } } };
    return {
      patch,
      kubectl: `# container ${spec.name} is not in the template of Rollout ${workload.namespace}/${workload.name}: no patch to send.`,
      yaml: stringify(patch),
      notes,
    };
  }
  const current = list[index] ?? {};
  const base = `/spec/template/spec/${listName}/${index}`;
  const ops: JsonPatchOp[] = [{ op: 'test', path: `${base}/name`, value: spec.name }];
  const memory: Record<string, string> = {};
  if (change.limitsMemory) memory.limits = change.limitsMemory;
  if (change.requestsMemory) memory.requests = change.requestsMemory;
  const resources = (current.resources ?? null) as Record<string, unknown> | null;
  for (const [section, value] of Object.entries(memory)) {
    if (resources === null) continue;
    if (resources[section] && typeof resources[section] === 'object')
      ops.push({ op: 'add', path: `${base}/resources/${section}/memory`, value });
    else ops.push({ op: 'add', path: `${base}/resources/${section}`, value: { memory: value } });
  }
  if (resources === null && Object.keys(memory).length > 0)
    ops.push({
      op: 'add',
      path: `${base}/resources`,
      value: Object.fromEntries(Object.entries(memory).map(([k, v]) => [k, { memory: v }])),
    });
  const env = Array.isArray(current.env) ? (current.env as Array<Record<string, unknown>>) : null;
  if (change.env.length > 0 && env === null) ops.push({ op: 'add', path: `${base}/env`, value: change.env });
  else
    for (const e of change.env) {
      const at = env?.findIndex((x) => x?.name === e.name) ?? -1;
      if (at === -1) ops.push({ op: 'add', path: `${base}/env/-`, value: e });
      else {
        ops.push({ op: 'test', path: `${base}/env/${at}/name`, value: e.name });
        ops.push({ op: 'replace', path: `${base}/env/${at}`, value: e });
      }
    }
  if (change.command) ops.push({ op: 'add', path: `${base}/command`, value: change.command });
  if (change.args) ops.push({ op: 'add', path: `${base}/args`, value: change.args });
  return {
    patch: { jsonPatch: ops },
    kubectl: `kubectl -n ${workload.namespace} patch rollout.argoproj.io ${workload.name} --type json -p ${shellQuote(JSON.stringify(ops))}`,
    yaml: stringify(ops),
    notes,
  };
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
