// Hand-written Diagnosis values for the Slack builders' tests, shaped like what diagnoseEvidence()
// returns for the demo scenarios (a JVM heap past its limit, a liveness-probe kill), plus a diagnosis
// with missing sources and a hostile one whose every string tries to break out of its formatting.
import type { Diagnosis } from '../../../src/core/types';

const WINDOW = { start: '2026-11-27T12:00:00Z', end: '2026-11-28T12:00:00Z' };
const SERIES = {
  stepMs: 60_000,
  points: [
    [1795780800000, 1611655166],
    [1795780860000, 1637234890],
  ] as Array<[number, number]>,
  limitBytes: 2147483648,
  requestBytes: 2147483648,
};

/** cgroup-oom: a JVM whose -Xmx is 150% of the limit; three ranked causes, runtime notes and a patch. */
export function heapOom(): Diagnosis {
  const patch = {
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: 'ledger',
              resources: { requests: { memory: '2Gi' }, limits: { memory: '2Gi' } },
              env: [{ name: '_JAVA_OPTIONS', value: '-Xmx1408m' }],
            },
          ],
        },
      },
    },
  };
  return {
    schemaVersion: 1,
    target: { namespace: 'payments', pod: 'ledger-bc9xsnqjs-zjg2r', container: 'ledger' },
    window: WINDOW,
    verdict: 'cgroup-oom',
    headline:
      "OOMKilled: payments/ledger-bc9xsnqjs-zjg2r (container ledger) hit its 2 GiB memory limit. Most likely: the runtime's heap is sized past the container limit.",
    verdictEvidence: [
      'Terminated with reason OOMKilled, exit code 137 (128 + 9, SIGKILL), at 2026-11-28 10:22 UTC; restarted 9 times in all.',
      'Last reading before the kill: 1.99 GiB, 99% of the 2 GiB limit.',
      '8 OOM kills in the last 24 h.',
    ],
    kills: [
      { at: '2026-11-28T07:54:55Z', reason: 'OOMKilled', exitCode: 137 },
      { at: '2026-11-28T10:22:03Z', reason: 'OOMKilled', exitCode: 137 },
    ],
    causes: [
      {
        id: 'runtime-heap-misconfigured',
        confidence: 0.95,
        evidence: [
          'Heap budget 3 GiB from -Xmx3072m (env JAVA_OPTS): 150% of the 2 GiB limit, more than the container may use at all.',
          'Heap is not the whole process: metaspace, thread stacks, buffers and the runtime itself need room on top.',
          'All 8 kills came at the same fill level (1.97 GiB to 1.99 GiB).',
        ],
      },
      {
        id: 'memory-leak',
        confidence: 0.6,
        evidence: [
          'Usage climbs steadily at about 228 MiB per hour (fit r² 0.77) and never levels off, in 7 of 8 lifetimes that ended in a kill.',
          'It starts again from about 1.14 GiB after each restart, then climbs to the 2 GiB limit in 2 h 49 min: the restart interval is the leak rate.',
          'Part of this climb may be the oversized heap filling up before collections, not a leak.',
        ],
      },
      {
        id: 'limit-too-small',
        confidence: 0.3,
        evidence: ['Normal usage sits at 1.54 GiB, 77% of the 2 GiB limit, leaving little headroom.'],
      },
    ],
    current: {
      resources: { requests: { memory: '2Gi' }, limits: { memory: '2Gi' } },
      runtime: [{ source: 'env JAVA_OPTS', setting: 'Xmx', value: '-Xmx3072m' }],
    },
    recommendation: {
      workload: { kind: 'Deployment', namespace: 'payments', name: 'ledger', generation: 4 },
      container: 'ledger',
      resources: { requests: { memory: '2Gi' }, limits: { memory: '2Gi' } },
      env: [{ name: '_JAVA_OPTIONS', value: '-Xmx1408m' }],
      args: null,
      patch,
      kubectl: `kubectl -n payments patch deployment ledger --type strategic -p '${JSON.stringify(patch)}'`,
      yaml: 'spec:\n  template:\n    spec:\n      containers:\n        - name: ledger\n          resources:\n            requests:\n              memory: 2Gi\n            limits:\n              memory: 2Gi\n          env:\n            - name: _JAVA_OPTIONS\n              value: -Xmx1408m\n',
      notes: [
        "Top cause: the runtime's heap is sized past the container limit (confidence 0.95).",
        'The limit of 2 GiB stays: the heap setting is what has to fit inside it.',
        '-Xmx3072m (env JAVA_OPTS) gives the runtime 3 GiB of a 2 GiB limit; -Xmx1408m leaves room for what is not heap: the patch adds _JAVA_OPTIONS=-Xmx1408m, which the JVM reads last, rather than rewriting JAVA_OPTS, whose other contents are not shown.',
        'Alert on the slope, not the level: predict_linear(container_memory_working_set_bytes{namespace="payments", pod=~"ledger-.*", container="ledger"}[6h], 4 * 3600) > 2147483648',
      ],
    },
    missing: [],
    series: SERIES,
  };
}

/** sigkill-not-oom: exit 137 from a failed liveness probe; no resource change. */
export function probeKill(): Diagnosis {
  return {
    schemaVersion: 1,
    target: { namespace: 'shop', pod: 'catalog-bc9xsnqjs-zjg2r', container: 'catalog' },
    window: WINDOW,
    verdict: 'sigkill-not-oom',
    headline:
      'Not an OOM kill: shop/catalog-bc9xsnqjs-zjg2r (container catalog) got exit 137 from a failed liveness probe. More memory will not fix this.',
    verdictEvidence: [
      'Exit code 137 (SIGKILL) at 2026-11-28 10:44 UTC with reason Error, not OOMKilled: something other than the OOM killer sent the signal.',
      'The kubelet reported Killing: "Container catalog failed liveness probe, will be restarted": it restarts the container with SIGKILL when the grace period runs out.',
      'Memory was 414 MiB (40% of the 1 GiB limit) just before: not near the limit.',
    ],
    kills: [{ at: '2026-11-28T10:44:30Z', reason: 'Error', exitCode: 137 }],
    causes: [],
    current: { resources: { requests: { memory: '512Mi' }, limits: { memory: '1Gi' } }, runtime: [] },
    recommendation: null,
    missing: [],
    series: { ...SERIES, limitBytes: 1073741824, requestBytes: 536870912 },
  };
}

/** cgroup-oom gathered without Prometheus and without the workload: the patch names the bare pod. */
export function missingSources(): Diagnosis {
  const patch = {
    spec: {
      containers: [
        { name: 'api', resources: { requests: { memory: '512Mi' }, limits: { memory: '768Mi' } } },
      ],
    },
  };
  return {
    schemaVersion: 1,
    target: { namespace: 'shop', pod: 'checkout-bc9xsnqjs-zjg2r', container: 'api' },
    window: WINDOW,
    verdict: 'cgroup-oom',
    headline:
      'OOMKilled: shop/checkout-bc9xsnqjs-zjg2r (container api) hit its 512 MiB memory limit. Most likely: the memory limit is too small for its real working set.',
    verdictEvidence: [
      'Terminated with reason OOMKilled, exit code 137 (128 + 9, SIGKILL), at 2026-11-28 10:43 UTC; restarted 5 times in all.',
      'Memory limit in force: 512 MiB.',
    ],
    kills: [{ at: '2026-11-28T10:43:28Z', reason: 'OOMKilled', exitCode: 137 }],
    causes: [
      {
        id: 'limit-too-small',
        confidence: 0.55,
        evidence: ['Current reading from the metrics API: 489 MiB, 96% of the 512 MiB limit.'],
      },
    ],
    current: { resources: { requests: { memory: '256Mi' }, limits: { memory: '512Mi' } }, runtime: [] },
    recommendation: {
      workload: { kind: 'Pod', namespace: 'shop', name: 'checkout-bc9xsnqjs-zjg2r', generation: 0 },
      container: 'api',
      resources: { requests: { memory: '512Mi' }, limits: { memory: '768Mi' } },
      env: [],
      args: null,
      patch,
      kubectl:
        '# shop/checkout-bc9xsnqjs-zjg2r is a bare pod: its resources cannot be patched in place. Change its manifest and recreate it.',
      yaml: 'spec:\n  containers:\n    - name: api\n      resources:\n        requests:\n          memory: 512Mi\n        limits:\n          memory: 768Mi\n',
      notes: [
        'Top cause: the memory limit is too small for its real working set (confidence 0.55).',
        'This pod has no controller: the patch shows the change to make in its manifest.',
      ],
    },
    missing: [
      'prometheus: not configured (set PROMETHEUS_URL or --prometheus-url); using one current reading from the metrics API, so the shape of usage over time is unknown and cause confidence is lower',
      'kubernetes: replicasets.apps "checkout-bc9xsnqjs" is forbidden: User "system:serviceaccount:oomdoctor:oomdoctor" cannot get resource "replicasets" in API group "apps" in the namespace "shop". The patch names the pod, not its workload',
    ],
    series: { stepMs: 0, points: [], limitBytes: 536870912, requestBytes: 268435456 },
  };
}

export const HOSTILE = [
  '<!channel>',
  '@here',
  '<http://evil.example|click>',
  '<@U0123ABC>',
  '`rm -rf`',
  'a & b',
  '<!here|here>',
  '@everyone',
  '```',
] as const;
const hostileText = HOSTILE.join(' ');
export const LONG = 'x'.repeat(5000);

/** Every string a cluster could put in front of us, trying to mention, link or break the layout. */
export function hostile(): Diagnosis {
  const d = heapOom();
  const pod = `evil-<!channel>-\`pod\`-@here-${'p'.repeat(300)}`;
  const env = [{ name: 'HOSTILE<@U1>', value: `${hostileText} ${LONG}` }];
  return {
    ...d,
    target: { namespace: 'ns-<!here>&', pod, container: 'c`<http://evil.example|x>`' },
    headline: `OOMKilled: ${pod} ${hostileText}\nsecond line <!subteam^S123> at 2026-11-28 10:22 UTC ${LONG}`,
    verdictEvidence: [`Evidence ${hostileText} at 2026-11-28 10:22 UTC`, LONG, `multi\nline ${hostileText}`],
    causes: d.causes.map((c) => ({ ...c, evidence: [...c.evidence, `${hostileText} ${LONG}`] })),
    current: {
      ...d.current,
      runtime: [{ source: `env ${hostileText}`, setting: 'Xmx', value: `-Xmx3g ${hostileText}` }],
    },
    recommendation: d.recommendation && {
      ...d.recommendation,
      workload: { ...d.recommendation.workload, name: `ledger-${hostileText}` },
      env,
      kubectl: `kubectl -n payments patch deployment ledger -p '${hostileText}' ${LONG}`,
      yaml: `${Array.from({ length: 200 }, (_, i) => `line-${i}: ${hostileText}`).join('\n')}\n`,
      notes: [...d.recommendation.notes, `${hostileText} ${LONG}`],
    },
    missing: [`kubernetes: ${hostileText}`, LONG],
  };
}

/** A diagnosis with `n` evidence lines everywhere: verdict, causes, notes and missing sources. */
export function floodOfEvidence(n: number): Diagnosis {
  const d = heapOom();
  const lines = (what: string) =>
    Array.from(
      { length: n },
      (_, i) =>
        `${what} line ${i + 1} at 2026-11-28 10:${String(i % 60).padStart(2, '0')} UTC, with some words to make it longer than a short line usually is.`,
    );
  return {
    ...d,
    verdictEvidence: lines('Verdict'),
    causes: [...d.causes, ...d.causes, ...d.causes].map((c, i) => ({
      ...c,
      confidence: Math.max(0, 0.95 - i * 0.1),
      evidence: lines(`Cause ${i + 1}`),
    })),
    recommendation: d.recommendation && {
      ...d.recommendation,
      notes: lines('Note'),
      env: Array.from({ length: 20 }, (_, i) => ({ name: `VAR_${i}`, value: `value-${i}` })),
    },
    missing: lines('Missing'),
  };
}
