// The pure rules of Apply: kinds, GitOps and Helm, the race guard, patches and the diff.
import { applyStrategicMergePatch } from '../../fakes/strategic-merge';
import {
  changesSince,
  containerState,
  desiredChange,
  diffStates,
  findContainer,
  gitOpsManager,
  hasState,
  helmRelease,
  patchTo,
  snapshotOf,
  targetState,
  unpatchableReason,
} from '../../../src/apply/workload';
import type { DesiredChange } from '../../../src/apply/types';
import { isPatchableKind } from '../../../src/core/kubernetes-types';

function deployment(
  overrides: {
    env?: unknown[];
    args?: string[];
    command?: string[];
    resources?: unknown;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  } = {},
): Record<string, any> {
  return {
    kind: 'Deployment',
    metadata: {
      name: 'ledger',
      namespace: 'payments',
      generation: overrides.generation ?? 4,
      resourceVersion: '100',
      labels: overrides.labels ?? { app: 'ledger' },
      annotations: overrides.annotations ?? {},
    },
    spec: {
      replicas: 3,
      template: {
        spec: {
          initContainers: [{ name: 'migrate', image: 'm:1', resources: { limits: { memory: '128Mi' } } }],
          containers: [
            {
              name: 'ledger',
              image: 'ledger:1',
              env: overrides.env ?? [
                { name: 'DATABASE_URL', value: 'postgres://app:s3cr3t@db/app' },
                { name: 'JAVA_OPTS', value: '-Xmx3072m' },
              ],
              ...(overrides.args ? { args: overrides.args } : {}),
              ...(overrides.command ? { command: overrides.command } : {}),
              resources: overrides.resources ?? {
                requests: { cpu: '100m', memory: '1Gi' },
                limits: { memory: '2Gi' },
              },
            },
          ],
        },
      },
    },
    status: { replicas: 3, observedGeneration: 4 },
  };
}

const CHANGE: DesiredChange = {
  requestsMemory: '1536Mi',
  limitsMemory: '3Gi',
  env: [
    { name: 'JAVA_OPTS', value: '-Xmx2048m' },
    { name: '_JAVA_OPTIONS', value: '-Xmx2048m' },
  ],
  args: null,
};

describe('kinds', () => {
  it('patches Deployments, StatefulSets, DaemonSets and CronJobs only', () => {
    for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob']) {
      expect(isPatchableKind(kind)).toBe(true);
      expect(unpatchableReason(kind, 'ns', 'x')).toBeNull();
    }
    for (const kind of ['Pod', 'Job', 'ReplicaSet', 'Rollout']) expect(isPatchableKind(kind)).toBe(false);
    expect(unpatchableReason('Pod', 'shop', 'api')).toContain('shop/api is a bare pod');
    expect(unpatchableReason('Job', 'ops', 'report-1')).toContain('a Job without a CronJob');
    expect(unpatchableReason('ReplicaSet', 'shop', 'api-7d9')).toContain('a ReplicaSet without a Deployment');
  });

  it('finds the container in the template, init containers included, and in a CronJob job template', () => {
    expect(findContainer('Deployment', deployment(), 'ledger')?.list).toBe('containers');
    expect(findContainer('Deployment', deployment(), 'migrate')?.list).toBe('initContainers');
    expect(findContainer('Deployment', deployment(), 'nope')).toBeNull();
    const cron = {
      spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'report' }] } } } } },
    };
    expect(findContainer('CronJob', cron, 'report')?.container).toEqual({ name: 'report' });
  });
});

describe('GitOps and Helm', () => {
  it("sees Argo CD's tracking annotation, and its instance label only where configured", () => {
    expect(
      gitOpsManager(
        deployment({
          annotations: { 'argocd.argoproj.io/tracking-id': 'ledger:apps/Deployment:payments/ledger' },
        }),
        { argocdInstanceLabel: false },
      ),
    ).toEqual({
      tool: 'Argo CD',
      evidence: 'annotation argocd.argoproj.io/tracking-id=ledger:apps/Deployment:payments/ledger',
    });
    const labelled = deployment({ labels: { 'app.kubernetes.io/instance': 'ledger' } });
    expect(gitOpsManager(labelled, { argocdInstanceLabel: false })).toBeNull();
    expect(gitOpsManager(labelled, { argocdInstanceLabel: true })?.tool).toBe('Argo CD');
  });

  it("sees Flux's kustomize and helm controller labels", () => {
    expect(
      gitOpsManager(
        deployment({
          labels: {
            'kustomize.toolkit.fluxcd.io/name': 'apps',
            'kustomize.toolkit.fluxcd.io/namespace': 'flux-system',
          },
        }),
        { argocdInstanceLabel: false },
      ),
    ).toEqual({ tool: 'Flux', evidence: 'label kustomize.toolkit.fluxcd.io/name=apps' });
    expect(
      gitOpsManager(deployment({ labels: { 'helm.toolkit.fluxcd.io/name': 'ledger' } }), {
        argocdInstanceLabel: false,
      })?.tool,
    ).toBe('Flux');
    expect(gitOpsManager(deployment(), { argocdInstanceLabel: true })).toBeNull();
  });

  it('names the Helm release from the annotation or the managed-by label', () => {
    expect(helmRelease(deployment({ annotations: { 'meta.helm.sh/release-name': 'ledger-prod' } }))).toBe(
      'ledger-prod',
    );
    expect(
      helmRelease(
        deployment({
          labels: { 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/instance': 'ledger' },
        }),
      ),
    ).toBe('ledger');
    expect(helmRelease(deployment())).toBeNull();
  });
});

describe('no Apply button for a Rollout or an unknown owner, and the reason says why', () => {
  it('a Rollout: custom resources refuse strategic merge patches', () => {
    expect(unpatchableReason('Rollout', 'shop', 'checkout')).toMatch(
      /Argo Rollout.*strategic merge.*415.*JSON patch/,
    );
  });
  it("a ReplicaSet under an operator's controller names that controller", () => {
    expect(
      unpatchableReason('ReplicaSet', 'shop', 'search-77f', {
        apiVersion: 'apps.kruise.io/v1alpha1',
        kind: 'CloneSet',
        name: 'search',
      }),
    ).toMatch(/controlled by CloneSet search \(apps.kruise.io\/v1alpha1\).*would be undone/);
  });
});

describe('the race guard', () => {
  const snapshot = snapshotOf('Deployment', deployment(), 'ledger');

  it('keeps no env or args value, only digests', () => {
    expect(JSON.stringify(snapshot)).not.toContain('s3cr3t');
    expect(snapshot?.generation).toBe(4);
    expect(snapshot?.resources).toEqual({
      limits: { memory: '2Gi' },
      requests: { cpu: '100m', memory: '1Gi' },
    });
  });

  it('ignores status updates, resourceVersion and key order', () => {
    const live = deployment();
    live.status = { replicas: 3, unavailableReplicas: 3, observedGeneration: 4 };
    live.metadata.resourceVersion = '999';
    live.spec.template.spec.containers[0].resources = {
      limits: { memory: '2Gi' },
      requests: { memory: '1Gi', cpu: '100m' },
    };
    expect(changesSince(snapshot!, 'Deployment', live, 'ledger')).toEqual([]);
  });

  it('names what changed: the generation, the resources, the env, the args, the container itself', () => {
    expect(changesSince(snapshot!, 'Deployment', deployment({ generation: 5 }), 'ledger')).toEqual([
      'its spec changed (metadata.generation 4 → 5)',
    ]);
    expect(
      changesSince(
        snapshot!,
        'Deployment',
        deployment({ resources: { requests: { cpu: '100m', memory: '1Gi' }, limits: { memory: '4Gi' } } }),
        'ledger',
      ),
    ).toEqual(["container ledger's resources changed (limits.memory 2Gi → 4Gi)"]);
    expect(
      changesSince(
        snapshot!,
        'Deployment',
        deployment({ env: [{ name: 'JAVA_OPTS', value: '-Xmx1g' }] }),
        'ledger',
      ),
    ).toEqual(["container ledger's environment changed"]);
    expect(changesSince(snapshot!, 'Deployment', deployment({ args: ['--x'] }), 'ledger')).toEqual([
      "container ledger's args changed",
    ]);
    expect(changesSince(snapshot!, 'Deployment', deployment(), 'other')).toEqual([
      'container other is no longer in its pod template',
    ]);
  });
});

describe('patches, states and the diff', () => {
  const live = deployment();
  const container = findContainer('Deployment', live, 'ledger')!.container;
  const before = containerState(container, CHANGE);
  const after = targetState(before, CHANGE);

  it('reads only the touched fields', () => {
    expect(before).toEqual({
      requestsMemory: '1Gi',
      limitsMemory: '2Gi',
      env: [
        { name: 'JAVA_OPTS', entry: { name: 'JAVA_OPTS', value: '-Xmx3072m' } },
        { name: '_JAVA_OPTIONS', entry: null },
      ],
    });
    expect(JSON.stringify(before)).not.toContain('s3cr3t');
  });

  it('patches to the new state and back, leaving everything else alone', () => {
    const applied = applyStrategicMergePatch(
      live,
      patchTo('Deployment', 'containers', 'ledger', after),
    ) as Record<string, any>;
    const c = applied.spec.template.spec.containers[0];
    expect(c.resources).toEqual({ requests: { cpu: '100m', memory: '1536Mi' }, limits: { memory: '3Gi' } });
    expect(c.env).toEqual([
      { name: 'DATABASE_URL', value: 'postgres://app:s3cr3t@db/app' },
      { name: 'JAVA_OPTS', value: '-Xmx2048m' },
      { name: '_JAVA_OPTIONS', value: '-Xmx2048m' },
    ]);
    expect(applied.spec.template.spec.initContainers).toEqual(live.spec.template.spec.initContainers);
    expect(hasState(c, after)).toBe(true);
    expect(hasState(c, before)).toBe(false);

    const undone = applyStrategicMergePatch(
      applied,
      patchTo('Deployment', 'containers', 'ledger', before),
    ) as Record<string, any>;
    expect(undone.spec).toEqual(live.spec);
  });

  it('removes a request that was not there before, and restores args', () => {
    const noRequest = deployment({
      resources: { limits: { memory: '2Gi' } },
      args: ['-jar', 'app.jar', '-Xmx3g'],
    });
    const change: DesiredChange = {
      requestsMemory: '1Gi',
      limitsMemory: '3Gi',
      env: [],
      args: ['-jar', 'app.jar', '-Xmx2g'],
    };
    const c = findContainer('Deployment', noRequest, 'ledger')!.container;
    const b = containerState(c, change);
    const a = targetState(b, change);
    expect(diffStates(b, a)).toEqual([
      { field: 'requests.memory', before: '(none)', after: '1Gi' },
      { field: 'limits.memory', before: '2Gi', after: '3Gi' },
      { field: 'args[2]', before: '-Xmx3g', after: '-Xmx2g' },
    ]);
    const applied = applyStrategicMergePatch(
      noRequest,
      patchTo('Deployment', 'containers', 'ledger', a),
    ) as Record<string, any>;
    expect(applied.spec.template.spec.containers[0].args).toEqual(['-jar', 'app.jar', '-Xmx2g']);
    const undone = applyStrategicMergePatch(
      applied,
      patchTo('Deployment', 'containers', 'ledger', b),
    ) as Record<string, any>;
    expect(undone.spec.template.spec.containers[0].resources).toEqual({
      requests: {},
      limits: { memory: '2Gi' },
    });
    expect(undone.spec.template.spec.containers[0].args).toEqual(['-jar', 'app.jar', '-Xmx3g']);
  });

  // Issue 11, class 3: a heap flag in `command` is rewritten there, and Apply covers it like args.
  it('a heap flag in command: the race guard notices a changed command, the patch and the diff carry it, Undo restores it', () => {
    const withCommand = deployment({ command: ['java', '-Xmx3g', '-jar', 'app.jar'] });
    const snap = snapshotOf('Deployment', withCommand, 'ledger')!;
    expect(
      changesSince(
        snap,
        'Deployment',
        deployment({ command: ['java', '-Xmx4g', '-jar', 'app.jar'] }),
        'ledger',
      ),
    ).toEqual(["container ledger's command changed"]);
    // A suggestion stored before commands were kept has no digest: it is not refused for that.
    const { commandDigest: _dropped, ...older } = snap;
    expect(changesSince(older, 'Deployment', withCommand, 'ledger')).toEqual([]);

    const change = desiredChange({
      resources: { requests: { memory: '' }, limits: { memory: '' } },
      env: [],
      args: null,
      command: ['java', '-Xmx1408m', '-jar', 'app.jar'],
    });
    const c = findContainer('Deployment', withCommand, 'ledger')!.container;
    const b = containerState(c, change);
    const a = targetState(b, change);
    expect(diffStates(b, a)).toEqual([{ field: 'command[1]', before: '-Xmx3g', after: '-Xmx1408m' }]);
    const applied = applyStrategicMergePatch(
      withCommand,
      patchTo('Deployment', 'containers', 'ledger', a),
    ) as Record<string, any>;
    expect(applied.spec.template.spec.containers[0].command).toEqual([
      'java',
      '-Xmx1408m',
      '-jar',
      'app.jar',
    ]);
    expect(hasState(applied.spec.template.spec.containers[0], a)).toBe(true);
    expect(hasState(withCommand.spec.template.spec.containers[0], a)).toBe(false);
    const undone = applyStrategicMergePatch(
      applied,
      patchTo('Deployment', 'containers', 'ledger', b),
    ) as Record<string, any>;
    expect(undone.spec.template.spec.containers[0].command).toEqual(['java', '-Xmx3g', '-jar', 'app.jar']);
  });

  it('wraps a CronJob patch in its job template', () => {
    expect(
      patchTo('CronJob', 'containers', 'report', { requestsMemory: '1Gi', limitsMemory: '2Gi', env: [] }),
    ).toEqual({
      spec: {
        jobTemplate: {
          spec: {
            template: {
              spec: {
                containers: [
                  { name: 'report', resources: { requests: { memory: '1Gi' }, limits: { memory: '2Gi' } } },
                ],
              },
            },
          },
        },
      },
    });
  });

  it('shows the diff of the env variables, and a removed one as not set', () => {
    expect(diffStates(before, after)).toEqual([
      { field: 'requests.memory', before: '1Gi', after: '1536Mi' },
      { field: 'limits.memory', before: '2Gi', after: '3Gi' },
      { field: 'env JAVA_OPTS', before: '-Xmx3072m', after: '-Xmx2048m' },
      { field: 'env _JAVA_OPTIONS', before: '(not set)', after: '-Xmx2048m' },
    ]);
    expect(diffStates(after, before).map((l) => l.after)).toEqual(['1Gi', '2Gi', '-Xmx3072m', '(not set)']);
  });

  it('reads the change from a recommendation: empty quantities leave the field alone', () => {
    expect(
      desiredChange({
        resources: { requests: { memory: '' }, limits: { memory: '3Gi' } },
        env: [{ name: 'GOMEMLIMIT', value: '2700MiB' }],
        args: null,
      }),
    ).toEqual({
      requestsMemory: null,
      limitsMemory: '3Gi',
      env: [{ name: 'GOMEMLIMIT', value: '2700MiB' }],
      args: null,
    });
  });
});
