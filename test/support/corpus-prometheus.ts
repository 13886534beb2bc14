// An in-process Prometheus for the labelled corpus: it answers the engine's own range queries (the
// history query of src/adapters/prometheus.ts: the working set and its context, tagged) from generated series, so
// that thousands of mixed histories (an HA pair's duplicates, the same pod name in another cluster, an
// earlier pod under the same name) go through PrometheusSource.history as they would against a real
// Prometheus, without starting one per case. It evaluates only those query shapes, as Prometheus does:
// label matchers, `max_over_time(...[range])` over (t - range, t], an instant selector's latest sample
// within the 5-minute lookback, `max by (labels)`, `label_replace` tags joined by `or`. Anything else,
// and a range of more than 11,000 points (Prometheus' own limit), is refused with Prometheus' error.
// The integration tests check the same queries against a real Prometheus.
import axios, { type AxiosInstance, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import type { GeneratedSeries } from './prometheus';

const LOOKBACK_MS = 5 * 60_000;
/** Prometheus refuses a range query of more points than this per series. */
const MAX_POINTS = 11_000;

type Matchers = Array<[string, string]>;
interface Selector {
  by: string[];
  metric: string;
  matchers: Matchers;
  /** Present for max_over_time(...[range]): the range in ms. */
  rangeMs?: number;
  tag?: string;
}

function matchersOf(text: string): Matchers {
  const out: Matchers = [];
  for (const part of text.split(/,\s*/)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"$/.exec(part.trim());
    if (!m?.[1] || m[2] === undefined) throw new Error(`unsupported matcher: ${part}`);
    out.push([m[1], JSON.parse(`"${m[2]}"`) as string]);
  }
  return out;
}

/**
 * The selectors of the engine's history query: `label_replace` tags joined by `or`, the working set's
 * part a `max_over_time` and the context's parts instant selectors; null for anything else.
 */
export function parseEngineQuery(query: string): Selector[] | null {
  const out: Selector[] = [];
  for (const part of query.split(' or ')) {
    const range =
      /^label_replace\(max by \(([^)]*)\) \(max_over_time\((\w+)\{([^}]*)\}\[(\d+)s\]\)\), "oomdoctor_series", "(\w+)", "", ""\)$/.exec(
        part,
      );
    if (range?.[1] && range[2] && range[3] && range[4] && range[5]) {
      out.push({
        by: range[1].split(/,\s*/),
        metric: range[2],
        matchers: matchersOf(range[3]),
        rangeMs: Number(range[4]) * 1000,
        tag: range[5],
      });
      continue;
    }
    const m =
      /^label_replace\(max by \(([^)]*)\) \((\w+)\{([^}]*)\}\), "oomdoctor_series", "(\w+)", "", ""\)$/.exec(
        part,
      );
    if (!m?.[1] || !m[2] || !m[3] || !m[4]) return null;
    out.push({ by: m[1].split(/,\s*/), metric: m[2], matchers: matchersOf(m[3]), tag: m[4] });
  }
  return out;
}

/** `label_replace(count(metric{label!=""}), "oomdoctor_check", "tag", "", "")` parts joined by `or`. */
export function parsePresenceChecks(
  query: string,
): Array<{ metric: string; label: string | null; tag: string }> | null {
  const out: Array<{ metric: string; label: string | null; tag: string }> = [];
  for (const part of query.split(' or ')) {
    const m = /^label_replace\(count\((\w+)(?:\{(\w+)!=""\})?\), "oomdoctor_check", "(\w+)", "", ""\)$/.exec(
      part,
    );
    if (!m?.[1] || !m[3]) return null;
    out.push({ metric: m[1], label: m[2] ?? null, tag: m[3] });
  }
  return out;
}

function sortedSamples(series: GeneratedSeries): Array<[number, number]> {
  const seen = new Set<number>();
  const out: Array<[number, number]> = [];
  for (const s of series.samples) {
    if (seen.has(s[0])) continue; // as the backfill does: a duplicate timestamp keeps the first
    seen.add(s[0]);
    out.push(s);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** Evaluates one selector at each step: the matrix Prometheus would answer. */
function evaluate(
  selector: Selector,
  series: ReadonlyArray<{ labels: Record<string, string>; samples: Array<[number, number]> }>,
  steps: number[],
): Array<{ metric: Record<string, string>; values: Array<[number, string]> }> {
  const groups = new Map<string, { metric: Record<string, string>; values: Map<number, number> }>();
  for (const s of series) {
    if (s.labels.__name__ !== selector.metric) continue;
    if (!selector.matchers.every(([label, value]) => (s.labels[label] ?? '') === value)) continue;
    const metric: Record<string, string> = {};
    for (const label of selector.by) if (s.labels[label]) metric[label] = s.labels[label];
    if (selector.tag) metric.oomdoctor_series = selector.tag;
    const key = JSON.stringify(Object.entries(metric).sort());
    const group = groups.get(key) ?? { metric, values: new Map<number, number>() };
    groups.set(key, group);
    const window = selector.rangeMs ?? LOOKBACK_MS;
    let lo = 0;
    for (const t of steps) {
      // Samples in (t - window, t]: the highest for max_over_time, the latest for an instant selector.
      while (lo < s.samples.length && (s.samples[lo]?.[0] ?? Infinity) <= t - window) lo++;
      let value: number | null = null;
      for (let i = lo; i < s.samples.length; i++) {
        const sample = s.samples[i] as [number, number];
        if (sample[0] > t) break;
        value = selector.rangeMs === undefined ? sample[1] : Math.max(value ?? -Infinity, sample[1]);
      }
      if (value === null) continue;
      group.values.set(t, Math.max(group.values.get(t) ?? -Infinity, value));
    }
  }
  return [...groups.values()]
    .filter((g) => g.values.size > 0)
    .map((g) => ({
      metric: g.metric,
      values: [...g.values.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([t, v]) => [t / 1000, String(v)] as [number, string]),
    }));
}

function reply(config: InternalAxiosRequestConfig, status: number, body: unknown): AxiosResponse {
  return {
    data: JSON.stringify(body),
    status,
    statusText: String(status),
    headers: { 'content-type': 'application/json' },
    config,
  };
}

/** An axios instance whose requests this in-process Prometheus answers; `requests` counts them. */
export function corpusPrometheus(generated: readonly GeneratedSeries[]): {
  http: AxiosInstance;
  requests: () => number;
} {
  const series: Array<{ labels: Record<string, string>; samples: Array<[number, number]> }> = generated.map(
    (s) => ({
      labels: { ...s.labels, __name__: s.name },
      samples: sortedSamples(s),
    }),
  );
  let requests = 0;
  const http = axios.create({
    baseURL: 'http://127.0.0.1:9090',
    adapter: async (config) => {
      requests++;
      const params = new URLSearchParams(String(config.data ?? ''));
      const badData = (error: string) =>
        reply(config, 400, { status: 'error', errorType: 'bad_data', error });
      if (config.url === '/api/v1/query') {
        // The presence checks (`count(metric)`, `count(metric{label!=""})`) are answered; the OOM
        // counters by container, asked only when the pod cannot say which container, find none.
        const query = String(params.get('query'));
        const checks = parsePresenceChecks(query);
        const at = Number(params.get('time') ?? NaN);
        const result = (checks ?? []).flatMap(({ metric, label, tag }) => {
          const count = series.filter(
            (s) => s.labels.__name__ === metric && (label === null || (s.labels[label] ?? '') !== ''),
          ).length;
          return count > 0
            ? [{ metric: { oomdoctor_check: tag }, value: [Number.isFinite(at) ? at : 0, String(count)] }]
            : [];
        });
        if (!checks && !query.startsWith('max by (')) return badData(`this fake does not evaluate: ${query}`);
        return reply(config, 200, { status: 'success', data: { resultType: 'vector', result } });
      }
      if (config.url !== '/api/v1/query_range') return reply(config, 404, '404 page not found');
      const start = Number(params.get('start')) * 1000;
      const end = Number(params.get('end')) * 1000;
      const step = Number(String(params.get('step')).replace(/s$/, '')) * 1000;
      if (!(step > 0) || !(end >= start)) return badData('invalid parameter "step"');
      if ((end - start) / step + 1 > MAX_POINTS)
        return badData(
          'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
        );
      const selectors = parseEngineQuery(String(params.get('query')));
      if (!selectors) return badData(`this fake does not evaluate: ${params.get('query')}`);
      const steps: number[] = [];
      for (let t = start; t <= end; t += step) steps.push(t);
      const result = selectors.flatMap((selector) => evaluate(selector, series, steps));
      return reply(config, 200, { status: 'success', data: { resultType: 'matrix', result } });
    },
  });
  return { http, requests: () => requests };
}
