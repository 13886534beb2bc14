// `oomdoctor diagnose` run as a process (node dist/cli.js) against one simulated cluster for the
// whole file: the fake Kubernetes API and a real Prometheus loaded with every demo scenario.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Diagnosis } from '../../src/core/types';
import type { KubeObject, RecordedRequest } from '../fakes/kube-api';
import { demoSpecs, type Scenario } from '../support/scenarios';
import { freePort, makeTempDir, type TempDir } from '../support/services';
import { CLI, ensureBuilt } from '../support/built';
import { runNode } from '../support/cli-process';
import { startSimulatedCluster, type SimulatedCluster } from '../support/simulated-cluster';

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const QUANTITY = /^\d+(Ki|Mi|Gi|Ti)?$/;
const KUBE_REQUEST_BUDGET = 10; // the issue's 12 per diagnosis, less Prometheus' range queries (the day, a widened week)

interface Run {
  args: string[];
  code: number | null;
  stdout: string;
  stderr: string;
}

let cluster: SimulatedCluster;
let tmp: TempDir;
let closedKubeconfig: string;
let closedPromUrl: string;
let brokenKubeconfig: string;
/** Runs that never reach the fake API (bad usage, a closed port): started early, on the core the counted runs leave idle. */
let offline: Promise<Run[]>;

/** A clean environment: no KUBECONFIG, no PROMETHEUS_URL, and a HOME without ~/.kube. */
function baseEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp.path };
}

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const run = await runNode([CLI, ...args], {
    cwd: tmp.path,
    env: { ...baseEnv(), ...env },
    timeoutMs: 20_000,
  });
  return { args, ...run };
}

/** Runs several commands, at most `limit` at a time (the CI boxes have two cores). */
async function all(commands: Array<{ args: string[]; env?: NodeJS.ProcessEnv }>, limit = 3): Promise<Run[]> {
  const results: Run[] = new Array(commands.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, commands.length) }, async () => {
      while (next < commands.length) {
        const i = next++;
        const c = commands[i]!;
        results[i] = await cli(c.args, c.env);
      }
    }),
  );
  return results;
}

function parse(run: Run): Diagnosis {
  try {
    return JSON.parse(run.stdout) as Diagnosis;
  } catch {
    throw new Error(`not JSON (exit ${run.code}) for ${run.args.join(' ')}:\n${run.stdout}\n${run.stderr}`);
  }
}

function connect(): string[] {
  return ['--prometheus-url', cluster.prometheus.url, '--kubeconfig', cluster.kubeconfigPath];
}

function scenario(id: string): Scenario {
  const s = cluster.scenarios.find((x) => x.spec.id === id);
  if (!s) throw new Error(`no scenario ${id}`);
  return s;
}

function podRef(s: Scenario): string {
  return `${s.target.namespace}/${s.target.pod}`;
}

function expectOneLineError(run: Run, code: number, kind: string): { code: string; message: string } {
  expect(run.code).toBe(code);
  const lines = run.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^oomdoctor: \S/);
  expect(run.stderr).not.toMatch(/^\s+at\s/m); // no stack trace
  expect(run.stderr).not.toMatch(/Error: /);
  const body = JSON.parse(run.stdout) as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(kind);
  expect(typeof body.error.message).toBe('string');
  expect(lines[0]).toBe(`oomdoctor: ${body.error.message}`);
  return body.error;
}

beforeAll(async () => {
  ensureBuilt();
  tmp = makeTempDir('oomdoctor-cli-test');
  cluster = await startSimulatedCluster({ specs: demoSpecs() });
  const closedPort = await freePort();
  closedKubeconfig = path.join(tmp.path, 'closed-kubeconfig.yaml');
  fs.writeFileSync(
    closedKubeconfig,
    cluster.kube.kubeconfigYaml('closed').replace(cluster.kube.url, `http://127.0.0.1:${closedPort}`),
  );
  closedPromUrl = `http://127.0.0.1:${await freePort()}`;
  brokenKubeconfig = path.join(tmp.path, 'broken-kubeconfig.yaml');
  fs.writeFileSync(brokenKubeconfig, 'apiVersion: v1\nclusters: [\n');
  offline = all(
    [
      { args: ['diagnose', 'shop/api', '--bogus', '--json'] },
      { args: ['diagnose', 'Shop/API', '--json'] },
      { args: ['diagnose', 'shop/api', '--prometheus-url', 'not a url', '--json'] },
      { args: ['diagnose', 'shop/api', '--window', '5 parsecs', '--json'] },
      { args: ['diagnose', 'Shop/API'] },
      { args: ['diagnose', 'shop/api', '--json', '--kubeconfig', closedKubeconfig] },
      { args: ['diagnose', 'shop/api', '--window', '--json'] },
      { args: ['diagnose', 'shop/api', '--json', '--kubeconfig', brokenKubeconfig] },
    ],
    1,
  );
  offline.catch(() => undefined); // awaited (and reported) by the tests that use it
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
  await tmp?.remove();
});

describe('every demo scenario, --json', () => {
  const runs = new Map<string, { run: Run; requests: RecordedRequest[] }>();

  beforeAll(async () => {
    // One at a time, so the fake API's request log can be split per diagnosis.
    for (const s of cluster.scenarios) {
      const before = cluster.kube.requests.length;
      const run = await cli(['diagnose', podRef(s), '--json', ...connect()]);
      runs.set(s.spec.id, { run, requests: cluster.kube.requests.slice(before) });
    }
  }, 90_000);

  it.each(demoSpecs().map((s) => [s.id, s] as const))('%s', (id, spec) => {
    const { run, requests } = runs.get(id)!;
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const d = parse(run);
    const s = scenario(id);
    expect(d.schemaVersion).toBe(1);
    for (const key of [
      'target',
      'window',
      'verdict',
      'kills',
      'causes',
      'current',
      'recommendation',
      'missing',
    ])
      expect(d).toHaveProperty(key);
    expect(d.target).toEqual(s.target);
    expect(d.verdict).toBe(spec.expect.verdict);
    if (spec.expect.topCause) expect(d.causes[0]?.id).toBe(spec.expect.topCause);
    else expect(d.causes).toEqual([]);
    for (const c of d.causes) {
      expect(c.confidence).toBeGreaterThanOrEqual(0);
      expect(c.confidence).toBeLessThanOrEqual(1);
    }
    // Times: RFC 3339, UTC, and a 24 h window ending now.
    expect(d.window.start).toMatch(RFC3339_UTC);
    expect(d.window.end).toMatch(RFC3339_UTC);
    expect(Date.parse(d.window.end) - Date.parse(d.window.start)).toBe(24 * 3_600_000);
    expect(Math.abs(Date.parse(d.window.end) - Date.now())).toBeLessThan(5 * 60_000);
    for (const k of d.kills) expect(k.at).toMatch(RFC3339_UTC);
    if (spec.expect.verdict !== 'no-oom-found') expect(d.kills.length).toBeGreaterThan(0);
    // A recommendation exactly where a resource change helps.
    const noChangeHelps = spec.expect.verdict === 'sigkill-not-oom' || spec.expect.verdict === 'no-oom-found';
    if (noChangeHelps) expect(d.recommendation).toBeNull();
    else {
      const r = d.recommendation!;
      expect(r).not.toBeNull();
      expect(r.resources.limits.memory).toMatch(QUANTITY);
      expect(r.resources.requests.memory).toMatch(QUANTITY);
      expect(r.container).toBe(s.target.container);
      expect(r.workload).toMatchObject({
        kind: spec.workloadKind,
        namespace: spec.namespace,
        name: spec.app,
        generation: expect.any(Number),
      });
      expect(r.kubectl).toMatch(
        new RegExp(
          `^kubectl -n ${spec.namespace} patch ${spec.workloadKind.toLowerCase()} ${spec.app} --type strategic -p '`,
        ),
      );
    }
    if (d.current.resources.limits.memory !== null)
      expect(d.current.resources.limits.memory).toMatch(QUANTITY);
    expect(d.missing).toEqual([]);
    // The request budget: Kubernetes here, and Prometheus' range queries on top.
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.length).toBeLessThanOrEqual(KUBE_REQUEST_BUDGET);
    expect(requests.every((r) => r.method === 'GET')).toBe(true);
  });

  it('the plateau under 512Mi gives "768Mi"', () => {
    const d = parse(runs.get('limit-too-small')!.run);
    expect(d.current.resources.limits.memory).toBe('512Mi');
    expect(d.recommendation?.resources.limits.memory).toBe('768Mi');
  });

  it('the oversized JVM heap is fixed without quoting the rest of JAVA_OPTS', () => {
    const d = parse(runs.get('runtime-heap-misconfigured')!.run);
    expect(d.current.runtime).toEqual([{ source: 'env JAVA_OPTS', setting: 'Xmx', value: '-Xmx3072m' }]);
    expect(d.recommendation?.env).toEqual([{ name: '_JAVA_OPTIONS', value: '-Xmx1408m' }]);
    expect(runs.get('runtime-heap-misconfigured')!.run.stdout).not.toContain('changeit-s3cret');
    for (const { run } of runs.values()) expect(run.stdout).not.toContain('s3cr3t-hunter2'); // DATABASE_URL of every pod
  });

  it('each patch is accepted by the API server as a strategic merge patch (dry run)', async () => {
    const api: Record<string, string> = {
      Deployment: 'apis/apps/v1',
      StatefulSet: 'apis/apps/v1',
      DaemonSet: 'apis/apps/v1',
      CronJob: 'apis/batch/v1',
    };
    let checked = 0;
    for (const { run } of runs.values()) {
      const r = parse(run).recommendation;
      if (!r) continue;
      const url = `${cluster.kube.url}/${api[r.workload.kind]}/namespaces/${r.workload.namespace}/${r.workload.kind.toLowerCase()}s/${r.workload.name}?dryRun=All`;
      const res = await fetch(url, {
        method: 'PATCH',
        headers: {
          Authorization: 'Bearer fake-token',
          'Content-Type': 'application/strategic-merge-patch+json',
        },
        body: JSON.stringify(r.patch),
      });
      const body = (await res.json()) as KubeObject;
      expect({ status: res.status, message: body.message }).toEqual({ status: 200, message: undefined });
      const spec =
        r.workload.kind === 'CronJob' ? body.spec.jobTemplate.spec.template.spec : body.spec.template.spec;
      const container = spec.containers.find((c: KubeObject) => c.name === r.container);
      expect(container.resources.limits.memory).toBe(r.resources.limits.memory);
      checked++;
    }
    expect(checked).toBe(6);
  });
});

describe('naming the target', () => {
  let runs: Run[];
  let siblings: { killedEarlier: string; healthyNewer: string };

  beforeAll(async () => {
    // Two more pods of the checkout Deployment: one killed earlier, one newer that never died.
    const s = scenario('limit-too-small');
    const pod = cluster.scenarios
      .flatMap((x) => x.objects)
      .find((o) => o.kind === 'Pod' && o.metadata.name === s.target.pod)!;
    const rs = pod.metadata.name.split('-').slice(0, -1).join('-');
    siblings = { killedEarlier: `${rs}-early`, healthyNewer: `${rs}-fresh` };
    const clone = (name: string, status: KubeObject, created: number): KubeObject => ({
      ...pod,
      metadata: {
        ...pod.metadata,
        name,
        uid: undefined,
        resourceVersion: undefined,
        creationTimestamp: new Date(created).toISOString(),
      },
      status,
    });
    const main = pod.status.containerStatuses[0];
    const earlyKill = new Date(cluster.now - 20 * 3_600_000).toISOString();
    cluster.kube.put(
      'Pod',
      clone(
        siblings.killedEarlier,
        {
          ...pod.status,
          containerStatuses: [
            { ...main, lastState: { terminated: { ...main.lastState.terminated, finishedAt: earlyKill } } },
          ],
        },
        cluster.now - 30 * 3_600_000,
      ),
    );
    cluster.kube.put(
      'Pod',
      clone(
        siblings.healthyNewer,
        { ...pod.status, containerStatuses: [{ ...main, restartCount: 0, lastState: {} }] },
        cluster.now - 60_000,
      ),
    );

    runs = await all([
      { args: ['diagnose', 'shop/deploy/checkout', '--json', ...connect()] },
      { args: ['diagnose', podRef(s), '--container', 'istio-proxy', '--json', ...connect()] },
      { args: ['diagnose', podRef(s), ...connect()] },
    ]);
  }, 90_000);

  it('<ns>/deploy/<name> picks the most recently killed pod of the Deployment', () => {
    const d = parse(runs[0]!);
    expect(runs[0]!.code).toBe(0);
    expect(d.target).toEqual(scenario('limit-too-small').target);
    expect(d.verdict).toBe('cgroup-oom');
  });

  it('--container picks another container of the pod', () => {
    const d = parse(runs[1]!);
    expect(runs[1]!.code).toBe(0);
    expect(d.target).toEqual({ ...scenario('limit-too-small').target, container: 'istio-proxy' });
    expect(d.verdict).toBe('no-oom-found');
    expect(d.current.resources.limits.memory).toBe('256Mi');
  });

  it('the text report starts with the headline, and shows the chart and the kubectl line', () => {
    const run = runs[2]!;
    expect(run.code).toBe(0);
    const headline = parse(runs[0]!).headline;
    expect(run.stdout.split('\n')[0]).toBe(headline);
    expect(headline).toMatch(/^OOMKilled: shop\/checkout-\S+ \(container api\) hit its 512 MiB memory limit/);
    expect(run.stdout).toContain('Memory (working set) against the limit:');
    expect(run.stdout).toContain("kubectl -n shop patch deployment checkout --type strategic -p '");
    expect(run.stderr).toBe('');
  });
});

describe('errors: exit codes, one line on stderr, {"error"} on stdout with --json', () => {
  let usage: Run[];
  let plain: Run;
  let notFound: Run[];
  let unreachable: Run;
  let windowWithoutValue: Run;
  let notYaml: Run;

  beforeAll(async () => {
    const early = await offline;
    usage = early.slice(0, 4);
    plain = early[4]!;
    unreachable = early[5]!;
    windowWithoutValue = early[6]!;
    notYaml = early[7]!;
    notFound = await all([
      { args: ['diagnose', 'shop/no-such-pod', '--json', ...connect()] },
      { args: ['diagnose', 'shop/deploy/no-such-deployment', '--json', ...connect()] },
    ]);
  }, 90_000);

  it('exit 2 for an unknown flag, a malformed name, a malformed --prometheus-url, a bad --window', () => {
    const messages = usage.map((run) => expectOneLineError(run, 2, 'usage').message);
    expect(messages[0]).toMatch(/--bogus/);
    expect(messages[1]).toMatch(/"Shop\/API" is not valid: Kubernetes names are lower case/);
    expect(messages[2]).toMatch(/--prometheus-url "not a url" is not a URL/);
    expect(messages[3]).toMatch(/window "5 parsecs"/);
  });

  it("exit 2 for --window without its value: the first line of the parser's message, then the help hint", () => {
    const error = expectOneLineError(windowWithoutValue, 2, 'usage');
    expect(error.message).toMatch(/--window/);
    expect(error.message).toMatch(/Run oomdoctor --help for the options\.$/);
    expect(error.message).not.toMatch(/\.\./);
    expect(error.message).not.toMatch(/Did you forget|--window=-XYZ/);
  });

  it('without --json, stdout stays empty', () => {
    expect(plain.code).toBe(2);
    expect(plain.stdout).toBe('');
    expect(plain.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('exit 3 for a pod or a workload that does not exist', () => {
    expect(expectOneLineError(notFound[0]!, 3, 'not-found').message).toMatch(/shop\/no-such-pod/);
    expect(expectOneLineError(notFound[1]!, 3, 'not-found').message).toMatch(/no-such-deployment/);
  });

  it('exit 4 when the kubeconfig points at a closed port', () => {
    const error = expectOneLineError(unreachable, 4, 'unreachable');
    expect(error.message).toMatch(/cannot reach the Kubernetes API at http:\/\/127\.0\.0\.1:\d+/);
  });

  it('exit 4 when the kubeconfig is not valid YAML: one line naming the file, not "a bug"', () => {
    const error = expectOneLineError(notYaml, 4, 'unreachable');
    expect(error.message).toContain(`cannot read the kubeconfig ${brokenKubeconfig}: `);
    expect(error.message).not.toMatch(/bug/);
  });
});

describe('missing sources', () => {
  let promDown: Run;
  let fromEnv: Run;
  let noProm: { run: Run; requests: RecordedRequest[] };

  beforeAll(async () => {
    const s = scenario('limit-too-small');
    const before = cluster.kube.requests.length;
    const run = await cli(['diagnose', podRef(s), '--json', '--kubeconfig', cluster.kubeconfigPath]);
    noProm = { run, requests: cluster.kube.requests.slice(before) };
    [promDown, fromEnv] = (await all([
      {
        args: [
          'diagnose',
          podRef(s),
          '--json',
          '--prometheus-url',
          closedPromUrl,
          '--kubeconfig',
          cluster.kubeconfigPath,
        ],
      },
      {
        args: ['diagnose', podRef(scenario('memory-leak')), '--json'],
        env: { KUBECONFIG: cluster.kubeconfigPath, PROMETHEUS_URL: cluster.prometheus.url },
      },
    ])) as [Run, Run];
  }, 90_000);

  it('Prometheus down: exit 0, and `missing` names prometheus and "connection refused"', () => {
    expect(promDown.code).toBe(0);
    const d = parse(promDown);
    expect(d.missing).toHaveLength(1);
    expect(d.missing[0]).toMatch(
      new RegExp(`^prometheus: connection refused at ${closedPromUrl.replace(/\./g, '\\.')}`),
    );
    expect(d.missing[0]).toMatch(/confidence is lower/);
    expect(d.verdict).toBe('cgroup-oom');
    expect(d.causes.length).toBeGreaterThan(0);
    expect(d.causes[0]!.confidence).toBeLessThan(0.5);
  });

  it('no --prometheus-url: the metrics API reading is used, and `missing` says so', () => {
    expect(noProm.run.code).toBe(0);
    const d = parse(noProm.run);
    expect(d.missing).toHaveLength(1);
    expect(d.missing[0]).toMatch(/^prometheus: not configured .*metrics API/);
    expect(d.series.points).toHaveLength(1);
    expect(
      noProm.requests.some(
        (r) =>
          r.path ===
          `/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods/${scenario('limit-too-small').target.pod}`,
      ),
    ).toBe(true);
    expect(noProm.requests.length).toBeLessThanOrEqual(KUBE_REQUEST_BUDGET);
    expect(d.verdict).toBe('cgroup-oom');
  });

  it('PROMETHEUS_URL and KUBECONFIG work instead of the flags', () => {
    expect(fromEnv.code).toBe(0);
    const d = parse(fromEnv);
    expect(d.missing).toEqual([]);
    expect(d.verdict).toBe('cgroup-oom');
    expect(d.causes[0]?.id).toBe('memory-leak');
    expect(d.series.points.length).toBeGreaterThan(100);
  });
});

// Last: the fake API has no way to lift a denial, and a namespace's events denial also denies the
// cluster-wide event list.
describe('a 403 on events', () => {
  it("exit 0, and `missing` carries the API's message naming the verb and the resource", async () => {
    const s = scenario('child-process-oom');
    cluster.kube.forbid({ verb: 'list', resource: 'events', namespace: s.target.namespace });
    const run = await cli(['diagnose', podRef(s), '--json', ...connect()]);
    expect(run.code).toBe(0);
    const d = parse(run);
    expect(d.verdict).toBe('child-process-oom');
    const entry = d.missing.find((m) => m.includes(`in the namespace "${s.target.namespace}"`));
    expect(entry).toBeDefined();
    expect(entry).toMatch(
      /^kubernetes: events is forbidden: User "[^"]+" cannot list resource "events" in API group ""/,
    );
  });
});
