// Labelled cases of real clusters (issue 11, sections 1, 2, 3 and 5): pods with an injected sidecar
// listed first, ReplicaSets owned by something other than a Deployment, heap settings where they
// really live, and limits sized from a known peak. Generated over several seeds, limits and
// runtimes; each case carries its right answer.
import type { ApiObject } from '../../src/adapters/kubernetes-objects';
import { rng } from './scenarios';

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
