// Issue 11, class 1: a child process killed in a container that did not restart shows only in that
// container's cAdvisor OOM counter. The adapter's per-container question, against a real Prometheus.
import { PrometheusSource } from '../../../src/adapters/prometheus';
import { startPrometheus, type GeneratedSeries, type RunningPrometheus } from '../../support/prometheus';

const MINUTE = 60_000;
const now = Math.floor(Date.now() / MINUTE) * MINUTE;
const start = now - 3 * 60 * MINUTE;

function counter(labels: Record<string, string>, killsAt: number[]): GeneratedSeries {
  const samples: Array<[number, number]> = [];
  for (let at = start; at <= now; at += MINUTE) samples.push([at, killsAt.filter((k) => k <= at).length]);
  return { name: 'container_oom_events_total', type: 'counter', labels, samples };
}

const pod = { namespace: 'shop', pod: 'render-7f9c-abcde' };
let prometheus: RunningPrometheus;

beforeAll(async () => {
  prometheus = await startPrometheus({
    series: [
      counter({ ...pod, container: 'istio-proxy', id: '/kubepods/p1/c1' }, []),
      counter({ ...pod, container: 'api', id: '/kubepods/p1/c2' }, []),
      counter({ ...pod, container: 'renderer', id: '/kubepods/p1/c3' }, [
        now - 90 * MINUTE,
        now - 30 * MINUTE,
      ]),
      // The pod-level aggregate and another pod: never counted for a container of this pod.
      counter({ ...pod, container: '', id: '/kubepods/p1' }, [now - 90 * MINUTE]),
      counter({ namespace: 'shop', pod: 'other-1', container: 'api', id: '/kubepods/p2/c1' }, [
        now - 60 * MINUTE,
      ]),
    ],
  });
}, 120_000);

afterAll(async () => {
  await prometheus?.stop();
});

it('names the container whose OOM counter rose in the window, and only containers of this pod', async () => {
  const source = new PrometheusSource({ url: prometheus.url });
  const rises = await source.oomEventsByContainer(pod.namespace, pod.pod, {
    start: new Date(now - 2 * 60 * MINUTE),
    end: new Date(now),
  });
  expect([...rises.keys()].sort()).toEqual(['api', 'istio-proxy', 'renderer']);
  expect(rises.get('renderer')).toBeGreaterThan(1);
  expect(rises.get('api')).toBe(0);
  expect(rises.get('istio-proxy')).toBe(0);
});
