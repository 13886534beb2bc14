// The target container as the evidence shows it: its spec and status, the limit in force, every
// kill we can place in time, and its memory history cut into lifetimes between restarts.
// Shared by the verdict (classify.ts), the causes (causes.ts) and the recommender.
import { CLASSIFY_THRESHOLDS as T } from './classify-thresholds';
import { isLeakAcrossDays, readDays } from './daily-cycles';
import { median, segmentFeatures, splitIntoLifetimes, type Segment, type SegmentFeatures } from './series';
import { DAY_MS } from './time';
import type {
  ContainerSpecEvidence,
  ContainerStatusEvidence,
  Evidence,
  Kill,
  Sample,
  Termination,
} from './types';

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

export function isSigkill(t: Termination): boolean {
  return t.exitCode === 137 || t.signal === 9;
}

export function terminationsOf(status: ContainerStatusEvidence | undefined): Termination[] {
  if (!status) return [];
  return [status.terminated, status.lastTerminated].filter((t): t is Termination => t !== null);
}

export function inWindow(evidence: Evidence, at: Date | null): boolean {
  if (!at) return true; // The API does not always say when (startedAt: null in old kubelets); keep it.
  return (
    at.getTime() >= evidence.window.start.getTime() - T.windowSlackMs &&
    at.getTime() <= evidence.window.end.getTime() + T.windowSlackMs
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

export function restartsInWindow(evidence: Evidence): number[] {
  const metrics = evidence.metrics;
  if (!metrics) return [];
  const start = evidence.window.start.getTime();
  const fromStarts = metrics.starts.filter((s) => s > start);
  if (fromStarts.length > 0) return fromStarts;
  return increases(metrics.restarts).map((i) => i.at);
}

export function oomEventTimes(evidence: Evidence): number[] {
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
    const lastBefore = lastSampleWhere(samples, (s) => s.at < restartAt - 1);
    const at = lastBefore ? Math.min(restartAt, lastBefore.at + (evidence.metrics?.stepMs ?? 0)) : restartAt;
    if (kills.some((k) => Math.abs(k.at.getTime() - at) < T.sameEventMs)) continue;
    const oomNear = ooms.some((o) => o >= at - T.sameEventMs && o <= restartAt + T.sameEventMs);
    kills.push({
      at: new Date(at),
      reason: oomNear ? 'OOMKilled' : 'restarted (reason not recorded)',
      exitCode: oomNear ? 137 : null,
    });
  }
  return kills.sort((a, b) => a.at.getTime() - b.at.getTime());
}

/** The newest sample that passes `test`, searched from the end (without copying the history). */
function lastSampleWhere(samples: readonly Sample[], test: (s: Sample) => boolean): Sample | undefined {
  for (let i = samples.length - 1; i >= 0; i--) {
    const sample = samples[i];
    if (sample && test(sample)) return sample;
  }
  return undefined;
}

export function lastSampleBefore(evidence: Evidence, at: number): Sample | undefined {
  const samples = evidence.metrics?.workingSet ?? [];
  let found: Sample | undefined;
  for (const s of samples) {
    if (s.at <= at + 30_000) found = s;
    else break;
  }
  return found && at - found.at <= T.lastReadingMaxAgeMs ? found : undefined;
}

export interface Lifetime {
  features: SegmentFeatures;
  killAt: number | null;
  startAt: number;
}

export interface LifetimeAnalysis {
  all: Lifetime[];
  killed: Lifetime[];
  segments: Segment[];
}

/**
 * The causes, the look-back and the recommender's leak advice all read the same lifetimes of one
 * history: they are worked out once per evidence, and again whenever an input differs (another
 * history array, length or last sample, limit, kills or restarts). Results are shared: read only.
 */
const lifetimesOf = new WeakMap<Evidence, { inputs: unknown[]; result: LifetimeAnalysis }>();

/** The container's lifetimes in the window, and those that ended in a kill. */
export function analyseLifetimes(evidence: Evidence, kills: Kill[], limit: number): LifetimeAnalysis {
  const samples = evidence.metrics?.source === 'prometheus' ? evidence.metrics.workingSet : [];
  const killTimes = kills.map((k) => k.at.getTime());
  const restarts = restartsInWindow(evidence);
  const inputs = [
    samples,
    samples.length,
    samples[samples.length - 1],
    limit,
    killTimes.join(','),
    restarts.join(','),
  ];
  const cached = lifetimesOf.get(evidence);
  if (cached && cached.inputs.every((input, i) => input === inputs[i])) return cached.result;
  const result = lifetimesFrom(samples, killTimes, restarts, limit);
  lifetimesOf.set(evidence, { inputs, result });
  return result;
}

function lifetimesFrom(
  samples: readonly Sample[],
  killTimes: number[],
  restarts: number[],
  limit: number,
): LifetimeAnalysis {
  const segments = splitIntoLifetimes(samples, restarts, killTimes);
  const all: Lifetime[] = segments
    .filter((s) => s.samples.length >= T.minLifetimeSamples)
    .map((s) => ({
      features: segmentFeatures(s, limit),
      killAt: s.endedByKill ? s.killAt : null,
      startAt: s.startAt,
    }));
  const killed = all.filter((l) => l.killAt !== null);
  // A kill just after the last sample (the window ends at it) closes the last lifetime too.
  const last = all[all.length - 1];
  const lastKill = killTimes[killTimes.length - 1];
  if (
    killed.length === 0 &&
    last &&
    lastKill !== undefined &&
    lastKill >= (samples[samples.length - 1]?.at ?? 0) - T.killAfterLastSampleMs
  ) {
    killed.push({ ...last, killAt: lastKill });
  }
  return { all, killed, segments };
}

export function isRamp(l: Lifetime, limit: number): boolean {
  const f = l.features;
  return (
    f.fit.slope > 0 &&
    f.fit.r2 >= T.ramp.minR2 &&
    f.monotonic >= T.ramp.minMonotonic &&
    f.last - f.startLevel >= T.ramp.minRiseShare * limit &&
    f.durationMs >= T.ramp.minDurationMs
  );
}

/** Bytes per millisecond of the lifetimes that ramp like a leak, or null when none does. */
export function leakRate(evidence: Evidence): number | null {
  const limit = limitInForce(evidence);
  if (limit === null) return null;
  const { killed, segments } = analyseLifetimes(evidence, collectKills(evidence), limit);
  // Under a daily cycle one lifetime's slope mixes the day's traffic into the rate; the same hour
  // from one day to the next does not.
  const days = readDays(evidence.metrics?.workingSet ?? [], segments, limit);
  if (days && isLeakAcrossDays(days, limit)) return (days.growthPerDay ?? 0) / DAY_MS;
  const ramps = killed.filter((l) => isRamp(l, limit));
  return ramps.length > 0 ? median(ramps.map((l) => l.features.fit.slope)) : null;
}
