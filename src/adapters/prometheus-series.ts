// Sorting out what a range query returns before the engine sees it. One container name can hide
// several histories: earlier pods re-created under the same name (a StatefulSet's `app-0`, a rollout
// that changed the limit), the same pod name in another cluster of a shared Prometheus (Thanos,
// Mimir, a central VictoriaMetrics), and the same series twice from an HA Prometheus pair. The
// queries already collapse HA replicas (`max by` without the replica label); this keeps one pod
// incarnation of one cluster and says what it left out.
import type { Sample } from '../core/types';

export interface RangeSeries {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

/** Labels that name the cluster of a series in a Prometheus holding several. */
export const KNOWN_CLUSTER_LABELS = ['cluster', 'k8s_cluster', 'cluster_id'] as const;

export function toSamples(values: ReadonlyArray<[number, string]>): Sample[] {
  const out: Sample[] = [];
  for (const [seconds, text] of values) {
    const value = Number(text);
    if (Number.isFinite(value)) out.push({ at: Math.round(seconds * 1000), value });
  }
  return out;
}

/**
 * One history from several container instances of one pod. cAdvisor keeps a dead container's series
 * for a few minutes after a restart; where two overlap, the instance that appeared last is the live one.
 */
export function mergeInstances(matrix: readonly RangeSeries[]): Sample[] {
  const instances = matrix.map((s) => toSamples(s.values)).filter((s) => s.length > 0);
  instances.sort((a, b) => (a[0]?.at ?? 0) - (b[0]?.at ?? 0));
  const byTime = new Map<number, { value: number; rank: number }>();
  instances.forEach((samples, rank) => {
    for (const s of samples) {
      const existing = byTime.get(s.at);
      if (!existing || rank > existing.rank) byTime.set(s.at, { value: s.value, rank });
    }
  });
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([at, { value }]) => ({ at, value }));
}

/** Several series of one quantity as one: the highest value at each time (what `max()` did in PromQL). */
export function maxPerTimestamp(matrix: readonly RangeSeries[]): Sample[] {
  const byTime = new Map<number, number>();
  for (const series of matrix)
    for (const s of toSamples(series.values))
      byTime.set(s.at, Math.max(byTime.get(s.at) ?? -Infinity, s.value));
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([at, value]) => ({ at, value }));
}

const CGROUP_POD_UID = /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})/i;

/**
 * The pod a series belongs to: kube-state-metrics' `uid` label, or the pod's cgroup in cAdvisor's
 * `id` (`/kubepods/burstable/pod<uid>/…` with cgroupfs, `…-pod<uid with underscores>.slice/…` with systemd).
 */
export function podUidOf(metric: Record<string, string>): string | null {
  if (metric.uid) return metric.uid.toLowerCase();
  const match = CGROUP_POD_UID.exec(metric.id ?? '');
  return match?.[1] ? match[1].replace(/_/g, '-').toLowerCase() : null;
}

function newestSample(series: RangeSeries): number {
  const last = series.values[series.values.length - 1];
  return last ? last[0] : -Infinity;
}

export interface EarlierIncarnation {
  uid: string;
  from: number;
  to: number;
}

export type Sorted =
  | {
      kind: 'ok';
      workingSet: RangeSeries[];
      context: RangeSeries[];
      earlier: EarlierIncarnation[];
      /** The earlier incarnations' context series (their limits), for the evidence. */
      earlierContext: RangeSeries[];
      /** Set when several clusters were found and the pod's uid picked one: the label and the value kept. */
      clusterKept: { label: string; value: string; others: string[] } | null;
    }
  | { kind: 'mixed-clusters'; label: string; values: string[] };

/**
 * Keeps the series of one pod incarnation in one cluster. `podUid` is the pod the Kubernetes API
 * shows now; without it, the incarnation seen last is taken for the current one.
 */
export function sortSeries(
  workingSet: readonly RangeSeries[],
  context: readonly RangeSeries[],
  options: { podUid?: string | undefined; clusterSelected: boolean },
): Sorted {
  let ws = [...workingSet];
  let ctx = [...context];
  const newest = [...ws].sort((a, b) => newestSample(b) - newestSample(a))[0];
  const current = options.podUid?.toLowerCase() ?? (newest ? podUidOf(newest.metric) : null);
  let clusterKept: { label: string; value: string; others: string[] } | null = null;

  if (!options.clusterSelected) {
    for (const label of KNOWN_CLUSTER_LABELS) {
      const values = [...new Set([...ws, ...ctx].map((s) => s.metric[label]).filter((v) => v))] as string[];
      if (values.length < 2) continue;
      // The pod's uid names one of the clusters only when the API told us which pod this is.
      const ofPod = options.podUid
        ? [...new Set(ws.filter((s) => podUidOf(s.metric) === current).map((s) => s.metric[label]))]
        : [];
      const kept = ofPod.length === 1 ? ofPod[0] : undefined;
      if (!kept) return { kind: 'mixed-clusters', label, values: values.sort() };
      const inCluster = (s: RangeSeries) => !s.metric[label] || s.metric[label] === kept;
      ws = ws.filter(inCluster);
      ctx = ctx.filter(inCluster);
      clusterKept = { label, value: kept, others: values.filter((v) => v !== kept).sort() };
      break;
    }
  }

  if (current === null)
    return { kind: 'ok', workingSet: ws, context: ctx, earlier: [], earlierContext: [], clusterKept };
  // Series whose pod cannot be told (relabelled `id`, no `uid`) stay: they can only be this pod's.
  const isCurrent = (s: RangeSeries) => {
    const uid = podUidOf(s.metric);
    return uid === null || uid === current;
  };
  const earlierByUid = new Map<string, EarlierIncarnation>();
  for (const s of ws) {
    const uid = podUidOf(s.metric);
    if (uid === null || uid === current || s.values.length === 0) continue;
    const from = (s.values[0]?.[0] ?? 0) * 1000;
    const to = newestSample(s) * 1000;
    const known = earlierByUid.get(uid);
    earlierByUid.set(uid, {
      uid,
      from: Math.min(known?.from ?? Infinity, from),
      to: Math.max(known?.to ?? -Infinity, to),
    });
  }
  return {
    kind: 'ok',
    workingSet: ws.filter(isCurrent),
    context: ctx.filter(isCurrent),
    earlier: [...earlierByUid.values()].sort((a, b) => a.from - b.from),
    earlierContext: ctx.filter((s) => !isCurrent(s)),
    clusterKept,
  };
}

/** Where a value changes between consecutive samples (a limit resized in place), oldest first. */
export function changesOf(samples: readonly Sample[]): Array<{ at: number; from: number; to: number }> {
  const out: Array<{ at: number; from: number; to: number }> = [];
  for (let i = 1; i < samples.length; i++) {
    const before = samples[i - 1];
    const now = samples[i];
    if (before && now && now.value !== before.value)
      out.push({ at: now.at, from: before.value, to: now.value });
  }
  return out;
}
