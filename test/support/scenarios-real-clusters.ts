// Labelled cases of real clusters (issue 11, sections 1, 2, 3 and 5): pods with an injected sidecar
// listed first, ReplicaSets owned by something other than a Deployment, heap settings where they
// really live (and JVM flags that size the heap without an -Xmx), and limits sized from a known peak. Generated over several seeds, limits and
// runtimes; each case carries its right answer.
import type { ApiObject } from '../../src/adapters/kubernetes-objects';
import type { CauseId } from '../../src/core/types';
import { generateScenario, rng, type Scenario, type ScenarioSpec, type Shape } from './scenarios';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
export const REAL_CLUSTER_LIMITS = [768 * MiB, 2 * GiB, 8 * GiB];
const SEEDS = [11, 23, 37];

const SIDECARS: Array<{ name: string; annotations: Record<string, string> }> = [
  { name: 'istio-proxy', annotations: { 'sidecar.istio.io/status': '{"containers":["istio-proxy"]}' } },
  { name: 'linkerd-proxy', annotations: { 'linkerd.io/proxy-version': 'stable-2.14.10' } },
  { name: 'vault-agent', annotations: {} },
  { name: 'cloud-sql-proxy', annotations: {} },
  { name: 'fluent-bit', annotations: {} },
];

export type ContainerClass = 'evicted-sidecar-stops-last' | 'child-oom-no-restart' | 'nothing-terminated';

export interface ContainerCase {
  id: string;
  containerClass: ContainerClass;
  pod: ApiObject;
  /** Per-container OOM counter increases, as Prometheus would report them. */
  oomEvents: Map<string, number>;
  nodeEvents: ApiObject[];
  expect: { container: string };
}

function hex(random: () => number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += Math.floor(random() * 16).toString(16);
  return out;
}

/** Sidecar first, then the app and a helper; the app uses most of the pod's memory. */
export function containerCases(): ContainerCase[] {
  const cases: ContainerCase[] = [];
  for (const sidecar of SIDECARS) {
    for (const seed of SEEDS) {
      const random = rng(seed + sidecar.name.length);
      const app = random() < 0.5 ? 'api' : 'server';
      const ids = { [sidecar.name]: hex(random, 64), [app]: hex(random, 64), helper: hex(random, 64) };
      const appMiB = 900 + Math.floor(random() * 2000);
      const base = (statuses: ApiObject[], status: ApiObject = {}): ApiObject => ({
        metadata: { name: `${app}-${seed}`, namespace: 'shop', annotations: sidecar.annotations },
        spec: { containers: [{ name: sidecar.name }, { name: app }, { name: 'helper' }] },
        status: { phase: 'Running', containerStatuses: statuses, ...status },
      });
      const running = (name: string) => ({
        name,
        state: { running: { startedAt: '2026-11-28T00:00:00Z' } },
        containerID: `containerd://${ids[name]}`,
      });
      const evictedAt = (name: string, second: number) => ({
        name,
        state: {
          terminated: {
            reason: 'Error',
            exitCode: 137,
            startedAt: '2026-11-28T00:00:00Z',
            finishedAt: `2026-11-28T11:00:${String(second).padStart(2, '0')}Z`,
          },
        },
      });
      cases.push({
        id: `evicted, ${sidecar.name} first #${seed}`,
        containerClass: 'evicted-sidecar-stops-last',
        pod: base([evictedAt(sidecar.name, 30), evictedAt(app, 2), evictedAt('helper', 3)], {
          phase: 'Failed',
          reason: 'Evicted',
          message: `The node was low on resource: memory. Threshold quantity: 100Mi, available: 10Mi. Container ${sidecar.name} was using 150Mi, request is 64Mi, has larger consumption of memory. Container ${app} was using ${appMiB}Mi, request is 512Mi, has larger consumption of memory. Container helper was using 120Mi, request is 64Mi, has larger consumption of memory. `,
        }),
        oomEvents: new Map(),
        nodeEvents: [],
        expect: { container: app },
      });
      const killedChild = random() < 0.5 ? app : 'helper';
      const byCounter = seed % 2 === 1;
      cases.push({
        id: `child process killed in ${killedChild}, ${sidecar.name} first, seen by ${byCounter ? 'its OOM counter' : "the node's kernel log"} #${seed}`,
        containerClass: 'child-oom-no-restart',
        pod: base([running(sidecar.name), running(app), running('helper')]),
        oomEvents: byCounter ? new Map([[killedChild, 1 + Math.floor(random() * 3)]]) : new Map(),
        nodeEvents: byCounter
          ? []
          : [
              {
                reason: 'OOMKilling',
                message: `Memory cgroup out of memory: Killed process ${1000 + seed} (worker) total-vm:1200000kB, anon-rss:${appMiB * 1024}kB, oom_memcg=/kubepods/burstable/pod${hex(random, 8)}/${ids[killedChild]}`,
              },
            ],
        expect: { container: killedChild },
      });
      cases.push({
        id: `nothing terminated, ${sidecar.name} first #${seed}`,
        containerClass: 'nothing-terminated',
        pod: base([running(sidecar.name), running(app), running('helper')]),
        oomEvents: new Map(),
        nodeEvents: [],
        expect: { container: app },
      });
    }
  }
  return cases;
}

export interface WorkloadCase {
  id: string;
  pod: ApiObject;
  objects: ApiObject[];
  expect: { kind: string; name: string; owner?: string; kubectlType: 'strategic' | 'json' | null };
}

/** Pods under a Deployment, an Argo Rollout, and an operator's controller, over several seeds. */
export function workloadCases(): WorkloadCase[] {
  const cases: WorkloadCase[] = [];
  for (const seed of SEEDS) {
    const random = rng(seed);
    const name = `svc${Math.floor(random() * 1000)}`;
    const rs = `${name}-${hex(random, 9)}`;
    const pod = {
      metadata: {
        name: `${rs}-${hex(random, 5)}`,
        namespace: 'shop',
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, controller: true }],
      },
    };
    const template = { spec: { containers: [{ name: 'api', resources: { limits: { memory: '1Gi' } } }] } };
    const replicaSet = (owner: ApiObject) => ({
      kind: 'ReplicaSet',
      metadata: { name: rs, namespace: 'shop', ownerReferences: [{ ...owner, controller: true }] },
      spec: { replicas: 3 },
    });
    cases.push({
      id: `Deployment #${seed}`,
      pod,
      objects: [
        replicaSet({ apiVersion: 'apps/v1', kind: 'Deployment', name }),
        { kind: 'Deployment', metadata: { name, namespace: 'shop' }, spec: { replicas: 3, template } },
      ],
      expect: { kind: 'Deployment', name, kubectlType: 'strategic' },
    });
    cases.push({
      id: `Argo Rollout #${seed}`,
      pod,
      objects: [
        replicaSet({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name }),
        { kind: 'Rollout', metadata: { name, namespace: 'shop' }, spec: { replicas: 3, template } },
      ],
      expect: { kind: 'Rollout', name, kubectlType: 'json' },
    });
    cases.push({
      id: `an operator's controller #${seed}`,
      pod,
      objects: [replicaSet({ apiVersion: 'example.com/v1', kind: 'WebApp', name })],
      expect: { kind: 'ReplicaSet', name: rs, owner: 'WebApp', kubectlType: null },
    });
  }
  return cases;
}

export interface HeapCase {
  id: string;
  runtime: 'jvm' | 'node' | 'go';
  limitBytes: number;
  raw: ApiObject;
  configMaps: Record<string, Record<string, string>>;
}

/** A variable the kubelet sets from the container's memory limit, divided by `divisor` (rounded up). */
function heapFromLimit(name: string, divisor: string): ApiObject {
  return { name, valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor } } };
}

/** Heap settings too large for the limit, in each place a runtime reads them from. */
export function heapCases(): HeapCase[] {
  const cases: HeapCase[] = [];
  for (const limit of REAL_CLUSTER_LIMITS) {
    const over = Math.ceil((limit * 1.25) / MiB);
    const jvm: Array<[string, ApiObject, Record<string, Record<string, string>>]> = [
      ['-Xmx in command', { command: ['java', `-Xmx${over}m`, '-jar', 'app.jar'] }, {}],
      ['-Xmx in a sh -c script', { command: ['sh', '-c', `exec java -Xmx${over}m -jar app.jar`] }, {}],
      ['-Xmx in args', { args: [`-Xmx${over}m`, '-jar', 'app.jar'] }, {}],
      [
        '_JAVA_OPTIONS over a sane command line',
        {
          command: ['java', '-Xmx256m', '-jar', 'a.jar'],
          env: [{ name: '_JAVA_OPTIONS', value: `-Xmx${over}m` }],
        },
        {},
      ],
      [
        'JDK_JAVA_OPTIONS with other flags',
        { env: [{ name: 'JDK_JAVA_OPTIONS', value: `-Dsecret=x -Xmx${over}m -XX:+UseG1GC` }] },
        {},
      ],
      [
        'JAVA_TOOL_OPTIONS from envFrom',
        { envFrom: [{ configMapRef: { name: 'jvm' } }] },
        { jvm: { JAVA_TOOL_OPTIONS: `-Xmx${over}m` } },
      ],
      [
        'MaxRAMPercentage near 100',
        { env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-XX:MaxRAMPercentage=99.0' }] },
        {},
      ],
      [
        '-Xmx$(HEAP)m in command, HEAP from resourceFieldRef limits.memory (divisor 1Mi)',
        { command: ['java', '-Xmx$(HEAP)m', '-jar', 'app.jar'], env: [heapFromLimit('HEAP', '1Mi')] },
        {},
      ],
      [
        'JAVA_TOOL_OPTIONS=-Xmx$(HEAP)k, HEAP from resourceFieldRef limits.memory (divisor 1Ki)',
        { env: [heapFromLimit('HEAP', '1Ki'), { name: 'JAVA_TOOL_OPTIONS', value: '-Xmx$(HEAP)k' }] },
        {},
      ],
    ];
    for (const [label, raw, configMaps] of jvm)
      cases.push({
        id: `JVM, ${label} @${limit / MiB}Mi`,
        runtime: 'jvm',
        limitBytes: limit,
        raw,
        configMaps,
      });
    const node: Array<[string, ApiObject]> = [
      [
        'argv flag beats a sane NODE_OPTIONS',
        {
          command: ['node', `--max-old-space-size=${over}`, 'server.js'],
          env: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=128' }],
        },
      ],
      [
        'NODE_OPTIONS with other flags',
        {
          command: ['node', 'server.js'],
          env: [{ name: 'NODE_OPTIONS', value: `--require ./otel.js --max-old-space-size=${over}` }],
        },
      ],
      [
        'NODE_OPTIONS=--max-old-space-size=$(MEM_MIB), MEM_MIB from resourceFieldRef limits.memory',
        {
          command: ['node', 'server.js'],
          env: [
            heapFromLimit('MEM_MIB', '1Mi'),
            { name: 'NODE_OPTIONS', value: '--max-old-space-size=$(MEM_MIB)' },
          ],
        },
      ],
    ];
    for (const [label, raw] of node)
      cases.push({
        id: `Node, ${label} @${limit / MiB}Mi`,
        runtime: 'node',
        limitBytes: limit,
        raw,
        configMaps: {},
      });
    const go: Array<[string, ApiObject, Record<string, Record<string, string>>]> = [
      ['GOMEMLIMIT in env', { env: [{ name: 'GOMEMLIMIT', value: `${over}MiB` }] }, {}],
      [
        'GOMEMLIMIT from envFrom',
        { envFrom: [{ configMapRef: { name: 'go' } }] },
        { go: { GOMEMLIMIT: `${over}MiB` } },
      ],
      [
        'GOMEMLIMIT from a configMapKeyRef',
        { env: [{ name: 'GOMEMLIMIT', valueFrom: { configMapKeyRef: { name: 'go', key: 'limit' } } }] },
        { go: { limit: `${over}MiB` } },
      ],
      [
        'GOMEMLIMIT in env shadowing a sane one from envFrom',
        { envFrom: [{ configMapRef: { name: 'go' } }], env: [{ name: 'GOMEMLIMIT', value: `${over}MiB` }] },
        { go: { GOMEMLIMIT: `${Math.floor((limit * 0.6) / MiB)}MiB` } },
      ],
      [
        'GOMEMLIMIT from resourceFieldRef limits.memory (the whole limit)',
        { env: [{ name: 'GOMEMLIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.memory' } } }] },
        {},
      ],
    ];
    for (const [label, raw, configMaps] of go)
      cases.push({ id: `Go, ${label} @${limit / MiB}Mi`, runtime: 'go', limitBytes: limit, raw, configMaps });
  }
  return cases;
}

/** Known peaks (no limit in force), over seeds and sizes, for the 30–50% band. */
export function peakCases(): Array<{ id: string; peakBytes: number }> {
  const out: Array<{ id: string; peakBytes: number }> = [];
  for (const seed of SEEDS) {
    const random = rng(seed);
    for (const scale of [300 * MiB, 768 * MiB, 3 * GiB, 20 * GiB]) {
      const peakBytes = Math.round(scale * (0.8 + 0.4 * random()));
      out.push({ id: `peak ${Math.round(peakBytes / MiB)}Mi #${seed}`, peakBytes });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// JVM heap misconfigurations that name no -Xmx (issue 11, section 3), with their histories

export type JvmHeapClass =
  | 'container-support-off'
  | 'container-support-turned-back-on'
  | 'xms-at-limit-with-pre-touch'
  | 'xms-past-limit'
  | 'xms-overridden-by-a-later-one'
  | 'max-ram-percentage-near-100'
  | 'max-ram-percentage-beaten-by-xmx';

export interface JvmHeapCase {
  id: string;
  jvmClass: JvmHeapClass;
  spec: ScenarioSpec;
  seed: number;
  /** What the JVM itself will do with these flags, for the label's own check against the evaluator. */
  jvm: { containerSupport: boolean; alwaysPreTouch: boolean; initialHeapAtLimit: boolean };
  expect: { topCause: CauseId };
}

const HEAP_LIMITS = [512 * MiB, GiB, 2 * GiB];
const NODE_ALLOCATABLE = 16 * GiB;
const JVM_OTHER = '-Dspring.profiles.active=prod -Djavax.net.ssl.trustStorePassword=changeit-s3cret';

/** The flags in each place the JVM reads them: a variable with other flags, args, the java command line, a ConfigMap. */
function placed(flags: string, variant: number): ScenarioSpec['runtime'] {
  switch (variant % 4) {
    case 0:
      return { env: [{ name: 'JAVA_TOOL_OPTIONS', value: `${JVM_OTHER} ${flags}` }] };
    case 1:
      return { args: [...flags.split(' '), '-jar', '/app/app.jar'] };
    case 2:
      return { command: ['java', ...flags.split(' '), '-jar', '/app/app.jar'] };
    default:
      return { configMapEnv: { JDK_JAVA_OPTIONS: flags } };
  }
}

/** The start-up crash loop of -Xms at the limit with AlwaysPreTouch: seconds alive, CrashLoopBackOff between. */
function preTouchCrashLoop(random: () => number): {
  timeline: NonNullable<ScenarioSpec['timeline']>;
  lives: Array<{ start: number; end: number; killed: boolean }>;
} {
  const lives: Array<{ start: number; end: number; killed: boolean }> = [];
  const aliveFor = new Map<number, number>();
  const timeline: NonNullable<ScenarioSpec['timeline']> = {
    lifetimes(_windowStart, now) {
      // The rollout that brought the flags in, a few hours ago: the pod has crash-looped since.
      let start = now - (3 + random() * 5) * 3_600_000;
      let backOff = 10_000;
      while (true) {
        const alive = (3 + random() * 17) * 1000;
        aliveFor.set(start, alive);
        const end = start + alive;
        if (end + backOff >= now) {
          lives.push({ start, end: now, killed: false });
          break;
        }
        lives.push({ start, end, killed: true });
        start = end + backOff;
        backOff = Math.min(300_000, backOff * 2); // the kubelet's back-off doubles up to 5 minutes
      }
      return lives;
    },
    value(at, lifeStart, scale) {
      const alive = aliveFor.get(lifeStart) ?? 0;
      const t = at - lifeStart;
      if (t > alive) return NaN; // dead, waiting in back-off: nothing to scrape
      return scale * Math.min(0.99, 0.3 + (0.7 * t) / alive);
    },
  };
  return { timeline, lives };
}

export function jvmHeapCases(): JvmHeapCase[] {
  const cases: JvmHeapCase[] = [];
  HEAP_LIMITS.forEach((limit, li) => {
    SEEDS.forEach((seed, si) => {
      const random = rng(seed * 31 + li);
      const variant = li + si;
      const mib = (share: number) => Math.floor((limit * share) / MiB);
      const pct = (90 + Math.floor(random() * 11)).toFixed(1);
      const over = mib(1 + random() * 0.2);
      const add = (
        jvmClass: JvmHeapClass,
        flags: ScenarioSpec['runtime'],
        shape: Shape,
        jvm: JvmHeapCase['jvm'],
        topCause: CauseId,
      ) =>
        cases.push({
          id: `${jvmClass} @${limit / MiB}Mi #${seed}`,
          jvmClass,
          seed: seed * 101 + li,
          spec: {
            id: `${jvmClass}@${limit / MiB}Mi#${seed}`,
            title: jvmClass,
            namespace: 'payments',
            app: 'ledger',
            workloadKind: 'Deployment',
            container: 'ledger',
            limit,
            request: limit,
            shape,
            ending: 'oom',
            nodeAllocatable: NODE_ALLOCATABLE,
            sidecar: seed % 2 === 1,
            ...(flags ? { runtime: flags } : {}),
            expect: { verdict: 'cgroup-oom', topCause },
          },
          jvm,
          expect: { topCause },
        });
      const on = { containerSupport: true, alwaysPreTouch: false, initialHeapAtLimit: false };
      add(
        'container-support-off',
        placed(
          random() < 0.5 ? '-XX:-UseContainerSupport' : '-XX:-UseContainerSupport -XX:+UseG1GC',
          variant,
        ),
        'heap-sawtooth',
        { ...on, containerSupport: false },
        'runtime-heap-misconfigured',
      );
      add(
        'container-support-turned-back-on',
        {
          env: [
            { name: 'JAVA_TOOL_OPTIONS', value: `${JVM_OTHER} -XX:-UseContainerSupport` },
            { name: '_JAVA_OPTIONS', value: '-XX:+UseContainerSupport' },
          ],
        },
        'plateau',
        on,
        'limit-too-small',
      );
      add(
        'xms-at-limit-with-pre-touch',
        placed(`-Xms${over}m -XX:+AlwaysPreTouch`, variant),
        'plateau',
        { ...on, alwaysPreTouch: true, initialHeapAtLimit: true },
        'runtime-heap-misconfigured', // its start-up crash loop is made by generateJvmHeapScenario
      );
      add(
        'xms-past-limit',
        placed(`-Xms${over}m`, variant + 1),
        'heap-sawtooth',
        { ...on, initialHeapAtLimit: true },
        'runtime-heap-misconfigured',
      );
      add(
        'xms-overridden-by-a-later-one',
        {
          env: [{ name: 'JAVA_TOOL_OPTIONS', value: `-Xms${over}m -XX:MaxRAMPercentage=60.0` }],
          command: ['java', `-Xms${mib(0.25)}m`, '-jar', '/app/app.jar'],
        },
        'plateau',
        on,
        'limit-too-small',
      );
      add(
        'max-ram-percentage-near-100',
        placed(`-XX:MaxRAMPercentage=${pct}`, variant),
        random() < 0.5 ? 'plateau' : 'heap-sawtooth',
        on,
        'runtime-heap-misconfigured',
      );
      add(
        'max-ram-percentage-beaten-by-xmx',
        {
          env: [{ name: 'JAVA_TOOL_OPTIONS', value: `-XX:MaxRAMPercentage=${pct}` }],
          args: [`-Xmx${mib(0.6)}m`, '-jar', '/app/app.jar'],
        },
        'plateau',
        on,
        'limit-too-small',
      );
    });
  });
  return cases;
}

/**
 * A case's history. A crash loop at start is seen as the cluster shows it: cAdvisor saw only the
 * runs a scrape landed in, and the status holds the last run's real start and end.
 */
export function generateJvmHeapScenario(c: JvmHeapCase, now: number, windowMs: number): Scenario {
  const crashLoop = c.jvmClass === 'xms-at-limit-with-pre-touch' ? preTouchCrashLoop(rng(c.seed)) : null;
  const spec = crashLoop ? { ...c.spec, timeline: crashLoop.timeline } : c.spec;
  const scenario = generateScenario(spec, { now, windowMs, scrapeMs: 60_000, seed: c.seed });
  if (!crashLoop) return scenario;
  const seen = new Set(scenario.metrics.workingSet.map((s) => s.at));
  const killed = crashLoop.lives.filter((l) => l.killed);
  const last = killed[killed.length - 1];
  scenario.metrics.starts = crashLoop.lives
    .filter((l) => [...seen].some((at) => at >= l.start && at <= l.end))
    .map((l) => l.start);
  const pod = scenario.objects.find((o) => o.kind === 'Pod') as ApiObject;
  const status = (pod.status.containerStatuses as ApiObject[]).find((s) => s.name === c.spec.container);
  if (status && last) {
    status.state = {
      waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container' },
    };
    status.ready = false;
    status.lastState.terminated.startedAt = new Date(last.start).toISOString();
    status.lastState.terminated.finishedAt = new Date(last.end).toISOString();
  }
  return scenario;
}
