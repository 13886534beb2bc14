// PrometheusSource against a tiny HTTP server on loopback that answers like Prometheus does
// (shapes from test/fixtures/real/prometheus-api-*.json), or fails like the things in front of it do.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { SourceError } from '../../../src/adapters/errors';
import {
  DEFAULT_METRIC_NAMES,
  mergeInstances,
  PrometheusSource,
  promString,
  stepFor,
} from '../../../src/adapters/prometheus';
import { METRIC_NAME_VARIABLES, readMetricNames } from '../../../src/config/metric-names';
import { ParseError } from '../../../src/core/errors';
import type { Target } from '../../../src/core/types';

const FIXTURES = path.join(__dirname, '../../fixtures/real');
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const END = Date.parse('2026-11-28T12:00:00Z');

const officialMatrix = JSON.parse(
  fs.readFileSync(path.join(FIXTURES, 'prometheus-api-query-range-matrix-up-official-docs.json'), 'utf8'),
);
const thanosVector = JSON.parse(
  fs.readFileSync(
    path.join(
      FIXTURES,
      'prometheus-api-query-vector-container-memory-working-set-bytes-openshift-thanos.json',
    ),
    'utf8',
  ),
);
const cadvisorLabels: Record<string, string> = thanosVector.data.result[0].metric;

type Series = { metric: Record<string, string>; values: Array<[number, string]> };

/** A success body in the very shape of the official example, with our series in it. */
function matrix(result: Series[]): unknown {
  return { ...officialMatrix, data: { ...officialMatrix.data, result } };
}

interface Recorded {
  method: string;
  path: string;
  contentType: string | undefined;
  params: URLSearchParams;
}

type Handler = (req: Recorded, res: http.ServerResponse) => void;

interface FakePrometheus {
  url: string;
  requests: Recorded[];
  handle: Handler;
  close(): Promise<void>;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function startFake(): Promise<FakePrometheus> {
  const fake: Partial<FakePrometheus> & { requests: Recorded[] } = { requests: [] };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const body = Buffer.concat(chunks).toString('utf8');
      const params = new URLSearchParams(req.method === 'POST' ? body : url.search);
      const recorded: Recorded = {
        method: req.method ?? '',
        path: url.pathname,
        contentType: req.headers['content-type'],
        params,
      };
      fake.requests.push(recorded);
      (fake.handle as Handler)(recorded, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake.url = `http://127.0.0.1:${port}`;
  fake.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return fake as FakePrometheus;
}

async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const target: Target = { namespace: 'shop', pod: 'api-7d9f8b6c4-x2x9z', container: 'api' };
const day = { start: new Date(END - DAY), end: new Date(END) };

const t = (iso: string) => Date.parse(iso) / 1000;

/** The working set of one restart, tagged as the history query tags it: the old instance lingers three scrapes after the kill at 11:00. */
function workingSetSeries(): Series[] {
  const old: Series = {
    metric: { id: `${cadvisorLabels.id}-old`, oomdoctor_series: 'working_set' },
    values: [],
  };
  const fresh: Series = {
    metric: { id: `${cadvisorLabels.id}-new`, oomdoctor_series: 'working_set' },
    values: [],
  };
  for (let s = t('2026-11-28T10:00:00Z'); s <= t('2026-11-28T11:03:00Z'); s += 60)
    old.values.push([s, String(0.99 * GiB)]);
  for (let s = t('2026-11-28T11:01:00Z'); s <= t('2026-11-28T12:00:00Z'); s += 60)
    fresh.values.push([s, String(300 * MiB)]);
  // Prometheus sorts series by labels; put the new one first so order alone cannot decide.
  return [fresh, old];
}

const tagged = (tag: string, values: Array<[number, string]>): Series => ({
  metric: { oomdoctor_series: tag },
  values,
});

/** The one range query's answer: the working set above and its context (limit, request, counters, starts). */
function healthy(_req: Recorded, res: http.ServerResponse): void {
  json(
    res,
    200,
    matrix([
      ...workingSetSeries(),
      tagged('limit', [[t('2026-11-28T11:59:00Z'), String(GiB)]]),
      tagged('request', [[t('2026-11-28T11:59:00Z'), String(512 * MiB)]]),
      tagged('restarts', [
        [t('2026-11-28T10:59:00Z'), '4'],
        [t('2026-11-28T11:01:00Z'), '5'],
      ]),
      tagged('oom_events', [
        [t('2026-11-28T10:59:00Z'), '4'],
        [t('2026-11-28T11:01:00Z'), '5'],
        [t('2026-11-28T11:02:00Z'), 'NaN'],
      ]),
      tagged('start_time', [
        [t('2026-11-28T10:30:00Z'), String(t('2026-11-28T07:00:00Z'))],
        [t('2026-11-28T11:30:00Z'), String(t('2026-11-28T11:00:30Z'))],
      ]),
    ]),
  );
}

let fake: FakePrometheus;
beforeEach(async () => {
  fake = await startFake();
  fake.handle = healthy;
});
afterEach(async () => {
  await fake.close();
});

/** Every `{...}` label selector in a PromQL expression. */
function selectors(query: string): string[] {
  return [...query.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1] ?? '');
}

describe('the queries sent', () => {
  it('one POSTed range query, for the exact container and never the pod aggregate or the pause container', async () => {
    await new PrometheusSource({ url: fake.url }).history(target, day);
    expect(fake.requests).toHaveLength(1);
    const [r] = fake.requests;
    expect(r?.method).toBe('POST');
    expect(r?.path).toBe('/api/v1/query_range');
    expect(r?.contentType).toBe('application/x-www-form-urlencoded');
    const query = r?.params.get('query') ?? '';
    const found = selectors(query);
    expect(found.length).toBe(6);
    for (const sel of found) {
      expect(sel).toContain('namespace="shop", pod="api-7d9f8b6c4-x2x9z", container="api"');
      expect(sel).not.toMatch(/container=""|container="POD"|container!=|container=~/);
    }
    // The working set first, its peaks kept, tagged apart from the context's parts.
    const [workingSet, ...context] = query.split(' or ');
    expect(workingSet).toBe(
      'label_replace(max by (id, cluster, k8s_cluster, cluster_id) (max_over_time(container_memory_working_set_bytes{namespace="shop", pod="api-7d9f8b6c4-x2x9z", container="api"}[61s])), "oomdoctor_series", "working_set", "", "")',
    );
    const names = [
      'kube_pod_container_resource_limits',
      'kube_pod_container_resource_requests',
      'kube_pod_container_status_restarts_total',
      'container_oom_events_total',
      'container_start_time_seconds',
    ];
    expect(context).toHaveLength(names.length);
    for (const [i, name] of names.entries()) {
      expect(context[i]).toContain(`${name}{namespace="shop", pod="api-7d9f8b6c4-x2x9z", container="api"`);
    }
    expect(query).toMatch(/kube_pod_container_resource_limits\{[^}]*resource="memory"\}/);
  });

  it('escapes label values', async () => {
    const odd: Target = { namespace: 'shop', pod: 'we"ird\\pod\nx', container: 'a"b' };
    fake.handle = (_req, res) => json(res, 200, matrix([]));
    await expect(new PrometheusSource({ url: fake.url }).history(odd, day)).rejects.toThrow(SourceError);
    // (The instant query that words the failure names no pod.)
    for (const r of fake.requests.filter((q) => q.path === '/api/v1/query_range')) {
      const query = r.params.get('query') ?? '';
      expect(query).toContain('pod="we\\"ird\\\\pod\\nx"');
      expect(query).toContain('container="a\\"b"');
      expect(query).not.toContain('\n');
    }
    expect(promString('a"b\\c\nd')).toBe('"a\\"b\\\\c\\nd"');
  });

  describe('a metric or label Prometheus does not have is named with the setting to change', () => {
    /** Range queries answer `ranges`; the instant check answers the tags listed in `present`. */
    const answering =
      (present: string[], ranges: (req: Recorded, res: http.ServerResponse) => void) =>
      (req: Recorded, res: http.ServerResponse) => {
        if (req.path !== '/api/v1/query') return ranges(req, res);
        const result = present.map((tag) => ({
          metric: { oomdoctor_check: tag },
          value: [END / 1000, '12'],
        }));
        json(res, 200, { status: 'success', data: { resultType: 'vector', result } });
      };
    const empty = (_req: Recorded, res: http.ServerResponse) => json(res, 200, matrix([]));

    it('the working set absent altogether: OOMDOCTOR_METRIC_WORKING_SET', async () => {
      fake.handle = answering([], empty);
      await expect(new PrometheusSource({ url: fake.url }).history(target, day)).rejects.toThrow(
        `no container_memory_working_set_bytes series for shop/api-7d9f8b6c4-x2x9z container api at ${fake.url}: Prometheus has no series named container_memory_working_set_bytes at all; if your setup names it differently, set OOMDOCTOR_METRIC_WORKING_SET`,
      );
    });

    it('its series without the pod label: OOMDOCTOR_LABEL_POD', async () => {
      fake.handle = answering(['workingSet', 'namespaceLabel', 'containerLabel'], empty);
      await expect(new PrometheusSource({ url: fake.url }).history(target, day)).rejects.toThrow(
        /: its series have no "pod" label; if your setup relabels it, set OOMDOCTOR_LABEL_POD$/,
      );
    });

    it('metric and labels there: the pod is not scraped, no setting named', async () => {
      fake.handle = answering(['workingSet', 'namespaceLabel', 'podLabel', 'containerLabel'], empty);
      await expect(new PrometheusSource({ url: fake.url }).history(target, day)).rejects.toThrow(
        /: the metric and its labels exist, so this pod is not scraped \(yet\), or under other label values$/,
      );
    });

    it('a context metric absent altogether is a caveat naming its variable; one merely empty for the pod is not', async () => {
      // No request and no OOM counter for this pod; the counter's metric exists, the request's does not.
      fake.handle = answering(['oomEvents'], (_req, res) => {
        const body = {
          ...officialMatrix,
          data: {
            resultType: 'matrix',
            result: [...workingSetSeries(), tagged('limit', [[END / 1000 - 60, String(GiB)]])],
          },
        };
        json(res, 200, body);
      });
      const history = await new PrometheusSource({ url: fake.url }).history(target, day);
      expect(history.caveats).toEqual([
        `prometheus: no series named kube_pod_container_resource_requests at ${fake.url}, so the memory request over time is unknown; if your setup names it differently, set OOMDOCTOR_METRIC_REQUESTS`,
        `prometheus: no series named kube_pod_container_status_restarts_total at ${fake.url}, so the restart count over time is unknown; if your setup names it differently, set OOMDOCTOR_METRIC_RESTARTS`,
        `prometheus: no series named container_start_time_seconds at ${fake.url}, so when each container started is unknown; if your setup names it differently, set OOMDOCTOR_METRIC_START_TIME`,
      ]);
      const instant = fake.requests.filter((r) => r.path === '/api/v1/query');
      expect(instant).toHaveLength(1);
    });

    it('all context parts there: no instant query at all', async () => {
      await new PrometheusSource({ url: fake.url }).history(target, day);
      expect(fake.requests.map((r) => r.path)).toEqual(['/api/v1/query_range']);
    });
  });

  it('uses configured metric and label names', async () => {
    const names = {
      workingSet: 'cadvisor_container_memory_working_set_bytes',
      containerLabel: 'container_name',
      podLabel: 'pod_name',
    };
    fake.handle = (_req, res) => json(res, 200, matrix([]));
    await expect(new PrometheusSource({ url: fake.url, names }).history(target, day)).rejects.toThrow(
      /no cadvisor_container_memory_working_set_bytes series/,
    );
    const ranges = fake.requests.filter((r) => r.path === '/api/v1/query_range');
    expect(ranges).toHaveLength(1);
    expect(ranges[0]?.params.get('query')).toContain(
      'cadvisor_container_memory_working_set_bytes{namespace="shop", pod_name="api-7d9f8b6c4-x2x9z", container_name="api"}',
    );
  });

  it('honours a path prefix in the URL (Prometheus behind a proxy)', async () => {
    fake.handle = (req, res) =>
      req.path === '/prometheus/api/v1/query_range'
        ? healthy(req, res)
        : json(res, 404, { status: 'error', errorType: 'not_found', error: 'wrong path' });
    const history = await new PrometheusSource({ url: `${fake.url}/prometheus/` }).history(target, day);
    expect(history.workingSet.length).toBeGreaterThan(0);
  });

  it.each<[string, number, number]>([
    ['1h', HOUR, 15],
    ['24h', DAY, 61],
    ['7d', 7 * DAY, 421],
    ['30d', 30 * DAY, 1802],
  ])(
    'a %s window is asked at a %ds step, with the window as start and end',
    async (_label, windowMs, stepSeconds) => {
      const window = { start: new Date(END - windowMs), end: new Date(END) };
      fake.handle = (_req, res) => json(res, 200, matrix([]));
      await new PrometheusSource({ url: fake.url }).history(target, window).catch(() => undefined);
      for (const r of fake.requests.filter((q) => q.path === '/api/v1/query_range')) {
        expect(r.params.get('step')).toBe(`${stepSeconds}s`);
        expect(Number(r.params.get('start'))).toBe((END - windowMs) / 1000);
        expect(Number(r.params.get('end'))).toBe(END / 1000);
      }
      expect(stepFor(windowMs, 1440)).toBe(stepSeconds * 1000);
    },
  );

  it.each<[string, number]>([
    ['24h', DAY],
    ['7d', 7 * DAY],
    ['30d', 30 * DAY],
  ])(
    'a %s window never asks for more than 1440 points: Prometheus evaluates at both ends',
    (_label, windowMs) => {
      const step = stepFor(windowMs, 1440);
      expect(step % 1000).toBe(0);
      expect(Math.floor(windowMs / step) + 1).toBeLessThanOrEqual(1440);
    },
  );

  it('a custom maxPoints bounds the step too', () => {
    expect(stepFor(DAY, 100)).toBe(873_000);
    expect(Math.floor(DAY / 873_000) + 1).toBeLessThanOrEqual(100);
    expect(stepFor(60_000, 1440)).toBe(15_000); // never below 15 s
  });
});

describe('history', () => {
  it('reads limit, request, counters and start times, and merges the instances', async () => {
    const h = await new PrometheusSource({ url: fake.url }).history(target, day);
    expect(h.source).toBe('prometheus');
    expect(h.stepMs).toBe(61_000);
    expect(h.limitBytes).toBe(GiB);
    expect(h.requestBytes).toBe(512 * MiB);
    expect(h.restarts.map((s) => s.value)).toEqual([4, 5]);
    expect(h.oomEvents.map((s) => s.value)).toEqual([4, 5]); // NaN dropped
    expect(h.starts).toEqual([Date.parse('2026-11-28T07:00:00Z'), Date.parse('2026-11-28T11:00:30Z')]);
    // One sample per timestamp, oldest first; after the restart, the new instance's readings.
    const times = h.workingSet.map((s) => s.at);
    expect(new Set(times).size).toBe(times.length);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const after = h.workingSet.filter((s) => s.at >= Date.parse('2026-11-28T11:01:00Z'));
    expect(after.length).toBe(60);
    expect(after.every((s) => s.value === 300 * MiB)).toBe(true);
    expect(h.workingSet.find((s) => s.at === Date.parse('2026-11-28T10:30:00Z'))?.value).toBe(0.99 * GiB);
  });

  it('a limit of 0 (none set) reads as null', async () => {
    fake.handle = (_req, res) =>
      json(res, 200, matrix([...workingSetSeries(), tagged('limit', [[END / 1000, '0']])]));
    const h = await new PrometheusSource({ url: fake.url }).history(target, day);
    expect(h.limitBytes).toBeNull();
    expect(h.requestBytes).toBeNull();
    expect(h.restarts).toEqual([]);
  });
});

describe('mergeInstances', () => {
  const s = (seconds: number, v: number): [number, string] => [seconds, String(v)];

  it('a lingering dead instance does not override the new one', () => {
    const old: Series = {
      metric: { id: 'b-old' },
      values: [s(100, 900), s(160, 990), s(220, 990), s(280, 990)],
    };
    const fresh: Series = { metric: { id: 'a-new' }, values: [s(220, 50), s(280, 60), s(340, 70)] };
    for (const order of [
      [old, fresh],
      [fresh, old],
    ]) {
      expect(mergeInstances(order)).toEqual([
        { at: 100_000, value: 900 },
        { at: 160_000, value: 990 },
        { at: 220_000, value: 50 },
        { at: 280_000, value: 60 },
        { at: 340_000, value: 70 },
      ]);
    }
  });

  it('keeps three lifetimes apart and in order, and drops what is not a number', () => {
    const merged = mergeInstances([
      { metric: { id: 'c' }, values: [s(700, 3), s(760, 3)] },
      { metric: { id: 'a' }, values: [s(100, 1), s(160, Number.NaN), s(220, 1)] },
      { metric: { id: 'b' }, values: [s(400, 2), s(460, 2), s(700, 2)] },
      { metric: { id: 'empty' }, values: [] },
    ]);
    expect(merged).toEqual([
      { at: 100_000, value: 1 },
      { at: 220_000, value: 1 },
      { at: 400_000, value: 2 },
      { at: 460_000, value: 2 },
      { at: 700_000, value: 3 },
      { at: 760_000, value: 3 },
    ]);
  });

  it('reads the official example matrix (millisecond timestamps kept)', () => {
    expect(mergeInstances(officialMatrix.data.result).map((x) => x.at)).toEqual([
      1435781430781, 1435781445781, 1435781460781,
    ]);
  });
});

describe('failures become SourceErrors that name the source, the URL and the reason', () => {
  async function failure(source: PrometheusSource): Promise<SourceError> {
    try {
      await source.history(target, day);
    } catch (error) {
      expect(error).toBeInstanceOf(SourceError);
      expect((error as SourceError).source).toBe('prometheus');
      expect((error as Error).message.startsWith('prometheus: ')).toBe(true);
      return error as SourceError;
    }
    throw new Error('history() did not fail');
  }

  it("an error body with 400 (bad_data): the reason is the API's", async () => {
    fake.handle = (_req, res) =>
      json(res, 400, {
        status: 'error',
        errorType: 'bad_data',
        error: 'invalid parameter "query": 1:1: parse error: unexpected "}"',
      });
    const e = await failure(new PrometheusSource({ url: fake.url }));
    expect(e.message).toContain('bad_data');
    expect(e.message).toContain('invalid parameter "query": 1:1: parse error: unexpected "}"');
    expect(e.message).toContain(fake.url);
  });

  it('a 503', async () => {
    fake.handle = (_req, res) => {
      res.writeHead(503, { 'Content-Type': 'text/plain' });
      res.end('Service Unavailable');
    };
    const e = await failure(new PrometheusSource({ url: fake.url, backoffMs: 1 }));
    expect(e.message).toBe(`prometheus: HTTP 503 from ${fake.url}/api/v1/query_range (3 attempts)`);
    expect(e.code).toBe('prometheus-server-error');
    // The one query, tried three times.
    expect(fake.requests).toHaveLength(3);
  });

  it('a connection refused', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const e = await failure(new PrometheusSource({ url, backoffMs: 1 }));
    expect(e.message).toBe(`prometheus: connection refused at ${url} (3 attempts)`);
    expect(e.code).toBe('prometheus-unreachable');
  });

  it('a page that is not Prometheus (an HTML login page with 200)', async () => {
    fake.handle = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><html><head><title>Sign in</title></head><body><form>...</form></body></html>');
    };
    const e = await failure(new PrometheusSource({ url: fake.url }));
    expect(e.message).toBe(
      `prometheus: ${fake.url}/api/v1/query_range answered with an HTML page, not the Prometheus API`,
    );
    expect(e.fix).toMatch(
      /^if it is a login page, an auth proxy stands in front: set PROMETHEUS_BEARER_TOKEN_FILE/,
    );
  });

  it('a 404 HTML page (wrong path) is not taken for an API error', async () => {
    fake.handle = (_req, res) => {
      res.writeHead(404, { 'Content-Type': 'text/html' });
      res.end('<html><body>404 page not found</body></html>');
    };
    const e = await failure(new PrometheusSource({ url: fake.url }));
    expect(e.message).toBe(
      `prometheus: HTTP 404 from ${fake.url}/api/v1/query_range: no Prometheus API at that path`,
    );
    expect(e.code).toBe('prometheus-bad-query');
  });

  it('no answer in time', async () => {
    fake.handle = () => undefined; // never answers
    const e = await failure(new PrometheusSource({ url: fake.url, timeoutMs: 200 }));
    expect(e.message).toBe(`prometheus: no answer from ${fake.url} within 200 ms (2 attempts)`);
    expect(e.code).toBe('prometheus-timeout');
  });

  it('no series for the container', async () => {
    fake.handle = (_req, res) => json(res, 200, matrix([]));
    const e = await failure(new PrometheusSource({ url: fake.url }));
    expect(e.message).toContain(
      `no container_memory_working_set_bytes series for shop/api-7d9f8b6c4-x2x9z container api at ${fake.url}`,
    );
  });
});

describe('readMetricNames', () => {
  it('defaults without any variable, and ignores empty ones', () => {
    expect(readMetricNames({})).toEqual(DEFAULT_METRIC_NAMES);
    expect(readMetricNames({ OOMDOCTOR_METRIC_WORKING_SET: '' })).toEqual(DEFAULT_METRIC_NAMES);
  });

  it('reads every override', () => {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, variable] of Object.entries(METRIC_NAME_VARIABLES))
      env[variable] = key.endsWith('Label') ? `my_${key}` : `my:${key}_total`;
    const names = readMetricNames(env);
    expect(names.workingSet).toBe('my:workingSet_total');
    expect(names.containerLabel).toBe('my_containerLabel');
    expect(Object.keys(names).sort()).toEqual(Object.keys(DEFAULT_METRIC_NAMES).sort());
  });

  it.each([
    ['OOMDOCTOR_METRIC_WORKING_SET', 'container-memory'],
    ['OOMDOCTOR_METRIC_WORKING_SET', '9metric'],
    ['OOMDOCTOR_METRIC_LIMITS', 'kube_limits{resource="memory"}'],
    ['OOMDOCTOR_METRIC_OOM_EVENTS', 'x'.repeat(201)],
    ['OOMDOCTOR_LABEL_CONTAINER', 'container:name'],
    ['OOMDOCTOR_LABEL_POD', 'pod name'],
    ['OOMDOCTOR_LABEL_NAMESPACE', 'ns"} or vector(1) #'],
  ])('rejects %s=%j with a ParseError naming the variable', (variable, value) => {
    let error: unknown;
    try {
      readMetricNames({ [variable]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ParseError);
    expect((error as Error).message).toContain(variable);
    expect((error as Error).message).toMatch(/is not a valid Prometheus (label|metric) name/);
    expect((error as Error).message.length).toBeLessThan(400);
  });

  it('reports every bad variable in one ParseError, each with its own sentence', () => {
    let error: unknown;
    try {
      readMetricNames({
        OOMDOCTOR_METRIC_LIMITS: '1bad',
        OOMDOCTOR_METRIC_WORKING_SET: 'fine_name',
        OOMDOCTOR_LABEL_POD: 'bad-label',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ParseError);
    expect((error as Error).message).toBe(
      'OOMDOCTOR_METRIC_LIMITS="1bad" is not a valid Prometheus metric name (letters, digits and underscores, colons; not starting with a digit); ' +
        'OOMDOCTOR_LABEL_POD="bad-label" is not a valid Prometheus label name (letters, digits and underscores; not starting with a digit)',
    );
  });
});
