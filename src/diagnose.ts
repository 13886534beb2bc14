// The engine: gather evidence (in parallel, each source allowed to fail), classify, recommend.
// The CLI and the Slack worker both call `diagnose`, and nothing else decides anything.
import { NotFoundError, SourceError } from './adapters/errors';
import type { ClusterReader } from './adapters/kubernetes';
import {
  configMapsReferenced,
  lastKillAt,
  namespaceLimits,
  nodeEvidence,
  podEvidence,
  resolveWorkload,
  toDate,
  type ApiObject,
} from './adapters/kubernetes-objects';
import { containerChoiceIsOpen, pickContainer } from './adapters/container-choice';
import type { MetricsSource } from './adapters/prometheus';
import { classify, limitInForce, requestInForce, targetSpec } from './core/classify';
import { lookbackToWiden } from './core/lookback';
import { asOomdoctorError, OomdoctorError } from './core/errors';
import { labelSelector } from './core/kubernetes-types';
import { parseQuantity } from './core/quantity';
import { recommend } from './core/recommend';
import type { Diagnosis, Evidence, MetricsEvidence, Target, TargetRequest, WorkloadRef } from './core/types';

export interface DiagnoseRequest {
  target: TargetRequest;
  container?: string;
  windowMs: number;
  guaranteedQos?: boolean;
}

export interface DiagnoseDeps {
  cluster: ClusterReader;
  /** Null when no Prometheus is configured: the metrics API gives one current reading instead. */
  metrics: MetricsSource | null;
  now?: () => Date;
  /**
   * How long gathering may take (default 20 s). Reads still pending then are given up and named in
   * `missing`; the diagnosis is made from what was gathered.
   */
  deadlineMs?: number;
  /** Called as each stage starts, for progress reports (the Slack placeholder). */
  onProgress?: (stage: 'resolving' | 'gathering' | 'querying-prometheus' | 'classifying') => void;
}

const SELECTOR_KINDS: Record<string, string> = { Deployment: 'apps', StatefulSet: 'apps', DaemonSet: 'apps' };

/** The pod a request names: itself, or the workload's most recently killed pod. */
export async function resolvePod(cluster: ClusterReader, request: TargetRequest): Promise<ApiObject> {
  if (request.kind === 'pod') return cluster.readPod(request.namespace, request.pod);
  const { namespace, name, workloadKind } = request;
  let pods: ApiObject[];
  if (workloadKind === 'CronJob') {
    const cronJob = await cluster.readWorkload('CronJob', namespace, name);
    if (!cronJob) throw new NotFoundError(`CronJob ${namespace}/${name} not found`);
    const labels = cronJob.spec?.jobTemplate?.spec?.template?.metadata?.labels ?? {};
    pods = await cluster.listPods(namespace, labelSelector(labels));
    pods = pods.filter((p) => String(p.metadata?.ownerReferences?.[0]?.name ?? '').startsWith(`${name}-`));
  } else {
    if (!(workloadKind in SELECTOR_KINDS))
      throw new NotFoundError(`cannot look up pods of a ${workloadKind}`);
    const workload = await cluster.readWorkload(workloadKind as 'Deployment', namespace, name);
    if (!workload) throw new NotFoundError(`${workloadKind} ${namespace}/${name} not found`);
    pods = await cluster.listPods(namespace, labelSelector(workload.spec?.selector?.matchLabels ?? {}));
  }
  if (pods.length === 0) throw new NotFoundError(`${workloadKind} ${namespace}/${name} has no pods`);
  // The most recently killed pod; with no kill anywhere, the newest pod.
  const ranked = [...pods].sort(
    (a, b) =>
      lastKillAt(b) - lastKillAt(a) ||
      (toDate(b.metadata?.creationTimestamp)?.getTime() ?? 0) -
        (toDate(a.metadata?.creationTimestamp)?.getTime() ?? 0),
  );
  return ranked[0] as ApiObject;
}

function describeFailure(error: unknown): string {
  const failure = asOomdoctorError(error);
  // Prometheus' and the metrics API's failures name their source and carry their fix: one line
  // saying what went wrong and what to do. The Kubernetes reads' (and unmapped ones, which come
  // from them) are given the source's name.
  const fromKubernetes =
    failure.code.startsWith('kube') || failure.code === 'not-found' || failure.code === 'internal';
  return fromKubernetes ? `kubernetes: ${failure.message}` : failure.sentence;
}

/** Runs one gatherer; a failure is written down in `missing` and the diagnosis goes on. */
async function attempt<T>(
  missing: string[],
  consequence: string,
  gather: () => Promise<T>,
  fallback: T,
): Promise<T> {
  try {
    return await gather();
  } catch (error) {
    missing.push(`${describeFailure(error)}${consequence ? `. ${consequence}` : ''}`);
    return fallback;
  }
}

export const DEFAULT_DEADLINE_MS = 20_000;

/**
 * The sources, each call of which gives up at the deadline with a `deadline` error naming the
 * source and the read: a slow or hung API cannot hold the whole diagnosis.
 */
function withinDeadline(deps: DiagnoseDeps, deadline: Promise<never>): DiagnoseDeps {
  const wrap = <T extends object>(source: T, name: string): T =>
    new Proxy(source, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) =>
          Promise.race([
            value.apply(target, args),
            deadline.catch((error: OomdoctorError) => {
              throw new OomdoctorError(
                'deadline',
                `${name}: ${String(property)}(${args.filter((a) => typeof a === 'string').join(', ')}) ${error.message}`,
                { fix: error.fix ?? '' },
              );
            }),
          ]);
      },
    });
  return {
    ...deps,
    cluster: wrap(deps.cluster, 'kubernetes'),
    metrics: deps.metrics && wrap(deps.metrics, 'prometheus'),
  };
}

export async function gatherEvidence(request: DiagnoseRequest, given: DiagnoseDeps): Promise<Evidence> {
  const deadlineMs = given.deadlineMs ?? DEFAULT_DEADLINE_MS;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new OomdoctorError(
            'deadline',
            `got no answer within the ${deadlineMs / 1000} s diagnosis deadline`,
            {
              fix: "the diagnosis was made without it; check that source's health",
            },
          ),
        ),
      deadlineMs,
    );
    timer.unref();
  });
  deadline.catch(() => undefined); // only the reads still running care
  try {
    return await gatherEvidenceWithin(request, withinDeadline(given, deadline));
  } finally {
    clearTimeout(timer);
  }
}

/** Every container's OOM counter rise, to find a child process killed in a container that did not restart; empty when unknown. */
async function oomCounters(
  deps: DiagnoseDeps,
  pod: ApiObject,
  window: { start: Date; end: Date },
): Promise<Map<string, number>> {
  if (!deps.metrics?.oomEventsByContainer) return new Map();
  try {
    return await deps.metrics.oomEventsByContainer(
      String(pod.metadata?.namespace),
      String(pod.metadata?.name),
      window,
    );
  } catch {
    // The history query that follows meets the same failure and says so in `missing`.
    return new Map();
  }
}

async function gatherEvidenceWithin(request: DiagnoseRequest, deps: DiagnoseDeps): Promise<Evidence> {
  const now = deps.now?.() ?? new Date();
  const window = { start: new Date(now.getTime() - request.windowMs), end: now };
  deps.onProgress?.('resolving');
  const pod = await resolvePod(deps.cluster, request.target);
  const namespace = String(pod.metadata?.namespace);
  const podName = String(pod.metadata?.name);
  const allContainers: ApiObject[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const missing: string[] = [];
  const nodeName = pod.spec?.nodeName ? String(pod.spec.nodeName) : null;
  // Read before choosing the container: a kernel OOM line may name one that did not restart.
  const nodeEventsPromise = nodeName
    ? attempt(
        missing,
        "The node's kernel OOM events cannot be seen",
        () => deps.cluster.nodeEvents(nodeName),
        [] as ApiObject[],
      )
    : Promise.resolve([] as ApiObject[]);
  const containerName =
    request.container ??
    pickContainer(pod, {
      nodeEvents: await nodeEventsPromise,
      ...(containerChoiceIsOpen(pod) ? { oomEventsByContainer: await oomCounters(deps, pod, window) } : {}),
    });
  const container = allContainers.find((c) => c.name === containerName);
  if (!containerName || !container) {
    throw new NotFoundError(
      `no container "${containerName ?? ''}" in pod ${namespace}/${podName} (it has: ${allContainers.map((c) => c.name).join(', ')})`,
    );
  }
  const target: Target = { namespace, pod: podName, container: containerName };

  deps.onProgress?.('gathering');
  // The pod as it is now: series of earlier pods re-created under the same name are left out.
  const podUid = pod.metadata?.uid ? String(pod.metadata.uid) : undefined;
  const metricsPromise = (async (): Promise<MetricsEvidence | null> => {
    if (deps.metrics) {
      deps.onProgress?.('querying-prometheus');
      const source = deps.metrics;
      return attempt(
        missing,
        'Without a memory history the causes rest on the pod status and runtime settings alone, so their confidence is lower',
        () => source.history(target, window, podUid ? { podUid } : {}),
        null,
      );
    }
    missing.push(
      'prometheus: not configured (set PROMETHEUS_URL or --prometheus-url); using one current reading from the metrics API, so the shape of usage over time is unknown and cause confidence is lower',
    );
    return attempt(
      missing,
      '',
      async () => metricsApiReading(await deps.cluster.podMetrics(namespace, podName), containerName, now),
      null,
    );
  })();

  const [events, node, nodeEvents, workload, configMaps, limitRanges, quotas, metrics] = await Promise.all([
    attempt(
      missing,
      'Evictions, probe kills and back-offs cannot be seen',
      () => deps.cluster.podEvents(namespace, podName),
      [] as ApiObject[],
    ),
    nodeName
      ? attempt(
          missing,
          "The node's allocatable memory and pressure are unknown",
          () => deps.cluster.readNode(nodeName),
          null as ApiObject | null,
        )
      : Promise.resolve(null),
    nodeEventsPromise,
    attempt(
      missing,
      'The patch names the pod, not its workload',
      () =>
        resolveWorkload(pod, (kind, ns, name) =>
          kind === 'Rollout'
            ? // Without the Rollout (no RBAC grant, no CRD) the ReplicaSet's owner reference still names it.
              attempt(
                missing,
                'The fix names the Rollout from the ReplicaSet, without a patch for its template',
                () => deps.cluster.readWorkload(kind, ns, name),
                null,
              )
            : deps.cluster.readWorkload(kind, ns, name),
        ),
      null as WorkloadRef | null,
    ),
    Promise.all(
      configMapsReferenced(container).map(async (name) => {
        const cm = await attempt(
          missing,
          'Runtime settings from it are unknown',
          () => deps.cluster.readConfigMap(namespace, name),
          null as ApiObject | null,
        );
        return [name, (cm?.data ?? {}) as Record<string, string>] as const;
      }),
    ),
    attempt(
      missing,
      'The LimitRange cap on the recommendation is unknown',
      () => deps.cluster.listLimitRanges(namespace),
      [] as ApiObject[],
    ),
    attempt(
      missing,
      'The ResourceQuota cap on the recommendation is unknown',
      () => deps.cluster.listResourceQuotas(namespace),
      [] as ApiObject[],
    ),
    metricsPromise,
  ]);
  missing.push(...(metrics?.caveats ?? []));

  const nodeFacts = node ? nodeEvidence(node, nodeEvents) : null;
  const evidence: Evidence = {
    target,
    window,
    // A resourceFieldRef on limits.memory without a limit reads the node's allocatable memory.
    pod: podEvidence(pod, events, new Map(configMaps), {
      nodeAllocatableBytes: nodeFacts?.allocatableBytes ?? null,
    }),
    workload,
    node: nodeFacts,
    namespaceLimits: namespaceLimits(limitRanges, quotas),
    metrics,
    missing,
  };
  // One day holds one daily cycle: when the rise before the kill could be the day's traffic as well
  // as a leak, look further back at a coarser step (one more query, still ≤ 1,440 points).
  const wider = deps.metrics ? lookbackToWiden(evidence) : null;
  if (deps.metrics && wider) {
    const source = deps.metrics;
    const wideWindow = { start: new Date(now.getTime() - wider.windowMs), end: now };
    const wide = await attempt(
      missing,
      'The days before the window could not be read, so a daily cycle cannot be told from a leak',
      () => source.history(target, wideWindow, podUid ? { podUid } : {}),
      null,
    );
    if (wide) {
      for (const caveat of wide.caveats ?? []) if (!missing.includes(caveat)) missing.push(caveat);
      evidence.window = wideWindow;
      evidence.metrics = { ...wide, widened: { requestedMs: request.windowMs, reason: wider.reason } };
    }
  }
  return evidence;
}

function metricsApiReading(podMetrics: ApiObject, container: string, now: Date): MetricsEvidence | null {
  const entry = (podMetrics.containers ?? []).find((c: ApiObject) => c.name === container);
  if (!entry?.usage?.memory) throw new SourceError('metrics-api', `no reading for container ${container}`);
  const at = toDate(podMetrics.timestamp)?.getTime() ?? now.getTime();
  return {
    workingSet: [{ at, value: parseQuantity(String(entry.usage.memory)) }],
    stepMs: 0,
    limitBytes: null,
    requestBytes: null,
    restarts: [],
    oomEvents: [],
    starts: [],
    source: 'metrics-api',
  };
}

/** Evidence to diagnosis: the pure part, exported for tests and for callers that gathered themselves. */
export function diagnoseEvidence(evidence: Evidence, options: { guaranteedQos?: boolean } = {}): Diagnosis {
  const classification = classify(evidence);
  const recommendation = recommend(evidence, classification, options);
  const spec = targetSpec(evidence);
  const limit = limitInForce(evidence);
  const request = requestInForce(evidence);
  const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    schemaVersion: 1,
    target: evidence.target,
    window: { start: iso(evidence.window.start), end: iso(evidence.window.end) },
    verdict: classification.verdict,
    headline: classification.headline,
    verdictEvidence: classification.verdictEvidence,
    kills: classification.kills.map((k) => ({ at: iso(k.at), reason: k.reason, exitCode: k.exitCode })),
    causes: classification.causes,
    current: {
      resources: {
        requests: { memory: spec?.requestQuantity ?? (request !== null ? String(request) : null) },
        limits: { memory: spec?.limitQuantity ?? (limit !== null ? String(limit) : null) },
      },
      runtime: (spec?.runtime ?? []).map((r) => ({ source: r.source, setting: r.setting, value: r.value })),
    },
    recommendation,
    missing: evidence.missing,
    series: {
      stepMs: evidence.metrics?.stepMs ?? 0,
      points: (evidence.metrics?.workingSet ?? []).map((s) => [s.at, s.value] as [number, number]),
      limitBytes: limit,
      requestBytes: request,
    },
  };
}

export async function diagnose(request: DiagnoseRequest, deps: DiagnoseDeps): Promise<Diagnosis> {
  const evidence = await gatherEvidence(request, deps);
  deps.onProgress?.('classifying');
  return diagnoseEvidence(evidence, { guaranteedQos: request.guaranteedQos ?? false });
}
