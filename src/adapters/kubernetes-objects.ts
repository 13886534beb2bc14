// Pure mapping from Kubernetes API objects (as JSON, or as client-node returns them, with Date
// instances for timestamps) to the core's evidence types. No I/O here, so it is tested on fixtures.
import { resolveContainerEnv, type EnvResolutionContext } from '../core/container-env';
import type { ApiObject } from '../core/kubernetes-types';
import { parseQuantity } from '../core/quantity';
import { findRuntimeSettings } from '../core/runtime-settings';
import type {
  ContainerSpecEvidence,
  ContainerStatusEvidence,
  ControllerKind,
  NamespaceLimits,
  NodeEvidence,
  PodEvent,
  PodEvidence,
  ResolvedEnvVar,
  Termination,
  WorkloadKind,
  WorkloadRef,
} from '../core/types';

// Defined with the rest of the shared Kubernetes vocabulary; re-exported for the readers here.
export type { ApiObject };

export function toDate(value: unknown): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value === 'string' && value.length > 0) {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? null : date;
  }
  return null;
}

function memoryOf(
  resources: ApiObject | undefined,
  kind: 'requests' | 'limits',
): { bytes: number | null; quantity: string | null } {
  const raw = resources?.[kind]?.memory;
  if (raw === undefined || raw === null) return { bytes: null, quantity: null };
  const quantity = String(raw);
  try {
    return { bytes: parseQuantity(quantity), quantity };
  } catch {
    return { bytes: null, quantity };
  }
}

function termination(raw: ApiObject | undefined): Termination | null {
  if (!raw) return null;
  return {
    reason: String(raw.reason ?? (raw.exitCode === 0 ? 'Completed' : 'Error')),
    exitCode: Number(raw.exitCode ?? -1),
    ...(raw.signal !== undefined ? { signal: Number(raw.signal) } : {}),
    startedAt: toDate(raw.startedAt),
    finishedAt: toDate(raw.finishedAt),
    ...(raw.message ? { message: String(raw.message) } : {}),
  };
}

export function containerStatus(raw: ApiObject): ContainerStatusEvidence {
  const state = raw.state ?? {};
  const stateName: ContainerStatusEvidence['state'] = state.running
    ? 'running'
    : state.waiting
      ? 'waiting'
      : state.terminated
        ? 'terminated'
        : 'unknown';
  return {
    name: String(raw.name),
    restartCount: Number(raw.restartCount ?? 0),
    ready: Boolean(raw.ready),
    state: stateName,
    ...(state.waiting?.reason ? { waitingReason: String(state.waiting.reason) } : {}),
    terminated: termination(state.terminated),
    lastTerminated: termination(raw.lastState?.terminated),
    startedAt: toDate(state.running?.startedAt),
  };
}

/** ConfigMaps the container reads environment from, so they can be fetched before resolving env. */
export function configMapsReferenced(container: ApiObject): string[] {
  const names = new Set<string>();
  for (const e of container.env ?? []) {
    const name = e?.valueFrom?.configMapKeyRef?.name;
    if (typeof name === 'string') names.add(name);
  }
  for (const source of container.envFrom ?? []) {
    const name = source?.configMapRef?.name;
    if (typeof name === 'string') names.add(name);
  }
  return [...names];
}

/**
 * The environment as the container's process sees it, resolved the kubelet's way
 * (`resolveContainerEnv` in the core): envFrom first, then env entries (which win); a memory
 * `resourceFieldRef` read from the container's own limit or request with its divisor; `$(VAR)`
 * expanded from the variables defined before it. Secrets are never resolved: their values are not
 * ours to read.
 */
export function resolveEnv(
  container: ApiObject,
  configMaps: ReadonlyMap<string, Record<string, string>>,
  context: EnvResolutionContext = {},
): ResolvedEnvVar[] {
  return resolveContainerEnv(container, configMaps, context);
}

export function containerSpec(
  raw: ApiObject,
  kind: ContainerSpecEvidence['kind'],
  configMaps: ReadonlyMap<string, Record<string, string>>,
  context: EnvResolutionContext = {},
): ContainerSpecEvidence {
  const request = memoryOf(raw.resources, 'requests');
  const limit = memoryOf(raw.resources, 'limits');
  const command = Array.isArray(raw.command) ? raw.command.map(String) : [];
  const args = Array.isArray(raw.args) ? raw.args.map(String) : [];
  const env = resolveEnv(raw, configMaps, context);
  return {
    name: String(raw.name),
    kind,
    image: String(raw.image ?? ''),
    requestBytes: request.bytes,
    limitBytes: limit.bytes,
    requestQuantity: request.quantity,
    limitQuantity: limit.quantity,
    command,
    args,
    env,
    runtime: findRuntimeSettings({ command, args, env }),
  };
}

export function podEvent(raw: ApiObject): PodEvent {
  return {
    reason: String(raw.reason ?? ''),
    type: String(raw.type ?? ''),
    message: String(raw.message ?? raw.note ?? ''),
    count: Number(raw.count ?? raw.series?.count ?? 1),
    firstAt: toDate(raw.firstTimestamp) ?? toDate(raw.eventTime) ?? toDate(raw.metadata?.creationTimestamp),
    lastAt:
      toDate(raw.lastTimestamp) ??
      toDate(raw.series?.lastObservedTime) ??
      toDate(raw.eventTime) ??
      toDate(raw.firstTimestamp),
    involvedKind: String(raw.involvedObject?.kind ?? raw.regarding?.kind ?? ''),
    involvedName: String(raw.involvedObject?.name ?? raw.regarding?.name ?? ''),
    ...(raw.involvedObject?.fieldPath ? { fieldPath: String(raw.involvedObject.fieldPath) } : {}),
    ...(raw.metadata?.annotations ? { annotations: { ...raw.metadata.annotations } } : {}),
  };
}

export function podEvidence(
  pod: ApiObject,
  events: ApiObject[],
  configMaps: ReadonlyMap<string, Record<string, string>>,
  context: EnvResolutionContext = {},
): PodEvidence {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  // Native sidecars are init containers that keep running (restartPolicy: Always).
  const initContainers: ApiObject[] = spec.initContainers ?? [];
  const containers: ContainerSpecEvidence[] = [
    ...initContainers.map((c) =>
      containerSpec(c, c.restartPolicy === 'Always' ? 'sidecar' : 'init', configMaps, context),
    ),
    ...(spec.containers ?? []).map((c: ApiObject) => containerSpec(c, 'app', configMaps, context)),
  ];
  const statuses = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])].map(
    containerStatus,
  );
  return {
    namespace: String(pod.metadata?.namespace ?? ''),
    name: String(pod.metadata?.name ?? ''),
    uid: String(pod.metadata?.uid ?? ''),
    phase: String(status.phase ?? 'Unknown'),
    reason: status.reason ? String(status.reason) : null,
    message: status.message ? String(status.message) : null,
    qosClass: status.qosClass ? String(status.qosClass) : null,
    nodeName: spec.nodeName ? String(spec.nodeName) : null,
    createdAt: toDate(pod.metadata?.creationTimestamp),
    annotations: { ...(pod.metadata?.annotations ?? {}) },
    containers,
    statuses,
    events: events.map(podEvent).sort((a, b) => (a.lastAt?.getTime() ?? 0) - (b.lastAt?.getTime() ?? 0)),
  };
}

export function nodeEvidence(node: ApiObject, events: ApiObject[]): NodeEvidence {
  const condition = (node.status?.conditions ?? []).find((c: ApiObject) => c.type === 'MemoryPressure');
  const bytes = (v: unknown): number | null => {
    try {
      return typeof v === 'string' || typeof v === 'number' ? parseQuantity(String(v)) : null;
    } catch {
      return null;
    }
  };
  const status = condition?.status;
  return {
    name: String(node.metadata?.name ?? ''),
    allocatableBytes: bytes(node.status?.allocatable?.memory),
    capacityBytes: bytes(node.status?.capacity?.memory),
    memoryPressure: status === 'True' || status === 'False' || status === 'Unknown' ? status : null,
    memoryPressureSince: condition ? toDate(condition.lastTransitionTime) : null,
    events: events.map(podEvent),
  };
}

/** The newest moment a pod's containers were killed, for picking "the most recently killed pod". */
export function lastKillAt(pod: ApiObject): number {
  let newest = 0;
  for (const s of [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])]) {
    for (const t of [s.state?.terminated, s.lastState?.terminated]) {
      if (t && (t.reason === 'OOMKilled' || t.exitCode === 137))
        newest = Math.max(newest, toDate(t.finishedAt)?.getTime() ?? 0);
    }
  }
  if (pod.status?.reason === 'Evicted')
    newest = Math.max(newest, toDate(pod.status?.startTime)?.getTime() ?? 1);
  return newest;
}

export function controllerOf(obj: ApiObject): { apiVersion: string; kind: string; name: string } | null {
  const owner =
    (obj.metadata?.ownerReferences ?? []).find((o: ApiObject) => o.controller) ??
    obj.metadata?.ownerReferences?.[0];
  return owner
    ? { apiVersion: String(owner.apiVersion ?? ''), kind: String(owner.kind), name: String(owner.name) }
    : null;
}

/** maxSurge resolved against the replica count (rounded up, as the Deployment controller does). */
export function surgeOf(workload: ApiObject, replicas: number): number {
  const strategy = workload.spec?.strategy ?? workload.spec?.updateStrategy;
  if (workload.kind === 'StatefulSet' || strategy?.type === 'Recreate' || strategy?.type === 'OnDelete')
    return 0;
  const raw = strategy?.rollingUpdate?.maxSurge ?? (workload.kind === 'Deployment' ? '25%' : 0);
  if (typeof raw === 'number') return Math.max(0, raw);
  const match = /^(\d{1,3})%$/.exec(String(raw));
  if (match) return Math.ceil((Number(match[1]) / 100) * replicas);
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : 0;
}

export function workloadRef(kind: WorkloadKind, obj: ApiObject): WorkloadRef {
  const replicas =
    kind === 'Deployment' || kind === 'StatefulSet' || kind === 'ReplicaSet' || kind === 'Rollout'
      ? Number(obj.spec?.replicas ?? 1)
      : 1;
  const ref: WorkloadRef = {
    kind,
    namespace: String(obj.metadata?.namespace ?? ''),
    name: String(obj.metadata?.name ?? ''),
    generation: Number(obj.metadata?.generation ?? 0),
    replicas,
    surge: kind === 'Rollout' ? rolloutSurge(obj, replicas) : surgeOf({ ...obj, kind }, replicas),
    annotations: { ...(obj.metadata?.annotations ?? {}) },
    labels: { ...(obj.metadata?.labels ?? {}) },
  };
  if (kind === 'Rollout') {
    const spec = obj.spec?.template?.spec ?? {};
    ref.podTemplate = {
      containers: Array.isArray(spec.containers) ? spec.containers : [],
      initContainers: Array.isArray(spec.initContainers) ? spec.initContainers : [],
    };
  }
  return ref;
}

/** Extra pods during a Rollout's update: a canary's maxSurge (25% by default), a blue-green's whole preview set. */
function rolloutSurge(rollout: ApiObject, replicas: number): number {
  const strategy = rollout.spec?.strategy ?? {};
  if (strategy.blueGreen) return replicas;
  return surgeOf(
    {
      kind: 'Deployment',
      spec: { strategy: { rollingUpdate: { maxSurge: strategy.canary?.maxSurge ?? '25%' } } },
    },
    replicas,
  );
}

/** The tightest LimitRange max and ResourceQuota headroom for container memory limits in a namespace. */
export function namespaceLimits(limitRanges: ApiObject[], quotas: ApiObject[]): NamespaceLimits {
  let limitRangeMaxBytes: number | null = null;
  let limitRangeName: string | null = null;
  for (const range of limitRanges) {
    for (const item of range.spec?.limits ?? []) {
      if (item.type !== 'Container' || item.max?.memory === undefined) continue;
      try {
        const bytes = parseQuantity(String(item.max.memory));
        if (limitRangeMaxBytes === null || bytes < limitRangeMaxBytes) {
          limitRangeMaxBytes = bytes;
          limitRangeName = String(range.metadata?.name ?? '');
        }
      } catch {
        /* an unreadable quantity cannot bind anything */
      }
    }
  }
  let quotaHeadroomBytes: number | null = null;
  let quotaName: string | null = null;
  for (const quota of quotas) {
    const hard = quota.status?.hard?.['limits.memory'] ?? quota.spec?.hard?.['limits.memory'];
    if (hard === undefined) continue;
    try {
      const headroom =
        parseQuantity(String(hard)) - parseQuantity(String(quota.status?.used?.['limits.memory'] ?? '0'));
      if (quotaHeadroomBytes === null || headroom < quotaHeadroomBytes) {
        quotaHeadroomBytes = Math.max(0, headroom);
        quotaName = String(quota.metadata?.name ?? '');
      }
    } catch {
      /* as above */
    }
  }
  return { limitRangeMaxBytes, limitRangeName, quotaHeadroomBytes, quotaName };
}

export type OwnerLookup = (
  kind: ControllerKind,
  namespace: string,
  name: string,
) => Promise<ApiObject | null>;

const ARGO_ROLLOUTS = /^argoproj\.io\//;

/**
 * Follows `controller: true` owner references from a pod to the top, the workload a fix must
 * change: ReplicaSet to Deployment or to Argo Rollouts' Rollout, Job to CronJob. A ReplicaSet or
 * Job with no controller above it is itself the workload; a pod without a controller is a bare Pod.
 * A controller of a kind oomdoctor does not know (an operator's) is kept in `owner`, on the nearest
 * object it does know, so the fix names it and never patches a controller-managed ReplicaSet.
 */
export async function resolveWorkload(pod: ApiObject, lookup: OwnerLookup): Promise<WorkloadRef> {
  const namespace = String(pod.metadata?.namespace ?? '');
  const owner = controllerOf(pod);
  if (!owner) return workloadRef('Pod', pod);
  const kind = owner.kind;
  if (kind === 'ReplicaSet' || kind === 'Job') {
    const middle = await lookup(kind, namespace, owner.name);
    if (!middle) return workloadRef(kind, { metadata: { name: owner.name, namespace } });
    const top = controllerOf(middle);
    if (!top) return workloadRef(kind, middle);
    if (kind === 'ReplicaSet' && top.kind === 'Rollout' && ARGO_ROLLOUTS.test(top.apiVersion)) {
      const rollout = await lookup('Rollout', namespace, top.name);
      if (rollout) return workloadRef('Rollout', rollout);
      return { ...workloadRef(kind, middle), owner: top };
    }
    const topKind = kind === 'ReplicaSet' ? 'Deployment' : 'CronJob';
    if (top.kind === topKind) {
      const workload = await lookup(topKind, namespace, top.name);
      if (workload) return workloadRef(topKind, workload);
      return workloadRef(kind, middle);
    }
    return { ...workloadRef(kind, middle), owner: top };
  }
  if (kind === 'StatefulSet' || kind === 'DaemonSet' || kind === 'Deployment' || kind === 'CronJob') {
    const workload = await lookup(kind, namespace, owner.name);
    return workloadRef(kind, workload ?? { metadata: { name: owner.name, namespace } });
  }
  // Operators own pods too (an OpenKruise CloneSet, a database operator's kinds): name the owner.
  return { ...workloadRef('Pod', pod), owner };
}
