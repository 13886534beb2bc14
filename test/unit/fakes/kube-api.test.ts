// The fake API server, driven through the real @kubernetes/client-node client (and raw fetch where the
// wire bytes themselves are the point).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { FakeKubeApi, type KubeObject } from '../../fakes/kube-api';
import { applyMergePatch, applyStrategicMergePatch } from '../../fakes/strategic-merge';

const FIXTURES = path.join(__dirname, '../../fixtures/real');
const USER = 'system:serviceaccount:oomdoctor:oomdoctor';

function fixture(name: string): KubeObject {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as KubeObject;
}

const started: FakeKubeApi[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((f) => f.stop()));
});

async function startFake(objects: KubeObject[] = [], user?: string): Promise<FakeKubeApi> {
  const fake = await FakeKubeApi.start(user === undefined ? { objects } : { objects, user });
  started.push(fake);
  return fake;
}

function clients(fake: FakeKubeApi) {
  const kc = new KubeConfig();
  kc.loadFromString(fake.kubeconfigYaml());
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    batch: kc.makeApiClient(BatchV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
  };
}

/** Awaits a rejected client call and returns the ApiException with its Status body parsed. */
async function apiError(call: Promise<unknown>): Promise<{ code: number; status: KubeObject }> {
  const err: unknown = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiException);
  const ex = err as ApiException<unknown>;
  return { code: ex.code, status: typeof ex.body === 'string' ? (JSON.parse(ex.body) as KubeObject) : {} };
}

/** A raw request with the fake's token, for asserting bytes the typed client hides. */
async function raw(
  fake: FakeKubeApi,
  urlPath: string,
  init: RequestInit = {},
): Promise<{ status: number; type: string | null; json: KubeObject }> {
  const res = await fetch(`${fake.url}${urlPath}`, {
    ...init,
    headers: { Authorization: 'Bearer fake-token', ...(init.headers as Record<string, string> | undefined) },
  });
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    json: (await res.json()) as KubeObject,
  };
}

function pod(
  namespace: string,
  name: string,
  labels: Record<string, string>,
  nodeName: string,
  phase: string,
): KubeObject {
  return {
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: { nodeName, containers: [{ name: 'app', image: 'registry.example/app:1' }] },
    status: { phase },
  };
}

function deployment(): KubeObject {
  return {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: { name: 'api', namespace: 'shop', labels: { app: 'api' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'api' } },
      template: {
        metadata: { labels: { app: 'api' } },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'registry.example/api:1.4',
              env: [
                { name: 'JAVA_TOOL_OPTIONS', value: '-XX:MaxRAMPercentage=75' },
                { name: 'LOG_LEVEL', value: 'info' },
              ],
              resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } },
            },
            { name: 'envoy', image: 'envoyproxy/envoy:v1.30', resources: { limits: { memory: '128Mi' } } },
          ],
        },
      },
    },
    status: { observedGeneration: 1, replicas: 2, readyReplicas: 2 },
  };
}

const SMP = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describe('reading objects', () => {
  test('serves the real OOMKilled kubeshark pod with kind/apiVersion, keeping its uid and giving it a fresh resourceVersion', async () => {
    const kubeshark = { kind: 'Pod', ...fixture('pod-oomkilled-kubeshark-worker.json') };
    const fake = await startFake([kubeshark]);
    const { core } = clients(fake);

    const got = await core.readNamespacedPod({
      name: 'kubeshark-worker-daemon-set-hvn25',
      namespace: 'kubeshark',
    });
    expect(got.kind).toBe('Pod');
    expect(got.apiVersion).toBe('v1');
    expect(got.metadata?.uid).toBe('465142ab-e5aa-4203-a2c4-8a53763b3db8');
    expect(got.metadata?.ownerReferences?.[0]?.kind).toBe('DaemonSet');
    expect(got.spec?.containers[0]?.resources?.limits?.memory).toBe('1Gi');
    const terminated = got.status?.containerStatuses?.[0]?.lastState?.terminated;
    expect(terminated?.reason).toBe('OOMKilled');
    expect(terminated?.exitCode).toBe(137);

    const wire = await raw(fake, '/api/v1/namespaces/kubeshark/pods/kubeshark-worker-daemon-set-hvn25');
    expect(wire.type).toBe('application/json');
    expect(Object.keys(wire.json).slice(0, 2)).toEqual(['kind', 'apiVersion']);
    expect(wire.json.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(wire.json.metadata.resourceVersion).not.toBe('20199'); // the store's own version, not the fixture's
    expect(wire.json.metadata.creationTimestamp).toBe('2023-05-06T16:54:36Z');

    expect(fake.requests[0]).toMatchObject({
      method: 'GET',
      path: '/api/v1/namespaces/kubeshark/pods/kubeshark-worker-daemon-set-hvn25',
      query: {},
      headers: { authorization: 'Bearer fake-token', accept: 'application/json, */*;q=0.8' },
    });
  });

  test('serves a real Node, cluster-scoped, and creates the namespaces of namespaced objects', async () => {
    const node: KubeObject = { kind: 'Node', ...fixture('node-openshift-worker-memorypressure-false.json') };
    const fake = await startFake([node, pod('shop', 'api-1', { app: 'api' }, 'n1', 'Running')]);
    const { core } = clients(fake);
    const nodeName = node.metadata.name as string;

    const got = await core.readNode({ name: nodeName });
    expect(got.kind).toBe('Node');
    expect(got.metadata?.namespace).toBeUndefined();
    expect(got.status?.conditions?.find((c) => c.type === 'MemoryPressure')?.status).toBe('False');

    const nodes = await core.listNode();
    expect(nodes.items.map((n) => n.metadata?.name)).toEqual([nodeName]);

    const namespaces = await core.listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toEqual(['shop']);
    expect((await core.readNamespace({ name: 'shop' })).status?.phase).toBe('Active');
  });

  test('serves apps and batch workloads, with generation 1 and the right apiVersion', async () => {
    const fake = await startFake([
      deployment(),
      {
        kind: 'ReplicaSet',
        metadata: { name: 'api-7d9', namespace: 'shop', labels: { app: 'api', 'pod-template-hash': '7d9' } },
        spec: {},
      },
      {
        kind: 'CronJob',
        metadata: { name: 'nightly', namespace: 'batch' },
        spec: {
          schedule: '0 3 * * *',
          jobTemplate: { spec: { template: { spec: { containers: [{ name: 'run', image: 'busybox' }] } } } },
        },
      },
    ]);
    const { apps, batch } = clients(fake);

    const dep = await apps.readNamespacedDeployment({ name: 'api', namespace: 'shop' });
    expect(dep.apiVersion).toBe('apps/v1');
    expect(dep.metadata?.generation).toBe(1);
    const rs = await apps.listNamespacedReplicaSet({ namespace: 'shop', labelSelector: 'app=api' });
    expect(rs.items.map((r) => r.metadata?.name)).toEqual(['api-7d9']);
    const cj = await batch.readNamespacedCronJob({ name: 'nightly', namespace: 'batch' });
    expect(cj.apiVersion).toBe('batch/v1');
    expect(cj.spec?.schedule).toBe('0 3 * * *');
    expect((await apps.listDeploymentForAllNamespaces()).items).toHaveLength(1);
  });

  test('put replaces and remove deletes; both are seen by the next request', async () => {
    const fake = await startFake([pod('shop', 'api-1', { app: 'api' }, 'n1', 'Running')]);
    const { core } = clients(fake);
    const before = await core.readNamespacedPod({ name: 'api-1', namespace: 'shop' });

    fake.put('Pod', pod('shop', 'api-1', { app: 'api' }, 'n1', 'Failed'));
    const after = await core.readNamespacedPod({ name: 'api-1', namespace: 'shop' });
    expect(after.status?.phase).toBe('Failed');
    expect(after.metadata?.uid).toBe(before.metadata?.uid); // a replace keeps identity
    expect(Number(after.metadata?.resourceVersion)).toBeGreaterThan(Number(before.metadata?.resourceVersion));

    fake.remove('Pod', 'shop', 'api-1');
    expect((await apiError(core.readNamespacedPod({ name: 'api-1', namespace: 'shop' }))).code).toBe(404);
  });

  test('rejects fixtures it cannot place, without leaking a server', async () => {
    await expect(
      FakeKubeApi.start({ objects: [{ metadata: { name: 'x', namespace: 'y' } }] }),
    ).rejects.toThrow(/has no kind/);
    await expect(FakeKubeApi.start({ objects: [{ kind: 'Pod', metadata: { name: 'x' } }] })).rejects.toThrow(
      /without metadata.namespace/,
    );
    const fake = await startFake();
    expect(() =>
      fake.put('Deployment', { kind: 'ReplicaSet', metadata: { name: 'a', namespace: 'b' } }),
    ).toThrow(/does not match/);
    expect(() =>
      fake.put('Event', { apiVersion: 'events.k8s.io/v1', metadata: { name: 'a', namespace: 'b' } }),
    ).toThrow(/must be apiVersion "v1"/);
    expect(() => fake.put('Service', { metadata: { name: 'a', namespace: 'b' } })).toThrow(
      /unknown kind "Service"/,
    );
  });
});

describe('lists', () => {
  const pods = [
    pod('shop', 'api-1', { app: 'api', tier: 'web' }, 'n1', 'Running'),
    pod('shop', 'api-2', { app: 'api' }, 'n2', 'Failed'),
    pod('shop', 'worker-1', { app: 'worker' }, 'n1', 'Running'),
    pod('blog', 'api-1', { app: 'api' }, 'n1', 'Running'),
  ];

  test('answer the real envelope: PodList, resourceVersion, items without kind/apiVersion, sorted by namespace/name', async () => {
    const fake = await startFake(pods);
    const wire = await raw(fake, '/api/v1/pods');
    expect(wire.json).toMatchObject({
      kind: 'PodList',
      apiVersion: 'v1',
      metadata: { resourceVersion: expect.stringMatching(/^\d+$/) },
    });
    const items = wire.json.items as KubeObject[];
    expect(items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`)).toEqual([
      'blog/api-1',
      'shop/api-1',
      'shop/api-2',
      'shop/worker-1',
    ]);
    expect(items.every((i) => !('kind' in i) && !('apiVersion' in i))).toBe(true);
  });

  test('filter by label selector (equality, inequality, set, existence) and field selector', async () => {
    const fake = await startFake(pods);
    const { core } = clients(fake);
    const names = async (labelSelector?: string, fieldSelector?: string) =>
      (
        await core.listNamespacedPod({
          namespace: 'shop',
          ...(labelSelector ? { labelSelector } : {}),
          ...(fieldSelector ? { fieldSelector } : {}),
        })
      ).items.map((p) => p.metadata?.name);

    expect(await names('app=api')).toEqual(['api-1', 'api-2']);
    expect(await names('app!=api')).toEqual(['worker-1']);
    expect(await names('app in (api,worker),tier')).toEqual(['api-1']);
    expect(await names('!tier,app notin (worker)')).toEqual(['api-2']);
    expect(await names(undefined, 'spec.nodeName=n1')).toEqual(['api-1', 'worker-1']);
    expect(await names('app=api', 'spec.nodeName=n1,status.phase!=Failed')).toEqual(['api-1']);
    expect(await names(undefined, 'metadata.name==api-2')).toEqual(['api-2']);

    const everywhere = await core.listPodForAllNamespaces({ fieldSelector: 'metadata.namespace!=shop' });
    expect(everywhere.items.map((p) => p.metadata?.namespace)).toEqual(['blog']);
  });

  test('reject field labels the real server does not support for the resource (400)', async () => {
    const fake = await startFake(pods);
    const { core } = clients(fake);
    const { code, status } = await apiError(
      core.listNamespacedPod({ namespace: 'shop', fieldSelector: 'metadata.labels.app=api' }),
    );
    expect(code).toBe(400);
    expect(status).toMatchObject({
      kind: 'Status',
      reason: 'BadRequest',
      message: 'field label not supported: metadata.labels.app',
    });
  });

  test('page with limit and continue', async () => {
    const fake = await startFake(pods);
    const { core } = clients(fake);
    const first = await core.listPodForAllNamespaces({ limit: 3 });
    expect(first.items.map((p) => p.metadata?.name)).toEqual(['api-1', 'api-1', 'api-2']);
    expect(first.metadata?.remainingItemCount).toBe(1);
    const token = first.metadata?._continue; // client-node renames the wire's metadata.continue
    expect(token).toEqual(expect.any(String));
    const second = await core.listPodForAllNamespaces({ limit: 3, _continue: token! });
    expect(second.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`)).toEqual([
      'shop/worker-1',
    ]);
    expect(second.metadata?._continue).toBeUndefined();
    expect(fake.requests[1]?.query).toEqual({ limit: '3', continue: token });
  });
});

describe('events', () => {
  test('selects real pod events by involvedObject.name and node events by involvedObject.kind', async () => {
    const unhealthy = { kind: 'Event', ...fixture('event-unhealthy-liveness-probe-failed.json') };
    const killing = { kind: 'Event', ...fixture('event-killing-liveness-probe-failed.json') };
    const nodeOom = { kind: 'Event', ...fixture('event-oomkilling-node-problem-detector.json') };
    const fake = await startFake([unhealthy, killing, nodeOom]);
    const { core } = clients(fake);

    const forPod = await core.listNamespacedEvent({
      namespace: 'probes',
      fieldSelector: 'involvedObject.name=app-target-6664868868-b84vm,involvedObject.kind=Pod',
    });
    expect(forPod.items.map((e) => e.reason).sort()).toEqual(['Killing', 'Unhealthy']);

    const warnings = await core.listNamespacedEvent({ namespace: 'probes', fieldSelector: 'type=Warning' });
    expect(warnings.items.map((e) => e.message)).toEqual([
      'Liveness probe failed: HTTP probe failed with statuscode: 500',
    ]);

    const nodeEvents = await core.listEventForAllNamespaces({
      fieldSelector: 'involvedObject.kind=Node,reason=OOMKilling',
    });
    expect(nodeEvents.items).toHaveLength(1);
    expect(nodeEvents.items[0]?.metadata.namespace).toBe('default');
    expect(nodeEvents.items[0]?.source?.component).toBe('kernel-monitor');

    const bySource = await core.listEventForAllNamespaces({ fieldSelector: 'source=kubelet' });
    expect(bySource.items).toHaveLength(2);
  });
});

describe('errors', () => {
  test('404 is an ApiException carrying the real Status text', async () => {
    const fake = await startFake();
    const { core, apps } = clients(fake);
    const { code, status } = await apiError(core.readNamespacedPod({ name: 'api-1', namespace: 'shop' }));
    expect(code).toBe(404);
    expect(status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "api-1" not found',
      reason: 'NotFound',
      details: { name: 'api-1', kind: 'pods' },
      code: 404,
    });
    const dep = await apiError(apps.readNamespacedDeployment({ name: 'api', namespace: 'shop' }));
    expect(dep.status.message).toBe('deployments.apps "api" not found');
    expect(dep.status.details).toEqual({ name: 'api', group: 'apps', kind: 'deployments' });
  });

  test('403 is worded as the real API words it, per verb, scope and group', async () => {
    const fake = await startFake([pod('shop', 'api-1', { app: 'api' }, 'n1', 'Running'), deployment()]);
    const { core, apps } = clients(fake);
    fake.forbid({ verb: 'get', resource: 'pods', namespace: 'shop' });
    fake.forbid({ verb: 'list', resource: 'nodes' });
    fake.forbid({ verb: 'list', resource: 'deployments', namespace: 'shop' });

    const get = await apiError(core.readNamespacedPod({ name: 'api-1', namespace: 'shop' }));
    expect(get.code).toBe(403);
    expect(get.status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `pods "api-1" is forbidden: User "${USER}" cannot get resource "pods" in API group "" in the namespace "shop"`,
      reason: 'Forbidden',
      details: { name: 'api-1', kind: 'pods' },
      code: 403,
    });
    // Denied even when the object does not exist: RBAC runs before the lookup.
    expect((await apiError(core.readNamespacedPod({ name: 'ghost', namespace: 'shop' }))).code).toBe(403);
    // Other verbs and namespaces stay allowed.
    expect((await core.listNamespacedPod({ namespace: 'shop' })).items).toHaveLength(1);
    expect((await apiError(core.readNamespacedPod({ name: 'api-1', namespace: 'blog' }))).code).toBe(404);

    const nodes = await apiError(core.listNode());
    expect(nodes.status.message).toBe(
      `nodes is forbidden: User "${USER}" cannot list resource "nodes" in API group "" at the cluster scope`,
    );
    expect(nodes.status.details).toEqual({ kind: 'nodes' });

    const deps = await apiError(apps.listNamespacedDeployment({ namespace: 'shop' }));
    expect(deps.status.message).toBe(
      `deployments.apps is forbidden: User "${USER}" cannot list resource "deployments" in API group "apps" in the namespace "shop"`,
    );
    expect(deps.status.details).toEqual({ group: 'apps', kind: 'deployments' });
    // A namespace denial also denies the cluster-wide list.
    expect((await apiError(apps.listDeploymentForAllNamespaces())).code).toBe(403);
  });

  test('403 on metrics names the metrics.k8s.io group and leaves core pods alone', async () => {
    const fake = await startFake(
      [pod('shop', 'api-1', { app: 'api' }, 'n1', 'Running')],
      'alice@example.com',
    );
    const { core, custom } = clients(fake);
    fake.forbid({ verb: 'get', resource: 'pods.metrics.k8s.io' });
    const { code, status } = await apiError(
      custom.getNamespacedCustomObject({
        group: 'metrics.k8s.io',
        version: 'v1beta1',
        namespace: 'shop',
        plural: 'pods',
        name: 'api-1',
      }),
    );
    expect(code).toBe(403);
    expect(status.message).toBe(
      'pods.metrics.k8s.io "api-1" is forbidden: User "alice@example.com" cannot get resource "pods" in API group "metrics.k8s.io" in the namespace "shop"',
    );
    expect(status.details).toEqual({ name: 'api-1', group: 'metrics.k8s.io', kind: 'pods' });
    expect((await core.readNamespacedPod({ name: 'api-1', namespace: 'shop' })).metadata?.name).toBe('api-1');
  });

  test('401 for a wrong token; client-node drops the body of a 401, so the Status is checked on the wire', async () => {
    const fake = await startFake([pod('shop', 'api-1', { app: 'api' }, 'n1', 'Running')]);
    const kc = new KubeConfig();
    kc.loadFromString(fake.kubeconfigYaml().replace('token: fake-token', 'token: stolen-token'));
    const err = await kc
      .makeApiClient(CoreV1Api)
      .readNamespacedPod({ name: 'api-1', namespace: 'shop' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiException);
    expect((err as ApiException<unknown>).code).toBe(401);

    const res = await fetch(`${fake.url}/api/v1/namespaces/shop/pods/api-1`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
  });

  test('failNext answers the next requests with a Status, then recovers', async () => {
    const fake = await startFake([pod('shop', 'api-1', { app: 'api' }, 'n1', 'Running')]);
    const { core } = clients(fake);
    fake.failNext(503);
    fake.failNext(500, 2);
    const outage = await apiError(core.readNamespacedPod({ name: 'api-1', namespace: 'shop' }));
    expect(outage.code).toBe(503);
    expect(outage.status).toMatchObject({ reason: 'ServiceUnavailable', code: 503 });
    for (let i = 0; i < 2; i++) {
      const internal = await apiError(core.listNamespacedPod({ namespace: 'shop' }));
      expect(internal.status).toMatchObject({ reason: 'InternalError', code: 500 });
    }
    expect((await core.readNamespacedPod({ name: 'api-1', namespace: 'shop' })).metadata?.name).toBe('api-1');
    expect(fake.requests).toHaveLength(4); // failed requests are recorded too
  });

  test('unknown paths are 404 and unsupported verbs on known paths are 405, both with Status bodies', async () => {
    const fake = await startFake([pod('shop', 'api-1', { app: 'api' }, 'n1', 'Running')]);
    const unknown = await raw(fake, '/apis/example.com/v1/widgets');
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({
      kind: 'Status',
      reason: 'NotFound',
      message: 'the server could not find the requested resource',
    });
    expect((await raw(fake, '/api/v1/namespaces/shop/pods/api-1/log')).status).toBe(404);

    const del = await raw(fake, '/api/v1/namespaces/shop/pods/api-1', { method: 'DELETE' });
    expect(del.status).toBe(405);
    expect(del.json).toMatchObject({ kind: 'Status', reason: 'MethodNotAllowed', code: 405 });
    expect(
      (
        await raw(fake, '/api/v1/nodes/n1', {
          method: 'PATCH',
          body: '{}',
          headers: { 'Content-Type': PatchStrategy.MergePatch },
        })
      ).status,
    ).toBe(405);
  });
});

describe('patching', () => {
  test('a strategic-merge patch of one container memory limit merges containers by name, bumps generation and resourceVersion', async () => {
    const fake = await startFake([deployment()]);
    const { apps } = clients(fake);
    const before = await apps.readNamespacedDeployment({ name: 'api', namespace: 'shop' });

    const body = {
      spec: {
        template: { spec: { containers: [{ name: 'app', resources: { limits: { memory: '1Gi' } } }] } },
      },
    };
    const patched = await apps.patchNamespacedDeployment(
      { name: 'api', namespace: 'shop', body, fieldManager: 'oomdoctor' },
      SMP,
    );

    const containers = patched.spec?.template.spec?.containers ?? [];
    expect(containers.map((c) => c.name)).toEqual(['app', 'envoy']); // the sidecar survives
    expect(containers[0]?.resources).toEqual({
      requests: { cpu: '100m', memory: '256Mi' },
      limits: { memory: '1Gi' },
    });
    expect(containers[0]?.image).toBe('registry.example/api:1.4');
    expect(containers[0]?.env?.map((e) => e.name)).toEqual(['JAVA_TOOL_OPTIONS', 'LOG_LEVEL']);
    expect(patched.metadata?.generation).toBe(2);
    expect(patched.status?.observedGeneration).toBe(1); // the controller has not caught up
    expect(Number(patched.metadata?.resourceVersion)).toBeGreaterThan(
      Number(before.metadata?.resourceVersion),
    );
    expect(patched.metadata?.managedFields?.map((m) => m.manager)).toEqual(['oomdoctor']);

    const reread = await apps.readNamespacedDeployment({ name: 'api', namespace: 'shop' });
    expect(reread.spec?.template.spec?.containers[0]?.resources?.limits?.memory).toBe('1Gi');
    expect(reread.metadata?.resourceVersion).toBe(patched.metadata?.resourceVersion);

    const request = fake.requests.find((r) => r.method === 'PATCH');
    expect(request).toMatchObject({
      path: '/apis/apps/v1/namespaces/shop/deployments/api',
      query: { fieldManager: 'oomdoctor' },
      headers: { 'content-type': 'application/strategic-merge-patch+json' },
      body,
    });
  });

  test('env entries merge by name and null deletes a key', async () => {
    const fake = await startFake([deployment()]);
    const { apps } = clients(fake);
    const body = {
      metadata: { labels: { app: null, 'oomdoctor/fixed': 'true' } },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'app',
                env: [
                  { name: 'JAVA_TOOL_OPTIONS', value: '-XX:MaxRAMPercentage=60' },
                  { name: 'GOMEMLIMIT', value: '900MiB' },
                ],
              },
            ],
          },
        },
      },
    };
    const patched = await apps.patchNamespacedDeployment({ name: 'api', namespace: 'shop', body }, SMP);
    expect(patched.metadata?.labels).toEqual({ 'oomdoctor/fixed': 'true' });
    expect(patched.spec?.template.spec?.containers[0]?.env).toEqual([
      { name: 'JAVA_TOOL_OPTIONS', value: '-XX:MaxRAMPercentage=60' },
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'GOMEMLIMIT', value: '900MiB' },
    ]);
  });

  test('a merge patch replaces lists wholesale, as the real server does', async () => {
    const fake = await startFake([deployment()]);
    const { apps } = clients(fake);
    const body = {
      spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.example/api:1.5' }] } } },
    };
    const patched = await apps.patchNamespacedDeployment({ name: 'api', namespace: 'shop', body }, MERGE);
    expect(patched.spec?.template.spec?.containers).toEqual([
      { name: 'app', image: 'registry.example/api:1.5' },
    ]);
  });

  test('dryRun=All answers the would-be object and changes nothing', async () => {
    const fake = await startFake([deployment()]);
    const { apps } = clients(fake);
    const before = await apps.readNamespacedDeployment({ name: 'api', namespace: 'shop' });
    const body = {
      spec: {
        template: { spec: { containers: [{ name: 'app', resources: { limits: { memory: '2Gi' } } }] } },
      },
    };

    const wouldBe = await apps.patchNamespacedDeployment(
      { name: 'api', namespace: 'shop', body, dryRun: 'All' },
      SMP,
    );
    expect(wouldBe.spec?.template.spec?.containers[0]?.resources?.limits?.memory).toBe('2Gi');
    expect(wouldBe.metadata?.generation).toBe(2);

    const after = await apps.readNamespacedDeployment({ name: 'api', namespace: 'shop' });
    expect(after.spec?.template.spec?.containers[0]?.resources?.limits?.memory).toBe('512Mi');
    expect(after.metadata?.generation).toBe(1);
    expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    expect(fake.requests.find((r) => r.method === 'PATCH')?.query).toEqual({ dryRun: 'All' });
  });

  test('status and metadata-only changes do not bump generation; a no-op patch writes nothing', async () => {
    const fake = await startFake([deployment()]);
    const { apps } = clients(fake);
    const labelled = await apps.patchNamespacedDeployment(
      {
        name: 'api',
        namespace: 'shop',
        body: { metadata: { annotations: { note: 'x' } }, status: { replicas: 99 } },
      },
      MERGE,
    );
    expect(labelled.metadata?.generation).toBe(1);
    expect(labelled.status?.replicas).toBe(2); // status is a subresource
    const again = await apps.patchNamespacedDeployment(
      { name: 'api', namespace: 'shop', body: { metadata: { annotations: { note: 'x' } } } },
      MERGE,
    );
    expect(again.metadata?.resourceVersion).toBe(labelled.metadata?.resourceVersion);
  });

  test('validates like the real server: request above limit (422), malformed quantity, stale resourceVersion (409)', async () => {
    const fake = await startFake([deployment()]);
    const { apps } = clients(fake);
    const limit = (memory: string) => ({
      spec: { template: { spec: { containers: [{ name: 'app', resources: { limits: { memory } } }] } } },
    });

    const tooSmall = await apiError(
      apps.patchNamespacedDeployment({ name: 'api', namespace: 'shop', body: limit('128Mi') }, SMP),
    );
    expect(tooSmall.code).toBe(422);
    expect(tooSmall.status).toMatchObject({
      reason: 'Invalid',
      message:
        'Deployment.apps "api" is invalid: spec.template.spec.containers[0].resources.requests: Invalid value: "256Mi": must be less than or equal to memory limit of 128Mi',
      details: {
        name: 'api',
        group: 'apps',
        kind: 'Deployment',
        causes: [
          { reason: 'FieldValueInvalid', field: 'spec.template.spec.containers[0].resources.requests' },
        ],
      },
    });

    const malformed = await apiError(
      apps.patchNamespacedDeployment({ name: 'api', namespace: 'shop', body: limit('1GB') }, MERGE),
    );
    expect(malformed.code).toBe(400);
    expect(malformed.status.message).toMatch(
      /^Deployment in version "v1" cannot be handled as a Deployment: quantities must match/,
    );
    expect(
      (
        await apiError(
          apps.patchNamespacedDeployment({ name: 'api', namespace: 'shop', body: limit('1GB') }, SMP),
        )
      ).code,
    ).toBe(422);

    // Another writer updates the object after we read it: our read's resourceVersion is now stale.
    const read = await apps.readNamespacedDeployment({ name: 'api', namespace: 'shop' });
    fake.put('Deployment', {
      ...deployment(),
      metadata: { ...deployment().metadata, annotations: { touched: 'yes' } },
    });
    const stale = await apiError(
      apps.patchNamespacedDeployment(
        {
          name: 'api',
          namespace: 'shop',
          body: { metadata: { resourceVersion: read.metadata?.resourceVersion }, spec: { replicas: 3 } },
        },
        SMP,
      ),
    );
    expect(stale.code).toBe(409);
    expect(stale.status.message).toBe(
      'Operation cannot be fulfilled on deployments.apps "api": the object has been modified; please apply your changes to the latest version and try again',
    );
    expect(
      (await apps.readNamespacedDeployment({ name: 'api', namespace: 'shop' })).metadata?.generation,
    ).toBe(1);
  });

  test("a pod's resources are immutable (422) but its image and labels may change", async () => {
    const fake = await startFake([pod('shop', 'api-1', { app: 'api' }, 'n1', 'Running')]);
    const { core } = clients(fake);
    const resize = await apiError(
      core.patchNamespacedPod(
        {
          name: 'api-1',
          namespace: 'shop',
          body: { spec: { containers: [{ name: 'app', resources: { limits: { memory: '1Gi' } } }] } },
        },
        SMP,
      ),
    );
    expect(resize.code).toBe(422);
    expect(resize.status.message).toMatch(
      /^Pod "api-1" is invalid: spec: Forbidden: pod updates may not change fields other than/,
    );

    const ok = await core.patchNamespacedPod(
      {
        name: 'api-1',
        namespace: 'shop',
        body: {
          metadata: { labels: { diagnosed: 'true' } },
          spec: { containers: [{ name: 'app', image: 'registry.example/app:2' }] },
        },
      },
      SMP,
    );
    expect(ok.spec?.containers[0]?.image).toBe('registry.example/app:2');
    expect(ok.metadata?.labels).toEqual({ app: 'api', diagnosed: 'true' });
  });

  test("client-node's default patch Content-Type is JSON Patch, which the fake answers with 415", async () => {
    const fake = await startFake([deployment()]);
    const { apps } = clients(fake);
    const { code, status } = await apiError(
      apps.patchNamespacedDeployment({ name: 'api', namespace: 'shop', body: { spec: { replicas: 3 } } }),
    );
    expect(code).toBe(415);
    expect(status.reason).toBe('UnsupportedMediaType');
    expect(fake.requests[0]?.headers['content-type']).toBe('application/json-patch+json');
  });

  test('patch is denied by a patch rule, and CronJob job templates merge containers too', async () => {
    const cron: KubeObject = {
      kind: 'CronJob',
      metadata: { name: 'nightly', namespace: 'batch' },
      spec: {
        schedule: '0 3 * * *',
        jobTemplate: {
          spec: {
            template: {
              spec: {
                containers: [
                  { name: 'run', image: 'busybox' },
                  { name: 'side', image: 'x' },
                ],
              },
            },
          },
        },
      },
    };
    const fake = await startFake([cron, deployment()]);
    const { apps, batch } = clients(fake);
    fake.forbid({ verb: 'patch', resource: 'deployments' });
    const denied = await apiError(
      apps.patchNamespacedDeployment(
        { name: 'api', namespace: 'shop', body: { spec: { replicas: 3 } } },
        SMP,
      ),
    );
    expect(denied.status.message).toBe(
      `deployments.apps "api" is forbidden: User "${USER}" cannot patch resource "deployments" in API group "apps" in the namespace "shop"`,
    );

    const body = {
      spec: {
        jobTemplate: {
          spec: {
            template: { spec: { containers: [{ name: 'run', resources: { limits: { memory: '300Mi' } } }] } },
          },
        },
      },
    };
    const patched = await batch.patchNamespacedCronJob({ name: 'nightly', namespace: 'batch', body }, SMP);
    const containers = patched.spec?.jobTemplate.spec?.template.spec?.containers ?? [];
    expect(containers.map((c) => [c.name, c.resources?.limits?.memory])).toEqual([
      ['run', '300Mi'],
      ['side', undefined],
    ]);
    expect(patched.metadata?.generation).toBe(2);
  });
});

describe('creating', () => {
  test('POST creates (201), refuses duplicates (409) and honours create denials', async () => {
    const fake = await startFake([pod('shop', 'api-1', { app: 'api' }, 'n1', 'Running')]);
    const { core } = clients(fake);
    const event = {
      metadata: { name: 'api-1.oomdoctor', namespace: 'shop' },
      involvedObject: { kind: 'Pod', namespace: 'shop', name: 'api-1' },
      reason: 'OOMDiagnosed',
      message: 'heap limit above container limit',
      type: 'Warning',
    };
    const created = await core.createNamespacedEvent({ namespace: 'shop', body: event });
    expect(created.metadata.uid).toEqual(expect.any(String));
    expect(
      (await core.listNamespacedEvent({ namespace: 'shop', fieldSelector: 'reason=OOMDiagnosed' })).items,
    ).toHaveLength(1);

    const dup = await apiError(core.createNamespacedEvent({ namespace: 'shop', body: event }));
    expect(dup.code).toBe(409);
    expect(dup.status).toMatchObject({
      reason: 'AlreadyExists',
      message: 'events "api-1.oomdoctor" already exists',
    });

    fake.forbid({ verb: 'create', resource: 'events' });
    const denied = await apiError(
      core.createNamespacedEvent({
        namespace: 'shop',
        body: { ...event, metadata: { name: 'other', namespace: 'shop' } },
      }),
    );
    expect(denied.status.message).toBe(
      `events is forbidden: User "${USER}" cannot create resource "events" in API group "" in the namespace "shop"`,
    );
  });
});

describe('metrics.k8s.io', () => {
  test('serves real PodMetrics through CustomObjectsApi, and the metrics-server NotFound wording', async () => {
    const metrics = fixture('metrics-k8s-io-podmetrics-kube-scheduler-minikube.json');
    const fake = await startFake([
      metrics,
      pod('kube-system', 'etcd-minikube', { component: 'etcd' }, 'minikube', 'Running'),
    ]);
    const { custom } = clients(fake);
    const get = (name: string) =>
      custom.getNamespacedCustomObject({
        group: 'metrics.k8s.io',
        version: 'v1beta1',
        namespace: 'kube-system',
        plural: 'pods',
        name,
      });

    const got = (await get('kube-scheduler-minikube')) as KubeObject;
    expect(got.kind).toBe('PodMetrics');
    expect(got.apiVersion).toBe('metrics.k8s.io/v1beta1');
    expect(got.containers).toEqual([
      { name: 'kube-scheduler', usage: { cpu: '9559630n', memory: '22244Ki' } },
    ]);
    expect(got.metadata.resourceVersion).toBeUndefined(); // metrics-server computes these, it does not store them
    expect(fake.requests[0]?.path).toBe(
      '/apis/metrics.k8s.io/v1beta1/namespaces/kube-system/pods/kube-scheduler-minikube',
    );

    const noMetrics = await apiError(get('etcd-minikube'));
    expect(noMetrics.status.message).toBe('podmetrics.metrics.k8s.io "kube-system/etcd-minikube" not found');
    const noPod = await apiError(get('ghost'));
    expect(noPod.status.message).toBe('pods "kube-system/ghost" not found');

    const list = (await custom.listNamespacedCustomObject({
      group: 'metrics.k8s.io',
      version: 'v1beta1',
      namespace: 'kube-system',
      plural: 'pods',
    })) as KubeObject;
    expect(list.kind).toBe('PodMetricsList');
    expect(list.items).toHaveLength(1);
  });
});

describe('kubeconfig and lifecycle', () => {
  test('writeKubeconfig writes a loadable file with the named current context', async () => {
    const fake = await startFake([pod('shop', 'api-1', { app: 'api' }, 'n1', 'Running')]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-kube-'));
    try {
      const file = path.join(dir, 'config');
      fake.writeKubeconfig(file, 'oom-test');
      const kc = new KubeConfig();
      kc.loadFromFile(file);
      expect(kc.getCurrentContext()).toBe('oom-test');
      expect(kc.getCurrentCluster()?.server).toBe(fake.url);
      expect(kc.getCurrentCluster()?.skipTLSVerify).toBe(true);
      expect(
        (await kc.makeApiClient(CoreV1Api).readNamespacedPod({ name: 'api-1', namespace: 'shop' })).metadata
          ?.name,
      ).toBe('api-1');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('stop closes the port and is idempotent', async () => {
    const fake = await FakeKubeApi.start();
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await fetch(`${fake.url}/api/v1/nodes`, { headers: { Authorization: 'Bearer fake-token' } });
    await fake.stop();
    await fake.stop();
    await expect(fetch(`${fake.url}/api/v1/nodes`)).rejects.toThrow();
  });
});

describe('strategic-merge helpers', () => {
  test('$patch: delete removes a list element by its merge key; unknown lists are replaced', () => {
    const original = {
      spec: { containers: [{ name: 'a', args: ['x'] }, { name: 'b' }], tolerations: [{ key: 'k' }] },
    };
    const out = applyStrategicMergePatch(original, {
      spec: {
        containers: [
          { name: 'b', $patch: 'delete' },
          { name: 'a', args: ['y'] },
        ],
        tolerations: [{ key: 'z' }],
      },
    });
    expect(out).toEqual({ spec: { containers: [{ name: 'a', args: ['y'] }], tolerations: [{ key: 'z' }] } });
    expect(original.spec.containers).toHaveLength(2); // inputs untouched
  });

  test('JSON merge patch follows RFC 7386', () => {
    expect(applyMergePatch({ a: { b: 1, c: 2 }, d: [1] }, { a: { b: null, e: 3 }, d: [2] })).toEqual({
      a: { c: 2, e: 3 },
      d: [2],
    });
  });
});

describe('what Apply needs: status, impersonation, access reviews, admission refusals', () => {
  test('setStatus changes the status and resourceVersion, not the generation', async () => {
    const fake = await startFake([deployment()]);
    const { apps } = clients(fake);
    const before = await apps.readNamespacedDeployment({ name: 'api', namespace: 'shop' });
    fake.setStatus('Deployment', 'shop', 'api', {
      observedGeneration: 1,
      updatedReplicas: 2,
      availableReplicas: 2,
      replicas: 2,
    });
    const after = await apps.readNamespacedDeployment({ name: 'api', namespace: 'shop' });
    expect(after.status).toMatchObject({ observedGeneration: 1, updatedReplicas: 2, availableReplicas: 2 });
    expect(after.metadata?.generation).toBe(before.metadata?.generation);
    expect(Number(after.metadata?.resourceVersion)).toBeGreaterThan(Number(before.metadata?.resourceVersion));
    expect(fake.get('Deployment', 'shop', 'api')?.status?.updatedReplicas).toBe(2);
    expect(() => fake.setStatus('Deployment', 'shop', 'nope', {})).toThrow(/no Deployment/);
  });

  test('records each Impersonate-Group line apart, and applies rules to the impersonated user', async () => {
    const fake = await startFake([deployment()]);
    fake.forbid({ verb: 'patch', resource: 'deployments', user: 'bob@example.com' });
    const patch = JSON.stringify({ spec: { replicas: 3 } });
    // fetch joins repeated headers; node:http keeps them apart, as Go's server sees them.
    const http = await import('node:http');
    const send = (user: string, groups: string[]) =>
      new Promise<{ status: number; body: KubeObject }>((resolve, reject) => {
        const req = http.request(`${fake.url}/apis/apps/v1/namespaces/shop/deployments/api`, {
          method: 'PATCH',
          headers: {
            Authorization: 'Bearer fake-token',
            'Content-Type': 'application/strategic-merge-patch+json',
            'Impersonate-User': user,
            'Impersonate-Group': groups,
          },
        });
        req.on('response', (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as KubeObject }));
        });
        req.on('error', reject);
        req.end(patch);
      });
    const denied = await send('bob@example.com', ['sre', 'oncall']);
    expect(denied.status).toBe(403);
    expect(denied.body.message).toBe(
      'deployments.apps "api" is forbidden: User "bob@example.com" cannot patch resource "deployments" in API group "apps" in the namespace "shop"',
    );
    expect(fake.requests[0]?.impersonation).toEqual({ user: 'bob@example.com', groups: ['sre', 'oncall'] });
    expect((await send('alice@example.com', [])).status).toBe(200);
  });

  test('refuses impersonation the real user may not do', async () => {
    const fake = await startFake([deployment()]);
    fake.forbid({ verb: 'impersonate', resource: 'groups' });
    const res = await raw(fake, '/apis/apps/v1/namespaces/shop/deployments/api', {
      headers: { 'Impersonate-User': 'alice', 'Impersonate-Group': 'system:masters' },
    });
    expect(res.status).toBe(403);
    expect(res.json.message).toBe(
      `groups "system:masters" is forbidden: User "${USER}" cannot impersonate resource "groups" in API group "" at the cluster scope`,
    );
  });

  test('answers SelfSubjectAccessReviews for the (impersonated) user', async () => {
    const fake = await startFake([deployment()]);
    fake.forbid({ verb: 'patch', resource: 'deployments', namespace: 'shop', user: 'bob@example.com' });
    const review = (user?: string) =>
      raw(fake, '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(user ? { 'Impersonate-User': user } : {}) },
        body: JSON.stringify({
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: {
            resourceAttributes: {
              namespace: 'shop',
              verb: 'patch',
              group: 'apps',
              resource: 'deployments',
              name: 'api',
            },
          },
        }),
      });
    const bob = await review('bob@example.com');
    expect(bob.status).toBe(201);
    expect(bob.json.status).toEqual({ allowed: false });
    expect((await review('alice@example.com')).json.status.allowed).toBe(true);
    expect((await review()).json.status.allowed).toBe(true);
  });

  test('an admission webhook refuses patches, dry runs included, and nothing is stored', async () => {
    const fake = await startFake([deployment()]);
    const { apps } = clients(fake);
    fake.admissionDeny({
      kind: 'Deployment',
      namespace: 'shop',
      code: 422,
      message: 'memory limits above 1Gi need an exception',
    });
    const body = {
      spec: {
        template: { spec: { containers: [{ name: 'app', resources: { limits: { memory: '2Gi' } } }] } },
      },
    };
    const dry = await apiError(
      apps.patchNamespacedDeployment({ name: 'api', namespace: 'shop', body, dryRun: 'All' }, SMP),
    );
    expect(dry.code).toBe(422);
    expect(dry.status.message).toBe(
      'admission webhook "validate.policy.example.com" denied the request: memory limits above 1Gi need an exception',
    );
    expect(
      fake.get('Deployment', 'shop', 'api')?.spec.template.spec.containers[0].resources.limits.memory,
    ).toBe('512Mi');
    fake.allowAll();
    const ok = await apps.patchNamespacedDeployment({ name: 'api', namespace: 'shop', body }, SMP);
    expect(ok.spec?.template.spec?.containers[0]?.resources?.limits?.memory).toBe('2Gi');
  });
});
