// The writer through the real client-node against the fake API: dry runs, impersonation headers
// (each group on its own line), access reviews, and each refusal as its own error.
import { KubeConfig } from '@kubernetes/client-node';
import { ForbiddenError } from '../../../src/adapters/errors';
import {
  ConflictError,
  KubernetesWriter,
  missingPermission,
  PatchRejectedError,
} from '../../../src/adapters/kubernetes-writer';
import { FakeKubeApi, type KubeObject } from '../../fakes/kube-api';

const USER = 'system:serviceaccount:oomdoctor:oomdoctor';

function deployment(): KubeObject {
  return {
    kind: 'Deployment',
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
              image: 'api:1',
              resources: { requests: { memory: '256Mi' }, limits: { memory: '512Mi' } },
            },
          ],
        },
      },
    },
  };
}

const PATCH = {
  spec: {
    template: {
      spec: {
        containers: [
          { name: 'app', resources: { requests: { memory: '384Mi' }, limits: { memory: '768Mi' } } },
        ],
      },
    },
  },
};
const API = { kind: 'Deployment' as const, namespace: 'shop', name: 'api' };

let fake: FakeKubeApi;
let writer: KubernetesWriter;

beforeEach(async () => {
  fake = await FakeKubeApi.start({
    objects: [
      deployment(),
      {
        kind: 'Pod',
        metadata: { name: 'api-1', namespace: 'shop', labels: { app: 'api' } },
        spec: { containers: [{ name: 'app', image: 'api:1' }] },
      },
    ],
  });
  const kc = new KubeConfig();
  kc.loadFromString(fake.kubeconfigYaml());
  writer = new KubernetesWriter(kc);
});

afterEach(async () => {
  await fake.stop();
});

const limitOf = (obj: KubeObject | undefined) =>
  obj?.spec?.template?.spec?.containers?.[0]?.resources?.limits?.memory;

it('a dry run sends dryRun=All as a strategic-merge patch and changes nothing', async () => {
  const result = await writer.patch(API, PATCH, { dryRun: true, as: null });
  expect(limitOf(result)).toBe('768Mi');
  expect(result.metadata.generation).toBe(2);
  expect(limitOf(fake.get('Deployment', 'shop', 'api'))).toBe('512Mi');
  const sent = fake.requests.find((r) => r.method === 'PATCH');
  expect(sent?.query).toEqual({ dryRun: 'All', fieldManager: 'oomdoctor' });
  expect(sent?.headers['content-type']).toBe('application/strategic-merge-patch+json');
  expect(sent?.impersonation).toBeUndefined();
});

it('applies for real, bumping the generation', async () => {
  const result = await writer.patch(API, PATCH, { dryRun: false, as: null });
  expect(result.metadata.generation).toBe(2);
  expect(limitOf(fake.get('Deployment', 'shop', 'api'))).toBe('768Mi');
  expect(await writer.read('Deployment', 'shop', 'api')).toMatchObject({ metadata: { generation: 2 } });
  expect(await writer.read('Deployment', 'shop', 'gone')).toBeNull();
});

it('impersonates with one Impersonate-Group line per group', async () => {
  await writer.patch(API, PATCH, {
    dryRun: true,
    as: { user: 'alice@example.com', groups: ['sre', 'oncall'] },
  });
  const sent = fake.requests.find((r) => r.method === 'PATCH');
  expect(sent?.impersonation).toEqual({ user: 'alice@example.com', groups: ['sre', 'oncall'] });
  expect(sent?.query.dryRun).toBe('All');
  expect(sent?.headers['content-type']).toBe('application/strategic-merge-patch+json');
});

it("lets the cluster's RBAC decide for the impersonated user, and says which permission is missing", async () => {
  fake.forbid({ verb: 'patch', resource: 'deployments', namespace: 'shop', user: 'bob@example.com' });
  const bob = { user: 'bob@example.com', groups: [] };
  expect(
    await writer.canI(
      { verb: 'patch', group: 'apps', resource: 'deployments', namespace: 'shop', name: 'api' },
      bob,
    ),
  ).toEqual({ allowed: false, reason: null });
  expect(
    (
      await writer.canI(
        { verb: 'patch', group: 'apps', resource: 'deployments', namespace: 'shop', name: 'api' },
        { user: 'alice', groups: [] },
      )
    ).allowed,
  ).toBe(true);
  const error = await writer.patch(API, PATCH, { dryRun: true, as: bob }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ForbiddenError);
  expect(missingPermission((error as Error).message)).toBe(
    'patch deployments.apps in namespace shop (for bob@example.com)',
  );
});

it('the bot itself may be refused too', async () => {
  fake.forbid({ verb: 'patch', resource: 'deployments' });
  const error = (await writer
    .patch(API, PATCH, { dryRun: false, as: null })
    .catch((e: unknown) => e)) as Error;
  expect(error).toBeInstanceOf(ForbiddenError);
  expect(missingPermission(error.message)).toBe(`patch deployments.apps in namespace shop (for ${USER})`);
});

it('turns 422 and admission refusals into PatchRejectedError, and a stale resourceVersion into ConflictError', async () => {
  const invalid = {
    spec: {
      template: { spec: { containers: [{ name: 'app', resources: { requests: { memory: '2Gi' } } }] } },
    },
  };
  const rejected = (await writer
    .patch(API, invalid, { dryRun: true, as: null })
    .catch((e: unknown) => e)) as PatchRejectedError;
  expect(rejected).toBeInstanceOf(PatchRejectedError);
  expect(rejected.status).toBe(422);
  expect(rejected.message).toContain('must be less than or equal to memory limit');

  fake.admissionDeny({ kind: 'Deployment', code: 403, message: 'no changes during the freeze' });
  const webhook = (await writer
    .patch(API, PATCH, { dryRun: true, as: null })
    .catch((e: unknown) => e)) as PatchRejectedError;
  expect(webhook).toBeInstanceOf(PatchRejectedError);
  expect(webhook.message).toBe(
    'admission webhook "validate.policy.example.com" denied the request: no changes during the freeze',
  );
  fake.allowAll();

  const stale = { ...PATCH, metadata: { resourceVersion: '999999' } };
  expect(await writer.patch(API, stale, { dryRun: false, as: null }).catch((e: unknown) => e)).toBeInstanceOf(
    ConflictError,
  );
});

it('lists the pods of a workload', async () => {
  expect((await writer.listPods('shop', 'app=api')).map((p) => p.metadata.name)).toEqual(['api-1']);
});

it('reads missingPermission from cluster-scoped wording, and leaves other messages alone', () => {
  expect(
    missingPermission(
      'nodes is forbidden: User "u" cannot list resource "nodes" in API group "" at the cluster scope',
    ),
  ).toBe('list nodes at the cluster scope (for u)');
  expect(missingPermission('something else')).toBe('something else');
});
