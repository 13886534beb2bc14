// What ships: the build replaces client-node with a tree-shaken bundle (src/tools/bundle-client-node.ts),
// which jest never loads (it reads the sources). Here the built adapters run in a plain node process
// against the fake API, through each kind of call the bot makes: reads, a 404, a strategic-merge dry
// run, an access review, and the refusals that must still be told apart with instanceof.
import fs from 'node:fs';
import path from 'node:path';
import { FakeKubeApi } from '../../fakes/kube-api';
import { makeTempDir, type TempDir } from '../../support/services';
import { ensureBuilt, ROOT } from '../../support/built';
import { runNode } from '../../support/cli-process';

const BUNDLE = path.join(ROOT, 'dist', 'src', 'adapters', 'client-node.js');

/** Run in the child: the built adapters, nothing from the tests. Prints one JSON line. */
const PROBE = `
const dist = (file) => require(require('node:path').join(${JSON.stringify(ROOT)}, 'dist', 'src', 'adapters', file));
const { loadKubeConfig, KubernetesReader } = dist('kubernetes.js');
const { KubernetesWriter, ConflictError, PatchRejectedError } = dist('kubernetes-writer.js');
const { NotFoundError, ForbiddenError } = dist('errors.js');
const API = { kind: 'Deployment', namespace: 'shop', name: 'api' };
const PATCH = { spec: { template: { spec: { containers: [{ name: 'app', resources: { limits: { memory: '768Mi' } } }] } } } };
const kindOf = (promise, ...classes) =>
  promise.then(() => 'resolved', (e) => (classes.find((c) => e instanceof c) || { name: 'other: ' + e.message }).name);
(async () => {
  const kc = loadKubeConfig({ kubeconfig: process.env.PROBE_KUBECONFIG, env: {} });
  const reader = new KubernetesReader(kc);
  const writer = new KubernetesWriter(kc);
  const out = {};
  out.pod = (await reader.readPod('shop', 'api-1')).metadata.name;
  out.missingPod = await kindOf(reader.readPod('shop', 'gone'), NotFoundError);
  const dryRun = await writer.patch(API, PATCH, { dryRun: true, as: null });
  out.dryRunLimit = dryRun.spec.template.spec.containers[0].resources.limits.memory;
  out.aliceMay = (await writer.canI({ verb: 'patch', group: 'apps', resource: 'deployments', namespace: 'shop', name: 'api' }, { user: 'alice', groups: [] })).allowed;
  out.bobRefused = await kindOf(writer.patch(API, PATCH, { dryRun: true, as: { user: 'bob', groups: [] } }), ForbiddenError);
  out.stale = await kindOf(writer.patch(API, { ...PATCH, metadata: { resourceVersion: '999999' } }, { dryRun: false, as: null }), ConflictError, PatchRejectedError);
  out.packageLoaded = Object.keys(require.cache).some((file) => file.includes('node_modules/@kubernetes/client-node/'));
  process.stdout.write(JSON.stringify(out) + '\\n');
})().catch((error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); });
`;

let fake: FakeKubeApi;
let tmp: TempDir;

beforeAll(async () => {
  ensureBuilt();
  tmp = makeTempDir('bundle');
  fake = await FakeKubeApi.start({
    objects: [
      {
        kind: 'Deployment',
        metadata: { name: 'api', namespace: 'shop', labels: { app: 'api' } },
        spec: {
          selector: { matchLabels: { app: 'api' } },
          template: {
            metadata: { labels: { app: 'api' } },
            spec: {
              containers: [{ name: 'app', image: 'api:1', resources: { limits: { memory: '512Mi' } } }],
            },
          },
        },
      },
      {
        kind: 'Pod',
        metadata: { name: 'api-1', namespace: 'shop', labels: { app: 'api' } },
        spec: { containers: [{ name: 'app', image: 'api:1' }] },
      },
    ],
  });
  fake.writeKubeconfig(path.join(tmp.path, 'kubeconfig'));
}, 200_000);

afterAll(async () => {
  await fake.stop();
  await tmp.remove();
});

function probe() {
  return runNode(['-e', PROBE], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PROBE_KUBECONFIG: path.join(tmp.path, 'kubeconfig') },
    timeoutMs: 20_000,
  });
}

it('the build bundles client-node rather than re-exporting the package', () => {
  const bundle = fs.readFileSync(BUNDLE, 'utf8');
  expect(bundle).not.toMatch(/require\(["']@kubernetes\/client-node["']\)/);
  // The whole package minified is about 3.5 MB; the five classes the bot uses are about half.
  expect(bundle.length).toBeLessThan(2.5 * 1024 * 1024);
});

it('the built adapters read, patch, review access and tell refusals apart, without loading the package', async () => {
  fake.forbid({ verb: 'patch', resource: 'deployments', namespace: 'shop', user: 'bob' });
  const run = await probe();
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(JSON.parse(run.stdout)).toEqual({
    pod: 'api-1',
    missingPod: 'NotFoundError',
    dryRunLimit: '768Mi',
    aliceMay: true,
    bobRefused: 'ForbiddenError',
    stale: 'ConflictError',
    packageLoaded: false,
  });
  const patch = fake.requests.find((r) => r.method === 'PATCH');
  expect(patch?.headers['content-type']).toBe('application/strategic-merge-patch+json');
  expect(patch?.query.dryRun).toBe('All');
});
