// Shape features of a memory history. The field guide's rule is that the shape of usage over time
// is the diagnosis: a plateau under the limit, a ramp that resets at each restart, or a flat line
// with sudden steps. These functions turn samples into the numbers that tell those shapes apart.
import { MINUTE_MS } from './time';
import type { Sample } from './types';

export interface Segment {
  /** Samples of one container lifetime (between two restarts), oldest first. */
  samples: Sample[];
  startAt: number;
  endAt: number;
  /** The lifetime ended in a kill inside the window. */
  endedByKill: boolean;
  /** When that kill happened (ms), if it did. */
  killAt: number | null;
}

export interface LinearFit {
  /** Bytes per millisecond. */
  slope: number;
  intercept: number;
  /** Coefficient of determination in [0,1]. */
  r2: number;
}

export interface SegmentFeatures {
  durationMs: number;
  count: number;
  peak: number;
  p10: number;
  median: number;
  p90: number;
  fit: LinearFit;
  /** Share of rises between consecutive bucket medians, in [0,1]; 1 is a steady climb. */
  monotonic: number;
  /** The last sample before the end of the lifetime. */
  last: number;
  /** Median of the samples before the final stretch, as the "normal" level. */
  baseline: number;
  /** Longest stretch (ms) spent at or above 85% of the limit with little movement, and its level. */
  plateau: { durationMs: number; level: number; endsAt: number } | null;
  /** Short excursions well above the rolling baseline. */
  spikes: Array<{ at: number; height: number; above: number }>;
  /** Value at the start of the lifetime (median of its first tenth). */
  startLevel: number;
}

export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  const lowValue = sorted[low] ?? 0;
  const highValue = sorted[high] ?? lowValue;
  return lowValue + (highValue - lowValue) * (position - low);
}

/** Numeric ascending sort; a typed array sorts numbers natively, several times faster than a comparator. */
export function sortedNumbers(values: readonly number[]): number[] {
  return Array.from(sortedCopy(values));
}

/** The sorted copy itself, without turning it back into an array (the hot paths only index it). */
export function sortedCopy(values: readonly number[]): Float64Array {
  return Float64Array.from(values).sort();
}

export function median(values: readonly number[]): number {
  return quantile(sortedCopy(values), 0.5);
}

export function linearFit(samples: readonly Sample[]): LinearFit {
  const n = samples.length;
  if (n < 2) return { slope: 0, intercept: samples[0]?.value ?? 0, r2: 0 };
  // Centre time on the first sample so the sums stay well inside double precision.
  const origin = samples[0]?.at ?? 0;
  let sumX = 0;
  let sumY = 0;
  for (const s of samples) {
    sumX += s.at - origin;
    sumY += s.value;
  }
  const meanX = sumX / n;
  const meanY = sumY / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const s of samples) {
    const dx = s.at - origin - meanX;
    const dy = s.value - meanY;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) return { slope: 0, intercept: meanY, r2: 0 };
  const slope = sxy / sxx;
  const r2 = syy === 0 ? 0 : Math.min(1, (sxy * sxy) / (sxx * syy));
  return { slope, intercept: meanY - slope * (meanX + origin), r2 };
}

/**
 * Splits a history into container lifetimes. Restarts come from the container's start times when
 * known, else from kills, else from sharp drops (a restart frees all memory at once).
 */
export function splitIntoLifetimes(
  samples: readonly Sample[],
  restartsAt: readonly number[],
  killsAt: readonly number[],
): Segment[] {
  if (samples.length === 0) return [];
  const boundaries = new Set<number>();
  for (const at of restartsAt) boundaries.add(at);
  // A kill with no known restart after it still ends a lifetime.
  for (const at of killsAt) {
    if (!restartsAt.some((r) => r >= at && r - at < 15 * MINUTE_MS)) boundaries.add(at);
  }
  if (boundaries.size === 0) {
    for (let i = 1; i < samples.length; i++) {
      const before = samples[i - 1];
      const now = samples[i];
      if (
        before &&
        now &&
        before.value > 0 &&
        now.value < before.value * 0.5 &&
        before.value - now.value > 32 * 2 ** 20
      ) {
        boundaries.add(now.at - 1);
      }
    }
  }
  const cuts = [...boundaries]
    .filter((b) => b > (samples[0]?.at ?? 0) && b <= (samples[samples.length - 1]?.at ?? 0) + MINUTE_MS)
    .sort((a, b) => a - b);
  const segments: Segment[] = [];
  let current: Sample[] = [];
  let cutIndex = 0;
  const closeSegment = (endedAt: number | null) => {
    if (current.length === 0) return;
    const killAt = endedAt === null ? null : nearestKill(killsAt, endedAt);
    segments.push({
      samples: current,
      startAt: current[0]?.at ?? 0,
      endAt: current[current.length - 1]?.at ?? 0,
      endedByKill: endedAt !== null,
      killAt: killAt ?? endedAt,
    });
    current = [];
  };
  for (const sample of samples) {
    while (cutIndex < cuts.length && sample.at >= (cuts[cutIndex] ?? Infinity)) {
      closeSegment(cuts[cutIndex] ?? null);
      cutIndex++;
    }
    current.push(sample);
  }
  // A cut after the last sample (a kill right at the end of the window) still ends the last lifetime.
  closeSegment(cutIndex < cuts.length ? (cuts[cutIndex] ?? null) : null);
  return segments;
}

function nearestKill(killsAt: readonly number[], at: number): number | null {
  let best: number | null = null;
  for (const k of killsAt) {
    if (Math.abs(k - at) <= 15 * MINUTE_MS && (best === null || Math.abs(k - at) < Math.abs(best - at)))
      best = k;
  }
  return best;
}

/** The usual time between two samples (the median gap), so a scrape gap is not taken for one step. */
export function typicalStep(samples: readonly Sample[]): number {
  if (samples.length < 2) return MINUTE_MS;
  const gaps = new Float64Array(samples.length - 1);
  for (let i = 1; i < samples.length; i++) gaps[i - 1] = (samples[i]?.at ?? 0) - (samples[i - 1]?.at ?? 0);
  return Math.max(1, quantile(gaps.sort(), 0.5));
}

/** A pause in the samples this long (five steps, at least ten minutes) is a scrape gap, not a step. */
export function gapThreshold(stepMs: number): number {
  return Math.max(10 * MINUTE_MS, 5 * stepMs);
}

/** Stretches with no samples (Prometheus down, the target not scraped), oldest first. */
export function scrapeGaps(samples: readonly Sample[], minMs: number): Array<{ from: number; to: number }> {
  const gaps: Array<{ from: number; to: number }> = [];
  for (let i = 1; i < samples.length; i++) {
    const before = samples[i - 1];
    const now = samples[i];
    if (before && now && now.at - before.at >= minMs) gaps.push({ from: before.at, to: now.at });
  }
  return gaps;
}

/** Medians of equal-time buckets, for shape tests that must not be fooled by noise. */
export function bucketMedians(samples: readonly Sample[], buckets: number): number[] {
  if (samples.length === 0) return [];
  const start = samples[0]?.at ?? 0;
  const span = Math.max(1, (samples[samples.length - 1]?.at ?? start) - start);
  const groups: number[][] = Array.from({ length: buckets }, () => []);
  for (const s of samples) {
    const index = Math.min(buckets - 1, Math.floor(((s.at - start) / span) * buckets));
    groups[index]?.push(s.value);
  }
  return groups.filter((g) => g.length > 0).map((g) => median(g));
}

export function segmentFeatures(segment: Segment, limitBytes: number | null): SegmentFeatures {
  const { samples } = segment;
  const values = samples.map((s) => s.value);
  const sorted = sortedCopy(values);
  // One usual step for the whole lifetime: the plateau's gaps and the spikes' merging both use it.
  const step = typicalStep(samples);
  const durationMs = segment.endAt - segment.startAt;
  const buckets = bucketMedians(samples, Math.min(12, Math.max(2, Math.floor(samples.length / 4))));
  let rises = 0;
  for (let i = 1; i < buckets.length; i++) if ((buckets[i] ?? 0) > (buckets[i - 1] ?? 0)) rises++;
  const monotonic = buckets.length > 1 ? rises / (buckets.length - 1) : 0;
  const headCount = Math.max(1, Math.floor(samples.length / 10));
  const startLevel = median(values.slice(0, headCount));
  // "Normal" level: the lifetime without its last tenth, where a burst or the kill would sit.
  const body = values.slice(0, Math.max(1, values.length - headCount));
  return {
    durationMs,
    count: samples.length,
    peak: sorted[sorted.length - 1] ?? 0,
    p10: quantile(sorted, 0.1),
    median: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    fit: linearFit(samples),
    monotonic,
    last: values[values.length - 1] ?? 0,
    baseline: median(body),
    plateau: limitBytes ? longestPlateau(samples, limitBytes, gapThreshold(step)) : null,
    spikes: findSpikes(samples, limitBytes, step),
    startLevel,
  };
}

/**
 * The longest run at or above 85% of the limit whose spread stays within 10% of the limit. A scrape
 * gap ends a run: nobody saw the level while nothing was scraped.
 */
export function longestPlateau(
  samples: readonly Sample[],
  limitBytes: number,
  gapMs = Infinity,
): SegmentFeatures['plateau'] {
  const floor = 0.85 * limitBytes;
  let best: SegmentFeatures['plateau'] = null;
  let runStart = -1;
  let runMin = Infinity;
  let runMax = -Infinity;
  let runSum = 0;
  const flush = (endIndex: number) => {
    if (runStart < 0) return;
    const first = samples[runStart];
    const last = samples[endIndex];
    if (!first || !last) return;
    const durationMs = last.at - first.at;
    if (durationMs > 0 && (best === null || durationMs > best.durationMs)) {
      best = { durationMs, level: runSum / (endIndex - runStart + 1), endsAt: last.at };
    }
  };
  for (let i = 0; i < samples.length; i++) {
    const value = samples[i]?.value ?? 0;
    const nextMin = Math.min(runMin, value);
    const nextMax = Math.max(runMax, value);
    const afterGap = i > 0 && (samples[i]?.at ?? 0) - (samples[i - 1]?.at ?? 0) >= gapMs;
    if (value >= floor && !afterGap && (runStart < 0 || nextMax - nextMin <= 0.1 * limitBytes)) {
      if (runStart < 0) runStart = i;
      runMin = nextMin;
      runMax = nextMax;
      runSum += value;
    } else {
      flush(i - 1);
      runStart = value >= floor ? i : -1;
      runMin = value >= floor ? value : Infinity;
      runMax = value >= floor ? value : -Infinity;
      runSum = value >= floor ? value : 0;
    }
  }
  flush(samples.length - 1);
  return best;
}

/**
 * Excursions above a rolling median. A spike must rise by at least 20% of the limit (or 50% of the
 * baseline when no limit is known) and come back down, or end the lifetime.
 */
export function findSpikes(
  samples: readonly Sample[],
  limitBytes: number | null,
  // The usual step, not the first one: a scrape gap at the start must not merge every spike into one.
  step = typicalStep(samples),
): SegmentFeatures['spikes'] {
  const spikes: SegmentFeatures['spikes'] = [];
  const windowSize = 15;
  // The previous windowSize values, kept sorted as the window slides (one insert, one removal per
  // sample) rather than copied and sorted again at every sample.
  const window = new Float64Array(windowSize);
  let size = 0;
  for (let i = 0; i < samples.length; i++) {
    const entering = samples[i - 1];
    if (entering) {
      const leaving = samples[i - 1 - windowSize];
      if (leaving) size = removeSorted(window, size, leaving.value);
      size = insertSorted(window, size, entering.value);
    }
    const sample = samples[i];
    if (!sample) continue;
    const count = size;
    if (count < 3) continue;
    const baseline =
      count % 2 === 1
        ? (window[(count - 1) / 2] ?? 0)
        : ((window[count / 2 - 1] ?? 0) + (window[count / 2] ?? 0)) / 2;
    const threshold = limitBytes ? 0.2 * limitBytes : 0.5 * baseline;
    const above = sample.value - baseline;
    if (above >= threshold) {
      const lastSpike = spikes[spikes.length - 1];
      // Consecutive high points are one spike: keep its highest point.
      if (lastSpike && i > 0 && sample.at - lastSpike.at <= 3 * step) {
        if (sample.value > lastSpike.height) {
          lastSpike.height = sample.value;
          lastSpike.above = above;
          lastSpike.at = sample.at;
        }
      } else {
        spikes.push({ at: sample.at, height: sample.value, above });
      }
    }
  }
  return spikes;
}

/** Inserts into the first `size` sorted values (NaN last, as a typed array sorts); returns the new size. */
function insertSorted(values: Float64Array, size: number, value: number): number {
  let at = size;
  while (at > 0 && !Number.isNaN(value) && !((values[at - 1] ?? 0) <= value)) {
    values[at] = values[at - 1] ?? 0;
    at--;
  }
  values[at] = value;
  return size + 1;
}

/** Removes one occurrence of `value` from the first `size` sorted values; returns the new size. */
function removeSorted(values: Float64Array, size: number, value: number): number {
  let at = 0;
  while (at < size && !(values[at] === value || (Number.isNaN(value) && Number.isNaN(values[at])))) at++;
  if (at === size) return size;
  values.copyWithin(at, at + 1, size);
  return size - 1;
}
