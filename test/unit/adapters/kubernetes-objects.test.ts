// Mapping real API objects (test/fixtures/real) to the core's evidence, as JSON strings or as
// client-node hands them over (Date instances for timestamps).
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  configMapsReferenced,
  containerSpec,
  lastKillAt,
  namespaceLimits,
  nodeEvidence,
  podEvent,
  podEvidence,
  resolveEnv,
  resolveWorkload,
  surgeOf,
  toDate,
  workloadRef,
  type ApiObject,
  type OwnerLookup,
} from '../../../src/adapters/kubernetes-objects';
import {
  containerChoiceIsOpen,
  isInjectedSidecar,
  pickContainer,
} from '../../../src/adapters/container-choice';

const FIXTURES = path.join(__dirname, '../../fixtures/real');
const MiB = 2 ** 20;
const GiB = 2 ** 30;

function fixture(name: string): ApiObject {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as ApiObject;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** What client-node's ObjectSerializer does to a JSON object: every RFC 3339 time becomes a Date. */
function withDates<T>(value: T): T {
  if (typeof value === 'string' && TIMESTAMP.test(value)) return new Date(value) as unknown as T;
  if (Array.isArray(value)) return value.map(withDates) as unknown as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withDates(v)])) as T;
  return value;
}

const noConfigMaps = new Map<string, Record<string, string>>();

describe('the real OOMKilled pod (kubeshark worker)', () => {
  const pod = fixture('pod-oomkilled-kubeshark-worker.json');

  it('maps spec, status and lastState', () => {
    const ev = podEvidence(pod, [], noConfigMaps);
    expect(ev).toMatchObject({
      namespace: 'kubeshark',
      name: 'kubeshark-worker-daemon-set-hvn25',
      phase: 'Running',
      reason: null,
      qosClass: 'Burstable',
      nodeName: 'mizu',
    });
    expect(ev.createdAt?.toISOString()).toBe('2023-05-06T16:54:36.000Z');
    expect(ev.containers).toHaveLength(1);
    const [c] = ev.containers;
    expect(c).toMatchObject({
      name: 'kubeshark-worker',
      kind: 'app',
      image: 'docker.io/kubeshark/worker:latest',
      limitBytes: GiB,
      limitQuantity: '1Gi',
      requestBytes: 50 * MiB,
      requestQuantity: '50Mi',
      args: [],
      env: [],
      runtime: [],
    });
    expect(c?.command[0]).toBe('./worker');
    const [s] = ev.statuses;
    expect(s).toMatchObject({
      name: 'kubeshark-worker',
      restartCount: 1,
      ready: true,
      state: 'running',
      terminated: null,
    });
    expect(s?.startedAt?.toISOString()).toBe('2023-05-06T21:03:58.000Z');
    expect(s?.lastTerminated).toEqual({
      reason: 'OOMKilled',
      exitCode: 137,
      startedAt: new Date('2023-05-06T16:54:42Z'),
      finishedAt: new Date('2023-05-06T21:03:57Z'),
    });
  });

  it('is owned by a DaemonSet, whose surge is 0 and replicas 1', async () => {
    const lookups: string[] = [];
    const lookup: OwnerLookup = async (kind, namespace, name) => {
      lookups.push(`${kind} ${namespace}/${name}`);
      return {
        metadata: { name, namespace, generation: 3 },
        spec: {
          updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
        },
      };
    };
    const workload = await resolveWorkload(pod, lookup);
    expect(lookups).toEqual(['DaemonSet kubeshark/kubeshark-worker-daemon-set']);
    expect(workload).toMatchObject({
      kind: 'DaemonSet',
      namespace: 'kubeshark',
      name: 'kubeshark-worker-daemon-set',
      generation: 3,
      replicas: 1,
      surge: 0,
    });
  });

  it('still names its DaemonSet when the DaemonSet cannot be read', async () => {
    const workload = await resolveWorkload(pod, async () => null);
    expect(workload).toMatchObject({
      kind: 'DaemonSet',
      name: 'kubeshark-worker-daemon-set',
      namespace: 'kubeshark',
      generation: 0,
    });
  });

  it('picks its only container, and knows when it was killed', () => {
    expect(pickContainer(pod)).toBe('kubeshark-worker');
    expect(lastKillAt(pod)).toBe(Date.parse('2023-05-06T21:03:57Z'));
  });

  it('maps the same with client-node style Date objects as with ISO strings', () => {
    const dated = withDates(pod);
    expect(dated.status.containerStatuses[0].lastState.terminated.finishedAt).toBeInstanceOf(Date);
    expect(podEvidence(dated, [], noConfigMaps)).toEqual(podEvidence(pod, [], noConfigMaps));
    expect(lastKillAt(dated)).toBe(lastKillAt(pod));
    expect(pickContainer(dated)).toBe('kubeshark-worker');
  });
});

describe('the real Node (OpenShift worker, MemoryPressure False)', () => {
  const node = fixture('node-openshift-worker-memorypressure-false.json');
  const expected = {
    name: 'worker-0.imeixner20210707.lab.upshift.rdu2.redhat.com',
    allocatableBytes: 7002280 * 1024,
    capacityBytes: 8153256 * 1024,
    memoryPressure: 'False',
    memoryPressureSince: new Date('2021-07-12T21:20:44Z'),
    events: [],
  };

  it('maps allocatable 7002280Ki, capacity and the MemoryPressure condition', () => {
    expect(nodeEvidence(node, [])).toEqual(expected);
  });

  it('the same with Date objects', () => {
    expect(nodeEvidence(withDates(node), [])).toEqual(expected);
  });

  it('a node without the condition or with an unreadable quantity maps to nulls', () => {
    expect(
      nodeEvidence({ metadata: { name: 'n' }, status: { allocatable: { memory: '7 GB' } } }, []),
    ).toEqual({
      name: 'n',
      allocatableBytes: null,
      capacityBytes: null,
      memoryPressure: null,
      memoryPressureSince: null,
      events: [],
    });
  });
});

describe('the real events', () => {
  const killing = fixture('event-killing-liveness-probe-failed.json');
  const unhealthy = fixture('event-unhealthy-liveness-probe-failed.json');
  const npd = fixture('event-oomkilling-node-problem-detector.json');

  it('maps the liveness Killing and Unhealthy events with their container', () => {
    expect(podEvent(killing)).toEqual({
      reason: 'Killing',
      type: 'Normal',
      message: 'Container app-target failed liveness probe, will be restarted',
      count: 1,
      firstAt: new Date('2022-05-19T19:35:31Z'),
      lastAt: new Date('2022-05-19T19:35:31Z'),
      involvedKind: 'Pod',
      involvedName: 'app-target-6664868868-b84vm',
      fieldPath: 'spec.containers{app-target}',
    });
    expect(podEvent(unhealthy)).toMatchObject({
      reason: 'Unhealthy',
      type: 'Warning',
      message: 'Liveness probe failed: HTTP probe failed with statuscode: 500',
      fieldPath: 'spec.containers{app-target}',
    });
  });

  it('maps the node-problem-detector OOMKilling event (no count, no type) onto the Node', () => {
    expect(podEvent(npd)).toEqual({
      reason: 'OOMKilling',
      type: '',
      message:
        'Memory cgroup out of memory: Killed process 3504804 (kubectl) total-vm:753508kB, anon-rss:58776kB, file-rss:29400kB, shmem-rss:0kB, UID:0 pgtables:288kB oom_score_adj:999',
      count: 1,
      firstAt: new Date('2023-06-13T14:35:38Z'),
      lastAt: new Date('2023-06-13T14:35:38Z'),
      involvedKind: 'Node',
      involvedName: '<node_name>',
    });
    expect(
      nodeEvidence(fixture('node-openshift-worker-memorypressure-false.json'), [npd]).events[0]?.reason,
    ).toBe('OOMKilling');
  });

  it('maps an events.k8s.io/v1 event (note, regarding, series)', () => {
    const e = podEvent({
      reason: 'BackOff',
      type: 'Warning',
      note: 'Back-off restarting failed container api',
      regarding: { kind: 'Pod', name: 'api-1' },
      eventTime: '2026-11-28T10:00:00.123456Z',
      series: { count: 7, lastObservedTime: '2026-11-28T10:30:00.000000Z' },
    });
    expect(e).toMatchObject({
      reason: 'BackOff',
      message: 'Back-off restarting failed container api',
      count: 7,
      involvedKind: 'Pod',
      involvedName: 'api-1',
    });
    expect(e.firstAt?.toISOString()).toBe('2026-11-28T10:00:00.123Z');
    expect(e.lastAt?.toISOString()).toBe('2026-11-28T10:30:00.000Z');
  });

  it("the pod's events come out oldest first, with Date objects as with strings", () => {
    const events = [killing, unhealthy];
    const pod = {
      metadata: { name: 'app-target-6664868868-b84vm', namespace: 'probes' },
      spec: { containers: [{ name: 'app-target' }] },
      status: {},
    };
    const fromStrings = podEvidence(pod, events, noConfigMaps).events;
    expect(fromStrings.map((e) => e.reason)).toEqual(['Unhealthy', 'Killing']);
    expect(podEvidence(pod, withDates(events), noConfigMaps).events).toEqual(fromStrings);
  });
});

describe('environment from ConfigMaps', () => {
  const configMaps = new Map<string, Record<string, string>>([
    ['api-env', { JAVA_TOOL_OPTIONS: '-XX:MaxRAMPercentage=90', LOG_LEVEL: 'debug', OPTS: '-Xmx3g' }],
    ['api-node', { node_options: '--max-old-space-size=1536' }],
  ]);
  const raw: ApiObject = {
    name: 'api',
    envFrom: [
      { configMapRef: { name: 'api-env' } },
      { prefix: 'JAVA_', configMapRef: { name: 'api-env' } },
      { secretRef: { name: 'api-secrets' } },
      { configMapRef: { name: 'missing-cm', optional: true } },
    ],
    env: [
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'NODE_OPTIONS', valueFrom: { configMapKeyRef: { name: 'api-node', key: 'node_options' } } },
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'api-secrets', key: 'password' } } },
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'GREETING', value: 'hello $(POD_NAME)' },
    ],
  };

  it('lists the ConfigMaps to fetch, and never a Secret', () => {
    expect(configMapsReferenced(raw).sort()).toEqual(['api-env', 'api-node', 'missing-cm']);
  });

  it('resolves valueFrom and envFrom (with prefix); env entries win; Secrets are never resolved', () => {
    const env = resolveEnv(raw, configMaps);
    const byName = Object.fromEntries(env.map((e) => [e.name, e]));
    expect(byName.JAVA_TOOL_OPTIONS).toEqual({
      name: 'JAVA_TOOL_OPTIONS',
      value: '-XX:MaxRAMPercentage=90',
      configMap: { name: 'api-env', key: 'JAVA_TOOL_OPTIONS' },
      via: 'envFrom',
    });
    expect(byName.JAVA_OPTS).toEqual({
      name: 'JAVA_OPTS',
      value: '-Xmx3g',
      configMap: { name: 'api-env', key: 'OPTS' },
      via: 'envFrom',
    });
    expect(byName.JAVA_LOG_LEVEL?.value).toBe('debug');
    expect(byName.LOG_LEVEL).toEqual({ name: 'LOG_LEVEL', value: 'info' });
    expect(byName.NODE_OPTIONS).toEqual({
      name: 'NODE_OPTIONS',
      value: '--max-old-space-size=1536',
      configMap: { name: 'api-node', key: 'node_options' },
      via: 'valueFrom',
    });
    expect(byName.GREETING?.value).toBe('hello $(POD_NAME)');
    expect(byName.DB_PASSWORD).toBeUndefined();
    expect(byName.POD_NAME).toBeUndefined();
  });

  it('runtime settings found through ConfigMaps say where they live', () => {
    const spec = containerSpec(raw, 'app', configMaps);
    const sources = spec.runtime.map((r) => [r.value, r.source]);
    expect(sources).toEqual(
      expect.arrayContaining([
        ['-XX:MaxRAMPercentage=90', 'configmap api-env key JAVA_TOOL_OPTIONS'],
        ['-Xmx3g', 'configmap api-env key OPTS (env JAVA_OPTS)'],
        ['--max-old-space-size=1536', 'configmap api-node key node_options (env NODE_OPTIONS)'],
      ]),
    );
  });

  it('a ConfigMap that could not be read leaves its variables out', () => {
    const env = resolveEnv(raw, new Map());
    expect(env.map((e) => e.name).sort()).toEqual(['GREETING', 'LOG_LEVEL']);
  });
});

describe('pickContainer', () => {
  const at = (iso: string) => ({ finishedAt: iso, startedAt: '2026-11-28T00:00:00Z' });
  const running = { running: { startedAt: '2026-11-28T00:00:00Z' } };
  function pod(
    statuses: ApiObject[],
    parts: {
      annotations?: Record<string, string>;
      containers?: string[];
      init?: ApiObject[];
      initStatuses?: ApiObject[];
    } = {},
  ): ApiObject {
    return {
      metadata: {
        name: 'p',
        namespace: 'ns',
        ...(parts.annotations ? { annotations: parts.annotations } : {}),
      },
      spec: {
        containers: (parts.containers ?? statuses.map((s) => s.name)).map((name) => ({ name })),
        ...(parts.init ? { initContainers: parts.init } : {}),
      },
      status: {
        containerStatuses: statuses,
        ...(parts.initStatuses ? { initContainerStatuses: parts.initStatuses } : {}),
      },
    };
  }

  it('1. the newest OOM kill', () => {
    const p = pod([
      {
        name: 'a',
        state: running,
        lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, ...at('2026-11-28T10:00:00Z') } },
      },
      {
        name: 'b',
        state: running,
        lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, ...at('2026-11-28T11:00:00Z') } },
      },
      { name: 'c', state: running, lastState: {} },
    ]);
    expect(pickContainer(p)).toBe('b');
  });

  it('an OOM kill wins over a newer termination of another kind', () => {
    const p = pod([
      {
        name: 'a',
        state: running,
        lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, ...at('2026-11-28T10:00:00Z') } },
      },
      {
        name: 'b',
        state: running,
        lastState: { terminated: { reason: 'Error', exitCode: 1, ...at('2026-11-28T11:00:00Z') } },
      },
    ]);
    expect(pickContainer(p)).toBe('a');
  });

  it('a container terminated right now by the OOM killer counts', () => {
    const p = pod([
      { name: 'a', state: running, lastState: {} },
      {
        name: 'b',
        state: { terminated: { reason: 'OOMKilled', exitCode: 137, ...at('2026-11-28T09:00:00Z') } },
        lastState: {},
      },
    ]);
    expect(pickContainer(p)).toBe('b');
  });

  it('an OOM-killed init container is found too', () => {
    const p = pod([{ name: 'app', state: { waiting: { reason: 'PodInitializing' } }, lastState: {} }], {
      init: [{ name: 'migrate' }],
      initStatuses: [
        {
          name: 'migrate',
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, ...at('2026-11-28T09:00:00Z') } },
        },
      ],
    });
    expect(pickContainer(p)).toBe('migrate');
  });

  it('2. else the newest termination', () => {
    const p = pod(
      [
        {
          name: 'a',
          state: running,
          lastState: { terminated: { reason: 'Error', exitCode: 137, ...at('2026-11-28T10:00:00Z') } },
        },
        {
          name: 'b',
          state: running,
          lastState: { terminated: { reason: 'Error', exitCode: 137, ...at('2026-11-28T11:00:00Z') } },
        },
        { name: 'c', state: running, lastState: {} },
      ],
      { annotations: { 'kubectl.kubernetes.io/default-container': 'c' } },
    );
    expect(pickContainer(p)).toBe('b');
  });

  it('2. a Completed init container (exit 0) is not "the newest termination"', () => {
    const p = pod(
      [
        {
          name: 'api',
          state: running,
          lastState: { terminated: { reason: 'Error', exitCode: 137, ...at('2026-11-28T10:00:00Z') } },
        },
        { name: 'istio-proxy', state: running, lastState: {} },
      ],
      {
        init: [{ name: 'setup' }],
        initStatuses: [
          {
            name: 'setup',
            state: { terminated: { reason: 'Completed', exitCode: 0, ...at('2026-11-28T11:00:00Z') } },
            lastState: {},
          },
        ],
      },
    );
    expect(pickContainer(p)).toBe('api');
    // With no failed termination at all, a Completed one does not win over the default container either.
    const clean = pod(
      [
        { name: 'istio-proxy', state: running, lastState: {} },
        { name: 'api', state: running, lastState: {} },
      ],
      {
        annotations: { 'kubectl.kubernetes.io/default-container': 'api' },
        init: [{ name: 'setup' }],
        initStatuses: [
          {
            name: 'setup',
            state: { terminated: { reason: 'Completed', exitCode: 0, ...at('2026-11-28T11:00:00Z') } },
            lastState: {},
          },
        ],
      },
    );
    expect(pickContainer(clean)).toBe('api');
  });

  it('3. else the default-container annotation', () => {
    const p = pod(
      [
        { name: 'istio-proxy', state: running, lastState: {} },
        { name: 'api', state: running, lastState: {} },
      ],
      { annotations: { 'kubectl.kubernetes.io/default-container': 'api' } },
    );
    expect(pickContainer(p)).toBe('api');
  });

  it('4. else the first app container (an annotation naming no container is ignored)', () => {
    expect(
      pickContainer(
        pod(
          [
            { name: 'web', state: running },
            { name: 'sidecar', state: running },
          ],
          { annotations: { 'kubectl.kubernetes.io/default-container': 'gone' } },
        ),
      ),
    ).toBe('web');
    expect(pickContainer(pod([], { containers: ['web', 'sidecar'], init: [{ name: 'setup' }] }))).toBe('web');
  });

  // Issue 11, class 1 (which container): pods with an injected sidecar listed first.
  describe('an injected sidecar listed first', () => {
    const ISTIO = {
      'sidecar.istio.io/status': '{"initContainers":["istio-init"],"containers":["istio-proxy"]}',
    };
    const evictedAt = (iso: string) => ({
      terminated: { reason: 'Error', exitCode: 137, ...at(iso) },
    });
    function evicted(statuses: ApiObject[], message: string, annotations: Record<string, string> = ISTIO) {
      const p = pod(statuses, { annotations });
      p.status.phase = 'Failed';
      p.status.reason = 'Evicted';
      p.status.message = message;
      return p;
    }

    it('an evicted pod: the app container with the largest share of memory, not the sidecar that stopped last', () => {
      const p = evicted(
        [
          { name: 'istio-proxy', state: evictedAt('2026-11-28T11:00:09Z') },
          { name: 'api', state: evictedAt('2026-11-28T11:00:01Z') },
          { name: 'worker', state: evictedAt('2026-11-28T11:00:02Z') },
        ],
        'The node was low on resource: memory. Threshold quantity: 100Mi, available: 8Mi. Container istio-proxy was using 180Mi, request is 64Mi, has larger consumption of memory. Container api was using 1900Mi, request is 512Mi, has larger consumption of memory. Container worker was using 300Mi, request is 256Mi, has larger consumption of memory. ',
      );
      expect(pickContainer(p)).toBe('api');
    });

    it('an evicted pod whose message names no container: the default container, else the first app container', () => {
      const statuses = [
        { name: 'istio-proxy', state: evictedAt('2026-11-28T11:00:09Z') },
        { name: 'api', state: evictedAt('2026-11-28T11:00:01Z') },
        { name: 'worker', state: evictedAt('2026-11-28T11:00:02Z') },
      ];
      expect(pickContainer(evicted(statuses, 'The node was low on resource: memory.'))).toBe('api');
      expect(
        pickContainer(
          evicted(statuses, 'The node was low on resource: memory.', {
            ...ISTIO,
            'kubectl.kubernetes.io/default-container': 'worker',
          }),
        ),
      ).toBe('worker');
    });

    it.each([
      [
        'Istio, by its status annotation',
        'mesh-proxy',
        { 'sidecar.istio.io/status': '{"containers":["mesh-proxy"]}' },
      ],
      [
        'Linkerd, by its proxy-version annotation',
        'linkerd-proxy',
        { 'linkerd.io/proxy-version': 'stable-2.14.10' },
      ],
      ['a well-known agent', 'vault-agent', {}],
      ['a log shipper', 'fluent-bit', {}],
      ['Cloud SQL Auth Proxy', 'cloud-sql-proxy', {}],
    ])('nothing terminated: the app container, not the sidecar (%s)', (_label, sidecar, annotations) => {
      const p = pod(
        [
          { name: sidecar, state: running },
          { name: 'api', state: running },
        ],
        { annotations },
      );
      expect(isInjectedSidecar(p, sidecar)).toBe(true);
      expect(isInjectedSidecar(p, 'api')).toBe(false);
      expect(pickContainer(p)).toBe('api');
    });

    it('a child process killed in a container that did not restart: its OOM counter rose, so that container', () => {
      const p = pod(
        [
          { name: 'istio-proxy', state: running },
          { name: 'api', state: running },
          { name: 'renderer', state: running },
        ],
        { annotations: ISTIO },
      );
      const hints = {
        oomEventsByContainer: new Map([
          ['renderer', 2],
          ['api', 0],
          ['istio-proxy', 0],
        ]),
      };
      expect(pickContainer(p, hints)).toBe('renderer');
      // Without the counters the default is the first app container, never the proxy.
      expect(pickContainer(p)).toBe('api');
    });

    it("a child process killed: the node's kernel OOM line names the container by its runtime id", () => {
      const id = 'f3b1c2d4e5a6978812345678abcdef0011223344556677889900aabbccddeeff';
      const p = pod(
        [
          { name: 'istio-proxy', state: running, containerID: 'containerd://0000aaaa1111bbbb2222' },
          { name: 'api', state: running, containerID: 'containerd://1111bbbb2222cccc3333' },
          { name: 'renderer', state: running, containerID: `containerd://${id}` },
        ],
        { annotations: ISTIO },
      );
      const nodeEvents = [
        {
          reason: 'OOMKilling',
          message: `Memory cgroup out of memory: Killed process 4242 (chromium) total-vm:2000000kB, anon-rss:900000kB, oom_memcg=/kubepods/burstable/pod1234/${id}`,
        },
      ];
      expect(pickContainer(p, { nodeEvents })).toBe('renderer');
    });

    it('the evidence may point at the sidecar: an OOM-killed proxy is diagnosed', () => {
      const p = pod(
        [
          {
            name: 'istio-proxy',
            state: running,
            lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, ...at('2026-11-28T10:00:00Z') } },
          },
          { name: 'api', state: running },
        ],
        { annotations: ISTIO },
      );
      expect(pickContainer(p)).toBe('istio-proxy');
      expect(
        pickContainer(
          pod([
            { name: 'istio-proxy', state: running },
            { name: 'api', state: running },
          ]),
          {
            oomEventsByContainer: new Map([['istio-proxy', 1]]),
          },
        ),
      ).toBe('istio-proxy');
    });

    it('the OOM counters are asked for only when the pod itself cannot say which container', () => {
      const quiet = pod([
        { name: 'istio-proxy', state: running },
        { name: 'api', state: running },
      ]);
      expect(containerChoiceIsOpen(quiet)).toBe(true);
      const killed = pod([
        { name: 'istio-proxy', state: running },
        {
          name: 'api',
          state: running,
          lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, ...at('2026-11-28T10:00:00Z') } },
        },
      ]);
      expect(containerChoiceIsOpen(killed)).toBe(false);
      expect(containerChoiceIsOpen(pod([{ name: 'api', state: running }]))).toBe(false);
    });

    it('two app containers near their limits, only one killed: the killed one', () => {
      const p = pod([
        { name: 'istio-proxy', state: running },
        { name: 'api', state: running, lastState: {} },
        {
          name: 'indexer',
          state: running,
          lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, ...at('2026-11-28T10:00:00Z') } },
        },
      ]);
      expect(pickContainer(p, { oomEventsByContainer: new Map([['indexer', 1]]) })).toBe('indexer');
    });
  });

  it('works on client-node style Date objects', () => {
    const p = withDates(
      pod([
        {
          name: 'a',
          state: running,
          lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, ...at('2026-11-28T12:00:00Z') } },
        },
        {
          name: 'b',
          state: running,
          lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, ...at('2026-11-28T11:00:00Z') } },
        },
      ]),
    );
    expect(pickContainer(p)).toBe('a');
  });
});

describe('surge and replicas', () => {
  const deployment = (spec: ApiObject) => ({
    kind: 'Deployment',
    metadata: { name: 'api', namespace: 'shop', generation: 5 },
    spec,
  });

  it.each<[string, ApiObject, number]>([
    [
      '25% of 3 rounds up to 1',
      {
        replicas: 3,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      },
      1,
    ],
    ['the default (25%) of 3 is 1', { replicas: 3 }, 1],
    [
      '25% of 10 rounds up to 3',
      { replicas: 10, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%' } } },
      3,
    ],
    [
      'an absolute 2',
      { replicas: 3, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2 } } },
      2,
    ],
    [
      'an absolute "2" as a string',
      { replicas: 3, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '2' } } },
      2,
    ],
    [
      '0%',
      {
        replicas: 3,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '0%', maxUnavailable: 1 } },
      },
      0,
    ],
    ['Recreate is 0', { replicas: 3, strategy: { type: 'Recreate' } }, 0],
  ])('Deployment: %s', (_label, spec, surge) => {
    const obj = deployment(spec);
    expect(surgeOf(obj, Number(spec.replicas))).toBe(surge);
    expect(workloadRef('Deployment', obj)).toMatchObject({
      kind: 'Deployment',
      name: 'api',
      namespace: 'shop',
      generation: 5,
      replicas: spec.replicas,
      surge,
    });
  });

  it('a StatefulSet never surges', () => {
    const sts = {
      metadata: { name: 'db', namespace: 'shop' },
      spec: { replicas: 3, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } } },
    };
    expect(workloadRef('StatefulSet', sts)).toMatchObject({ replicas: 3, surge: 0 });
  });

  it('a CronJob or a bare Pod counts as one replica without surge', () => {
    expect(
      workloadRef('CronJob', {
        metadata: { name: 'nightly', namespace: 'ops' },
        spec: { schedule: '0 * * * *' },
      }),
    ).toMatchObject({ replicas: 1, surge: 0 });
    expect(workloadRef('Pod', { metadata: { name: 'debug', namespace: 'ops' }, spec: {} })).toMatchObject({
      replicas: 1,
      surge: 0,
    });
  });
});

describe('resolveWorkload follows the owner chain', () => {
  const objects: ApiObject[] = [
    {
      kind: 'ReplicaSet',
      metadata: {
        name: 'api-7d9f8b6c4',
        namespace: 'shop',
        ownerReferences: [{ kind: 'Deployment', name: 'api', controller: true }],
      },
      spec: { replicas: 3 },
    },
    {
      kind: 'Deployment',
      metadata: { name: 'api', namespace: 'shop', generation: 9 },
      spec: { replicas: 4, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } },
    },
    { kind: 'ReplicaSet', metadata: { name: 'orphan-5f6', namespace: 'shop' }, spec: { replicas: 2 } },
    {
      kind: 'Job',
      metadata: {
        name: 'nightly-2901234',
        namespace: 'ops',
        ownerReferences: [{ kind: 'CronJob', name: 'nightly', controller: true }],
      },
      spec: {},
    },
    { kind: 'CronJob', metadata: { name: 'nightly', namespace: 'ops', generation: 2 }, spec: {} },
    {
      kind: 'ReplicaSet',
      metadata: {
        name: 'checkout-6c8d9',
        namespace: 'shop',
        ownerReferences: [
          { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'checkout', controller: true },
        ],
      },
      spec: { replicas: 5 },
    },
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: { name: 'checkout', namespace: 'shop', generation: 12 },
      spec: {
        replicas: 4,
        strategy: { canary: { maxSurge: 2 } },
        template: { spec: { containers: [{ name: 'checkout', image: 'checkout:3' }] } },
      },
    },
    {
      kind: 'ReplicaSet',
      metadata: {
        name: 'search-77f',
        namespace: 'shop',
        ownerReferences: [
          { apiVersion: 'apps.kruise.io/v1alpha1', kind: 'CloneSet', name: 'search', controller: true },
        ],
      },
      spec: { replicas: 2 },
    },
  ];
  const lookup: OwnerLookup = async (kind, namespace, name) =>
    objects.find((o) => o.kind === kind && o.metadata.namespace === namespace && o.metadata.name === name) ??
    null;
  const podOwnedBy = (kind: string, name: string, namespace = 'shop') => ({
    metadata: { name: `${name}-x`, namespace, ownerReferences: [{ kind, name, controller: true }] },
  });

  it('ReplicaSet to Deployment', async () => {
    expect(await resolveWorkload(podOwnedBy('ReplicaSet', 'api-7d9f8b6c4'), lookup)).toMatchObject({
      kind: 'Deployment',
      name: 'api',
      generation: 9,
      replicas: 4,
      surge: 1,
    });
  });

  it('Job to CronJob', async () => {
    expect(await resolveWorkload(podOwnedBy('Job', 'nightly-2901234', 'ops'), lookup)).toMatchObject({
      kind: 'CronJob',
      name: 'nightly',
      namespace: 'ops',
      generation: 2,
    });
  });

  it('a ReplicaSet without a Deployment is the workload itself', async () => {
    expect(await resolveWorkload(podOwnedBy('ReplicaSet', 'orphan-5f6'), lookup)).toMatchObject({
      kind: 'ReplicaSet',
      name: 'orphan-5f6',
      replicas: 2,
    });
  });

  it('a bare pod, and a pod of an operator kind, are Pods', async () => {
    expect(await resolveWorkload({ metadata: { name: 'debug', namespace: 'shop' } }, lookup)).toMatchObject({
      kind: 'Pod',
      name: 'debug',
    });
    expect(await resolveWorkload(podOwnedBy('CloneSet', 'web'), lookup)).toMatchObject({
      kind: 'Pod',
      name: 'web-x',
      owner: { kind: 'CloneSet', name: 'web' },
    });
  });

  // Issue 11, class 2 (which workload): controllers that are not Deployments.
  it("ReplicaSet to an Argo Rollout, with the Rollout's template and its canary surge", async () => {
    const ref = await resolveWorkload(podOwnedBy('ReplicaSet', 'checkout-6c8d9'), lookup);
    expect(ref).toMatchObject({ kind: 'Rollout', name: 'checkout', generation: 12, replicas: 4, surge: 2 });
    expect(ref.podTemplate?.containers).toEqual([{ name: 'checkout', image: 'checkout:3' }]);
    expect(ref.owner).toBeUndefined();
  });

  it('a Rollout that cannot be read: the ReplicaSet, with the Rollout named as its owner (never patched as a bare ReplicaSet)', async () => {
    const noRollouts: OwnerLookup = async (kind, ns, name) =>
      kind === 'Rollout' ? null : lookup(kind, ns, name);
    expect(await resolveWorkload(podOwnedBy('ReplicaSet', 'checkout-6c8d9'), noRollouts)).toMatchObject({
      kind: 'ReplicaSet',
      name: 'checkout-6c8d9',
      owner: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'checkout' },
    });
  });

  it("a ReplicaSet of an operator's kind: the owner is named, the ReplicaSet is not the fix's target", async () => {
    expect(await resolveWorkload(podOwnedBy('ReplicaSet', 'search-77f'), lookup)).toMatchObject({
      kind: 'ReplicaSet',
      owner: { apiVersion: 'apps.kruise.io/v1alpha1', kind: 'CloneSet', name: 'search' },
    });
  });
});

describe('namespaceLimits picks the tightest', () => {
  it('LimitRange: the smallest Container max.memory across ranges, ignoring other types', () => {
    const ranges = [
      { metadata: { name: 'wide' }, spec: { limits: [{ type: 'Container', max: { memory: '8Gi' } }] } },
      {
        metadata: { name: 'tight' },
        spec: {
          limits: [
            { type: 'Pod', max: { memory: '512Mi' } },
            { type: 'Container', max: { memory: '3Gi' }, default: { memory: '512Mi' } },
          ],
        },
      },
      {
        metadata: { name: 'defaults-only' },
        spec: { limits: [{ type: 'Container', default: { memory: '256Mi' } }] },
      },
      { metadata: { name: 'broken' }, spec: { limits: [{ type: 'Container', max: { memory: 'lots' } }] } },
    ];
    expect(namespaceLimits(ranges, [])).toEqual({
      limitRangeMaxBytes: 3 * GiB,
      limitRangeName: 'tight',
      quotaHeadroomBytes: null,
      quotaName: null,
    });
  });

  it('ResourceQuota: the smallest limits.memory headroom (hard − used), never negative', () => {
    const quotas = [
      {
        metadata: { name: 'team' },
        spec: { hard: { 'limits.memory': '20Gi' } },
        status: { hard: { 'limits.memory': '20Gi' }, used: { 'limits.memory': '14Gi' } },
      },
      {
        metadata: { name: 'compute' },
        spec: { hard: { 'limits.memory': '10Gi' } },
        status: { hard: { 'limits.memory': '10Gi' }, used: { 'limits.memory': '7680Mi' } },
      },
      {
        metadata: { name: 'requests-only' },
        spec: { hard: { 'requests.memory': '1Gi' } },
        status: { used: { 'requests.memory': '1Gi' } },
      },
    ];
    expect(namespaceLimits([], quotas)).toMatchObject({
      quotaHeadroomBytes: 2.5 * GiB,
      quotaName: 'compute',
    });
    const over = [
      ...quotas,
      {
        metadata: { name: 'over' },
        spec: { hard: { 'limits.memory': '1Gi' } },
        status: { hard: { 'limits.memory': '1Gi' }, used: { 'limits.memory': '2Gi' } },
      },
    ];
    expect(namespaceLimits([], over)).toMatchObject({ quotaHeadroomBytes: 0, quotaName: 'over' });
  });

  it('a quota without status yet counts its spec.hard against nothing used', () => {
    expect(
      namespaceLimits([], [{ metadata: { name: 'new' }, spec: { hard: { 'limits.memory': '4Gi' } } }]),
    ).toMatchObject({ quotaHeadroomBytes: 4 * GiB, quotaName: 'new' });
  });

  it('nothing at all gives nulls', () => {
    expect(namespaceLimits([], [])).toEqual({
      limitRangeMaxBytes: null,
      limitRangeName: null,
      quotaHeadroomBytes: null,
      quotaName: null,
    });
  });
});

describe('toDate', () => {
  it('accepts ISO strings and Date objects, and nothing else', () => {
    expect(toDate('2023-05-06T21:03:57Z')?.getTime()).toBe(Date.parse('2023-05-06T21:03:57Z'));
    const d = new Date('2023-05-06T21:03:57Z');
    expect(toDate(d)).toBe(d);
    for (const bad of [null, undefined, '', 'yesterday', new Date('nope'), 1683407037000, {}])
      expect(toDate(bad)).toBeNull();
  });

  it('a termination with startedAt null (old kubelets) maps to null', () => {
    const s = podEvidence(
      {
        metadata: { name: 'p', namespace: 'n' },
        spec: { containers: [{ name: 'c' }] },
        status: {
          containerStatuses: [
            {
              name: 'c',
              restartCount: 2,
              lastState: {
                terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: null, finishedAt: null },
              },
            },
          ],
        },
      },
      [],
      noConfigMaps,
    ).statuses[0];
    expect(s?.lastTerminated).toEqual({
      reason: 'OOMKilled',
      exitCode: 137,
      startedAt: null,
      finishedAt: null,
    });
    expect(s?.state).toBe('unknown');
  });
});
