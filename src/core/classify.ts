// The field guide as code: first which mechanism killed the container (its own cgroup limit, the
// node, or a SIGKILL from someone else), then, for a cgroup OOM, which of the four causes fits the
// shape of its memory history and its runtime settings (causes.ts), read from its lifetimes
// (lifetimes.ts). Pure: evidence in, classification out. Every threshold is in classify-thresholds.ts.
import { CAUSE_TITLES, rankCauses } from './causes';
import { CLASSIFY_THRESHOLDS as T } from './classify-thresholds';
import { formatTime, formatWindow, percent, plural } from './format';
import {
  collectKills,
  inWindow,
  isSigkill,
  lastSampleBefore,
  limitInForce,
  oomEventTimes,
  restartsInWindow,
  targetStatus,
  terminationsOf,
} from './lifetimes';
import { historyNotes } from './lookback';
import { formatBytes, parseQuantity } from './quantity';
import type { Classification, Evidence, PodEvent, Sample } from './types';

// The classifier's public surface, wherever each piece lives now.
export { CAUSE_TITLES, rankCauses } from './causes';
export {
  analyseLifetimes,
  collectKills,
  leakRate,
  limitInForce,
  requestInForce,
  targetSpec,
  targetStatus,
  type Lifetime,
} from './lifetimes';

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
    return systemWide && when !== null && Math.abs(when.getTime() - at.getTime()) <= T.sameEventMs;
  });
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
  const classification = classifyMechanism(evidence);
  // What the history itself was: widened, without an earlier pod's series, a resized limit, gaps.
  classification.verdictEvidence.push(...historyNotes(evidence));
  return classification;
}

function classifyMechanism(evidence: Evidence): Classification {
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
    const farFromLimit =
      limit !== null && before !== undefined && before.value < T.nodeOomFarFromLimit * limit;
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
    const oomAtKill = oomEventTimes(evidence).some((o) => Math.abs(o - killAt) <= T.oomAtSigkillMs);
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
        `Memory was ${formatBytes(before.value)} (${percent(before.value, limit)} of the ${formatBytes(limit)} limit) just before: ${before.value >= T.atLimit * limit ? 'close to the limit, so keep an eye on it, but the kernel did not report an OOM kill' : 'not near the limit'}.`,
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
  const silentOoms = ooms.filter((o) => !restarts.some((r) => Math.abs(r - o) <= T.sameEventMs));
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
