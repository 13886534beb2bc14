// Every number the classifier decides with, in one place, each with the reason it has that value.
// Shares are of the container's memory limit unless said otherwise. The recommender keeps its own table.

import { HOUR_MS as HOUR, MINUTE_MS as MINUTE } from './time';

export const CLASSIFY_THRESHOLDS = {
  /** Robusta's rule of thumb for "the container really was at its limit" (container peak ≥ 92%). */
  atLimit: 0.92,
  /**
   * Kubernetes' timestamps, cAdvisor's counters and kube-state-metrics' restarts are scraped at
   * different moments: a kill, an OOM event and a restart this close together are one event.
   */
  sameEventMs: 10 * MINUTE,
  /** A SIGKILL status and an OOM event this close together: the kernel sent that SIGKILL. */
  oomAtSigkillMs: 5 * MINUTE,
  /** Terminations this far outside the window still count (the window is cut at scrape times). */
  windowSlackMs: HOUR,
  /** A reading older than this before a kill says nothing about the moment of the kill. */
  lastReadingMaxAgeMs: 15 * MINUTE,
  /** Below this share of its limit at a node OOM, the container was a victim, not the cause. */
  nodeOomFarFromLimit: 0.8,
  /** Fewer samples than this in a lifetime: no shape can be read from it. */
  minLifetimeSamples: 5,
  /** A kill this soon after the last sample still closes the last lifetime. */
  killAfterLastSampleMs: 15 * MINUTE,
  /** A cause below this confidence is not shown at all. */
  minConfidence: 0.15,
  /** A lifetime that climbs like a leak: a good linear fit, mostly rising, by a good part of the limit. */
  ramp: { minR2: 0.6, minMonotonic: 0.7, minRiseShare: 0.3, minDurationMs: 30 * MINUTE },
  heap: {
    /** A JVM or Node heap up to this share leaves room for metaspace, threads and buffers. */
    saneShare: 0.8,
    /** GOMEMLIMIT bounds all Go-managed memory: "a little under the limit" is the advice. */
    goSaneShare: 0.98,
    /** Confidence by how far past the limit the heap is: past it, at 90%+, above the sane share. */
    confidencePastLimit: 0.9,
    confidenceNearLimit: 0.75,
    nearLimitShare: 0.9,
    confidenceAboveSane: 0.55,
    /** Kills at the same fill level (peaks within this share of each other) point at a fixed budget. */
    samePeakSpread: 0.05,
    samePeakBonus: 0.05,
    /**
     * MaxRAMPercentage at or above this gives the heap nearly all of any limit: raising the limit
     * raises the heap with it, so the limit is never the fix (field guide: heap sized off the limit).
     */
    ramPercentageScalesWithLimit: 90,
    confidenceScalesWithLimit: 0.9,
    /** HotSpot's MaxRAMPercentage when none is set (JDK 10+). */
    jvmDefaultRamPercentage: 25,
    /** Container support off and the node's memory unknown: the heap ignores the limit, size unknown. */
    confidenceNodeUnknown: 0.8,
    /**
     * A run this short from start to OOM kill died while starting (an -Xms touched at start with
     * AlwaysPreTouch), before Prometheus could scrape a shape: the settings are the evidence.
     */
    startupDeathMs: 2 * MINUTE,
    startupDeathBonus: 0.05,
  },
  leak: {
    /** Confidence = base + r2Weight·mean r² + shareWeight·(ramping share of kills) + bonuses. */
    base: 0.35,
    r2Weight: 0.35,
    shareWeight: 0.15,
    repeatedBonus: 0.1,
    /** The lifetime in progress ramping too. */
    currentRampBonus: 0.05,
    /** An oversized heap grows until the next collection and looks like a leak. */
    heapMisconfiguredPenalty: 0.3,
  },
  plateau: {
    /** A plateau is a run at ≥ 85% of the limit whose spread stays within 10% (see series.ts). */
    minDurationMs: 20 * MINUTE,
    /** ...and covers at least this share of its lifetime... */
    minLifetimeShare: 0.3,
    /** ...and ends this close to the kill (or this share of the lifetime). */
    maxGapToKillMs: 30 * MINUTE,
    maxGapToKillShare: 0.15,
    /** Normal usage above this share, without a plateau: weak evidence of a small limit. */
    nearLimitBaseline: 0.75,
    nearLimitConfidence: 0.3,
    /** Confidence = base + coverageWeight·min(1, coverage / fullCoverage) + repeated − ramping. */
    base: 0.55,
    coverageWeight: 0.3,
    fullCoverage: 0.6,
    repeatedBonus: 0.1,
    /** A plateau reached by a steady climb may be a leak that got there. */
    rampingPenalty: 0.3,
    rampingR2: 0.8,
    rampingMonotonic: 0.8,
  },
  burst: {
    /** Normal usage at or below this share is comfortable. */
    comfortableBaseline: 0.7,
    /** A jump of this share of the limit at the end of a lifetime, or a last reading this low... */
    jumpShare: 0.25,
    suddenEndShare: 0.75,
    /** ...in a lifetime that does not climb steadily. */
    maxR2: 0.6,
    /** Confidence = base + shareWeight·(bursting share of kills) + headroomWeight·headroom + spikes. */
    base: 0.45,
    shareWeight: 0.3,
    headroomWeight: 0.15,
    spikesBonus: 0.05,
  },
  /**
   * Daily cycles (issue 11): load that rises by day and falls at night looks like a leak inside one
   * day. Several days tell them apart, comparing the same hour on successive days.
   */
  daily: {
    /** A history this long (two days, less the edges) is read day by day. */
    minSpanMs: 46 * HOUR,
    /** Shorter than this, and the look-back is widened when the shape is ambiguous... */
    wideEnoughMs: 72 * HOUR,
    /** ...to this (7 cycles), at a step that keeps the query at or under 1,440 points. */
    widenToMs: 7 * 24 * HOUR,
    /** Ambiguous: before the kill, usage rose for this long, by this share of the limit, this straight. */
    riseMinMs: 3 * HOUR,
    riseLookMs: 12 * HOUR,
    riseMinShare: 0.25,
    riseMinR2: 0.5,
    /** Two ramps that each reset at a restart inside the window already tell a leak: no need to widen. */
    rampsThatSettleIt: 2,
    /** The first hour after a start is warm-up (caches, JIT), not the day's level. */
    warmUpMs: HOUR,
    /** Same-hour pairs needed before a growth per day is believed. */
    minPairs: 6,
    /** A leak: the same hour climbs by this share of the limit per day, in this share of the pairs. */
    leakPerDayShare: 0.03,
    leakRisingShare: 0.65,
    /** A daily cycle: the hour-of-day profile spans this share of the limit and explains this share of the variance. */
    cycleMinAmplitudeShare: 0.1,
    cycleMinStrength: 0.4,
    /** Daily peaks at or above this share of the limit touch it. */
    peakTouchesShare: 0.85,
    /** Daily peaks at or below this share leave comfortable room: a kill above them is a burst. */
    comfortablePeakShare: 0.75,
    /** A kill this close to the usual peak hour came with the daily peak. */
    peakHourSlack: 3,
    /** Confidences when the days decide. */
    leakConfidence: 0.6,
    leakRisingWeight: 0.25,
    leakResetBonus: 0.1,
    limitConfidence: 0.8,
    limitGrowingBonus: 0.05,
    burstConfidence: 0.75,
    /** A per-lifetime ramp that the days show to be the daily cycle keeps this share of its confidence. */
    cycleNotLeakFactor: 0.3,
    /** What a leak found across days takes off a plateau or burst reading of the same kills. */
    leakOverridesPenalty: 0.25,
  },
  /** Scrape gaps this long are said in the evidence. */
  reportGapMs: HOUR,
  /** Without any history the limit is the usual culprit, at low confidence. */
  noHistory: { confidence: 0.4, readingNearLimit: 0.85, readingBonus: 0.2, penalty: 0.5 },
} as const;
