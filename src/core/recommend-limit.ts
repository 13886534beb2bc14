// The numbers of a fix: the new memory limit, what the cluster would accept of it, and the request.
import { limitInForce, parseEvictionMessage, requestInForce } from './classify';
import { formatBytes, parseQuantity, readableStep, roundUpReadable } from './quantity';
import { RECOMMEND_THRESHOLDS as T } from './recommend-thresholds';
import { quantile, sortedCopy } from './series';
import type { Classification, Evidence } from './types';

const MIB = 2 ** 20;

export interface SizingOptions {
  /** Set requests equal to limits (Guaranteed QoS: evicted last under node pressure). */
  guaranteedQos?: boolean;
}

export interface Sizing {
  /** The limit in force (null when the container has none). */
  limit: number | null;
  /** The recommended limit and request; null when there is nothing to set. */
  newLimit: number | null;
  newRequest: number | null;
  /** Highest reading in the window, null without readings. */
  peak: number | null;
}

interface Cap {
  bytes: number;
  why: string;
}

/** The limit, capped by the node, the LimitRange and the quota, and the request that goes with it. */
export function sizeResources(
  evidence: Evidence,
  classification: Classification,
  options: SizingOptions,
  notes: string[],
): Sizing {
  const limit = limitInForce(evidence);
  const usage = sortedCopy((evidence.metrics?.workingSet ?? []).map((s) => s.value));
  const peak = usage.length > 0 ? (usage[usage.length - 1] ?? null) : null;
  const typical = usage.length > 0 ? quantile(usage, 0.5) : null;
  const wanted = wantedLimit(classification, limit, peak, notes);
  // Only a limit sized from a known peak has a band a cap can fall short of.
  const sizedFromPeak = wanted !== null && limit === null && peak !== null;
  const newLimit =
    wanted === null ? null : capLimit(evidence, limit, wanted, sizedFromPeak ? peak : null, notes);
  const newRequest = sizeRequest(evidence, classification, options, newLimit, peak, typical, notes);
  return { limit, newLimit, newRequest, peak };
}

function wantedLimit(
  classification: Classification,
  limit: number | null,
  peak: number | null,
  notes: string[],
): number | null {
  const { verdict } = classification;
  const top = classification.causes[0];
  if (verdict === 'cgroup-oom' || verdict === 'child-process-oom') {
    const heapOnly =
      top?.id === 'runtime-heap-misconfigured' &&
      !classification.causes.some((c) => c.id === 'limit-too-small' && c.confidence >= 0.5);
    if (limit === null) {
      if (!peak) return null;
      const wanted = limitAbovePeak(peak);
      notes.push(
        `No limit is set: ${formatBytes(wanted)} is ${percentAbove(wanted, peak)} above the measured peak of ${formatBytes(peak)}, inside the usual 30–50%.`,
      );
      return wanted;
    }
    if (heapOnly) {
      notes.push(`The limit of ${formatBytes(limit)} stays: the heap setting is what has to fit inside it.`);
      return limit;
    }
    // Killed at the limit: the peak it wanted is unknown, so raise from the limit in force, once.
    notes.push(
      verdict === 'child-process-oom'
        ? `The container's memory reached its ${formatBytes(limit)} limit when the process was killed${peak !== null ? `, although the readings peaked at ${formatBytes(peak)}: the allocation was brief` : ''}. This raises the limit in force by 50%, once; watch the peak, then set the limit 30–50% above it.`
        : `The container was killed at its ${formatBytes(limit)} limit, so its real peak is unknown: this raises the limit in force by 50%, once. Watch the peak over a representative day, then set the limit 30–50% above it.`,
    );
    return roundUpReadable(limit * T.censoredRaise);
  }
  if (verdict === 'node-pressure-eviction' && limit === null && peak) {
    const wanted = limitAbovePeak(peak);
    notes.push(
      `A limit of ${formatBytes(wanted)} (${percentAbove(wanted, peak)} above the measured peak of ${formatBytes(peak)}) keeps one container from starving the node.`,
    );
    return wanted;
  }
  return limit;
}

/**
 * A limit 30–50% above a known peak: a readable quantity (roundUpReadable's steps) inside that
 * band, at or above the preferred 40% when one is, else the highest below it; when no readable
 * value lies inside the band, the same search at 64 MiB, then 16 MiB; for peaks too small for
 * that, 40% above the peak in whole MiB.
 */
export function limitAbovePeak(peak: number): number {
  const low = peak * T.peakBand.low;
  const high = peak * T.peakBand.high;
  const preferred = peak * T.peakBand.preferred;
  const steps = [readableStep(preferred), ...T.finerStepsMiB.map((m) => m * MIB)];
  for (const step of steps) {
    const atOrAbove = Math.ceil(preferred / step) * step;
    if (atOrAbove <= high) return atOrAbove;
    const below = Math.floor(preferred / step) * step;
    if (below >= low && below > 0) return below;
  }
  return Math.ceil(preferred / MIB) * MIB;
}

function percentAbove(value: number, base: number): string {
  return `${Math.round((value / base - 1) * 100)}%`;
}

function capLimit(
  evidence: Evidence,
  limit: number | null,
  wanted: number,
  peak: number | null,
  notes: string[],
): number {
  const binding = capsFor(evidence, limit)
    .filter((c) => c.bytes < wanted)
    .sort((a, b) => a.bytes - b.bytes)[0];
  if (!binding) return wanted;
  const capped = Math.floor(binding.bytes / MIB) * MIB;
  if (limit !== null && capped <= limit) {
    notes.push(
      `The limit cannot be raised: ${binding.why} (${formatBytes(binding.bytes)}) allows no more than the ${formatBytes(limit)} in force. Raise that first, or make the workload use less.`,
    );
    return limit;
  }
  const bandLow = peak !== null ? Math.ceil((peak * T.peakBand.low) / MIB) * MIB : null;
  const shortOfBand =
    bandLow !== null && capped < bandLow
      ? ` That is ${formatBytes(bandLow - capped)} short of the 30% margin over the ${formatBytes(peak as number)} peak (${formatBytes(bandLow)}): expect little headroom until ${binding.why.replace(/ \(.*$/, '')} allows more.`
      : '';
  notes.push(
    `Capped at ${formatBytes(capped)} by ${binding.why}: a larger limit would be refused or never scheduled.${shortOfBand}`,
  );
  return capped;
}

function sizeRequest(
  evidence: Evidence,
  classification: Classification,
  options: SizingOptions,
  newLimit: number | null,
  peak: number | null,
  typical: number | null,
  notes: string[],
): number | null {
  const { verdict } = classification;
  let newRequest = requestInForce(evidence);
  if (options.guaranteedQos && newLimit !== null) {
    notes.push(
      'Requests equal limits: Guaranteed QoS, the last class the kubelet evicts under node pressure, at the cost of reserving the full limit.',
    );
    return newLimit;
  }
  const measured =
    verdict === 'node-pressure-eviction' ? Math.max(peak ?? 0, evictedUsage(evidence) ?? 0) || null : typical;
  if (measured !== null && (newRequest === null || newRequest < measured)) {
    newRequest = roundUpReadable(measured);
    if (verdict === 'node-pressure-eviction')
      notes.push(
        `Pods that use more than they request are evicted first: the request rises to the measured peak, ${formatBytes(measured)}.`,
      );
  }
  if (newRequest !== null && newLimit !== null && newRequest > newLimit) newRequest = newLimit;
  if (verdict === 'node-pressure-eviction' || classification.causes.some((c) => c.id === 'limit-too-small')) {
    notes.push(
      'If this pod must not be the first to go under node pressure, set requests equal to limits (Guaranteed QoS); rerun with --guaranteed-qos for that patch.',
    );
  }
  return newRequest ?? newLimit;
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
