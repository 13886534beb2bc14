// The Kubernetes API answering 401, 403, 404, 409, 429 (with Retry-After), 500, 503, or not at all:
// each is its own clear line, retried only where a retry can help; and a diagnosis whose reads
// hang is made at the deadline from what was gathered, naming what is missing.
import { KubernetesReader, loadKubeConfig } from '../../../src/adapters/kubernetes';
import { diagnose } from '../../../src/diagnose';
import { OomdoctorError } from '../../../src/core/errors';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeKubeApi } from '../../fakes/kube-api';

const POD = {
  kind: 'Pod',
  apiVersion: 'v1',
  metadata: { name: 'api-1', namespace: 'shop' },
  spec: { containers: [{ name: 'api', image: 'api:1', resources: { limits: { memory: '256Mi' } } }] },
  status: {
    containerStatuses: [
      {
        name: 'api',
        restartCount: 1,
        lastState: {
          terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: new Date().toISOString() },
        },
      },
    ],
  },
};

let kube: FakeKubeApi;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  kube = await FakeKubeApi.start({ objects: [POD] });
  dir = mkdtempSync(join(tmpdir(), 'oomdoctor-statuses-'));
  kubeconfig = join(dir, 'config');
  kube.writeKubeconfig(kubeconfig);
});

afterAll(async () => {
  await kube?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function reader(options: ConstructorParameters<typeof KubernetesReader>[1] = {}) {
  return new KubernetesReader(loadKubeConfig({ kubeconfig }), { backoffMs: 20, ...options });
}

async function failure(promise: Promise<unknown>): Promise<OomdoctorError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OomdoctorError);
  return error as OomdoctorError;
}

function requestsDuring(run: () => Promise<unknown>): Promise<number> {
  const before = kube.requests.length;
  return run().then(
    () => kube.requests.length - before,
    () => kube.requests.length - before,
  );
}

it('waits out a 429 for its Retry-After, then reads', async () => {
  kube.failNext(429);
  const started = Date.now();
  const pod = await reader().readPod('shop', 'api-1');
  expect(pod.metadata.name).toBe('api-1');
  expect(Date.now() - started).toBeGreaterThanOrEqual(900); // the fake asks for 1 s
});

it('gives up on a 429 whose Retry-After is longer than it may wait, saying so', async () => {
  kube.failNext(429);
  const error = await failure(reader({ maxWaitMs: 500 }).readPod('shop', 'api-1'));
  expect(error.code).toBe('kube-throttled');
  expect(error.message).toMatch(/throttling requests \(429, retry after 1 s\) for pod shop\/api-1/);
});

it.each([500, 503, 504])('retries a %i and reads', async (status) => {
  kube.failNext(status);
  expect((await reader().readPod('shop', 'api-1')).metadata.name).toBe('api-1');
});

it('says the API server is failing when 5xx outlasts the retries (3 tries)', async () => {
  kube.failNext(503, 3);
  let error: OomdoctorError | undefined;
  const count = await requestsDuring(async () => {
    error = await failure(reader().readPod('shop', 'api-1'));
  });
  expect(count).toBe(3);
  expect(error?.code).toBe('kube-server-error');
  expect(error?.sentence).toMatch(
    /failed \(503\) for pod shop\/api-1: .*; try again; if it persists, check the API server/,
  );
});

it.each([
  [401, 'kube-unauthorized', /refused the credentials \(401 Unauthorized\); check the kubeconfig's user/],
  [403, 'kube-forbidden', /deploy\/kubernetes\/rbac\.yaml/],
  [404, 'not-found', /^pod shop\/api-1 not found$/],
  [409, 'kube-conflict', /409 Conflict for pod shop\/api-1/],
])('does not retry a %i: %s', async (status, code, message) => {
  kube.failNext(status);
  let error: OomdoctorError | undefined;
  const count = await requestsDuring(async () => {
    error = await failure(reader().readPod('shop', 'api-1'));
  });
  expect(count).toBe(1);
  expect(error?.code).toBe(code);
  expect(error?.sentence).toMatch(message);
});

it('gives up on a request that hangs, once, naming the server and the kubeconfig', async () => {
  kube.hangNext(1);
  let error: OomdoctorError | undefined;
  const count = await requestsDuring(async () => {
    error = await failure(reader({ requestTimeoutMs: 300 }).readPod('shop', 'api-1'));
  });
  expect(count).toBe(1);
  expect(error?.code).toBe('kube-unreachable');
  expect(error?.message).toMatch(
    /^the Kubernetes API at http:\/\/127\.0\.0\.1:\d+ \(kubeconfig .*config, context "fake"\) did not answer within 0\.3 s for pod shop\/api-1$/,
  );
});

it('makes the diagnosis at the deadline from what was gathered, naming each read that did not come back', async () => {
  const started = Date.now();
  const diagnosis = await diagnose(
    { target: { kind: 'pod', namespace: 'shop', pod: 'api-1' }, windowMs: 3_600_000 },
    {
      cluster: reader(),
      metrics: null,
      deadlineMs: 600,
      // Everything after the pod itself hangs.
      onProgress: (stage) => {
        if (stage === 'gathering') kube.hangNext(50);
      },
    },
  );
  const elapsed = Date.now() - started;
  expect(elapsed).toBeLessThan(3_000);
  expect(diagnosis.verdict).toBe('cgroup-oom');
  const late = diagnosis.missing.filter((line) => /within the 0\.6 s diagnosis deadline/.test(line));
  expect(late.map((line) => line.split('(')[0])).toEqual(
    expect.arrayContaining([
      'kubernetes: podEvents',
      'kubernetes: listLimitRanges',
      'kubernetes: listResourceQuotas',
    ]),
  );
  expect(late.every((line) => line.split('\n').length === 1)).toBe(true);
});
