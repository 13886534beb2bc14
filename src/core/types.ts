// The pure core's vocabulary: evidence goes in, a diagnosis comes out. Nothing here imports an SDK.

/** Which container of which pod a diagnosis is about. */
export interface Target {
  namespace: string;
  pod: string;
  container: string;
}

/** What the user asked for, before the pod is resolved. */
export type TargetRequest =
  | { kind: 'pod'; namespace: string; pod: string }
  | { kind: 'workload'; namespace: string; workloadKind: WorkloadKind; name: string };

export type WorkloadKind =
  'Deployment' | 'StatefulSet' | 'DaemonSet' | 'CronJob' | 'Job' | 'ReplicaSet' | 'Pod' | 'Rollout';

/** The kinds that own pods: what an owner reference is followed to. */
export type ControllerKind = Exclude<WorkloadKind, 'Pod'>;

export interface WorkloadRef {
  kind: WorkloadKind;
  namespace: string;
  name: string;
  /** metadata.generation of the workload when the evidence was gathered (0 when unknown). */
  generation: number;
  /** Replicas the workload runs (1 for a bare pod or a job, the node count is unknown for a DaemonSet: 1). */
  replicas: number;
  /** Extra pods a rolling update may run at once (maxSurge resolved), for quota headroom. */
  surge: number;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  /** The controller at the top of the chain when it is a kind oomdoctor does not know (an operator's). */
  owner?: { apiVersion: string; kind: string; name: string };
  /** A Rollout's pod template spec (custom resources take JSON patches, which address containers by index). */
  podTemplate?: { containers: unknown[]; initContainers: unknown[] };
}

export type RuntimeKind = 'jvm' | 'go' | 'node';

/** Where a runtime memory setting was found, so a fix can be written back to the same place. */
export type SettingLocation =
  | { kind: 'env'; name: string }
  | { kind: 'env-configmap'; name: string; configMap: string; key: string }
  | { kind: 'args'; index: number }
  | { kind: 'command'; index: number };

export type RuntimeSettingName =
  'Xmx' | 'MaxHeapSize' | 'MaxRAMPercentage' | 'MaxRAMFraction' | 'GOMEMLIMIT' | 'max-old-space-size';

/**
 * A memory setting of a managed runtime. Only the memory flag itself is kept: the variables and
 * args it came from often carry secrets, so their other content never leaves the parser.
 */
export interface RuntimeSetting {
  runtime: RuntimeKind;
  setting: RuntimeSettingName;
  /** The flag as written, e.g. "-Xmx2g", "GOMEMLIMIT=1800MiB", "--max-old-space-size=1536". */
  value: string;
  /** Human description of where it was found: "env JAVA_TOOL_OPTIONS", "args[2]", "configmap shop/api-env key JAVA_OPTS". */
  source: string;
  location: SettingLocation;
  /** Absolute heap budget in bytes (Xmx, MaxHeapSize, GOMEMLIMIT, max-old-space-size). */
  bytes?: number;
  /** Share of the container limit in percent (MaxRAMPercentage, MaxRAMFraction converted). */
  percent?: number;
}

/** One value of an environment variable as the container sees it, after valueFrom/envFrom resolution. */
export interface ResolvedEnvVar {
  name: string;
  value: string;
  /** Set when the value came from a ConfigMap. */
  configMap?: { name: string; key: string };
  /** How a ConfigMap value arrived: a whole-ConfigMap envFrom, or one env entry's configMapKeyRef. */
  via?: 'envFrom' | 'valueFrom';
  /** Set when the value is the container's own memory limit or request (valueFrom.resourceFieldRef). */
  resourceField?: { resource: string; divisor: string };
}

export interface ContainerSpecEvidence {
  name: string;
  kind: 'app' | 'init' | 'sidecar';
  image: string;
  requestBytes: number | null;
  limitBytes: number | null;
  /** The quantity strings as written in the spec, for display and patches. */
  requestQuantity: string | null;
  limitQuantity: string | null;
  command: string[];
  args: string[];
  env: ResolvedEnvVar[];
  runtime: RuntimeSetting[];
}

export interface Termination {
  reason: string;
  exitCode: number;
  signal?: number;
  startedAt: Date | null;
  finishedAt: Date | null;
  message?: string;
}

export interface ContainerStatusEvidence {
  name: string;
  restartCount: number;
  ready: boolean;
  state: 'running' | 'waiting' | 'terminated' | 'unknown';
  waitingReason?: string;
  /** The current state's termination, when the container is terminated now. */
  terminated: Termination | null;
  lastTerminated: Termination | null;
  startedAt: Date | null;
}

export interface PodEvent {
  reason: string;
  type: string;
  message: string;
  count: number;
  firstAt: Date | null;
  lastAt: Date | null;
  involvedKind: string;
  involvedName: string;
  fieldPath?: string;
  /** The kubelet's eviction annotations, when the event is an Evicted one. */
  annotations?: Record<string, string>;
}

export interface NodeEvidence {
  name: string;
  allocatableBytes: number | null;
  capacityBytes: number | null;
  memoryPressure: 'True' | 'False' | 'Unknown' | null;
  memoryPressureSince: Date | null;
  events: PodEvent[];
}

export interface NamespaceLimits {
  /** The smallest LimitRange max.memory for containers in the namespace. */
  limitRangeMaxBytes: number | null;
  limitRangeName: string | null;
  /** ResourceQuota headroom for limits.memory (hard − used), the tightest quota. */
  quotaHeadroomBytes: number | null;
  quotaName: string | null;
}

export interface PodEvidence {
  namespace: string;
  name: string;
  uid: string;
  phase: string;
  /** status.reason of the pod, e.g. "Evicted". */
  reason: string | null;
  message: string | null;
  qosClass: string | null;
  nodeName: string | null;
  createdAt: Date | null;
  annotations: Record<string, string>;
  containers: ContainerSpecEvidence[];
  statuses: ContainerStatusEvidence[];
  events: PodEvent[];
}

export interface Sample {
  /** Unix time in milliseconds. */
  at: number;
  value: number;
}

export interface MetricsEvidence {
  /** Working set of the target container over the window, oldest first. */
  workingSet: Sample[];
  /** Step between points in milliseconds. */
  stepMs: number;
  limitBytes: number | null;
  requestBytes: number | null;
  /** Restart counter samples (kube-state-metrics). */
  restarts: Sample[];
  /** Cumulative OOM events counter (cAdvisor). */
  oomEvents: Sample[];
  /** Times at which the container (re)started, from container_start_time_seconds. */
  starts: number[];
  /** Where the data came from: "prometheus" or "metrics-api" (one current reading). */
  source: 'prometheus' | 'metrics-api';
  /** Earlier pods under the same name (another uid): their series were left out of this history. */
  earlierIncarnations?: Array<{ uid: string; from: number; to: number; limitBytes: number | null }>;
  /** This pod's limit changed inside the window (resized in place), oldest first. */
  limitChanges?: Array<{ at: number; fromBytes: number; toBytes: number }>;
  /** What the source narrowed or could not tell apart; the engine lists these under `missing`. */
  caveats?: string[];
  /** Set when the look-back was widened past the requested window to see several daily cycles. */
  widened?: { requestedMs: number; reason: string };
}

/** Everything gathered about one target. Any part may be missing; `missing` says why. */
export interface Evidence {
  target: Target;
  window: { start: Date; end: Date };
  pod: PodEvidence;
  workload: WorkloadRef | null;
  node: NodeEvidence | null;
  namespaceLimits: NamespaceLimits | null;
  metrics: MetricsEvidence | null;
  missing: string[];
}

export type Verdict =
  'cgroup-oom' | 'node-pressure-eviction' | 'sigkill-not-oom' | 'child-process-oom' | 'no-oom-found';

export type CauseId = 'limit-too-small' | 'runtime-heap-misconfigured' | 'memory-leak' | 'burst-allocation';

export interface Cause {
  id: CauseId;
  confidence: number;
  evidence: string[];
}

export interface Kill {
  at: Date;
  reason: string;
  exitCode: number | null;
}

export interface Classification {
  verdict: Verdict;
  /** One line a tired person understands. */
  headline: string;
  /** Why the verdict was chosen, with numbers. */
  verdictEvidence: string[];
  kills: Kill[];
  causes: Cause[];
}

export interface Recommendation {
  workload: {
    kind: WorkloadKind;
    namespace: string;
    name: string;
    generation: number;
    /** The controller above it when that is a kind oomdoctor does not know: the fix is made there, by hand. */
    owner?: { apiVersion: string; kind: string; name: string };
  };
  container: string;
  resources: { requests: { memory: string }; limits: { memory: string } };
  env: Array<{ name: string; value: string }>;
  args: string[] | null;
  /** The whole command with a heap flag rewritten in place, when the flag that wins lives there. */
  command?: string[] | null;
  patch: Record<string, unknown>;
  kubectl: string;
  yaml: string;
  notes: string[];
}

/** The engine's answer; its JSON form is the CLI's `--json` contract (schemaVersion 1). */
export interface Diagnosis {
  schemaVersion: 1;
  target: Target;
  window: { start: string; end: string };
  verdict: Verdict;
  headline: string;
  verdictEvidence: string[];
  kills: Array<{ at: string; reason: string; exitCode: number | null }>;
  causes: Cause[];
  current: {
    resources: { requests: { memory: string | null }; limits: { memory: string | null } };
    runtime: Array<{ source: string; setting: string; value: string }>;
  };
  recommendation: Recommendation | null;
  missing: string[];
  /** Memory history for charts, in the same units as the evidence (not part of the stable contract). */
  series: {
    stepMs: number;
    points: Array<[number, number]>;
    limitBytes: number | null;
    requestBytes: number | null;
  };
}
