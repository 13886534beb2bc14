// Generated clusters: for each scenario, the Kubernetes objects a real API would hold and the
// Prometheus series cAdvisor and kube-state-metrics would have scraped, with a known right answer.
// Labels and object shapes follow the real captures in test/fixtures/real (see SOURCES.md there).
import type { CauseId, MetricsEvidence, Sample, Verdict } from '../../src/core/types';
import type { KubeObject } from '../fakes/kube-api';
import type { GeneratedSeries } from './prometheus';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

export type Shape = 'plateau' | 'leak' | 'burst' | 'heap-sawtooth' | 'flat';
export type Ending = 'oom' | 'evicted' | 'probe' | 'child-oom' | 'none' | 'node-oom' | 'evicted-disk';

export interface RuntimeSpec {
  env?: Array<{ name: string; value: string }>;
  /** Env vars read from a ConfigMap named `<app>-env`. */
  configMapEnv?: Record<string, string>;
  args?: string[];
  command?: string[];
}

export interface ScenarioSpec {
  id: string;
  title: string;
  namespace: string;
  app: string;
  workloadKind: 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'CronJob' | 'Pod';
  container: string;
  limit: number | null;
  request: number | null;
  shape: Shape;
  ending: Ending;
  runtime?: RuntimeSpec;
  sidecar?: boolean;
  initContainer?: boolean;
  replicas?: number;
  nodeAllocatable?: number;
  limitRangeMax?: number;
  quota?: { hard: number; used: number };
  /** Hours each lifetime lasts (the generator varies it a little). */
  lifetimeHours?: number;
  /** A time shape of its own (daily cycles, scrape gaps): replaces `shape` and `lifetimeHours`. */
  timeline?: Timeline;
  expect: { verdict: Verdict; topCause?: CauseId };
}

/** Lifetimes and values of a scenario whose shape the simple shapes cannot make. */
export interface Timeline {
  /** Oldest first; each killed one is followed by the next; the last runs to `now` unkilled. */
  lifetimes(
    windowStart: number,
    now: number,
    random: () => number,
  ): Array<{ start: number; end: number; killed: boolean }>;
  /** Memory at `at` in a lifetime that started at `lifeStart`; NaN where nothing was scraped. */
  value(at: number, lifeStart: number, scale: number, random: () => number): number;
}

export interface GenerateOptions {
  /** End of the history (ms). Keep it recent: instant queries only see the last 5 minutes. */
  now: number;
  windowMs: number;
  scrapeMs: number;
  seed: number;
}

export interface Scenario {
  spec: ScenarioSpec;
  target: { namespace: string; pod: string; container: string };
  objects: KubeObject[];
  series: GeneratedSeries[];
  /** The history as the engine should see it, for pure tests (one value per scrape). */
  metrics: MetricsEvidence;
  killsAt: number[];
}

/** Small, seeded, good-enough PRNG (mulberry32), so every run generates the same data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

interface Lifetime {
  start: number;
  end: number;
  killed: boolean;
  samples: Sample[];
}

/** Memory at time t (ms since the lifetime started) for each shape; `scale` is the limit or a stand-in. */
function shapeValue(
  shape: Shape,
  t: number,
  length: number,
  scale: number,
  random: () => number,
  state: { spikeLeft: number; spikeLevel: number },
): number {
  const noise = gaussian(random) * 0.012 * scale;
  switch (shape) {
    case 'plateau': {
      const warm = Math.min(1, t / (25 * MINUTE));
      return scale * (0.25 + 0.68 * warm) + noise;
    }
    case 'leak':
      return scale * (0.3 + 0.66 * (t / length)) + noise;
    case 'burst': {
      if (state.spikeLeft > 0) {
        state.spikeLeft--;
        return scale * state.spikeLevel + noise;
      }
      if (random() < 0.004) {
        state.spikeLeft = 1 + Math.floor(random() * 2);
        state.spikeLevel = 0.68 + random() * 0.1;
      }
      return scale * 0.42 + noise;
    }
    case 'heap-sawtooth': {
      // A collector that lets the heap fill towards a too-large maximum: a sawtooth whose floor creeps up.
      const floor = 0.5 + 0.3 * Math.min(1, t / length);
      const tooth = (t % (12 * MINUTE)) / (12 * MINUTE);
      return scale * (floor + 0.16 * tooth) + noise;
    }
    case 'flat':
      return scale * 0.4 + noise;
  }
}

function podName(spec: ScenarioSpec, random: () => number): string {
  const chars = 'bcdfghjklmnpqrstvwxz2456789';
  const pick = (n: number) =>
    Array.from({ length: n }, () => chars[Math.floor(random() * chars.length)]).join('');
  switch (spec.workloadKind) {
    case 'Deployment':
      return `${spec.app}-${pick(9)}-${pick(5)}`;
    case 'StatefulSet':
      return `${spec.app}-0`;
    case 'DaemonSet':
      return `${spec.app}-${pick(5)}`;
    case 'CronJob':
      return `${spec.app}-2901234-${pick(5)}`;
    case 'Pod':
      return spec.app;
  }
}

export function generateScenario(spec: ScenarioSpec, options: GenerateOptions): Scenario {
  const random = rng(options.seed);
  const { now, windowMs, scrapeMs } = options;
  const windowStart = now - windowMs;
  const scale = spec.limit ?? 2 * GiB;
  const pod = podName(spec, random);
  const uid = uuid(random);
  const node = 'worker-1.cluster.local';
  const killsByShape = spec.ending === 'oom' || spec.ending === 'node-oom' || spec.ending === 'probe';

  // Lifetimes: the first started before the window; each killed one is followed by a restart.
  const lifetimes: Lifetime[] = [];
  const baseHours =
    spec.lifetimeHours ??
    (spec.shape === 'leak' ? 7 : spec.shape === 'plateau' ? 6 : spec.shape === 'heap-sawtooth' ? 3 : 8);
  const planned = spec.timeline?.lifetimes(windowStart, now, random);
  if (planned) for (const l of planned) lifetimes.push({ ...l, samples: [] });
  let start = windowStart - (0.2 + random() * 0.5) * baseHours * HOUR;
  while (!planned) {
    const length = baseHours * HOUR * (0.8 + random() * 0.4);
    const end = start + length;
    if (!killsByShape || end >= now - 20 * MINUTE) {
      lifetimes.push({ start, end: now, killed: false, samples: [] });
      break;
    }
    lifetimes.push({ start, end, killed: true, samples: [] });
    start = end + (10 + random() * 50) * 1000; // CrashLoopBackOff's short first delays
  }
  // A scenario whose last kill must be in the past few minutes still needs one kill.
  if (killsByShape && lifetimes.length === 1) {
    const only = lifetimes[0] as Lifetime;
    const end = now - 40 * MINUTE;
    lifetimes.splice(
      0,
      1,
      { start: only.start, end, killed: true, samples: [] },
      { start: end + 30_000, end: now, killed: false, samples: [] },
    );
  }

  for (const life of lifetimes) {
    const state = { spikeLeft: 0, spikeLevel: 0 };
    const length = life.end - life.start;
    const first = Math.ceil(Math.max(life.start, windowStart - 10 * MINUTE) / scrapeMs) * scrapeMs;
    for (let at = first; at <= life.end; at += scrapeMs) {
      let value = spec.timeline
        ? spec.timeline.value(at, life.start, scale, random)
        : shapeValue(spec.shape, at - life.start, length, scale, random, state);
      if (Number.isNaN(value)) continue;
      if (life.killed && at + scrapeMs > life.end) value = finalValue(spec, scale, value, random);
      life.samples.push({ at, value: Math.max(8 * MiB, Math.round(value)) });
    }
  }
  const killsAt = lifetimes.filter((l) => l.killed).map((l) => l.end);
  const lastKill = killsAt[killsAt.length - 1] ?? null;
  const lastLife = lifetimes[lifetimes.length - 1] as Lifetime;
  const restarts = killsAt.length + (spec.ending === 'oom' ? 1 : 0);

  const childOoms = spec.ending === 'child-oom' ? [now - 7 * HOUR, now - 2 * HOUR] : [];
  const objects = kubeObjects(spec, { pod, uid, node, now, lastKill, lastLife, restarts, childOoms, random });
  const series = promSeries(spec, {
    pod,
    uid,
    node,
    lifetimes,
    killsAt,
    restarts,
    childOoms,
    windowStart,
    now,
    scrapeMs,
    random,
  });

  const workingSet = lifetimes.flatMap((l) => l.samples).filter((s) => s.at >= windowStart);
  const metrics: MetricsEvidence = {
    workingSet,
    stepMs: scrapeMs,
    limitBytes: spec.limit,
    requestBytes: spec.request,
    restarts: counterSamples(killsAt, windowStart, now, scrapeMs),
    oomEvents: counterSamples(spec.ending === 'oom' ? killsAt : childOoms, windowStart, now, scrapeMs),
    starts: lifetimes.map((l) => l.start),
    source: 'prometheus',
  };
  return {
    spec,
    target: { namespace: spec.namespace, pod, container: spec.container },
    objects,
    series,
    metrics,
    killsAt,
  };
}

/** The reading cAdvisor scraped last before the kill. */
function finalValue(spec: ScenarioSpec, scale: number, value: number, random: () => number): number {
  if (spec.ending !== 'oom') return value;
  switch (spec.shape) {
    case 'burst':
      // The allocation outran the scrape: the last reading is normal, or caught mid-climb.
      return random() < 0.5 ? value : scale * (0.8 + random() * 0.1);
    case 'flat':
      return value;
    default:
      return scale * (0.985 + random() * 0.012);
  }
}

function counterSamples(events: number[], from: number, to: number, step: number): Sample[] {
  const out: Sample[] = [];
  for (let at = Math.ceil(from / step) * step; at <= to; at += step) {
    out.push({ at, value: events.filter((e) => e <= at).length });
  }
  return out;
}

function uuid(random: () => number): string {
  const hex = () => Math.floor(random() * 16).toString(16);
  const part = (n: number) => Array.from({ length: n }, hex).join('');
  return `${part(8)}-${part(4)}-4${part(3)}-a${part(3)}-${part(12)}`;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

interface ObjectContext {
  pod: string;
  uid: string;
  node: string;
  now: number;
  lastKill: number | null;
  lastLife: Lifetime;
  restarts: number;
  childOoms: number[];
  random: () => number;
}

function quantity(bytes: number): string {
  return bytes % GiB === 0 ? `${bytes / GiB}Gi` : `${Math.round(bytes / MiB)}Mi`;
}

function kubeObjects(spec: ScenarioSpec, ctx: ObjectContext): KubeObject[] {
  const { namespace, app, container } = spec;
  const objects: KubeObject[] = [];
  const resources: Record<string, Record<string, string>> = {};
  if (spec.request !== null) resources.requests = { cpu: '100m', memory: quantity(spec.request) };
  if (spec.limit !== null) resources.limits = { memory: quantity(spec.limit) };
  const env: Array<Record<string, unknown>> = [
    { name: 'DATABASE_URL', value: 'postgres://app:s3cr3t-hunter2@db:5432/app' },
    ...(spec.runtime?.env ?? []).map((e) => ({ ...e })),
  ];
  const configMapName = `${app}-env`;
  if (spec.runtime?.configMapEnv) {
    for (const key of Object.keys(spec.runtime.configMapEnv))
      env.push({ name: key, valueFrom: { configMapKeyRef: { name: configMapName, key } } });
    objects.push({
      kind: 'ConfigMap',
      metadata: { name: configMapName, namespace },
      data: { ...spec.runtime.configMapEnv },
    });
  }
  const mainContainer: Record<string, unknown> = {
    name: container,
    image: `registry.example.com/${app}:1.4.2`,
    env,
    resources,
    ...(spec.runtime?.args ? { args: [...spec.runtime.args] } : {}),
    ...(spec.runtime?.command ? { command: [...spec.runtime.command] } : {}),
    livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 10, failureThreshold: 3 },
  };
  const containers = [mainContainer];
  if (spec.sidecar) {
    containers.push({
      name: 'istio-proxy',
      image: 'docker.io/istio/proxyv2:1.22.1',
      resources: { requests: { memory: '128Mi' }, limits: { memory: '256Mi' } },
    });
  }
  const initContainers = spec.initContainer
    ? [
        {
          name: 'migrate',
          image: `registry.example.com/${app}-migrate:1.4.2`,
          resources: { limits: { memory: '128Mi' } },
        },
      ]
    : undefined;
  const podSpec = {
    containers,
    ...(initContainers ? { initContainers } : {}),
    nodeName: ctx.node,
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
  };
  const templateSpec = { ...podSpec, nodeName: undefined };
  delete (templateSpec as Record<string, unknown>).nodeName;
  const labels = { app, 'app.kubernetes.io/name': app };

  let owner: Record<string, unknown> | null = null;
  const replicas = spec.replicas ?? 3;
  const workloadMeta = (name: string) => ({
    name,
    namespace,
    uid: uuid(ctx.random),
    generation: 4,
    labels,
    annotations: {},
  });
  switch (spec.workloadKind) {
    case 'Deployment': {
      const deployment = {
        kind: 'Deployment',
        metadata: workloadMeta(app),
        spec: {
          replicas,
          selector: { matchLabels: labels },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
          template: { metadata: { labels }, spec: templateSpec },
        },
        status: { replicas, readyReplicas: replicas - 1, observedGeneration: 4 },
      };
      const rsName = ctx.pod.split('-').slice(0, -1).join('-');
      const rs = {
        kind: 'ReplicaSet',
        metadata: {
          ...workloadMeta(rsName),
          generation: 1,
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              name: app,
              uid: deployment.metadata.uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: {
          replicas,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: templateSpec },
        },
      };
      objects.push(deployment, rs);
      owner = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        name: rsName,
        uid: rs.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      };
      break;
    }
    case 'StatefulSet':
    case 'DaemonSet': {
      const workload = {
        kind: spec.workloadKind,
        metadata: workloadMeta(app),
        spec: {
          ...(spec.workloadKind === 'StatefulSet' ? { replicas, serviceName: app } : {}),
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: templateSpec },
        },
      };
      objects.push(workload);
      owner = {
        apiVersion: 'apps/v1',
        kind: spec.workloadKind,
        name: app,
        uid: workload.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      };
      break;
    }
    case 'CronJob': {
      const cronJob = {
        kind: 'CronJob',
        metadata: workloadMeta(app),
        spec: {
          schedule: '*/30 * * * *',
          jobTemplate: {
            spec: {
              template: { metadata: { labels }, spec: { ...templateSpec, restartPolicy: 'OnFailure' } },
            },
          },
        },
      };
      const jobName = ctx.pod.split('-').slice(0, -1).join('-');
      const job = {
        kind: 'Job',
        metadata: {
          ...workloadMeta(jobName),
          ownerReferences: [
            {
              apiVersion: 'batch/v1',
              kind: 'CronJob',
              name: app,
              uid: cronJob.metadata.uid,
              controller: true,
            },
          ],
        },
        spec: { template: { metadata: { labels }, spec: { ...templateSpec, restartPolicy: 'OnFailure' } } },
      };
      objects.push(cronJob, job);
      owner = {
        apiVersion: 'batch/v1',
        kind: 'Job',
        name: jobName,
        uid: job.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      };
      break;
    }
    case 'Pod':
      break;
  }

  const lastTerminated = ((): Record<string, unknown> | undefined => {
    if (ctx.lastKill === null)
      return spec.ending === 'none'
        ? {
            exitCode: 1,
            reason: 'Error',
            startedAt: iso(ctx.now - 30 * HOUR),
            finishedAt: iso(ctx.now - 29 * HOUR),
            containerID: `containerd://${'c'.repeat(64)}`,
          }
        : undefined;
    const oom = spec.ending === 'oom' || spec.ending === 'node-oom';
    return {
      exitCode: 137,
      reason: oom ? 'OOMKilled' : 'Error',
      startedAt: iso(ctx.lastKill - 3 * HOUR),
      finishedAt: iso(ctx.lastKill),
      containerID: `containerd://${'a'.repeat(64)}`,
    };
  })();
  const evicted = spec.ending === 'evicted' || spec.ending === 'evicted-disk';
  const mainStatus: Record<string, unknown> = {
    name: container,
    image: `registry.example.com/${app}:1.4.2`,
    imageID: `registry.example.com/${app}@sha256:${'e'.repeat(64)}`,
    containerID: `containerd://${'b'.repeat(64)}`,
    ready: !evicted,
    started: !evicted,
    restartCount: ctx.restarts,
    state: evicted
      ? {
          terminated: {
            exitCode: 137,
            reason: 'ContainerStatusUnknown',
            message: 'The container could not be located when the pod was terminated',
            startedAt: null,
            finishedAt: null,
          },
        }
      : { running: { startedAt: iso(ctx.lastLife.start) } },
    lastState: lastTerminated ? { terminated: lastTerminated } : {},
  };
  const statuses = [mainStatus];
  if (spec.sidecar)
    statuses.push({
      name: 'istio-proxy',
      ready: true,
      restartCount: 0,
      state: { running: { startedAt: iso(ctx.now - 40 * HOUR) } },
      lastState: {},
      image: 'docker.io/istio/proxyv2:1.22.1',
      imageID: '',
      containerID: `containerd://${'d'.repeat(64)}`,
      started: true,
    });
  const usingKi = Math.round(((spec.limit ?? 2 * GiB) * 0.9) / 1024);
  const podObject: KubeObject = {
    kind: 'Pod',
    metadata: {
      name: ctx.pod,
      namespace,
      uid: ctx.uid,
      creationTimestamp: iso(ctx.now - 40 * HOUR),
      labels,
      annotations: { 'kubectl.kubernetes.io/default-container': container },
      ...(owner ? { ownerReferences: [owner] } : {}),
    },
    spec: podSpec,
    status: {
      phase: evicted ? 'Failed' : 'Running',
      ...(evicted
        ? {
            reason: 'Evicted',
            message:
              spec.ending === 'evicted'
                ? `The node was low on resource: memory. Threshold quantity: 100Mi, available: 87608Ki. Container ${container} was using ${usingKi}Ki, request is ${quantity(spec.request ?? 256 * MiB)}, has larger consumption of memory. `
                : 'The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: 9Gi. Container api was using 12Gi, request is 0, has larger consumption of ephemeral-storage. ',
          }
        : {}),
      hostIP: '10.0.3.14',
      podIP: '10.244.1.23',
      startTime: iso(ctx.now - 40 * HOUR),
      qosClass: spec.limit === null && spec.request === null ? 'BestEffort' : 'Burstable',
      containerStatuses: statuses,
      ...(spec.initContainer
        ? {
            initContainerStatuses: [
              {
                name: 'migrate',
                ready: true,
                restartCount: 0,
                state: {
                  terminated: {
                    exitCode: 0,
                    reason: 'Completed',
                    startedAt: iso(ctx.now - 40 * HOUR),
                    finishedAt: iso(ctx.now - 40 * HOUR + 20_000),
                  },
                },
                lastState: {},
                image: '',
                imageID: '',
                containerID: '',
              },
            ],
          }
        : {}),
    },
  };
  objects.push(podObject);

  const memoryPressure = spec.ending === 'evicted' || spec.ending === 'node-oom';
  objects.push({
    kind: 'Node',
    metadata: { name: ctx.node, labels: { 'kubernetes.io/hostname': ctx.node } },
    status: {
      capacity: { cpu: '8', memory: quantity((spec.nodeAllocatable ?? 16 * GiB) + GiB) },
      allocatable: { cpu: '7910m', memory: quantity(spec.nodeAllocatable ?? 16 * GiB) },
      conditions: [
        memoryPressure
          ? {
              type: 'MemoryPressure',
              status: 'True',
              reason: 'KubeletHasInsufficientMemory',
              message: 'kubelet has insufficient memory available',
              lastHeartbeatTime: iso(ctx.now),
              lastTransitionTime: iso(ctx.now - 50 * MINUTE),
            }
          : {
              type: 'MemoryPressure',
              status: 'False',
              reason: 'KubeletHasSufficientMemory',
              message: 'kubelet has sufficient memory available',
              lastHeartbeatTime: iso(ctx.now),
              lastTransitionTime: iso(ctx.now - 30 * 24 * HOUR),
            },
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'kubelet is posting ready status',
          lastHeartbeatTime: iso(ctx.now),
          lastTransitionTime: iso(ctx.now - 30 * 24 * HOUR),
        },
      ],
    },
  });

  let eventSeq = 0;
  const event = (
    reason: string,
    type: string,
    message: string,
    at: number,
    involved: Record<string, unknown>,
    count = 1,
    source = 'kubelet',
  ) => {
    eventSeq++;
    const ns = involved.kind === 'Node' ? 'default' : namespace;
    objects.push({
      kind: 'Event',
      metadata: {
        name: `${String(involved.name)}.${(at * 1000 + eventSeq).toString(16)}`,
        namespace: ns,
        creationTimestamp: iso(at),
      },
      involvedObject: { ...involved, namespace: involved.kind === 'Node' ? undefined : namespace },
      reason,
      message,
      source: { component: source, host: ctx.node },
      firstTimestamp: iso(at - (count - 1) * MINUTE),
      lastTimestamp: iso(at),
      count,
      type,
      eventTime: null,
      reportingComponent: source,
      reportingInstance: ctx.node,
    });
  };
  const podRef = {
    kind: 'Pod',
    name: ctx.pod,
    uid: ctx.uid,
    apiVersion: 'v1',
    fieldPath: `spec.containers{${container}}`,
  };
  const nodeRef = { kind: 'Node', name: ctx.node, uid: ctx.node, apiVersion: 'v1' };
  if (ctx.lastKill !== null)
    event(
      'BackOff',
      'Warning',
      `Back-off restarting failed container ${container} in pod ${ctx.pod}_${namespace}(${ctx.uid})`,
      ctx.lastKill + 20_000,
      podRef,
      ctx.restarts,
    );
  if (spec.ending === 'probe' && ctx.lastKill !== null) {
    event(
      'Unhealthy',
      'Warning',
      'Liveness probe failed: HTTP probe failed with statuscode: 500',
      ctx.lastKill - 10_000,
      podRef,
      3,
    );
    event(
      'Killing',
      'Normal',
      `Container ${container} failed liveness probe, will be restarted`,
      ctx.lastKill - 5_000,
      podRef,
    );
  }
  if (spec.ending === 'evicted') {
    event(
      'Evicted',
      'Warning',
      `The node was low on resource: memory. Threshold quantity: 100Mi, available: 87608Ki. Container ${container} was using ${usingKi}Ki, request is ${quantity(spec.request ?? 256 * MiB)}, has larger consumption of memory. `,
      ctx.now - 20 * MINUTE,
      { kind: 'Pod', name: ctx.pod, uid: ctx.uid, apiVersion: 'v1' },
    );
    event('EvictionThresholdMet', 'Warning', 'Attempting to reclaim memory', ctx.now - 22 * MINUTE, nodeRef);
  }
  if (spec.ending === 'node-oom' && ctx.lastKill !== null) {
    event(
      'SystemOOM',
      'Warning',
      `System OOM encountered, victim process: ${app}, pid: 3103923`,
      ctx.lastKill,
      nodeRef,
    );
    event(
      'OOMKilling',
      'Warning',
      `Out of memory: Killed process 3103923 (${app}) total-vm:4523012kB, anon-rss:3211072kB, file-rss:1024kB, shmem-rss:0kB, UID:0 pgtables:6548kB oom_score_adj:1000`,
      ctx.lastKill,
      nodeRef,
      1,
      'kernel-monitor',
    );
  }
  for (const at of ctx.childOoms) {
    event(
      'OOMKilling',
      'Warning',
      `Memory cgroup out of memory: Killed process ${3504804 + (Math.floor(at / 1000) % 1000)} (render-worker) total-vm:1853240kB, anon-rss:501432kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:1288kB oom_score_adj:999`,
      at,
      nodeRef,
      1,
      'kernel-monitor',
    );
  }
  if (spec.limitRangeMax) {
    objects.push({
      kind: 'LimitRange',
      metadata: { name: 'container-limits', namespace },
      spec: {
        limits: [
          { type: 'Container', max: { memory: quantity(spec.limitRangeMax) }, default: { memory: '512Mi' } },
        ],
      },
    });
  }
  if (spec.quota) {
    objects.push({
      kind: 'ResourceQuota',
      metadata: { name: 'team-quota', namespace },
      spec: { hard: { 'limits.memory': quantity(spec.quota.hard) } },
      status: {
        hard: { 'limits.memory': quantity(spec.quota.hard) },
        used: { 'limits.memory': quantity(spec.quota.used) },
      },
    });
  }
  objects.push({
    kind: 'PodMetrics',
    metadata: { name: ctx.pod, namespace, creationTimestamp: iso(ctx.now), labels },
    timestamp: iso(ctx.now - 15_000),
    window: '30s',
    containers: [
      {
        name: container,
        usage: {
          cpu: '9559630n',
          memory: `${Math.round((ctx.lastLife.samples[ctx.lastLife.samples.length - 1]?.value ?? 0) / 1024)}Ki`,
        },
      },
    ],
  });
  return objects;
}

interface SeriesContext {
  pod: string;
  uid: string;
  node: string;
  lifetimes: Lifetime[];
  killsAt: number[];
  restarts: number;
  childOoms: number[];
  windowStart: number;
  now: number;
  scrapeMs: number;
  random: () => number;
}

function promSeries(spec: ScenarioSpec, ctx: SeriesContext): GeneratedSeries[] {
  const { namespace, container } = spec;
  const image = `registry.example.com/${spec.app}:1.4.2`;
  const kubelet = {
    endpoint: 'https-metrics',
    instance: '10.0.3.14:10250',
    job: 'kubelet',
    metrics_path: '/metrics/cadvisor',
    node: ctx.node,
    service: 'kubelet',
  };
  const ksm = {
    endpoint: 'http',
    instance: '10.244.0.17:8080',
    job: 'kube-state-metrics',
    service: 'kube-state-metrics',
    namespace,
    pod: ctx.pod,
    uid: ctx.uid,
  };
  const series: GeneratedSeries[] = [];
  const podCgroup = `/kubepods/burstable/pod${ctx.uid}`;
  const from = ctx.windowStart - 10 * MINUTE;
  ctx.lifetimes.forEach((life, index) => {
    const cid = (index + 1).toString(16).padStart(2, '0').repeat(32);
    const labels = {
      ...kubelet,
      namespace,
      pod: ctx.pod,
      container,
      image,
      id: `${podCgroup}/${cid}`,
      name: `${cid.slice(0, 12)}`,
    };
    // cAdvisor keeps a dead container's series for a few minutes: repeat its last reading after the kill.
    const tail = life.killed
      ? [1, 2, 3].map(
          (k) =>
            [life.end + k * ctx.scrapeMs, life.samples[life.samples.length - 1]?.value ?? 0] as [
              number,
              number,
            ],
        )
      : [];
    series.push({
      name: 'container_memory_working_set_bytes',
      type: 'gauge',
      help: 'Current working set of the container in bytes',
      labels,
      samples: [...life.samples.map((s) => [s.at, s.value] as [number, number]), ...tail],
    });
    series.push({
      name: 'container_start_time_seconds',
      type: 'gauge',
      help: 'Start time of the container since unix epoch in seconds',
      labels,
      samples: [
        ...life.samples
          .filter((_, i) => i % 4 === 0)
          .map((s) => [s.at, Math.floor(life.start / 1000)] as [number, number]),
        ...tail.map(([at]) => [at, Math.floor(life.start / 1000)] as [number, number]),
      ],
    });
  });
  // Traps the engine must not read: the pod-level aggregate and the pause container.
  const allTimes = ctx.lifetimes.flatMap((l) => l.samples);
  series.push({
    name: 'container_memory_working_set_bytes',
    type: 'gauge',
    labels: { ...kubelet, namespace, pod: ctx.pod, container: '', image: '', id: podCgroup, name: '' },
    samples: allTimes.map((s) => [s.at, s.value + 300 * MiB]),
  });
  series.push({
    name: 'container_memory_working_set_bytes',
    type: 'gauge',
    labels: {
      ...kubelet,
      namespace,
      pod: ctx.pod,
      container: 'POD',
      image: 'registry.k8s.io/pause:3.9',
      id: `${podCgroup}/pause`,
      name: 'pause',
    },
    samples: allTimes.map((s) => [s.at, 1.2 * MiB]),
  });
  if (spec.sidecar) {
    series.push({
      name: 'container_memory_working_set_bytes',
      type: 'gauge',
      labels: {
        ...kubelet,
        namespace,
        pod: ctx.pod,
        container: 'istio-proxy',
        image: 'docker.io/istio/proxyv2:1.22.1',
        id: `${podCgroup}/sidecar`,
        name: 'sidecar',
      },
      samples: allTimes.map((s) => [s.at, 240 * MiB]),
    });
  }
  const steps: number[] = [];
  for (let at = Math.ceil(from / ctx.scrapeMs) * ctx.scrapeMs; at <= ctx.now; at += ctx.scrapeMs)
    steps.push(at);
  const constant = (value: number) => steps.map((at) => [at, value] as [number, number]);
  if (spec.limit !== null)
    series.push({
      name: 'kube_pod_container_resource_limits',
      type: 'gauge',
      labels: { ...ksm, container, node: ctx.node, resource: 'memory', unit: 'byte' },
      samples: constant(spec.limit),
    });
  if (spec.request !== null)
    series.push({
      name: 'kube_pod_container_resource_requests',
      type: 'gauge',
      labels: { ...ksm, container, node: ctx.node, resource: 'memory', unit: 'byte' },
      samples: constant(spec.request),
    });
  // Restarts from before the window count too: the counter starts at the kills the generator placed earlier.
  const before = ctx.killsAt.filter((k) => k < from).length;
  series.push({
    name: 'kube_pod_container_status_restarts_total',
    type: 'counter',
    labels: { ...ksm, container },
    samples: steps.map((at) => [
      at,
      ctx.killsAt.filter((k) => k <= at).length - before + (ctx.restarts - ctx.killsAt.length),
    ]),
  });
  const oomTimes = spec.ending === 'oom' ? ctx.killsAt : ctx.childOoms;
  series.push({
    name: 'container_oom_events_total',
    type: 'counter',
    labels: { ...kubelet, namespace, pod: ctx.pod, container, image },
    samples: steps.map((at) => [at, oomTimes.filter((k) => k <= at).length]),
  });
  return series;
}

const JVM_IMAGE_OPTS = '-Dspring.profiles.active=prod -Djavax.net.ssl.trustStorePassword=changeit-s3cret';

const mib = (bytes: number) => Math.floor(bytes / MiB);

/**
 * One scenario of each verdict and cause, as the demo shows them. With `limit`, every scenario uses
 * that limit, and its runtime settings keep the same relation to it (sane stays sane, oversized stays oversized).
 */
export function demoSpecs(limit?: number): ScenarioSpec[] {
  const at = (fallback: number) => limit ?? fallback;
  const half = (l: number) => Math.min(l, Math.max(64 * MiB, Math.floor(l / 2 / MiB) * MiB));
  const leakLimit = at(2 * GiB);
  const burstLimit = at(GiB);
  const heapLimit = at(2 * GiB);
  return [
    {
      id: 'limit-too-small',
      title: 'Plateau just under the limit',
      namespace: 'shop',
      app: 'checkout',
      workloadKind: 'Deployment',
      container: 'api',
      limit: at(512 * MiB),
      request: half(at(512 * MiB)),
      shape: 'plateau',
      ending: 'oom',
      sidecar: true,
      expect: { verdict: 'cgroup-oom', topCause: 'limit-too-small' },
    },
    {
      id: 'memory-leak',
      title: 'A leak that resets at every restart',
      namespace: 'shop',
      app: 'cart',
      workloadKind: 'Deployment',
      container: 'cart',
      limit: leakLimit,
      request: half(leakLimit),
      shape: 'leak',
      ending: 'oom',
      runtime: { env: [{ name: 'GOMEMLIMIT', value: `${mib(leakLimit * 0.9)}MiB` }] },
      expect: { verdict: 'cgroup-oom', topCause: 'memory-leak' },
    },
    {
      id: 'burst-allocation',
      title: 'Comfortable baseline, sudden bursts',
      namespace: 'reports',
      app: 'exporter',
      workloadKind: 'StatefulSet',
      container: 'exporter',
      limit: burstLimit,
      request: half(burstLimit),
      shape: 'burst',
      ending: 'oom',
      runtime: { env: [{ name: 'NODE_OPTIONS', value: `--max-old-space-size=${mib(burstLimit * 0.6)}` }] },
      expect: { verdict: 'cgroup-oom', topCause: 'burst-allocation' },
    },
    {
      id: 'runtime-heap-misconfigured',
      title: 'JVM heap larger than the container',
      namespace: 'payments',
      app: 'ledger',
      workloadKind: 'Deployment',
      container: 'ledger',
      limit: heapLimit,
      request: heapLimit,
      shape: 'heap-sawtooth',
      ending: 'oom',
      runtime: { env: [{ name: 'JAVA_OPTS', value: `${JVM_IMAGE_OPTS} -Xmx${mib(heapLimit * 1.5)}m` }] },
      expect: { verdict: 'cgroup-oom', topCause: 'runtime-heap-misconfigured' },
    },
    {
      id: 'node-pressure-eviction',
      title: 'Evicted under node memory pressure',
      namespace: 'search',
      app: 'indexer',
      workloadKind: 'DaemonSet',
      container: 'indexer',
      limit: at(4 * GiB),
      request: half(at(1 * GiB)),
      shape: 'flat',
      ending: 'evicted',
      expect: { verdict: 'node-pressure-eviction' },
    },
    {
      id: 'sigkill-not-oom',
      title: 'Exit 137 from a failed liveness probe',
      namespace: 'shop',
      app: 'catalog',
      workloadKind: 'Deployment',
      container: 'catalog',
      limit: at(GiB),
      request: half(at(GiB)),
      shape: 'flat',
      ending: 'probe',
      expect: { verdict: 'sigkill-not-oom' },
    },
    {
      id: 'child-process-oom',
      title: 'A worker process OOM-killed inside a running container',
      namespace: 'media',
      app: 'thumbnailer',
      workloadKind: 'Deployment',
      container: 'thumbnailer',
      limit: at(GiB),
      request: half(at(GiB)),
      shape: 'flat',
      ending: 'child-oom',
      expect: { verdict: 'child-process-oom' },
    },
    {
      id: 'no-oom-found',
      title: 'Restarts, but no OOM',
      namespace: 'ops',
      app: 'nightly-report',
      workloadKind: 'CronJob',
      container: 'report',
      limit: at(GiB),
      request: half(at(256 * MiB)),
      shape: 'flat',
      ending: 'none',
      expect: { verdict: 'no-oom-found' },
    },
  ];
}
