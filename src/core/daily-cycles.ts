// Daily cycles. Inside one day, traffic that rises from the morning to the evening peak looks just
// like a leak; over several days they part: a leak keeps climbing from day to day and falls back only
// when the container restarts, a daily cycle comes back to the same level at the same hour. So the
// days are compared like with like: the same hour on successive days, the troughs as well as the peaks.
import { CLASSIFY_THRESHOLDS as T } from './classify-thresholds';
import { formatDuration } from './duration';
import { clampConfidence, formatTime, percent, plural } from './format';
import { formatBytes } from './quantity';
import { linearFit, median, type Segment } from './series';
import { DAY_MS as DAY, HOUR_MS as HOUR } from './time';
import type { Cause, CauseId, Sample } from './types';

export interface DailyReading {
  spanMs: number;
  /** Bytes per day the same hour climbs within one lifetime (median over same-hour pairs), or null. */
  growthPerDay: number | null;
  pairs: number;
  /** Share of those pairs that rose. */
  risingShare: number;
  /** The same hour the day after a restart: how much lower it is (median, bytes), or null without such pairs. */
  fallAtRestart: number | null;
  /** The hour-of-day profile once the climb is taken out, when it is strong enough to be a daily cycle. */
  cycle: { amplitude: number; strength: number; peakHour: number; troughHour: number } | null;
  /** Per UTC day with at least half its hours seen: the lowest and highest hourly median. */
  days: Array<{ start: number; trough: number; peak: number }>;
  /** The daily lows of the lifetime that saw the most whole days, oldest first (a restart starts a new list). */
  lowsOfLongestLifetime: number[];
  /** The latest daily peak of the running lifetime and when the history ends. */
  latest: { peak: number; at: number; running: boolean };
}

interface HourCell {
  hour: number;
  life: number;
  value: number;
  sinceStart: number;
}

/** Hourly medians of each lifetime, its warm-up left out. */
function hourCells(lifetimes: readonly Segment[]): HourCell[] {
  const cells: HourCell[] = [];
  lifetimes.forEach((life, index) => {
    const byHour = new Map<number, number[]>();
    for (const s of life.samples) {
      if (s.at - life.startAt < T.daily.warmUpMs) continue;
      const hour = Math.floor(s.at / HOUR);
      const values = byHour.get(hour);
      if (values) values.push(s.value);
      else byHour.set(hour, [s.value]);
    }
    for (const [hour, values] of byHour)
      cells.push({ hour, life: index, value: median(values), sinceStart: hour * HOUR - life.startAt });
  });
  return cells.sort((a, b) => a.hour - b.hour);
}

/** The same lifetimes read again (the causes, then the leak advice) give the same days: read once. */
const daysOf = new WeakMap<
  readonly Segment[],
  { samples: readonly Sample[]; count: number; limit: number; days: DailyReading | null }
>();

/** The days of a history of two days or more, or null when it is shorter. Shared: read only. */
export function readDays(
  samples: readonly Sample[],
  lifetimes: readonly Segment[],
  limit: number,
): DailyReading | null {
  const cached = daysOf.get(lifetimes);
  if (cached && cached.samples === samples && cached.count === samples.length && cached.limit === limit)
    return cached.days;
  const days = readDaysOf(samples, lifetimes, limit);
  daysOf.set(lifetimes, { samples, count: samples.length, limit, days });
  return days;
}

function readDaysOf(
  samples: readonly Sample[],
  lifetimes: readonly Segment[],
  limit: number,
): DailyReading | null {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last || last.at - first.at < T.daily.minSpanMs) return null;
  const cells = hourCells(lifetimes);
  const byHour = new Map<number, HourCell[]>();
  for (const c of cells) {
    const list = byHour.get(c.hour);
    if (list) list.push(c);
    else byHour.set(c.hour, [c]);
  }
  const within: number[] = [];
  const across: number[] = [];
  for (const c of cells) {
    for (const next of byHour.get(c.hour + 24) ?? []) {
      if (next.life === c.life) within.push(next.value - c.value);
      else if (next.life > c.life) across.push(c.value - next.value);
    }
  }
  const growthPerDay = within.length >= T.daily.minPairs ? median(within) : null;
  const risingShare = within.length > 0 ? within.filter((d) => d > 0).length / within.length : 0;

  // The hour-of-day profile of what is left once the climb is taken out, each long lifetime centred
  // on its own mean (a restart's level is not a time of day).
  const perMs = (growthPerDay ?? 0) / DAY;
  const detrended = cells.map((c) => c.value - perMs * c.sinceStart);
  const globalMean = detrended.reduce((a, b) => a + b, 0) / Math.max(1, detrended.length);
  const lifeSums = new Map<number, { sum: number; count: number }>();
  cells.forEach((c, i) => {
    const entry = lifeSums.get(c.life) ?? { sum: 0, count: 0 };
    entry.sum += detrended[i] ?? 0;
    entry.count++;
    lifeSums.set(c.life, entry);
  });
  const centred = cells.map((c, i) => {
    const life = lifeSums.get(c.life);
    const mean = life && life.count >= 20 ? life.sum / life.count : globalMean;
    return (detrended[i] ?? 0) - mean;
  });
  const profileSum = new Array<number>(24).fill(0);
  const profileCount = new Array<number>(24).fill(0);
  cells.forEach((c, i) => {
    const k = c.hour % 24;
    profileSum[k] = (profileSum[k] ?? 0) + (centred[i] ?? 0);
    profileCount[k] = (profileCount[k] ?? 0) + 1;
  });
  const profile = profileSum.map((sum, k) =>
    (profileCount[k] ?? 0) > 0 ? sum / (profileCount[k] ?? 1) : NaN,
  );
  const seen = profile.map((v, k) => ({ v, k })).filter((p) => !Number.isNaN(p.v));
  const totalVar = centred.reduce((a, v) => a + v * v, 0) / Math.max(1, centred.length);
  const profileVar =
    seen.reduce((a, p) => a + (profileCount[p.k] ?? 0) * p.v * p.v, 0) / Math.max(1, centred.length);
  const top = seen.reduce((a, b) => (b.v > a.v ? b : a), seen[0] ?? { v: 0, k: 0 });
  const bottom = seen.reduce((a, b) => (b.v < a.v ? b : a), seen[0] ?? { v: 0, k: 0 });
  const amplitude = top.v - bottom.v;
  const strength = totalVar > 0 ? profileVar / totalVar : 0;
  const dayStarts = new Set(cells.map((c) => Math.floor(c.hour / 24)));
  const cycle =
    seen.length >= 18 &&
    dayStarts.size >= 2 &&
    amplitude >= T.daily.cycleMinAmplitudeShare * limit &&
    strength >= T.daily.cycleMinStrength
      ? { amplitude, strength, peakHour: top.k, troughHour: bottom.k }
      : null;

  const byDay = new Map<number, { count: number; low: number; high: number }>();
  // Per lifetime and day: the low and how many hours were seen.
  const lows = new Map<number, Map<number, { low: number; count: number }>>();
  for (const c of cells) {
    const day = Math.floor(c.hour / 24);
    const whole = byDay.get(day) ?? { count: 0, low: Infinity, high: -Infinity };
    whole.count++;
    whole.low = Math.min(whole.low, c.value);
    whole.high = Math.max(whole.high, c.value);
    byDay.set(day, whole);
    const ofLife = lows.get(c.life) ?? new Map<number, { low: number; count: number }>();
    const entry = ofLife.get(day) ?? { low: Infinity, count: 0 };
    entry.low = Math.min(entry.low, c.value);
    entry.count++;
    ofLife.set(day, entry);
    lows.set(c.life, ofLife);
  }
  const days: DailyReading['days'] = [...byDay.entries()]
    .filter(([, d]) => d.count >= 12)
    .sort((a, b) => a[0] - b[0])
    .map(([day, d]) => ({ start: day * DAY, trough: d.low, peak: d.high }));
  const wholeDays = (life: number) =>
    [...(lows.get(life) ?? new Map<number, { low: number; count: number }>()).entries()]
      .filter(([, entry]) => entry.count >= 20)
      .sort((a, b) => a[0] - b[0])
      .map(([, entry]) => entry.low);
  const lowsOfLongestLifetime = [...lows.keys()]
    .map(wholeDays)
    .reduce<number[]>((a, b) => (b.length > a.length ? b : a), []);
  const lastLife = lifetimes[lifetimes.length - 1];
  const recent = cells.filter((c) => c.life === lifetimes.length - 1 && c.hour * HOUR >= last.at - DAY);
  return {
    spanMs: last.at - first.at,
    growthPerDay,
    pairs: within.length,
    risingShare,
    fallAtRestart: across.length > 0 ? median(across) : null,
    cycle,
    days,
    lowsOfLongestLifetime,
    latest: {
      peak: recent.length > 0 ? Math.max(...recent.map((c) => c.value)) : last.value,
      at: last.at,
      running: lastLife ? !lastLife.endedByKill : false,
    },
  };
}

export function isLeakAcrossDays(days: DailyReading, limit: number): boolean {
  return (
    days.growthPerDay !== null &&
    days.growthPerDay >= T.daily.leakPerDayShare * limit &&
    days.risingShare >= T.daily.leakRisingShare
  );
}

function hourText(hour: number): string {
  return `${String(hour).padStart(2, '0')}:00 UTC`;
}

function hoursApart(a: number, b: number): number {
  const d = Math.abs(a - b) % 24;
  return Math.min(d, 24 - d);
}

/**
 * Re-weighs the causes read from single lifetimes with what several days show. Returns the causes
 * to keep, changed in place where the days decide.
 */
export function weighWithDays(
  causes: Cause[],
  days: DailyReading,
  limit: number,
  killTimes: readonly number[],
): Cause[] {
  const find = (id: CauseId) => causes.find((c) => c.id === id);
  const upsert = (id: CauseId, confidence: number, lines: string[], first = true): void => {
    const existing = find(id);
    if (existing) {
      existing.confidence = clampConfidence(Math.max(existing.confidence, confidence));
      existing.evidence = first ? [...lines, ...existing.evidence] : [...existing.evidence, ...lines];
    } else causes.push({ id, confidence: clampConfidence(confidence), evidence: lines });
  };
  const lower = (id: CauseId, by: number, line: string): void => {
    const existing = find(id);
    if (!existing) return;
    existing.confidence = clampConfidence(existing.confidence - by);
    existing.evidence.push(line);
  };
  const cycleText = days.cycle
    ? `a daily cycle of about ${formatBytes(days.cycle.amplitude)} (low around ${hourText(days.cycle.troughHour)}, high around ${hourText(days.cycle.peakHour)})`
    : null;
  const troughs = days.days.map((d) => d.trough);
  const lows = days.lowsOfLongestLifetime;
  const peaks = days.days.map((d) => d.peak);
  const dayCount = plural(days.days.length, 'day');

  if (isLeakAcrossDays(days, limit)) {
    const perDay = days.growthPerDay as number;
    const perHour = perDay / 24;
    const lines = [
      `Comparing the same hour on successive days (${plural(days.pairs, 'pair')} of hours over ${dayCount}), usage climbs about ${formatBytes(perHour)} per hour (${formatBytes(perDay)} per day) in ${percent(days.risingShare, 1)} of them: it keeps climbing across daily cycles.`,
    ];
    if (lows.length >= 2 && (lows[lows.length - 1] ?? 0) > (lows[0] ?? 0))
      lines.push(
        `The daily lows climb too, not only the peaks: ${lows.map((t) => formatBytes(t)).join(' → ')} over one lifetime.`,
      );
    if (days.fallAtRestart !== null && days.fallAtRestart > 0.5 * perDay)
      lines.push(
        `It falls back only when the container restarts: the same hour the day after a restart is about ${formatBytes(days.fallAtRestart)} lower.`,
      );
    if (cycleText)
      lines.push(`On top of ${cycleText}: the cycle is traffic, the climb under it is the leak.`);
    if (days.latest.running && days.latest.peak < limit) {
      const left = (limit - days.latest.peak) / (perDay / DAY);
      lines.push(
        `At that rate the running container's daily peak (${formatBytes(days.latest.peak)}) reaches the ${formatBytes(limit)} limit in about ${formatDuration(left)}.`,
      );
    }
    const resets = days.fallAtRestart !== null && days.fallAtRestart > 0.5 * perDay;
    upsert(
      'memory-leak',
      T.daily.leakConfidence +
        T.daily.leakRisingWeight * days.risingShare +
        (resets ? T.daily.leakResetBonus : 0),
      lines,
    );
    const why =
      'Several days show a climb that only restarts undo: the level at the kill is where the leak got to.';
    lower('limit-too-small', T.daily.leakOverridesPenalty, why);
    lower('burst-allocation', T.daily.leakOverridesPenalty, why);
    return causes;
  }

  if (!days.cycle || !cycleText) return causes;
  const cycle = days.cycle;
  const leak = find('memory-leak');
  if (leak) {
    leak.confidence = clampConfidence(leak.confidence * T.daily.cycleNotLeakFactor);
    leak.evidence.push(
      `Comparing the same hour on successive days, usage does not keep climbing (${formatBytes(days.growthPerDay ?? 0)} per day): the rise before the kill is ${cycleText}, not a leak.`,
    );
  }
  const dailyPeak = peaks.length > 0 ? median(peaks) : 0;
  const atPeak = killTimes.filter(
    (k) => hoursApart(new Date(k).getUTCHours(), cycle.peakHour) <= T.daily.peakHourSlack,
  );
  const peakGrowth = peaks.length >= 3 ? linearFit(peaks.map((value, i) => ({ at: i, value }))).slope : 0;
  const lines = [
    `Every day usage rises with traffic to about ${formatBytes(dailyPeak)} (${percent(dailyPeak, limit)} of the ${formatBytes(limit)} limit) around ${hourText(cycle.peakHour)} and falls to about ${formatBytes(troughs.length > 0 ? median(troughs) : 0)} around ${hourText(cycle.troughHour)}, over ${dayCount}.`,
  ];
  if (
    dailyPeak >= T.daily.peakTouchesShare * limit ||
    (atPeak.length > 0 && dailyPeak >= T.daily.comfortablePeakShare * limit)
  ) {
    if (killTimes.length > 0)
      lines.push(
        `${atPeak.length} of ${plural(killTimes.length, 'kill')} came at the daily peak (${atPeak.map((k) => formatTime(k)).join(', ') || 'none'}).`,
      );
    if (days.fallAtRestart !== null && Math.abs(days.fallAtRestart) <= cycle.amplitude / 3)
      lines.push(
        'Restarts do not reset it: the same hour the day after a restart is at the same level, so it is load, not accumulation.',
      );
    const growing = peakGrowth >= 0.02 * limit;
    if (growing)
      lines.push(
        `The daily peaks grow with traffic (${peaks.map((p) => formatBytes(p)).join(' → ')}): the working set at peak load does not fit.`,
      );
    upsert('limit-too-small', T.daily.limitConfidence + (growing ? T.daily.limitGrowingBonus : 0), lines);
    lower(
      'burst-allocation',
      T.daily.leakOverridesPenalty,
      'The kills came with the daily peak, not out of a comfortable baseline.',
    );
  } else if (dailyPeak <= T.daily.comfortablePeakShare * limit && killTimes.length > 0) {
    lines.push(
      `The kill came on a spike above that comfortable daily baseline: even the daily peak leaves ${percent(limit - dailyPeak, limit)} of the limit free.`,
    );
    upsert('burst-allocation', T.daily.burstConfidence, lines);
  }
  return causes;
}
