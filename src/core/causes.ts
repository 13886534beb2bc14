// The four causes of a cgroup OOM kill, each read from the container's lifetimes and runtime
// settings with a confidence of its own: a limit too small for the working set, a runtime heap sized
// past the limit, a leak, a burst. Pure: evidence in, ranked causes out.
import { CLASSIFY_THRESHOLDS as T } from './classify-thresholds';
import { formatDuration } from './duration';
import { readDays, weighWithDays } from './daily-cycles';
import { clampConfidence, formatTime, formatWindow, percent, plural } from './format';
import {
  analyseLifetimes,
  isRamp,
  restartsInWindow,
  targetSpec,
  targetStatus,
  type Lifetime,
} from './lifetimes';
import { formatBytes } from './quantity';
import {
  effectiveHeapBytes,
  effectiveSettings,
  readJvmSizingFlags,
  type FlagInForce,
  type JvmSizingFlags,
} from './runtime-settings';
import { median, type SegmentFeatures } from './series';
import { HOUR_MS as HOUR } from './time';
import type { Cause, Evidence, Kill, RuntimeSetting } from './types';

export const CAUSE_TITLES: Record<Cause['id'], string> = {
  'limit-too-small': 'the memory limit is too small for its real working set',
  'runtime-heap-misconfigured': "the runtime's heap is sized past the container limit",
  'memory-leak': 'a memory leak',
  'burst-allocation': 'a burst of allocations outran the limit',
};

/** The causes of a cgroup OOM, best first. Each confidence stands alone. */
export function rankCauses(evidence: Evidence, kills: Kill[], limit: number): Cause[] {
  const { all: lifetimes, killed, segments } = analyseLifetimes(evidence, kills, limit);
  const causes: Cause[] = [];
  const haveHistory = killed.length > 0;
  // Without a history the shape cannot be read; what is left is the runtime settings and the limit.
  const historyPenalty = haveHistory ? 1 : T.noHistory.penalty;

  const heap = heapCause(evidence, limit, killed);
  if (heap) causes.push(heap);

  if (haveHistory) {
    const leak = leakCause(killed, lifetimes, limit, heap !== null);
    if (leak) causes.push(leak);
    const plateau = plateauCause(killed, limit);
    if (plateau) causes.push(plateau);
    const burst = burstCause(killed, limit);
    if (burst) causes.push(burst);
    // Two days or more of history: what the same hour does from day to day outweighs one lifetime's shape.
    const days = readDays(evidence.metrics?.workingSet ?? [], segments, limit);
    if (days)
      weighWithDays(
        causes,
        days,
        limit,
        kills.map((k) => k.at.getTime()),
      );
  } else {
    const reading =
      evidence.metrics?.source === 'metrics-api'
        ? evidence.metrics.workingSet[evidence.metrics.workingSet.length - 1]
        : undefined;
    causes.push({
      id: 'limit-too-small',
      confidence: clampConfidence(
        T.noHistory.confidence * historyPenalty +
          (reading && reading.value >= T.noHistory.readingNearLimit * limit ? T.noHistory.readingBonus : 0),
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
  return causes.filter((c) => c.confidence >= T.minConfidence).sort((a, b) => b.confidence - a.confidence);
}

/** A finding about the heap: how much of the limit it may take, and the lines that say so. */
interface HeapFinding {
  share: number;
  confidence: number;
  lines: string[];
}

/** Confidence by how far the heap reaches into the limit: past it, at 90%+, above the sane share. */
function heapConfidence(share: number): number {
  return share >= 1
    ? T.heap.confidencePastLimit
    : share >= T.heap.nearLimitShare
      ? T.heap.confidenceNearLimit
      : T.heap.confidenceAboveSane;
}

function heapCause(evidence: Evidence, limit: number, killed: Lifetime[]): Cause | null {
  const spec = targetSpec(evidence);
  if (!spec) return null;
  const jvm = readJvmSizingFlags(spec);
  const jvmWinner = effectiveSettings(spec.runtime).find((s) => s.runtime === 'jvm');
  // Without container support a heap given as a share is a share of the node, not of the limit.
  const heapOffNode = jvm.containerSupportOff !== null && jvmWinner?.bytes === undefined;
  const settings = heapOffNode ? spec.runtime.filter((s) => s.runtime !== 'jvm') : spec.runtime;
  const findings = [
    budgetFinding(settings, limit),
    heapOffNode ? nodeSizedFinding(evidence, jvm, jvmWinner?.percent, limit) : null,
    initialHeapFinding(jvm, limit),
  ].filter((f): f is HeapFinding => f !== null);
  if (findings.length === 0) return null;

  const lines = findings.flatMap((f) => f.lines);
  lines.push(
    'Heap is not the whole process: metaspace, thread stacks, buffers and the runtime itself need room on top.',
  );
  let confidence = Math.max(...findings.map((f) => f.confidence));
  const peaks = killed.map((l) => l.features.peak);
  if (peaks.length >= 2) {
    const spread = (Math.max(...peaks) - Math.min(...peaks)) / limit;
    if (spread <= T.heap.samePeakSpread) {
      confidence += T.heap.samePeakBonus;
      lines.push(
        `All ${peaks.length} kills came at the same fill level (${formatBytes(Math.min(...peaks))} to ${formatBytes(Math.max(...peaks))}).`,
      );
    }
  }
  const startup = startupDeathLine(evidence);
  if (startup && jvm.initialHeap !== null && jvm.alwaysPreTouch !== null) {
    confidence += T.heap.startupDeathBonus;
    lines.push(startup);
  }
  return { id: 'runtime-heap-misconfigured', confidence: clampConfidence(confidence), evidence: lines };
}

/** The heap budget the runtimes' own settings give (-Xmx, MaxRAMPercentage, GOMEMLIMIT, old space). */
function budgetFinding(settings: RuntimeSetting[], limit: number): HeapFinding | null {
  if (settings.length === 0) return null;
  const heap = effectiveHeapBytes(settings, limit);
  if (heap === null) return null;
  const share = heap / limit;
  // A heap at up to 80% of the limit leaves room for metaspace, threads and buffers: a sane setting.
  // GOMEMLIMIT is different: it bounds all Go-managed memory, and "a little under the limit" is the advice.
  const onlyGo = settings.every((s) => s.runtime === 'go');
  if (share < (onlyGo ? T.heap.goSaneShare : T.heap.saneShare)) return null;
  const names = settings.map((s) => `${s.value} (${s.source})`).join(', ');
  const lines = [
    `Heap budget ${formatBytes(heap)} from ${names}: ${percent(heap, limit)} of the ${formatBytes(limit)} limit${share >= 1 ? ', more than the container may use at all' : ', leaving too little for everything that is not heap'}.`,
  ];
  let confidence = heapConfidence(share);
  // A share of the limit that wins (no absolute size beats it) follows the limit wherever it goes.
  const jvmWinner = effectiveSettings(settings).find((s) => s.runtime === 'jvm');
  const scaling = jvmWinner?.percent;
  if (scaling !== undefined && scaling >= T.heap.ramPercentageScalesWithLimit && jvmWinner) {
    confidence = Math.max(confidence, T.heap.confidenceScalesWithLimit);
    lines.push(
      `${jvmWinner.value} (${jvmWinner.source}) gives the heap ${Math.round(scaling)}% of whatever the limit is: a larger limit only makes a larger heap, and leaves the same ${Math.round(100 - scaling)}% (${formatBytes(limit * (1 - scaling / 100))} today) for everything that is not heap.`,
    );
  }
  return { share, confidence, lines };
}

/** -XX:-UseContainerSupport: the heap is a share of the node's memory, whatever the limit says. */
function nodeSizedFinding(
  evidence: Evidence,
  jvm: JvmSizingFlags,
  percentage: number | undefined,
  limit: number,
): HeapFinding | null {
  const off = jvm.containerSupportOff as FlagInForce;
  const share = percentage ?? T.heap.jvmDefaultRamPercentage;
  const node = evidence.node?.capacityBytes ?? evidence.node?.allocatableBytes ?? null;
  const said = `${off.flag} (${off.source}) makes the JVM size its heap from the node's memory, not the container's limit`;
  if (node === null) {
    return {
      share: Infinity,
      confidence: T.heap.confidenceNodeUnknown,
      lines: [
        `${said}: ${Math.round(share)}% of the node's memory, which is not known here; on any node with more than ${formatBytes((limit * 100) / share)} that heap alone is past the ${formatBytes(limit)} limit.`,
      ],
    };
  }
  const heap = Math.floor((node * share) / 100);
  if (heap < T.heap.saneShare * limit) return null;
  return {
    share: heap / limit,
    confidence: heapConfidence(heap / limit),
    lines: [
      `${said}: ${Math.round(share)}% of the node's ${formatBytes(node)} is a heap of ${formatBytes(heap)}, ${percent(heap, limit)} of the ${formatBytes(limit)} limit.`,
    ],
  };
}

/** -Xms at or near the limit: the heap starts there (and, pre-touched, is all resident at once). */
function initialHeapFinding(jvm: JvmSizingFlags, limit: number): HeapFinding | null {
  const initial = jvm.initialHeap;
  if (initial === null || initial.bytes < T.heap.saneShare * limit) return null;
  const share = initial.bytes / limit;
  const where = `${initial.flag} (${initial.source}) is ${share >= 1 ? `at or above the ${formatBytes(limit)} limit` : `${percent(initial.bytes, limit)} of the ${formatBytes(limit)} limit`}`;
  const preTouch = jvm.alwaysPreTouch;
  return {
    share,
    confidence: heapConfidence(share),
    lines: [
      preTouch
        ? `${where}; with ${preTouch.flag} (${preTouch.source}) the JVM touches all of it at start, so the container is killed within seconds of every start.`
        : `${where}: the JVM starts with a heap that size and lets it fill before it collects.`,
    ],
  };
}

/** "Lived 8 s from start to OOM kill": a run too short for Prometheus to see, said with its numbers. */
function startupDeathLine(evidence: Evidence): string | null {
  const last = targetStatus(evidence)?.lastTerminated;
  if (!last || last.reason !== 'OOMKilled' || !last.startedAt || !last.finishedAt) return null;
  const lived = last.finishedAt.getTime() - last.startedAt.getTime();
  if (lived < 0 || lived > T.heap.startupDeathMs) return null;
  // cAdvisor sees only the runs a scrape landed in; kube-state-metrics' counter sees every restart.
  const counter = evidence.metrics?.restarts ?? [];
  const counted = (counter[counter.length - 1]?.value ?? 0) - (counter[0]?.value ?? 0);
  const restarts = Math.max(restartsInWindow(evidence).length, counted);
  const readings = evidence.metrics?.workingSet.length ?? 0;
  const window = formatWindow(evidence.window.end.getTime() - evidence.window.start.getTime());
  return `The last run lived ${formatDuration(Math.max(1000, lived))} from start to OOM kill${restarts > 1 ? `, one of ${plural(restarts, 'restart')} in the last ${window}` : ''}, with ${plural(readings, 'memory reading')} in the window: it dies while starting, before Prometheus sees much.`;
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
  let confidence =
    T.leak.base +
    T.leak.r2Weight * meanR2 +
    T.leak.shareWeight * share +
    (ramps.length >= 2 ? T.leak.repeatedBonus : 0);
  // The lifetime in progress ramping too makes the story stronger.
  const current = all[all.length - 1];
  if (
    current &&
    current.killAt === null &&
    current.features.fit.slope > 0 &&
    current.features.fit.r2 >= T.ramp.minR2
  ) {
    const left = (limit - current.features.last) / current.features.fit.slope;
    if (left > 0 && Number.isFinite(left))
      lines.push(
        `The running container is climbing again and will reach the limit in about ${formatDuration(left)}.`,
      );
    confidence += T.leak.currentRampBonus;
  }
  if (heapMisconfigured) {
    // A heap allowed past the limit grows until the next collection: that looks like a leak but is not one.
    confidence -= T.leak.heapMisconfiguredPenalty;
    lines.push('Part of this climb may be the oversized heap filling up before collections, not a leak.');
  }
  return { id: 'memory-leak', confidence: clampConfidence(confidence), evidence: lines };
}

function plateauCause(killed: Lifetime[], limit: number): Cause | null {
  const plateaus = killed.filter((l) => {
    const p = l.features.plateau;
    return (
      p !== null &&
      p.durationMs >= Math.max(T.plateau.minDurationMs, T.plateau.minLifetimeShare * l.features.durationMs) &&
      l.killAt !== null &&
      l.killAt - p.endsAt <=
        Math.max(T.plateau.maxGapToKillMs, T.plateau.maxGapToKillShare * l.features.durationMs)
    );
  });
  if (plateaus.length === 0) {
    // Killed while near the limit, but not for long: weak evidence of an undersized limit.
    const nearAtKill = killed.filter((l) => l.features.baseline >= T.plateau.nearLimitBaseline * limit);
    if (nearAtKill.length === 0) return null;
    const level = median(nearAtKill.map((l) => l.features.baseline));
    return {
      id: 'limit-too-small',
      confidence: T.plateau.nearLimitConfidence,
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
  const ramping =
    latest.features.fit.r2 >= T.plateau.rampingR2 && latest.features.monotonic >= T.plateau.rampingMonotonic;
  const confidence =
    T.plateau.base +
    T.plateau.coverageWeight * Math.min(1, coverage / T.plateau.fullCoverage) +
    (plateaus.length > 1 ? T.plateau.repeatedBonus : 0) -
    (ramping ? T.plateau.rampingPenalty : 0);
  return { id: 'limit-too-small', confidence: clampConfidence(confidence), evidence: lines };
}

function burstCause(killed: Lifetime[], limit: number): Cause | null {
  const bursts = killed.filter((l) => {
    const f = l.features;
    const comfortable = f.baseline <= T.burst.comfortableBaseline * limit;
    const jumpAtEnd =
      f.last - f.baseline >= T.burst.jumpShare * limit || f.last <= T.burst.suddenEndShare * limit;
    return comfortable && jumpAtEnd && f.fit.r2 < T.burst.maxR2;
  });
  if (bursts.length === 0) return null;
  const baseline = median(bursts.map((l) => l.features.baseline));
  const spikes = bursts.flatMap((l) => l.features.spikes);
  const lines = [
    `Normal usage is comfortable: about ${formatBytes(baseline)}, ${percent(baseline, limit)} of the ${formatBytes(limit)} limit.`,
  ];
  const suddenEnds = bursts.filter((l) => l.features.last <= T.burst.suddenEndShare * limit);
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
    T.burst.base +
    T.burst.shareWeight * share +
    T.burst.headroomWeight *
      Math.min(
        1,
        (T.burst.comfortableBaseline * limit - baseline) / ((1 - T.burst.comfortableBaseline) * limit),
      ) +
    (spikes.length > 0 ? T.burst.spikesBonus : 0);
  return { id: 'burst-allocation', confidence: clampConfidence(confidence), evidence: lines };
}
