// Issue 11, class 2: a pod of an Argo Rollout, through the real client against the fake API server.
// The diagnosis names the Rollout and carries its JSON patch; every request is one the shipped
// read-only RBAC grants; without the Rollout grant the diagnosis still comes, naming what is missing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubernetesReader, loadKubeConfig } from '../../../src/adapters/kubernetes';
import { diagnose } from '../../../src/diagnose';
import { FakeKubeApi } from '../../fakes/kube-api';
import { neededGrants, SHIPPED_RBAC, shippedGrants } from '../../support/rbac';

const template = {
  metadata: { labels: { app: 'checkout' } },
  spec: {
    containers: [
      {
        name: 'checkout',
        image: 'checkout:3',
        resources: { limits: { memory: '1Gi' }, requests: { cpu: '1' } },
      },
    ],
  },
};
const OBJECTS = [
  {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'checkout', namespace: 'shop', generation: 4, uid: 'r-1' },
    spec: { replicas: 2, strategy: { canary: { maxSurge: 1 } }, template },
  },
  {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: 'checkout-6c8d9',
      namespace: 'shop',
      uid: 'rs-1',
      ownerReferences: [
        {
          apiVersion: 'argoproj.io/v1alpha1',
          kind: 'Rollout',
          name: 'checkout',
          uid: 'r-1',
          controller: true,
        },
      ],
    },
    spec: { replicas: 2, selector: { matchLabels: { app: 'checkout' } }, template },
  },
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'checkout-6c8d9-x2x9z',
      namespace: 'shop',
      uid: 'p-1',
      labels: { app: 'checkout' },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'checkout-6c8d9', uid: 'rs-1', controller: true },
      ],
    },
    spec: {
      nodeName: 'worker-1',
      containers: [
        { name: 'istio-proxy', image: 'proxyv2', resources: { limits: { memory: '256Mi' } } },
        ...template.spec.containers,
      ],
    },
    status: {
      phase: 'Running',
      containerStatuses: [
        { name: 'istio-proxy', restartCount: 0, state: { running: { startedAt: new Date().toISOString() } } },
        {
          name: 'checkout',
          restartCount: 1,
          state: { running: { startedAt: new Date().toISOString() } },
          lastState: {
            terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: new Date().toISOString() },
          },
        },
      ],
    },
  },
];

let kube: FakeKubeApi;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  kube = await FakeKubeApi.start({ objects: OBJECTS });
  dir = mkdtempSync(join(tmpdir(), 'oomdoctor-rollout-'));
  kubeconfig = join(dir, 'config');
  kube.writeKubeconfig(kubeconfig);
});

afterAll(async () => {
  await kube?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function run() {
  return diagnose(
    { target: { kind: 'pod', namespace: 'shop', pod: 'checkout-6c8d9-x2x9z' }, windowMs: 3_600_000 },
    { cluster: new KubernetesReader(loadKubeConfig({ kubeconfig })), metrics: null },
  );
}

it('names the Rollout, sends a JSON patch guarded by the container name, and asks only what the read RBAC grants', async () => {
  const before = kube.requests.length;
  const diagnosis = await run();
  expect(diagnosis.target.container).toBe('checkout');
  const r = diagnosis.recommendation!;
  expect(r.workload).toMatchObject({ kind: 'Rollout', name: 'checkout', generation: 4 });
  expect(r.kubectl).toMatch(/^kubectl -n shop patch rollout\.argoproj\.io checkout --type json -p '/);
  expect(r.kubectl).toContain(
    '{"op":"test","path":"/spec/template/spec/containers/0/name","value":"checkout"}',
  );
  const requests = kube.requests.slice(before);
  expect(
    requests.some((q) => q.path === '/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout'),
  ).toBe(true);
  const granted = shippedGrants([SHIPPED_RBAC.read]);
  for (const request of requests)
    for (const grant of neededGrants(request))
      expect({ path: request.path, granted: granted.has(grant) }).toEqual({
        path: request.path,
        granted: true,
      });
});

it('without get on rollouts the diagnosis still comes: the ReplicaSet with its Rollout owner, and a missing entry', async () => {
  kube.forbid({ verb: 'get', resource: 'rollouts.argoproj.io' });
  const diagnosis = await run();
  expect(diagnosis.missing.join('\n')).toMatch(/rollouts.*The fix names the Rollout from the ReplicaSet/s);
  const r = diagnosis.recommendation!;
  expect(r.workload).toMatchObject({ kind: 'ReplicaSet', owner: { kind: 'Rollout', name: 'checkout' } });
  expect(r.kubectl).toMatch(
    /^# ReplicaSet shop\/checkout-6c8d9 is managed by Rollout shop\/checkout .*could not be read/,
  );
  expect(r.kubectl).not.toMatch(/patch replicaset/);
});
