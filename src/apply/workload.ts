// Pure rules about the workload a fix changes: which kinds can be patched, who else manages it
// (GitOps, Helm), what the diagnosis saw of it, whether it changed since, the patches and the diff.
import { createHash } from 'node:crypto';
import type { ApiObject } from '../core/kubernetes-types';
import type {
  ContainerList,
  ContainerState,
  DesiredChange,
  DiffLine,
  EnvEntry,
  PatchableKind,
  WorkloadSnapshot,
} from './types';

/** Why a workload of this kind gets no Apply button, in words; null when it can be patched. */
export function unpatchableReason(
  kind: string,
  namespace: string,
  name: string,
  owner?: { apiVersion: string; kind: string; name: string },
): string | null {
  const id = `${namespace}/${name}`;
  if (owner)
    return `${id} is controlled by ${owner.kind} ${owner.name} (${owner.apiVersion}), which oomdoctor does not patch: a change to the ${kind === 'Pod' ? 'pod' : kind} would be undone by it. Make the change shown below in ${owner.kind}'s pod template.`;
  switch (kind) {
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'CronJob':
      return null;
    case 'Pod':
      return `${id} is a bare pod: there is no controller to patch, and a pod's resources cannot be changed in place. Change its manifest with the patch below and recreate it.`;
    case 'Job':
      return `${id} is a Job without a CronJob: a Job's pod template cannot be changed once it is created. Change the manifest that creates it with the patch below.`;
    case 'ReplicaSet':
      return `${id} is a ReplicaSet without a Deployment: changing its template would not replace the running pods. Change its manifest with the patch below, or run it under a Deployment.`;
    case 'Rollout':
      return `${id} is an Argo Rollout: a custom resource refuses the strategic merge patches Apply sends (HTTP 415), and Apply does not send JSON patches yet. Run the kubectl line below, which sends a JSON patch.`;
    default:
      return `${id} is a ${kind}, which oomdoctor does not patch. Apply the patch below by hand.`;
  }
}

/** The pod spec inside a workload's template. */
export function podTemplateSpec(kind: PatchableKind, workload: ApiObject): ApiObject | null {
  const spec =
    kind === 'CronJob' ? workload.spec?.jobTemplate?.spec?.template?.spec : workload.spec?.template?.spec;
  return spec && typeof spec === 'object' ? spec : null;
}

export function findContainer(
  kind: PatchableKind,
  workload: ApiObject,
  name: string,
): { list: ContainerList; container: ApiObject } | null {
  const spec = podTemplateSpec(kind, workload);
  for (const list of ['containers', 'initContainers'] as const) {
    const found = (Array.isArray(spec?.[list]) ? (spec?.[list] as ApiObject[]) : []).find(
      (c) => c?.name === name,
    );
    if (found) return { list, container: found };
  }
  return null;
}

function digest(value: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(value ?? null))
    .digest('hex');
}

/** Object keys sorted, so that two JSON texts of equal objects are equal. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export function snapshotOf(
  kind: PatchableKind,
  workload: ApiObject,
  containerName: string,
): WorkloadSnapshot | null {
  const found = findContainer(kind, workload, containerName);
  if (!found) return null;
  const c = found.container;
  return {
    generation: Number(workload.metadata?.generation ?? 0),
    resources: canonical(c.resources ?? {}) as Record<string, unknown>,
    envDigest: digest(canonical({ env: c.env ?? null, envFrom: c.envFrom ?? null })),
    argsDigest: digest(c.args ?? null),
    commandDigest: digest(c.command ?? null),
  };
}

function jsonEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function memoryOf(resources: Record<string, unknown>, section: 'requests' | 'limits'): string {
  const value = (resources[section] as Record<string, unknown> | undefined)?.memory;
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '(none)';
}

/**
 * What changed in the workload's spec since the snapshot, in words; empty when nothing did. Status
 * updates (a crash-looping workload's restarts, replica counts) do not count: only the generation,
 * which moves with the spec, and the container's own resources, env and args.
 */
export function changesSince(
  expected: WorkloadSnapshot,
  kind: PatchableKind,
  live: ApiObject,
  containerName: string,
): string[] {
  const now = snapshotOf(kind, live, containerName);
  if (!now) return [`container ${containerName} is no longer in its pod template`];
  const reasons: string[] = [];
  if (now.generation !== expected.generation)
    reasons.push(`its spec changed (metadata.generation ${expected.generation} → ${now.generation})`);
  if (!jsonEqual(now.resources, expected.resources)) {
    const detail = (['requests', 'limits'] as const)
      .filter((s) => memoryOf(now.resources, s) !== memoryOf(expected.resources, s))
      .map((s) => `${s}.memory ${memoryOf(expected.resources, s)} → ${memoryOf(now.resources, s)}`);
    reasons.push(
      `container ${containerName}'s resources changed${detail.length > 0 ? ` (${detail.join(', ')})` : ''}`,
    );
  }
  if (now.envDigest !== expected.envDigest) reasons.push(`container ${containerName}'s environment changed`);
  if (now.argsDigest !== expected.argsDigest) reasons.push(`container ${containerName}'s args changed`);
  if (expected.commandDigest !== undefined && now.commandDigest !== expected.commandDigest)
    reasons.push(`container ${containerName}'s command changed`);
  return reasons;
}

// ---------------------------------------------------------------------------------------------
// Who else manages the workload

export interface GitOpsManager {
  tool: 'Argo CD' | 'Flux';
  /** The label or annotation that says so. */
  evidence: string;
}

/**
 * Argo CD (its tracking annotation, or its instance label where configured: Helm sets that label
 * too) or Flux (its kustomize or helm controller labels). A change made in the cluster would be
 * reverted by the controller at its next sync.
 */
export function gitOpsManager(
  workload: ApiObject,
  options: { argocdInstanceLabel: boolean },
): GitOpsManager | null {
  const labels: Record<string, string> = workload.metadata?.labels ?? {};
  const annotations: Record<string, string> = workload.metadata?.annotations ?? {};
  if (annotations['argocd.argoproj.io/tracking-id'])
    return {
      tool: 'Argo CD',
      evidence: `annotation argocd.argoproj.io/tracking-id=${annotations['argocd.argoproj.io/tracking-id']}`,
    };
  if (options.argocdInstanceLabel && labels['app.kubernetes.io/instance'])
    return {
      tool: 'Argo CD',
      evidence: `label app.kubernetes.io/instance=${labels['app.kubernetes.io/instance']}`,
    };
  for (const prefix of ['kustomize.toolkit.fluxcd.io/', 'helm.toolkit.fluxcd.io/']) {
    const key = Object.keys(labels)
      .sort()
      .find((k) => k.startsWith(prefix));
    if (key) return { tool: 'Flux', evidence: `label ${key}=${labels[key]}` };
  }
  return null;
}

/** The Helm release that manages the workload, or null. */
export function helmRelease(workload: ApiObject): string | null {
  const labels: Record<string, string> = workload.metadata?.labels ?? {};
  const annotations: Record<string, string> = workload.metadata?.annotations ?? {};
  if (annotations['meta.helm.sh/release-name']) return String(annotations['meta.helm.sh/release-name']);
  if (labels['app.kubernetes.io/managed-by'] === 'Helm')
    return String(labels['app.kubernetes.io/instance'] ?? labels.release ?? '(unnamed release)');
  return null;
}

// ---------------------------------------------------------------------------------------------
// States, patches and the diff

function envEntry(raw: ApiObject | undefined): EnvEntry | null {
  if (!raw || typeof raw.name !== 'string') return null;
  const entry: EnvEntry = { name: raw.name };
  if (typeof raw.value === 'string') entry.value = raw.value;
  if (raw.valueFrom !== undefined) entry.valueFrom = raw.valueFrom;
  return entry;
}

/** The container's current values of the fields `change` touches. */
export function containerState(container: ApiObject, change: DesiredChange): ContainerState {
  const env: ApiObject[] = Array.isArray(container.env) ? container.env : [];
  const state: ContainerState = {
    requestsMemory:
      container.resources?.requests?.memory !== undefined
        ? String(container.resources.requests.memory)
        : null,
    limitsMemory:
      container.resources?.limits?.memory !== undefined ? String(container.resources.limits.memory) : null,
    env: change.env.map((e) => ({ name: e.name, entry: envEntry(env.find((x) => x?.name === e.name)) })),
  };
  if (change.args !== null) state.args = Array.isArray(container.args) ? container.args.map(String) : null;
  if (change.command) state.command = Array.isArray(container.command) ? container.command.map(String) : null;
  return state;
}

/** The state `change` leads to from `before`. */
export function targetState(before: ContainerState, change: DesiredChange): ContainerState {
  const after: ContainerState = {
    requestsMemory: change.requestsMemory ?? before.requestsMemory,
    limitsMemory: change.limitsMemory ?? before.limitsMemory,
    env: change.env.map((e) => ({ name: e.name, entry: { name: e.name, value: e.value } })),
  };
  if (change.args !== null) after.args = [...change.args];
  if (change.command) after.command = [...change.command];
  return after;
}

/** Whether the container already has the values of `state` (a retried job after its patch went through). */
export function hasState(container: ApiObject, state: ContainerState): boolean {
  const change: DesiredChange = {
    requestsMemory: null,
    limitsMemory: null,
    env: state.env.map((e) => ({ name: e.name, value: '' })),
    args: state.args === undefined ? null : [],
    command: state.command === undefined ? null : [],
  };
  const now = containerState(container, change);
  return jsonEqual(now, state);
}

function wrap(
  kind: PatchableKind,
  list: ContainerList,
  container: Record<string, unknown>,
): Record<string, unknown> {
  const podSpec = { [list]: [container] };
  return kind === 'CronJob'
    ? { spec: { jobTemplate: { spec: { template: { spec: podSpec } } } } }
    : { spec: { template: { spec: podSpec } } };
}

/**
 * The strategic-merge patch that moves one container to `state`: memory requests and limits (null
 * removes them), the touched variables (merged by name; an absent one is deleted), and args.
 */
export function patchTo(
  kind: PatchableKind,
  list: ContainerList,
  containerName: string,
  state: ContainerState,
): Record<string, unknown> {
  const container: Record<string, unknown> = {
    name: containerName,
    resources: { requests: { memory: state.requestsMemory }, limits: { memory: state.limitsMemory } },
  };
  if (state.env.length > 0) {
    container.env = state.env.map(({ name, entry }) =>
      entry === null
        ? { name, $patch: 'delete' }
        : { name, value: entry.value ?? null, valueFrom: entry.valueFrom ?? null },
    );
  }
  if (state.args !== undefined) container.args = state.args;
  if (state.command !== undefined) container.command = state.command;
  return wrap(kind, list, container);
}

function shown(value: string | null): string {
  return value === null ? '(none)' : value;
}

function envText(entry: EnvEntry | null): string {
  if (entry === null) return '(not set)';
  if (entry.value !== undefined) return entry.value;
  return '(from a reference)';
}

/** The lines that differ between two states. Args are compared element by element, so only the changed flags are shown. */
export function diffStates(before: ContainerState, after: ContainerState): DiffLine[] {
  const lines: DiffLine[] = [];
  if (before.requestsMemory !== after.requestsMemory)
    lines.push({
      field: 'requests.memory',
      before: shown(before.requestsMemory),
      after: shown(after.requestsMemory),
    });
  if (before.limitsMemory !== after.limitsMemory)
    lines.push({
      field: 'limits.memory',
      before: shown(before.limitsMemory),
      after: shown(after.limitsMemory),
    });
  for (const e of after.env) {
    const old = before.env.find((b) => b.name === e.name)?.entry ?? null;
    if (!jsonEqual(old, e.entry))
      lines.push({ field: `env ${e.name}`, before: envText(old), after: envText(e.entry) });
  }
  if (after.args !== undefined && !jsonEqual(before.args ?? null, after.args)) {
    const a = before.args ?? [];
    const b = after.args ?? [];
    for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
      if (a[i] !== b[i])
        lines.push({ field: `args[${i}]`, before: a[i] ?? '(none)', after: b[i] ?? '(none)' });
    }
  }
  if (after.command !== undefined && !jsonEqual(before.command ?? null, after.command)) {
    const a = before.command ?? [];
    const b = after.command ?? [];
    for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
      if (a[i] !== b[i])
        lines.push({ field: `command[${i}]`, before: a[i] ?? '(none)', after: b[i] ?? '(none)' });
    }
  }
  return lines;
}

/** The change a Recommendation describes, ready to store with the suggestion. */
export function desiredChange(recommendation: {
  resources: { requests: { memory: string }; limits: { memory: string } };
  env: Array<{ name: string; value: string }>;
  args: string[] | null;
  command?: string[] | null;
}): DesiredChange {
  return {
    requestsMemory: recommendation.resources.requests.memory || null,
    limitsMemory: recommendation.resources.limits.memory || null,
    env: recommendation.env.map((e) => ({ name: e.name, value: e.value })),
    args: recommendation.args ? [...recommendation.args] : null,
    ...(recommendation.command ? { command: [...recommendation.command] } : {}),
  };
}
