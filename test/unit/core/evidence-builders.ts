// Hand-built Evidence for the classifier and recommender tests: one container, one kill, and only
// what each test says on top. Containers go through the real adapter mapping (containerSpec), so
// runtime settings are found exactly as they would be on a live pod.
import { containerSpec, type ApiObject } from '../../../src/adapters/kubernetes-objects';
import type {
  ContainerSpecEvidence,
  ContainerStatusEvidence,
  Evidence,
  MetricsEvidence,
  NamespaceLimits,
  NodeEvidence,
  PodEvent,
  Sample,
  Termination,
  WorkloadRef,
} from '../../../src/core/types';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const MiB = 2 ** 20;
export const GiB = 2 ** 30;
export const NOW = Date.parse('2026-11-28T12:00:00Z');
export const WINDOW = 24 * HOUR;

export const SECRET = 's3cr3t-hunter2-do-not-print';

export function termination(
  reason: string,
  exitCode: number,
  finishedAt: number | null,
  extra: Partial<Termination> = {},
): Termination {
  return {
    reason,
    exitCode,
    startedAt: finishedAt === null ? null : new Date(finishedAt - 3 * HOUR),
    finishedAt: finishedAt === null ? null : new Date(finishedAt),
    ...extra,
  };
}

export function podEvent(
  reason: string,
  message: string,
  at: number,
  extra: Partial<PodEvent> = {},
): PodEvent {
  return {
    reason,
    type: 'Warning',
    message,
    count: 1,
    firstAt: new Date(at),
    lastAt: new Date(at),
    involvedKind: 'Pod',
    involvedName: 'api-7d9f8b6c4-x2x9z',
    ...extra,
  };
}

/** A container as the API holds it, mapped through the real adapter. `limit`/`request` are quantity strings. */
export function container(
  raw: {
    name?: string;
    limit?: string | null;
    request?: string | null;
    env?: ApiObject[];
    envFrom?: ApiObject[];
    args?: string[];
    command?: string[];
  } = {},
  kind: ContainerSpecEvidence['kind'] = 'app',
  configMaps: ReadonlyMap<string, Record<string, string>> = new Map(),
): ContainerSpecEvidence {
  const resources: ApiObject = {};
  const limit = raw.limit === undefined ? '1Gi' : raw.limit;
  const request = raw.request === undefined ? '512Mi' : raw.request;
  if (limit !== null) resources.limits = { memory: limit };
  if (request !== null) resources.requests = { memory: request };
  return containerSpec(
    {
      name: raw.name ?? 'api',
      image: 'registry.example.com/api:1.0',
      resources,
      ...(raw.env ? { env: raw.env } : {}),
      ...(raw.envFrom ? { envFrom: raw.envFrom } : {}),
      ...(raw.args ? { args: raw.args } : {}),
      ...(raw.command ? { command: raw.command } : {}),
    },
    kind,
    configMaps,
  );
}

export function status(name: string, parts: Partial<ContainerStatusEvidence> = {}): ContainerStatusEvidence {
  return {
    name,
    restartCount: 1,
    ready: true,
    state: 'running',
    terminated: null,
    lastTerminated: null,
    startedAt: new Date(NOW - HOUR),
    ...parts,
  };
}

export function deployment(parts: Partial<WorkloadRef> = {}): WorkloadRef {
  return {
    kind: 'Deployment',
    namespace: 'shop',
    name: 'api',
    generation: 7,
    replicas: 3,
    surge: 1,
    annotations: {},
    labels: {},
    ...parts,
  };
}

export function node(parts: Partial<NodeEvidence> = {}): NodeEvidence {
  return {
    name: 'worker-1',
    allocatableBytes: 16 * GiB,
    capacityBytes: 17 * GiB,
    memoryPressure: 'False',
    memoryPressureSince: null,
    events: [],
    ...parts,
  };
}

export function noNamespaceLimits(parts: Partial<NamespaceLimits> = {}): NamespaceLimits {
  return {
    limitRangeMaxBytes: null,
    limitRangeName: null,
    quotaHeadroomBytes: null,
    quotaName: null,
    ...parts,
  };
}

export interface EvidenceParts {
  containers?: ContainerSpecEvidence[];
  statuses?: ContainerStatusEvidence[];
  target?: string;
  lastTerminated?: Termination | null;
  terminated?: Termination | null;
  restartCount?: number;
  events?: PodEvent[];
  podReason?: string | null;
  podMessage?: string | null;
  metrics?: MetricsEvidence | null;
  node?: NodeEvidence | null;
  workload?: WorkloadRef | null;
  namespaceLimits?: NamespaceLimits | null;
}

/**
 * Evidence for container "api" of pod shop/api-7d9f8b6c4-x2x9z over the 24 h before NOW. By default
 * it was OOMKilled one hour ago at a 1Gi limit, with no memory history.
 */
export function evidence(parts: EvidenceParts = {}): Evidence {
  const containers = parts.containers ?? [container()];
  const targetName = parts.target ?? containers.find((c) => c.kind === 'app')?.name ?? 'api';
  const lastTerminated =
    parts.lastTerminated === undefined ? termination('OOMKilled', 137, NOW - HOUR) : parts.lastTerminated;
  const statuses = parts.statuses ?? [
    status(targetName, {
      lastTerminated,
      terminated: parts.terminated ?? null,
      restartCount: parts.restartCount ?? (lastTerminated ? 1 : 0),
    }),
  ];
  return {
    target: { namespace: 'shop', pod: 'api-7d9f8b6c4-x2x9z', container: targetName },
    window: { start: new Date(NOW - WINDOW), end: new Date(NOW) },
    pod: {
      namespace: 'shop',
      name: 'api-7d9f8b6c4-x2x9z',
      uid: '0b7e7a4e-4a49-4f4e-a1a2-1c1d2e3f4a5b',
      phase: parts.podReason === 'Evicted' ? 'Failed' : 'Running',
      reason: parts.podReason ?? null,
      message: parts.podMessage ?? null,
      qosClass: 'Burstable',
      nodeName: 'worker-1',
      createdAt: new Date(NOW - 40 * HOUR),
      annotations: {},
      containers,
      statuses,
      events: parts.events ?? [],
    },
    workload: parts.workload === undefined ? deployment() : parts.workload,
    node: parts.node === undefined ? node() : parts.node,
    namespaceLimits: parts.namespaceLimits === undefined ? noNamespaceLimits() : parts.namespaceLimits,
    metrics: parts.metrics === undefined ? null : parts.metrics,
    missing: [],
  };
}

/** A cumulative counter sampled every `stepMs` over the window, stepping up by one at each event. */
export function counter(events: number[], stepMs = MINUTE, from = NOW - WINDOW, to = NOW): Sample[] {
  const out: Sample[] = [];
  for (let at = from; at <= to; at += stepMs) out.push({ at, value: events.filter((e) => e <= at).length });
  return out;
}

/** A flat working set at `level` bytes for the whole window, with a restart counter that never moves. */
export function flatMetrics(
  level: number,
  limit: number | null,
  parts: Partial<MetricsEvidence> = {},
): MetricsEvidence {
  const workingSet: Sample[] = [];
  for (let at = NOW - WINDOW; at <= NOW; at += MINUTE)
    workingSet.push({ at, value: level + ((at / MINUTE) % 7) * MiB });
  return {
    workingSet,
    stepMs: MINUTE,
    limitBytes: limit,
    requestBytes: null,
    restarts: counter([]),
    oomEvents: counter([]),
    starts: [NOW - 30 * HOUR],
    source: 'prometheus',
    ...parts,
  };
}
