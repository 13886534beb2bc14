// Memory history from Prometheus' HTTP API. Two range queries per diagnosis, whatever the window:
// the working set, and everything else (limit, request, restarts, OOM events, start times) as one union.
import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import type { MetricsEvidence, Sample, Target } from '../core/types';
import { SourceError } from './errors';
import { PrometheusHttp } from './prometheus-http';
import { plainPrometheusSettings, type PrometheusSettings } from './prometheus-settings';

export interface MetricNames {
  workingSet: string;
  limits: string;
  requests: string;
  restarts: string;
  oomEvents: string;
  startTime: string;
  namespaceLabel: string;
  podLabel: string;
  containerLabel: string;
}

/** cAdvisor (through the kubelet) and kube-state-metrics names, as kube-prometheus scrapes them. */
export const DEFAULT_METRIC_NAMES: MetricNames = {
  workingSet: 'container_memory_working_set_bytes',
  limits: 'kube_pod_container_resource_limits',
  requests: 'kube_pod_container_resource_requests',
  restarts: 'kube_pod_container_status_restarts_total',
  oomEvents: 'container_oom_events_total',
  startTime: 'container_start_time_seconds',
  namespaceLabel: 'namespace',
  podLabel: 'pod',
  containerLabel: 'container',
};

export interface MetricsSource {
  history(target: Target, window: { start: Date; end: Date }): Promise<MetricsEvidence>;
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

type Matrix = z.infer<typeof matrixResponse>['data']['result'];

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
    // max_over_time keeps a spike between two points; by (id) keeps each container instance apart.
    return `max by (id) (max_over_time(${n.workingSet}{${selector}}[${Math.max(60, stepMs / 1000)}s]))`;
  }

  contextQuery(target: Target): string {
    const n = this.names;
    const selector = this.selector(target);
    const part = (tag: string, expr: string) =>
      `label_replace(${expr}, "oomdoctor_series", "${tag}", "", "")`;
    return [
      part('limit', `max(${n.limits}{${selector}, resource="memory"})`),
      part('request', `max(${n.requests}{${selector}, resource="memory"})`),
      part('restarts', `max(${n.restarts}{${selector}})`),
      part('oom_events', `max(${n.oomEvents}{${selector}})`),
      part('start_time', `max(${n.startTime}{${selector}})`),
    ].join(' or ');
  }

  async history(target: Target, window: { start: Date; end: Date }): Promise<MetricsEvidence> {
    const stepMs = stepFor(window.end.getTime() - window.start.getTime(), this.maxPoints);
    const [workingSetMatrix, contextMatrix] = await Promise.all([
      this.queryRange(this.workingSetQuery(target, stepMs), window, stepMs),
      this.queryRange(this.contextQuery(target), window, stepMs),
    ]);
    if (workingSetMatrix.length === 0) {
      throw new SourceError(
        'prometheus',
        `no ${this.names.workingSet} series for ${target.namespace}/${target.pod} container ${target.container} at ${this.options.url} (is cAdvisor scraped, and are the label names right?)`,
      );
    }
    const tagged = (tag: string) => contextMatrix.find((s) => s.metric.oomdoctor_series === tag);
    const samples = (tag: string) => toSamples(tagged(tag)?.values ?? []);
    const lastValue = (tag: string) => {
      const values = samples(tag);
      return values.length > 0 ? (values[values.length - 1]?.value ?? null) : null;
    };
    const starts = [...new Set(samples('start_time').map((s) => s.value * 1000))].sort((a, b) => a - b);
    return {
      workingSet: mergeInstances(workingSetMatrix),
      stepMs,
      limitBytes: positiveOrNull(lastValue('limit')),
      requestBytes: positiveOrNull(lastValue('request')),
      restarts: samples('restarts'),
      oomEvents: samples('oom_events'),
      starts,
      source: 'prometheus',
    };
  }

  private selector(target: Target): string {
    const n = this.names;
    return `${n.namespaceLabel}=${promString(target.namespace)}, ${n.podLabel}=${promString(target.pod)}, ${n.containerLabel}=${promString(target.container)}`;
  }

  private async queryRange(
    query: string,
    window: { start: Date; end: Date },
    stepMs: number,
    warnings: string[] = [],
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

function positiveOrNull(value: number | null): number | null {
  return value !== null && value > 0 ? value : null;
}

function toSamples(values: Array<[number, string]>): Sample[] {
  const out: Sample[] = [];
  for (const [seconds, text] of values) {
    const value = Number(text);
    if (Number.isFinite(value)) out.push({ at: Math.round(seconds * 1000), value });
  }
  return out;
}

/**
 * One history from several container instances. cAdvisor keeps a dead container's series for a few
 * minutes after a restart; where two overlap, the instance that appeared last is the live one.
 */
export function mergeInstances(matrix: Matrix): Sample[] {
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
