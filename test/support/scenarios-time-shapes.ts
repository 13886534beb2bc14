// Labelled time shapes of real traffic (issue 11, section 4): a daily load cycle whose peaks touch
// the limit, a leak under a daily cycle, a burst over a comfortable daily cycle, and the same with
// hours-long scrape gaps. Each is a week of history; the engine first sees the default 24 h window,
// widens the look-back when the shape there is ambiguous (as diagnose() does), and must then name the
// right cause. Runtimes keep sane heap settings, so only the time shape decides.
import { stepFor } from '../../src/adapters/prometheus';
import { lookbackToWiden } from '../../src/core/lookback';
import type { CauseId, Evidence, MetricsEvidence, Sample, Verdict } from '../../src/core/types';
import {
  generateScenario,
  GiB,
  MiB,
  rng,
  type Scenario,
  type ScenarioSpec,
  type Timeline,
} from './scenarios';
import { scenarioEvidence } from './scenario-evidence';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** A week, and a little before it so the first lifetime started before the window. */
export const HISTORY_MS = 7 * DAY + 6 * HOUR;

export type TimeShapeClass =
  | 'daily-cycle-peaks-touch-limit'
  | 'daily-cycle-peaks-grow-with-traffic'
  | 'leak-under-daily-cycle'
  | 'burst-over-daily-cycle';

export interface TimeShapeCase {
  id: string;
  shapeClass: TimeShapeClass;
  spec: ScenarioSpec;
  seed: number;
  /** Whether the default 24 h window is ambiguous and the look-back must be widened. */
  expectWidened: boolean;
  expect: { verdict: Verdict; topCause: CauseId };
}

/** 0 at the daily low, 1 at the daily high (`peakHour`, UTC), with a plateau-ish top like real traffic. */
function dailyLoad(at: number, peakHour: number): number {
  const hours = (at / HOUR - peakHour) % 24;
  const wave = 0.5 + 0.5 * Math.cos((2 * Math.PI * hours) / 24);
  return wave ** 1.5;
}

/** Gaussian-ish noise from the generator's own stream. */
function noise(random: () => number, scale: number): number {
  return (random() + random() + random() - 1.5) * 0.016 * scale;
}

interface CycleParams {
  peakHour: number;
  base: number;
  amplitude: number;
  /** Share of the limit the daily amplitude grows by per day (traffic growth). */
  growthPerDay?: number;
  /** Share of the limit per day a leak adds, from the lifetime's start. */
  leakPerDay?: number;
  /** [from, to) ms with no samples (a scrape gap), relative to `now`. */
  gapAgo?: [number, number];
}

/**
 * A daily cycle (with traffic growth, a leak, a scrape gap as asked) whose lifetimes end at the
 * kills `killAt` names for each lifetime's start.
 */
function cycleTimeline(
  params: CycleParams,
  now: number,
  killAt: (lifeStart: number) => number | null,
): Timeline {
  const level = (at: number, lifeStart: number, scale: number) => {
    const daysIn = (at - (now - HISTORY_MS)) / DAY;
    const amplitude = params.amplitude + (params.growthPerDay ?? 0) * daysIn;
    const leak = ((params.leakPerDay ?? 0) * (at - lifeStart)) / DAY;
    const warm = Math.min(1, (at - lifeStart) / (10 * MINUTE));
    return scale * (0.15 + warm * (params.base - 0.15 + amplitude * dailyLoad(at, params.peakHour) + leak));
  };
  return {
    lifetimes(windowStart, end) {
      const out: Array<{ start: number; end: number; killed: boolean }> = [];
      let start = windowStart - 3 * HOUR;
      for (let i = 0; i < 40; i++) {
        const kill = killAt(start);
        if (kill === null || kill >= end - 5 * MINUTE) break;
        out.push({ start, end: kill, killed: true });
        start = kill + 30_000;
      }
      out.push({ start, end, killed: false });
      return out;
    },
    value(at, lifeStart, scale, random) {
      if (params.gapAgo && at >= now - params.gapAgo[0] && at < now - params.gapAgo[1]) return NaN;
      return Math.min(0.995 * scale, level(at, lifeStart, scale) + noise(random, scale));
    },
  };
}

/** The daily peaks (UTC `peakHour`) `daysAgo` days before the latest one that is past by now. */
function peaksAgo(now: number, peakHour: number, daysAgo: number[]): number[] {
  let latest = Math.floor(now / DAY) * DAY + peakHour * HOUR;
  if (latest > now - 30 * MINUTE) latest -= DAY;
  return daysAgo.map((d) => latest - d * DAY);
}

const RUNTIMES: Array<(limit: number) => ScenarioSpec['runtime']> = [
  (limit) => ({ env: [{ name: 'JAVA_TOOL_OPTIONS', value: `-Xmx${Math.floor((limit * 0.55) / MiB)}m` }] }),
  (limit) => ({ env: [{ name: 'GOMEMLIMIT', value: `${Math.floor((limit * 0.9) / MiB)}MiB` }] }),
  (limit) => ({
    env: [{ name: 'NODE_OPTIONS', value: `--max-old-space-size=${Math.floor((limit * 0.5) / MiB)}` }],
  }),
];

function baseSpec(
  id: string,
  limit: number,
  runtime: ScenarioSpec['runtime'],
  timeline: Timeline,
): ScenarioSpec {
  return {
    id,
    title: id,
    namespace: 'traffic',
    app: 'storefront',
    workloadKind: 'StatefulSet',
    container: 'web',
    limit,
    request: Math.floor(limit / 2 / MiB) * MiB,
    shape: 'plateau', // the kill is read at the limit; the timeline makes every other value
    ending: 'oom',
    timeline,
    ...(runtime ? { runtime } : {}),
    expect: { verdict: 'cgroup-oom' },
  };
}

/** Every labelled case: each class at several limits, seeds, runtimes and peak hours, with and without gaps. */
export function timeShapeCases(now: number): TimeShapeCase[] {
  const cases: TimeShapeCase[] = [];
  const limits = [512 * MiB, 2 * GiB, 6 * GiB];
  limits.forEach((limit, li) => {
    for (const seed of [1, 2, 3]) {
      const random = rng(seed * 131 + li);
      // The alert came with the latest kill: the diagnosis runs an hour or three after the daily peak.
      const nowHour = new Date(now).getUTCHours();
      const peakHour = (nowHour + 23 - Math.floor(random() * 3)) % 24;
      const runtime = RUNTIMES[(seed + li) % RUNTIMES.length]?.(limit);
      const gap = seed === 2 ? ([30 * HOUR, 26 * HOUR] as [number, number]) : undefined;
      const tag = `${limit / MiB}Mi#${seed}${gap ? '+gap' : ''}`;

      // Peaks that touch the limit every day, killed at some of them; restarts do not reset anything.
      const touch: CycleParams = { peakHour, base: 0.38, amplitude: 0.57, ...(gap ? { gapAgo: gap } : {}) };
      const touchKills = peaksAgo(now, peakHour, [6, 4, 2, 0]);
      const nextPeakKill = (kills: number[]) => (start: number) =>
        kills.find((k) => k > start + HOUR) ?? null;
      cases.push({
        id: `daily-cycle-peaks-touch-limit@${tag}`,
        shapeClass: 'daily-cycle-peaks-touch-limit',
        spec: baseSpec(
          `daily-touch@${tag}`,
          limit,
          runtime,
          cycleTimeline(touch, now, nextPeakKill(touchKills)),
        ),
        seed: seed * 7 + li,
        expectWidened: true,
        expect: { verdict: 'cgroup-oom', topCause: 'limit-too-small' },
      });

      // Traffic that grows: the daily peaks climb day by day, the troughs do not.
      const grow: CycleParams = {
        peakHour,
        base: 0.36,
        amplitude: 0.42,
        growthPerDay: 0.026,
        ...(gap ? { gapAgo: gap } : {}),
      };
      const growKills = peaksAgo(now, peakHour, [0]);
      cases.push({
        id: `daily-cycle-peaks-grow-with-traffic@${tag}`,
        shapeClass: 'daily-cycle-peaks-grow-with-traffic',
        spec: baseSpec(
          `daily-grow@${tag}`,
          limit,
          runtime,
          cycleTimeline(grow, now, nextPeakKill(growKills)),
        ),
        seed: seed * 11 + li,
        expectWidened: true,
        expect: { verdict: 'cgroup-oom', topCause: 'limit-too-small' },
      });

      // A leak under the daily cycle: climbs across days (reaching the limit at the third daily
      // peak after each restart), falls back only at restarts.
      const leak: CycleParams = {
        peakHour,
        base: 0.22,
        amplitude: 0.24,
        leakPerDay: 0.172 + 0.01 * random(),
        ...(gap ? { gapAgo: gap } : {}),
      };
      const leakKills = peaksAgo(now, peakHour, [6, 3, 0]);
      cases.push({
        id: `leak-under-daily-cycle@${tag}`,
        shapeClass: 'leak-under-daily-cycle',
        spec: baseSpec(
          `daily-leak@${tag}`,
          limit,
          runtime,
          cycleTimeline(leak, now, nextPeakKill(leakKills)),
        ),
        seed: seed * 13 + li,
        expectWidened: true,
        expect: { verdict: 'cgroup-oom', topCause: 'memory-leak' },
      });

      // A comfortable daily cycle, and a kill on a spike away from the peak hour.
      // Its gap falls inside the default window: this one is not widened.
      const calm: CycleParams = {
        peakHour: (nowHour + 12) % 24,
        base: 0.3,
        amplitude: 0.25,
        ...(gap ? { gapAgo: [20 * HOUR, 16 * HOUR] as [number, number] } : {}),
      };
      const spikeAt = Math.floor((now - (1 + random()) * HOUR) / MINUTE) * MINUTE;
      const calmTimeline = cycleTimeline(calm, now, (start) => (spikeAt > start + HOUR ? spikeAt : null));
      const spiky: Timeline = {
        lifetimes: calmTimeline.lifetimes,
        value(at, lifeStart, scale, rand) {
          const usual = calmTimeline.value(at, lifeStart, scale, rand);
          // The allocation that kills: a few minutes' climb before the kill.
          if (at <= spikeAt && at > spikeAt - 3 * MINUTE) return Math.max(usual, 0.8 * scale);
          // Request bursts that do not kill: a minute or two well above the day's level.
          if (rand() < 0.002) return usual + 0.3 * scale;
          return usual;
        },
      };
      cases.push({
        id: `burst-over-daily-cycle@${tag}`,
        shapeClass: 'burst-over-daily-cycle',
        spec: { ...baseSpec(`daily-burst@${tag}`, limit, runtime, spiky), shape: 'burst' },
        seed: seed * 17 + li,
        expectWidened: false,
        expect: { verdict: 'cgroup-oom', topCause: 'burst-allocation' },
      });
    }
  });
  return cases;
}

export function generateTimeShape(c: TimeShapeCase, now: number): Scenario {
  return generateScenario(c.spec, { now, windowMs: HISTORY_MS, scrapeMs: MINUTE, seed: c.seed });
}

/**
 * A history as Prometheus answers a range query at `stepMs`: each point the highest reading of the
 * step before it (max_over_time), counters at their last value.
 */
export function atStep(
  metrics: MetricsEvidence,
  start: number,
  end: number,
  stepMs: number,
): MetricsEvidence {
  const points = (samples: Sample[], pick: (inStep: Sample[]) => number): Sample[] => {
    const out: Sample[] = [];
    let i = 0;
    for (let t = start; t <= end; t += stepMs) {
      const inStep: Sample[] = [];
      while (i < samples.length && (samples[i]?.at ?? Infinity) <= t) {
        const s = samples[i] as Sample;
        if (s.at > t - stepMs) inStep.push(s);
        i++;
      }
      if (inStep.length > 0) out.push({ at: t, value: pick(inStep) });
    }
    return out;
  };
  const counter = (samples: Sample[]) => {
    const out: Sample[] = [];
    let i = 0;
    let last: Sample | undefined;
    for (let t = start; t <= end; t += stepMs) {
      while (i < samples.length && (samples[i]?.at ?? Infinity) <= t) last = samples[i++];
      if (last) out.push({ at: t, value: last.value });
    }
    return out;
  };
  return {
    ...metrics,
    workingSet: points(metrics.workingSet, (inStep) => Math.max(...inStep.map((s) => s.value))),
    restarts: counter(metrics.restarts),
    oomEvents: counter(metrics.oomEvents),
    stepMs,
  };
}

/**
 * The evidence diagnose() ends up with: the default window at its step, and, when that is ambiguous,
 * the widened window at the coarser step, marked as widened.
 */
export async function diagnosedEvidence(
  scenario: Scenario,
  now: number,
  windowMs = DAY,
): Promise<{ evidence: Evidence; widened: boolean }> {
  const at = async (span: number): Promise<Evidence> => {
    const start = now - span;
    const evidence = await scenarioEvidence(scenario, { start, end: now });
    const stepMs = stepFor(span, 1440);
    evidence.metrics = atStep(
      { ...scenario.metrics, starts: scenario.metrics.starts },
      Math.ceil(start / 1000) * 1000,
      now,
      stepMs,
    );
    return evidence;
  };
  const first = await at(windowMs);
  const wider = lookbackToWiden(first);
  if (!wider) return { evidence: first, widened: false };
  const wide = await at(wider.windowMs);
  if (wide.metrics) wide.metrics.widened = { requestedMs: windowMs, reason: wider.reason };
  return { evidence: wide, widened: true };
}
