// How much history the diagnosis looked at, and whether it should look further. One day holds one
// daily cycle: a rise of several hours before a kill may be the day's traffic as well as a leak, and
// only more days tell them apart. The engine then asks for a wider look-back at a coarser step
// (one more query, still at most 1,440 points) and the evidence says so.
import { CLASSIFY_THRESHOLDS as T } from './classify-thresholds';
import { formatDuration } from './duration';
import { formatTime, formatWindow } from './format';
import { analyseLifetimes, collectKills, isRamp, limitInForce } from './lifetimes';
import { formatBytes } from './quantity';
import { gapThreshold, linearFit, scrapeGaps, typicalStep } from './series';
import { HOUR_MS as HOUR } from './time';
import type { Evidence } from './types';

export interface WiderLookback {
  windowMs: number;
  reason: string;
}

/** A wider look-back when the shape before the kill is ambiguous, or null when the window already tells. */
export function lookbackToWiden(evidence: Evidence): WiderLookback | null {
  const metrics = evidence.metrics;
  if (!metrics || metrics.source !== 'prometheus' || metrics.widened) return null;
  const windowMs = evidence.window.end.getTime() - evidence.window.start.getTime();
  if (windowMs >= T.daily.wideEnoughMs) return null;
  const limit = limitInForce(evidence);
  if (limit === null) return null;
  const kills = collectKills(evidence);
  if (kills.length === 0) return null;
  const { killed } = analyseLifetimes(evidence, kills, limit);
  // A ramp seen to start over at two restarts inside the window is a leak: no more days needed.
  const windowStart = evidence.window.start.getTime();
  const settled = killed.filter(
    (l) => isRamp(l, limit) && l.startAt > windowStart + 2 * metrics.stepMs,
  ).length;
  if (settled >= T.daily.rampsThatSettleIt) return null;
  const lastKill = kills[kills.length - 1];
  if (!lastKill) return null;
  const killAt = lastKill.at.getTime();
  const lifeStart = [...killed]
    .reverse()
    .find((l) => l.killAt !== null && Math.abs(l.killAt - killAt) < HOUR)?.startAt;
  const from = Math.max(killAt - T.daily.riseLookMs, lifeStart ?? windowStart);
  const before = metrics.workingSet.filter((s) => s.at >= from && s.at <= killAt);
  const first = before[0];
  const last = before[before.length - 1];
  if (!first || !last || last.at - first.at < T.daily.riseMinMs) return null;
  const fit = linearFit(before);
  const rise = fit.slope * (last.at - first.at);
  if (fit.r2 < T.daily.riseMinR2 || rise < T.daily.riseMinShare * limit) return null;
  return {
    windowMs: T.daily.widenToMs,
    reason: `usage rose by ${formatBytes(rise)} over the ${formatDuration(last.at - first.at)} before the kill at ${formatTime(killAt)}, which a daily load cycle does as well as a leak`,
  };
}

/** What the evidence should say about the history itself: a widened look-back, other pods, a resized limit, gaps. */
export function historyNotes(evidence: Evidence): string[] {
  const metrics = evidence.metrics;
  if (!metrics || metrics.source !== 'prometheus') return [];
  const notes: string[] = [];
  if (metrics.widened) {
    const used = evidence.window.end.getTime() - evidence.window.start.getTime();
    notes.push(
      `Look-back widened from ${formatWindow(metrics.widened.requestedMs)} to ${formatWindow(used)} (one point every ${formatDuration(metrics.stepMs)}) because ${metrics.widened.reason}: several days are needed to tell them apart.`,
    );
  }
  for (const earlier of metrics.earlierIncarnations ?? []) {
    notes.push(
      `An earlier pod with the same name (uid ${earlier.uid}${earlier.limitBytes !== null ? `, limit ${formatBytes(earlier.limitBytes)}` : ''}) ran from ${formatTime(earlier.from)} to ${formatTime(earlier.to)}; its history is left out: it is another pod.`,
    );
  }
  for (const change of metrics.limitChanges ?? []) {
    notes.push(
      `The memory limit changed at ${formatTime(change.at)} from ${formatBytes(change.fromBytes)} to ${formatBytes(change.toBytes)}: readings before then were against the old limit.`,
    );
  }
  const gaps = scrapeGaps(
    metrics.workingSet,
    Math.max(T.reportGapMs, gapThreshold(typicalStep(metrics.workingSet))),
  );
  if (gaps.length > 0) {
    const longest = gaps.reduce((a, b) => (b.to - b.from > a.to - a.from ? b : a));
    notes.push(
      `No readings for ${formatDuration(longest.to - longest.from)} from ${formatTime(longest.from)}${gaps.length > 1 ? ` (and ${gaps.length - 1} more gap${gaps.length > 2 ? 's' : ''} of an hour or more)` : ''}: the container was not scraped then, and the shape there is unknown.`,
    );
  }
  return notes;
}
