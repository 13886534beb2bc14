// One container name, several histories: earlier pods re-created under the same name, the same pod
// name in two clusters of one Prometheus, an HA pair's duplicates. The queries and the sorting that
// keep exactly this pod of this cluster (issue 11, section 4).
import { PrometheusSource } from '../../../src/adapters/prometheus';
import {
  changesOf,
  maxPerTimestamp,
  podUidOf,
  sortSeries,
  type RangeSeries,
} from '../../../src/adapters/prometheus-series';
import type { Target } from '../../../src/core/types';

const target: Target = { namespace: 'data', pod: 'kafka-0', container: 'broker' };
const OLD = '0f8a3b2c-1d4e-4f5a-9b6c-7d8e9f0a1b2c';
const NEW = '5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9';
const cgroup = (uid: string, container = 'c1') => `/kubepods/burstable/pod${uid}/${container}`;
const systemdCgroup = (uid: string) =>
  `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid.replace(/-/g, '_')}.slice/cri-containerd-ab12.scope`;

function series(metric: Record<string, string>, from: number, to: number, value = 1): RangeSeries {
  const values: Array<[number, string]> = [];
  for (let s = from; s <= to; s += 60) values.push([s, String(value)]);
  return { metric, values };
}

describe('the queries carry the cluster selector', () => {
  it('every selector names the cluster when PROMETHEUS_CLUSTER_LABEL and CLUSTER_NAME are set', () => {
    const source = new PrometheusSource({
      url: 'http://127.0.0.1:9',
      cluster: { label: 'k8s_cluster', name: 'eu-"west"' },
    });
    const queries = [source.workingSetQuery(target, 60_000), source.contextQuery(target)];
    let selectors = 0;
    for (const query of queries) {
      for (const match of query.matchAll(/\{([^{}]*)\}/g)) {
        selectors++;
        expect(match[1]).toContain('k8s_cluster="eu-\\"west\\""');
      }
    }
    expect(selectors).toBe(6);
  });

  it('without a selector, results stay apart by pod incarnation and by every known cluster label, and HA replicas collapse', () => {
    const source = new PrometheusSource({ url: 'http://127.0.0.1:9' });
    const ws = source.workingSetQuery(target, 60_000);
    expect(ws).toMatch(/^max by \(id, cluster, k8s_cluster, cluster_id\) \(max_over_time\(/);
    expect(ws).not.toContain('cluster=');
    const context = source.contextQuery(target);
    expect(context.match(/max by \(uid, cluster, k8s_cluster, cluster_id\)/g)).toHaveLength(3);
    expect(context.match(/max by \(id, cluster, k8s_cluster, cluster_id\)/g)).toHaveLength(2);
    // No `sum` anywhere: two replicas of one series are one value, never twice it.
    expect(`${ws} ${context}`).not.toMatch(/\bsum\b/);
  });

  it('a custom cluster label is grouped by too', () => {
    const source = new PrometheusSource({
      url: 'http://127.0.0.1:9',
      cluster: { label: 'tenant_cluster', name: 'a' },
    });
    expect(source.workingSetQuery(target, 60_000)).toContain(
      'max by (id, cluster, k8s_cluster, cluster_id, tenant_cluster)',
    );
  });
});

describe('podUidOf', () => {
  it("reads kube-state-metrics' uid label, and the pod cgroup of cgroupfs and systemd drivers", () => {
    expect(podUidOf({ uid: NEW.toUpperCase() })).toBe(NEW);
    expect(podUidOf({ id: cgroup(OLD) })).toBe(OLD);
    expect(podUidOf({ id: systemdCgroup(NEW) })).toBe(NEW);
    expect(podUidOf({ id: '/system.slice/kubelet.service' })).toBeNull();
    expect(podUidOf({})).toBeNull();
  });
});

describe('sortSeries: a StatefulSet pod re-created under the same name (another uid, another limit)', () => {
  const ws = [series({ id: cgroup(OLD) }, 1000, 5000, 1.5e9), series({ id: cgroup(NEW) }, 5100, 9000, 0.6e9)];
  const context = [
    series({ oomdoctor_series: 'limit', uid: OLD }, 1000, 5000, 2e9),
    series({ oomdoctor_series: 'limit', uid: NEW }, 5100, 9000, 1e9),
  ];

  it('keeps the current pod (by the uid the API shows) and names the earlier one with its time span', () => {
    const sorted = sortSeries(ws, context, { podUid: NEW, clusterSelected: false });
    if (sorted.kind !== 'ok') throw new Error(sorted.kind);
    expect(sorted.workingSet.map((s) => s.metric.id)).toEqual([cgroup(NEW)]);
    expect(sorted.context.map((s) => s.metric.uid)).toEqual([NEW]);
    expect(sorted.earlier).toEqual([{ uid: OLD, from: 1_000_000, to: 4_960_000 }]);
    expect(sorted.earlierContext.map((s) => s.metric.uid)).toEqual([OLD]);
  });

  it('without the uid, the incarnation seen last is the current one', () => {
    const sorted = sortSeries(ws, context, { clusterSelected: false });
    if (sorted.kind !== 'ok') throw new Error(sorted.kind);
    expect(sorted.workingSet.map((s) => s.metric.id)).toEqual([cgroup(NEW)]);
  });

  it('series whose pod cannot be told (a relabelled id) are kept, not dropped', () => {
    const sorted = sortSeries([...ws, series({ id: 'relabelled' }, 5100, 9000)], context, {
      podUid: NEW,
      clusterSelected: false,
    });
    if (sorted.kind !== 'ok') throw new Error(sorted.kind);
    expect(sorted.workingSet.map((s) => s.metric.id)).toEqual([cgroup(NEW), 'relabelled']);
  });
});

describe('sortSeries: one pod name in two clusters of one Prometheus', () => {
  const ws = [
    series({ id: cgroup(OLD), cluster: 'us-east' }, 1000, 9000, 3.9e9),
    series({ id: cgroup(NEW), cluster: 'eu-west' }, 1000, 9000, 0.9e9),
  ];
  const context = [
    series({ oomdoctor_series: 'limit', uid: OLD, cluster: 'us-east' }, 1000, 9000, 4e9),
    series({ oomdoctor_series: 'limit', uid: NEW, cluster: 'eu-west' }, 1000, 9000, 1e9),
  ];

  it('with no selector and no uid to tell them apart: reported, not mixed', () => {
    expect(sortSeries(ws, context, { clusterSelected: false })).toEqual({
      kind: 'mixed-clusters',
      label: 'cluster',
      values: ['eu-west', 'us-east'],
    });
  });

  it("with the pod's uid: keeps the cluster where that pod is, and says which others it left", () => {
    const sorted = sortSeries(ws, context, { podUid: NEW, clusterSelected: false });
    if (sorted.kind !== 'ok') throw new Error(sorted.kind);
    expect(sorted.clusterKept).toEqual({ label: 'cluster', value: 'eu-west', others: ['us-east'] });
    expect(sorted.workingSet.map((s) => s.metric.cluster)).toEqual(['eu-west']);
    expect(sorted.context.map((s) => s.metric.cluster)).toEqual(['eu-west']);
    // The other cluster's pod is not an "earlier incarnation" of this one.
    expect(sorted.earlier).toEqual([]);
  });

  it('a selector already set: nothing to report', () => {
    const sorted = sortSeries([ws[1] as RangeSeries], [context[1] as RangeSeries], {
      clusterSelected: true,
    });
    expect(sorted.kind).toBe('ok');
  });

  it('k8s_cluster and cluster_id are known cluster labels too', () => {
    for (const label of ['k8s_cluster', 'cluster_id']) {
      const two = [
        series({ id: cgroup(OLD), [label]: 'a' }, 0, 60),
        series({ id: cgroup(OLD), [label]: 'b' }, 0, 60),
      ];
      expect(sortSeries(two, [], { clusterSelected: false })).toMatchObject({
        kind: 'mixed-clusters',
        label,
      });
    }
  });
});

describe('maxPerTimestamp and changesOf', () => {
  it('two HA replicas of one counter (one with a gap) read as one counter, not their sum', () => {
    const a = series({ prometheus_replica: 'a' }, 0, 600, 3);
    const b: RangeSeries = {
      metric: { prometheus_replica: 'b' },
      values: [
        [0, '3'],
        [600, '3'],
      ],
    };
    const merged = maxPerTimestamp([a, b]);
    expect(merged).toHaveLength(11);
    expect(merged.every((s) => s.value === 3)).toBe(true);
  });

  it('a limit resized in place is one change, with when and from what to what', () => {
    const limit = maxPerTimestamp([
      {
        metric: {},
        values: [
          [0, '1073741824'],
          [60, '1073741824'],
          [120, '2147483648'],
          [180, '2147483648'],
        ],
      },
    ]);
    expect(changesOf(limit)).toEqual([{ at: 120_000, from: 2 ** 30, to: 2 ** 31 }]);
  });
});
