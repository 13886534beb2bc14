// Whether a posted diagnosis gets an Apply button, and what is stored under its id.
import pino from 'pino';
import { offerApply, storedApplyOptions } from '../../../jobs/apply-offer';
import { SUGGESTION_ID } from '../../../src/apply/suggestion';
import type { ClusterReader } from '../../../src/adapters/kubernetes';
import { APPLY_DISABLED, type ApplyConfig } from '../../../src/config/apply';
import { MemoryStore } from '../../../src/bot/memory-store';
import type { Diagnosis, WorkloadKind } from '../../../src/core/types';
import { heapOom } from '../slack/diagnosis-fixtures';

const CONFIG: ApplyConfig = {
  ...APPLY_DISABLED,
  enabled: true,
  namespaces: { all: false, names: ['payments'] },
  allowedUsers: ['U0ALICE'],
};
const MESSAGE = { channel: 'C0APPLY', ts: '1700000000.000300', threadTs: '1700000000.000100' };
const logger = pino({ level: 'silent' });

function ledger(
  meta: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
  args?: string[],
): Record<string, any> {
  return {
    metadata: {
      name: 'ledger',
      namespace: 'payments',
      generation: 7,
      labels: meta.labels ?? {},
      annotations: meta.annotations ?? {},
    },
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: 'ledger',
              image: 'l:1',
              env: [{ name: 'JAVA_OPTS', value: '-Dpassword=s3cr3t -Xmx3072m' }],
              ...(args ? { args } : {}),
              resources: { requests: { memory: '2Gi' }, limits: { memory: '2Gi' } },
            },
          ],
        },
      },
    },
  };
}

function reader(workload: Record<string, any> | null): ClusterReader {
  const none = () => Promise.reject(new Error('not used'));
  return {
    description: 'fake',
    readWorkload: async () => workload,
    readPod: none,
    listPods: none,
    listPodsAllNamespaces: none,
    podEvents: none,
    nodeEvents: none,
    readNode: none,
    readConfigMap: none,
    listLimitRanges: none,
    listResourceQuotas: none,
    podMetrics: none,
  };
}

function withKind(d: Diagnosis, kind: WorkloadKind, name = 'ledger'): Diagnosis {
  return {
    ...d,
    recommendation: d.recommendation
      ? { ...d.recommendation, workload: { ...d.recommendation.workload, kind, name } }
      : null,
  };
}

describe('offerApply', () => {
  it('stores the suggestion under a random id: the recommendation, the change, a snapshot without secrets', async () => {
    const store = new MemoryStore();
    const options = await offerApply(
      heapOom(),
      MESSAGE,
      { config: { apply: CONFIG }, store, logger, now: () => 1 },
      reader(ledger({ annotations: { 'meta.helm.sh/release-name': 'ledger-prod' } })),
    );
    expect(options.applyEnabled).toBe(true);
    expect(options.suggestionId).toMatch(SUGGESTION_ID);
    const stored = await store.getSuggestion(options.suggestionId as string);
    expect(stored).toMatchObject({
      state: 'open',
      diagnosisId: 'C0APPLY:1700000000.000300',
      workload: { kind: 'Deployment', namespace: 'payments', name: 'ledger' },
      container: 'ledger',
      list: 'containers',
      change: {
        requestsMemory: '2Gi',
        limitsMemory: '2Gi',
        env: [{ name: '_JAVA_OPTIONS', value: '-Xmx1408m' }],
        args: null,
      },
      helmRelease: 'ledger-prod',
      snapshot: { generation: 7, resources: { limits: { memory: '2Gi' }, requests: { memory: '2Gi' } } },
    });
    expect(JSON.stringify(stored?.snapshot)).not.toContain('s3cr3t');
    expect((await store.getSuggestionForMessage(MESSAGE.channel, MESSAGE.ts))?.id).toBe(options.suggestionId);
    const again = await offerApply(
      heapOom(),
      MESSAGE,
      { config: { apply: CONFIG }, store, logger },
      reader(ledger()),
    );
    expect(again.suggestionId).not.toBe(options.suggestionId);
  });

  it('offers nothing, and says nothing, when applying is off or there is no recommendation', async () => {
    const store = new MemoryStore();
    expect(
      await offerApply(
        heapOom(),
        MESSAGE,
        { config: { apply: APPLY_DISABLED }, store, logger },
        reader(ledger()),
      ),
    ).toEqual({ applyEnabled: false });
    expect(
      await offerApply(
        { ...heapOom(), recommendation: null },
        MESSAGE,
        { config: { apply: CONFIG }, store, logger },
        reader(ledger()),
      ),
    ).toEqual({ applyEnabled: false });
  });

  it('explains a namespace outside APPLY_NAMESPACES, and the kinds that cannot be patched', async () => {
    const store = new MemoryStore();
    const deps = { config: { apply: CONFIG }, store, logger };
    expect(
      (
        await offerApply(
          heapOom(),
          MESSAGE,
          { ...deps, config: { apply: { ...CONFIG, namespaces: { all: false, names: ['shop'] } } } },
          reader(ledger()),
        )
      ).applyUnavailableReason,
    ).toBe('namespace payments is not in APPLY_NAMESPACES, the namespaces where fixes may be applied');
    for (const [kind, words] of [
      ['Pod', 'is a bare pod'],
      ['Job', 'is a Job without a CronJob'],
      ['ReplicaSet', 'is a ReplicaSet without a Deployment'],
    ] as const) {
      const options = await offerApply(withKind(heapOom(), kind), MESSAGE, deps, reader(ledger()));
      expect(options.applyEnabled).toBe(false);
      expect(options.applyUnavailableReason).toContain(words);
      expect(options.applyUnavailableReason).toContain('patch below');
    }
  });

  it('offers no button for Argo CD or Flux, and says to commit the YAML', async () => {
    const deps = { config: { apply: CONFIG }, store: new MemoryStore(), logger };
    const argo = await offerApply(
      heapOom(),
      MESSAGE,
      deps,
      reader(
        ledger({
          annotations: { 'argocd.argoproj.io/tracking-id': 'ledger:apps/Deployment:payments/ledger' },
        }),
      ),
    );
    expect(argo).toEqual({
      applyEnabled: false,
      applyUnavailableReason: expect.stringContaining('is managed by Argo CD'),
    });
    const flux = await offerApply(
      heapOom(),
      MESSAGE,
      deps,
      reader(ledger({ labels: { 'kustomize.toolkit.fluxcd.io/name': 'apps' } })),
    );
    expect(flux.applyUnavailableReason).toContain(
      'is managed by Flux (label kustomize.toolkit.fluxcd.io/name=apps)',
    );
    // Argo CD's instance label counts only where configured: Helm sets it too.
    const helm = ledger({
      labels: { 'app.kubernetes.io/instance': 'ledger', 'app.kubernetes.io/managed-by': 'Helm' },
    });
    expect((await offerApply(heapOom(), MESSAGE, deps, reader(helm))).applyEnabled).toBe(true);
    expect(
      (
        await offerApply(
          heapOom(),
          MESSAGE,
          { ...deps, config: { apply: { ...CONFIG, argocdInstanceLabel: true } } },
          reader(helm),
        )
      ).applyEnabled,
    ).toBe(false);
  });

  it('keeps the heap flag in args as the change, and names a ConfigMap key it will not change', async () => {
    const store = new MemoryStore();
    const d = heapOom();
    const r = d.recommendation!;
    const inArgs: Diagnosis = {
      ...d,
      current: {
        ...d.current,
        runtime: [
          {
            source: 'configmap payments/ledger-env key JAVA_TOOL_OPTIONS',
            setting: 'MaxRAMPercentage',
            value: '-XX:MaxRAMPercentage=90',
          },
        ],
      },
      recommendation: { ...r, env: [], args: ['-jar', 'app.jar', '-Xmx1408m'] },
    };
    const options = await offerApply(
      inArgs,
      MESSAGE,
      { config: { apply: CONFIG }, store, logger },
      reader(ledger({}, ['-jar', 'app.jar', '-Xmx3072m'])),
    );
    const stored = await store.getSuggestion(options.suggestionId as string);
    expect(stored?.change.args).toEqual(['-jar', 'app.jar', '-Xmx1408m']);
    expect(stored?.configMapSettings).toEqual([
      { value: '-XX:MaxRAMPercentage=90', source: 'configmap payments/ledger-env key JAVA_TOOL_OPTIONS' },
    ]);
  });

  it('never fails the diagnosis: a read that fails means no button', async () => {
    const failing = {
      ...reader(null),
      readWorkload: () => Promise.reject(new Error('boom')),
    } as ClusterReader;
    expect(
      await offerApply(
        heapOom(),
        MESSAGE,
        { config: { apply: CONFIG }, store: new MemoryStore(), logger },
        failing,
      ),
    ).toEqual({ applyEnabled: false });
    expect(
      (
        await offerApply(
          heapOom(),
          MESSAGE,
          { config: { apply: CONFIG }, store: new MemoryStore(), logger },
          reader(null),
        )
      ).applyUnavailableReason,
    ).toContain('could not be read');
  });
});

describe('storedApplyOptions', () => {
  it('follows the suggestion: a button while open, the reason after', async () => {
    const store = new MemoryStore();
    const { suggestionId } = await offerApply(
      heapOom(),
      MESSAGE,
      { config: { apply: CONFIG }, store, logger },
      reader(ledger()),
    );
    expect(await storedApplyOptions(store, MESSAGE.channel, MESSAGE.ts)).toEqual({
      applyEnabled: true,
      suggestionId,
    });
    for (const [state, words] of [
      ['applied', 'has been applied'],
      ['undone', 'applied and then undone'],
      ['stale', 'changed since this diagnosis'],
    ] as const) {
      await store.updateSuggestion(suggestionId as string, (s) => ({ ...s, state }));
      expect((await storedApplyOptions(store, MESSAGE.channel, MESSAGE.ts)).applyUnavailableReason).toContain(
        words,
      );
    }
    expect(await storedApplyOptions(store, 'C0OTHER', '1.1')).toEqual({ applyEnabled: false });
  });
});
