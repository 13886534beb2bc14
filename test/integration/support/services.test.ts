import * as http from 'node:http';
import { type AddressInfo } from 'node:net';
import { startAlertmanager, type RunningAlertmanager } from '../../support/alertmanager';
import {
  startPrometheus,
  toOpenMetrics,
  type GeneratedSeries,
  type RunningPrometheus,
} from '../../support/prometheus';
import { redisPing, startRedis, type RunningRedis } from '../../support/redis';
import { freePort, requireBinary, run, startProcess, makeTempDir, waitForHttp } from '../../support/services';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// Labels shaped like a real cAdvisor series scraped by the kubelet job (see
// test/fixtures/real/prometheus-api-query-vector-container-memory-working-set-bytes-openshift-thanos.json).
const podUid = '775bfbaa-4ac6-40ce-a9a6-ec514d433aa6';
const cadvisorLabels: Record<string, string> = {
  container: 'search-collector',
  endpoint: 'https-metrics',
  id: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${podUid.replace(/-/g, '_')}.slice/crio-6c40a30aa4f04bf7563a5c0ffaf1f59282caab2e64c47693b472b81029bd33a8.scope`,
  image:
    'registry.redhat.io/rhacm2/search-collector-rhel9@sha256:728c64da189493df86162a08fefbdf5db1ef4f42a4fe0d06aba8c097382946b7',
  instance: '10.0.10.214:10250',
  job: 'kubelet',
  metrics_path: '/metrics/cadvisor',
  name: `k8s_search-collector_search-collector-6d79bc4f9d-9fv66_open-cluster-management_${podUid}_0`,
  namespace: 'open-cluster-management',
  node: 'ip-10-0-10-214.ec2.internal',
  pod: 'search-collector-6d79bc4f9d-9fv66',
  service: 'kubelet',
};

interface PromVectorResult {
  metric: Record<string, string>;
  value: [number, string];
}
interface PromMatrixResult {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}

async function promApi<T>(
  prom: RunningPrometheus,
  endpoint: string,
  params: Record<string, string>,
): Promise<T> {
  const res = await fetch(`${prom.url}/api/v1/${endpoint}?${new URLSearchParams(params).toString()}`);
  const body = (await res.json()) as { status: string; data: { result: T }; error?: string };
  if (res.status !== 200 || body.status !== 'success') {
    throw new Error(`Prometheus ${endpoint} failed: HTTP ${res.status} ${JSON.stringify(body)}`);
  }
  return body.data.result;
}

/** Unix ms -> the seconds string Prometheus' API accepts (exact, no float noise). */
function sec(ms: number): string {
  return (ms / 1000).toFixed(3);
}

describe('toOpenMetrics', () => {
  it('groups by family, escapes, converts ms to seconds, sorts and de-duplicates samples', () => {
    const text = toOpenMetrics([
      {
        name: 'g',
        type: 'gauge',
        help: 'a "help"\nline \\',
        labels: { b: 'x"y\\z\nw', a: '1' },
        samples: [
          [2500, 2],
          [1000, 1],
          [2500, 99],
        ],
      },
      { name: 'c_total', type: 'counter', labels: {}, samples: [[1001, 5]] },
      {
        name: 'g',
        type: 'gauge',
        labels: { a: '2' },
        samples: [
          [-1000, Number.NaN],
          [0, Infinity],
        ],
      },
    ]);
    expect(text).toBe(
      [
        '# TYPE g gauge',
        '# HELP g a \\"help\\"\\nline \\\\',
        'g{a="1",b="x\\"y\\\\z\\nw"} 1 1',
        'g{a="1",b="x\\"y\\\\z\\nw"} 2 2.500',
        'g{a="2"} NaN -1',
        'g{a="2"} +Inf 0',
        '# TYPE c counter',
        'c_total 5 1.001',
        '# EOF',
        '',
      ].join('\n'),
    );
  });

  it('rejects invalid names and conflicting family types', () => {
    expect(() => toOpenMetrics([{ name: 'bad-name', type: 'gauge', labels: {}, samples: [] }])).toThrow(
      /metric name/,
    );
    expect(() =>
      toOpenMetrics([{ name: 'm', type: 'gauge', labels: { 'bad-label': 'x' }, samples: [] }]),
    ).toThrow(/label name/);
    expect(() =>
      toOpenMetrics([
        { name: 'm', type: 'gauge', labels: {}, samples: [] },
        { name: 'm_total', type: 'counter', labels: {}, samples: [] },
      ]),
    ).toThrow(/both/);
  });
});

describe('real Prometheus with backfilled history', () => {
  // Newest sample must be within Prometheus' 5 min lookback of "now" for instant queries without time=.
  const end = Math.floor(Date.now() / (30 * SECOND)) * 30 * SECOND;
  const start24h = end - DAY;
  const step = 30 * SECOND;

  const workingSet: GeneratedSeries = {
    name: 'container_memory_working_set_bytes',
    help: 'Current working set of the container in bytes',
    type: 'gauge',
    labels: cadvisorLabels,
    samples: [],
  };
  for (let t = start24h; t <= end; t += step) {
    const i = (t - start24h) / step;
    workingSet.samples.push([t, 150 * 1024 * 1024 + (i % 500) * 4096 + (i % 7) * 13]);
  }

  const oomEvents: GeneratedSeries = {
    name: 'container_oom_events_total',
    help: 'Count of out of memory events observed for the container',
    type: 'counter',
    labels: cadvisorLabels,
    samples: workingSet.samples.map(([t], i) => [t, Math.floor(i / 720)]),
  };

  const failcnt: GeneratedSeries = {
    name: 'container_memory_failcnt',
    type: 'counter',
    labels: cadvisorLabels,
    samples: workingSet.samples.map(([t], i) => [t, i * 3]),
  };

  // A week at 1-minute resolution, to check long histories are backfilled completely.
  const start7d = end - 7 * DAY;
  const rss: GeneratedSeries = {
    name: 'container_memory_rss',
    type: 'gauge',
    labels: { ...cadvisorLabels, pod: 'week-long-pod' },
    samples: [],
  };
  for (let t = start7d; t <= end; t += MINUTE) rss.samples.push([t, 1_000_000 + (t - start7d) / MINUTE]);

  const weird = 'quote " backslash \\ newline \n end \\n literal';
  const escaping: GeneratedSeries = {
    name: 'oomdoctor_escape_test',
    type: 'gauge',
    labels: { weird, namespace: 'escape' },
    // millisecond timestamps survive the round trip too
    samples: [
      [end - 90_123, 1.5],
      [end - 30_001, -2.25],
    ],
  };

  let prom: RunningPrometheus;

  beforeAll(async () => {
    prom = await startPrometheus({ series: [workingSet, oomEvents, failcnt, rss, escaping] });
  });
  afterAll(async () => {
    await prom?.stop();
  });

  it('returns the generated 24h gauge unchanged from query_range', async () => {
    const result = await promApi<PromMatrixResult[]>(prom, 'query_range', {
      query: 'container_memory_working_set_bytes{namespace="open-cluster-management"}',
      start: sec(start24h),
      end: sec(end),
      step: '30s',
    });
    expect(result).toHaveLength(1);
    const series = result[0]!;
    expect(series.metric).toEqual({ __name__: 'container_memory_working_set_bytes', ...cadvisorLabels });
    expect(series.values).toHaveLength(workingSet.samples.length);
    expect(series.values.map(([t, v]) => [Math.round(t * 1000), Number(v)])).toEqual(workingSet.samples);
  });

  it('answers instant queries with the exact generated values', async () => {
    for (const index of [0, 1, 1234, workingSet.samples.length - 2]) {
      const [t, expected] = workingSet.samples[index]!;
      const result = await promApi<PromVectorResult[]>(prom, 'query', {
        query: 'container_memory_working_set_bytes{pod="search-collector-6d79bc4f9d-9fv66"}',
        time: sec(t),
      });
      expect(result).toHaveLength(1);
      expect(Number(result[0]!.value[1])).toBe(expected);
    }
    // Without time= the newest sample (<= 30 s old) is returned.
    const latest = await promApi<PromVectorResult[]>(prom, 'query', {
      query: 'container_memory_working_set_bytes',
    });
    expect(Number(latest[0]!.value[1])).toBe(workingSet.samples[workingSet.samples.length - 1]![1]);
  });

  it('keeps counters, with and without the _total suffix', async () => {
    const [t, expected] = oomEvents.samples[1500]!;
    const oom = await promApi<PromVectorResult[]>(prom, 'query', {
      query: 'container_oom_events_total',
      time: sec(t),
    });
    expect(oom.map((r) => Number(r.value[1]))).toEqual([expected]);
    expect(oom[0]!.metric.__name__).toBe('container_oom_events_total');

    const increase = await promApi<PromVectorResult[]>(prom, 'query', {
      query: 'sum(container_oom_events_total) - sum(container_oom_events_total offset 6h)',
      time: sec(end),
    });
    expect(Number(increase[0]!.value[1])).toBe(1); // 6h = 720 steps of 30 s = one more OOM event

    const fc = await promApi<PromVectorResult[]>(prom, 'query', {
      query: 'container_memory_failcnt',
      time: sec(end),
    });
    expect(Number(fc[0]!.value[1])).toBe(failcnt.samples[failcnt.samples.length - 1]![1]);
  });

  it('loads a 7-day history completely', async () => {
    const count = await promApi<PromVectorResult[]>(prom, 'query', {
      query: 'count_over_time(container_memory_rss[8d])',
      time: sec(end),
    });
    expect(Number(count[0]!.value[1])).toBe(rss.samples.length);

    const hourly = await promApi<PromMatrixResult[]>(prom, 'query_range', {
      query: 'container_memory_rss',
      start: sec(start7d),
      end: sec(end),
      step: '1h',
    });
    const expected = rss.samples.filter(([t]) => (t - start7d) % HOUR === 0);
    expect(hourly[0]!.values.map(([t, v]) => [Math.round(t * 1000), Number(v)])).toEqual(expected);
  });

  it('round-trips label values with quote, backslash and newline, and millisecond timestamps', async () => {
    const result = await promApi<PromMatrixResult[]>(prom, 'query', {
      query: 'oomdoctor_escape_test[5m]',
      time: sec(end),
    });
    expect(result).toHaveLength(1);
    expect(result[0]!.metric).toEqual({ __name__: 'oomdoctor_escape_test', namespace: 'escape', weird });
    expect(result[0]!.values.map(([t, v]) => [Math.round(t * 1000), Number(v)])).toEqual(escaping.samples);

    const byLabel = await promApi<PromVectorResult[]>(prom, 'query', {
      query: `oomdoctor_escape_test{weird=${JSON.stringify(weird)}}`,
      time: sec(end),
    });
    expect(byLabel).toHaveLength(1);
  });
});

describe('real Redis', () => {
  let redis: RunningRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('answers PING on loopback', async () => {
    expect(redis.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(await redisPing(redis.host, redis.port)).toBe('+PONG');
  });
});

describe('real Alertmanager', () => {
  const token = 'oomdoctor-test-token';
  interface Delivery {
    authorization: string | undefined;
    body: {
      version: string;
      status: string;
      receiver: string;
      alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string> }>;
    };
  }
  const deliveries: Delivery[] = [];
  const waiters: Array<() => void> = [];
  let server: http.Server;
  let am: RunningAlertmanager;

  function waitForDeliveries(n: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`only ${deliveries.length} of ${n} webhook deliveries within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const check = (): void => {
        if (deliveries.length >= n) {
          clearTimeout(timer);
          resolve();
        } else {
          waiters.push(check);
        }
      };
      check();
    });
  }

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        deliveries.push({
          authorization: req.headers.authorization,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Delivery['body'],
        });
        res.writeHead(200).end('ok');
        for (const w of waiters.splice(0)) w();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    am = await startAlertmanager({
      webhookUrl: `http://127.0.0.1:${port}/alertmanager`,
      bearerToken: token,
      groupWait: '1s',
      groupInterval: '1s',
      groupBy: ['alertname', 'namespace', 'pod'],
    });
  });
  afterAll(async () => {
    await am?.stop();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('generates a config amtool accepts', async () => {
    const out = await run(requireBinary('amtool'), ['check-config', am.configFile]);
    expect(out).toMatch(/SUCCESS/);
  });

  it('delivers firing and resolved alerts to the webhook with the bearer token', async () => {
    const labels = {
      alertname: 'KubeContainerOOMKilled',
      namespace: 'open-cluster-management',
      pod: 'search-collector-6d79bc4f9d-9fv66',
      container: 'search-collector',
      severity: 'warning',
    };
    const startsAt = new Date(Date.now() - 5 * MINUTE).toISOString();
    await am.postAlerts([{ labels, annotations: { summary: 'Container was OOMKilled' }, startsAt }]);
    await waitForDeliveries(1, 10_000);
    const firing = deliveries[0]!;
    expect(firing.authorization).toBe(`Bearer ${token}`);
    expect(firing.body.version).toBe('4');
    expect(firing.body.status).toBe('firing');
    expect(firing.body.receiver).toBe('webhook');
    expect(firing.body.alerts).toHaveLength(1);
    expect(firing.body.alerts[0]!.labels).toEqual(labels);
    expect(firing.body.alerts[0]!.annotations).toEqual({ summary: 'Container was OOMKilled' });

    // send_resolved: true -> resolving the alert produces a second notification.
    await am.postAlerts([{ labels, startsAt, endsAt: new Date(Date.now() - SECOND).toISOString() }]);
    await waitForDeliveries(2, 10_000);
    const resolved = deliveries[1]!;
    expect(resolved.authorization).toBe(`Bearer ${token}`);
    expect(resolved.body.status).toBe('resolved');
    expect(resolved.body.alerts[0]!.status).toBe('resolved');
  });
});

describe('process harness', () => {
  it('fails fast with the log tail when a process exits during startup, and stops cleanly', async () => {
    const dir = makeTempDir('oomdoctor-harness');
    try {
      const port = await freePort();
      const proc = startProcess('/bin/sh', ['-c', 'echo "boom: config is broken" >&2; exit 3'], {
        logFile: `${dir.path}/sh.log`,
      });
      await expect(
        waitForHttp(`http://127.0.0.1:${port}/`, { timeoutMs: 5000, process: proc }),
      ).rejects.toThrow(/exited with code 3[\s\S]*boom: config is broken/);
      await proc.stop();

      const sleeper = startProcess('/bin/sh', ['-c', 'exec sleep 60'], { logFile: `${dir.path}/sleep.log` });
      await sleeper.stop();
      expect(sleeper.hasExited()).toBe(true);
      await expect(waitForHttp(`http://127.0.0.1:${port}/`, { timeoutMs: 300 })).rejects.toThrow(
        /timed out after 300 ms.*last error/,
      );
    } finally {
      await dir.remove();
    }
  });
});
