// The field guide as code: first which mechanism killed the container (its own cgroup limit, the
// node, or a SIGKILL from someone else), then, for a cgroup OOM, which of the four causes fits the
// shape of its memory history and its runtime settings. Pure: evidence in, classification out.
import { formatBytes } from './quantity';
import { formatDuration } from './duration';
import { effectiveHeapBytes } from './runtime-settings';
import { clampConfidence, formatTime, formatWindow, percent, plural } from './format';
import { parseQuantity } from './quantity';
import { median, segmentFeatures, splitIntoLifetimes, type SegmentFeatures } from './series';
import type {
  Cause,
  Classification,
  ContainerSpecEvidence,
  ContainerStatusEvidence,
  Evidence,
  Kill,
  PodEvent,
  Sample,
  Termination,
} from './types';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Robusta's rule of thumb for "the container really was at its limit". */
const AT_LIMIT = 0.92;

export function targetSpec(evidence: Evidence): ContainerSpecEvidence | undefined {
  return evidence.pod.containers.find((c) => c.name === evidence.target.container);
}

export function targetStatus(evidence: Evidence): ContainerStatusEvidence | undefined {
  return evidence.pod.statuses.find((s) => s.name === evidence.target.container);
}

/** The limit in force: kube-state-metrics' view first (it is what the kubelet enforced), then the spec. */
export function limitInForce(evidence: Evidence): number | null {
  return evidence.metrics?.limitBytes ?? targetSpec(evidence)?.limitBytes ?? null;
}

export function requestInForce(evidence: Evidence): number | null {
  return evidence.metrics?.requestBytes ?? targetSpec(evidence)?.requestBytes ?? null;
}

function isSigkill(t: Termination): boolean {
  return t.exitCode === 137 || t.signal === 9;
}

function terminationsOf(status: ContainerStatusEvidence | undefined): Termination[] {
  if (!status) return [];
  return [status.terminated, status.lastTerminated].filter((t): t is Termination => t !== null);
}

function inWindow(evidence: Evidence, at: Date | null): boolean {
  if (!at) return true; // The API does not always say when (startedAt: null in old kubelets); keep it.
  return (
    at.getTime() >= evidence.window.start.getTime() - HOUR &&
    at.getTime() <= evidence.window.end.getTime() + HOUR
  );
}

/** Times at which a counter went up, with how much. */
function increases(samples: readonly Sample[]): Array<{ at: number; by: number }> {
  const out: Array<{ at: number; by: number }> = [];
  for (let i = 1; i < samples.length; i++) {
    const before = samples[i - 1];
    const now = samples[i];
    if (before && now && now.value > before.value) out.push({ at: now.at, by: now.value - before.value });
  }
  return out;
}

function restartsInWindow(evidence: Evidence): number[] {
  const metrics = evidence.metrics;
  if (!metrics) return [];
  const start = evidence.window.start.getTime();
  const fromStarts = metrics.starts.filter((s) => s > start);
  if (fromStarts.length > 0) return fromStarts;
  return increases(metrics.restarts).map((i) => i.at);
}

function oomEventTimes(evidence: Evidence): number[] {
  return increases(evidence.metrics?.oomEvents ?? []).map((i) => i.at);
}

/** Every kill of the target container we can place in time, newest last. */
export function collectKills(evidence: Evidence): Kill[] {
  const kills: Kill[] = [];
  for (const t of terminationsOf(targetStatus(evidence))) {
    if ((t.reason === 'OOMKilled' || isSigkill(t)) && t.finishedAt && inWindow(evidence, t.finishedAt)) {
      kills.push({ at: t.finishedAt, reason: t.reason, exitCode: t.exitCode });
    }
  }
  const ooms = oomEventTimes(evidence);
  const samples = evidence.metrics?.workingSet ?? [];
  for (const restartAt of restartsInWindow(evidence)) {
    // The kill came before the restart: at the last sample of the dying lifetime.
    const lastBefore = [...samples].reverse().find((s) => s.at < restartAt - 1);
    const at = lastBefore ? Math.min(restartAt, lastBefore.at + (evidence.metrics?.stepMs ?? 0)) : restartAt;
    if (kills.some((k) => Math.abs(k.at.getTime() - at) < 10 * MINUTE)) continue;
    const oomNear = ooms.some((o) => o >= at - 10 * MINUTE && o <= restartAt + 10 * MINUTE);
    kills.push({
      at: new Date(at),
      reason: oomNear ? 'OOMKilled' : 'restarted (reason not recorded)',
      exitCode: oomNear ? 137 : null,
    });
  }
  return kills.sort((a, b) => a.at.getTime() - b.at.getTime());
}

function evictionEvent(evidence: Evidence): { message: string; at: Date | null } | null {
  const pod = evidence.pod;
  const event = pod.events.find((e) => e.reason === 'Evicted');
  // The pod status says what, the event says when.
  if (pod.reason === 'Evicted') return { message: pod.message ?? '', at: event?.lastAt ?? null };
  return event ? { message: event.message, at: event.lastAt } : null;
}

/** The resource each node condition is about: only MemoryPressure is a memory eviction. */
const PRESSURE_RESOURCES: Record<string, string> = {
  MemoryPressure: 'memory',
  DiskPressure: 'ephemeral-storage',
  PIDPressure: 'pids',
};

/** "Container egg was using 5053216Ki, which exceeds its request of 0." and the newer kubelet wording. */
export function parseEvictionMessage(message: string): {
  resource: string | null;
  containers: Array<{ name: string; using: string; request: string }>;
} {
  const condition = /condition: \[?(MemoryPressure|DiskPressure|PIDPressure)/.exec(message)?.[1];
  const resource =
    /low on resource: ([a-z-]+)/i.exec(message)?.[1] ?? (condition ? PRESSURE_RESOURCES[condition] : null);
  const containers: Array<{ name: string; using: string; request: string }> = [];
  const pattern =
    /Container ([a-z0-9-]{1,63}) was using ([0-9.]+[A-Za-z]*), (?:which exceeds its request of|request is) ([0-9.]+[A-Za-z]*)/g;
  for (const match of message.slice(0, 4000).matchAll(pattern)) {
    containers.push({ name: match[1] ?? '', using: match[2] ?? '', request: match[3] ?? '' });
  }
  const conditionResource = /condition: \[(\w+)Pressure\]/.exec(message)?.[1];
  return { resource: resource ?? (conditionResource ? conditionResource.toLowerCase() : null), containers };
}

/** "3774874Ki" as "3.6 GiB"; text that is not a quantity is shown as it came. */
function readable(quantity: string): string {
  try {
    return formatBytes(parseQuantity(quantity));
  } catch {
    return quantity;
  }
}

function nodeOomNear(evidence: Evidence, at: Date): PodEvent | undefined {
  const events = evidence.node?.events ?? [];
  return events.find((e) => {
    const systemWide =
      e.reason === 'SystemOOM' ||
      (e.reason === 'OOMKilling' && /^(\(combined from similar events\):\s*)?Out of memory/i.test(e.message));
    const when = e.lastAt ?? e.firstAt;
    return systemWide && when !== null && Math.abs(when.getTime() - at.getTime()) <= 10 * MINUTE;
  });
}

function lastSampleBefore(evidence: Evidence, at: number): Sample | undefined {
  const samples = evidence.metrics?.workingSet ?? [];
  let found: Sample | undefined;
  for (const s of samples) {
    if (s.at <= at + 30_000) found = s;
    else break;
  }
  return found && at - found.at <= 15 * MINUTE ? found : undefined;
}

function probeEvents(evidence: Evidence): PodEvent[] {
  const container = evidence.target.container;
  return evidence.pod.events.filter(
    (e) =>
      ((e.reason === 'Unhealthy' && /liveness probe failed/i.test(e.message)) ||
        (e.reason === 'Killing' && /liveness probe/i.test(e.message))) &&
      (!e.fieldPath || e.fieldPath.includes(`{${container}}`)),
  );
}

function stopTimeoutEvents(evidence: Evidence): PodEvent[] {
  return evidence.pod.events.filter(
    (e) =>
      e.reason === 'ExceededGracePeriod' || (e.reason === 'Killing' && /stopping container/i.test(e.message)),
  );
}

function lastReadingLine(before: Sample | undefined, limit: number): string {
  return before
    ? `Last reading before the kill: ${formatBytes(before.value)}, ${percent(before.value, limit)} of the ${formatBytes(limit)} limit.`
    : `Memory limit in force: ${formatBytes(limit)}.`;
}

function where(evidence: Evidence): string {
  return `${evidence.target.namespace}/${evidence.target.pod} (container ${evidence.target.container})`;
}

export function classify(evidence: Evidence): Classification {
  const status = targetStatus(evidence);
  const limit = limitInForce(evidence);
  const kills = collectKills(evidence);
  const terminations = terminationsOf(status).filter((t) => inWindow(evidence, t.finishedAt));
  const oomTermination = terminations.find((t) => t.reason === 'OOMKilled');
  const windowText = formatWindow(evidence.window.end.getTime() - evidence.window.start.getTime());

  // 1. An eviction is the kubelet acting on node pressure, whatever the exit code says.
  const eviction = evictionEvent(evidence);
  if (eviction) {
    const parsed = parseEvictionMessage(eviction.message);
    if (parsed.resource === 'memory' || parsed.resource === null) {
      const evidenceLines = [`The pod was evicted: "${eviction.message.slice(0, 300)}"`];
      for (const c of parsed.containers) {
        evidenceLines.push(
          `Container ${c.name} was using ${readable(c.using)} against a request of ${readable(c.request)}: pods using more than they request are evicted first.`,
        );
      }
      const pressure = evidence.node?.memoryPressure;
      if (pressure === 'True')
        evidenceLines.push(
          `Node ${evidence.node?.name} reports MemoryPressure=True${evidence.node?.memoryPressureSince ? ` since ${formatTime(evidence.node.memoryPressureSince.getTime())}` : ''}.`,
        );
      evidenceLines.push(
        'This is not the container hitting its own limit: the node ran low, and the kubelet chose this pod.',
      );
      return {
        verdict: 'node-pressure-eviction',
        kills: [...kills, { at: eviction.at ?? evidence.window.end, reason: 'Evicted', exitCode: null }],
        headline: `Evicted: node ${evidence.pod.nodeName ?? '(unknown)'} ran low on memory, and the kubelet evicted ${evidence.target.namespace}/${evidence.target.pod}. Not the container's own limit.`,
        verdictEvidence: evidenceLines,
        causes: [],
      };
    }
    return {
      verdict: 'no-oom-found',
      headline: `Not an OOM kill: ${evidence.target.namespace}/${evidence.target.pod} was evicted because the node ran low on ${parsed.resource}, not memory.`,
      verdictEvidence: [`The pod was evicted: "${eviction.message.slice(0, 300)}"`],
      kills,
      causes: [],
    };
  }

  // 2. OOMKilled: the container's own limit, unless there was none or the node itself ran out.
  if (oomTermination) {
    const killAt = oomTermination.finishedAt ?? evidence.window.end;
    const before = lastSampleBefore(evidence, killAt.getTime());
    const nodeOom = nodeOomNear(evidence, killAt);
    const farFromLimit = limit !== null && before !== undefined && before.value < 0.8 * limit;
    if (limit === null || (nodeOom && farFromLimit)) {
      const lines = [
        `Terminated with reason OOMKilled, exit code ${oomTermination.exitCode}, at ${formatTime(killAt.getTime())}.`,
        limit === null
          ? 'The container has no memory limit, so its own cgroup cannot have run out: the node did.'
          : `Usage was ${formatBytes(before?.value ?? 0)} (${percent(before?.value ?? 0, limit)} of the ${formatBytes(limit)} limit) just before the kill: far from its own limit.`,
      ];
      if (nodeOom)
        lines.push(
          `The node logged ${nodeOom.reason} at ${formatTime((nodeOom.lastAt ?? nodeOom.firstAt ?? killAt).getTime())}: "${nodeOom.message.slice(0, 200)}"`,
        );
      return {
        verdict: 'node-pressure-eviction',
        headline: `Killed by the node's OOM killer: node ${evidence.pod.nodeName ?? '(unknown)'} ran out of memory${limit === null ? ' (this container has no memory limit)' : ''}. Not the container's own limit.`,
        verdictEvidence: lines,
        kills,
        causes: [],
      };
    }
    const causes = rankCauses(evidence, kills, limit);
    const count = kills.filter((k) => k.reason === 'OOMKilled').length;
    const verdictEvidence = [
      `Terminated with reason OOMKilled, exit code ${oomTermination.exitCode} (128 + 9, SIGKILL), at ${formatTime(killAt.getTime())}; restarted ${plural(status?.restartCount ?? 0, 'time')} in all.`,
      lastReadingLine(before, limit),
    ];
    if (count > 1) verdictEvidence.push(`${plural(count, 'OOM kill')} in the last ${windowText}.`);
    const top = causes[0];
    return {
      verdict: 'cgroup-oom',
      headline: `OOMKilled: ${where(evidence)} hit its ${formatBytes(limit)} memory limit${top ? `. Most likely: ${CAUSE_TITLES[top.id]}` : ''}.`,
      verdictEvidence,
      kills,
      causes,
    };
  }

  // 3. Exit 137 without OOMKilled: a SIGKILL from someone else.
  const sigkill = terminations.find(isSigkill);
  if (sigkill) {
    const killAt = sigkill.finishedAt?.getTime() ?? evidence.window.end.getTime();
    const oomAtKill = oomEventTimes(evidence).some((o) => Math.abs(o - killAt) <= 5 * MINUTE);
    if (oomAtKill && limit !== null) {
      const causes = rankCauses(evidence, kills, limit);
      return {
        verdict: 'cgroup-oom',
        headline: `OOM kill: ${where(evidence)} hit its ${formatBytes(limit)} memory limit (the status says ${sigkill.reason}, but the kernel counted an OOM event at that moment).`,
        verdictEvidence: [
          `Exit code ${sigkill.exitCode} at ${formatTime(killAt)} with reason ${sigkill.reason}.`,
          'container_oom_events_total rose at the same moment: the kernel OOM killer was the sender.',
        ],
        kills,
        causes,
      };
    }
    const lines = [
      `Exit code ${sigkill.exitCode} (SIGKILL) at ${formatTime(killAt)} with reason ${sigkill.reason}, not OOMKilled: something other than the OOM killer sent the signal.`,
    ];
    const probes = probeEvents(evidence);
    const stops = stopTimeoutEvents(evidence);
    let sender = 'an outside SIGKILL';
    if (probes.length > 0) {
      const p = probes[probes.length - 1] as PodEvent;
      sender = 'a failed liveness probe';
      lines.push(
        `The kubelet reported ${p.reason}${p.count > 1 ? ` (x${p.count})` : ''}: "${p.message.slice(0, 200)}": it restarts the container with SIGKILL when the grace period runs out.`,
      );
    } else if (stops.length > 0) {
      const s = stops[stops.length - 1] as PodEvent;
      sender = 'a stop that outlived its grace period';
      lines.push(
        `The kubelet reported ${s.reason}: "${s.message.slice(0, 200)}": a container that ignores SIGTERM is killed when terminationGracePeriodSeconds runs out.`,
      );
    }
    const before = lastSampleBefore(evidence, killAt);
    if (before && limit)
      lines.push(
        `Memory was ${formatBytes(before.value)} (${percent(before.value, limit)} of the ${formatBytes(limit)} limit) just before: ${before.value >= AT_LIMIT * limit ? 'close to the limit, so keep an eye on it, but the kernel did not report an OOM kill' : 'not near the limit'}.`,
      );
    return {
      verdict: 'sigkill-not-oom',
      headline: `Not an OOM kill: ${where(evidence)} got exit 137 from ${sender}. More memory will not fix this.`,
      verdictEvidence: lines,
      kills,
      causes: [],
    };
  }

  // 4. The OOM counter rose at a restart: an OOM kill whose OOMKilled status a later termination
  // replaced (Kubernetes keeps only the latest one in lastState).
  const counted = [...kills].reverse().find((k) => k.reason === 'OOMKilled');
  if (counted && limit !== null) {
    const since = terminationsOf(status)
      .filter((t) => t.finishedAt !== null && t.finishedAt.getTime() > counted.at.getTime())
      .sort((a, b) => (b.finishedAt?.getTime() ?? 0) - (a.finishedAt?.getTime() ?? 0))[0];
    const at = formatTime(counted.at.getTime());
    const causes = rankCauses(evidence, kills, limit);
    const count = kills.filter((k) => k.reason === 'OOMKilled').length;
    const before = lastSampleBefore(evidence, counted.at.getTime());
    const verdictEvidence = [
      `container_oom_events_total rose at the restart at ${at}: the OOM killer killed the container then.`,
      since
        ? `The last termination since was ${since.reason}, exit code ${since.exitCode}${since.finishedAt ? ` at ${formatTime(since.finishedAt.getTime())}` : ''}: Kubernetes keeps only the latest termination, so the status no longer shows the OOMKilled one.`
        : 'The container status no longer shows that termination: Kubernetes keeps only the latest one.',
      lastReadingLine(before, limit),
    ];
    if (count > 1) verdictEvidence.push(`${plural(count, 'OOM kill')} in the last ${windowText}.`);
    const top = causes[0];
    return {
      verdict: 'cgroup-oom',
      headline: `OOM kill: ${where(evidence)} hit its ${formatBytes(limit)} memory limit (found from container_oom_events_total at the restart at ${at}${since ? `; the last termination since was ${since.reason}` : ''})${top ? `. Most likely: ${CAUSE_TITLES[top.id]}` : ''}.`,
      verdictEvidence,
      kills,
      causes,
    };
  }

  // 5. The OOM killer shot a process inside a container that kept running.
  const ooms = oomEventTimes(evidence);
  const restarts = restartsInWindow(evidence);
  const silentOoms = ooms.filter((o) => !restarts.some((r) => Math.abs(r - o) <= 10 * MINUTE));
  if (silentOoms.length > 0) {
    const last = silentOoms[silentOoms.length - 1] as number;
    const lines = [
      `container_oom_events_total rose ${plural(silentOoms.length, 'time')} in the last ${windowText}, last at ${formatTime(last)}, while the container did not restart.`,
      'The kernel killed a process inside the container (a child or worker), not its main process, so Kubernetes shows no OOMKilled status.',
    ];
    const kernelEvent = (evidence.node?.events ?? []).find(
      (e) => e.reason === 'OOMKilling' && /memory cgroup/i.test(e.message),
    );
    if (kernelEvent)
      lines.push(`The node's kernel log names the process: "${kernelEvent.message.slice(0, 200)}"`);
    if (limit !== null) {
      const peak = Math.max(0, ...(evidence.metrics?.workingSet ?? []).map((s) => s.value));
      if (peak > 0)
        lines.push(
          `Peak working set ${formatBytes(peak)}, ${percent(peak, limit)} of the ${formatBytes(limit)} limit.`,
        );
    }
    return {
      verdict: 'child-process-oom',
      headline: `Hidden OOM kill: a process inside ${where(evidence)} was OOM-killed while the container kept running, so it may be limping along half-broken.`,
      verdictEvidence: lines,
      kills: [
        ...kills,
        ...silentOoms.map((at) => ({
          at: new Date(at),
          reason: 'OOM kill of a process inside the container',
          exitCode: null,
        })),
      ],
      causes: [],
    };
  }

  const lastTermination = terminations[terminations.length - 1] ?? status?.lastTerminated ?? null;
  const lines = [
    status
      ? `${status.restartCount === 0 ? 'Has not restarted' : `Restarted ${plural(status.restartCount, 'time')}`}; ${lastTermination ? `last termination: ${lastTermination.reason}, exit code ${lastTermination.exitCode}${lastTermination.finishedAt ? ` at ${formatTime(lastTermination.finishedAt.getTime())}` : ''}` : 'no termination recorded'}.`
      : `No status for container ${evidence.target.container}.`,
  ];
  if (evidence.metrics && evidence.metrics.oomEvents.length > 0)
    lines.push(`container_oom_events_total did not rise in the last ${windowText}.`);
  return {
    verdict: 'no-oom-found',
    headline: `No OOM kill found for ${where(evidence)} in the last ${windowText}.`,
    verdictEvidence: lines,
    kills,
    causes: [],
  };
}

export const CAUSE_TITLES: Record<Cause['id'], string> = {
  'limit-too-small': 'the memory limit is too small for its real working set',
  'runtime-heap-misconfigured': "the runtime's heap is sized past the container limit",
  'memory-leak': 'a memory leak',
  'burst-allocation': 'a burst of allocations outran the limit',
};

export interface Lifetime {
  features: SegmentFeatures;
  killAt: number | null;
}

/** The container's lifetimes in the window, and those that ended in a kill. */
export function analyseLifetimes(
  evidence: Evidence,
  kills: Kill[],
  limit: number,
): { all: Lifetime[]; killed: Lifetime[] } {
  const samples = evidence.metrics?.source === 'prometheus' ? evidence.metrics.workingSet : [];
  const killTimes = kills.map((k) => k.at.getTime());
  const all: Lifetime[] = splitIntoLifetimes(samples, restartsInWindow(evidence), killTimes)
    .filter((s) => s.samples.length >= 5)
    .map((s) => ({ features: segmentFeatures(s, limit), killAt: s.endedByKill ? s.killAt : null }));
  const killed = all.filter((l) => l.killAt !== null);
  // A kill just after the last sample (the window ends at it) closes the last lifetime too.
  const last = all[all.length - 1];
  const lastKill = killTimes[killTimes.length - 1];
  if (
    killed.length === 0 &&
    last &&
    lastKill !== undefined &&
    lastKill >= (samples[samples.length - 1]?.at ?? 0) - 15 * MINUTE
  ) {
    killed.push({ ...last, killAt: lastKill });
  }
  return { all, killed };
}

/** Bytes per millisecond of the lifetimes that ramp like a leak, or null when none does. */
export function leakRate(evidence: Evidence): number | null {
  const limit = limitInForce(evidence);
  if (limit === null) return null;
  const { killed } = analyseLifetimes(evidence, collectKills(evidence), limit);
  const ramps = killed.filter((l) => isRamp(l, limit));
  return ramps.length > 0 ? median(ramps.map((l) => l.features.fit.slope)) : null;
}

function isRamp(l: Lifetime, limit: number): boolean {
  const f = l.features;
  return (
    f.fit.slope > 0 &&
    f.fit.r2 >= 0.6 &&
    f.monotonic >= 0.7 &&
    f.last - f.startLevel >= 0.3 * limit &&
    f.durationMs >= 30 * MINUTE
  );
}

/** The causes of a cgroup OOM, best first. Each confidence stands alone. */
export function rankCauses(evidence: Evidence, kills: Kill[], limit: number): Cause[] {
  const { all: lifetimes, killed } = analyseLifetimes(evidence, kills, limit);
  const causes: Cause[] = [];
  const haveHistory = killed.length > 0;
  // Without a history the shape cannot be read; what is left is the runtime settings and the limit.
  const historyPenalty = haveHistory ? 1 : 0.5;

  const heap = heapCause(evidence, limit, killed);
  if (heap) causes.push(heap);

  if (haveHistory) {
    const leak = leakCause(killed, lifetimes, limit, heap !== null);
    if (leak) causes.push(leak);
    const plateau = plateauCause(killed, limit);
    if (plateau) causes.push(plateau);
    const burst = burstCause(killed, limit);
    if (burst) causes.push(burst);
  } else {
    const reading =
      evidence.metrics?.source === 'metrics-api'
        ? evidence.metrics.workingSet[evidence.metrics.workingSet.length - 1]
        : undefined;
    causes.push({
      id: 'limit-too-small',
      confidence: clampConfidence(
        0.4 * historyPenalty + (reading && reading.value >= 0.85 * limit ? 0.2 : 0),
      ),
      evidence: [
        'No memory history for this container, so the shape of its usage (plateau, ramp or spikes) cannot be read.',
        ...(reading
          ? [
              `Current reading from the metrics API: ${formatBytes(reading.value)}, ${percent(reading.value, limit)} of the ${formatBytes(limit)} limit.`,
            ]
          : []),
        'Most OOM kills with no other sign are a limit set below the real working set.',
      ],
    });
  }
  return causes.filter((c) => c.confidence >= 0.15).sort((a, b) => b.confidence - a.confidence);
}

function heapCause(evidence: Evidence, limit: number, killed: Lifetime[]): Cause | null {
  const settings = targetSpec(evidence)?.runtime ?? [];
  if (settings.length === 0) return null;
  const heap = effectiveHeapBytes(settings, limit);
  if (heap === null) return null;
  const share = heap / limit;
  // A heap at up to 80% of the limit leaves room for metaspace, threads and buffers: a sane setting.
  // GOMEMLIMIT is different: it bounds all Go-managed memory, and "a little under the limit" is the advice.
  const onlyGo = settings.every((s) => s.runtime === 'go');
  if (share < (onlyGo ? 0.98 : 0.8)) return null;
  const names = settings.map((s) => `${s.value} (${s.source})`).join(', ');
  const lines = [
    `Heap budget ${formatBytes(heap)} from ${names}: ${percent(heap, limit)} of the ${formatBytes(limit)} limit${share >= 1 ? ', more than the container may use at all' : ', leaving too little for everything that is not heap'}.`,
    'Heap is not the whole process: metaspace, thread stacks, buffers and the runtime itself need room on top.',
  ];
  let confidence = share >= 1 ? 0.9 : share >= 0.9 ? 0.75 : 0.55;
  const peaks = killed.map((l) => l.features.peak);
  if (peaks.length >= 2) {
    const spread = (Math.max(...peaks) - Math.min(...peaks)) / limit;
    if (spread <= 0.05) {
      confidence += 0.05;
      lines.push(
        `All ${peaks.length} kills came at the same fill level (${formatBytes(Math.min(...peaks))} to ${formatBytes(Math.max(...peaks))}).`,
      );
    }
  }
  return { id: 'runtime-heap-misconfigured', confidence: clampConfidence(confidence), evidence: lines };
}

function leakCause(
  killed: Lifetime[],
  all: Lifetime[],
  limit: number,
  heapMisconfigured: boolean,
): Cause | null {
  const ramps = killed.filter((l) => isRamp(l, limit));
  if (ramps.length === 0) return null;
  const share = ramps.length / killed.length;
  const meanR2 = ramps.reduce((sum, l) => sum + l.features.fit.r2, 0) / ramps.length;
  const ratePerHour = median(ramps.map((l) => l.features.fit.slope * HOUR));
  const lifetimes = ramps.map((l) => l.features.durationMs);
  const lines = [
    `Usage climbs steadily at about ${formatBytes(ratePerHour)} per hour (fit r² ${meanR2.toFixed(2)}) and never levels off, in ${ramps.length} of ${plural(killed.length, 'lifetime')} that ended in a kill.`,
    `It starts again from about ${formatBytes(median(ramps.map((l) => l.features.startLevel)))} after each restart, then climbs to the ${formatBytes(limit)} limit in ${formatDuration(median(lifetimes))}: the restart interval is the leak rate.`,
  ];
  let confidence = 0.35 + 0.35 * meanR2 + 0.15 * share + (ramps.length >= 2 ? 0.1 : 0);
  // The lifetime in progress ramping too makes the story stronger.
  const current = all[all.length - 1];
  if (
    current &&
    current.killAt === null &&
    current.features.fit.slope > 0 &&
    current.features.fit.r2 >= 0.6
  ) {
    const left = (limit - current.features.last) / current.features.fit.slope;
    if (left > 0 && Number.isFinite(left))
      lines.push(
        `The running container is climbing again and will reach the limit in about ${formatDuration(left)}.`,
      );
    confidence += 0.05;
  }
  if (heapMisconfigured) {
    // A heap allowed past the limit grows until the next collection: that looks like a leak but is not one.
    confidence -= 0.3;
    lines.push('Part of this climb may be the oversized heap filling up before collections, not a leak.');
  }
  return { id: 'memory-leak', confidence: clampConfidence(confidence), evidence: lines };
}

function plateauCause(killed: Lifetime[], limit: number): Cause | null {
  const plateaus = killed.filter((l) => {
    const p = l.features.plateau;
    return (
      p !== null &&
      p.durationMs >= Math.max(20 * MINUTE, 0.3 * l.features.durationMs) &&
      l.killAt !== null &&
      l.killAt - p.endsAt <= Math.max(30 * MINUTE, 0.15 * l.features.durationMs)
    );
  });
  if (plateaus.length === 0) {
    // Killed while near the limit, but not for long: weak evidence of an undersized limit.
    const nearAtKill = killed.filter((l) => l.features.baseline >= 0.75 * limit);
    if (nearAtKill.length === 0) return null;
    const level = median(nearAtKill.map((l) => l.features.baseline));
    return {
      id: 'limit-too-small',
      confidence: 0.3,
      evidence: [
        `Normal usage sits at ${formatBytes(level)}, ${percent(level, limit)} of the ${formatBytes(limit)} limit, leaving little headroom.`,
      ],
    };
  }
  const latest = plateaus[plateaus.length - 1] as Lifetime;
  const p = latest.features.plateau as NonNullable<SegmentFeatures['plateau']>;
  const lines = [
    `Steady at ${formatBytes(p.level)}, ${percent(p.level, limit)} of the ${formatBytes(limit)} limit, for ${formatDuration(p.durationMs)} before the kill at ${formatTime(latest.killAt ?? p.endsAt)}.`,
    'Usage levels off just under the limit in normal operation: the working set simply does not fit.',
  ];
  if (plateaus.length > 1)
    lines.push(`The same plateau came before ${plural(plateaus.length, 'kill')} in the window.`);
  const coverage = p.durationMs / Math.max(1, latest.features.durationMs);
  const ramping = latest.features.fit.r2 >= 0.8 && latest.features.monotonic >= 0.8;
  const confidence =
    0.55 + 0.3 * Math.min(1, coverage / 0.6) + (plateaus.length > 1 ? 0.1 : 0) - (ramping ? 0.3 : 0);
  return { id: 'limit-too-small', confidence: clampConfidence(confidence), evidence: lines };
}

function burstCause(killed: Lifetime[], limit: number): Cause | null {
  const bursts = killed.filter((l) => {
    const f = l.features;
    const comfortable = f.baseline <= 0.7 * limit;
    const jumpAtEnd = f.last - f.baseline >= 0.25 * limit || f.last <= 0.75 * limit;
    return comfortable && jumpAtEnd && f.fit.r2 < 0.6;
  });
  if (bursts.length === 0) return null;
  const baseline = median(bursts.map((l) => l.features.baseline));
  const spikes = bursts.flatMap((l) => l.features.spikes);
  const lines = [
    `Normal usage is comfortable: about ${formatBytes(baseline)}, ${percent(baseline, limit)} of the ${formatBytes(limit)} limit.`,
  ];
  const suddenEnds = bursts.filter((l) => l.features.last <= 0.75 * limit);
  if (suddenEnds.length > 0) {
    lines.push(
      `${suddenEnds.length === bursts.length ? 'Every' : plural(suddenEnds.length, 'kill')} ${suddenEnds.length === bursts.length ? 'kill' : 'of them'} came within one sample of a normal reading (${formatBytes(median(suddenEnds.map((l) => l.features.last)))}): the allocation was faster than the scrape interval.`,
    );
  } else {
    lines.push(
      `Usage jumped from about ${formatBytes(baseline)} to the limit just before ${plural(bursts.length, 'kill')}.`,
    );
  }
  if (spikes.length > 0) {
    const highest = Math.max(...spikes.map((s) => s.height));
    lines.push(
      `${plural(spikes.length, 'spike')} in the window, the highest to ${formatBytes(highest)} (${percent(highest, limit)} of the limit): they look like request-driven bursts.`,
    );
  }
  const share = bursts.length / killed.length;
  const confidence =
    0.45 +
    0.3 * share +
    0.15 * Math.min(1, (0.7 * limit - baseline) / (0.3 * limit)) +
    (spikes.length > 0 ? 0.05 : 0);
  return { id: 'burst-allocation', confidence: clampConfidence(confidence), evidence: lines };
}
