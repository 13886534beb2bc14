// The fixes from the field guide, sized from measured usage and the limit in force, and bounded by
// what the cluster would accept. Pure: the same evidence and classification give the same patch.
import { stringify } from 'yaml';
import { leakRate, limitInForce, parseEvictionMessage, requestInForce, targetSpec } from './classify';
import { formatDuration } from './duration';
import { formatBytes, parseQuantity, roundUpReadable, toQuantity } from './quantity';
import { formatGoMemLimit, formatJvmHeap, formatNodeOldSpace, rewriteFlag } from './runtime-settings';
import { quantile, sortedNumbers } from './series';
import type {
  Classification,
  ContainerSpecEvidence,
  Evidence,
  Recommendation,
  RuntimeSetting,
  WorkloadKind,
} from './types';

const MIB = 2 ** 20;
const HOUR = 3_600_000;

export interface RecommendOptions {
  /** Set requests equal to limits (Guaranteed QoS: evicted last under node pressure). */
  guaranteedQos?: boolean;
}

interface Cap {
  bytes: number;
  why: string;
}

export function recommend(
  evidence: Evidence,
  classification: Classification,
  options: RecommendOptions = {},
): Recommendation | null {
  const { verdict } = classification;
  if (verdict === 'sigkill-not-oom' || verdict === 'no-oom-found') return null;
  const spec = targetSpec(evidence);
  if (!spec) return null;
  const limit = limitInForce(evidence);
  const request = requestInForce(evidence);
  const usage = sortedNumbers((evidence.metrics?.workingSet ?? []).map((s) => s.value));
  const peak = usage.length > 0 ? (usage[usage.length - 1] ?? null) : null;
  const typical = usage.length > 0 ? quantile(usage, 0.5) : null;
  const notes: string[] = [];
  const causeIds = classification.causes.map((c) => c.id);
  const top = classification.causes[0];

  // 1. The limit.
  let wanted: number | null = limit;
  if (verdict === 'cgroup-oom' || verdict === 'child-process-oom') {
    const heapOnly =
      top?.id === 'runtime-heap-misconfigured' &&
      !classification.causes.some((c) => c.id === 'limit-too-small' && c.confidence >= 0.5);
    if (limit === null) {
      wanted = peak ? roundUpReadable(peak * 1.4) : null;
    } else if (heapOnly) {
      notes.push(`The limit of ${formatBytes(limit)} stays: the heap setting is what has to fit inside it.`);
    } else {
      // Killed at the limit: the peak it wanted is unknown, so raise from the limit in force, once.
      wanted = roundUpReadable(limit * 1.5);
      notes.push(
        verdict === 'child-process-oom'
          ? `The container's memory reached its ${formatBytes(limit)} limit when the process was killed${peak !== null ? `, although the readings peaked at ${formatBytes(peak)}: the allocation was brief` : ''}. This raises the limit in force by 50%, once; watch the peak, then set the limit 30–50% above it.`
          : `The container was killed at its ${formatBytes(limit)} limit, so its real peak is unknown: this raises the limit in force by 50%, once. Watch the peak over a representative day, then set the limit 30–50% above it.`,
      );
    }
  } else if (verdict === 'node-pressure-eviction') {
    if (limit === null && peak) {
      wanted = roundUpReadable(peak * 1.4);
      notes.push(
        `A limit of ${formatBytes(wanted)} (40% above the measured peak of ${formatBytes(peak)}) keeps one container from starving the node.`,
      );
    }
  }

  // 2. Caps: what the node, the LimitRange and the quota would accept.
  const caps = capsFor(evidence, limit);
  let newLimit = wanted;
  if (newLimit !== null) {
    const binding = caps.filter((c) => c.bytes < (newLimit as number)).sort((a, b) => a.bytes - b.bytes)[0];
    if (binding) {
      const capped = Math.floor(binding.bytes / MIB) * MIB;
      if (limit !== null && capped <= limit) {
        newLimit = limit;
        notes.push(
          `The limit cannot be raised: ${binding.why} (${formatBytes(binding.bytes)}) allows no more than the ${formatBytes(limit)} in force. Raise that first, or make the workload use less.`,
        );
      } else {
        newLimit = capped;
        notes.push(
          `Capped at ${formatBytes(capped)} by ${binding.why}: a larger limit would be refused or never scheduled.`,
        );
      }
    }
  }

  // 3. The request.
  let newRequest: number | null = request;
  if (options.guaranteedQos && newLimit !== null) {
    newRequest = newLimit;
    notes.push(
      'Requests equal limits: Guaranteed QoS, the last class the kubelet evicts under node pressure, at the cost of reserving the full limit.',
    );
  } else {
    const measured =
      verdict === 'node-pressure-eviction'
        ? Math.max(peak ?? 0, evictedUsage(evidence) ?? 0) || null
        : typical;
    if (measured !== null && (newRequest === null || newRequest < measured)) {
      newRequest = roundUpReadable(measured);
      if (verdict === 'node-pressure-eviction')
        notes.push(
          `Pods that use more than they request are evicted first: the request rises to the measured peak, ${formatBytes(measured)}.`,
        );
    }
    if (newRequest !== null && newLimit !== null && newRequest > newLimit) newRequest = newLimit;
    if (verdict === 'node-pressure-eviction' || causeIds.includes('limit-too-small')) {
      notes.push(
        'If this pod must not be the first to go under node pressure, set requests equal to limits (Guaranteed QoS); rerun with --guaranteed-qos for that patch.',
      );
    }
  }
  if (newRequest === null) newRequest = newLimit;

  // 4. The runtime's own budget, made to fit the new limit.
  const runtime = newLimit !== null ? runtimeFix(spec, newLimit, notes) : { env: [], args: null };

  // 5. Cause-specific advice that no resource change gives.
  // Leak advice only where the leak is the leading story, not a shadow of an oversized heap.
  const leak = classification.causes.find((c) => c.id === 'memory-leak');
  if (leak && (top?.id === 'memory-leak' || leak.confidence >= 0.6))
    notes.push(...leakAdvice(evidence, spec, newLimit));
  if (causeIds.includes('burst-allocation')) {
    notes.push(
      'Bursts: stream large payloads instead of buffering them, cap request body sizes and per-request concurrency, and bound queue depths.',
    );
  }
  if (verdict === 'child-process-oom') {
    notes.push(
      'Find which process was killed (the node\'s kernel log: dmesg -T | grep -i "memory cgroup"), and make the main process notice a dead worker, or it will limp along half-broken.',
    );
  }

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
  const containerPatch: Record<string, unknown> = {
    name: spec.name,
    resources: {
      requests: { memory: resources.requests.memory },
      limits: { memory: resources.limits.memory },
    },
  };
  if (!resources.requests.memory) delete (containerPatch.resources as Record<string, unknown>).requests;
  if (!resources.limits.memory) delete (containerPatch.resources as Record<string, unknown>).limits;
  if (runtime.env.length > 0) containerPatch.env = runtime.env;
  if (runtime.args) containerPatch.args = runtime.args;
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
  return {
    workload: {
      kind: workload.kind,
      namespace: workload.namespace,
      name: workload.name,
      generation: workload.generation,
    },
    container: spec.name,
    resources,
    env: runtime.env,
    args: runtime.args,
    patch,
    kubectl,
    yaml: stringify(patch),
    notes,
  };
}

/** What the kubelet said the target container was using when it evicted the pod. */
function evictedUsage(evidence: Evidence): number | null {
  const message =
    evidence.pod.message ?? evidence.pod.events.find((e) => e.reason === 'Evicted')?.message ?? '';
  const entry = parseEvictionMessage(message).containers.find((c) => c.name === evidence.target.container);
  if (!entry) return null;
  try {
    return parseQuantity(entry.using);
  } catch {
    return null;
  }
}

function capsFor(evidence: Evidence, currentLimit: number | null): Cap[] {
  const caps: Cap[] = [];
  const node = evidence.node;
  if (node?.allocatableBytes)
    caps.push({ bytes: node.allocatableBytes, why: `node ${node.name}'s allocatable memory` });
  const ns = evidence.namespaceLimits;
  if (ns?.limitRangeMaxBytes)
    caps.push({ bytes: ns.limitRangeMaxBytes, why: `LimitRange ${ns.limitRangeName}'s max per container` });
  if (ns?.quotaHeadroomBytes !== null && ns?.quotaHeadroomBytes !== undefined) {
    // During a rollout, replicas + surge pods run the new limit while the old pods' share is released.
    const workload = evidence.workload;
    const replicas = workload?.replicas ?? 1;
    const surge = workload?.surge ?? 0;
    const freed = (currentLimit ?? 0) * replicas;
    const perPod = (ns.quotaHeadroomBytes + freed) / (replicas + surge);
    caps.push({
      bytes: perPod,
      why: `ResourceQuota ${ns.quotaName}'s limits.memory headroom (${formatBytes(ns.quotaHeadroomBytes)} free, shared by ${replicas} replica${replicas === 1 ? '' : 's'}${surge ? ` + ${surge} surge pod${surge === 1 ? '' : 's'} during the rollout` : ''})`,
    });
  }
  return caps;
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

interface RuntimeFix {
  env: Array<{ name: string; value: string }>;
  args: string[] | null;
}

function desiredValue(setting: RuntimeSetting, limit: number): { flag: string; bytes: number } | null {
  switch (setting.setting) {
    case 'Xmx':
    case 'MaxHeapSize': {
      if ((setting.bytes ?? 0) <= 0.8 * limit) return null;
      const bytes = Math.floor((0.7 * limit) / (64 * MIB)) * 64 * MIB;
      return { flag: formatJvmHeap(bytes), bytes };
    }
    case 'MaxRAMPercentage':
    case 'MaxRAMFraction': {
      if ((setting.percent ?? 0) <= 80) return null;
      return {
        flag: setting.setting === 'MaxRAMPercentage' ? '75.0' : '2',
        bytes: setting.setting === 'MaxRAMPercentage' ? 0.75 * limit : 0.5 * limit,
      };
    }
    case 'GOMEMLIMIT': {
      if ((setting.bytes ?? 0) <= 0.97 * limit) return null;
      const bytes = Math.floor((0.9 * limit) / (16 * MIB)) * 16 * MIB;
      return { flag: formatGoMemLimit(bytes), bytes };
    }
    case 'max-old-space-size': {
      if ((setting.bytes ?? 0) <= 0.8 * limit) return null;
      const bytes = Math.floor((0.75 * limit) / (64 * MIB)) * 64 * MIB;
      return { flag: formatNodeOldSpace(bytes), bytes };
    }
  }
}

const MEMORY_TOKEN =
  /^(-Xmx\S+|-Xms\S+|-XX:(Max|Initial|Min)RAM(Percentage|Fraction)=\S+|-XX:MaxHeapSize=\S+|--max[-_]old[-_]space[-_]size=\S+)$/;

function runtimeFix(spec: ContainerSpecEvidence, limit: number, notes: string[]): RuntimeFix {
  const env: RuntimeFix['env'] = [];
  let args: string[] | null = null;
  for (const setting of spec.runtime) {
    const desired = desiredValue(setting, limit);
    if (!desired) continue;
    const after = afterText(setting, desired.flag);
    const why = `${setting.value} (${setting.source}) gives the runtime ${formatBytes(setting.bytes ?? ((setting.percent ?? 0) * limit) / 100)} of a ${formatBytes(limit)} limit; ${after} leaves room for what is not heap`;
    const location = setting.location;
    if (location.kind === 'args') {
      args ??= [...spec.args];
      args[location.index] = rewriteFlag(args[location.index] ?? '', setting.setting, desired.flag);
      notes.push(`${why}: the patch changes args[${location.index}].`);
    } else if (location.kind === 'command') {
      notes.push(
        `${why}: the flag is in the container's command (command[${location.index}]); change it there to ${after}.`,
      );
    } else if (location.kind === 'env-configmap') {
      notes.push(
        `${why}: change it in key ${location.key} of ConfigMap ${location.configMap}. The ConfigMap is not patched here, since other workloads may share it.`,
      );
    } else {
      const current = spec.env.find((e) => e.name === location.name)?.value ?? '';
      const onlyMemoryFlags =
        setting.setting === 'GOMEMLIMIT' ||
        current
          .trim()
          .split(/\s+/)
          .every((token) => MEMORY_TOKEN.test(token));
      if (onlyMemoryFlags) {
        const value =
          setting.setting === 'GOMEMLIMIT'
            ? desired.flag
            : rewriteFlag(current, setting.setting, desired.flag);
        env.push({ name: location.name, value });
        notes.push(`${why}: the patch sets ${location.name}.`);
      } else if (setting.runtime === 'jvm' && !spec.env.some((e) => e.name === '_JAVA_OPTIONS')) {
        // _JAVA_OPTIONS is read last by the JVM, so it overrides the flag without rewriting (and quoting) the rest of the variable.
        env.push({ name: '_JAVA_OPTIONS', value: after });
        notes.push(
          `${why}: the patch adds _JAVA_OPTIONS=${after}, which the JVM reads last, rather than rewriting ${location.name}, whose other contents are not shown.`,
        );
      } else {
        notes.push(
          `${why}: change it to ${after} in ${location.name} (the rest of that variable is left alone and not shown: it may carry secrets).`,
        );
      }
    }
  }
  return { env, args };
}

function afterText(setting: RuntimeSetting, flag: string): string {
  switch (setting.setting) {
    case 'Xmx':
      return `-Xmx${flag}`;
    case 'MaxHeapSize':
      return `-XX:MaxHeapSize=${flag}`;
    case 'MaxRAMPercentage':
      return `-XX:MaxRAMPercentage=${flag}`;
    case 'MaxRAMFraction':
      return `-XX:MaxRAMFraction=${flag}`;
    case 'GOMEMLIMIT':
      return `GOMEMLIMIT=${flag}`;
    case 'max-old-space-size':
      return `--max-old-space-size=${flag}`;
  }
}

function leakAdvice(evidence: Evidence, spec: ContainerSpecEvidence, newLimit: number | null): string[] {
  const runtimes = new Set(spec.runtime.map((r) => r.runtime));
  const profiler = runtimes.has('jvm')
    ? 'take heap dumps a few hours apart (jcmd 1 GC.heap_dump /tmp/heap.hprof) and compare them in Eclipse MAT'
    : runtimes.has('go')
      ? 'compare pprof heap profiles a few hours apart (go tool pprof -diff_base old.pb.gz new.pb.gz, from /debug/pprof/heap)'
      : runtimes.has('node')
        ? 'compare heap snapshots a few hours apart (node --heapsnapshot-signal=SIGUSR2, then the Chrome DevTools Memory tab)'
        : "profile the heap with your runtime's tool (pprof for Go, heap dumps for the JVM, tracemalloc for Python, heap snapshots for Node.js)";
  const { namespace, pod, container } = evidence.target;
  const selector = `namespace="${namespace}", pod=~"${podPrefix(evidence, pod)}.*", container="${container}"`;
  const lines = [
    `A leak: raising the limit only reschedules the kill. To find it, ${profiler}.`,
    `Alert on the slope, not the level: predict_linear(container_memory_working_set_bytes{${selector}}[6h], 4 * 3600) > ${newLimit ?? 'the limit'}`,
  ];
  const rate = leakRate(evidence);
  const limit = limitInForce(evidence);
  if (rate && newLimit && limit && newLimit > limit) {
    lines.push(
      `At about ${formatBytes(rate * HOUR)} per hour, the new limit buys roughly ${formatDuration((newLimit - limit) / rate)} more between kills.`,
    );
  }
  return lines;
}

function podPrefix(evidence: Evidence, pod: string): string {
  const workload = evidence.workload;
  if (
    workload &&
    (workload.kind === 'Deployment' || workload.kind === 'StatefulSet' || workload.kind === 'DaemonSet')
  )
    return `${workload.name}-`;
  return pod;
}
