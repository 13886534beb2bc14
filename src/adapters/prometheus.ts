// Memory history from Prometheus' HTTP API. One range query per history, whatever the window: the
// working set and everything else (limit, request, restarts, OOM events, start times) as one union.
import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import { DEFAULT_METRIC_NAMES, type ClusterSelector, type MetricNames } from '../core/prometheus-names';
import type { MetricsEvidence, Target } from '../core/types';
import { SourceError } from './errors';
import { PrometheusHttp } from './prometheus-http';
import { METRIC_NAME_VARIABLES } from '../config/metric-names';
import { plainPrometheusSettings, type PrometheusSettings } from '../config/prometheus';
import {
  changesOf,
  KNOWN_CLUSTER_LABELS,
  maxPerTimestamp,
  mergeInstances,
  sortSeries,
  type RangeSeries,
} from './prometheus-series';

export { mergeInstances } from './prometheus-series';
export { DEFAULT_METRIC_NAMES, type ClusterSelector, type MetricNames } from '../core/prometheus-names';

export interface HistoryOptions {
  /** The pod's uid as the Kubernetes API shows it now: series of earlier pods under the same name are left out. */
  podUid?: string;
}

export interface MetricsSource {
  history(
    target: Target,
    window: { start: Date; end: Date },
    options?: HistoryOptions,
  ): Promise<MetricsEvidence>;
  /**
   * How much each container's OOM counter rose over the window: asked only when nothing in the pod
   * says which container to diagnose (a child process killed in a container that did not restart).
   */
  oomEventsByContainer?(
    namespace: string,
    pod: string,
    window: { start: Date; end: Date },
  ): Promise<Map<string, number>>;
}

export interface PrometheusOptions {
  url: string;
  names?: Partial<MetricNames>;
  /** Upper bound on points per series, whatever the window (default 1440: one a minute over 24h). */
  maxPoints?: number;
  /** Without `settings` only (the settings carry their own). */
  timeoutMs?: number;
  /** A prepared axios instance (the benchmark's keep-alive client). */
  http?: AxiosInstance;
  /** Credentials, headers, TLS and timeout (PROMETHEUS_* or the CLI's flags); give `url: settings.url`. */
  settings?: PrometheusSettings;
  /** Retries of a 5xx, a time-out or a refused connection (default 2), and the first pause (250 ms). */
  retries?: number;
  backoffMs?: number;
  /** Added to every selector (PROMETHEUS_CLUSTER_LABEL with CLUSTER_NAME; --cluster-label/--cluster). */
  cluster?: ClusterSelector | null;
}

const matrixResponse = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('matrix'),
    result: z.array(
      z.object({
        metric: z.record(z.string(), z.string()),
        values: z.array(z.tuple([z.number(), z.string()])),
      }),
    ),
  }),
});

type Matrix = RangeSeries[];

const vectorResponse = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('vector'),
    result: z.array(
      z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) }),
    ),
  }),
});

/** PromQL string literal: backslash and double quote are the characters that need escaping. */
export function promString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/**
 * The step between points, in whole seconds: at least 15 s, and no more than maxPoints points over
 * the window. Prometheus evaluates at both ends of a range, so a window of n steps has n + 1 points.
 */
export function stepFor(windowMs: number, maxPoints: number): number {
  return Math.max(15_000, Math.ceil(windowMs / Math.max(1, maxPoints - 1) / 1000) * 1000);
}

/** The `oomdoctor_series` tag of the working set's series in the history query. */
const WORKING_SET_TAG = 'working_set';

export class PrometheusSource implements MetricsSource {
  private readonly client: PrometheusHttp;
  private readonly names: MetricNames;
  private readonly maxPoints: number;

  constructor(private readonly options: PrometheusOptions) {
    this.names = { ...DEFAULT_METRIC_NAMES, ...options.names };
    this.maxPoints = options.maxPoints ?? 1440;
    this.client = new PrometheusHttp(
      options.settings ?? plainPrometheusSettings(options.url, options.timeoutMs),
      {
        ...(options.http ? { http: options.http } : {}),
        ...(options.retries !== undefined ? { retries: options.retries } : {}),
        ...(options.backoffMs !== undefined ? { backoffMs: options.backoffMs } : {}),
      },
    );
  }

  /** The working-set query: the exact container (never the pod's "" aggregate nor the "POD" pause container), peaks kept. */
  workingSetQuery(target: Target, stepMs: number): string {
    const n = this.names;
    const selector = this.selector(target);
    // max_over_time keeps a spike between two points; by (id) keeps each container instance (and,
    // through the cgroup path, each pod incarnation) apart; the cluster labels keep clusters apart.
    // Any other label (an HA pair's replica label) is collapsed by max: a duplicate is never counted twice.
    return `max by (${this.groupLabels('id')}) (max_over_time(${n.workingSet}{${selector}}[${Math.max(60, stepMs / 1000)}s]))`;
  }

  contextQuery(target: Target): string {
    const n = this.names;
    const selector = this.selector(target);
    const part = (tag: string, expr: string) =>
      `label_replace(${expr}, "oomdoctor_series", "${tag}", "", "")`;
    // kube-state-metrics names the pod incarnation by `uid`, cAdvisor by the cgroup path in `id`.
    const ksm = this.groupLabels('uid');
    const cadvisor = this.groupLabels('id');
    return [
      part('limit', `max by (${ksm}) (${n.limits}{${selector}, resource="memory"})`),
      part('request', `max by (${ksm}) (${n.requests}{${selector}, resource="memory"})`),
      part('restarts', `max by (${ksm}) (${n.restarts}{${selector}})`),
      part('oom_events', `max by (${cadvisor}) (${n.oomEvents}{${selector}})`),
      part('start_time', `max by (${cadvisor}) (${n.startTime}{${selector}})`),
    ].join(' or ');
  }

  /**
   * The working set and the context in one range query, told apart by their `oomdoctor_series` tag:
   * one request per history keeps a widened diagnosis within its request budget (issue 11: at most
   * 12 per diagnosis). The tags differ, so `or` never drops a series of one part for the other's.
   */
  historyQuery(target: Target, stepMs: number): string {
    return `label_replace(${this.workingSetQuery(target, stepMs)}, "oomdoctor_series", "${WORKING_SET_TAG}", "", "") or ${this.contextQuery(target)}`;
  }

  private groupLabels(instanceLabel: string): string {
    const labels = new Set<string>([instanceLabel, ...KNOWN_CLUSTER_LABELS]);
    if (this.options.cluster) labels.add(this.options.cluster.label);
    return [...labels].join(', ');
  }

  async history(
    target: Target,
    window: { start: Date; end: Date },
    options: HistoryOptions = {},
  ): Promise<MetricsEvidence> {
    const stepMs = stepFor(window.end.getTime() - window.start.getTime(), this.maxPoints);
    const warnings: string[] = [];
    const { workingSet: workingSetMatrix, context: contextMatrix } = splitHistory(
      await this.queryRange(this.historyQuery(target, stepMs), window, stepMs, warnings),
    );
    const what = `${target.namespace}/${target.pod} container ${target.container}`;
    if (workingSetMatrix.length === 0) {
      throw new SourceError(
        'prometheus',
        `no ${this.names.workingSet} series for ${what} at ${this.options.url}: ${await this.whyNoWorkingSet()}`,
      );
    }
    const sorted = sortSeries(workingSetMatrix, contextMatrix, {
      podUid: options.podUid,
      clusterSelected: Boolean(this.options.cluster),
    });
    if (sorted.kind === 'mixed-clusters') {
      throw new SourceError(
        'prometheus',
        `the series of ${what} come from ${sorted.values.length} clusters (${sorted.label}=${sorted.values.map((v) => promString(v)).join(', ')}) and none could be told to be this pod's, so the memory history was left out rather than mixed. Set PROMETHEUS_CLUSTER_LABEL=${sorted.label} with CLUSTER_NAME (CLI: --cluster-label ${sorted.label} --cluster NAME)`,
      );
    }
    if (sorted.workingSet.length === 0) {
      throw new SourceError(
        'prometheus',
        `no ${this.names.workingSet} series for ${what} as it is now (pod uid ${options.podUid ?? '?'}): only earlier pods under that name have any; the new pod may not have been scraped yet`,
      );
    }
    const ofTag = (matrix: Matrix, tag: string) => matrix.filter((s) => s.metric.oomdoctor_series === tag);
    const samples = (tag: string) => maxPerTimestamp(ofTag(sorted.context, tag));
    const lastValue = (tag: string) => {
      const values = samples(tag);
      return values.length > 0 ? (values[values.length - 1]?.value ?? null) : null;
    };
    const starts = [...new Set(samples('start_time').map((s) => s.value * 1000))].sort((a, b) => a - b);
    const limits = samples('limit').filter((s) => s.value > 0);
    // Prometheus' own warnings first (Thanos and Mimir say so when an answer is partial), each once.
    const caveats: string[] = [...new Set(warnings)];
    caveats.push(...(await this.absentContextMetrics(sorted.context)));
    if (sorted.clusterKept) {
      const { label, value, others } = sorted.clusterKept;
      caveats.push(
        `prometheus: ${what} also has series in ${others.length === 1 ? 'another cluster' : 'other clusters'} (${label}=${others.map((v) => promString(v)).join(', ')}); only ${label}=${promString(value)}, where this pod's uid is, was read. Set PROMETHEUS_CLUSTER_LABEL=${label} with CLUSTER_NAME (CLI: --cluster-label ${label} --cluster NAME) so every query reads this cluster only`,
      );
    }
    const earlierLimit = (uid: string) => {
      const values = maxPerTimestamp(
        ofTag(sorted.earlierContext, 'limit').filter((s) => s.metric.uid?.toLowerCase() === uid),
      );
      return positiveOrNull(values[values.length - 1]?.value ?? null);
    };
    return {
      workingSet: mergeInstances(sorted.workingSet),
      stepMs,
      limitBytes: positiveOrNull(lastValue('limit')),
      requestBytes: positiveOrNull(lastValue('request')),
      restarts: samples('restarts'),
      oomEvents: samples('oom_events'),
      starts,
      source: 'prometheus',
      ...(sorted.earlier.length > 0
        ? { earlierIncarnations: sorted.earlier.map((e) => ({ ...e, limitBytes: earlierLimit(e.uid) })) }
        : {}),
      ...(changesOf(limits).length > 0
        ? {
            limitChanges: changesOf(limits).map((c) => ({ at: c.at, fromBytes: c.from, toBytes: c.to })),
          }
        : {}),
      ...(caveats.length > 0 ? { caveats } : {}),
    };
  }

  /**
   * Why the working set has no series for the pod, with the setting that fixes it: one instant query
   * (only on this failure) asks whether the metric exists at all and carries each label the
   * selector uses, as the bot's readiness check does.
   */
  private async whyNoWorkingSet(): Promise<string> {
    const n = this.names;
    const checks = [
      { tag: 'workingSet', expr: `count(${n.workingSet})` },
      ...(['namespaceLabel', 'podLabel', 'containerLabel'] as const).map((key) => ({
        tag: key,
        expr: `count(${n.workingSet}{${n[key]}!=""})`,
      })),
    ];
    const present = await this.presentOf(checks);
    if (!present) return 'is cAdvisor scraped, and are the metric and label names right?';
    if (!present.has('workingSet'))
      return `Prometheus has no series named ${n.workingSet} at all; if your setup names it differently, set ${METRIC_NAME_VARIABLES.workingSet}`;
    const label = (['namespaceLabel', 'podLabel', 'containerLabel'] as const).find(
      (key) => !present.has(key),
    );
    if (label)
      return `its series have no "${n[label]}" label; if your setup relabels it, set ${METRIC_NAME_VARIABLES[label]}`;
    return 'the metric and its labels exist, so this pod is not scraped (yet), or under other label values';
  }

  /**
   * For each part of the context query with no series for the pod: whether its metric is absent
   * from Prometheus altogether, which names the setting to change. One instant query, only then.
   */
  private async absentContextMetrics(context: Matrix): Promise<string[]> {
    const parts = [
      { tag: 'limit', key: 'limits', what: 'the memory limit over time' },
      { tag: 'request', key: 'requests', what: 'the memory request over time' },
      { tag: 'restarts', key: 'restarts', what: 'the restart count over time' },
      { tag: 'oom_events', key: 'oomEvents', what: "the kernel's OOM kills counted by cAdvisor" },
      { tag: 'start_time', key: 'startTime', what: 'when each container started' },
    ] as const;
    const empty = parts.filter((p) => !context.some((s) => s.metric.oomdoctor_series === p.tag));
    if (empty.length === 0) return [];
    const present = await this.presentOf(
      empty.map((p) => ({ tag: p.key, expr: `count(${this.names[p.key]})` })),
    );
    if (!present) return [];
    return empty
      .filter((p) => !present.has(p.key))
      .map(
        (p) =>
          `prometheus: no series named ${this.names[p.key]} at ${this.options.url}, so ${p.what} is unknown; if your setup names it differently, set ${METRIC_NAME_VARIABLES[p.key]}`,
      );
  }

  /** Which of the `count(...)` expressions have any series (null when Prometheus could not say). */
  private async presentOf(checks: Array<{ tag: string; expr: string }>): Promise<Set<string> | null> {
    const query = checks
      .map((c) => `label_replace(${c.expr}, "oomdoctor_check", "${c.tag}", "", "")`)
      .join(' or ');
    try {
      const answer = await this.client.postForm('/api/v1/query', new URLSearchParams({ query }));
      const parsed = vectorResponse.safeParse(answer.body);
      if (!parsed.success) return null;
      return new Set(
        parsed.data.data.result
          .filter((r) => Number(r.value[1]) > 0)
          .map((r) => r.metric.oomdoctor_check ?? ''),
      );
    } catch {
      return null; // the question was only to word the failure better
    }
  }

  private selector(target: Target): string {
    const n = this.names;
    const cluster = this.options.cluster
      ? `, ${this.options.cluster.label}=${promString(this.options.cluster.name)}`
      : '';
    return `${n.namespaceLabel}=${promString(target.namespace)}, ${n.podLabel}=${promString(target.pod)}, ${n.containerLabel}=${promString(target.container)}${cluster}`;
  }

  /** One instant query: the rise of every container's cAdvisor OOM counter in the pod over the window. */
  async oomEventsByContainer(
    namespace: string,
    pod: string,
    window: { start: Date; end: Date },
  ): Promise<Map<string, number>> {
    const n = this.names;
    const cluster = this.options.cluster
      ? `, ${this.options.cluster.label}=${promString(this.options.cluster.name)}`
      : '';
    const seconds = Math.max(60, Math.round((window.end.getTime() - window.start.getTime()) / 1000));
    const query = `max by (${n.containerLabel}) (increase(${n.oomEvents}{${n.namespaceLabel}=${promString(namespace)}, ${n.podLabel}=${promString(pod)}, ${n.containerLabel}!~"|POD"${cluster}}[${seconds}s]))`;
    const params = new URLSearchParams({ query, time: (window.end.getTime() / 1000).toFixed(3) });
    const answer = await this.client.postForm('/api/v1/query', params);
    const parsed = vectorResponse.safeParse(answer.body);
    if (!parsed.success)
      throw new SourceError(
        'prometheus',
        `unexpected answer from ${this.client.url}/api/v1/query (is this a Prometheus API?)`,
      );
    const rises = new Map<string, number>();
    for (const sample of parsed.data.data.result) {
      const name = sample.metric[n.containerLabel];
      const rise = Number(sample.value[1]);
      if (name && Number.isFinite(rise)) rises.set(name, rise);
    }
    return rises;
  }

  private async queryRange(
    query: string,
    window: { start: Date; end: Date },
    stepMs: number,
    warnings: string[],
  ): Promise<Matrix> {
    const params = new URLSearchParams({
      query,
      start: (window.start.getTime() / 1000).toFixed(3),
      end: (window.end.getTime() / 1000).toFixed(3),
      step: `${stepMs / 1000}s`,
    });
    // POST with a form body: long queries stay clear of URL length limits (Prometheus accepts both).
    // The client maps every HTTP and network failure to one line, and retries where that helps.
    const answer = await this.client.postForm('/api/v1/query_range', params);
    warnings.push(...answer.warnings);
    const parsed = matrixResponse.safeParse(answer.body);
    if (!parsed.success)
      throw new SourceError(
        'prometheus',
        `unexpected answer from ${this.client.url}/api/v1/query_range (is this a Prometheus API?)`,
      );
    return parsed.data.data.result;
  }
}

/** The history query's answer parted into the working set (its tag taken off) and the tagged context. */
function splitHistory(matrix: Matrix): { workingSet: Matrix; context: Matrix } {
  const workingSet: Matrix = [];
  const context: Matrix = [];
  for (const series of matrix) {
    if (series.metric.oomdoctor_series === WORKING_SET_TAG) {
      const { oomdoctor_series: _tag, ...metric } = series.metric;
      workingSet.push({ ...series, metric });
    } else context.push(series);
  }
  return { workingSet, context };
}

function positiveOrNull(value: number | null): number | null {
  return value !== null && value > 0 ? value : null;
}
