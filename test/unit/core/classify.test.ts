// The pitfalls the field guide names, each on hand-built or generated evidence, and a property test
// that the classifier always answers with a valid verdict whatever the evidence looks like.
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { podEvent as mapEvent, type ApiObject } from '../../../src/adapters/kubernetes-objects';
import { classify } from '../../../src/core/classify';
import { recommend } from '../../../src/core/recommend';
import type {
  Classification,
  Evidence,
  MetricsEvidence,
  PodEvent,
  Sample,
  Termination,
  Verdict,
} from '../../../src/core/types';
import { demoSpecs, generateScenario, type ScenarioSpec } from '../../support/scenarios';
import { scenarioEvidence } from '../../support/scenario-evidence';
import {
  container,
  counter,
  evidence,
  flatMetrics,
  GiB,
  HOUR,
  MiB,
  MINUTE,
  node,
  NOW,
  podEvent,
  SECRET,
  status,
  termination,
  WINDOW,
} from './evidence-builders';

const FIXTURES = path.join(__dirname, '../../fixtures/real');
const VERDICTS: Verdict[] = [
  'cgroup-oom',
  'node-pressure-eviction',
  'sigkill-not-oom',
  'child-process-oom',
  'no-oom-found',
];
const CAUSE_IDS = ['limit-too-small', 'runtime-heap-misconfigured', 'memory-leak', 'burst-allocation'];

function fixtureText(name: string): string {
  return fs.readFileSync(path.join(FIXTURES, name), 'utf8');
}

/** A real event fixture mapped through the adapter, moved to `at`. */
function fixtureEvent(name: string, at: number): PodEvent {
  const mapped = mapEvent(JSON.parse(fixtureText(name)) as ApiObject);
  return { ...mapped, firstAt: new Date(at), lastAt: new Date(at) };
}

async function generated(spec: ScenarioSpec, seed = 7): Promise<Evidence> {
  const scenario = generateScenario(spec, { now: NOW, windowMs: WINDOW, scrapeMs: MINUTE, seed });
  return scenarioEvidence(scenario, { start: NOW - WINDOW, end: NOW });
}

function demo(id: string, limit?: number): ScenarioSpec {
  const spec = demoSpecs(limit).find((s) => s.id === id);
  if (!spec) throw new Error(`no demo scenario ${id}`);
  return spec;
}

function expectValid(c: Classification): void {
  expect(VERDICTS).toContain(c.verdict);
  expect(typeof c.headline).toBe('string');
  expect(c.headline.length).toBeGreaterThan(0);
  for (const cause of c.causes) {
    expect(CAUSE_IDS).toContain(cause.id);
    expect(cause.confidence).toBeGreaterThanOrEqual(0);
    expect(cause.confidence).toBeLessThanOrEqual(1);
    expect(cause.evidence.length).toBeGreaterThan(0);
  }
  for (let i = 1; i < c.causes.length; i++)
    expect(c.causes[i - 1]!.confidence).toBeGreaterThanOrEqual(c.causes[i]!.confidence);
  if (c.verdict !== 'cgroup-oom') expect(c.causes).toEqual([]);
  for (const kill of c.kills) expect(Number.isFinite(kill.at.getTime())).toBe(true);
}

describe('exit 137 alone is not an OOM kill', () => {
  it('reason Error with liveness probe events is sigkill-not-oom, and quotes the probe', () => {
    const killAt = NOW - 2 * HOUR;
    const ev = evidence({
      containers: [container({ name: 'app-target' })],
      lastTerminated: termination('Error', 137, killAt),
      events: [
        fixtureEvent('event-unhealthy-liveness-probe-failed.json', killAt - 20_000),
        fixtureEvent('event-killing-liveness-probe-failed.json', killAt - 5_000),
      ],
      metrics: flatMetrics(400 * MiB, GiB),
    });
    const result = classify(ev);
    expect(result.verdict).toBe('sigkill-not-oom');
    expect(result.causes).toEqual([]);
    expect(result.headline).toMatch(/liveness probe/);
    expect(result.headline).toMatch(/not an OOM kill/i);
    expect(result.verdictEvidence.join('\n')).toContain(
      '"Container app-target failed liveness probe, will be restarted"',
    );
    expect(result.verdictEvidence[0]).toMatch(/Exit code 137 .* reason Error, not OOMKilled/);
    expect(recommend(ev, result)).toBeNull();
  });

  it('quotes the Unhealthy message when that is the last probe event', () => {
    const killAt = NOW - 2 * HOUR;
    const result = classify(
      evidence({
        containers: [container({ name: 'app-target' })],
        lastTerminated: termination('Error', 137, killAt),
        events: [fixtureEvent('event-unhealthy-liveness-probe-failed.json', killAt - 20_000)],
      }),
    );
    expect(result.verdict).toBe('sigkill-not-oom');
    expect(result.verdictEvidence.join('\n')).toContain(
      '"Liveness probe failed: HTTP probe failed with statuscode: 500"',
    );
  });

  it("probe events of another container are not this one's sender", () => {
    const killAt = NOW - 2 * HOUR;
    const result = classify(
      evidence({
        containers: [container({ name: 'api' })],
        lastTerminated: termination('Error', 137, killAt),
        events: [fixtureEvent('event-killing-liveness-probe-failed.json', killAt - 5_000)], // fieldPath spec.containers{app-target}
      }),
    );
    expect(result.verdict).toBe('sigkill-not-oom');
    expect(result.headline).not.toMatch(/liveness probe/);
    expect(result.headline).toMatch(/outside SIGKILL/);
  });

  it('the real "Reason: Error, Exit Code: 137" with memory close to the limit is still not an OOM kill', () => {
    // test/fixtures/real/pod-describe-exit137-reason-error-not-oom.txt: Error, 137, restart count 1.
    const describe = fixtureText('pod-describe-exit137-reason-error-not-oom.txt');
    expect(describe).toMatch(/Reason: Error\s+Exit Code: 137/);
    const killAt = NOW - 3 * HOUR;
    const result = classify(
      evidence({ lastTerminated: termination('Error', 137, killAt), metrics: flatMetrics(0.95 * GiB, GiB) }),
    );
    expect(result.verdict).toBe('sigkill-not-oom');
    expect(result.verdictEvidence.join('\n')).toMatch(/close to the limit/);
    expect(result.verdictEvidence.join('\n')).toMatch(/\d+% of the 1 GiB limit/);
  });

  it('but exit 137 with reason Error is a cgroup OOM when the kernel counted an OOM event at that moment', () => {
    const killAt = NOW - 3 * HOUR;
    const result = classify(
      evidence({
        lastTerminated: termination('Error', 137, killAt),
        metrics: flatMetrics(0.5 * GiB, GiB, {
          oomEvents: counter([killAt]),
          restarts: counter([killAt + MINUTE]),
          starts: [NOW - 30 * HOUR, killAt + MINUTE],
        }),
      }),
    );
    expect(result.verdict).toBe('cgroup-oom');
    expect(result.verdictEvidence.join('\n')).toMatch(/container_oom_events_total rose/);
  });

  it('a stop that outlived its grace period (ExceededGracePeriod) is sigkill-not-oom', () => {
    const killAt = NOW - HOUR;
    const result = classify(
      evidence({
        lastTerminated: termination('Error', 137, killAt),
        events: [
          podEvent('Killing', 'Stopping container api', killAt - 31_000, { type: 'Normal' }),
          podEvent(
            'ExceededGracePeriod',
            'Container runtime did not kill the pod within specified grace period.',
            killAt,
          ),
        ],
      }),
    );
    expect(result.verdict).toBe('sigkill-not-oom');
    expect(result.headline).toMatch(/grace period/);
    expect(result.verdictEvidence.join('\n')).toContain(
      '"Container runtime did not kill the pod within specified grace period."',
    );
    expect(result.verdictEvidence.join('\n')).toMatch(/terminationGracePeriodSeconds/);
  });
});

describe('"but the node had plenty of free memory" is irrelevant', () => {
  it('an OOMKilled container at its own limit is a cgroup OOM even on a node with a huge allocatable', async () => {
    const ev = await generated({ ...demo('limit-too-small'), nodeAllocatable: 1024 * GiB });
    expect(ev.node?.allocatableBytes).toBe(1024 * GiB);
    expect(ev.node?.memoryPressure).toBe('False');
    const result = classify(ev);
    expect(result.verdict).toBe('cgroup-oom');
    expect(result.causes[0]?.id).toBe('limit-too-small');
    expect(result.headline).toMatch(/hit its 512 MiB memory limit/);
  });

  it('also without any memory history', () => {
    const result = classify(
      evidence({ node: node({ allocatableBytes: 2048 * GiB, capacityBytes: 2050 * GiB }) }),
    );
    expect(result.verdict).toBe('cgroup-oom');
    expect(result.headline).toMatch(/hit its 1 GiB memory limit/);
  });

  it('a node OOM at the same moment does not make it a node kill when the container was at its limit', () => {
    const killAt = NOW - HOUR;
    const result = classify(
      evidence({
        lastTerminated: termination('OOMKilled', 137, killAt),
        metrics: flatMetrics(0.99 * GiB, GiB),
        node: node({
          events: [
            podEvent('SystemOOM', 'System OOM encountered, victim process: api, pid: 3103923', killAt, {
              involvedKind: 'Node',
            }),
          ],
        }),
      }),
    );
    expect(result.verdict).toBe('cgroup-oom');
  });

  it('whereas a node OOM at the kill with the container far below its limit is the node running out', () => {
    const killAt = NOW - HOUR;
    const result = classify(
      evidence({
        lastTerminated: termination('OOMKilled', 137, killAt),
        metrics: flatMetrics(200 * MiB, GiB),
        node: node({
          memoryPressure: 'True',
          events: [
            podEvent(
              'OOMKilling',
              'Out of memory: Killed process 3103923 (stress-ng-vm) total-vm:15791416kB, anon-rss:14369596kB, file-rss:4kB, shmem-rss:36kB, UID:0 pgtables:28184kB oom_score_adj:1000',
              killAt + 30_000,
              { involvedKind: 'Node' },
            ),
          ],
        }),
      }),
    );
    expect(result.verdict).toBe('node-pressure-eviction');
    expect(result.verdictEvidence.join('\n')).toMatch(/far from its own limit/);
    expect(result.verdictEvidence.join('\n')).toContain(
      'Out of memory: Killed process 3103923 (stress-ng-vm)',
    );
  });
});

describe('a node OOM logged as "(combined from similar events)"', () => {
  it('is recognised: OOMKilled far below the limit with it near the kill is the node running out', () => {
    // test/fixtures/real/events-node-systemoom-and-oomkilling-aks.txt: the kernel-monitor event repeated.
    const row = fixtureText('events-node-systemoom-and-oomkilling-aks.txt')
      .split('\n')
      .find((l) => l.includes('OOMKilling') && l.includes('(combined from similar events)'));
    const message = row?.slice(row.indexOf('(combined from similar events)')) ?? '';
    expect(message).toMatch(
      /^\(combined from similar events\): Out of memory: Killed process 3106306 \(stress-ng-vm\)/,
    );
    const killAt = NOW - HOUR;
    const result = classify(
      evidence({
        lastTerminated: termination('OOMKilled', 137, killAt),
        metrics: flatMetrics(200 * MiB, GiB),
        node: node({
          events: [podEvent('OOMKilling', message, killAt + 30_000, { involvedKind: 'Node', count: 16 })],
        }),
      }),
    );
    expect(result.verdict).toBe('node-pressure-eviction');
    expect(result.verdictEvidence.join('\n')).toContain(
      'Out of memory: Killed process 3106306 (stress-ng-vm)',
    );
  });
});

describe('evictions are node pressure, whatever the exit code', () => {
  // The newer kubelet wording (openshift/release PR #76967) and the older one (neonKUBE issue #1897).
  const newer = (() => {
    const lines = fixtureText('pod-evicted-message-threshold-format.txt').split('\n');
    const start = lines.findIndex((l) => l.startsWith('The node was low on resource: memory. Threshold'));
    return `${lines[start]}${lines[start + 1]}`;
  })();
  const older = (
    parseYaml(fixtureText('pod-evicted-memory-status-excerpt.yaml')) as {
      status: { reason: string; message: string };
    }
  ).status;

  it('reads the fixtures as expected', () => {
    expect(newer).toMatch(
      /^The node was low on resource: memory\. Threshold quantity: 100Mi, available: 87608Ki\. Container dptp-controller-manager was using 48458972Ki, request is 15Gi, has larger consumption of memory\.\s*$/,
    );
    expect(older.reason).toBe('Evicted');
    expect(older.message).toMatch(
      /Container cstor-pool-mgmt was using 27484Ki, which exceeds its request of 0\./,
    );
  });

  const terminations: Array<[string, Termination | null]> = [
    ['OOMKilled 137', termination('OOMKilled', 137, NOW - 30 * MINUTE)],
    ['ContainerStatusUnknown 137', termination('ContainerStatusUnknown', 137, null)],
    ['Error 137', termination('Error', 137, NOW - 30 * MINUTE)],
    ['Completed 0', termination('Completed', 0, NOW - 30 * MINUTE)],
    ['no termination', null],
  ];

  it.each(terminations)('newer kubelet message, %s: node-pressure-eviction', (_label, last) => {
    const ev = evidence({
      containers: [container({ name: 'dptp-controller-manager', limit: null, request: '15Gi' })],
      lastTerminated: last,
      podReason: 'Evicted',
      podMessage: newer,
      node: node({ memoryPressure: 'True', memoryPressureSince: new Date(NOW - 50 * MINUTE) }),
    });
    const result = classify(ev);
    expect(result.verdict).toBe('node-pressure-eviction');
    expect(result.causes).toEqual([]);
    const lines = result.verdictEvidence.join('\n');
    expect(lines).toContain(
      'Container dptp-controller-manager was using 46.2 GiB against a request of 15 GiB',
    );
    expect(lines).toMatch(/MemoryPressure=True since 2026-11-28 11:10 UTC/);
    expect(result.kills.some((k) => k.reason === 'Evicted')).toBe(true);
  });

  it.each(terminations)(
    'older kubelet message ("which exceeds its request of"), %s: node-pressure-eviction',
    (_label, last) => {
      const ev = evidence({
        containers: [container({ name: 'cstor-pool-mgmt', limit: null, request: null })],
        lastTerminated: last,
        podReason: older.reason,
        podMessage: older.message,
      });
      const result = classify(ev);
      expect(result.verdict).toBe('node-pressure-eviction');
      const lines = result.verdictEvidence.join('\n');
      expect(lines).toContain('Container cstor-pool-mgmt was using 26.8 MiB against a request of 0 B');
      expect(lines).toContain('Container maya-exporter was using 9.51 MiB');
    },
  );

  it('an Evicted event (kubectl get events, KubeFATE #64) counts as much as the pod status', () => {
    const rows = fixtureText('events-kubectl-get-events-evicted-memory-pressure.txt').split('\n');
    const message = (rows[0] ?? '').split(/\s{2,}/).slice(-1)[0] ?? '';
    expect(message).toBe(
      'The node was low on resource: memory. Container egg was using 5053216Ki, which exceeds its request of 0.',
    );
    const result = classify(
      evidence({
        containers: [container({ name: 'egg' })],
        lastTerminated: termination('Error', 137, NOW - 10 * MINUTE),
        events: [
          podEvent('Evicted', message, NOW - 11 * MINUTE),
          podEvent('Killing', 'Stopping container egg', NOW - 11 * MINUTE, { type: 'Normal' }),
        ],
      }),
    );
    expect(result.verdict).toBe('node-pressure-eviction');
    expect(result.verdictEvidence.join('\n')).toContain(
      'Container egg was using 4.82 GiB against a request of 0 B',
    );
  });

  it("an evicted pod's kill is dated at the Evicted event, not at the end of the window", () => {
    const evictedAt = NOW - 40 * MINUTE;
    const result = classify(
      evidence({
        lastTerminated: null,
        podReason: 'Evicted',
        podMessage:
          'The node was low on resource: memory. Container api was using 900Mi, request is 512Mi, has larger consumption of memory. ',
        events: [
          podEvent(
            'Evicted',
            'The node was low on resource: memory. Container api was using 900Mi, request is 512Mi, has larger consumption of memory. ',
            evictedAt,
          ),
        ],
      }),
    );
    expect(result.verdict).toBe('node-pressure-eviction');
    expect(result.kills.find((k) => k.reason === 'Evicted')?.at).toEqual(new Date(evictedAt));
  });

  it('"The node had condition: [MemoryPressure]." is a memory eviction', () => {
    const result = classify(
      evidence({
        lastTerminated: null,
        podReason: 'Evicted',
        podMessage: 'The node had condition: [MemoryPressure].',
      }),
    );
    expect(result.verdict).toBe('node-pressure-eviction');
  });

  it.each([
    ['DiskPressure', 'ephemeral-storage'],
    ['PIDPressure', 'pids'],
  ])('"The node had condition: [%s]." is not an OOM at all', (condition, resource) => {
    const result = classify(
      evidence({
        lastTerminated: null,
        podReason: 'Evicted',
        podMessage: `The node had condition: [${condition}].`,
      }),
    );
    expect(result.verdict).toBe('no-oom-found');
    expect(result.headline).toContain(`low on ${resource}, not memory`);
    expect(result.causes).toEqual([]);
  });

  it('an eviction for ephemeral-storage is not an OOM at all', () => {
    const result = classify(
      evidence({
        lastTerminated: termination('ContainerStatusUnknown', 137, null),
        podReason: 'Evicted',
        podMessage:
          'The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: 9Gi. Container api was using 12Gi, request is 0, has larger consumption of ephemeral-storage. ',
      }),
    );
    expect(result.verdict).toBe('no-oom-found');
    expect(result.headline).toMatch(/ephemeral-storage, not memory/);
    expect(result.causes).toEqual([]);
  });
});

describe('OOMKilled without a limit', () => {
  it("is the node running out (node-wide OOM), not the container's own cgroup", () => {
    const result = classify(
      evidence({ containers: [container({ limit: null, request: '256Mi' })], metrics: null }),
    );
    expect(result.verdict).toBe('node-pressure-eviction');
    expect(result.headline).toMatch(/no memory limit/);
    expect(result.verdictEvidence.join('\n')).toMatch(/no memory limit/);
    expect(result.causes).toEqual([]);
  });

  it('also on a generated node-oom history', async () => {
    const result = classify(
      await generated({
        ...demo('limit-too-small'),
        id: 'node-oom',
        limit: null,
        request: 256 * MiB,
        ending: 'node-oom',
      }),
    );
    expect(result.verdict).toBe('node-pressure-eviction');
  });
});

// Issue 11, class 1 (which container) relies on this: a child process killed in a container that did
// not restart shows only in its OOM counter.
describe('OOM events without a restart', () => {
  it('are a child process killed inside a running container', () => {
    const ooms = [NOW - 7 * HOUR, NOW - 2 * HOUR];
    const ev = evidence({
      lastTerminated: null,
      restartCount: 0,
      metrics: flatMetrics(600 * MiB, GiB, { oomEvents: counter(ooms) }),
      node: node({
        events: [
          podEvent(
            'OOMKilling',
            'Memory cgroup out of memory: Killed process 3504804 (render-worker) total-vm:1853240kB, anon-rss:501432kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:1288kB oom_score_adj:999',
            NOW - 2 * HOUR,
            { involvedKind: 'Node' },
          ),
        ],
      }),
    });
    const result = classify(ev);
    expect(result.verdict).toBe('child-process-oom');
    expect(result.causes).toEqual([]);
    const lines = result.verdictEvidence.join('\n');
    expect(lines).toMatch(
      /container_oom_events_total rose 2 times in the last 24 h, last at 2026-11-28 10:00 UTC/,
    );
    expect(lines).toContain('Killed process 3504804 (render-worker)');
    expect(lines).toMatch(/Peak working set [\d.]+ MiB, \d+% of the 1 GiB limit/);
  });

  it('OOM events that match restarts are never a hidden child-process kill', () => {
    const oomAt = NOW - 10 * HOUR;
    const result = classify(
      evidence({
        lastTerminated: termination('Error', 1, NOW - HOUR),
        metrics: flatMetrics(900 * MiB, GiB, {
          oomEvents: counter([oomAt]),
          restarts: counter([oomAt + 30_000, NOW - HOUR + 30_000]),
          starts: [NOW - 30 * HOUR, oomAt + 30_000, NOW - HOUR + 30_000],
        }),
      }),
    );
    expect(result.verdict).not.toBe('child-process-oom');
  });

  it('an OOM kill no longer in lastState (a later Error crash replaced it) is still a cgroup OOM', () => {
    const oomAt = NOW - 10 * HOUR;
    const result = classify(
      evidence({
        lastTerminated: termination('Error', 1, NOW - HOUR),
        metrics: flatMetrics(900 * MiB, GiB, {
          oomEvents: counter([oomAt]),
          restarts: counter([oomAt + 30_000, NOW - HOUR + 30_000]),
          starts: [NOW - 30 * HOUR, oomAt + 30_000, NOW - HOUR + 30_000],
        }),
      }),
    );
    expect(result.kills.some((k) => k.reason === 'OOMKilled')).toBe(true);
    expect(result.verdict).toBe('cgroup-oom');
    const lines = result.verdictEvidence.join('\n');
    expect(lines).toMatch(/container_oom_events_total/);
    expect(lines).toMatch(/restart at 2026-11-28 02:0\d UTC/);
    expect(lines).toMatch(/last termination since was Error/);
  });

  it('whereas OOM events that match restarts, with an OOMKilled status, are a cgroup OOM', () => {
    const killAt = NOW - 3 * HOUR;
    const result = classify(
      evidence({
        lastTerminated: termination('OOMKilled', 137, killAt),
        metrics: flatMetrics(900 * MiB, GiB, {
          oomEvents: counter([killAt]),
          restarts: counter([killAt + 30_000]),
          starts: [NOW - 30 * HOUR, killAt + 30_000],
        }),
      }),
    );
    expect(result.verdict).toBe('cgroup-oom');
  });
});

describe('runtime settings', () => {
  const mib = (bytes: number) => Math.floor(bytes / MiB);
  const sane: Array<[string, (limit: number) => Record<string, unknown>]> = [
    [
      'JVM -XX:MaxRAMPercentage=75',
      () => ({ env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-XX:MaxRAMPercentage=75.0' }] }),
    ],
    [
      'JVM -Xmx at 60% of the limit',
      (limit) => ({ env: [{ name: 'JAVA_OPTS', value: `-Dfile.encoding=UTF-8 -Xmx${mib(0.6 * limit)}m` }] }),
    ],
    [
      'GOMEMLIMIT at 90% of the limit',
      (limit) => ({ env: [{ name: 'GOMEMLIMIT', value: `${mib(0.9 * limit)}MiB` }] }),
    ],
    [
      '--max-old-space-size at 60% of the limit',
      (limit) => ({ env: [{ name: 'NODE_OPTIONS', value: `--max-old-space-size=${mib(0.6 * limit)}` }] }),
    ],
    [
      '-Xmx at 60% in args',
      (limit) => ({ args: ['-server', `-Xmx${mib(0.6 * limit)}m`, '-jar', 'app.jar'] }),
    ],
  ];
  const shapes = ['limit-too-small', 'memory-leak', 'burst-allocation', 'runtime-heap-misconfigured'];
  const limits = [512 * MiB, 2 * GiB, 8 * GiB];

  const cases = sane.flatMap(([label, make]) =>
    shapes.flatMap((shape) => limits.map((limit) => [label, shape, limit, make] as const)),
  );
  it.each(cases)('%s is never blamed (%s history, limit %d)', async (_label, shape, limit, make) => {
    const base = demo(shape, limit);
    const runtime = make(limit) as ScenarioSpec['runtime'];
    const ev = await generated({ ...base, runtime: runtime ?? {} });
    expect(ev.pod.containers.find((c) => c.name === ev.target.container)?.runtime.length).toBeGreaterThan(0);
    const result = classify(ev);
    expect(result.verdict).toBe('cgroup-oom');
    expect(result.causes.map((c) => c.id)).not.toContain('runtime-heap-misconfigured');
  });

  it.each(sane)('%s is never blamed without a history either', (_label, make) => {
    for (const limit of limits) {
      const raw = make(limit) as { env?: Array<Record<string, unknown>>; args?: string[] };
      const result = classify(evidence({ containers: [container({ limit: `${limit / MiB}Mi`, ...raw })] }));
      expect(result.verdict).toBe('cgroup-oom');
      expect(result.causes.map((c) => c.id)).not.toContain('runtime-heap-misconfigured');
    }
  });

  const javaOpts = `-Dspring.datasource.password=${SECRET} -Xmx3072m -Djavax.net.ssl.trustStorePassword=${SECRET}`;

  it('-Xmx above the limit is blamed, quoting the flag and nothing else from JAVA_OPTS', () => {
    const ev = evidence({
      containers: [container({ limit: '2Gi', env: [{ name: 'JAVA_OPTS', value: javaOpts }] })],
    });
    const result = classify(ev);
    expect(result.verdict).toBe('cgroup-oom');
    const heap = result.causes.find((c) => c.id === 'runtime-heap-misconfigured');
    expect(heap).toBeDefined();
    expect(result.causes[0]?.id).toBe('runtime-heap-misconfigured');
    expect(heap?.evidence.join('\n')).toContain('-Xmx3072m (env JAVA_OPTS)');
    expect(heap?.evidence.join('\n')).toMatch(/Heap budget 3 GiB .*150% of the 2 GiB limit/);
    const json = JSON.stringify(result);
    expect(json).not.toContain(SECRET);
    expect(json).not.toContain('spring.datasource');
    expect(json).not.toContain('trustStorePassword');
  });

  it('-Xmx above the limit is the top cause on a generated sawtooth history, and the secret stays out', async () => {
    const ev = await generated({
      ...demo('runtime-heap-misconfigured'),
      runtime: { env: [{ name: 'JAVA_OPTS', value: javaOpts }] },
    });
    const result = classify(ev);
    expect(result.causes[0]?.id).toBe('runtime-heap-misconfigured');
    expect(result.causes[0]?.evidence.join('\n')).toContain('-Xmx3072m');
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it('GOMEMLIMIT above the limit is blamed', () => {
    const result = classify(
      evidence({
        containers: [container({ limit: '1Gi', env: [{ name: 'GOMEMLIMIT', value: '1500MiB' }] })],
      }),
    );
    expect(result.causes[0]?.id).toBe('runtime-heap-misconfigured');
    expect(result.causes[0]?.evidence.join('\n')).toContain('GOMEMLIMIT=1500MiB');
  });
});

// Issue 11, class 3 (where the heap setting really is): -XX:-UseContainerSupport, -Xms at the limit
// (with AlwaysPreTouch) and MaxRAMPercentage near 100 are heap misconfiguration too.
describe('runtime-heap-misconfigured: JVM flags that size the heap without an -Xmx', () => {
  const heapOf = (c: Classification) => c.causes.find((cause) => cause.id === 'runtime-heap-misconfigured');

  it('-Xms at the limit with AlwaysPreTouch: killed seconds after each start, said with the numbers', () => {
    const restarts = Array.from({ length: 30 }, (_, i) => NOW - HOUR - i * 5 * MINUTE);
    const result = classify(
      evidence({
        containers: [
          container({
            limit: '1Gi',
            command: ['java', '-XX:+AlwaysPreTouch', '-Xms1200m', '-jar', 'app.jar'],
          }),
        ],
        lastTerminated: termination('OOMKilled', 137, NOW - HOUR, {
          startedAt: new Date(NOW - HOUR - 9_000),
        }),
        restartCount: 30,
        // Prometheus caught two of the short runs.
        metrics: {
          ...flatMetrics(0, GiB),
          workingSet: [
            { at: NOW - 3 * HOUR, value: 0.97 * GiB },
            { at: NOW - 2 * HOUR, value: 0.6 * GiB },
          ],
          restarts: counter(restarts),
          oomEvents: counter(restarts),
          starts: [],
        },
      }),
    );
    expect(result.verdict).toBe('cgroup-oom');
    expect(result.causes[0]?.id).toBe('runtime-heap-misconfigured');
    expect(result.headline).toMatch(/Most likely: the runtime's heap is sized past the container limit/);
    const said = result.causes[0]!.evidence.join('\n');
    expect(said).toContain(
      '-Xms1200m (command[2]) is at or above the 1 GiB limit; with -XX:+AlwaysPreTouch (command[1]) the JVM touches all of it at start',
    );
    expect(said).toContain(
      'The last run lived 9 s from start to OOM kill, one of 30 restarts in the last 24 h, with 2 memory readings in the window',
    );
    expect(result.causes[0]!.confidence).toBeGreaterThanOrEqual(0.9);
  });

  it('-Xms past the limit without AlwaysPreTouch is blamed, without the start-up story', () => {
    const result = classify(
      evidence({ containers: [container({ limit: '1Gi', args: ['-Xms1g', '-jar', 'a.jar'] })] }),
    );
    const said = heapOf(result)?.evidence.join('\n') ?? '';
    expect(result.causes[0]?.id).toBe('runtime-heap-misconfigured');
    expect(said).toContain(
      '-Xms1g (args[0]) is at or above the 1 GiB limit: the JVM starts with a heap that size',
    );
    expect(said).not.toMatch(/AlwaysPreTouch|lived/);
  });

  it('-Xms at half the limit is not blamed, AlwaysPreTouch or not', () => {
    const result = classify(
      evidence({
        containers: [container({ limit: '2Gi', args: ['-XX:+AlwaysPreTouch', '-Xms1g', '-jar', 'a.jar'] })],
      }),
    );
    expect(heapOf(result)).toBeUndefined();
  });

  it("-XX:-UseContainerSupport: the heap is 25% of the node's memory, with the node's figures", () => {
    const result = classify(
      evidence({
        containers: [
          container({
            limit: '1Gi',
            env: [{ name: 'JAVA_TOOL_OPTIONS', value: `-Dpw=${SECRET} -XX:-UseContainerSupport` }],
          }),
        ],
        node: node({ capacityBytes: 32 * GiB, allocatableBytes: 30 * GiB }),
      }),
    );
    expect(result.causes[0]?.id).toBe('runtime-heap-misconfigured');
    expect(result.causes[0]?.evidence.join('\n')).toContain(
      "-XX:-UseContainerSupport (env JAVA_TOOL_OPTIONS) makes the JVM size its heap from the node's memory, not the container's limit: 25% of the node's 32 GiB is a heap of 8 GiB, 800% of the 1 GiB limit.",
    );
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it('-XX:-UseContainerSupport with MaxRAMPercentage takes that share of the node; an unknown node is said', () => {
    const spec = container({
      limit: '2Gi',
      args: ['-XX:-UseContainerSupport', '-XX:MaxRAMPercentage=50.0', '-jar', 'a.jar'],
    });
    const known = classify(evidence({ containers: [spec], node: node({ capacityBytes: 16 * GiB }) }));
    expect(known.causes[0]?.evidence.join('\n')).toContain(
      "50% of the node's 16 GiB is a heap of 8 GiB, 400% of the 2 GiB limit",
    );
    // Not the percentage of the limit: 50% of 2 GiB would have looked sane.
    expect(known.causes[0]?.evidence.join('\n')).not.toContain('Heap budget 1 GiB');
    const unknown = classify(evidence({ containers: [spec], node: null }));
    expect(unknown.causes[0]?.id).toBe('runtime-heap-misconfigured');
    expect(unknown.causes[0]?.evidence.join('\n')).toContain(
      "50% of the node's memory, which is not known here; on any node with more than 4 GiB that heap alone is past the 2 GiB limit",
    );
  });

  it('-XX:-UseContainerSupport under an -Xmx that fits is not blamed: the -Xmx sizes the heap', () => {
    const result = classify(
      evidence({
        containers: [
          container({ limit: '2Gi', args: ['-XX:-UseContainerSupport', '-Xmx1g', '-jar', 'a.jar'] }),
        ],
      }),
    );
    expect(heapOf(result)).toBeUndefined();
  });

  it('MaxRAMPercentage at 90 or more follows the limit: blamed at every limit, with the share left over', () => {
    for (const limit of ['512Mi', '2Gi', '8Gi']) {
      const result = classify(
        evidence({
          containers: [
            container({ limit, env: [{ name: 'JDK_JAVA_OPTIONS', value: '-XX:MaxRAMPercentage=95.0' }] }),
          ],
        }),
      );
      expect(result.causes[0]?.id).toBe('runtime-heap-misconfigured');
      expect(result.causes[0]!.confidence).toBeGreaterThanOrEqual(0.9);
      expect(result.causes[0]?.evidence.join('\n')).toContain(
        '-XX:MaxRAMPercentage=95.0 (env JDK_JAVA_OPTIONS) gives the heap 95% of whatever the limit is: a larger limit only makes a larger heap, and leaves the same 5%',
      );
    }
  });
});

describe('without a memory history', () => {
  it('causes are still ranked, with lower confidence, and say why', async () => {
    const withHistory = await generated(demo('limit-too-small'));
    const rich = classify(withHistory);
    const poor = classify({
      ...withHistory,
      metrics: null,
      missing: ['prometheus: connection refused at http://127.0.0.1:9'],
    });
    expect(poor.verdict).toBe('cgroup-oom');
    expect(poor.causes.length).toBeGreaterThan(0);
    expect(poor.causes[0]?.id).toBe('limit-too-small');
    expect(poor.causes[0]!.confidence).toBeLessThan(rich.causes[0]!.confidence);
    expect(poor.causes[0]!.confidence).toBeLessThanOrEqual(0.5);
    expect(poor.causes[0]?.evidence.join('\n')).toMatch(/No memory history/);
  });

  it('no cause gains confidence when the history goes missing', async () => {
    for (const id of ['limit-too-small', 'memory-leak', 'burst-allocation', 'runtime-heap-misconfigured']) {
      const ev = await generated(demo(id));
      const rich = classify(ev);
      const poor = classify({ ...ev, metrics: null });
      expect(poor.causes.length).toBeGreaterThan(0);
      for (const cause of poor.causes) {
        const before = rich.causes.find((c) => c.id === cause.id);
        if (before) expect(cause.confidence).toBeLessThanOrEqual(before.confidence);
      }
    }
  });

  it('a single metrics-API reading near the limit is quoted and lifts the confidence a little', () => {
    const reading: MetricsEvidence = {
      workingSet: [{ at: NOW - 15_000, value: 0.95 * GiB }],
      stepMs: 0,
      limitBytes: null,
      requestBytes: null,
      restarts: [],
      oomEvents: [],
      starts: [],
      source: 'metrics-api',
    };
    const none = classify(evidence());
    const one = classify(evidence({ metrics: reading }));
    expect(one.verdict).toBe('cgroup-oom');
    expect(one.causes[0]?.evidence.join('\n')).toMatch(/metrics API: 973 MiB, 95% of the 1 GiB limit/);
    expect(one.causes[0]!.confidence).toBeGreaterThan(none.causes[0]!.confidence);
    expect(one.causes[0]!.confidence).toBeLessThan(0.9);
  });
});

describe('the demo scenarios at several limits', () => {
  const cases = [256 * MiB, 768 * MiB, 3 * GiB].flatMap((limit) =>
    demoSpecs(limit).map((spec) => [spec.id, limit, spec] as const),
  );
  it.each(cases)(
    '%s at %d bytes: valid, ranked, and causes only for cgroup-oom',
    async (_id, _limit, spec) => {
      const result = classify(await generated(spec, 11));
      expectValid(result);
      expect(result.verdict).toBe(spec.expect.verdict);
      if (result.verdict === 'cgroup-oom') expect(result.causes.length).toBeGreaterThan(0);
    },
  );

  it('evidence lines quote numbers: a percentage and a byte size', async () => {
    for (const id of ['limit-too-small', 'memory-leak', 'burst-allocation', 'runtime-heap-misconfigured']) {
      const result = classify(await generated(demo(id)));
      const top = result.causes[0];
      expect(top?.id).toBe(id);
      const lines = top!.evidence.join('\n');
      // A leak is told by its rate; the other causes by a share of the limit.
      expect(lines).toMatch(id === 'memory-leak' ? /[\d.]+ (KiB|MiB|GiB) per hour/ : /\d+%/);
      expect(lines).toMatch(/\d+(\.\d+)? (KiB|MiB|GiB)/);
      expect(result.verdictEvidence.join('\n')).toMatch(/\d+% of the [\d.]+ (MiB|GiB) limit/);
    }
  });

  it("the plateau line reads like the issue's example, and the leak line gives a rate", async () => {
    const plateau = classify(await generated(demo('limit-too-small', 2 * GiB)));
    expect(plateau.causes[0]?.evidence[0]).toMatch(
      /^Steady at [\d.]+ (MiB|GiB), 9\d% of the 2 GiB limit, for \d+ h( \d+ min)? before the kill at \d{4}-\d\d-\d\d \d\d:\d\d UTC\.$/,
    );
    const leak = classify(await generated(demo('memory-leak')));
    expect(leak.causes[0]?.evidence[0]).toMatch(/climbs steadily at about [\d.]+ (KiB|MiB) per hour/);
  });
});

describe('classify on random evidence', () => {
  const MAX = 64 * GiB;
  const at = fc.integer({ min: NOW - WINDOW - 6 * HOUR, max: NOW + HOUR });
  const bytes = fc.oneof(fc.integer({ min: 0, max: MAX }), fc.double({ min: 0, max: MAX, noNaN: true }));
  const samples: fc.Arbitrary<Sample[]> = fc
    .array(fc.record({ at, value: bytes }), { maxLength: 300 })
    .map((list) => list.sort((a, b) => a.at - b.at));
  const counterSamples: fc.Arbitrary<Sample[]> = fc
    .array(fc.record({ at, value: fc.integer({ min: 0, max: 50 }) }), { maxLength: 60 })
    .map((list) => {
      const sorted = list.sort((a, b) => a.at - b.at);
      let total = 0;
      return sorted.map((s) => ({ at: s.at, value: (total += s.value % 3) }));
    });
  const terminationArb: fc.Arbitrary<Termination | null> = fc.option(
    fc.record({
      reason: fc.constantFrom('OOMKilled', 'Error', 'Completed', 'ContainerStatusUnknown', 'Evicted', ''),
      exitCode: fc.constantFrom(0, 1, 2, 137, 143, -1, 255),
      startedAt: fc.option(
        at.map((t) => new Date(t)),
        { nil: null },
      ),
      finishedAt: fc.option(
        at.map((t) => new Date(t)),
        { nil: null },
      ),
    }),
    { nil: null },
  );
  const eventArb: fc.Arbitrary<PodEvent> = fc
    .record({
      kind: fc.constantFrom(
        ['Unhealthy', 'Liveness probe failed: HTTP probe failed with statuscode: 500'],
        ['Killing', 'Container api failed liveness probe, will be restarted'],
        ['Killing', 'Stopping container api'],
        ['ExceededGracePeriod', 'Container runtime did not kill the pod within specified grace period.'],
        [
          'Evicted',
          'The node was low on resource: memory. Container api was using 5053216Ki, which exceeds its request of 0.',
        ],
        ['Evicted', 'The node had condition: [MemoryPressure].'],
        [
          'Evicted',
          'The node was low on resource: ephemeral-storage. Container api was using 12Gi, request is 0, has larger consumption of ephemeral-storage.',
        ],
        ['BackOff', 'Back-off restarting failed container api'],
        ['SystemOOM', 'System OOM encountered, victim process: api, pid: 1'],
        ['OOMKilling', 'Out of memory: Killed process 1 (api) total-vm:1kB, anon-rss:1kB, file-rss:0kB'],
        [
          'OOMKilling',
          'Memory cgroup out of memory: Killed process 2 (worker) total-vm:1kB, anon-rss:1kB, file-rss:0kB',
        ],
      ),
      when: fc.option(at, { nil: null }),
      count: fc.integer({ min: 1, max: 20 }),
      fieldPath: fc.option(fc.constantFrom('spec.containers{api}', 'spec.containers{other}'), {
        nil: undefined,
      }),
    })
    .map(({ kind, when, count, fieldPath }) => ({
      reason: kind[0],
      type: 'Warning',
      message: kind[1],
      count,
      firstAt: when === null ? null : new Date(when),
      lastAt: when === null ? null : new Date(when),
      involvedKind: 'Pod',
      involvedName: 'api-7d9f8b6c4-x2x9z',
      ...(fieldPath ? { fieldPath } : {}),
    }));
  const limitArb = fc.option(fc.integer({ min: 1, max: MAX }), { nil: null });
  const metricsArb: fc.Arbitrary<MetricsEvidence | null> = fc.option(
    fc.record({
      workingSet: samples,
      stepMs: fc.constantFrom(0, 15_000, 60_000, 300_000),
      limitBytes: limitArb,
      requestBytes: limitArb,
      restarts: counterSamples,
      oomEvents: counterSamples,
      starts: fc.array(at, { maxLength: 10 }).map((s) => s.sort((a, b) => a - b)),
      source: fc.constantFrom('prometheus' as const, 'metrics-api' as const),
    }),
    { nil: null },
  );
  const runtimeEnv = fc.constantFrom<Array<Array<{ name: string; value: string }>>>(
    [],
    [{ name: 'JAVA_OPTS', value: `-Dpw=${SECRET} -Xmx8g` }],
    [{ name: 'JAVA_TOOL_OPTIONS', value: '-XX:MaxRAMPercentage=90' }],
    [{ name: 'GOMEMLIMIT', value: '900MiB' }],
    [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=4096' }],
  );
  const evidenceArb: fc.Arbitrary<Evidence> = fc
    .record({
      limit: fc.option(fc.constantFrom('64Mi', '256Mi', '1Gi', '2Gi', '16Gi', '1', '0.5Gi'), { nil: null }),
      env: runtimeEnv,
      last: terminationArb,
      current: terminationArb,
      restartCount: fc.nat({ max: 100 }),
      events: fc.array(eventArb, { maxLength: 6 }),
      nodeEvents: fc.array(eventArb, { maxLength: 4 }),
      evicted: fc.option(
        fc.constantFrom(
          'The node was low on resource: memory.',
          'The node was low on resource: ephemeral-storage.',
          'The node had condition: [MemoryPressure].',
          '',
        ),
        { nil: null },
      ),
      metrics: metricsArb,
      hasNode: fc.boolean(),
      hasStatus: fc.boolean(),
    })
    .map((r) =>
      evidence({
        containers: [container({ limit: r.limit, env: [...r.env] })],
        statuses: r.hasStatus
          ? [
              status('api', {
                lastTerminated: r.last,
                terminated: r.current,
                restartCount: r.restartCount,
                state: r.current ? 'terminated' : 'running',
              }),
            ]
          : [],
        events: r.events,
        podReason: r.evicted === null ? null : 'Evicted',
        podMessage: r.evicted,
        metrics: r.metrics,
        node: r.hasNode ? node({ events: r.nodeEvents.map((e) => ({ ...e, involvedKind: 'Node' })) }) : null,
      }),
    );

  it('never throws and always returns a valid verdict', () => {
    fc.assert(
      fc.property(evidenceArb, (ev) => {
        const result = classify(ev);
        expectValid(result);
        expect(JSON.stringify(result)).not.toContain(SECRET);
      }),
      { numRuns: 400 },
    );
  });

  it('empty and one-sample histories are fine', () => {
    for (const workingSet of [[], [{ at: NOW - HOUR, value: 0 }], [{ at: NOW - HOUR, value: 2 * GiB }]]) {
      const result = classify(evidence({ metrics: flatMetrics(0, GiB, { workingSet }) }));
      expectValid(result);
      expect(result.verdict).toBe('cgroup-oom');
    }
  });
});
